//! wikitok: Wikipedia dumps → token tables and trainer-ready files, with
//! Apache Arrow and DataFusion.
//!
//! The modules follow the data (see the README's Architecture section):
//!
//! - [`source`]: dump files as the streaming `pages` table — storage →
//!   compression → format (CirrusSearch JSON, MediaWiki XML) → the table provider;
//! - [`wikitext`]: MediaWiki markup → plain text, headings, links, categories;
//! - [`tokenizer`]: the tokenizer UDFs and their backends;
//! - [`sink`]: the parallel, atomic per-partition writer behind `COPY`;
//! - [`script`]: SQL files and their variables;
//! - [`job`]: the job runner tying them together;
//! - [`runtime`]: memory limit and spill directories;
//! - [`shard`], [`scaleout`]: scale-out over machines, one run's answer; [`shuffle`]: `shuffle_key` for seeded shuffles;
//! - [`progress`], [`summary`]: what a run reports;
//! - [`cli`]: the command line; [`head`]: `wikitok head`; [`interrupt`]: SIGTERM;
//! - [`embed`]: the job inside another program (the Python module, `python/`);
//! - `fuzzing`: the bodies of the cargo-fuzz targets in `fuzz/`.

pub mod cli;
pub mod destination;
pub mod embed;
#[doc(hidden)]
pub mod fuzzing;
pub mod head;
pub mod interrupt;
pub mod job;
pub mod progress;
pub mod runtime;
pub mod scaleout;
pub mod script;
pub mod shard;
pub mod shuffle;
pub mod sink;
pub mod source;
pub mod summary;
pub mod tokenizer;
pub mod wikitext;
