//! SIGTERM and SIGINT: a run stops promptly and tidily.
//!
//! Kubernetes sends SIGTERM to evict or delete a pod and SIGKILLs it 30 s
//! later. On the first signal the run stops taking work (the query and its
//! writers are dropped), in-progress files are removed, one line says what
//! happened, and the process exits with 128 + the signal number (143 for
//! SIGTERM, 130 for SIGINT) — which the Job's `podFailurePolicy` treats as
//! retriable. Committed files stay: the same command resumes. A second
//! signal exits at once.

use std::fmt;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tokio::sync::oneshot;

/// The signal that interrupted a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interruption {
    pub signal: i32,
}

impl Interruption {
    pub const SIGTERM: Interruption = Interruption { signal: SIGTERM };
    pub const SIGINT: Interruption = Interruption { signal: SIGINT };

    /// 128 + the signal number, as shells report a death by signal.
    pub fn exit_code(self) -> u8 {
        (128 + self.signal).clamp(0, 255) as u8
    }
}

impl fmt::Display for Interruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.signal {
            SIGTERM => write!(f, "SIGTERM"),
            SIGINT => write!(f, "SIGINT"),
            other => write!(f, "signal {other}"),
        }
    }
}

/// Starts listening for SIGTERM and SIGINT; the receiver completes at the
/// first. From then on, the next signal ends the process at once.
pub fn listen() -> std::io::Result<oneshot::Receiver<Interruption>> {
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    let (sender, receiver) = oneshot::channel();
    std::thread::Builder::new()
        .name("wikitok-signals".into())
        .spawn(move || {
            let mut forever = signals.forever();
            let Some(first) = forever.next() else { return };
            let first = Interruption { signal: first };
            let _ = sender.send(first);
            if let Some(second) = forever.next() {
                eprintln!("error: {} again: exiting at once", Interruption { signal: second });
                std::process::exit(i32::from(first.exit_code()));
            }
        })?;
    Ok(receiver)
}
