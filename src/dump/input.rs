//! Finding the dump files behind `--input` values.
//!
//! An input is a file (taken whatever its name), a directory (searched
//! recursively for `*.json`, `*.json.gz`, `*.json.bz2`; markers such as
//! `_SUCCESS`, checksum lists and `*tokenizer.json` files are ignored) or a
//! glob. Each file becomes one [`Split`], the unit of parallelism and of output
//! naming.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};

use super::bzip2_blocks::{tail_has_end_of_stream, TAIL_BYTES};
use super::remote::{discover_remote, is_remote, read_range, RemoteObject, RemoteReader};

/// One independently decodable piece of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub path: PathBuf,
    /// Compressed size in bytes.
    pub size: u64,
    /// A stable, unique name for this split, used to name its output file
    /// (e.g. `enwiki_content-20261115-00003`), so that the same input always
    /// writes the same file names.
    pub label: String,
    /// `X` when the file is in a Hive-style `index_name=X` directory.
    pub index_name: Option<String>,
    /// For a piece of a plain `.json` or `.json.bz2` file: the byte range
    /// whose pairs this split owns (those whose action line starts in it — for
    /// bzip2, in the blocks that start in it).
    pub range: Option<ByteRange>,
    /// Set for an `s3://`, `gs://`, `az://` or `http(s)://` input; `path` then holds its URL.
    pub remote: Option<Arc<RemoteObject>>,
}

impl Split {
    /// The file's bytes from `offset` on: a seeked local file, or a (ranged)
    /// streaming GET.
    pub fn open_at(&self, offset: u64) -> io::Result<Box<dyn Read + Send>> {
        match &self.remote {
            Some(object) => Ok(Box::new(RemoteReader::open(object, offset)?)),
            None => {
                let mut file = File::open(&self.path)?;
                file.seek(SeekFrom::Start(offset))?;
                Ok(Box::new(file))
            }
        }
    }

    /// The file's first `n` bytes (fewer if it is shorter).
    pub fn read_head(&self, n: u64) -> io::Result<Vec<u8>> {
        match &self.remote {
            Some(object) if object.size == 0 => Ok(Vec::new()),
            Some(object) => Ok(read_range(object, 0..n.min(object.size))?.to_vec()),
            None => {
                let mut head = Vec::new();
                File::open(&self.path)?.take(n).read_to_end(&mut head)?;
                Ok(head)
            }
        }
    }

    /// The file's last `n` bytes (fewer if it is shorter).
    pub fn read_tail(&self, n: u64) -> io::Result<Vec<u8>> {
        let size = match &self.remote {
            Some(object) => object.size,
            None => std::fs::metadata(&self.path)?.len(),
        };
        let start = size - n.min(size);
        match &self.remote {
            Some(_) if size == 0 => Ok(Vec::new()),
            Some(object) => Ok(read_range(object, start..size)?.to_vec()),
            None => {
                let mut tail = Vec::new();
                self.open_at(start)?.read_to_end(&mut tail)?;
                Ok(tail)
            }
        }
    }
}

/// A half-open byte range of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

/// By default, files smaller than twice this are never divided. Small enough
/// that a 100 MB bzip2 shard (bzip2 decodes at ~4 MB/s of compressed input
/// per core) is shared by many cores; large enough that the per-range
/// overhead (one partly read block or line at each end) stays negligible.
pub const DEFAULT_MIN_SPLIT_BYTES: u64 = 4 << 20;

/// Divides plain and bzip2 files into byte ranges when there are fewer files
/// than `target_partitions`, so one big shard still keeps every core busy.
/// gzip files stay whole: a gzip stream can only be decoded from its start.
pub fn split_large_files(splits: Vec<Split>, target_partitions: usize, min_split_bytes: u64) -> Vec<Split> {
    if splits.len() >= target_partitions {
        return splits;
    }
    let per_file = target_partitions.div_ceil(splits.len().max(1)) as u64;
    let mut out = Vec::new();
    for split in splits {
        let pieces = per_file.min(split.size / min_split_bytes.max(1)).max(1);
        if pieces == 1 || split.range.is_some() || !is_splittable(&split) {
            out.push(split);
            continue;
        }
        for i in 0..pieces {
            out.push(Split {
                label: format!("{}.r{i:03}-of-{pieces:03}", split.label),
                range: Some(ByteRange {
                    start: split.size * i / pieces,
                    end: split.size * (i + 1) / pieces,
                }),
                size: split.size / pieces,
                ..split.clone()
            });
        }
    }
    out
}

