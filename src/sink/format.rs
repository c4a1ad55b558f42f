//! What a file format must supply to be written by the per-partition writer:
//! an encoder over a partition's record batches, and a way to recognise a
//! file a previous full run committed (so a rerun keeps it).

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::common::Result;

use crate::destination::{Destination, SinkWriter};

/// A file format behind `COPY ... STORED AS ...`.
pub trait SinkFormat: Send + Sync {
    /// The file name extension, without the dot: `parquet`.
    fn extension(&self) -> &'static str;

    /// Extensions of files written beside each file and committed with it
    /// (Megatron's `idx` beside its `bin`); none by default.
    fn companions(&self) -> &'static [&'static str] {
        &[]
    }

    /// The schema of the files written from a query of schema `query`
    /// (what a table over them reads); the query's own by default.
    fn file_schema(&self, query: SchemaRef) -> SchemaRef {
        query
    }

    /// An encoder writing one partition's batches into `files`.
    fn create(&self, files: SinkFiles, schema: SchemaRef) -> Result<Box<dyn PartitionEncoder>>;

    /// Whether the file `name` in `dir` (present, and its companions too) is
    /// complete. With [`SinkFormat::records_sample`], also that it is not
    /// from a sample run.
    fn is_complete(&self, dir: &Destination, name: &str) -> bool;

    /// Whether files say themselves that a sample run wrote them (Parquet's
    /// metadata); otherwise the writer keeps a `.NAME.sample` marker beside
    /// each such file.
    fn records_sample(&self) -> bool {
        false
    }

    /// Called once all partitions of a COPY are committed (or kept): for
    /// listings over the directory (Megatron's `data-path`).
    fn finish_directory(&self, _dir: &Destination) -> Result<()> {
        Ok(())
    }
}

/// The in-progress files one partition is encoded into.
pub struct SinkFiles {
    pub main: SinkWriter,
    /// The main file's (temporary) path or URL, for messages.
    pub location: String,
    /// One per [`SinkFormat::companions`], in that order.
    pub companions: Vec<SinkWriter>,
    /// The plan partition being written, or the file's bucket when files
    /// are named by a `file_bucket` column.
    pub partition: usize,
}

/// Encodes one partition's batches into one file.
pub trait PartitionEncoder: Send {
    fn write(&mut self, batch: &RecordBatch) -> Result<()>;

    /// Writes what is buffered and any footer, and flushes the writers (the
    /// writer then commits the file) — or says the partition makes no file.
    fn finish(self: Box<Self>) -> Result<Encoded>;
}

/// What an encoder made of its partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoded {
    /// A complete file of `rows` rows, counted in the format's own unit
    /// (packed sequences for `PACKED`, documents for `MEGATRON`).
    File { rows: u64 },
    /// No file: nothing in the partition that the format can hold (a
    /// Megatron dataset without tokens, which Megatron cannot memory-map).
    /// The writer discards the in-progress files and commits nothing.
    Nothing,
}
