//! Progress while a job runs.
//!
//! On a terminal: an indicatif bar over input bytes with rates, ETA and
//! ok/skip/err counts. Without one (a pod's log): one plain line every few
//! seconds, e.g.
//! `[12.3 GiB/39.2 GiB] pages=1234567 ok=1234000 skip=560 err=7 2345 pages/s 1.1M tokens/s 48.0 MB/s last="Albert Einstein"`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::runtime::format_size;
use crate::source::stats::ReadStats;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    Bar,
    LogLines { every: Duration },
    Quiet,
}

impl ProgressMode {
    /// A bar on a terminal, log lines every 10 s otherwise, nothing if quiet.
    pub fn detect(quiet: bool) -> Self {
        if quiet {
            ProgressMode::Quiet
        } else if std::io::stderr().is_terminal() {
            ProgressMode::Bar
        } else {
            ProgressMode::LogLines {
                every: Duration::from_secs(10),
            }
        }
    }
}

/// A running progress reporter; stops when finished or dropped.
pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    pub fn start(mode: ProgressMode, total_bytes: u64, stats: Arc<ReadStats>, tokens: Arc<AtomicU64>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = match mode {
            ProgressMode::Quiet => None,
            _ => {
                let stop = stop.clone();
                Some(std::thread::spawn(move || {
                    report(mode, total_bytes, &stats, &tokens, &stop)
                }))
            }
        };
        Progress { stop, thread }
    }

    pub fn finish(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

struct Snapshot {
    bytes: u64,
    uncompressed: u64,
    ok: u64,
    skipped: u64,
    errors: u64,
    tokens: u64,
}

impl Snapshot {
    fn take(stats: &ReadStats, tokens: &AtomicU64) -> Self {
        Snapshot {
            bytes: ReadStats::get(&stats.compressed_bytes),
            uncompressed: ReadStats::get(&stats.uncompressed_bytes),
            ok: ReadStats::get(&stats.pages_emitted),
            skipped: ReadStats::get(&stats.pages_filtered),
            errors: stats.bad_total(),
            tokens: tokens.load(Ordering::Relaxed),
        }
    }

    fn pages(&self) -> u64 {
        self.ok + self.skipped + self.errors
    }
}

fn report(mode: ProgressMode, total: u64, stats: &ReadStats, tokens: &AtomicU64, stop: &AtomicBool) {
    let started = Instant::now();
    let bar = (mode == ProgressMode::Bar).then(|| {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(4));
        bar.set_style(
            ProgressStyle::with_template("{bar:30.cyan/blue} {binary_bytes}/{binary_total_bytes} {msg} ETA {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar
    });
    let every = match mode {
        ProgressMode::LogLines { every } => every,
        _ => Duration::from_millis(250),
    };
    let mut last_line = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        let now = Snapshot::take(stats, tokens);
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        let rates = format!(
            "{:.0} pages/s {} tokens/s {:.1} MB/s",
            now.pages() as f64 / secs,
            human_count(now.tokens as f64 / secs),
            now.uncompressed as f64 / secs / 1e6
        );
        let counts = format!("ok={} skip={} err={}", now.ok, now.skipped, now.errors);
        match &bar {
            Some(bar) => {
                bar.set_position(now.bytes.min(total));
                bar.set_message(format!("{counts} {rates}"));
            }
            None if last_line.elapsed() >= every => {
                last_line = Instant::now();
                eprintln!(
                    "[{}/{}] pages={} {counts} {rates} last={:?}",
                    format_size(now.bytes),
                    format_size(total),
                    now.pages(),
                    stats.last_title()
                );
            }
            None => {}
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

fn human_count(n: f64) -> String {
    if n >= 1e6 {
        format!("{:.1}M", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1}k", n / 1e3)
    } else {
        format!("{n:.0}")
    }
}
