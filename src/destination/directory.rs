//! A local directory as a destination: files being written are hidden,
//! owned by one process, and committed by rename.
//!
//! A file is written as `.NAME.OWNER.inprogress` — OWNER is `HOST-PID` — and
//! renamed to `NAME` once complete and synced. Readers globbing `*.parquet`
//! never see a half-written file, and two processes writing the same split
//! (Kubernetes may briefly run two pods for one index during a rollout or a
//! retry) never touch each other's temporary files: each renames its own
//! complete file into place, and as both hold the same rows the second
//! rename is harmless.
//!
//! Leftovers of a killed run are removed by the next run in that directory
//! ([`super::owner`] says when a writer is gone).
//!
//! Every file of this process is also registered, so an interrupted run
//! (SIGTERM) removes them all before it exits: [`discard_all`].

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Mutex;

use datafusion::common::Result;

use super::disk_error as io_error;
use super::owner::{is_abandoned, owner};
use super::COMMITTED;

const SUFFIX: &str = ".inprogress";

/// Files of this process being written (removed on commit or drop).
static OPEN: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// A file being written; removed on drop unless committed.
pub struct InProgressFile {
    pub file: File,
    pub path: PathBuf,
    final_path: PathBuf,
    committed: bool,
}

impl InProgressFile {
    pub fn create(dir: &Path, name: &str) -> Result<Self> {
        let path = dir.join(format!(".{name}.{}{SUFFIX}", owner()));
        let file = File::create(&path).map_err(|e| io_error(&path, e))?;
        lock_open().insert(path.clone());
        Ok(InProgressFile {
            file,
            path,
            final_path: dir.join(name),
            committed: false,
        })
    }

    /// Syncs and renames into place; returns the file size.
    pub fn commit(mut self) -> Result<u64> {
        self.file.sync_all().map_err(|e| io_error(&self.path, e))?;
        let bytes = self.file.metadata().map_err(|e| io_error(&self.path, e))?.len();
        std::fs::rename(&self.path, &self.final_path).map_err(|e| io_error(&self.final_path, e))?;
        self.committed = true;
        lock_open().remove(&self.path);
        COMMITTED.fetch_add(1, Ordering::Relaxed);
        Ok(bytes)
    }
}

impl Drop for InProgressFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
            lock_open().remove(&self.path);
        }
    }
}

fn lock_open() -> std::sync::MutexGuard<'static, BTreeSet<PathBuf>> {
    // A panic while holding the lock leaves the set usable.
    OPEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes every file this process has in progress; returns how many. For
/// an interrupted run.
pub(super) fn discard_files() -> usize {
    let open = std::mem::take(&mut *lock_open());
    for path in &open {
        let _ = std::fs::remove_file(path);
    }
    open.len()
}

/// Removes in-progress files that runs no longer alive left in `dir`.
pub fn remove_leftovers(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let modified = entry.metadata().and_then(|m| m.modified()).ok();
        if !name.starts_with('.') || !name.ends_with(SUFFIX) || !is_abandoned(&name, SUFFIX, modified) {
            continue;
        }
        tracing::info!(file = %entry.path().display(), "removing a file left in progress by an earlier run");
        match std::fs::remove_file(entry.path()) {
            // Another run cleaning the same directory got there first.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            other => other.map_err(|e| io_error(entry.path(), e))?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destination::owner::host_name;

    #[test]
    fn only_files_of_writers_gone_from_this_host_are_leftovers() {
        let dir = std::env::temp_dir().join(format!("wikitok-in-progress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let me = dir.join(format!(".a.parquet.{}{SUFFIX}", owner()));
        let dead = dir.join(format!(".b.parquet.{}-{}{SUFFIX}", host_name(), u32::MAX - 1));
        let foreign = dir.join(format!(".c.parquet.elsewhere-12{SUFFIX}"));
        let legacy = dir.join(format!(".d.parquet{SUFFIX}"));
        for path in [&me, &dead, &foreign, &legacy] {
            std::fs::write(path, b"x").unwrap();
        }
        remove_leftovers(&dir).unwrap();
        assert!(me.exists(), "a live writer's file was removed");
        assert!(foreign.exists(), "a recently written file of another host was removed");
        assert!(!dead.exists() && !legacy.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
