//! Local files: `std::fs`, seeked to the wanted offset.
//!
//! `object_store`'s `LocalFileSystem` would also fit [`StoredFile`], but it
//! serves a stream as a sequence of blocking reads handed through a channel;
//! a seeked `File` read straight from the reader's own blocking thread
//! involves no copy and no task switch, and local reading is the common case.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::StoredFile;

/// A file on a local (or mounted) filesystem.
#[derive(Debug)]
pub struct LocalFile {
    path: PathBuf,
    /// `path` as text, for messages.
    location: String,
    size: u64,
}

impl LocalFile {
    /// The file at `path`; fails (naming it) if it cannot be inspected.
    pub fn open(path: &Path) -> io::Result<Self> {
        let size = std::fs::metadata(path)?.len();
        Ok(LocalFile {
            location: path.display().to_string(),
            path: path.to_path_buf(),
            size,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl StoredFile for LocalFile {
    fn location(&self) -> &str {
        &self.location
    }

    fn size(&self) -> u64 {
        self.size
    }

    fn open_at(&self, offset: u64) -> io::Result<Box<dyn Read + Send>> {
        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(offset))?;
        Ok(Box::new(file))
    }

    fn read_range(&self, range: Range<u64>) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.open_at(range.start)?
            .take(range.end.saturating_sub(range.start))
            .read_to_end(&mut bytes)?;
        Ok(bytes)
    }
}