/// Refuses bzip2 files that do not end with an end-of-stream marker — a
/// download cut short — before anything is read, so no output of theirs is
/// committed. (Each file is checked once, however many ranges it has; a
/// remote server that cannot serve byte ranges skips the check.)
pub fn check_bzip2_files_are_whole(splits: &[Split]) -> Result<()> {
    let mut checked = BTreeSet::new();
    for split in splits {
        if !checked.insert(&split.path) || !split.read_head(3).is_ok_and(|head| head == b"BZh") {
            continue;
        }
        let tail = match split.read_tail(TAIL_BYTES) {
            Ok(tail) => tail,
            Err(e) if split.remote.is_some() => {
                tracing::debug!("{}: end-of-stream check skipped: {e}", split.path.display());
                continue;
            }
            Err(e) => return Err(e).with_context(|| format!("input {}", split.path.display())),
        };
        if !tail_has_end_of_stream(&tail) {
            bail!(
                "{}: bzip2 data is truncated or corrupt: the file ends at byte {} without a bzip2 end-of-stream \
                 marker (an interrupted download?); nothing of it was read",
                split.path.display(),
                split.size
            );
        }
    }
    Ok(())
}

/// Plain text and bzip2 can be read from an offset; gzip cannot. (A remote
/// server that cannot serve byte ranges makes a file unsplittable too.)
fn is_splittable(split: &Split) -> bool {
    split
        .read_head(3)
        .is_ok_and(|head| head.len() == 3 && head[..2] != [0x1f, 0x8b])
}

/// Resolves `--input` values to splits, in a deterministic order. Files of the
/// current layout (in an `index_name=...` directory) must have the directory's
/// `_SUCCESS` marker, which Wikimedia writes last, unless `allow_incomplete`.
pub fn discover_splits(inputs: &[String], allow_incomplete: bool) -> Result<Vec<Split>> {
    let mut seen = BTreeSet::new();
    let mut paths = Vec::new();
    let mut splits = Vec::new();
    for input in inputs {
        if is_remote(input) {
            splits.extend(discover_remote_splits(input, allow_incomplete)?);
            continue;
        }
        let found = expand_input(input)?;
        if found.is_empty() {
            bail!("input {input:?}: no dump files found (looked for *.json, *.json.gz, *.json.bz2)");
        }
        for path in found {
            let key = path.canonicalize().unwrap_or_else(|_| path.clone());
            if seen.insert(key) {
                paths.push(path);
            }
        }
    }
    for path in paths {
        let size = std::fs::metadata(&path)
            .with_context(|| format!("input {}", path.display()))?
            .len();
        let index_name = hive_index_name(&path);
        if index_name.is_some() && !allow_incomplete {
            let dir = path.parent().unwrap_or(Path::new("."));
            if !dir.join("_SUCCESS").exists() {
                bail!(
                    "{}: incomplete dump: the directory has no _SUCCESS marker (Wikimedia writes it after the \
                     last shard); wait for it, or pass --allow-incomplete to read what is there",
                    dir.display()
                );
            }
        }
        splits.push(Split {
            label: dump_stem(&path),
            path,
            size,
            index_name,
            range: None,
            remote: None,
        });
    }
    disambiguate_labels(&mut splits);
    Ok(splits)
}

fn discover_remote_splits(input: &str, allow_incomplete: bool) -> Result<Vec<Split>> {
    let (objects, markers) = discover_remote(input)?;
    if objects.is_empty() {
        bail!("input {input:?}: no dump files found (looked for *.json, *.json.gz, *.json.bz2)");
    }
    let mut splits = Vec::new();
    for object in objects {
        let path = PathBuf::from(&object.url);
        let index_name = hive_index_name(&path);
        if index_name.is_some() && !allow_incomplete {
            let directory = object.url.rsplit_once('/').map_or("", |(dir, _)| dir);
            if !markers.contains(&format!("{directory}/_SUCCESS")) {
                bail!(
                    "{directory}: incomplete dump: the directory has no _SUCCESS marker (Wikimedia writes it after \
                     the last shard); wait for it, or pass --allow-incomplete to read what is there"
                );
            }
        }
        splits.push(Split {
            label: dump_stem(&path),
            size: object.size,
            path,
            index_name,
            range: None,
            remote: Some(Arc::new(object)),
        });
    }
    Ok(splits)
}

/// `X` from a parent directory named `index_name=X`.
fn hive_index_name(path: &Path) -> Option<String> {
    let parent = path.parent()?.file_name()?.to_string_lossy().into_owned();
    parent.strip_prefix("index_name=").map(str::to_string)
}

