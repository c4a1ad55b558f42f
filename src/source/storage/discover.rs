//! Discovery: the dump files behind `--input` values, local or remote.
//!
//! An input is a file (taken whatever its name), a directory (searched
//! recursively for `*.json`, `*.json.gz`, `*.json.bz2`; markers such as
//! `_SUCCESS`, checksum lists and `*tokenizer.json` files are ignored), a
//! glob, or a URL (a bucket prefix or an HTML index page is listed like a
//! directory). Each file becomes one [`Split`], the unit of parallelism and
//! of output naming. Which names are dump files, and the `_SUCCESS` rule,
//! are decided here once for every store.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};

use super::local::LocalFile;
use super::remote::resumable::RetryOptions;
use super::remote::{discover_remote, is_remote};
use super::Split;

/// Resolves `--input` values to splits, in a deterministic order. Files of the
/// current layout (in an `index_name=...` directory) must have the directory's
/// `_SUCCESS` marker, which Wikimedia writes last, unless `allow_incomplete`.
pub fn discover_splits(inputs: &[String], allow_incomplete: bool) -> Result<Vec<Split>> {
    discover_splits_with(inputs, allow_incomplete, RetryOptions::default())
}

/// [`discover_splits`], remote files read with the given retry policy.
pub fn discover_splits_with(inputs: &[String], allow_incomplete: bool, retry: RetryOptions) -> Result<Vec<Split>> {
    let mut seen = BTreeSet::new();
    let mut paths = Vec::new();
    let mut splits = Vec::new();
    for input in inputs {
        if is_remote(input) {
            splits.extend(discover_remote_splits(input, allow_incomplete, retry)?);
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
        let file = LocalFile::open(&path).with_context(|| format!("input {}", path.display()))?;
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
        splits.push(Split::whole(Arc::new(file), dump_stem(&path), index_name));
    }
    disambiguate_labels(&mut splits);
    Ok(splits)
}

fn discover_remote_splits(input: &str, allow_incomplete: bool, retry: RetryOptions) -> Result<Vec<Split>> {
    let (objects, markers) = discover_remote(input, is_dump_file_name, retry)?;
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
        splits.push(Split::whole(Arc::new(object), dump_stem(&path), index_name));
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
            let parent = Path::new(s.location())
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
