//! Memory limit and spilling: the DataFusion runtime a job runs in.
//!
//! A memory pool with a limit makes sorts and aggregations spill instead of
//! growing without bound. Spill files go to the `--spill-dir` volumes and
//! nowhere else: without `--spill-dir`, spilling is disabled and a query that
//! needs it fails with an error saying so — never silently onto the
//! container's overlay root filesystem (the trap that hung the Spark job).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use bytesize::ByteSize;
use datafusion::common::Result as DfResult;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{
    FairSpillPool, MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation, TrackConsumersPool,
};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};

/// How much memory and disk a job may use.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    /// The DataFusion memory pool's size.
    pub memory_limit: u64,
    /// Where spill files go; empty disables spilling.
    pub spill_dirs: Vec<PathBuf>,
    /// Cap on the bytes of spill files at any moment.
    pub max_spill: u64,
}

/// Caps glibc's malloc arenas at one per core, unless `MALLOC_ARENA_MAX` is
/// set. glibc's default (8 per core) lets every tokio worker and blocking
/// thread keep memory freed in its own arena, which the others never reuse:
/// peak RSS of `tokenize.sql` measured 302 → 268 MB on 50 MB of text and
/// 361 → 309 MB on 500 MB (2 cores, `MALLOC_ARENA_MAX=2`), at the same speed.
/// Call before any thread starts.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only tunes the allocator; called before other threads
        // exist, and a refusal (returns 0) leaves glibc's default in place.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}

/// Parses sizes like `16MiB`, `2GB`, `512M`, `1048576`.
pub fn parse_size(text: &str) -> Result<u64> {
    let parsed: ByteSize = text
        .trim()
        .parse()
        .map_err(|e| anyhow::anyhow!("bad size {text:?} ({e}); use e.g. 512MiB, 4GiB, 100GB"))?;
    Ok(parsed.as_u64())
}

pub fn format_size(bytes: u64) -> String {
    ByteSize::b(bytes).display().iec().to_string()
}

/// The default memory limit: 80% of the container's memory limit when one is
/// set, otherwise 50% of the machine's RAM.
pub fn default_memory_limit() -> u64 {
    match container_memory_limit() {
        Some(container) => container / 5 * 4,
        None => total_ram().map(|ram| ram / 2).unwrap_or(4 << 30),
    }
}

/// Parses `--memory-limit`: a size (`4GiB`) or a percentage (`60%`) of the
/// container's memory limit (else of RAM).
pub fn parse_memory_limit(text: &str) -> Result<u64> {
    let Some(percent) = text.trim().strip_suffix('%') else {
        return parse_size(text);
    };
    let percent: f64 = percent
        .trim()
        .parse()
        .ok()
        .filter(|p| (1.0..=100.0).contains(p))
        .ok_or_else(|| anyhow::anyhow!("bad percentage {text:?}; use e.g. 60%"))?;
    let base = container_memory_limit()
        .or_else(total_ram)
        .ok_or_else(|| anyhow::anyhow!("--memory-limit {text}: cannot tell this machine's memory; give a size"))?;
    Ok((base as f64 * percent / 100.0) as u64)
}

/// The container's memory limit: `CONTAINER_MEMORY_LIMIT_MIB` (set from the
/// Kubernetes downward API in k8s/job.yaml), else the cgroup's limit.
pub fn container_memory_limit() -> Option<u64> {
    let from_env = std::env::var("CONTAINER_MEMORY_LIMIT_MIB")
        .ok()
        .and_then(|mib| mib.trim().parse::<u64>().ok())
        .map(|mib| mib << 20);
    from_env.or_else(cgroup_memory_limit)
}

/// The memory limit of this process's cgroup, if it has one (v2, then v1).
pub fn cgroup_memory_limit() -> Option<u64> {
    let v2 = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok();
    let v1 = || std::fs::read_to_string("/sys/fs/cgroup/memory/memory.limit_in_bytes").ok();
    let text = v2.or_else(v1)?;
    let limit: u64 = text.trim().parse().ok()?;
    // v1 reports "no limit" as a huge number.
    (limit < (1 << 60)).then_some(limit)
}

fn total_ram() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Checks each spill directory before the job starts: it exists, is
/// writable, and is not the container's root filesystem. Logs free space.
pub fn check_spill_dirs(dirs: &[PathBuf]) -> Result<()> {
    for dir in dirs {
        if dir.to_string_lossy().contains("://") {
            bail!(
                "--spill-dir {}: spill goes to a local directory (a mounted volume), not to a URL",
                dir.display()
            );
        }
        let meta = std::fs::metadata(dir).with_context(|| {
            format!(
                "--spill-dir {}: does not exist (mount a volume there or create the directory)",
                dir.display()
            )
        })?;
        if !meta.is_dir() {
            bail!("--spill-dir {}: not a directory", dir.display());
        }
        let probe = dir.join(format!(".wikitok-write-probe-{}", std::process::id()));
        std::fs::write(&probe, b"probe").with_context(|| format!("--spill-dir {}: not writable", dir.display()))?;
        let _ = std::fs::remove_file(&probe);
        match fs4::available_space(dir) {
            Ok(free) => tracing::info!(spill_dir = %dir.display(), free = %format_size(free), "spill directory ready"),
            Err(e) => tracing::warn!(spill_dir = %dir.display(), "cannot tell free space: {e}"),
        }
        if in_container() && same_filesystem(dir, Path::new("/")) {
            tracing::warn!(
                spill_dir = %dir.display(),
                "the spill directory is on the container's root filesystem (overlay): spilling there is slow \
                 and can fill the node's disk; mount a volume at it (see k8s/)"
            );
        }
    }
    Ok(())
}

