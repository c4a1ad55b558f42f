//! Sinks: where query results go behind `COPY (query) TO 'dir' STORED AS ...`.
//!
//! - [`writer`]: runs every partition of the plan in parallel, each into its
//!   own file, committed atomically, kept on a rerun;
//! - [`format`]: what a file format supplies to it ([`format::SinkFormat`]);
//! - [`parquet`]: the Parquet format, the default; [`text`]: CSV/TSV and
//!   JSON Lines; [`megatron`]: Megatron-LM indexed datasets (`.bin`+`.idx`);
//!   [`packed`]: fixed-length training sequences (Parquet);
//! - [`in_progress`]: temporary files, their commit and their cleanup.

pub mod format;
pub mod megatron;
pub mod packed;
pub mod parquet;
pub mod text;
pub mod writer;

pub use format::{PartitionEncoder, SinkFormat};
pub use parquet::{ParquetOptions, ParquetSink};
pub use writer::{
    partition_names, write_partitions, PartitionNames, SplitLabels, WriteOptions, WriteReport, FILE_BUCKET_COLUMN,
};
