//! Storage: where dump bytes come from — local files and `s3://`, `gs://`,
//! `az://`, `http(s)://` objects — behind one interface, [`StoredFile`].
//!
//! Everything above this layer (compression, formats, the table provider)
//! reads through a [`Split`]'s file and never asks where it lives, so a
//! retry, a resumed read or a new store is written once, here.
//!
//! - [`discover`]: `--input` values → [`Split`]s (directories, globs, bucket
//!   prefixes, HTML index pages; which names are dump files; `_SUCCESS`);
//! - [`descriptor`]: a split as a serializable description, reopened by an
//!   engine's worker (the Python module's `splits`/`read_split`);
//! - [`local`]: local files (plain `std::fs`, seeked — as fast as reading
//!   gets, see the README's architecture notes);
//! - [`remote`]: object stores through `object_store`.

pub mod descriptor;
pub mod discover;
pub mod local;
pub mod remote;

use std::fmt;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::Arc;

pub use descriptor::SplitDescriptor;
pub use discover::{discover_splits, discover_splits_with, family_from_name, is_dump_file_name, DumpFamily};
pub use remote::resumable::{is_network_error, RetryOptions};

/// One file of the input, wherever it is stored.
pub trait StoredFile: Send + Sync + fmt::Debug {
    /// The path or URL, for messages and output names.
    fn location(&self) -> &str;

    /// Size in bytes.
    fn size(&self) -> u64;

    /// The bytes from `offset` to the end, as a stream (a seeked file, a
    /// ranged streaming GET), so a 600 MB shard is never held whole.
    fn open_at(&self, offset: u64) -> io::Result<Box<dyn Read + Send>>;

    /// Bytes `range` (clamped to the file's size).
    fn read_range(&self, range: Range<u64>) -> io::Result<Vec<u8>>;

    /// Whether [`StoredFile::read_range`] may fail merely because the store
    /// cannot serve byte ranges (some HTTP servers). Such files are read
    /// whole, and checks that need a range are skipped rather than failed.
    fn ranges_are_optional(&self) -> bool {
        false
    }
}

/// One independently decodable piece of the input.
#[derive(Debug, Clone)]
pub struct Split {
    /// The file this split reads.
    pub file: Arc<dyn StoredFile>,
    /// Compressed size in bytes.
    pub size: u64,
    /// A stable, unique name for this split, used to name its output file
    /// (e.g. `enwiki_content-20261115-00003`), so that the same input always
    /// writes the same file names.
    pub label: String,
    /// `X` when the file is in a Hive-style `index_name=X` directory.
    pub index_name: Option<String>,
    /// For a piece of a plain or bzip2 file: the byte range whose records
    /// this split owns (those that start in it — for bzip2, in the blocks
    /// that start in it).
    pub range: Option<ByteRange>,
}

impl PartialEq for Split {
    fn eq(&self, other: &Self) -> bool {
        self.location() == other.location()
            && self.size == other.size
            && self.label == other.label
            && self.index_name == other.index_name
            && self.range == other.range
    }
}

impl Eq for Split {}

impl Split {
    /// A whole file as one split, labelled `label`.
    pub fn whole(file: Arc<dyn StoredFile>, label: String, index_name: Option<String>) -> Self {
        Split {
            size: file.size(),
            file,
            label,
            index_name,
            range: None,
        }
    }

    /// The file's path or URL.
    pub fn location(&self) -> &str {
        self.file.location()
    }

    /// The file's bytes from `offset` on.
    pub fn open_at(&self, offset: u64) -> io::Result<Box<dyn Read + Send>> {
        self.file.open_at(offset)
    }

    /// The file's first `n` bytes (fewer if it is shorter).
    pub fn read_head(&self, n: u64) -> io::Result<Vec<u8>> {
        self.file.read_range(0..n.min(self.file.size()))
    }

    /// The file's last `n` bytes (fewer if it is shorter).
    pub fn read_tail(&self, n: u64) -> io::Result<Vec<u8>> {
        let size = self.file.size();
        self.file.read_range(size - n.min(size)..size)
    }
}

/// A half-open byte range of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}
