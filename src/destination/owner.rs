//! Which process wrote a temporary object, and whether it is gone.
//!
//! Temporary names carry their writer as `HOST-PID`: two processes (pods of
//! one index during a rollout, shards on one volume or bucket) never touch
//! each other's temporaries, and a later run can tell leftovers of a dead
//! writer from work in progress — at once when the writer ran on this host
//! and is gone, after an hour without a write when it ran elsewhere (a writer
//! on another host cannot be asked whether it is alive; one that has not
//! written for an hour is not).

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// How long another host's temporary must go unwritten to count as abandoned.
pub const FOREIGN_LEFTOVER_AGE: Duration = Duration::from_secs(3600);

/// This process, as written into its temporary names: `HOST-PID`.
pub fn owner() -> &'static str {
    static OWNER: OnceLock<String> = OnceLock::new();
    OWNER.get_or_init(|| format!("{}-{}", host_name(), std::process::id()))
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

/// `(HOST, PID)` from `.NAME.HOST-PID{suffix}`.
pub fn owner_of<'a>(name: &'a str, suffix: &str) -> Option<(&'a str, u32)> {
    let tagged = name.strip_suffix(suffix)?;
    let (_, owner) = tagged.rsplit_once('.')?;
    let (host, pid) = owner.rsplit_once('-')?;
    Some((host, pid.parse().ok()?))
}

/// Whether the temporary `name` (ending in `suffix`), last written at
/// `modified`, belongs to no live writer.
pub fn is_abandoned(name: &str, suffix: &str, modified: Option<SystemTime>) -> bool {
    let Some((host, pid)) = owner_of(name, suffix) else {
        // No owner tag: written by an older wikitok, which wrote one run at a time.
        return true;
    };
    if host == host_name() {
        return pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists();
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
            owner_of(".enwiki-00001.parquet.pod-7f9c-2-4242.inprogress", ".inprogress"),
            Some(("pod-7f9c-2", 4242))
        );
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
    }
}
