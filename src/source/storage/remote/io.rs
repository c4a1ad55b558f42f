//! The runtime remote I/O runs on: a small Tokio runtime of its own, never
//! shut down, so a reader thread still finishing (or failing) after the
//! query's runtime has begun to shut down never touches a dead reactor or
//! timer — the cause of "A Tokio 1.x context was found, but it is being
//! shutdown" panics.

use std::future::Future;
use std::io;
use std::sync::OnceLock;

use tokio::runtime::Runtime;

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("wikitok-io")
            .enable_all()
            .build()
            .unwrap_or_else(|e| {
                // Without threads to run on there is no way to read anything remote.
                eprintln!("error: cannot start the I/O runtime: {e}");
                std::process::exit(1)
            })
    })
}

/// Runs `future` on the I/O runtime and waits for it from synchronous code
/// (a reader's blocking thread, or the CLI's async context).
pub fn wait<T, E, F>(future: F) -> Result<T, E>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: From<io::Error> + Send + 'static,
{
    let handle = runtime().spawn(future);
    let outcome = block(|| futures::executor::block_on(handle));
    outcome.unwrap_or_else(|e| Err(io::Error::other(format!("remote I/O task failed: {e}")).into()))
}

/// Waits for a blocking operation (a channel receive) from synchronous code,
/// telling Tokio first when called from one of its worker threads.
pub fn block<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(current) if current.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Spawns `future` on the I/O runtime without waiting for it.
pub fn spawn<F>(future: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    runtime().spawn(future);
}

/// Starts `future` on the I/O runtime; [`join`] waits for its outcome.
pub fn start<T, F>(future: F) -> tokio::task::JoinHandle<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    runtime().spawn(future)
}

/// Waits, from synchronous code, for a future started with [`start`].
pub fn join<T>(handle: tokio::task::JoinHandle<io::Result<T>>) -> io::Result<T> {
    block(|| futures::executor::block_on(handle))
        .unwrap_or_else(|e| Err(io::Error::other(format!("remote I/O task failed: {e}"))))
}
