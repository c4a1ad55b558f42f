//! End-to-end tests of `wikitok run sql/tokenize.sql` on the embedded samples.

mod common;

use std::io::Write;

use common::*;

const ENWIKI: &str = "data/samples/cirrus_search_index/20261115/index_name=enwiki_content";
const CL100K_FILE: &str = "data/samples/tokenizer/cl100k_base.tokenizer.json";

#[test]
fn tokenize_sql_on_the_samples_matches_tiktoken_and_reads_in_duckdb_and_pyarrow() {
    let out = scratch("tokenize-samples");
    let run = wikitok(&["run", "sql/tokenize.sql", "--output", out.to_str().unwrap()]);
    assert!(run.status.success());
    assert!(
        stderr(&run).contains("backend: built in"),
        "the default tokenizer is the built-in cl100k_base: {}",
        stderr(&run)
    );

    // One file per input split (4 enwiki shards + 1 bgwiki shard), named after it.
    let files = files_under(&out.join("tokens"));
    assert_eq!(
        files,
        [
            "bgwiki_content-20261115-00000.parquet",
            "enwiki_content-20261115-00000.parquet",
            "enwiki_content-20261115-00001.parquet",
            "enwiki_content-20261115-00002.parquet",
            "enwiki_content-20261115-00003.parquet",
        ]
    );
    let mut ids = page_ids(&out.join("tokens"));
    ids.sort();
    assert_eq!(ids, reference_content_page_ids(), "every content page exactly once");

    check_against_reference(&out.join("tokens"), "tests/reference/samples_cl100k.tsv");

    // The run summary counts every input byte.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("_SUCCESS")).unwrap()).unwrap();
    let input_bytes: u64 = files_under(&repo_root().join("data/samples"))
        .iter()
        .filter(|f| f.ends_with(".json.bz2"))
        .map(|f| {
            std::fs::metadata(repo_root().join("data/samples").join(f))
                .unwrap()
                .len()
        })
        .sum();
    assert_eq!(
        summary["input_bytes_compressed"].as_u64().unwrap(),
        input_bytes,
        "{summary}"
    );
    assert_eq!(summary["pages_written"].as_u64().unwrap(), 107, "{summary}");

    // Hugging Face, forced, gives the same ids (checked against tiktoken too).
    let hf_out = scratch("tokenize-samples-hf");
    let hf = wikitok(&[
        "run",
        "sql/tokenize.sql",
        "--output",
        hf_out.to_str().unwrap(),
        "--tokenizer",
        CL100K_FILE,
        "--tokenizer-backend",
        "hf",
    ]);
    assert!(hf.status.success());
    assert!(stderr(&hf).contains("backend: hf"), "{}", stderr(&hf));
    check_against_reference(&hf_out.join("tokens"), "tests/reference/samples_cl100k.tsv");
}

/// Runs the Python judge: DuckDB and pyarrow read the output, ids are
/// compared with the committed tiktoken reference.
fn check_against_reference(tokens_dir: &std::path::Path, reference: &str) {
    let reference = repo_root().join(reference);
    run_python_check(
        "tests/python/check_tokens_output.py",
        &[tokens_dir.as_os_str(), reference.as_os_str()],
    );
}

#[test]
fn adversarial_text_and_missing_text_match_tiktoken() {
    // CJK, emoji/ZWJ, RTL, combining marks, literal <|endoftext|>, whitespace
    // and digit runs, empty/null/missing text, other namespaces, a 3 MB page.
    for backend in ["builtin", "fast", "hf"] {
        let out = scratch(&format!("adversarial-{backend}"));
        let file_backend = ["--tokenizer", CL100K_FILE, "--tokenizer-backend", backend];
        let run = tokenize_sql(
            "tests/reference/adversarial",
            out.to_str().unwrap(),
            if backend == "builtin" { &[] } else { &file_backend },
        );
        assert!(run.status.success(), "{}", stderr(&run));
        check_against_reference(&out.join("tokens"), "tests/reference/adversarial_cl100k.tsv");
    }
}

#[test]
fn explain_shows_a_parallel_plan_without_coalesce_and_writes_nothing() {
    let out = scratch("explain");
    let run = wikitok(&["explain", "sql/tokenize.sql", "--output", out.to_str().unwrap()]);
    assert!(run.status.success());
    let plan = String::from_utf8_lossy(&run.stdout);
    assert!(!plan.contains("CoalescePartitionsExec"), "{plan}");
    assert!(plan.contains("PagesScanExec: splits=5"), "{plan}");
    assert!(
        plan.contains("namespace IN [0]"),
        "the namespace filter is pushed into the scan: {plan}"
    );
    assert!(!plan.contains("source_text"), "unselected columns are not read: {plan}");
    assert!(plan.contains("5 files"), "{plan}");
    assert!(files_under(&out).is_empty(), "explain wrote {:?}", files_under(&out));
}

