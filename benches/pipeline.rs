//! Criterion benchmarks: decoding (MB/s of JSON for bz2, gz, plain), bzip2
//! decompression alone (wikitok's decoder vs libbz2), wikitext rendering
//! (MB/s of wikitext, with and without template expansion), the
//! tokenize UDF (tokens/s), and the whole job (pages/s).
//!
//!   cargo bench --bench pipeline -- render
//!
//!   cargo bench --bench pipeline
//!   WIKITOK_BENCH_DUMP=/tmp/d50 cargo bench --bench pipeline -- end_to_end
//!
//! The end-to-end input defaults to data/samples; for representative numbers
//! point WIKITOK_BENCH_DUMP at a dump made by
//! `python3 ../shared/tools/scale_dump.py /tmp/d50 --mb 50 --shards 2`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use wikitok::source::cirrus::CirrusSearch;
use wikitok::source::compression::bzip2_decoder::Bzip2Reader;
use wikitok::source::format::{DecodeOptions, DumpFormat, ReadConfig};
use wikitok::source::stats::ReadStats;
use wikitok::source::storage::discover_splits;
use wikitok::tokenizer::{register_tokenizer_udfs, TokenizerBackend, TokenizerSet};
use wikitok::wikitext;

const TOKENIZER: &str = "data/samples/tokenizer/cl100k_base.tokenizer.json";

fn sample_json() -> Vec<u8> {
    let mut json = Vec::new();
    for split in discover_splits(&["data/samples".to_string()], false).unwrap() {
        let file = split.open_at(0).unwrap();
        bzip2::read::MultiBzDecoder::new(file).read_to_end(&mut json).unwrap();
    }
    json
}

fn write_variants(dir: &Path, json: &[u8]) -> Vec<(&'static str, PathBuf)> {
    std::fs::create_dir_all(dir).unwrap();
    let plain = dir.join("bench.json");
    std::fs::write(&plain, json).unwrap();
    let gz = dir.join("bench.json.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::default());
    enc.write_all(json).unwrap();
    enc.finish().unwrap();
    let bz = dir.join("bench.json.bz2");
    let mut enc = bzip2::write::BzEncoder::new(std::fs::File::create(&bz).unwrap(), bzip2::Compression::best());
    enc.write_all(json).unwrap();
    enc.finish().unwrap();
    vec![("plain", plain), ("gz", gz), ("bz2", bz)]
}

fn decode(c: &mut Criterion) {
    let json = sample_json();
    let dir = std::env::temp_dir().join("wikitok-bench-decode");
    let mut group = c.benchmark_group("decode");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(json.len() as u64));
    for (name, path) in write_variants(&dir, &json) {
        let split = discover_splits(&[path.display().to_string()], true).unwrap().remove(0);
        // What tokenize.sql reads: page_id, wiki, namespace, title, text.
        let options = DecodeOptions {
            projection: vec![0, 1, 2, 3, 4],
            namespaces: Some(vec![0]),
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                let stats = ReadStats::default();
                let mut rows = 0;
                CirrusSearch
                    .read_split(&split, &options, None, &ReadConfig::default(), &stats, &mut |batch| {
                        rows += batch.num_rows();
                        true
                    })
                    .unwrap();
                rows
            })
        });
    }
    group.finish();
}

/// bzip2 decoding alone, one core: wikitok's decoder against libbz2 (the
/// `bzip2` crate) on the same level-9 file (`WIKITOK_BENCH_BZ2`, default the
/// samples' JSON recompressed).
fn bzip2_decode(c: &mut Criterion) {
    let file = match std::env::var("WIKITOK_BENCH_BZ2") {
        Ok(path) => std::fs::read(path).unwrap(),
        Err(_) => {
            let dir = std::env::temp_dir().join("wikitok-bench-decode");
            let variants = write_variants(&dir, &sample_json());
            std::fs::read(&variants[2].1).unwrap()
        }
    };
    let mut text = Vec::new();
    bzip2::read::MultiBzDecoder::new(&file[..])
        .read_to_end(&mut text)
        .unwrap();
    let mut group = c.benchmark_group("bzip2");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("libbz2", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(text.len());
            bzip2::read::MultiBzDecoder::new(&file[..])
                .read_to_end(&mut out)
                .unwrap();
            out.len()
        })
    });
    group.bench_function("wikitok", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(text.len());
            let source = Box::new(std::io::Cursor::new(file.clone()));
            Bzip2Reader::whole_file(source, Default::default())
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out.len(), text.len());
            out.len()
        })
    });
    group.finish();
}

