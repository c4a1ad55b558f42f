//! A split as a small, serializable description: what an engine (Ray, Spark)
//! ships to the worker that reads it, so that each worker opens exactly the
//! bytes the command line would give that partition, without listing the
//! whole input again.
//!
//! The description names the file (path or URL) and its size when listed,
//! the byte range, the output label and the dump family. Reopening checks
//! that the file still has that size: a dump replaced between listing and
//! reading is an error, never rows from two different files.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::discover::discover_splits_with;
use super::remote::is_remote;
use super::{ByteRange, DumpFamily, RetryOptions, Split};

/// One split, as listed: enough to reopen it anywhere the file is reachable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitDescriptor {
    /// The file's path or URL.
    pub location: String,
    /// The whole file's size in bytes when it was listed.
    pub file_size: u64,
    /// The bytes this split owns (records that start in them); `None` for the whole file.
    pub range: Option<(u64, u64)>,
    /// Compressed bytes this split reads (for an engine's size estimates).
    pub size: u64,
    /// The split's stable name (its output files are named after it).
    pub label: String,
    /// `X` when the file is in an `index_name=X` directory.
    pub index_name: Option<String>,
    /// `cirrussearch` or `mediawiki_xml`.
    pub family: String,
    /// This split's position among the input's splits, and their number:
    /// a sample run (`--max-pages`) takes its share of pages per split.
    pub index: usize,
    pub of: usize,
}

impl SplitDescriptor {
    /// Describes `split`, number `index` of `of`, of `family`.
    pub fn of_split(split: &Split, family: DumpFamily, index: usize, of: usize) -> Self {
        // A local path made absolute: the worker that reads it runs in
        // another directory (a Ray worker, a Spark executor).
        let location = split.location();
        let location = if is_remote(location) {
            location.to_string()
        } else {
            std::path::absolute(location).map_or_else(|_| location.to_string(), |p| p.display().to_string())
        };
        SplitDescriptor {
            location,
            file_size: split.file.size(),
            range: split.range.map(|r| (r.start, r.end)),
            size: split.size,
            label: split.label.clone(),
            index_name: split.index_name.clone(),
            family: family.name().to_string(),
            index,
            of,
        }
    }

    /// The dump family this split was listed as.
    pub fn dump_family(&self) -> Result<DumpFamily> {
        DumpFamily::from_name(&self.family)
            .with_context(|| format!("split {}: unknown dump family {:?}", self.label, self.family))
    }

    /// Opens the split again: the same file, range and label as listed.
    pub fn open(&self, retry: RetryOptions) -> Result<Split> {
        let found = discover_splits_with(std::slice::from_ref(&self.location), true, retry)
            .with_context(|| format!("split {} ({})", self.label, self.location))?;
        let [split] = <[Split; 1]>::try_from(found).map_err(|found| {
            anyhow::anyhow!(
                "split {}: {} names {} files, not one",
                self.label,
                self.location,
                found.len()
            )
        })?;
        let size = split.file.size();
        if size != self.file_size {
            bail!(
                "split {}: {} is {size} bytes now, {} when the splits were listed: the input changed; \
                 list the splits again",
                self.label,
                self.location,
                self.file_size
            );
        }
        if let Some((start, end)) = self.range {
            if start > end || end > size {
                bail!(
                    "split {}: byte range {start}..{end} is not within {} ({size} bytes)",
                    self.label,
                    self.location
                );
            }
        }
        Ok(Split {
            size: self.size,
            label: self.label.clone(),
            index_name: self.index_name.clone(),
            range: self.range.map(|(start, end)| ByteRange { start, end }),
            ..split
        })
    }
}
