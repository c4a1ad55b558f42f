//! wikitok: Wikipedia CirrusSearch dumps → Parquet token tables, with Apache
//! Arrow and DataFusion.
//!
//! - [`dump`]: the dump source, the streaming `pages` table;
//! - [`tokenizer`]: the tokenizer UDFs; [`fast_bpe`]: their exact fast BPE backend;
//! - [`writer`]: the parallel, atomic Parquet writer behind `COPY`;
//! - [`script`]: SQL files and their variables;
//! - [`job`]: the job runner tying them together;
//! - [`runtime`]: memory limit and spill directories;
//! - [`shard`]: scale-out over machines;
//! - [`progress`], [`summary`]: what a run reports;
//! - [`cli`]: the command line;
//! - `fuzzing`: the bodies of the cargo-fuzz targets in `fuzz/`.

pub mod cli;
pub mod dump;
pub mod fast_bpe;
#[doc(hidden)]
pub mod fuzzing;
pub mod head;
pub mod job;
pub mod progress;
pub mod runtime;
pub mod script;
pub mod shard;
pub mod summary;
pub mod tokenizer;
pub mod writer;
