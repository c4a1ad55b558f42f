//! What a dump format must supply to be read as the `pages` table, and the
//! options every format honours.
//!
//! The table provider knows formats only through [`DumpFormat`]: given a
//! split (storage and range) it frames records in the decompressed bytes,
//! decodes the projected columns of the pages the pushed-down filter keeps,
//! and hands record batches of the `pages` schema to `emit`. Formats build
//! on the compression layer (`open_split`) and report bad records through
//! the shared [`ReadStats`]; they never see the provider.

use std::fmt;

use arrow::array::RecordBatch;

use super::bad_record::BadRecord;
use super::schema::PAGE_COLUMNS;
use super::stats::ReadStats;
use super::storage::Split;

/// A dump format: CirrusSearch JSON today, MediaWiki XML beside it.
pub trait DumpFormat: Send + Sync + fmt::Debug {
    /// For plans and messages, e.g. `CirrusSearch`.
    fn name(&self) -> &'static str;

    /// Reads `split` from start to end (or `limit` pages), passing each batch
    /// — the columns of `options.projection`, in that order — to `emit`;
    /// `emit` returns false when nobody wants more.
    fn read_split(
        &self,
        split: &Split,
        options: &DecodeOptions,
        limit: Option<usize>,
        config: &ReadConfig,
        stats: &ReadStats,
        emit: &mut dyn FnMut(RecordBatch) -> bool,
    ) -> Result<(), ReadError>;
}

/// What the decoder produces: which columns, and which pages.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// Indices into [`PAGE_COLUMNS`] of the columns to materialize, in output order.
    pub projection: Vec<usize>,
    /// Keep only pages in these namespaces (a pushed-down `namespace` filter).
    pub namespaces: Option<Vec<i32>>,
}

impl DecodeOptions {
    pub fn all_columns() -> Self {
        DecodeOptions {
            projection: (0..PAGE_COLUMNS.len()).collect(),
            namespaces: None,
        }
    }
}

/// Limits for reading; the defaults suit full Wikipedia dumps.
#[derive(Debug, Clone)]
pub struct ReadConfig {
    /// A batch is emitted at this many rows...
    pub batch_rows: usize,
    /// ...or once its string data reaches this many bytes, whichever is first.
    pub batch_bytes: usize,
    /// Longer lines are skipped as bad records (the largest real pages are a
    /// few MB; this guards memory against a file with no newlines).
    pub max_line_bytes: usize,
    /// The run fails once more bad records than this have been seen.
    pub max_bad_records: u64,
    /// A sample run (`--max-pages`): stop each split after this many pages.
    pub max_pages_per_split: Option<u64>,
    /// MediaWiki XML: the user's template files (`--templates`).
    pub templates: crate::wikitext::UserTemplates,
}

impl Default for ReadConfig {
    fn default() -> Self {
        ReadConfig {
            batch_rows: 1024,
            batch_bytes: 16 << 20,
            max_line_bytes: 256 << 20,
            max_bad_records: 1000,
            max_pages_per_split: None,
            templates: crate::wikitext::UserTemplates::default(),
        }
    }
}

/// Why reading a split stopped early.
#[derive(Debug)]
pub enum ReadError {
    /// The consumer went away (a satisfied LIMIT, a cancelled query).
    Cancelled,
    /// A real failure, already phrased with the file and position.
    Failed(String),
}

/// A read of `path` that failed: network failures already name their URL
/// and byte; anything else gets the path in front.
pub fn split_failure(path: &str, e: std::io::Error) -> ReadError {
    if super::storage::is_network_error(&e) {
        ReadError::Failed(e.to_string())
    } else {
        ReadError::Failed(format!("{path}: {e}"))
    }
}

/// Counts and logs a bad record of `split`; fails the read once the run has
/// seen more than `--max-bad-records`.
pub fn report_bad_record(
    split: &Split,
    bad: &BadRecord,
    stats: &ReadStats,
    config: &ReadConfig,
) -> Result<(), ReadError> {
    let total = stats.count_bad(bad);
    let location = split_location(split);
    tracing::warn!("{location}: skipped a bad record at {bad}");
    if total > config.max_bad_records {
        return Err(ReadError::Failed(format!(
            "{location}: too many bad records ({total} > --max-bad-records {}); the last: {bad}",
            config.max_bad_records
        )));
    }
    Ok(())
}

/// The file, and for a range where its line numbers count from.
fn split_location(split: &Split) -> String {
    match split.range {
        Some(range) if range.start > 0 => format!(
            "{} (the part from compressed byte {}; lines counted from there)",
            split.location(),
            range.start
        ),
        _ => split.location().to_string(),
    }
}
