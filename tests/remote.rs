//! Remote inputs, against real servers started on 127.0.0.1: an S3-compatible
//! server (moto's server mode, from PyPI) and a plain HTTP server with HTML
//! directory index pages, like Wikimedia's dump site (`python -m http.server`).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::servers::{free_port, start};
use common::*;

const SAMPLE_DATE_DIR: &str = "data/samples/cirrus_search_index/20261115";

fn tokenize(input: &str, output: &Path, env: &[(&str, String)]) -> Output {
    tokenize_sql_with_env(input, output.to_str().unwrap(), &["-q"], env)
}

/// Two runs wrote the same files with the same pages.
fn assert_same_tables(a: &Path, b: &Path) {
    assert_eq!(files_under(a), files_under(b));
    assert_eq!(sorted(page_ids(a)), sorted(page_ids(b)));
    assert!(!page_ids(a).is_empty());
}

#[test]
fn s3_inputs_read_like_local_ones_and_incomplete_prefixes_are_refused() {
    let port = free_port();
    let bin = python().parent().unwrap();
    let _server = start(
        &bin.join("moto_server"),
        &["-H", "127.0.0.1", "-p", &port.to_string()],
        port,
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    // Upload the samples (with their _SUCCESS markers) and one incomplete directory.
    let upload = Command::new(python())
        .current_dir(repo_root())
        .args([
            "-c",
            r#"
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
s3.create_bucket(Bucket="dumps")
root = "data/samples"
for dirpath, _, files in os.walk(os.path.join(root, "cirrus_search_index")):
    for name in files:
        path = os.path.join(dirpath, name)
        s3.upload_file(path, "dumps", os.path.relpath(path, root))
shard = "cirrus_search_index/20261115/index_name=enwiki_content/enwiki_content-20261115-00000.json.bz2"
s3.upload_file(os.path.join(root, shard), "dumps", "incomplete/index_name=enwiki_content/x-00000.json.bz2")
"#,
            &endpoint,
        ])
        .output()
        .unwrap();
    assert!(upload.status.success(), "{}", String::from_utf8_lossy(&upload.stderr));
    let env = [
        ("AWS_ENDPOINT_URL", endpoint.clone()),
        ("AWS_ALLOW_HTTP", "true".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
    ];

    let out = scratch("remote-s3");
    let remote = tokenize("s3://dumps/cirrus_search_index/20261115/", &out.join("remote"), &env);
    assert!(remote.status.success(), "{}", stderr(&remote));
    let local = tokenize(SAMPLE_DATE_DIR, &out.join("local"), &[]);
    assert!(local.status.success(), "{}", stderr(&local));
    assert_same_tables(&out.join("remote/tokens"), &out.join("local/tokens"));
    let summary = |run: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.join(run).join("_SUCCESS")).unwrap()).unwrap()
    };
    assert_eq!(summary("remote")["tokens"], summary("local")["tokens"]);
    assert_eq!(
        summary("remote")["input_bytes_compressed"],
        summary("local")["input_bytes_compressed"]
    );

    // Ranged GETs: the shards divided at bzip2 block boundaries, as local files are.
    let ranged = |input: &str, output: &str, env: &[(&str, String)]| {
        let extra = ["--partitions", "12", "--min-split-size", "64KiB", "-q"];
        let run = tokenize_sql_with_env(input, out.join(output).to_str().unwrap(), &extra, env);
        assert!(run.status.success(), "{}", stderr(&run));
        out.join(output).join("tokens")
    };
    let remote_ranges = ranged("s3://dumps/cirrus_search_index/20261115/", "remote-ranges", &env);
    let local_ranges = ranged(SAMPLE_DATE_DIR, "local-ranges", &[]);
    assert!(files_under(&remote_ranges).iter().any(|f| f.contains(".r002-of-003")));
    assert_same_tables(&remote_ranges, &local_ranges);

    // One object by its URL.
    let one = tokenize(
        "s3://dumps/cirrus_search_index/20261115/index_name=bgwiki_content/bgwiki_content-20261115-00000.json.bz2",
        &out.join("one"),
        &env,
    );
    assert!(one.status.success(), "{}", stderr(&one));
    let one_local = tokenize(
        &format!("{SAMPLE_DATE_DIR}/index_name=bgwiki_content/bgwiki_content-20261115-00000.json.bz2"),
        &out.join("one-local"),
        &[],
    );
    assert!(one_local.status.success());
    assert_same_tables(&out.join("one/tokens"), &out.join("one-local/tokens"));

    let incomplete = tokenize("s3://dumps/incomplete/", &out.join("incomplete"), &env);
    assert!(!incomplete.status.success());
    let err = stderr(&incomplete);
    assert!(
        err.contains("_SUCCESS") && err.contains("s3://dumps/incomplete/index_name=enwiki_content"),
        "{err}"
    );

    let missing = tokenize("s3://dumps/nothing-here/", &out.join("missing"), &env);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("no dump files found"), "{}", stderr(&missing));
}

#[test]
fn an_http_directory_index_page_is_read_like_wikimedias_dump_site() {
    let port = free_port();
    let _server = start(
        python(),
        &[
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            "--directory",
            "data/samples",
            &port.to_string(),
        ],
        port,
    );
    let base = format!("http://127.0.0.1:{port}/cirrus_search_index/20261115");
    let out = scratch("remote-http");
    let remote = tokenize(&format!("{base}/index_name=enwiki_content/"), &out.join("remote"), &[]);
    assert!(remote.status.success(), "{}", stderr(&remote));
    let local = tokenize(
        &format!("{SAMPLE_DATE_DIR}/index_name=enwiki_content"),
        &out.join("local"),
        &[],
    );
    assert!(local.status.success());
    assert_eq!(files_under(&out.join("remote/tokens")).len(), 4);
    assert_same_tables(&out.join("remote/tokens"), &out.join("local/tokens"));
    // A server without byte ranges (python's) is read whole even when ranges are wanted.
    let unranged = tokenize_sql(
        &format!("{base}/index_name=enwiki_content/"),
        out.join("unranged").to_str().unwrap(),
        &["--partitions", "12", "--min-split-size", "64KiB", "-q"],
    );
    assert!(unranged.status.success(), "{}", stderr(&unranged));
    assert_eq!(
        sorted(page_ids(&out.join("unranged/tokens"))),
        sorted(page_ids(&out.join("local/tokens")))
    );

    // Explicit shard URLs work too, and `head` takes a URL.
    let shard = format!("{base}/index_name=bgwiki_content/bgwiki_content-20261115-00000.json.bz2");
    let head = wikitok(&["head", &shard, "-n", "2"]);
    assert!(head.status.success(), "{}", stderr(&head));
    let local_shard = format!("{SAMPLE_DATE_DIR}/index_name=bgwiki_content/bgwiki_content-20261115-00000.json.bz2");
    let local_head = wikitok(&["head", &local_shard, "-n", "2"]);
    let pages = |output: &Output| -> Vec<String> {
        let text = String::from_utf8_lossy(&output.stdout).to_string();
        text.lines()
            .filter(|l| !l.contains("bgwiki_content-20261115-00000.json.bz2"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(pages(&head), pages(&local_head));
    assert!(pages(&head).len() >= 2, "{:?}", pages(&head));
}
