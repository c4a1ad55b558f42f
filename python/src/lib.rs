//! `wikitok._native`: the Python module's Rust half — a thin layer over
//! [`wikitok::embed`], which runs the same job code as the command line.
//!
//! Everything slow runs with the GIL released (`Python::detach`), and a
//! waiting call wakes up every 100 ms to let Python run its signal handlers
//! (`Python::check_signals`): Ctrl-C interrupts a run the Python way, and
//! wikitok installs no signal handler of its own in the interpreter.
//!
//! Batches cross into Python as Arrow IPC streams (`pyarrow.ipc` reads them):
//! this keeps arrow-rs's C-data-interface feature — and with it a second
//! build of DataFusion — out of the build.

use std::sync::mpsc::RecvTimeoutError;
use std::sync::Mutex;
use std::time::Duration;

use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use wikitok::embed::{self, Interruption, QueryStream, RunHandle};

pyo3::create_exception!(
    wikitok,
    WikitokError,
    PyRuntimeError,
    "A wikitok run failed; the message is the command line's."
);

/// How often a waiting call lets Python handle signals.
const SIGNAL_POLL: Duration = Duration::from_millis(100);

fn to_python_error(error: anyhow::Error) -> PyErr {
    WikitokError::new_err(wikitok::cli::error_chain(&error))
}

/// The signal Python reported through `error` (its handler raised it).
fn signal_of(py: Python<'_>, error: &PyErr) -> Interruption {
    if error.is_instance_of::<PyKeyboardInterrupt>(py) {
        Interruption::SIGINT
    } else {
        Interruption::SIGTERM
    }
}

/// The command line (`argv[0]` is the program name); returns the exit code.
/// The first Python signal interrupts the run as SIGINT/SIGTERM interrupt
/// the binary (in-progress files removed, exit 130/143); a second one exits
/// at once.
#[pyfunction]
fn main(py: Python<'_>, argv: Vec<String>) -> PyResult<u8> {
    let mut run = embed::spawn_command_line(argv);
    loop {
        match py.detach(|| run.wait(SIGNAL_POLL)) {
            Ok(code) => return Ok(code),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(101),
        }
        if let Err(error) = py.check_signals() {
            let signal = signal_of(py, &error);
            if !run.interrupt(signal) {
                eprintln!("error: {signal} again: exiting at once");
                std::process::exit(i32::from(signal.exit_code()));
            }
        }
    }
}

/// Runs a SQL file (`argv` as for `wikitok run`, without the program name
/// and subcommand); returns the run summary as JSON.
#[pyfunction]
fn run(py: Python<'_>, argv: Vec<String>) -> PyResult<String> {
    let mut handle: RunHandle = embed::spawn_run(argv).map_err(to_python_error)?;
    loop {
        match py.detach(|| handle.wait(SIGNAL_POLL)) {
            Some(Ok(summary)) => return Ok(summary),
            Some(Err(error)) => return Err(to_python_error(error)),
            None => {}
        }
        if let Err(error) = py.check_signals() {
            handle.cancel();
            return Err(error);
        }
    }
}

/// The rows of a query, batch by batch, each an Arrow IPC stream.
#[pyclass(module = "wikitok._native")]
struct Batches {
    stream: Mutex<QueryStream>,
}

#[pymethods]
impl Batches {
    /// The schema as an Arrow IPC stream without batches.
    fn schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let stream = self
            .stream
            .lock()
            .map_err(|_| WikitokError::new_err("a query stream failed earlier"))?;
        let bytes = stream.schema_ipc().map_err(to_python_error)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// What has been read and skipped so far, as JSON.
    fn report(&self) -> PyResult<String> {
        let stream = self
            .stream
            .lock()
            .map_err(|_| WikitokError::new_err("a query stream failed earlier"))?;
        Ok(stream.read_report())
    }

    /// The next batch as an Arrow IPC stream, or None at the end.
    fn next<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let stream = &self.stream;
        let batch = py.detach(|| -> anyhow::Result<Option<Vec<u8>>> {
            let mut stream = stream
                .lock()
                .map_err(|_| anyhow::anyhow!("a query stream failed earlier"))?;
            stream.next_ipc()
        });
        py.check_signals()?;
        Ok(batch.map_err(to_python_error)?.map(|bytes| PyBytes::new(py, &bytes)))
    }
}

/// Starts a query (`argv` as for `wikitok sql`, without the program name and
/// subcommand): the statements before the last run now, the last one's rows
/// stream from the returned object.
#[pyfunction]
fn query(py: Python<'_>, argv: Vec<String>) -> PyResult<Batches> {
    let stream = py.detach(|| embed::start_query(argv)).map_err(to_python_error)?;
    Ok(Batches {
        stream: Mutex::new(stream),
    })
}

/// The input's splits for job flags `flags`, divided as the command line
/// divides them: a JSON array of descriptors.
#[pyfunction]
fn splits(py: Python<'_>, flags: Vec<String>) -> PyResult<String> {
    py.detach(|| embed::list_splits(flags)).map_err(to_python_error)
}

/// Starts a per-page query over one split (`split` a descriptor's JSON;
/// `argv` as for `wikitok sql`, without the program name and subcommand).
#[pyfunction]
fn read_split(py: Python<'_>, split: String, argv: Vec<String>) -> PyResult<Batches> {
    let stream = py
        .detach(|| embed::start_split_query(&split, argv))
        .map_err(to_python_error)?;
    Ok(Batches {
        stream: Mutex::new(stream),
    })
}

/// The schema of a split query's rows as an Arrow IPC stream (planned,
/// nothing read).
#[pyfunction]
fn split_schema<'py>(py: Python<'py>, split: String, argv: Vec<String>) -> PyResult<Bound<'py, PyBytes>> {
    let schema = py
        .detach(|| embed::split_query_schema(&split, argv))
        .map_err(to_python_error)?;
    Ok(PyBytes::new(py, &schema))
}

/// `function` (tokenize, tokenize_with_special_tokens, token_count) over
/// the strings of an Arrow IPC stream of one column, with the GIL released;
/// the results as an IPC stream.
#[pyfunction]
fn tokenize<'py>(py: Python<'py>, texts: &[u8], function: String, flags: Vec<String>) -> PyResult<Bound<'py, PyBytes>> {
    let result = py
        .detach(|| embed::tokenize_ipc(texts, &function, flags))
        .map_err(to_python_error)?;
    Ok(PyBytes::new(py, &result))
}

/// The text of the project's `sql/NAME.sql`, as compiled into this build.
#[pyfunction]
fn library_sql(name: &str) -> PyResult<String> {
    wikitok::script::library_file(name)
        .map(str::to_string)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

/// The command line's job flags as `(long name, kind)`, kind `switch`,
/// `value` or `values` (repeatable): Python's keyword arguments.
#[pyfunction]
fn flags() -> Vec<(String, String)> {
    embed::job_flags()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(main, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(query, m)?)?;
    m.add_function(wrap_pyfunction!(flags, m)?)?;
    m.add_function(wrap_pyfunction!(splits, m)?)?;
    m.add_function(wrap_pyfunction!(read_split, m)?)?;
    m.add_function(wrap_pyfunction!(split_schema, m)?)?;
    m.add_function(wrap_pyfunction!(tokenize, m)?)?;
    m.add_function(wrap_pyfunction!(library_sql, m)?)?;
    m.add_class::<Batches>()?;
    m.add("WikitokError", m.py().get_type::<WikitokError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