fn tokenize_udf(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let json = String::from_utf8(sample_json()).unwrap();
    let texts: Vec<String> = json
        .lines()
        .skip(1)
        .step_by(2)
        .filter_map(|l| {
            serde_json::from_str::<serde_json::Value>(l).ok()?["text"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    let schema = Arc::new(Schema::new(vec![Field::new("text", DataType::Utf8, true)]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(texts.clone()))]).unwrap();
    let mut group = c.benchmark_group("tokenize_udf");
    group.sample_size(10);
    for (name, backend) in [
        ("cl100k_hf_one_core", TokenizerBackend::Hf),
        ("cl100k_fast_one_core", TokenizerBackend::Fast),
    ] {
        let tokenizers = Arc::new(TokenizerSet::load(&[TOKENIZER.to_string()], backend).unwrap());
        let tokens: usize = texts
            .iter()
            .map(|t| {
                tokenizers
                    .default_tokenizer("bench")
                    .unwrap()
                    .encode(t, false)
                    .unwrap()
                    .len()
            })
            .sum();
        let ctx = SessionContext::new();
        ctx.register_table(
            "texts",
            Arc::new(MemTable::try_new(schema.clone(), vec![vec![batch.clone()]]).unwrap()),
        )
        .unwrap();
        register_tokenizer_udfs(&ctx, tokenizers);
        group.throughput(Throughput::Elements(tokens as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    ctx.sql("SELECT tokenize(text) FROM texts")
                        .await
                        .unwrap()
                        .collect()
                        .await
                        .unwrap()
                })
            })
        });
    }
    group.finish();
}

fn end_to_end(c: &mut Criterion) {
    let input = std::env::var("WIKITOK_BENCH_DUMP").unwrap_or_else(|_| "data/samples".to_string());
    let out = std::env::temp_dir().join("wikitok-bench-e2e");
    let binary = env!("CARGO_MANIFEST_DIR").to_string() + "/target/release/wikitok";
    if !Path::new(&binary).exists() {
        eprintln!("end_to_end: build the binary first (cargo build --release)");
        return;
    }
    let pages = {
        let _ = std::fs::remove_dir_all(&out);
        run_job(&binary, &input, &out);
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("_SUCCESS")).unwrap()).unwrap();
        summary["pages_read"].as_u64().unwrap()
    };
    let mut group = c.benchmark_group("end_to_end");
    group.sample_size(10);
    group.throughput(Throughput::Elements(pages));
    group.bench_function("tokenize_sql", |b| b.iter(|| run_job(&binary, &input, &out)));
    group.finish();
}

fn run_job(binary: &str, input: &str, out: &Path) {
    let status = std::process::Command::new(binary)
        .args([
            "run",
            "sql/tokenize.sql",
            "--input",
            input,
            "--output",
            out.to_str().unwrap(),
        ])
        .args(["--overwrite", "--quiet", "--allow-incomplete"])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

/// Reading a local file whole: the seeked `std::fs::File` behind
/// `LocalFile` (what wikitok uses) against `object_store`'s
/// `LocalFileSystem` stream (the alternative for one local/remote code path).
fn storage(c: &mut Criterion) {
    use futures::StreamExt;
    use object_store::ObjectStoreExt;
    use wikitok::source::storage::local::LocalFile;
    use wikitok::source::storage::StoredFile;

    let json = sample_json();
    let dir = std::env::temp_dir().join("wikitok-bench-storage");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bench.json");
    // Large enough to dwarf per-open costs: the sample JSON eight times.
    std::fs::write(&path, json.repeat(8)).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    let mut group = c.benchmark_group("storage");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(size));
    group.bench_function("local_file", |b| {
        let file = LocalFile::open(&path).unwrap();
        let mut buf = vec![0u8; 1 << 20];
        b.iter(|| {
            let mut reader = file.open_at(0).unwrap();
            let mut total = 0;
            loop {
                match reader.read(&mut buf).unwrap() {
                    0 => break total,
                    n => total += n,
                }
            }
        })
    });
    group.bench_function("object_store_local", |b| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let store = object_store::local::LocalFileSystem::new_with_prefix(&dir).unwrap();
        let location = object_store::path::Path::from("bench.json");
        b.iter(|| {
            runtime.block_on(async {
                let mut stream = store.get(&location).await.unwrap().into_stream();
                let mut total = 0;
                while let Some(chunk) = stream.next().await {
                    total += chunk.unwrap().len();
                }
                total
            })
        })
    });
    group.finish();
}

/// The wikitext of every page of the English XML fixture (real pages).
fn fixture_wikitext() -> Vec<String> {
    let mut xml = String::new();
    bzip2::read::MultiBzDecoder::new(
        std::fs::File::open("tests/fixtures/xml/enwiki-20261101-pages-articles-multistream.xml.bz2").unwrap(),
    )
    .read_to_string(&mut xml)
    .unwrap();
    xml.split("<text")
        .skip(1)
        .filter_map(|rest| {
            let body = &rest[rest.find('>')? + 1..];
            let body = &body[..body.find("</text>")?];
            Some(html_escape::decode_html_entities(body).into_owned())
        })
        .collect()
}

/// Rendering alone: what expanding prose templates costs on real pages.
fn render(c: &mut Criterion) {
    use wikitext::{Date, LinkRules, PageContext, Templates, WikiRules};
    let pages = fixture_wikitext();
    let bytes: usize = pages.iter().map(String::len).sum();
    let page = PageContext {
        title: "Page",
        today: Date::new(2026, 11, 1).unwrap(),
    };
    let mut group = c.benchmark_group("render");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    for (name, rules) in [
        ("templates_expanded", WikiRules::english()),
        (
            "no_template_data",
            WikiRules {
                links: LinkRules::english(),
                templates: Templates::default(),
            },
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                pages
                    .iter()
                    .map(|p| wikitext::render(p, &rules, &page).text.len())
                    .sum::<usize>()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, decode, bzip2_decode, render, tokenize_udf, end_to_end, storage);
criterion_main!(benches);
