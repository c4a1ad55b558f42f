//! Remote inputs: `s3://`, `gs://`, `az://` and `http(s)://` dumps read
//! straight from where they are, through `object_store`.
//!
//! Credentials come the usual way for each store (`AWS_ACCESS_KEY_ID`,
//! `AWS_REGION`, `AWS_ENDPOINT_URL`, `GOOGLE_APPLICATION_CREDENTIALS`,
//! `AZURE_STORAGE_ACCOUNT_NAME`, ... — the builders' `from_env`).
//!
//! A URL naming a dump file is read as that file; any other bucket URL is a
//! prefix, listed recursively like a local directory. Wikimedia's dump site
//! has no listing API, only HTML index pages, so an `http(s)://` URL ending in
//! `/` is read as such a page: its links to dump files (and `_SUCCESS`) are
//! the directory's contents.
//!
//! Reading is a streaming GET consumed from the reader's blocking thread, so
//! a 600 MB shard is never held in memory or on disk; it survives cut
//! connections and busy servers ([`resumable`]). All requests run on a small
//! runtime of their own ([`io`]).

pub(crate) mod io;
pub mod resumable;

use std::collections::BTreeSet;
use std::fmt;
use std::io::Read;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures::TryStreamExt;
use object_store::multipart::MultipartStore;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use url::Url;

use self::io::wait;
use self::resumable::{NetworkError, ResumableReader, RetryOptions};
use super::StoredFile;

/// Which object names are dump files (decided by discovery, which knows the
/// formats' file names).
pub type IsDumpFile = fn(&str) -> bool;

/// One remote dump file.
#[derive(Clone)]
pub struct RemoteObject {
    pub store: Arc<dyn ObjectStore>,
    pub location: ObjectPath,
    /// The object's URL, for messages and output names.
    pub url: String,
    pub size: u64,
    pub retry: RetryOptions,
}

impl fmt::Debug for RemoteObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteObject")
            .field("url", &self.url)
            .field("size", &self.size)
            .finish()
    }
}

impl PartialEq for RemoteObject {
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url
    }
}

impl Eq for RemoteObject {}

impl StoredFile for RemoteObject {
    fn location(&self) -> &str {
        &self.url
    }

    fn size(&self) -> u64 {
        self.size
    }

    fn open_at(&self, offset: u64) -> std::io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(ResumableReader::open(self, offset, self.retry)?))
    }

    /// Bytes `range`; an error if the server cannot serve ranges (then the
    /// object is read whole, never split).
    fn read_range(&self, range: Range<u64>) -> std::io::Result<Vec<u8>> {
        if range.start >= range.end {
            return Ok(Vec::new());
        }
        let store = self.store.clone();
        let location = self.location.clone();
        let start = range.start;
        wait(async move { store.get_range(&location, range).await.map_err(std::io::Error::other) })
            .map(|bytes| bytes.to_vec())
            .map_err(|e| {
                std::io::Error::other(NetworkError {
                    url: self.url.clone(),
                    offset: start,
                    attempts: 0,
                    cause: format!("GET (byte range): {e}"),
                })
            })
    }

    fn ranges_are_optional(&self) -> bool {
        true
    }
}

/// Whether an `--input` value is a URL rather than a local path.
pub fn is_remote(input: &str) -> bool {
    [
        "s3://", "gs://", "az://", "abfs://", "abfss://", "azure://", "http://", "https://",
    ]
    .iter()
    .any(|scheme| input.starts_with(scheme))
}

/// The dump files behind a remote `--input`, sorted by URL, and the URLs of
/// the `_SUCCESS` markers seen next to them.
pub fn discover_remote(
    input: &str,
    is_dump_file_name: IsDumpFile,
    retry: RetryOptions,
) -> Result<(Vec<RemoteObject>, BTreeSet<String>)> {
    let url = Url::parse(input).with_context(|| format!("input {input:?}: not a valid URL"))?;
    let found = match url.scheme() {
        "http" | "https" => wait(discover_http(url, is_dump_file_name, retry)),
        _ => wait(discover_bucket(url, is_dump_file_name, retry)),
    }
    .with_context(|| format!("input {input}"))?;
    Ok(found)
}

/// A bucket store configured from the environment, the usual way for each
/// store; request retries follow `retry`.
fn bucket_store(url: &Url, retry: RetryOptions) -> Result<Arc<dyn ObjectStore>> {
    Ok(bucket_stores(url, retry)?.0)
}

/// The bucket of `url` (`s3://`, `gs://`, `az://`...) as a store, and the
/// same client's multipart uploads (which output uses, to stream big objects
/// and name each upload so that an abandoned one can be aborted later).
/// Credentials, endpoint and retries as for inputs.
pub(crate) fn bucket_stores(url: &Url, retry: RetryOptions) -> Result<(Arc<dyn ObjectStore>, Arc<dyn MultipartStore>)> {
    let root = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    let retries = retry.request_retries();
    fn both<S: ObjectStore + MultipartStore>(store: S) -> (Arc<dyn ObjectStore>, Arc<dyn MultipartStore>) {
        let store = Arc::new(store);
        (store.clone(), store)
    }
    Ok(match url.scheme() {
        "s3" => both(
            object_store::aws::AmazonS3Builder::from_env()
                .with_url(&root)
                .with_retry(retries)
                .build()?,
        ),
        "gs" => both(
            object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(&root)
                .with_retry(retries)
                .build()?,
        ),
        _ => both(
            object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_url(url.as_str())
                .with_retry(retries)
                .build()?,
        ),
    })
}

