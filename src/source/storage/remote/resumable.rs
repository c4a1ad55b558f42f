//! Reading a remote object as one uninterrupted byte stream, whatever the
//! network does.
//!
//! A long run reads tens of GB over hours; connections drop, bodies stop
//! mid-way, servers answer 503. Requests are retried by `object_store` (its
//! `RetryConfig`: transient statuses and connection errors, exponential
//! backoff). A body that fails *after* it started — reset, early end, no
//! bytes for `--read-timeout` — is resumed here: the object is requested
//! again from the byte where it stopped (a ranged GET), so the decompressor
//! above never sees the cut. A server that ignores ranges is read again
//! from the start and the bytes already delivered are skipped.
//!
//! Bounded: `--max-retries` failures in a row without a byte of progress,
//! and ten times that in all, end the read with a [`NetworkError`] naming the
//! URL, the byte offset and the attempts — never a "corrupt data" message.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::io::{block, spawn, wait};
use super::RemoteObject;

/// How remote reads ride out faults (`--max-retries`, `--read-timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryOptions {
    /// Failures in a row (requests or bodies) before a read gives up.
    pub max_retries: usize,
    /// A body that delivers no byte for this long has failed.
    pub read_timeout: Duration,
}

impl Default for RetryOptions {
    fn default() -> Self {
        RetryOptions {
            max_retries: 10,
            read_timeout: Duration::from_secs(60),
        }
    }
}

impl RetryOptions {
    /// The same policy for `object_store`'s own request retries.
    pub fn request_retries(&self) -> object_store::RetryConfig {
        object_store::RetryConfig {
            backoff: object_store::BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(15),
                base: 2.0,
            },
            max_retries: self.max_retries,
            retry_timeout: Duration::from_secs(180),
        }
    }
}

/// A read that failed for network reasons after its retries: never
/// reported as corrupt data.
#[derive(Debug)]
pub struct NetworkError {
    pub url: String,
    pub offset: u64,
    /// Requests wikitok made for this read; 0 when only `object_store`'s own
    /// retries were involved (its message then says how many).
    pub attempts: usize,
    pub cause: String,
}

impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "network failure reading {} at byte {}", self.url, self.offset)?;
        match self.attempts {
            0 => {}
            1 => write!(f, " after 1 attempt")?,
            n => write!(f, " after {n} attempts")?,
        }
        write!(f, ": {}", self.cause)
    }
}

impl std::error::Error for NetworkError {}

/// Whether an I/O error (as it reaches a decoder's caller) is a network
/// failure rather than bad data.
pub fn is_network_error(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|inner| inner.is::<NetworkError>())
}

/// A body's chunks, pumped by a task on the I/O runtime into a short queue
/// (which also reads a little ahead of the decompressor).
type Chunks = mpsc::Receiver<Result<Bytes, String>>;

/// A blocking `Read` over a remote object from an offset to its end,
/// resumed across failures.
pub struct ResumableReader {
    object: RemoteObject,
    options: RetryOptions,
    /// The object offset of the next byte handed to the caller.
    position: u64,
    chunks: Option<Chunks>,
    current: Bytes,
    /// Bytes of the current body to drop before `position` (a server that
    /// ignored a range sends the object from its start).
    skip: u64,
    /// Whether the server answered a ranged GET with the whole object.
    ranges_refused: bool,
    failures_in_a_row: usize,
    failures: usize,
    /// GETs sent for this read (not counting `object_store`'s own retries).
    requests: usize,
}

impl ResumableReader {
    /// Starts streaming `object` from byte `offset` (the first request's
    /// errors, after `object_store`'s retries, are returned here).
    pub fn open(object: &RemoteObject, offset: u64, options: RetryOptions) -> io::Result<Self> {
        let mut reader = ResumableReader {
            object: object.clone(),
            options,
            position: offset,
            chunks: None,
            current: Bytes::new(),
            skip: 0,
            ranges_refused: false,
            failures_in_a_row: 0,
            failures: 0,
            requests: 0,
        };
        if offset < object.size {
            reader.start_body()?;
        }
        Ok(reader)
    }

