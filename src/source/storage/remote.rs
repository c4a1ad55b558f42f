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
//! a 600 MB shard is never held in memory or on disk.

use std::collections::BTreeSet;
use std::fmt;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use url::Url;

use super::StoredFile;

/// Which object names are dump files (decided by discovery, which knows the
/// formats' file names).
pub type IsDumpFile<'a> = &'a (dyn Fn(&str) -> bool + Sync);

/// One remote dump file.
#[derive(Clone)]
pub struct RemoteObject {
    pub store: Arc<dyn ObjectStore>,
    pub location: ObjectPath,
    /// The object's URL, for messages and output names.
    pub url: String,
    pub size: u64,
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

    fn open_at(&self, offset: u64) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(RemoteReader::open(self, offset)?))
    }

    fn read_range(&self, range: Range<u64>) -> io::Result<Vec<u8>> {
        if range.start >= range.end {
            return Ok(Vec::new());
        }
        Ok(read_range(self, range)?.to_vec())
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
pub fn discover_remote(input: &str, is_dump_file_name: IsDumpFile) -> Result<(Vec<RemoteObject>, BTreeSet<String>)> {
    let url = Url::parse(input).with_context(|| format!("input {input:?}: not a valid URL"))?;
    let found = match url.scheme() {
        "http" | "https" => block_on(discover_http(&url, is_dump_file_name)),
        _ => block_on(discover_bucket(&url, is_dump_file_name)),
    }
    .with_context(|| format!("input {input}"))?;
    Ok(found)
}

fn bucket_store(url: &Url) -> Result<Arc<dyn ObjectStore>> {
    let root = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    let store: Arc<dyn ObjectStore> = match url.scheme() {
        "s3" => Arc::new(object_store::aws::AmazonS3Builder::from_env().with_url(&root).build()?),
        "gs" => Arc::new(
            object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(&root)
                .build()?,
        ),
        _ => Arc::new(
            object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_url(url.as_str())
                .build()?,
        ),
    };
    Ok(store)
}

async fn discover_bucket(
    url: &Url,
    is_dump_file_name: IsDumpFile<'_>,
) -> Result<(Vec<RemoteObject>, BTreeSet<String>)> {
    let store = bucket_store(url)?;
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
            });
        }
    }
    objects.sort_by(|a, b| a.url.cmp(&b.url));
    Ok((objects, markers))
}

async fn discover_http(url: &Url, is_dump_file_name: IsDumpFile<'_>) -> Result<(Vec<RemoteObject>, BTreeSet<String>)> {
    // The store's base is the directory; objects are named relative to it.
    let (directory, file) = match url.path().rsplit_once('/') {
        Some((_, "")) => (url.clone(), None),
        Some((_, file)) => (url.join(".")?, Some(file.to_string())),
        None => bail!("no path in the URL"),
    };
    // Plain http:// is allowed when the user wrote it (a local mirror).
    let client = object_store::ClientOptions::new().with_allow_http(url.scheme() == "http");
    let store: Arc<dyn ObjectStore> = Arc::new(
        object_store::http::HttpBuilder::new()
            .with_url(directory.as_str())
            .with_client_options(client)
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

/// Runs a future to completion from synchronous code, inside or outside the
/// Tokio runtime.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => tokio::task::block_in_place(|| handle.block_on(future)),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a Tokio runtime")
            .block_on(future),
    }
}

/// Bytes `range` of a remote object; an error if the server cannot serve
/// ranges (then the object is read whole, never split).
fn read_range(object: &RemoteObject, range: Range<u64>) -> io::Result<Bytes> {
    let store = object.store.clone();
    let location = object.location.clone();
    block_on(async move { store.get_range(&location, range).await })
        .map_err(|e| io::Error::other(format!("GET {} (byte range): {e}", object.url)))
}

/// A blocking `Read` over a streaming GET of a remote object.
pub struct RemoteReader {
    stream: BoxStream<'static, object_store::Result<Bytes>>,
    current: Bytes,
    url: String,
}

impl RemoteReader {
    /// Streams the object from byte `offset` to its end (a ranged GET when
    /// `offset > 0`; the stream is dropped, and the request with it, as soon
    /// as the reader has what it needs).
    pub fn open(object: &RemoteObject, offset: u64) -> io::Result<Self> {
        let store = object.store.clone();
        let location = object.location.clone();
        let options = object_store::GetOptions {
            range: (offset > 0).then_some(object_store::GetRange::Offset(offset)),
            ..Default::default()
        };
        let result = block_on(async move { store.get_opts(&location, options).await });
        let stream = result
            .map_err(|e| io::Error::other(format!("GET {}: {e}", object.url)))?
            .into_stream();
        Ok(RemoteReader {
            stream,
            current: Bytes::new(),
            url: object.url.clone(),
        })
    }
}

impl Read for RemoteReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match block_on(self.stream.next()) {
                None => return Ok(0),
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(io::Error::other(format!("reading {}: {e}", self.url))),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
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