async fn discover_bucket(
    url: Url,
    is_dump_file_name: IsDumpFile,
    retry: RetryOptions,
) -> Result<(Vec<RemoteObject>, BTreeSet<String>)> {
    let store = bucket_store(&url, retry)?;
    let root = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    let key = ObjectPath::from_url_path(url.path())?;
    let object_url = |location: &ObjectPath| format!("{root}/{location}");
    if is_dump_file_name(key.filename().unwrap_or_default()) {
        let meta = store.head(&key).await?;
        let mut markers = BTreeSet::new();
        let marker = ObjectPath::from_iter(key.parts().take(key.parts().count() - 1).chain(["_SUCCESS".into()]));
        if store.head(&marker).await.is_ok() {
            markers.insert(object_url(&marker));
        }
        let object = RemoteObject {
            url: object_url(&key),
            location: key,
            size: meta.size,
            store,
            retry,
        };
        return Ok((vec![object], markers));
    }
    let listed: Vec<_> = store.list(Some(&key)).try_collect().await?;
    let mut objects = Vec::new();
    let mut markers = BTreeSet::new();
    for meta in listed {
        let name = meta.location.filename().unwrap_or_default();
        if name == "_SUCCESS" {
            markers.insert(object_url(&meta.location));
        } else if is_dump_file_name(name) {
            objects.push(RemoteObject {
                store: store.clone(),
                url: object_url(&meta.location),
                location: meta.location,
                size: meta.size,
                retry,
            });
        }
    }
    objects.sort_by(|a, b| a.url.cmp(&b.url));
    Ok((objects, markers))
}

async fn discover_http(
    url: Url,
    is_dump_file_name: IsDumpFile,
    retry: RetryOptions,
) -> Result<(Vec<RemoteObject>, BTreeSet<String>)> {
    // The store's base is the directory; objects are named relative to it.
    let (directory, file) = match url.path().rsplit_once('/') {
        Some((_, "")) => (url.clone(), None),
        Some((_, file)) => (url.join(".")?, Some(file.to_string())),
        None => bail!("no path in the URL"),
    };
    // Plain http:// is allowed when the user wrote it (a local mirror). No
    // whole-request timeout (a 600 MB body takes minutes); a stalled body is
    // caught by `--read-timeout` instead.
    let client = object_store::ClientOptions::new()
        .with_allow_http(url.scheme() == "http")
        .with_timeout_disabled()
        .with_connect_timeout(Duration::from_secs(10));
    let store: Arc<dyn ObjectStore> = Arc::new(
        object_store::http::HttpBuilder::new()
            .with_url(directory.as_str())
            .with_client_options(client)
            .with_retry(retry.request_retries())
            .build()?,
    );
    let names = match file {
        Some(file) => vec![file, "_SUCCESS".to_string()],
        None => {
            let page = store.get(&ObjectPath::from("")).await?.bytes().await?;
            links_in_index_page(&String::from_utf8_lossy(&page))
        }
    };
    let mut objects = Vec::new();
    let mut markers = BTreeSet::new();
    for name in names {
        let decoded = percent_decode(&name);
        if decoded == "_SUCCESS" {
            if store.head(&ObjectPath::from("_SUCCESS")).await.is_ok() {
                markers.insert(directory.join(&name)?.to_string());
            }
            continue;
        }
        if !is_dump_file_name(&decoded) {
            continue;
        }
        let location = ObjectPath::from(decoded.as_str());
        let object_url = directory.join(&name)?.to_string();
        let meta = store.head(&location).await.with_context(|| object_url.clone())?;
        objects.push(RemoteObject {
            store: store.clone(),
            url: object_url,
            location,
            size: meta.size,
            retry,
        });
    }
    objects.sort_by(|a, b| a.url.cmp(&b.url));
    Ok((objects, markers))
}

/// The relative links (`href="name"`) of an HTML directory index page, as
/// served by Wikimedia's dump site, Apache, nginx or `python -m http.server`.
pub fn links_in_index_page(html: &str) -> Vec<String> {
    let mut links = BTreeSet::new();
    for piece in html.split("href=").skip(1) {
        let Some(quote) = piece.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        let Some(end) = piece[1..].find(quote) else { continue };
        let link = &piece[1..1 + end];
        // Only entries of this directory: no parents, subdirectories, queries or other hosts.
        if link.is_empty() || link.contains(['/', '?', '#', ':']) {
            continue;
        }
        links.insert(link.to_string());
    }
    links.into_iter().collect()
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_pages_list_their_entries() {
        let apache = r#"<html><body><h1>Index of /other/cirrus_search_index/20261115/index_name=enwiki_content/</h1>
            <a href="../">../</a>
            <a href="_SUCCESS">_SUCCESS</a>  23-Nov-2026 10:00  0
            <a href="enwiki_content-20261115-00000.json.bz2">enwiki_content-20261115-00000.json.bz2</a>
            <a href='enwiki_content-20261115-00001.json.bz2'>x</a>
            <a href="?C=M;O=A">sort</a> <a href="https://example.org/x.json">x</a> <a href="sub/">sub/</a>"#;
        assert_eq!(
            links_in_index_page(apache),
            [
                "_SUCCESS",
                "enwiki_content-20261115-00000.json.bz2",
                "enwiki_content-20261115-00001.json.bz2"
            ]
        );
        assert_eq!(percent_decode("index_name%3Denwiki"), "index_name=enwiki");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert!(is_remote("s3://bucket/x") && is_remote("https://dumps.wikimedia.org/") && !is_remote("/data"));
    }
}
