//! The reader on real-world inputs: recompressed files, incomplete dumps,
//! sample runs, files that are not dumps.

mod common;

use std::io::Write;

use common::*;

const ENWIKI: &str = "data/samples/cirrus_search_index/20261115/index_name=enwiki_content";

/// The sample's enwiki shards decompressed, as one byte string of lines.
fn enwiki_json() -> Vec<u8> {
    use std::io::Read;
    let mut all = Vec::new();
    for i in 0..4 {
        let path = repo_root().join(format!("{ENWIKI}/enwiki_content-20261115-0000{i}.json.bz2"));
        bzip2::read::MultiBzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_end(&mut all)
            .unwrap();
    }
    all
}

/// Splits `data` at a line boundary near the middle.
fn halves(data: &[u8]) -> (&[u8], &[u8]) {
    let middle = data.len() / 2;
    let cut = middle + data[middle..].iter().position(|&b| b == b'\n').unwrap() + 1;
    data.split_at(cut)
}

/// Each part compressed as its own bzip2 stream (level 1: 100 kB blocks),
/// back to back — what pbzip2 and lbzip2 write.
fn bzip2_streams(parts: &[&[u8]]) -> Vec<u8> {
    let mut file = Vec::new();
    for part in parts {
        let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        enc.write_all(part).unwrap();
        file.extend(enc.finish().unwrap());
    }
    file
}

fn count_pages(input: &str) -> usize {
    let run = wikitok(&[
        "sql",
        "SELECT count(*) AS n FROM pages",
        "--input",
        input,
        "--allow-incomplete",
    ]);
    assert!(run.status.success());
    let table = String::from_utf8_lossy(&run.stdout).to_string();
    table
        .lines()
        .nth(3)
        .unwrap()
        .trim_matches(|c| c == '|' || c == ' ')
        .parse()
        .unwrap()
}

#[test]
fn every_gzip_member_and_every_bzip2_stream_is_read() {
    let dir = scratch("multi-member");
    let json = enwiki_json();
    let (first, second) = halves(&json);
    // Like pigz / pbzip2 / lbzip2 output: several members or streams in one file.
    let mut gz = Vec::new();
    for part in [first, second] {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(part).unwrap();
        gz.extend(enc.finish().unwrap());
    }
    std::fs::write(dir.join("multi.json.gz"), gz).unwrap();
    std::fs::write(dir.join("multi.json.bz2"), bzip2_streams(&[first, second])).unwrap();
    assert_eq!(count_pages(dir.join("multi.json.gz").to_str().unwrap()), 106);
    assert_eq!(count_pages(dir.join("multi.json.bz2").to_str().unwrap()), 106);
}

#[test]
fn a_directory_without_success_is_refused_unless_allowed() {
    let dir = scratch("incomplete").join("index_name=enwiki_content");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        repo_root().join(format!("{ENWIKI}/enwiki_content-20261115-00000.json.bz2")),
        dir.join("enwiki_content-20261115-00000.json.bz2"),
    )
    .unwrap();
    let out = scratch("incomplete-out");
    let refused = tokenize_sql(dir.to_str().unwrap(), out.to_str().unwrap(), &[]);
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(
        err.contains("index_name=enwiki_content") && err.contains("_SUCCESS"),
        "{err}"
    );
    let allowed = tokenize_sql(dir.to_str().unwrap(), out.to_str().unwrap(), &["--allow-incomplete"]);
    assert!(allowed.status.success());
}

#[test]
fn index_name_is_a_column() {
    let run = wikitok(&[
        "sql",
        "SELECT index_name, count(*) AS n FROM pages GROUP BY index_name ORDER BY index_name",
    ]);
    assert!(run.status.success());
    let table = String::from_utf8_lossy(&run.stdout);
    assert!(
        table.contains("| bgwiki_content | 3   |") && table.contains("| enwiki_content | 106 |"),
        "{table}"
    );
}

