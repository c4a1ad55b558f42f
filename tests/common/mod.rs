//! Helpers shared by the integration tests: running the real binary, scratch
//! directories, reading Parquet output, and a Python venv with the
//! independent judges (tiktoken, DuckDB, pyarrow) from PyPI.
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary, run from the repository root like a user would.
pub fn wikitok(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_wikitok"))
        .args(args)
        .current_dir(repo_root())
        .env("RUST_LOG", "info")
        .output()
        .expect("run wikitok");
    eprintln!(
        "$ wikitok {}\n--- stdout\n{}\n--- stderr\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh, empty scratch directory under target/.
pub fn scratch(name: &str) -> PathBuf {
    let dir = repo_root().join("target").join("test-scratch").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every file under `dir`, relative names, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    fn walk(dir: &Path, root: &Path, found: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, found);
            } else {
                found.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    walk(dir, dir, &mut found);
    found.sort();
    found
}

pub fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|f| f.ends_with(".parquet"))
        .map(|f| dir.join(f))
        .collect()
}

pub fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    reader.map(|b| b.unwrap()).collect()
}

/// All `page_id`s in the Parquet files under `dir`, in file then row order.
pub fn page_ids(dir: &Path) -> Vec<i64> {
    let mut ids = Vec::new();
    for file in parquet_files(dir) {
        for batch in read_parquet(&file) {
            let col = batch.column_by_name("page_id").unwrap().as_primitive::<Int64Type>();
            ids.extend(col.values().iter().copied());
        }
    }
    ids
}

/// The content pages' ids of the committed tiktoken reference.
pub fn reference_content_page_ids() -> Vec<i64> {
    let text = std::fs::read_to_string(repo_root().join("tests/reference/samples_cl100k.tsv")).unwrap();
    let mut ids: Vec<i64> = text
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f[2] == "0")
        .map(|f| f[0].parse().unwrap())
        .collect();
    ids.sort();
    ids
}

/// Python with tiktoken, DuckDB and pyarrow, in a venv under target/ made on
/// first use (pinned versions, from PyPI).
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = repo_root().join("target").join("test-venv");
        let python = venv.join("bin").join("python");
        let marker = venv.join(".wikitok-requirements");
        let requirements = std::fs::read_to_string(repo_root().join("tests/python/requirements.txt")).unwrap();
        if std::fs::read_to_string(&marker).ok().as_deref() != Some(requirements.as_str()) {
            let status = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .expect("python3 -m venv");
            assert!(status.success(), "creating the test venv failed");
            let status = Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", "-r"])
                .arg(repo_root().join("tests/python/requirements.txt"))
                .status()
                .expect("pip install");
            assert!(status.success(), "pip install of the test requirements failed");
            std::fs::write(&marker, requirements).unwrap();
        }
        python
    })
}
