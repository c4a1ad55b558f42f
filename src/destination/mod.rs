//! Where a run writes: a local directory or a prefix in a bucket.
//!
//! Every writer of the job — the sinks behind `COPY`, the run summary
//! (`_SUCCESS`), the scale-out's task board and exchange files — meets
//! storage here and only here, with the same few operations on either kind
//! of place: create an object and commit it (it appears complete or not at
//! all), put a small object (optionally only if absent: a conditional
//! create, the claim of a task), get, list, remove.
//!
//! `--output` (and a `COPY ... TO` target) is a local path or an `s3://`,
//! `gs://` or `az://` URL, with the credentials, endpoint and retries of
//! inputs ([`crate::source::storage::remote`]). Any other `scheme://` is
//! refused: a URL is never taken for a directory name.

pub mod bucket;
pub mod directory;
pub mod owner;

use std::io::{BufWriter, Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use anyhow::{bail, Context};
use bytes::Bytes;
use datafusion::common::{DataFusionError, Result};
use object_store::PutMode;
use url::Url;

use self::bucket::{Prefix, Upload};
use self::directory::InProgressFile;
use crate::source::storage::remote::bucket_stores;
use crate::source::storage::remote::resumable::ResumableReader;
use crate::source::storage::remote::RemoteObject;
use crate::source::storage::RetryOptions;

pub use owner::owner;

/// A directory or a bucket prefix that output goes to.
#[derive(Debug, Clone)]
pub enum Destination {
    Directory(PathBuf),
    Bucket(Prefix),
}

/// What a destination says about one of its objects.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    pub size: u64,
    /// When it was last written (the store's clock for a bucket).
    pub modified: SystemTime,
    /// Changes whenever the object is rewritten (an ETag, or the time).
    pub version: String,
}

/// What a place holds directly.
#[derive(Debug, Default)]
pub struct Listing {
    pub files: Vec<(String, ObjectInfo)>,
    pub dirs: Vec<String>,
}

/// Schemes of buckets that output can go to.
const BUCKET_SCHEMES: [&str; 6] = ["s3", "gs", "az", "abfs", "abfss", "azure"];

