//! `wikitok head PATH`: the first pages of a dump — the first look users take
//! at a file before running anything on it.

use anyhow::{anyhow, Result};
use arrow::array::{Array, AsArray};
use arrow::datatypes::{Int32Type, Int64Type};

use crate::source::detect::format_for_splits;
use crate::source::format::{DecodeOptions, ReadConfig, ReadError};
use crate::source::schema::PAGE_COLUMNS;
use crate::source::stats::ReadStats;
use crate::source::storage::discover_splits;

/// A table of the first `n` pages under `path`: id, namespace, title, text length.
pub fn head(path: &str, n: usize) -> Result<String> {
    let splits = discover_splits(&[path.to_string()], true)?;
    let format = format_for_splits(&splits)?;
    let column = |name: &str| PAGE_COLUMNS.iter().position(|c| c.name == name).expect("known column");
    let options = DecodeOptions {
        projection: vec![column("page_id"), column("namespace"), column("title"), column("text")],
        namespaces: None,
    };
    let stats = ReadStats::default();
    let mut rows = Vec::new();
    for split in &splits {
        if rows.len() >= n {
            break;
        }
        let wanted = n - rows.len();
        let outcome = format.read_split(
            split,
            &options,
            Some(wanted),
            &ReadConfig::default(),
            &stats,
            &mut |batch| {
                let ids = batch.column(0).as_primitive::<Int64Type>();
                let namespaces = batch.column(1).as_primitive::<Int32Type>();
                let titles = batch.column(2).as_string::<i32>();
                let texts = batch.column(3).as_string::<i32>();
                for i in 0..batch.num_rows().min(wanted) {
                    let cell = |valid: bool, value: String| if valid { value } else { "null".to_string() };
                    rows.push([
                        cell(ids.is_valid(i), ids.value(i).to_string()),
                        cell(namespaces.is_valid(i), namespaces.value(i).to_string()),
                        cell(titles.is_valid(i), titles.value(i).to_string()),
                        cell(texts.is_valid(i), texts.value(i).chars().count().to_string()),
                    ]);
                }
                true
            },
        );
        if let Err(ReadError::Failed(message)) = outcome {
            return Err(anyhow!(message));
        }
    }
    let mut out = format!("{:>10}  {:>9}  {:>10}  title\n", "page_id", "namespace", "text_chars");
    for [id, namespace, title, chars] in &rows {
        out.push_str(&format!("{id:>10}  {namespace:>9}  {chars:>10}  {title}\n"));
    }
    out.push_str(&format!(
        "({} pages from {} file{}; {} bad records skipped)\n",
        rows.len(),
        splits.len(),
        if splits.len() == 1 { "" } else { "s" },
        stats.bad_total()
    ));
    Ok(out)
}
