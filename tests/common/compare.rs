//! Outputs compared as sets of rows and bytes: one run's against another's.

use std::collections::BTreeMap;
use std::path::Path;

use arrow::util::display::{ArrayFormatter, FormatOptions};

use super::{files_under, read_parquet};

/// What an output directory holds, comparable across runs: for each file
/// (relative name; run markers, shard summaries and exchange data left out),
/// its rows sorted (Parquet), or its bytes with the output directory's path
/// replaced (Megatron's `data-path.txt` names files by path). The files of a
/// hash-partitioned COPY (`part-00003.parquet`) count as one, `part-*`: a
/// sharded run divides such a stage among all its processes' cores, so it
/// writes more of them — with the same rows. Files named after input splits
/// or buckets are compared one by one.
pub fn contents(output: &Path) -> BTreeMap<String, Vec<String>> {
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in files_under(output) {
        let hidden = name
            .split('/')
            .any(|part| part.starts_with('.') || part.starts_with('_'));
        if hidden {
            continue;
        }
        let path = output.join(&name);
        let file = name.rsplit('/').next().unwrap();
        let partition_file = file.starts_with("part-") && file[5..].starts_with(|c: char| c.is_ascii_digit());
        let key = if partition_file {
            format!("{}part-*", &name[..name.len() - file.len()])
        } else {
            name.clone()
        };
        let lines = if name.ends_with(".parquet") {
            let mut rows = Vec::new();
            for batch in read_parquet(&path) {
                let options = FormatOptions::default();
                let columns: Vec<ArrayFormatter> = batch
                    .columns()
                    .iter()
                    .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
                    .collect();
                for row in 0..batch.num_rows() {
                    let cells: Vec<String> = columns.iter().map(|c| c.value(row).to_string()).collect();
                    rows.push(cells.join("\t"));
                }
            }
            rows
        } else {
            let bytes = std::fs::read(&path).unwrap();
            match String::from_utf8(bytes.clone()) {
                Ok(text) if name.ends_with(".txt") => {
                    vec![text.replace(output.to_str().unwrap(), "OUTPUT")]
                }
                _ => vec![format!("{} bytes, fnv {:016x}", bytes.len(), fnv(&bytes))],
            }
        };
        found.entry(key).or_default().extend(lines);
    }
    for rows in found.values_mut() {
        rows.sort();
    }
    found
}

pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// `sharded` holds what `single` holds, is marked complete, and has no exchange data left.
pub fn assert_same_output(single: &Path, sharded: &Path, what: &str) {
    let expected = contents(single);
    let got = contents(sharded);
    assert!(!expected.is_empty(), "{what}: the single run wrote nothing");
    assert_eq!(
        expected.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>(),
        "{what}: other files"
    );
    for (name, rows) in &expected {
        assert!(
            rows == &got[name],
            "{what}: {name} differs: {} rows in one run, {} sharded",
            rows.len(),
            got[name].len()
        );
    }
    assert!(sharded.join("_SUCCESS").exists(), "{what}: no _SUCCESS");
    assert!(
        !sharded.join("_exchange").exists() || files_under(&sharded.join("_exchange")).is_empty(),
        "{what}: exchange data left behind: {:?}",
        files_under(&sharded.join("_exchange"))
    );
}