#[test]
fn four_shards_with_four_partitions_write_at_least_four_files() {
    let out = scratch("four-shards");
    let run = wikitok(&[
        "run",
        "sql/tokenize.sql",
        "--input",
        ENWIKI,
        "--partitions",
        "4",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success());
    assert!(parquet_files(&out.join("tokens")).len() >= 4);
}

#[test]
fn a_single_partition_plan_with_order_by_still_writes() {
    let out = scratch("order-by");
    let sql = out.join("sorted.sql");
    std::fs::write(
        &sql,
        "COPY (SELECT page_id, title, token_count(text) AS n FROM pages ORDER BY page_id DESC) \
         TO '${output}/sorted' STORED AS PARQUET;",
    )
    .unwrap();
    let run = wikitok(&["run", sql.to_str().unwrap(), "--output", out.to_str().unwrap()]);
    assert!(run.status.success());
    let ids = page_ids(&out.join("sorted"));
    assert_eq!(ids.len(), 109);
    assert!(ids.windows(2).all(|w| w[0] >= w[1]), "sorted descending: {ids:?}");
}

#[test]
fn a_rerun_keeps_committed_files_and_overwrite_rewrites_them() {
    let out = scratch("rerun");
    let args = [
        "run",
        "sql/tokenize.sql",
        "--input",
        ENWIKI,
        "--output",
        out.to_str().unwrap(),
    ];
    assert!(wikitok(&args).status.success());
    let first = page_ids(&out.join("tokens"));
    let rerun = wikitok(&args);
    assert!(rerun.status.success());
    assert!(stderr(&rerun).contains("0 files written"), "nothing rewritten");
    assert!(stderr(&rerun).contains("4 files already committed"));
    assert_eq!(page_ids(&out.join("tokens")), first);
    let mut overwrite = args.to_vec();
    overwrite.push("--overwrite");
    let rewrite = wikitok(&overwrite);
    assert!(stderr(&rewrite).contains("4 files written"));
    assert_eq!(page_ids(&out.join("tokens")), first);
}

#[test]
fn a_truncated_shard_fails_naming_the_file_and_commits_nothing_of_it() {
    let out = scratch("truncated");
    let input = out.join("input");
    std::fs::create_dir_all(&input).unwrap();
    let shard = std::fs::read(format!("{ENWIKI}/enwiki_content-20261115-00000.json.bz2")).unwrap();
    std::fs::write(input.join("broken-00000.json.bz2"), &shard[..shard.len() / 2]).unwrap();
    let target = out.join("result");
    let run = tokenize_sql(input.to_str().unwrap(), target.to_str().unwrap(), &[]);
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(err.contains("broken-00000.json.bz2"), "{err}");
    assert!(err.contains("truncated or corrupt"), "{err}");
    assert!(err.contains(&format!("ends at byte {}", shard.len() / 2)), "{err}");
    assert_eq!(
        files_under(&target.join("tokens")),
        Vec::<String>::new(),
        "no half-written file is left"
    );
    // Divided into byte ranges, the message still gives the file's length.
    let divided = tokenize_sql(
        input.to_str().unwrap(),
        target.to_str().unwrap(),
        &["--partitions", "4", "--min-split-size", "4KiB"],
    );
    assert!(!divided.status.success());
    let err = stderr(&divided);
    assert!(err.contains(&format!("ends at byte {}", shard.len() / 2)), "{err}");
}

#[test]
fn bad_records_are_counted_and_skipped_while_the_other_pages_come_through() {
    let out = scratch("bad-records");
    let dump = out.join("dump.json");
    let mut f = std::fs::File::create(&dump).unwrap();
    writeln!(f, r#"{{"index":{{"_type":"page","_id":"1"}}}}"#).unwrap();
    writeln!(f, r#"{{"namespace":0,"title":"One","text":"hello world"}}"#).unwrap();
    writeln!(f, r#"{{"index":{{"_id":"2"}}}}"#).unwrap();
    writeln!(f, r#"{{"namespace":0,"title":"Two","text":"broken"#).unwrap();
    writeln!(f, r#"{{"index":{{"_id":3}}}}"#).unwrap();
    writeln!(f, r#"{{"namespace":0,"title":"Three","text":null}}"#).unwrap();
    drop(f);
    let target = out.join("result");
    let run = tokenize_sql(dump.to_str().unwrap(), target.to_str().unwrap(), &[]);
    assert!(run.status.success());
    let err = stderr(&run);
    assert!(err.contains("line 4: malformed_json"), "{err}");
    assert!(err.contains(r#"bad records skipped: {"malformed_json": 1}"#), "{err}");
    let mut ids = page_ids(&target.join("tokens"));
    ids.sort();
    assert_eq!(ids, [1, 3]);

    let strict = tokenize_sql(
        dump.to_str().unwrap(),
        out.join("strict").to_str().unwrap(),
        &["--max-bad-records", "0"],
    );
    assert!(!strict.status.success());
    assert!(stderr(&strict).contains("too many bad records"), "{}", stderr(&strict));
}

#[test]
fn an_unknown_variable_is_an_error_that_names_it() {
    let out = scratch("unknown-var");
    let sql = out.join("q.sql");
    std::fs::write(
        &sql,
        "COPY (SELECT title FROM pages LIMIT ${how_many}) TO '${output}/x' STORED AS PARQUET;",
    )
    .unwrap();
    let run = wikitok(&["run", sql.to_str().unwrap(), "--output", out.to_str().unwrap()]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("${how_many}"), "{}", stderr(&run));
    let ok = wikitok(&[
        "run",
        sql.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "-D",
        "how_many=3",
    ]);
    assert!(ok.status.success());
    assert_eq!(page_ids_or_titles_count(&out.join("x")), 3);
}

fn page_ids_or_titles_count(dir: &std::path::Path) -> usize {
    parquet_files(dir)
        .iter()
        .flat_map(|f| read_parquet(f))
        .map(|b| b.num_rows())
        .sum()
}

#[test]
fn not_a_dump_is_recognised() {
    let out = scratch("not-a-dump");
    let xml = out.join("enwiki-pages-articles.json");
    std::fs::write(
        &xml,
        "<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.11/\">\n<page>\n",
    )
    .unwrap();
    let run = tokenize_sql(xml.to_str().unwrap(), out.to_str().unwrap(), &[]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("looks like XML"), "{}", stderr(&run));
}

#[test]
fn tokens_and_their_count_in_one_query_tokenize_each_page_once() {
    let out = scratch("tokens-and-count");
    let sql = out.join("both.sql");
    std::fs::write(
        &sql,
        "COPY (SELECT page_id, tokenize(text) AS tokens, token_count(text) AS n FROM pages WHERE namespace = 0) \
         TO '${output}/both' STORED AS PARQUET;",
    )
    .unwrap();
    let run = wikitok(&["run", sql.to_str().unwrap(), "--output", out.to_str().unwrap(), "-q"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let (mut counted, mut listed) = (0i64, 0i64);
    for file in parquet_files(&out.join("both")) {
        for batch in read_parquet(&file) {
            use arrow::array::AsArray;
            let n = batch
                .column_by_name("n")
                .unwrap()
                .as_primitive::<arrow::datatypes::Int64Type>();
            let tokens = batch.column_by_name("tokens").unwrap().as_list::<i32>();
            for i in 0..batch.num_rows() {
                assert_eq!(n.value(i), tokens.value_length(i) as i64);
                counted += n.value(i);
                listed += tokens.value_length(i) as i64;
            }
        }
    }
    assert_eq!(counted, listed);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("_SUCCESS")).unwrap()).unwrap();
    assert_eq!(
        summary["tokens"].as_i64().unwrap(),
        listed,
        "tokens produced = tokens written: `token_count` reused `tokenize`'s result"
    );
}

/// Outside the checkout (a pod, a pip-installed module): the default
/// tokenizer is built in, a query without tokenizer functions needs no
/// tokenizer at all, and a missing file is named with the function that
/// needed it.
#[test]
fn the_default_tokenizer_ships_in_the_binary_and_tokenizers_load_only_when_used() {
    let elsewhere = scratch("tokenizer-elsewhere");
    let input = repo_root().join(ENWIKI);
    let in_dir = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_wikitok"))
            .args(args)
            .current_dir(&elsewhere)
            .output()
            .unwrap()
    };
    let counted = in_dir(&[
        "sql",
        "SELECT sum(token_count(text)) AS n, sum(cardinality(tokenize(text, 'o200k_base'))) AS m FROM pages WHERE page_id = 12",
        "--input",
        input.to_str().unwrap(),
        "--tokenizer",
        "cl100k_base",
        "--tokenizer",
        "o200k_base",
    ]);
    assert!(counted.status.success(), "{}", stderr(&counted));
    let table = String::from_utf8_lossy(&counted.stdout).to_string();
    let numbers: Vec<u64> = table
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert_eq!(numbers.len(), 2, "{table}");
    assert!(numbers[0] > 1000 && numbers[1] > 1000, "{table}");
    assert_ne!(numbers[0], numbers[1], "o200k_base gave cl100k's count: {table}");

    let missing = "/nonexistent/tokenizer.json";
    let no_tokens = in_dir(&[
        "sql",
        "SELECT count(*) AS pages FROM pages",
        "--input",
        input.to_str().unwrap(),
        "--tokenizer",
        missing,
    ]);
    assert!(
        no_tokens.status.success(),
        "a query without tokenizer functions needs no tokenizer: {}",
        stderr(&no_tokens)
    );
    let needs_tokens = in_dir(&[
        "sql",
        "SELECT sum(token_count(text)) FROM pages",
        "--input",
        input.to_str().unwrap(),
        "--tokenizer",
        missing,
    ]);
    assert!(!needs_tokens.status.success());
    let error = stderr(&needs_tokens);
    assert!(error.contains("token_count") && error.contains(missing), "{error}");
}