fn in_container() -> bool {
    Path::new("/.dockerenv").exists()
        || Path::new("/run/.containerenv").exists()
        || std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
}

fn same_filesystem(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev(),
        _ => false,
    }
}

/// Builds the runtime: a fair spilling pool of `memory_limit` (reporting its
/// largest consumers when exhausted) and a disk manager confined to the spill
/// directories.
pub fn build_runtime(settings: &RuntimeSettings) -> Result<(Arc<RuntimeEnv>, Arc<PeakTrackingPool>)> {
    let limit = usize::try_from(settings.memory_limit).unwrap_or(usize::MAX);
    let fair = FairSpillPool::new(limit);
    let tracked = TrackConsumersPool::new(fair, std::num::NonZeroUsize::new(5).expect("5 > 0"));
    let pool = Arc::new(PeakTrackingPool::new(Arc::new(tracked)));
    let mode = if settings.spill_dirs.is_empty() {
        DiskManagerMode::Disabled
    } else {
        DiskManagerMode::Directories(settings.spill_dirs.clone())
    };
    let disk = DiskManagerBuilder::default()
        .with_mode(mode)
        .with_max_temp_directory_size(settings.max_spill);
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(pool.clone())
        .with_disk_manager_builder(disk)
        .build_arc()
        .context("setting up the memory pool and spill directories")?;
    Ok((runtime, pool))
}

/// Adds the spill configuration to errors that come from spilling, so the
/// message names the directory and the flag to change.
pub fn explain_spill_error(error: anyhow::Error, settings: &RuntimeSettings) -> anyhow::Error {
    let text = format!("{error:#}");
    let dirs = settings
        .spill_dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if text.contains("DiskManager is disabled") {
        return error.context(format!(
            "the query needs more than --memory-limit {} and must spill, but no --spill-dir is set",
            format_size(settings.memory_limit)
        ));
    }
    if text.contains("exceeded the allowable limit") {
        return error.context(format!(
            "spill files in --spill-dir {dirs} reached --max-spill {}",
            format_size(settings.max_spill)
        ));
    }
    if text.contains("No space left on device") && !dirs.is_empty() {
        return error.context(format!("a disk is full (spill directories: {dirs})"));
    }
    error
}

/// A memory pool wrapper that remembers the largest reservation total.
#[derive(Debug)]
pub struct PeakTrackingPool {
    inner: Arc<dyn MemoryPool>,
    peak: AtomicUsize,
}

impl PeakTrackingPool {
    fn new(inner: Arc<dyn MemoryPool>) -> Self {
        PeakTrackingPool {
            inner,
            peak: AtomicUsize::new(0),
        }
    }

    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    fn note(&self) {
        self.peak.fetch_max(self.inner.reserved(), Ordering::Relaxed);
    }
}

impl std::fmt::Display for PeakTrackingPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (peak {} bytes)", self.inner, self.peak())
    }
}

impl MemoryPool for PeakTrackingPool {
    fn name(&self) -> &str {
        "PeakTrackingPool"
    }

    fn register(&self, consumer: &MemoryConsumer) {
        self.inner.register(consumer)
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        self.inner.unregister(consumer)
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.inner.grow(reservation, additional);
        self.note();
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.inner.shrink(reservation, shrink)
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> DfResult<()> {
        self.inner.try_grow(reservation, additional)?;
        self.note();
        Ok(())
    }

    fn reserved(&self) -> usize {
        self.inner.reserved()
    }

    fn memory_limit(&self) -> MemoryLimit {
        self.inner.memory_limit()
    }
}

/// This process's peak resident memory (VmHWM), if the OS tells.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_of_the_container_limit() {
        std::env::set_var("CONTAINER_MEMORY_LIMIT_MIB", "1000");
        assert_eq!(parse_memory_limit("60%").unwrap(), 600 << 20);
        assert_eq!(parse_memory_limit("16MiB").unwrap(), 16 << 20);
        assert!(parse_memory_limit("0%").is_err());
        std::env::remove_var("CONTAINER_MEMORY_LIMIT_MIB");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16MiB").unwrap(), 16 << 20);
        assert_eq!(parse_size("2GB").unwrap(), 2_000_000_000);
        assert_eq!(parse_size("1048576").unwrap(), 1 << 20);
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn spill_dir_must_exist_and_be_writable() {
        let err = check_spill_dirs(&[PathBuf::from("/nonexistent/spill")]).unwrap_err();
        assert!(format!("{err:#}").contains("/nonexistent/spill"));
        assert!(check_spill_dirs(&[std::env::temp_dir()]).is_ok());
    }
}
