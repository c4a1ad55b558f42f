//! A prefix in a bucket (`s3://`, `gs://`, `az://`) as a destination.
//!
//! An object appears only complete: a small one is one PUT, a big one a
//! multipart upload completed at commit and aborted on failure, on drop and
//! on SIGTERM/Ctrl-C ([`discard_uploads`]). The bytes stream out as they are
//! encoded, a part at a time ([`PART_BYTES`], 8 MiB), so memory is bounded by the
//! part size and never holds a whole file.
//!
//! A process killed with SIGKILL cannot abort its uploads, and a bucket
//! keeps (and bills) the parts of an unfinished upload forever. So each
//! upload is announced by a small marker beside its object,
//! `.NAME.HOST-PID.upload`, holding the upload id; the next run writing to
//! the prefix aborts the uploads of writers that are gone
//! ([`super::owner`]) and logs the others. A writer killed in the one
//! request between starting an upload and writing its marker leaves an
//! upload no one can name (`MultipartStore` cannot list uploads): that is
//! left to the bucket's lifecycle rule. Readers never list the parts of
//! an unfinished upload, and tools that read a dataset directory skip names
//! starting with `.`.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use datafusion::common::{DataFusionError, Result};
use futures::TryStreamExt;
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use tokio::task::JoinHandle;

use super::owner::{is_abandoned, owner};
use super::{Listing, ObjectInfo};
use crate::source::storage::remote::io;

/// The size of every part but the last: S3 and GCS need at least 5 MiB,
/// and some S3-compatible stores (R2) equal sizes.
pub const PART_BYTES: usize = 8 << 20;

/// The part size: [`PART_BYTES`], or `WIKITOK_UPLOAD_PART_SIZE` bytes (for
/// stores with other limits, and for tests that make small files go up in
/// several parts).
fn part_bytes() -> usize {
    static SIZE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *SIZE.get_or_init(|| {
        std::env::var("WIKITOK_UPLOAD_PART_SIZE")
            .ok()
            .and_then(|size| crate::runtime::parse_size(&size).ok())
            .and_then(|size| usize::try_from(size).ok())
            .map_or(PART_BYTES, |size| size.max(1024))
    })
}

const UPLOAD_SUFFIX: &str = ".upload";

/// A bucket and a prefix in it.
#[derive(Clone)]
pub struct Prefix {
    pub store: Arc<dyn ObjectStore>,
    pub multipart: Arc<dyn MultipartStore>,
    /// `s3://bucket`, for messages.
    pub root: String,
    /// The prefix inside the bucket (no leading or trailing `/`).
    pub path: String,
    /// How streamed reads ride out faults (`--max-retries`, `--read-timeout`).
    pub retry: crate::source::storage::RetryOptions,
}

impl std::fmt::Debug for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.url())
    }
}

/// An error of a request about `url`: the URL, what was asked, the cause.
fn request_error(url: &str, what: &str, e: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!("{url}: {what} failed (network or storage service): {e}"))
}

impl Prefix {
    pub fn url(&self) -> String {
        if self.path.is_empty() {
            self.root.clone()
        } else {
            format!("{}/{}", self.root, self.path)
        }
    }

    pub fn join(&self, name: &str) -> Prefix {
        let name = name.trim_matches('/');
        let path = match (self.path.is_empty(), name.is_empty()) {
            (_, true) => self.path.clone(),
            (true, false) => name.to_string(),
            (false, false) => format!("{}/{name}", self.path),
        };
        Prefix { path, ..self.clone() }
    }

    fn object(&self, name: &str) -> ObjectPath {
        ObjectPath::from(self.join(name).path)
    }

    fn url_of(&self, name: &str) -> String {
        self.join(name).url()
    }