impl Destination {
    /// A local path, or a bucket URL; any other URL is an error.
    pub fn parse(location: &str, retry: RetryOptions) -> anyhow::Result<Destination> {
        let Some((scheme, _)) = location.split_once("://") else {
            return Ok(Destination::Directory(PathBuf::from(location)));
        };
        if !BUCKET_SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()) {
            bail!(
                "output {location:?}: wikitok writes to a local directory or to s3://, gs:// or az:// buckets, \
                 not to {scheme}://"
            );
        }
        let url = Url::parse(location).with_context(|| format!("output {location:?}: not a valid URL"))?;
        let (store, multipart) = bucket_stores(&url, retry).with_context(|| format!("output {location}"))?;
        Ok(Destination::Bucket(Prefix {
            store,
            multipart,
            retry,
            root: format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default()),
            // Object names as the bucket holds them: `my%20dir` is `my dir`.
            path: percent_encoding::percent_decode_str(url.path())
                .decode_utf8_lossy()
                .trim_matches('/')
                .to_string(),
        }))
    }

    /// Whether `location` names a bucket rather than a local path.
    pub fn is_url(location: &str) -> bool {
        location.contains("://")
    }

    /// The place `name` under this one (a subdirectory, a longer prefix).
    pub fn join(&self, name: &str) -> Destination {
        match self {
            Destination::Directory(dir) => Destination::Directory(dir.join(name)),
            Destination::Bucket(prefix) => Destination::Bucket(prefix.join(name)),
        }
    }

    /// The path or URL, for messages and listings.
    pub fn location(&self) -> String {
        match self {
            Destination::Directory(dir) => dir.display().to_string(),
            Destination::Bucket(prefix) => prefix.url(),
        }
    }

    /// The path or URL of `name` here.
    pub fn location_of(&self, name: &str) -> String {
        match self {
            Destination::Directory(dir) => dir.join(name).display().to_string(),
            Destination::Bucket(prefix) => prefix.join(name).url(),
        }
    }

    /// The local directory, if this is one.
    pub fn local_dir(&self) -> Option<&Path> {
        match self {
            Destination::Directory(dir) => Some(dir),
            Destination::Bucket(_) => None,
        }
    }

    /// Makes the place ready to write into: creates the directory, and
    /// removes (or aborts) what writers now gone left in progress.
    pub fn prepare(&self) -> Result<()> {
        match self {
            Destination::Directory(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| disk_error(dir, e))?;
                directory::remove_leftovers(dir)
            }
            Destination::Bucket(prefix) => prefix.remove_leftovers(),
        }
    }

    /// Starts writing `name`; it appears when the pending object is committed.
    pub fn create(&self, name: &str) -> Result<PendingObject> {
        Ok(match self {
            Destination::Directory(dir) => PendingObject::File(InProgressFile::create(dir, name)?),
            Destination::Bucket(prefix) => PendingObject::Upload(prefix.create(name)),
        })
    }

    /// Writes the small object `name` at once, replacing any.
    pub fn put(&self, name: &str, bytes: Vec<u8>) -> Result<()> {
        match self {
            Destination::Directory(dir) => {
                // A temporary of this process's own, renamed into place.
                std::fs::create_dir_all(dir).map_err(|e| disk_error(dir, e))?;
                let temporary = dir.join(format!(".{name}.{}.tmp", owner()));
                std::fs::write(&temporary, bytes).map_err(|e| disk_error(&temporary, e))?;
                let path = dir.join(name);
                std::fs::rename(&temporary, &path).map_err(|e| disk_error(&path, e))
            }
            Destination::Bucket(prefix) => prefix.put(name, bytes, PutMode::Overwrite).map(drop),
        }
    }

    /// Writes the small object `name` only if there is none (a conditional
    /// create: of writers racing for one name, exactly one gets `true`).
    pub fn put_new(&self, name: &str, bytes: Vec<u8>) -> Result<bool> {
        match self {
            Destination::Directory(dir) => {
                // Written whole under a temporary name, then linked to its
                // name — which fails if the name exists: nobody ever reads
                // a claim before its content.
                std::fs::create_dir_all(dir).map_err(|e| disk_error(dir, e))?;
                let temporary = dir.join(format!(".{name}.{}.new", owner()));
                std::fs::write(&temporary, &bytes).map_err(|e| disk_error(&temporary, e))?;
                let path = dir.join(name);
                let linked = std::fs::hard_link(&temporary, &path);
                let _ = std::fs::remove_file(&temporary);
                match linked {
                    Ok(()) => Ok(true),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                    // A file system without hard links: create-new, then write.
                    Err(_) => match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                        Ok(mut file) => {
                            file.write_all(&bytes).map_err(|e| disk_error(&path, e))?;
                            Ok(true)
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                        Err(e) => Err(disk_error(&path, e)),
                    },
                }
            }
            Destination::Bucket(prefix) => prefix.put(name, bytes, PutMode::Create),
        }
    }

    /// The whole object `name`, if there is one.
    pub fn get(&self, name: &str) -> Result<Option<Bytes>> {
        match self {
            Destination::Directory(dir) => match std::fs::read(dir.join(name)) {
                Ok(bytes) => Ok(Some(Bytes::from(bytes))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(disk_error(dir.join(name), e)),
            },
            Destination::Bucket(prefix) => prefix.get(name),
        }
    }

    /// Bytes `range` of the object `name`.
    pub fn get_range(&self, name: &str, range: Range<u64>) -> Result<Bytes> {
        match self {
            Destination::Directory(dir) => {
                use std::io::{Seek, SeekFrom};
                let path = dir.join(name);
                let mut file = std::fs::File::open(&path).map_err(|e| disk_error(&path, e))?;
                file.seek(SeekFrom::Start(range.start))
                    .map_err(|e| disk_error(&path, e))?;
                let mut bytes = vec![0; (range.end.saturating_sub(range.start)) as usize];
                file.read_exact(&mut bytes).map_err(|e| disk_error(&path, e))?;
                Ok(Bytes::from(bytes))
            }
            Destination::Bucket(prefix) => prefix.get_range(name, range),
        }
    }

    /// Size, time and version of the object `name`, if there is one.
    pub fn head(&self, name: &str) -> Result<Option<ObjectInfo>> {
        match self {
            Destination::Directory(dir) => match std::fs::metadata(dir.join(name)) {
                Ok(meta) if meta.is_file() => Ok(Some(file_info(&meta))),
                Ok(_) => Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(disk_error(dir.join(name), e)),
            },
            Destination::Bucket(prefix) => prefix.head(name),
        }
    }

    /// What is directly here: objects and subdirectories (common prefixes
    /// in a bucket), by name; nothing when the place does not exist yet.
    pub fn listing(&self) -> Result<Listing> {
        let mut listing = match self {
            Destination::Directory(dir) => {
                let entries = match std::fs::read_dir(dir) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Listing::default()),
                    Err(e) => return Err(disk_error(dir, e)),
                };
                let mut listing = Listing::default();
                for entry in entries {
                    let entry = entry.map_err(|e| disk_error(dir, e))?;
                    let Ok(meta) = entry.metadata() else { continue };
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if meta.is_file() {
                        listing.files.push((name, file_info(&meta)));
                    } else if meta.is_dir() {
                        listing.dirs.push(name);
                    }
                }
                listing
            }
            Destination::Bucket(prefix) => prefix.listing()?,
        };
        listing.files.sort_by(|a, b| a.0.cmp(&b.0));
        listing.dirs.sort();
        Ok(listing)
    }

    /// The objects directly here (not in subdirectories), by name.
    pub fn list(&self) -> Result<Vec<(String, ObjectInfo)>> {
        Ok(self.listing()?.files)
    }

    /// The subdirectories here, by name, leaving out hidden ones (`.`, `_`:
    /// temporaries, exchange data).
    pub fn list_dirs(&self) -> Result<Vec<String>> {
        let mut dirs = self.listing()?.dirs;
        dirs.retain(|name| !name.starts_with(['.', '_']));
        Ok(dirs)
    }

    /// Removes the object `name`; one already gone is not an error.
    pub fn remove(&self, name: &str) -> Result<()> {
        match self {
            Destination::Directory(dir) => match std::fs::remove_file(dir.join(name)) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(disk_error(dir.join(name), e)),
            },
            Destination::Bucket(prefix) => prefix.remove(name),
        }
    }

    /// Removes everything here, at any depth.
    pub fn remove_all(&self) -> Result<()> {
        match self {
            Destination::Directory(dir) => match std::fs::remove_dir_all(dir) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(disk_error(dir, e)),
            },
            Destination::Bucket(prefix) => prefix.remove_all(),
        }
    }

    /// Streams the object `name` (of `size` bytes).
    pub fn open(&self, name: &str, size: u64) -> Result<Box<dyn Read + Send>> {
        match self {
            Destination::Directory(dir) => {
                let path = dir.join(name);
                let file = std::fs::File::open(&path).map_err(|e| disk_error(&path, e))?;
                Ok(Box::new(std::io::BufReader::with_capacity(1 << 20, file)))
            }
            Destination::Bucket(prefix) => {
                let joined = prefix.join(name);
                let object = RemoteObject {
                    store: prefix.store.clone(),
                    location: object_store::path::Path::from(joined.path.clone()),
                    url: joined.url(),
                    size,
                    retry: prefix.retry,
                };
                let reader = ResumableReader::open(&object, 0, prefix.retry)
                    .map_err(|e| DataFusionError::Execution(format!("{}: {e}", joined.url())))?;
                Ok(Box::new(std::io::BufReader::with_capacity(1 << 20, reader)))
            }
        }
    }
}

