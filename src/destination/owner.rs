//! Which process wrote a temporary object, and whether it is gone.
//!
//! Temporary names carry their writer as `HOST-PID-START` (START: when the
//! process started, in clock ticks since boot — a pod restarted by its Job
//! has the same host name and, as the container's PID 1, the same PID): two
//! processes (pods of one index during a rollout, shards on one volume or
//! bucket) never touch each other's temporaries, and a later run can tell
//! leftovers of a dead writer from work in progress — at once when the
//! writer ran on this host and is gone, after an hour without a write when it
//! ran elsewhere (a writer on another host cannot be asked whether it is
//! alive; one that has not written for an hour is not).

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// How long another host's temporary must go unwritten to count as abandoned.
pub const FOREIGN_LEFTOVER_AGE: Duration = Duration::from_secs(3600);

/// This process, as written into its temporary names: `HOST-PID-START`.
pub fn owner() -> &'static str {
    static OWNER: OnceLock<String> = OnceLock::new();
    OWNER.get_or_init(|| {
        let pid = std::process::id();
        format!("{}-{pid}-{}", host_name(), start_time(pid).unwrap_or(0))
    })
}

/// When process `pid` started (clock ticks since boot, `/proc/PID/stat`'s
/// 22nd field); `None` when there is no such process.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count from after it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

pub(crate) fn host_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let name: String = name
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .collect();
    if name.is_empty() {
        "host".into()
    } else {
        name
    }
}

/// `(HOST, PID, START)` from `.NAME.HOST-PID-START{suffix}` (START is
/// absent in names an older wikitok gave: `HOST-PID`).
pub fn owner_of<'a>(name: &'a str, suffix: &str) -> Option<(&'a str, u32, Option<u64>)> {
    let tagged = name.strip_suffix(suffix)?;
    let (_, owner) = tagged.rsplit_once('.')?;
    let (rest, last) = owner.rsplit_once('-')?;
    let last: u64 = last.parse().ok()?;
    match rest.rsplit_once('-') {
        Some((host, pid)) if pid.parse::<u32>().is_ok() && !host.is_empty() => {
            Some((host, pid.parse().ok()?, Some(last)))
        }
        _ => Some((rest, u32::try_from(last).ok()?, None)),
    }
}

/// Whether the temporary `name` (ending in `suffix`), last written at
/// `modified`, belongs to no live writer.
pub fn is_abandoned(name: &str, suffix: &str, modified: Option<SystemTime>) -> bool {
    let Some((host, pid, start)) = owner_of(name, suffix) else {
        // No owner tag: written by an older wikitok, which wrote one run at a time.
        return true;
    };
    if host == host_name() {
        let alive = match start {
            Some(start) => start_time(pid) == Some(start),
            None => Path::new(&format!("/proc/{pid}")).exists(),
        };
        return !alive;
    }
    modified.is_some_and(|time| {
        SystemTime::now()
            .duration_since(time)
            .is_ok_and(|age| age > FOREIGN_LEFTOVER_AGE)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_read_back_from_names() {
        assert_eq!(
            owner_of(".enwiki-00001.parquet.pod-7f9c-2-1-881234.inprogress", ".inprogress"),
            Some(("pod-7f9c-2", 1, Some(881234)))
        );
        // An older wikitok's tag, HOST-PID.
        assert_eq!(
            owner_of(".enwiki-00001.parquet.vm-4242.inprogress", ".inprogress"),
            Some(("vm", 4242, None))
        );
        let tagged = format!(".x.{}.tmp", owner());
        let (host, pid, start) = owner_of(&tagged, ".tmp").unwrap();
        assert_eq!((host, pid), (host_name().as_str(), std::process::id()));
        assert!(start.is_some_and(|s| s > 0));
        // The name an older wikitok gave: no owner, so abandoned by definition.
        assert_eq!(owner_of(".enwiki-00001.parquet.inprogress", ".inprogress"), None);
    }

    #[test]
    fn a_foreign_writer_is_gone_only_after_an_hour_of_silence() {
        let name = ".a.parquet.elsewhere-12.upload";
        assert!(!is_abandoned(name, ".upload", Some(SystemTime::now())));
        let long_ago = SystemTime::now() - FOREIGN_LEFTOVER_AGE - Duration::from_secs(1);
        assert!(is_abandoned(name, ".upload", Some(long_ago)));
        let mine = format!(".a.parquet.{}.upload", owner());
        assert!(!is_abandoned(&mine, ".upload", Some(long_ago)));
        // This host and PID, another start: a restarted pod's predecessor.
        let (host, pid, start) = owner_of(&mine, ".upload").unwrap();
        let predecessor = format!(".a.parquet.{host}-{pid}-{}.upload", start.unwrap() + 1);
        assert!(is_abandoned(&predecessor, ".upload", Some(SystemTime::now())));
    }
}