    pub fn put(&self, name: &str, bytes: Vec<u8>, mode: PutMode) -> Result<bool> {
        let (store, object, url) = (self.store.clone(), self.object(name), self.url_of(name));
        let outcome = io::wait(async move {
            let options = PutOptions {
                mode,
                ..PutOptions::default()
            };
            match store.put_opts(&object, PutPayload::from(bytes), options).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => Ok(false),
                Err(e) => Err(std::io::Error::other(e.to_string())),
            }
        });
        outcome.map_err(|e| request_error(&url, "PUT", e))
    }

    pub fn get(&self, name: &str) -> Result<Option<Bytes>> {
        let (store, object, url) = (self.store.clone(), self.object(name), self.url_of(name));
        let outcome = io::wait(async move {
            match store.get(&object).await {
                Ok(found) => found
                    .bytes()
                    .await
                    .map(Some)
                    .map_err(|e| std::io::Error::other(e.to_string())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(std::io::Error::other(e.to_string())),
            }
        });
        outcome.map_err(|e| request_error(&url, "GET", e))
    }

    pub fn get_range(&self, name: &str, range: Range<u64>) -> Result<Bytes> {
        let (store, object, url) = (self.store.clone(), self.object(name), self.url_of(name));
        let outcome = io::wait(async move {
            store
                .get_range(&object, range)
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))
        });
        outcome.map_err(|e| request_error(&url, "GET (byte range)", e))
    }

    pub fn head(&self, name: &str) -> Result<Option<ObjectInfo>> {
        let (store, object, url) = (self.store.clone(), self.object(name), self.url_of(name));
        let outcome = io::wait(async move {
            match store.head(&object).await {
                Ok(meta) => Ok(Some(info(&meta))),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(std::io::Error::other(e.to_string())),
            }
        });
        outcome.map_err(|e| request_error(&url, "HEAD", e))
    }

    /// What is directly under the prefix (one LIST, paged by the store).
    pub fn listing(&self) -> Result<Listing> {
        let (store, prefix, url) = (self.store.clone(), ObjectPath::from(self.path.clone()), self.url());
        let outcome = io::wait(async move {
            let listed = store
                .list_with_delimiter(Some(&prefix))
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            Ok::<_, std::io::Error>(Listing {
                files: listed
                    .objects
                    .iter()
                    .filter_map(|meta| Some((meta.location.filename()?.to_string(), info(meta))))
                    .collect(),
                dirs: listed
                    .common_prefixes
                    .iter()
                    .filter_map(|path| Some(path.filename()?.to_string()))
                    .collect(),
            })
        });
        outcome.map_err(|e| request_error(&url, "LIST", e))
    }

    pub fn remove(&self, name: &str) -> Result<()> {
        let (store, object, url) = (self.store.clone(), self.object(name), self.url_of(name));
        let outcome = io::wait(async move {
            match store.delete(&object).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(std::io::Error::other(e.to_string())),
            }
        });
        outcome.map_err(|e| request_error(&url, "DELETE", e))
    }

    /// Removes every object under the prefix, at any depth — first
    /// aborting the uploads its markers name (a killed writer's), so that
    /// removing a marker never leaves an upload nobody can find.
    pub fn remove_all(&self) -> Result<()> {
        let (store, prefix, url) = (self.store.clone(), ObjectPath::from(self.path.clone()), self.url());
        let multipart = self.multipart.clone();
        let outcome = io::wait(async move {
            let objects: Vec<ObjectMeta> = store
                .list(Some(&prefix))
                .try_collect()
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            for meta in &objects {
                let Some(name) = meta
                    .location
                    .filename()
                    .filter(|n| n.starts_with('.') && n.ends_with(UPLOAD_SUFFIX))
                else {
                    continue;
                };
                let target =
                    ObjectPath::from_iter(meta.location.parts().take(meta.location.parts().count() - 1).chain(
                        std::iter::once(object_store::path::PathPart::from(upload_target(name).as_str())),
                    ));
                let id = store
                    .get(&meta.location)
                    .await
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                let id = id.bytes().await.map_err(|e| std::io::Error::other(e.to_string()))?;
                let id = String::from_utf8_lossy(&id).trim().to_string();
                match multipart.abort_multipart(&target, &id).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(std::io::Error::other(format!("aborting an upload to {target}: {e}"))),
                }
            }
            for meta in objects {
                match store.delete(&meta.location).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(std::io::Error::other(e.to_string())),
                }
            }
            Ok(())
        });
        outcome.map_err(|e| request_error(&url, "DELETE", e))
    }

    /// Aborts the uploads that writers now gone left under the prefix, and
    /// says which uploads of live writers are in progress.
    pub fn remove_leftovers(&self) -> Result<()> {
        let mut others = Vec::new();
        for (name, info) in self.listing()?.files {
            if !name.starts_with('.') || !name.ends_with(UPLOAD_SUFFIX) {
                continue;
            }
            if !is_abandoned(&name, UPLOAD_SUFFIX, Some(info.modified)) {
                others.push(name);
                continue;
            }
            let Some(id) = self.get(&name)? else { continue };
            let id = String::from_utf8_lossy(&id).trim().to_string();
            let object_name = upload_target(&name);
            let (multipart, object, url) = (self.multipart.clone(), self.object(&object_name), self.url_of(&name));
            let aborted = io::wait(async move {
                match multipart.abort_multipart(&object, &id).await {
                    // Already completed or aborted: nothing left to free.
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(std::io::Error::other(e.to_string())),
                }
            });
            aborted.map_err(|e| request_error(&url, "aborting an abandoned upload", e))?;
            self.remove(&name)?;
            tracing::info!(upload = %self.url_of(&object_name), "aborted an upload left unfinished by an earlier run");
        }
        if !others.is_empty() {
            tracing::info!(
                "{}: {} uploads of other live writers in progress ({}); aborted by a later run if left for an hour",
                self.url(),
                others.len(),
                others.join(", ")
            );
        }
        Ok(())
    }

    /// Starts writing `name`: nothing is visible under it until commit.
    pub fn create(&self, name: &str) -> Upload {
        Upload {
            prefix: self.clone(),
            name: name.to_string(),
            buffer: Arc::new(Mutex::new(Vec::new())),
            started: None,
            sent: 0,
            key: NEXT_KEY.fetch_add(1, Ordering::Relaxed),
            done: false,
        }
    }
}