fn file_info(meta: &std::fs::Metadata) -> ObjectInfo {
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let nanos = modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    ObjectInfo {
        size: meta.len(),
        modified,
        version: format!("{nanos}-{}", meta.len()),
    }
}

/// What encoders write into: a buffered file, or an upload's buffer.
pub type SinkWriter = Box<dyn Write + Send>;

/// An object being written, invisible until [`PendingObject::commit`];
/// dropped uncommitted, it is removed (a file) or aborted (an upload).
pub enum PendingObject {
    File(InProgressFile),
    Upload(Upload),
}

impl PendingObject {
    /// A writer of the object's bytes (flush it before commit).
    pub fn writer(&self) -> Result<SinkWriter> {
        self.writer_with_capacity(1 << 20)
    }

    /// [`PendingObject::writer`] buffering `capacity` bytes for a file
    /// (many files open at once want small buffers).
    pub fn writer_with_capacity(&self, capacity: usize) -> Result<SinkWriter> {
        Ok(match self {
            PendingObject::File(file) => {
                let clone = file.file.try_clone().map_err(|e| disk_error(&file.path, e))?;
                Box::new(BufWriter::with_capacity(capacity, clone))
            }
            PendingObject::Upload(upload) => Box::new(upload.writer()),
        })
    }

    /// Sends what the writer has gathered, a part at a time: call between
    /// batches, so that memory holds at most a part and a batch.
    pub fn send_ready(&mut self) -> Result<()> {
        match self {
            PendingObject::File(_) => Ok(()),
            PendingObject::Upload(upload) => upload.send_full_parts(),
        }
    }

    /// Makes the object appear, complete; returns its size.
    pub fn commit(self) -> Result<u64> {
        match self {
            PendingObject::File(file) => file.commit(),
            PendingObject::Upload(upload) => upload.commit(),
        }
    }

    /// Its path or URL, for messages.
    pub fn location(&self) -> String {
        match self {
            PendingObject::File(file) => file.path.display().to_string(),
            PendingObject::Upload(upload) => upload.url(),
        }
    }
}

/// Objects this process committed (files and uploads).
static COMMITTED: AtomicU64 = AtomicU64::new(0);

/// Removes (or aborts) everything this process has in progress; returns how
/// many objects it committed and how many it discarded. For an interrupted run.
pub fn discard_all() -> (u64, usize) {
    let discarded = directory::discard_files() + bucket::discard_uploads();
    (COMMITTED.load(Ordering::Relaxed), discarded)
}

/// Lets a new run write to buckets after an interrupted one (uploads are
/// refused from [`discard_all`] on, so none starts while a run stops).
pub fn begin_run() {
    bucket::allow_uploads();
}

/// Waits for the aborts of uploads this process dropped unfinished (a file
/// that failed): call before exiting, so no unfinished upload is left.
pub fn settle() {
    bucket::settle_uploads();
}

/// A local file operation's error: the path, and that it was the disk.
pub(crate) fn disk_error(path: impl AsRef<Path>, e: std::io::Error) -> DataFusionError {
    DataFusionError::Execution(format!("{}: {e}", path.as_ref().display()))
}
