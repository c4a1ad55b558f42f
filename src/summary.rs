//! The run summary: printed at the end of a run and written as the output's
//! `_SUCCESS` marker.
//!
//! A single run writes `OUTPUT/_SUCCESS`. A sharded run writes
//! `OUTPUT/_shards/shard-IIIII-of-NNNNN.json`; the shard that finds all N
//! shard summaries present writes `_SUCCESS` listing them, so `_SUCCESS`
//! marks a complete output either way. Both are written atomically.

use std::collections::BTreeMap;
use std::time::SystemTime;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::destination::Destination;
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
    output: Destination,
    shard: Option<Shard>,
}

const SUCCESS: &str = "_SUCCESS";

impl Markers {
    pub fn new(output: &Destination, shard: Option<Shard>) -> Self {
        Markers {
            output: output.clone(),
            shard,
        }
    }

    fn shard_dir(&self) -> Destination {
        self.output.join("_shards")
    }

    fn shard_file(shard: Shard) -> String {
        format!("{}.json", shard.file_tag())
    }

    /// Removes the markers this run is about to make stale.
    pub fn clear(&self) -> Result<()> {
        self.output.remove(SUCCESS)?;
        if let Some(shard) = self.shard {
            self.shard_dir().remove(&Self::shard_file(shard))?;
        }
        Ok(())
    }

    /// Writes this run's summary; for a shard, also `_SUCCESS` once every
    /// shard is done. Summaries of other shards count only when written
    /// after `not_before` (when this attempt of the run began, by the
    /// storage's clock): those of an earlier, completed run of the same
    /// command do not. Returns where the summary went.
    pub fn write(&self, summary: &RunSummary, not_before: Option<SystemTime>) -> Result<String> {
        let Some(shard) = self.shard else {
            self.output.put(SUCCESS, to_json(summary)?)?;
            return Ok(self.output.location_of(SUCCESS));
        };
        let dir = self.shard_dir();
        let mine = Self::shard_file(shard);
        dir.put(&mine, to_json(summary)?)?;
        let mut shards = Vec::new();
        for index in 0..shard.count {
            let name = Self::shard_file(Shard {
                index,
                count: shard.count,
            });
            let Some(written) = dir.head(&name)? else {
                return Ok(dir.location_of(&mine));
            };
            if not_before.is_some_and(|not_before| written.modified < not_before) {
                return Ok(dir.location_of(&mine));
            }
            let Some(text) = dir.get(&name)? else {
                return Ok(dir.location_of(&mine));
            };
            let other = serde_json::from_slice::<RunSummary>(&text).with_context(|| format!("reading {name}"))?;
            if other.run != summary.run {
                // A shard of another run (other flags, SQL or input) left it.
                return Ok(dir.location_of(&mine));
            }
            shards.push(other);
        }
        self.output.put(
            SUCCESS,
            to_json(&serde_json::json!({ "complete": true, "shards": shards }))?,
        )?;
        Ok(self.output.location_of(SUCCESS))
    }
}

/// Pretty JSON and a newline. Objects appear atomically (a rename, or one
/// PUT), so shards finishing together never see half a summary.
fn to_json(value: &impl Serialize) -> Result<Vec<u8>> {
    Ok((serde_json::to_string_pretty(value)? + "\n").into_bytes())
}