impl Prefix {
    /// Uploads the local file `path` as `name`, a part at a time; returns
    /// its size.
    pub fn put_file(&self, name: &str, path: &std::path::Path) -> Result<u64> {
        use std::io::Read;
        let disk = |e: std::io::Error| super::disk_error(path, e);
        let mut file = std::fs::File::open(path).map_err(disk)?;
        let mut upload = self.create(name);
        let mut chunk = vec![0u8; 1 << 20];
        loop {
            let read = file.read(&mut chunk).map_err(disk)?;
            if read == 0 {
                break;
            }
            upload
                .buffer
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(&chunk[..read]);
            upload.send_full_parts()?;
        }
        upload.commit()
    }
}

fn info(meta: &object_store::ObjectMeta) -> ObjectInfo {
    ObjectInfo {
        size: meta.size,
        modified: SystemTime::from(meta.last_modified),
        version: meta
            .e_tag
            .clone()
            .unwrap_or_else(|| meta.last_modified.timestamp_nanos_opt().unwrap_or_default().to_string()),
    }
}

use object_store::ObjectMeta;

/// `NAME` from its upload marker `.NAME.HOST-PID.upload`.
fn upload_target(marker: &str) -> String {
    let tagged = marker.strip_suffix(UPLOAD_SUFFIX).unwrap_or(marker);
    let name = tagged.rsplit_once('.').map_or(tagged, |(name, _)| name);
    name.strip_prefix('.').unwrap_or(name).to_string()
}

/// Uploads of this process not yet completed, for [`discard_uploads`].
static OPEN: Mutex<BTreeMap<u64, OpenUpload>> = Mutex::new(BTreeMap::new());
static NEXT_KEY: AtomicU64 = AtomicU64::new(0);

struct OpenUpload {
    prefix: Prefix,
    object: ObjectPath,
    id: String,
    marker: String,
}

fn lock_open() -> MutexGuard<'static, BTreeMap<u64, OpenUpload>> {
    OPEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl OpenUpload {
    /// Aborts the upload; its marker goes only once the abort is certain,
    /// so a failed abort is retried by a later run.
    async fn abort(self) {
        match self.prefix.multipart.abort_multipart(&self.object, &self.id).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {
                let _ = self.prefix.store.delete(&self.prefix.object(&self.marker)).await;
            }
            Err(e) => tracing::warn!(
                upload = %self.prefix.url_of(&self.marker),
                "could not abort an unfinished upload ({e}); the next run writing here aborts it"
            ),
        }
    }
}

