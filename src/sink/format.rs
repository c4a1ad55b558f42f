//! What a file format must supply to be written by the per-partition writer:
//! an encoder over a partition's record batches, and a way to recognise a
//! file a previous full run committed (so a rerun keeps it).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::common::Result;

/// A file format behind `COPY ... STORED AS ...`.
pub trait SinkFormat: Send + Sync {
    /// The file name extension, without the dot: `parquet`.
    fn extension(&self) -> &'static str;

    /// An encoder writing one partition's batches into `file` (an
    /// in-progress file at `path`, for messages).
    fn create(&self, file: BufWriter<File>, path: &Path, schema: SchemaRef) -> Result<Box<dyn PartitionEncoder>>;

    /// Whether `path` is a complete file of a full (not sample) run.
    fn is_complete(&self, path: &Path) -> bool;
}

/// Encodes one partition's batches into one file.
pub trait PartitionEncoder: Send {
    fn write(&mut self, batch: &RecordBatch) -> Result<()>;

    /// Writes what is buffered and any footer, and flushes to the file (the
    /// writer then syncs and commits it).
    fn finish(self: Box<Self>) -> Result<()>;
}
