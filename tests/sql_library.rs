//! Every file in sql/ runs on the samples, and DuckDB cross-checks the outputs.

mod common;

use common::*;

/// Every `.sql` file of the library, by name.
fn library() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo_root().join("sql"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    files
}

#[test]
fn every_sql_file_runs_and_duckdb_cross_checks_the_outputs() {
    let out = scratch("sql-library");
    let out_s = out.to_str().unwrap();
    // As each header promises: no -D needed.
    for file in library() {
        let run = wikitok(&["run", &format!("sql/{file}"), "--output", out_s, "-q"]);
        assert!(run.status.success(), "sql/{file} failed: {}", stderr(&run));
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

/// The XML family too: every file runs with no -D on a MediaWiki dump.
#[test]
fn every_sql_file_runs_with_no_defines_on_an_xml_dump() {
    let out = scratch("sql-library-xml");
    let dump = repo_root().join("tests/fixtures/xml/enwiki-20261101-pages-articles-multistream.xml.bz2");
    for file in library() {
        let run = wikitok(&[
            "run",
            &format!("sql/{file}"),
            "--input",
            dump.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
            "-q",
        ]);
        assert!(run.status.success(), "sql/{file} on XML failed: {}", stderr(&run));
    }
}

/// `explain` plans every file of the library — settings, views and external
/// tables set up as a run would — and a file sharing a view; it writes nothing.
#[test]
fn explain_plans_every_sql_file_and_views_and_writes_nothing() {
    let out = scratch("sql-library-explain");
    let view_sql = scratch("sql-library-explain-view").join("view.sql");
    std::fs::write(
        &view_sql,
        "-- a view shared by two statements; ${documented} in a comment is prose\n\
         SET datafusion.execution.batch_size = 512;\n\
         CREATE VIEW content AS SELECT page_id, title, text FROM pages WHERE namespace = 0;\n\
         COPY (SELECT page_id, token_count(text) AS n FROM content) TO '${output}/counts' STORED AS PARQUET;\n\
         CREATE EXTERNAL TABLE counts STORED AS PARQUET LOCATION '${output}/counts/';\n\
         SELECT count(*) AS pages, sum(n) AS tokens FROM counts JOIN content USING (page_id);\n",
    )
    .unwrap();
    let mut files: Vec<String> = library().iter().map(|f| format!("sql/{f}")).collect();
    files.push(view_sql.to_str().unwrap().to_string());
    for file in &files {
        let run = wikitok(&["explain", file, "--output", out.to_str().unwrap()]);
        let text = String::from_utf8_lossy(&run.stdout);
        assert!(run.status.success(), "explain {file} failed: {}", stderr(&run));
        assert!(text.contains("PagesScanExec"), "explain {file}: no scan in\n{text}");
    }
    assert!(files_under(&out).is_empty(), "explain wrote {:?}", files_under(&out));
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