/// Aborts started for uploads dropped unfinished (a failed file), which
/// [`settle_uploads`] waits for before the process exits.
static ABORTING: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());
/// Set once the run is interrupted: no upload starts any more.
static DISCARDING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Aborts every upload of this process (an interrupted run) and refuses new
/// ones, waiting at most a few seconds; returns how many there were.
pub fn discard_uploads() -> usize {
    DISCARDING.store(true, Ordering::SeqCst);
    let open = std::mem::take(&mut *lock_open());
    let count = open.len();
    for upload in open.into_values() {
        abort_later(upload);
    }
    settle_uploads();
    count
}

/// Lets uploads start again (a new run in a process whose earlier run was
/// interrupted: the Python module).
pub fn allow_uploads() {
    DISCARDING.store(false, Ordering::SeqCst);
}

fn abort_later(upload: OpenUpload) {
    let handle = io::start(upload.abort());
    ABORTING.lock().unwrap_or_else(|p| p.into_inner()).push(handle);
}

/// Waits (at most 10 s) for the aborts of uploads dropped unfinished: call
/// before the process exits, whatever the outcome, so none is left behind.
pub fn settle_uploads() {
    let pending = std::mem::take(&mut *ABORTING.lock().unwrap_or_else(|p| p.into_inner()));
    if pending.is_empty() {
        return;
    }
    let all = futures::future::join_all(pending);
    let _ = io::wait(async move {
        tokio::time::timeout(Duration::from_secs(10), all)
            .await
            .map_err(std::io::Error::other)
    });
}

/// A multipart upload under way.
struct Started {
    id: String,
    marker: String,
    parts: Vec<PartId>,
    /// The part being sent while the next is encoded.
    in_flight: Option<JoinHandle<std::io::Result<PartId>>>,
}

/// An object being written: bytes gather in `buffer` (shared with the
/// encoder's [`SharedBuffer`]) and leave it a part at a time.
pub struct Upload {
    prefix: Prefix,
    name: String,
    buffer: Arc<Mutex<Vec<u8>>>,
    started: Option<Started>,
    /// Bytes handed to the store so far.
    sent: u64,
    key: u64,
    done: bool,
}

