//! Every file in sql/ runs on the samples, and DuckDB cross-checks the outputs.

mod common;

use common::*;

#[test]
fn every_sql_file_runs_and_duckdb_cross_checks_the_outputs() {
    let out = scratch("sql-library");
    let out_s = out.to_str().unwrap();
    for file in [
        "tokenize",
        "token_counts",
        "pretraining",
        "pages",
        "categories",
        "links",
        "redirects",
    ] {
        let run = wikitok(&["run", &format!("sql/{file}.sql"), "--output", out_s, "-q"]);
        assert!(run.status.success(), "sql/{file}.sql failed");
    }
    let titled = out.join("titled");
    let run = wikitok(&[
        "run",
        "sql/pretraining.sql",
        "--output",
        titled.to_str().unwrap(),
        "-D",
        "prepend_title=true",
        "-q",
    ]);
    assert!(run.status.success());

    // vocab.sql's aggregation under a small memory limit, spilling if needed.
    let spill = out.join("spill");
    std::fs::create_dir_all(&spill).unwrap();
    let vocab = wikitok(&[
        "run",
        "sql/vocab.sql",
        "--output",
        out_s,
        "--memory-limit",
        "32MiB",
        "--spill-dir",
        spill.to_str().unwrap(),
        "-q",
    ]);
    assert!(vocab.status.success());

    // Named tokenizers: BERT's file says truncate at 128; pages must stay whole.
    let bert_sql = out.join("bert.sql");
    std::fs::write(
        &bert_sql,
        "COPY (SELECT page_id, token_count(text, 'bert') AS n FROM pages WHERE namespace = 0) \
         TO '${output}/bert_counts' STORED AS PARQUET;",
    )
    .unwrap();
    let bert = wikitok(&[
        "run",
        bert_sql.to_str().unwrap(),
        "--output",
        out_s,
        "--tokenizer",
        "cl100k=data/samples/tokenizer/cl100k_base.tokenizer.json",
        "--tokenizer",
        "bert=tests/fixtures/bert-base-uncased.tokenizer.json",
        "-q",
    ]);
    assert!(bert.status.success());

    let reference = repo_root().join("tests/reference/samples_cl100k.tsv");
    let bert = repo_root().join("tests/fixtures/bert-base-uncased.tokenizer.json");
    run_python_check(
        "tests/python/check_sql_library.py",
        &[out.as_os_str(), reference.as_os_str(), bert.as_os_str()],
    );
}

#[test]
fn detokenize_round_trips_every_sample_page() {
    let run = wikitok(&[
        "sql",
        "SELECT count(*) AS pages, sum(CASE WHEN detokenize(tokenize(text)) = text THEN 1 ELSE 0 END) AS round_trips \
         FROM pages WHERE text IS NOT NULL",
    ]);
    assert!(run.status.success());
    let table = String::from_utf8_lossy(&run.stdout);
    assert!(table.contains("| 109   | 109         |"), "{table}");
}

#[test]
fn token_strings_and_special_tokens() {
    let run = wikitok(&[
        "sql",
        "SELECT token_strings(tokenize('Hello world')) AS pieces, eos_token_id() AS eos, \
         special_token_id('<|fim_prefix|>') AS fim",
    ]);
    assert!(run.status.success());
    let table = String::from_utf8_lossy(&run.stdout);
    assert!(
        table.contains("[Hello, Ġworld]") && table.contains("100257") && table.contains("100258"),
        "{table}"
    );
}

#[test]
fn schema_lists_the_columns() {
    let run = wikitok(&["schema"]);
    assert!(run.status.success());
    let schema = String::from_utf8_lossy(&run.stdout);
    for column in [
        "page_id\tInt64",
        "namespace\tInt32",
        "category\tList",
        "source_text\tUtf8",
    ] {
        assert!(schema.contains(column), "{schema}");
    }
}