fn expand_input(input: &str) -> Result<Vec<PathBuf>> {
    if input.contains(['*', '?', '[']) {
        let mut found = Vec::new();
        for entry in glob::glob(input).with_context(|| format!("input {input:?}: bad glob pattern"))? {
            let path = entry.with_context(|| format!("input {input:?}"))?;
            if path.is_dir() {
                walk_dir(&path, &mut found)?;
            } else {
                found.push(path);
            }
        }
        found.sort();
        return Ok(found);
    }
    let path = PathBuf::from(input);
    let meta = std::fs::metadata(&path).with_context(|| format!("input {input:?}"))?;
    if meta.is_dir() {
        let mut found = Vec::new();
        walk_dir(&path, &mut found)?;
        found.sort();
        Ok(found)
    } else {
        Ok(vec![path])
    }
}

fn walk_dir(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading directory {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading directory {}", dir.display()))?;
        let path = entry.path();
        let file_type = entry.file_type()?;
        if file_type.is_dir() || (file_type.is_symlink() && path.is_dir()) {
            walk_dir(&path, found)?;
        } else if is_dump_file_name(&entry.file_name().to_string_lossy()) {
            found.push(path);
        }
    }
    Ok(())
}

/// Whether a directory entry looks like a dump file.
pub fn is_dump_file_name(name: &str) -> bool {
    let dump_like = [".json", ".json.gz", ".json.bz2"].iter().any(|ext| name.ends_with(ext));
    let hidden = name.starts_with('.') || name.starts_with('_');
    dump_like && !hidden && !name.ends_with("tokenizer.json")
}

/// The file name without `.json[.gz|.bz2]`.
fn dump_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for ext in [".json.bz2", ".json.gz", ".json", ".bz2", ".gz"] {
        if let Some(stem) = name.strip_suffix(ext) {
            return stem.to_string();
        }
    }
    name
}

/// Two inputs with the same file name (in different directories) get their
/// parent directory's name prepended, so output names never collide.
fn disambiguate_labels(splits: &mut [Split]) {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for s in splits.iter() {
        *counts.entry(s.label.clone()).or_default() += 1;
    }
    for (i, s) in splits.iter_mut().enumerate() {
        if counts[&s.label] > 1 {
            let parent = s
                .path
                .parent()
                .and_then(|p| p.file_name())
                .map(|p| p.to_string_lossy().replace(['=', ' '], "_"))
                .unwrap_or_default();
            s.label = format!("{parent}.{}.{i}", s.label);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_names() {
        assert!(is_dump_file_name("enwiki_content-20261115-00000.json.bz2"));
        assert!(is_dump_file_name("enwiki-20171001-cirrussearch-content.json.gz"));
        assert!(is_dump_file_name("x.json"));
        assert!(!is_dump_file_name("_SUCCESS"));
        assert!(!is_dump_file_name("SHA256SUMS"));
        assert!(!is_dump_file_name("cl100k_base.tokenizer.json"));
        assert_eq!(
            dump_stem(Path::new("a/enwiki_content-20261115-00000.json.bz2")),
            "enwiki_content-20261115-00000"
        );
    }

    #[test]
    fn directories_are_searched_recursively_and_markers_ignored() {
        let dir = std::env::temp_dir().join(format!("wikitok-input-{}", std::process::id()));
        let nested = dir.join("index_name=enwiki_content");
        std::fs::create_dir_all(&nested).unwrap();
        for name in ["b.json.bz2", "a.json.gz", "notes.txt"] {
            std::fs::write(nested.join(name), b"x").unwrap();
        }
        std::fs::write(dir.join("c.json"), b"x").unwrap();
        std::fs::write(nested.join("_SUCCESS"), b"").unwrap();
        let splits = discover_splits(&[dir.to_string_lossy().into_owned()], false).unwrap();
        let labels: Vec<_> = splits.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["c", "a", "b"]);
        assert_eq!(splits[1].index_name.as_deref(), Some("enwiki_content"));
        std::fs::remove_file(nested.join("_SUCCESS")).unwrap();
        let incomplete = discover_splits(&[dir.to_string_lossy().into_owned()], false).unwrap_err();
        assert!(format!("{incomplete:#}").contains("_SUCCESS"), "{incomplete:#}");
        assert_eq!(
            discover_splits(&[dir.to_string_lossy().into_owned()], true)
                .unwrap()
                .len(),
            3
        );
        let missing = discover_splits(&[dir.join("nope").to_string_lossy().into_owned()], false);
        assert!(format!("{:#}", missing.unwrap_err()).contains("nope"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
