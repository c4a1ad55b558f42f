//! Scale-out: which process of a run this is, and which input splits are its own.
//!
//! `--shard I/N` (or, in a Kubernetes Indexed Job, `JOB_COMPLETION_INDEX` with
//! `JOB_COMPLETION_COUNT`) names the process. Each split has an owning shard,
//! balanced by compressed size with a deterministic greedy assignment, so
//! every shard of every run computes the same division; a shard runs its own
//! splits' tasks first ([`crate::scaleout`] divides the rest of the work).

use std::fmt;

use anyhow::{bail, Context, Result};

use crate::source::storage::Split;

/// Shard `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    pub fn parse(text: &str) -> Result<Shard> {
        let (index, count) = text
            .split_once('/')
            .with_context(|| format!("--shard {text:?}: expected I/N, e.g. 0/4"))?;
        let index: usize = index
            .trim()
            .parse()
            .with_context(|| format!("--shard {text:?}: bad index"))?;
        let count: usize = count
            .trim()
            .parse()
            .with_context(|| format!("--shard {text:?}: bad count"))?;
        Shard::new(index, count)
    }

    pub fn new(index: usize, count: usize) -> Result<Shard> {
        if count == 0 || index >= count {
            bail!("shard {index}/{count}: the index must be in 0..{count}");
        }
        Ok(Shard { index, count })
    }

    /// From `JOB_COMPLETION_INDEX` (set by Kubernetes for Indexed Jobs) and
    /// `JOB_COMPLETION_COUNT` (set in our manifest to the Job's completions).
    pub fn from_env() -> Result<Option<Shard>> {
        let index = std::env::var("JOB_COMPLETION_INDEX").ok();
        let count = std::env::var("JOB_COMPLETION_COUNT").ok();
        match (index, count) {
            (None, _) => Ok(None),
            (Some(index), Some(count)) => {
                let index = index.trim().parse().context("JOB_COMPLETION_INDEX is not a number")?;
                let count = count.trim().parse().context("JOB_COMPLETION_COUNT is not a number")?;
                Shard::new(index, count).map(Some)
            }
            (Some(_), None) => bail!(
                "JOB_COMPLETION_INDEX is set but JOB_COMPLETION_COUNT is not: set it to the Job's completions, \
                 or pass --shard I/N"
            ),
        }
    }

    /// This shard's splits, in their original order.
    pub fn select(&self, splits: Vec<Split>) -> Vec<Split> {
        let owners = assign(&splits, self.count);
        splits
            .into_iter()
            .zip(owners)
            .filter(|(_, owner)| *owner == self.index)
            .map(|(split, _)| split)
            .collect()
    }

    /// The shard each split belongs to.
    pub fn owners(&self, splits: &[Split]) -> Vec<usize> {
        assign(splits, self.count)
    }

    /// A file-name-safe name, e.g. `shard-00002-of-00008`.
    pub fn file_tag(&self) -> String {
        format!("shard-{:05}-of-{:05}", self.index, self.count)
    }
}

/// The owning shard of each split: largest first, each to the least loaded
/// shard (ties to the lowest index), by compressed size.
fn assign(splits: &[Split], count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..splits.len()).collect();
    order.sort_by(|&a, &b| {
        splits[b]
            .size
            .cmp(&splits[a].size)
            .then_with(|| splits[a].label.cmp(&splits[b].label))
    });
    let mut load = vec![0u64; count];
    let mut owners = vec![0; splits.len()];
    for i in order {
        let (shard, _) = load
            .iter()
            .enumerate()
            .min_by_key(|&(s, l)| (*l, s))
            .expect("count > 0");
        owners[i] = shard;
        load[shard] += splits[i].size.max(1);
    }
    owners
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in file: selection looks only at sizes and labels.
    #[derive(Debug)]
    struct Sized(u64);

    impl crate::source::storage::StoredFile for Sized {
        fn location(&self) -> &str {
            "stand-in"
        }
        fn size(&self) -> u64 {
            self.0
        }
        fn open_at(&self, _offset: u64) -> std::io::Result<Box<dyn std::io::Read + Send>> {
            unreachable!("never read")
        }
        fn read_range(&self, _range: std::ops::Range<u64>) -> std::io::Result<Vec<u8>> {
            unreachable!("never read")
        }
    }

    fn split(label: &str, size: u64) -> Split {
        Split::whole(std::sync::Arc::new(Sized(size)), label.into(), None)
    }

    #[test]
    fn shares_are_disjoint_complete_and_balanced() {
        let splits: Vec<Split> = (0..64)
            .map(|i| split(&format!("s{i:02}"), 600 + (i * 37) % 50))
            .collect();
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        for index in 0..5 {
            let mine = Shard::new(index, 5).unwrap().select(splits.clone());
            sizes.push(mine.iter().map(|s| s.size).sum::<u64>());
            seen.extend(mine.into_iter().map(|s| s.label));
        }
        seen.sort();
        assert_eq!(seen, splits.iter().map(|s| s.label.clone()).collect::<Vec<_>>());
        let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        assert!(max - min <= 700, "{sizes:?}");
    }

    #[test]
    fn parsing() {
        assert_eq!(Shard::parse("2/3").unwrap(), Shard { index: 2, count: 3 });
        assert!(Shard::parse("3/3").is_err());
        assert!(Shard::parse("x").is_err());
    }
}