    /// Sends a GET for the bytes from `position` on and starts pumping its body.
    fn start_body(&mut self) -> io::Result<()> {
        let result = match self.get(self.position > 0 && !self.ranges_refused) {
            Err(e) if !self.ranges_refused && e.to_string().contains("non-partial") => {
                tracing::warn!(
                    "{}: the server ignores byte ranges; reading it again from the start to resume at byte {}",
                    self.object.url,
                    self.position
                );
                self.ranges_refused = true;
                self.get(false)
            }
            other => other,
        };
        let result = result.map_err(|e| self.network_error(e.to_string()))?;
        self.skip = if self.position > 0 && self.ranges_refused {
            self.position
        } else {
            0
        };
        let (sender, receiver) = mpsc::channel(8);
        let read_timeout = self.options.read_timeout;
        spawn(async move {
            let mut stream = result.into_stream();
            loop {
                let chunk = match tokio::time::timeout(read_timeout, stream.next()).await {
                    Err(_) => Err(format!("no bytes received for {} s", read_timeout.as_secs_f64())),
                    Ok(None) => break,
                    Ok(Some(chunk)) => chunk.map_err(|e| e.to_string()),
                };
                let failed = chunk.is_err();
                if sender.send(chunk).await.is_err() || failed {
                    break;
                }
            }
        });
        self.chunks = Some(receiver);
        Ok(())
    }

    fn get(&mut self, ranged: bool) -> io::Result<object_store::GetResult> {
        self.requests += 1;
        let store = self.object.store.clone();
        let location = self.object.location.clone();
        let options = object_store::GetOptions {
            range: ranged.then_some(object_store::GetRange::Offset(self.position)),
            ..Default::default()
        };
        wait(async move { store.get_opts(&location, options).await.map_err(io::Error::other) })
    }

    /// Counts a body failure; waits (exponential backoff with jitter) and
    /// resumes, or gives up with a [`NetworkError`].
    fn resume_after(&mut self, cause: String) -> io::Result<()> {
        self.chunks = None;
        self.failures += 1;
        self.failures_in_a_row += 1;
        if self.failures_in_a_row > self.options.max_retries || self.failures > 10 * self.options.max_retries.max(1) {
            return Err(self.network_error(cause));
        }
        let backoff = Duration::from_millis(100).saturating_mul(1 << self.failures_in_a_row.min(8));
        let backoff = backoff.min(Duration::from_secs(15)).mul_f64(0.5 + jitter());
        tracing::warn!(
            "{}: {cause} at byte {}; resuming in {:.1} s (attempt {} of {})",
            self.object.url,
            self.position,
            backoff.as_secs_f64(),
            self.failures_in_a_row + 1,
            self.options.max_retries + 1
        );
        std::thread::sleep(backoff);
        self.start_body()
    }

    fn network_error(&self, cause: String) -> io::Error {
        io::Error::other(NetworkError {
            url: self.object.url.clone(),
            offset: self.position,
            attempts: self.requests,
            cause,
        })
    }
}

impl Read for ResumableReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.position >= self.object.size {
                return Ok(0);
            }
            let Some(chunks) = self.chunks.as_mut() else {
                self.start_body()?;
                continue;
            };
            match block(|| chunks.blocking_recv()) {
                Some(Ok(mut chunk)) => {
                    let dropped = self.skip.min(chunk.len() as u64);
                    self.skip -= dropped;
                    let _ = chunk.split_to(dropped as usize);
                    if !chunk.is_empty() {
                        self.failures_in_a_row = 0;
                    }
                    self.current = chunk;
                }
                Some(Err(cause)) => self.resume_after(cause)?,
                None => self.resume_after(format!(
                    "the response ended early ({} of {} bytes)",
                    self.position, self.object.size
                ))?,
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        self.position += n as u64;
        Ok(n)
    }
}

/// A number in [0, 1) that differs between calls and processes, so pods
/// retrying against one server do not retry in lockstep.
fn jitter() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(
        std::time::SystemTime::now()
            .elapsed()
            .map_or(0, |d| d.as_nanos() as u64),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}
