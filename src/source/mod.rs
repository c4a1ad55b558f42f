//! The dump source: dump files as the streaming `pages` table.
//!
//! Layered so the folder list reads as the pipeline, each layer using only
//! the ones below it:
//!
//! 1. [`storage`]: where bytes come from — local files and object stores
//!    behind one interface; discovery of the dump files behind `--input`;
//! 2. [`compression`]: (storage, byte range) → decompressed bytes (gzip,
//!    bzip2 streams and block ranges, plain ranges);
//! 3. formats — [`cirrus`] (CirrusSearch JSON) and [`xml`] (MediaWiki XML):
//!    record framing and decoding into the `pages` schema, through the
//!    [`format::DumpFormat`] trait;
//! 4. [`provider`]: the `pages` DataFusion table and its scan.
//!
//! Shared below the formats and the provider: the [`schema`], the
//! [`format`] contract and options, the family [`detect`]ion, the Arrow [`columns`] builders,
//! [`bad_record`]s and the read [`stats`].

pub mod bad_record;
pub mod cirrus;
pub mod columns;
pub mod compression;
pub mod detect;
pub mod format;
pub mod provider;
pub mod schema;
pub mod stats;
pub mod storage;
#[cfg(test)]
pub(crate) mod testing;
pub mod xml;

pub use provider::{PagesScanExec, PagesTable};