/// The encoder's end of an [`Upload`]: writes append to its buffer.
pub struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Upload {
    pub fn url(&self) -> String {
        self.prefix.url_of(&self.name)
    }

    pub fn writer(&self) -> SharedBuffer {
        SharedBuffer(self.buffer.clone())
    }

    fn take(&self, at_most: usize) -> Vec<u8> {
        let mut buffer = self.buffer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buffer.len() <= at_most {
            return std::mem::take(&mut *buffer);
        }
        let rest = buffer.split_off(at_most);
        std::mem::replace(&mut *buffer, rest)
    }

    fn buffered(&self) -> usize {
        self.buffer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    /// Sends every complete part in the buffer (one in flight at a time).
    pub fn send_full_parts(&mut self) -> Result<()> {
        let part_bytes = part_bytes();
        while self.buffered() >= part_bytes {
            let part = self.take(part_bytes);
            self.send_part(part)?;
        }
        Ok(())
    }

    /// An error once the run is being interrupted: its uploads are being
    /// aborted, and nothing may start, go on or reappear behind them.
    fn check_not_discarding(&self) -> Result<()> {
        if DISCARDING.load(Ordering::SeqCst) {
            return Err(DataFusionError::Execution(format!(
                "{}: not written, the run is being interrupted",
                self.url()
            )));
        }
        Ok(())
    }

    fn start(&mut self) -> Result<&mut Started> {
        if self.started.is_none() {
            self.check_not_discarding()?;
            let (multipart, object) = (self.prefix.multipart.clone(), self.prefix.object(&self.name));
            let id = io::wait(async move {
                multipart
                    .create_multipart(&object)
                    .await
                    .map_err(|e| std::io::Error::other(e.to_string()))
            })
            .map_err(|e| request_error(&self.url(), "starting a multipart upload", e))?;
            let marker = format!(".{}.{}{UPLOAD_SUFFIX}", self.name, owner());
            lock_open().insert(
                self.key,
                OpenUpload {
                    prefix: self.prefix.clone(),
                    object: self.prefix.object(&self.name),
                    id: id.clone(),
                    marker: marker.clone(),
                },
            );
            // Started before its marker is written: if that fails, the
            // upload is aborted as this one is dropped.
            self.started = Some(Started {
                id: id.clone(),
                marker: marker.clone(),
                parts: Vec::new(),
                in_flight: None,
            });
            self.prefix.put(&marker, id.into_bytes(), PutMode::Overwrite)?;
        }
        Ok(self.started.as_mut().expect("started above"))
    }

    fn send_part(&mut self, part: Vec<u8>) -> Result<()> {
        let url = self.url();
        self.sent += part.len() as u64;
        let (multipart, object) = (self.prefix.multipart.clone(), self.prefix.object(&self.name));
        self.check_not_discarding()?;
        let newly = self.started.is_none();
        let started = self.start()?;
        if !newly {
            // The marker's time says the upload is alive: a long upload
            // (over an hour) is never aborted by another run as abandoned.
            let (marker, id) = (started.marker.clone(), started.id.clone());
            self.prefix.put(&marker, id.into_bytes(), PutMode::Overwrite)?;
            if DISCARDING.load(Ordering::SeqCst) {
                // Interrupted meanwhile: its abort may have removed the
                // marker before this rewrite; nothing may stay behind.
                let _ = self.prefix.remove(&marker);
                self.check_not_discarding()?;
            }
        }
        let started = self.started.as_mut().expect("started above");
        if let Some(previous) = started.in_flight.take() {
            let id = io::join(previous).map_err(|e| request_error(&url, "uploading a part", e))?;
            started.parts.push(id);
        }
        let (id, index) = (started.id.clone(), started.parts.len());
        started.in_flight = Some(io::start(async move {
            multipart
                .put_part(&object, &id, index, PutPayload::from(part))
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))
        }));
        Ok(())
    }

    /// Sends what is left and makes the object appear; returns its size.
    pub fn commit(mut self) -> Result<u64> {
        self.check_not_discarding()?;
        // An encoder that writes at its end (a Parquet row group, Megatron's
        // index) leaves more than a part: it goes up in parts too.
        self.send_full_parts()?;
        let rest = self.take(usize::MAX);
        if self.started.is_none() {
            self.sent = rest.len() as u64;
            self.prefix.put(&self.name, rest, PutMode::Overwrite)?;
            self.done = true;
            super::COMMITTED.fetch_add(1, Ordering::Relaxed);
            return Ok(self.sent);
        }
        if !rest.is_empty() {
            self.send_part(rest)?;
        }
        let url = self.url();
        let mut started = self.started.take().expect("a started upload");
        if let Some(last) = started.in_flight.take() {
            started
                .parts
                .push(io::join(last).map_err(|e| request_error(&url, "uploading a part", e))?);
        }
        let (multipart, object, id, parts) = (
            self.prefix.multipart.clone(),
            self.prefix.object(&self.name),
            started.id.clone(),
            std::mem::take(&mut started.parts),
        );
        let completed = io::wait(async move {
            multipart
                .complete_multipart(&object, &id, parts)
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))
        });
        // Failed, the upload is aborted as `started` is put back and dropped.
        if let Err(e) = completed {
            self.started = Some(started);
            return Err(request_error(&url, "completing a multipart upload", e));
        }
        lock_open().remove(&self.key);
        self.done = true;
        super::COMMITTED.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.prefix.remove(&started.marker) {
            // The object is complete; a later run removes the marker (its
            // abort of a completed upload finds nothing).
            tracing::warn!("{e}");
        }
        Ok(self.sent)
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(started) = self.started.take() {
            if let Some(in_flight) = started.in_flight {
                in_flight.abort();
            }
            if let Some(open) = lock_open().remove(&self.key) {
                abort_later(open);
            }
        }
    }
}