#[test]
fn max_pages_samples_keep_the_partitioning_and_a_full_run_replaces_them() {
    let out = scratch("max-pages");
    let out_s = out.to_str().unwrap();
    let sample = wikitok(&["run", "sql/tokenize.sql", "--output", out_s, "--max-pages", "10", "-q"]);
    assert!(sample.status.success());
    let files = parquet_files(&out.join("tokens"));
    assert_eq!(files.len(), 5, "one file per split, as in a full run");
    let rows = page_ids(&out.join("tokens")).len();
    assert!((5..=10).contains(&rows), "{rows} rows");
    let full = wikitok(&["run", "sql/tokenize.sql", "--output", out_s, "-q"]);
    assert!(full.status.success());
    let mut ids = page_ids(&out.join("tokens"));
    ids.sort();
    assert_eq!(
        ids,
        reference_content_page_ids(),
        "sample files are never kept as committed splits"
    );
}

#[test]
fn head_shows_the_first_pages() {
    let run = wikitok(&["head", ENWIKI, "-n", "3"]);
    assert!(run.status.success());
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains("Anarchism") && text.contains("(3 pages from 4 files"),
        "{text}"
    );
}

#[test]
fn files_that_are_not_dumps_say_what_they_look_like() {
    let dir = scratch("not-dumps");
    let cases: [(&str, &[u8], &str); 5] = [
        ("a.parquet.json", b"PAR1\x15\x04\x15\x10", "Parquet"),
        ("empty.json", b"", "empty file"),
        ("junk.json", b"\x00\x01\x02\xff\xfe binary", "binary"),
        ("empty.xml", b"", "empty file"),
        ("junk.xml", b"garbage, then <page>", "not a MediaWiki XML dump"),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let run = tokenize_sql(path.to_str().unwrap(), dir.to_str().unwrap(), &[]);
        assert!(!run.status.success());
        let err = stderr(&run);
        assert!(err.contains(expected) && err.contains(name), "{name}: {err}");
    }
}

/// Each page's id and tokens, in page order.
fn tokens_by_page(dir: &std::path::Path) -> Vec<(i64, String)> {
    use arrow::array::AsArray;
    use arrow::datatypes::Int64Type;
    let mut rows = Vec::new();
    for file in parquet_files(dir) {
        for batch in read_parquet(&file) {
            let ids = batch.column_by_name("page_id").unwrap().as_primitive::<Int64Type>();
            let tokens = batch.column_by_name("tokens").unwrap();
            for i in 0..batch.num_rows() {
                let value = arrow::util::display::array_value_to_string(tokens, i).unwrap();
                rows.push((ids.value(i), value));
            }
        }
    }
    rows.sort();
    rows
}

#[test]
fn one_bzip2_file_split_at_block_boundaries_gives_the_same_table_as_a_whole_read() {
    let dir = scratch("bz2-block-ranges");
    // One pbzip2-like file: the sample's pages in two level-1 (100 kB block) streams.
    let json = enwiki_json();
    let (first, second) = halves(&json);
    let input = dir.join("one.json.bz2");
    std::fs::write(&input, bzip2_streams(&[first, second])).unwrap();
    let run = |output: &str, partitions: &str| {
        let out = dir.join(output);
        let run = tokenize_sql(
            input.to_str().unwrap(),
            out.to_str().unwrap(),
            &["--partitions", partitions, "--min-split-size", "64KiB", "-q"],
        );
        assert!(run.status.success(), "{}", stderr(&run));
        out.join("tokens")
    };
    let whole = run("whole", "1");
    let ranges = run("ranges", "7");
    assert_eq!(files_under(&whole), ["one.parquet"]);
    let range_files = files_under(&ranges);
    assert_eq!(range_files.len(), 7, "{range_files:?}");
    assert!(range_files.iter().all(|f| f.starts_with("one.r0")), "{range_files:?}");
    let expected = tokens_by_page(&whole);
    assert_eq!(expected.len(), count_pages(ENWIKI));
    assert_eq!(
        tokens_by_page(&ranges),
        expected,
        "every page exactly once, same tokens"
    );
}
