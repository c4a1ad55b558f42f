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
            bail!("input {input:?}: no dump files found (looked for {DUMP_NAMES})");
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
        bail!("input {input:?}: no dump files found (looked for {DUMP_NAMES})");
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

/// What `--input` directories are searched for, for messages (and the
/// command line's help, which a test holds to it).
pub const DUMP_NAMES: &str = "*.json, *.json.gz, *.json.bz2, *.xml, *.xml.gz, *.xml.bz2, *.xml-p*p*.bz2";

/// Whether a directory entry looks like a dump file (of either family, or a
/// `.7z` one, which is refused with a reason rather than ignored).
pub fn is_dump_file_name(name: &str) -> bool {
    let dump_like = family_from_name(name).is_some() || name.ends_with(".xml.7z");
    let hidden = name.starts_with('.') || name.starts_with('_');
    dump_like && !hidden && !name.ends_with("tokenizer.json")
}

/// The two dump families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpFamily {
    CirrusSearch,
    MediaWikiXml,
}

impl DumpFamily {
    pub fn describe(self) -> &'static str {
        match self {
            DumpFamily::CirrusSearch => "CirrusSearch JSON",
            DumpFamily::MediaWikiXml => "MediaWiki XML",
        }
    }

    /// A stable snake_case name (split descriptors carry it).
    pub fn name(self) -> &'static str {
        match self {
            DumpFamily::CirrusSearch => "cirrussearch",
            DumpFamily::MediaWikiXml => "mediawiki_xml",
        }
    }

    /// The family [`DumpFamily::name`] names.
    pub fn from_name(name: &str) -> Option<DumpFamily> {
        [DumpFamily::CirrusSearch, DumpFamily::MediaWikiXml]
            .into_iter()
            .find(|family| family.name() == name)
    }
}

/// The family a file name says, if it says one: `*.json[.gz|.bz2]` is
/// CirrusSearch; `*.xml[.gz|.bz2]` and Wikimedia's per-range
/// `*.xml-p1p41242.bz2` are XML.
pub fn family_from_name(name: &str) -> Option<DumpFamily> {
    let name = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let base = name
        .strip_suffix(".bz2")
        .or_else(|| name.strip_suffix(".gz"))
        .unwrap_or(name);
    if base.ends_with(".json") {
        return Some(DumpFamily::CirrusSearch);
    }
    if base.ends_with(".xml") || is_per_range_xml(base) {
        return Some(DumpFamily::MediaWikiXml);
    }
    None
}

/// `...pages-articles1.xml-p1p41242`: `.xml-p<first>p<last>`.
fn is_per_range_xml(base: &str) -> bool {
    let Some((_, range)) = base.rsplit_once(".xml-p") else {
        return false;
    };
    let mut parts = range.split('p');
    let first = parts.next().unwrap_or_default();
    let last = parts.next().unwrap_or_default();
    let digits = last.bytes().take_while(u8::is_ascii_digit).count();
    // Gensim's test files add a suffix: `...xml-p10p30302-shortened`.
    let rest_ok = parts.next().is_none() && (digits == last.len() || last[digits..].starts_with('-'));
    !first.is_empty() && first.bytes().all(|b| b.is_ascii_digit()) && digits > 0 && rest_ok
}

/// The file name without `.json[.gz|.bz2]` or `.xml[.gz|.bz2]`; a per-range
/// XML file keeps its range (`...articles1.xml-p1p41242.bz2` →
/// `...articles1-p1p41242`).
fn dump_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().replace(".xml-p", "-p"))
        .unwrap_or_default();
    for ext in [
        ".json.bz2",
        ".json.gz",
        ".json",
        ".xml.bz2",
        ".xml.gz",
        ".xml.7z",
        ".xml",
        ".bz2",
        ".gz",
    ] {
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
    fn families_from_names() {
        for name in [
            "enwiki-20261101-pages-articles-multistream.xml.bz2",
            "enwiki-20261101-pages-articles1.xml-p1p41242.bz2",
            "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
            "x.xml",
            "dir/x.xml.gz",
        ] {
            assert_eq!(family_from_name(name), Some(DumpFamily::MediaWikiXml), "{name}");
        }
        assert_eq!(
            family_from_name("enwiki_content-20261115-00000.json.bz2"),
            Some(DumpFamily::CirrusSearch)
        );
        assert_eq!(
            family_from_name("enwiki-20261101-pages-articles-multistream-index.txt.bz2"),
            None
        );
    }

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
        assert!(is_dump_file_name("enwiki-20261101-pages-articles-multistream.xml.bz2"));
        assert!(!is_dump_file_name(
            "enwiki-20261101-pages-articles-multistream-index.txt.bz2"
        ));
        assert_eq!(
            dump_stem(Path::new("enwiki-20261101-pages-articles1.xml-p1p41242.bz2")),
            "enwiki-20261101-pages-articles1-p1p41242"
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
