//! CirrusSearch dumps: newline-delimited JSON, an action line then the page
//! document for every page.
//!
//! - [`reader`]: framing — lines, the pairs a byte range owns, the read loop;
//! - [`decode`]: a pair → one row of the `pages` schema, projected columns only.

pub mod decode;
pub mod reader;

use arrow::array::RecordBatch;

use super::format::{DecodeOptions, DumpFormat, ReadConfig, ReadError};
use super::stats::ReadStats;
use super::storage::Split;

/// The CirrusSearch JSON format (both the legacy `...cirrussearch-content.json.gz`
/// and the current `cirrus_search_index/.../*.json.bz2` layouts).
#[derive(Debug, Default, Clone, Copy)]
pub struct CirrusSearch;

impl DumpFormat for CirrusSearch {
    fn name(&self) -> &'static str {
        "CirrusSearch"
    }

    fn read_split(
        &self,
        split: &Split,
        options: &DecodeOptions,
        limit: Option<usize>,
        config: &ReadConfig,
        stats: &ReadStats,
        emit: &mut dyn FnMut(RecordBatch) -> bool,
    ) -> Result<(), ReadError> {
        reader::read_split(split, options.clone(), limit, config, stats, emit)
    }
}
