//! The run summary: printed at the end of a run and written as the output's
//! `_SUCCESS` marker.
//!
//! A single run writes `OUTPUT/_SUCCESS`. A sharded run writes
//! `OUTPUT/_shards/shard-IIIII-of-NNNNN.json`; the shard that finds all N
//! shard summaries present writes `_SUCCESS` listing them, so `_SUCCESS`
//! marks a complete output either way. Both are written atomically.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::shard::Shard;

/// Everything a run did, in numbers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunSummary {
    pub wikitok_version: String,
    pub sql_file: String,
    /// `I/N` when this run was one shard of several.
    pub shard: Option<String>,
    /// A sharded run: the fingerprint its shards share (of the SQL, the
    /// splits and the flags); `_SUCCESS` lists only shards of this run.
    #[serde(default)]
    pub run: Option<String>,
    /// The input splits this run was responsible for.
    pub splits: Vec<String>,
    pub pages_read: u64,
    pub pages_written: u64,
    /// Pages not written, by reason.
    pub pages_skipped: BTreeMap<String, u64>,
    /// Bad records skipped, by kind.
    pub bad_records: BTreeMap<String, u64>,
    pub tokens: u64,
    pub input_bytes_compressed: u64,
    pub input_bytes_uncompressed: u64,
    pub elapsed_seconds: f64,
    pub pages_per_second: f64,
    pub tokens_per_second: f64,
    pub spilled_bytes: u64,
    /// `STORED AS PACKED`: tokens of the incomplete last sequence of each
    /// partition, dropped.
    #[serde(default)]
    pub packed_tokens_dropped: u64,
    /// Peak of DataFusion's memory pool (sorts, aggregations).
    pub peak_memory_pool_bytes: u64,
    /// Peak resident memory of the process.
    pub peak_rss_bytes: u64,
    pub outputs: Vec<OutputSummary>,
}

/// One COPY target.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OutputSummary {
    pub directory: String,
    pub files_written: Vec<String>,
    /// Files committed by an earlier run and kept.
    pub files_kept: Vec<String>,
    pub rows_written: u64,
    pub bytes_written: u64,
}

impl RunSummary {
    /// The lines printed at the end of a run.
    pub fn to_text(&self) -> String {
        let mut lines = vec![format!(
            "read {} input splits{}: {} pages, {} written, skipped {:?}, {} tokens, {:.1} MB compressed / {:.1} MB decompressed",
            self.splits.len(),
            self.shard.as_ref().map(|s| format!(" (shard {s})")).unwrap_or_default(),
            self.pages_read,
            self.pages_written,
            self.pages_skipped,
            self.tokens,
            self.input_bytes_compressed as f64 / 1e6,
            self.input_bytes_uncompressed as f64 / 1e6,
        )];
        if !self.bad_records.is_empty() {
            lines.push(format!("bad records skipped: {:?}", self.bad_records));
        }
        if self.packed_tokens_dropped > 0 {
            lines.push(format!(
                "packed sequences: {} tokens dropped (the incomplete last sequence of each partition)",
                self.packed_tokens_dropped
            ));
        }
        lines.push(format!(
            "{:.1}s, {:.0} pages/s, {:.0} tokens/s; spilled {} bytes; peak memory pool {:.1} MB, peak RSS {:.1} MB",
            self.elapsed_seconds,
            self.pages_per_second,
            self.tokens_per_second,
            self.spilled_bytes,
            self.peak_memory_pool_bytes as f64 / 1e6,
            self.peak_rss_bytes as f64 / 1e6,
        ));
        for out in &self.outputs {
            let kept = if out.files_kept.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} files already committed by an earlier run were kept (--overwrite rewrites them)",
                    out.files_kept.len()
                )
            };
            lines.push(format!(
                "{}: {} files written ({} rows, {:.1} MB){kept}",
                out.directory,
                out.files_written.len(),
                out.rows_written,
                out.bytes_written as f64 / 1e6
            ));
        }
        lines.join("\n")
    }
}

/// Where the completion markers of an output live.
pub struct Markers {
    output: PathBuf,
    shard: Option<Shard>,
}

impl Markers {
    pub fn new(output: &Path, shard: Option<Shard>) -> Self {
        Markers {
            output: output.to_path_buf(),
            shard,
        }
    }

    fn success(&self) -> PathBuf {
        self.output.join("_SUCCESS")
    }

    fn shard_dir(&self) -> PathBuf {
        self.output.join("_shards")
    }

    /// Removes the markers this run is about to make stale.
    pub fn clear(&self) -> Result<()> {
        let mut stale = vec![self.success()];
        if let Some(shard) = self.shard {
            stale.push(self.shard_dir().join(format!("{}.json", shard.file_tag())));
        }
        for path in stale {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
            }
        }
        Ok(())
    }

    /// Writes this run's summary; for a shard, also `_SUCCESS` once every
    /// shard is done. Summaries of other shards count only when written
    /// after `not_before` (when this attempt of the run began): those of an
    /// earlier, completed run of the same command do not.
    pub fn write(&self, summary: &RunSummary, not_before: Option<SystemTime>) -> Result<PathBuf> {
        let Some(shard) = self.shard else {
            write_json_atomically(&self.success(), summary)?;
            return Ok(self.success());
        };
        let dir = self.shard_dir();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mine = dir.join(format!("{}.json", shard.file_tag()));
        write_json_atomically(&mine, summary)?;
        let mut shards = Vec::new();
        for index in 0..shard.count {
            let tag = Shard {
                index,
                count: shard.count,
            }
            .file_tag();
            let path = dir.join(format!("{tag}.json"));
            let written = std::fs::metadata(&path).and_then(|m| m.modified());
            let current = match (written, not_before) {
                (Ok(written), Some(not_before)) => written >= not_before,
                (written, _) => written.is_ok(),
            };
            if !current {
                return Ok(mine);
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                return Ok(mine);
            };
            let other = serde_json::from_str::<RunSummary>(&text).with_context(|| format!("reading {tag}.json"))?;
            if other.run != summary.run {
                // A shard of another run (other flags, SQL or input) left it.
                return Ok(mine);
            }
            shards.push(other);
        }
        write_json_atomically(
            &self.success(),
            &serde_json::json!({ "complete": true, "shards": shards }),
        )?;
        Ok(self.success())
    }
}

/// Written under a temporary name of this process's own (shards finishing
/// together may write `_SUCCESS` at the same moment), then renamed.
fn write_json_atomically(path: &Path, value: &impl Serialize) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", crate::sink::in_progress::owner()));
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(&tmp, text + "\n").with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
