//! Helpers shared by the integration tests: running the real binary, scratch
//! directories, reading Parquet output, and a Python venv with the
//! independent judges (tiktoken, DuckDB, pyarrow) from PyPI.
#![allow(dead_code)]

pub mod compare;
pub mod k8s;
pub mod package;
pub mod servers;

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
    wikitok_with_env(args, &[])
}

/// [`wikitok`] with extra environment variables (credentials, endpoints).
pub fn wikitok_with_env(args: &[&str], env: &[(&str, String)]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_wikitok"))
        .args(args)
        .current_dir(repo_root())
        .env("RUST_LOG", "info")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("run wikitok");
    eprintln!(
        "$ wikitok {}\n--- stdout\n{}\n--- stderr\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // Whatever a run is given and however it ends, it never panics.
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("panicked"),
        "wikitok {} panicked",
        args.join(" ")
    );
    output
}

/// `wikitok run sql/tokenize.sql --input INPUT --output OUTPUT EXTRA...`, the
/// command most tests start from.
pub fn tokenize_sql(input: &str, output: &str, extra: &[&str]) -> Output {
    tokenize_sql_with_env(input, output, extra, &[])
}

pub fn tokenize_sql_with_env(input: &str, output: &str, extra: &[&str], env: &[(&str, String)]) -> Output {
    let mut args = vec!["run", "sql/tokenize.sql", "--input", input, "--output", output];
    args.extend_from_slice(extra);
    wikitok_with_env(&args, env)
}

/// Starts `program` from the repository root with its output discarded.
pub fn spawn_quiet(program: &Path, args: &[&str]) -> std::process::Child {
    Command::new(program)
        .args(args)
        .current_dir(repo_root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn")
}

pub fn sorted(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort();
    ids
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

/// The (action, document) line pairs of the embedded sample's enwiki shards.
pub fn sample_pages() -> Vec<serde_json::Value> {
    use std::io::BufRead;
    let dir = repo_root().join("data/samples/cirrus_search_index/20261115/index_name=enwiki_content");
    let mut docs = Vec::new();
    for file in parquet_like_sorted(&dir, ".json.bz2") {
        let reader = std::io::BufReader::new(bzip2::read::MultiBzDecoder::new(File::open(file).unwrap()));
        for (i, line) in reader.lines().enumerate() {
            if i % 2 == 1 {
                docs.push(serde_json::from_str(&line.unwrap()).unwrap());
            }
        }
    }
    docs
}

fn parquet_like_sorted(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    files.sort();
    files
}

/// Writes a gzip dump of `shards` files × `pages_per_shard` pages built from
/// the sample pages with fresh ids (1..); returns the ids of namespace-0 pages.
pub fn make_dump(dir: &Path, shards: usize, pages_per_shard: usize) -> Vec<i64> {
    make_dump_with_text_limit(dir, shards, pages_per_shard, usize::MAX)
}

/// Like [`make_dump`], with page text cut to at most `max_chars` characters
/// (real wikis' median page is ~2,500 characters; the samples are long articles).
pub fn make_dump_with_text_limit(dir: &Path, shards: usize, pages_per_shard: usize, max_chars: usize) -> Vec<i64> {
    use std::io::Write;
    let docs = sample_pages();
    std::fs::create_dir_all(dir).unwrap();
    let mut ids = Vec::new();
    let mut next_id = 1i64;
    for shard in 0..shards {
        let file = File::create(dir.join(format!("testwiki_content-20261115-{shard:05}.json.gz"))).unwrap();
        let mut gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
        for i in 0..pages_per_shard {
            let mut doc = docs[(shard * pages_per_shard + i) % docs.len()].clone();
            doc["page_id"] = next_id.into();
            doc["title"] = format!("Page {next_id}").into();
            if let Some(text) = doc["text"].as_str() {
                doc["text"] = text.chars().take(max_chars).collect::<String>().into();
            }
            writeln!(gz, "{{\"index\":{{\"_id\":\"{next_id}\"}}}}").unwrap();
            writeln!(gz, "{doc}").unwrap();
            ids.push(next_id);
            next_id += 1;
        }
        gz.finish().unwrap();
    }
    std::fs::write(dir.join("_SUCCESS"), b"").unwrap();
    ids
}

/// Runs a Python script of the repository (a judge such as
/// tests/python/check_tokens_output.py) in the test venv; panics with its
/// report unless it exits 0, else returns the report.
pub fn run_python_check(script: &str, args: &[&std::ffi::OsStr]) -> String {
    let check = Command::new(python())
        .arg(repo_root().join(script))
        .args(args)
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    eprintln!("{report}");
    assert!(check.status.success(), "{script} failed: {report}");
    report
}
