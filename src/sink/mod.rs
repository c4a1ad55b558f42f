//! Sinks: where query results go behind `COPY (query) TO 'dir' STORED AS ...`.
//!
//! - [`writer`]: runs every partition of the plan in parallel, each into its
//!   own file, committed atomically, kept on a rerun;
//! - [`format`]: what a file format supplies to it ([`format::SinkFormat`]);
//! - [`parquet`]: the Parquet format, the default.

pub mod format;
pub mod in_progress;
pub mod parquet;
pub mod writer;

pub use format::{PartitionEncoder, SinkFormat};
pub use parquet::{ParquetOptions, ParquetSink};
pub use writer::{partition_names, write_partitions, PartitionNames, SplitLabels, WriteOptions, WriteReport};
