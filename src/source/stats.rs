//! Counters shared by every partition of a scan, read by the run summary.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use arrow::array::{Array, AsArray, RecordBatch};

use super::bad_record::{BadRecord, BadRecordKind};

/// What the reader saw. All counters are totals over the run's partitions.
#[derive(Debug, Default)]
pub struct ReadStats {
    pub pages_emitted: AtomicU64,
    pub pages_filtered: AtomicU64,
    pub compressed_bytes: AtomicU64,
    pub uncompressed_bytes: AtomicU64,
    last_title: Mutex<String>,
    bad: Mutex<BTreeMap<BadRecordKind, u64>>,
    bad_total: AtomicU64,
}

impl ReadStats {
    /// Counts a bad record; returns the run's total so far.
    pub fn count_bad(&self, record: &BadRecord) -> u64 {
        *self.bad.lock().expect("stats lock").entry(record.kind).or_default() += 1;
        self.bad_total.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn bad_total(&self) -> u64 {
        self.bad_total.load(Ordering::Relaxed)
    }

    pub fn bad_by_kind(&self) -> BTreeMap<&'static str, u64> {
        self.bad
            .lock()
            .expect("stats lock")
            .iter()
            .map(|(k, v)| (k.name(), *v))
            .collect()
    }

    /// The title of the most recent page read, for progress lines.
    pub fn set_last_title(&self, title: &str) {
        if let Ok(mut last) = self.last_title.try_lock() {
            last.clear();
            last.push_str(title);
        }
    }

    /// Notes the last non-null `title` of a batch about to be emitted.
    pub fn note_last_title(&self, batch: &RecordBatch) {
        let Some(titles) = batch.column_by_name("title").and_then(|c| c.as_string_opt::<i32>()) else {
            return;
        };
        if let Some(i) = (0..titles.len()).rev().find(|&i| titles.is_valid(i)) {
            self.set_last_title(titles.value(i));
        }
    }

    pub fn last_title(&self) -> String {
        self.last_title.lock().map(|t| t.clone()).unwrap_or_default()
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
