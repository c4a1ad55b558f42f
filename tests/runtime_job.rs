//! Running for real: kill -9 and resume, memory limit and spill directory,
//! scale-out with --shard.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

#[test]
fn kill_9_at_several_points_then_rerun_gives_every_page_exactly_once() {
    let dir = scratch("kill-resume");
    let input = dir.join("dump");
    let expected = make_dump(&input, 8, 150);
    let out = dir.join("out");
    let args = [
        "run",
        "sql/tokenize.sql",
        "--input",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--partitions",
        "2",
        "--quiet",
    ];
    for delay_ms in [150, 400, 800, 1300] {
        let mut child = spawn_quiet(Path::new(env!("CARGO_BIN_EXE_wikitok")), &args);
        std::thread::sleep(Duration::from_millis(delay_ms));
        // SIGKILL: no cleanup code runs.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let _ = child.wait();
        // Whatever was committed is complete: every visible file opens and
        // reads to the end (read_parquet panics on a truncated file).
        for file in parquet_files(&out.join("tokens")) {
            let rows: usize = read_parquet(&file).iter().map(|b| b.num_rows()).sum();
            assert!(rows > 0, "{} is empty", file.display());
        }
    }
    let rerun = wikitok(&args);
    assert!(rerun.status.success());
    assert_eq!(
        sorted(page_ids(&out.join("tokens"))),
        expected,
        "every page exactly once"
    );
    assert!(
        files_under(&out).iter().all(|f| !f.contains("inprogress")),
        "{:?}",
        files_under(&out)
    );
    assert!(out.join("_SUCCESS").exists());
}

/// Runs wikitok while watching `spill_dir`; returns the output and whether
/// spill files appeared in it.
fn run_watching_spill_dir(args: &[&str], spill_dir: &Path, tmpdir: &Path) -> (std::process::Output, bool) {
    let child = Command::new(env!("CARGO_BIN_EXE_wikitok"))
        .args(args)
        .current_dir(repo_root())
        .env("TMPDIR", tmpdir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let watcher_dir = spill_dir.to_path_buf();
    let watcher = std::thread::spawn(move || {
        let proc_dir = format!("/proc/{pid}");
        while Path::new(&proc_dir).exists() {
            if !files_under(&watcher_dir).is_empty() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    });
    let output = child.wait_with_output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    (output, watcher.join().unwrap())
}

#[test]
fn a_sort_under_a_tiny_memory_limit_spills_only_into_the_spill_dir() {
    let dir = scratch("spill");
    let input = dir.join("dump");
    let expected = make_dump_with_text_limit(&input, 2, 2000, 5000);
    let spill = dir.join("spill");
    std::fs::create_dir_all(&spill).unwrap();
    // Anything written to the OS temp dir would fail: it is not writable.
    let no_tmp = dir.join("no-tmp");
    let sql = dir.join("sorted.sql");
    std::fs::write(
        &sql,
        "COPY (SELECT page_id, text, tokenize(text) AS tokens FROM pages WHERE namespace = 0 \
         ORDER BY page_id DESC) TO '${output}/sorted' STORED AS PARQUET;",
    )
    .unwrap();
    let out = dir.join("out");
    let (sql, input, out_s, spill_s) = (
        sql.to_str().unwrap(),
        input.to_str().unwrap(),
        out.to_str().unwrap(),
        spill.to_str().unwrap(),
    );
    let args = [
        "run",
        sql,
        "--input",
        input,
        "--output",
        out_s,
        "--memory-limit",
        "16MiB",
        "--spill-dir",
        spill_s,
        "-q",
    ];
    let (run, spilled_there) = run_watching_spill_dir(&args, &spill, &no_tmp);
    assert!(run.status.success());
    assert!(spilled_there, "spill files appeared in --spill-dir");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("_SUCCESS")).unwrap()).unwrap();
    assert!(summary["spilled_bytes"].as_u64().unwrap() > 0, "{summary}");
    let ids = page_ids(&out.join("sorted"));
    assert_eq!(sorted(ids.clone()), expected);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "sorted descending");
    assert!(files_under(&spill).is_empty(), "spill files are removed at the end");

    let started = Instant::now();
    let mut capped = args.to_vec();
    capped.extend(["--max-spill", "1MiB"]);
    let (fail, _) = run_watching_spill_dir(&capped, &spill, &no_tmp);
    assert!(!fail.status.success());
    let err = String::from_utf8_lossy(&fail.stderr);
    assert!(err.contains("--max-spill") && err.contains(spill_s), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "fails quickly, never hangs"
    );
}

#[test]
fn a_missing_spill_dir_is_a_clear_error() {
    let run = wikitok(&[
        "run",
        "sql/tokenize.sql",
        "--spill-dir",
        "/nonexistent/spill",
        "--output",
        scratch("nospill").to_str().unwrap(),
    ]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("/nonexistent/spill"), "{}", stderr(&run));
}

#[test]
fn three_shards_into_one_output_equal_one_full_run() {
    let dir = scratch("shards");
    let input = dir.join("dump");
    let expected = make_dump(&input, 7, 20);
    let full = dir.join("full");
    let input_s = input.to_str().unwrap();
    assert!(tokenize_sql(input_s, full.to_str().unwrap(), &["-q"]).status.success());

    let sharded = dir.join("sharded");
    for index in 0..3 {
        let shard = format!("{index}/3");
        let run = tokenize_sql(input_s, sharded.to_str().unwrap(), &["--shard", &shard, "-q"]);
        assert!(run.status.success());
        // _SUCCESS only once every shard is done.
        assert_eq!(sharded.join("_SUCCESS").exists(), index == 2);
    }
    assert_eq!(files_under(&full.join("tokens")), files_under(&sharded.join("tokens")));
    assert_eq!(sorted(page_ids(&sharded.join("tokens"))), expected);
    assert_eq!(sorted(page_ids(&full.join("tokens"))), expected);
    let success: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sharded.join("_SUCCESS")).unwrap()).unwrap();
    let mut splits: Vec<String> = success["shards"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["splits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
        })
        .collect();
    splits.sort();
    assert_eq!(splits.len(), 7, "each split in exactly one shard: {splits:?}");
    splits.dedup();
    assert_eq!(splits.len(), 7);
}

#[test]
fn kubernetes_indexed_job_environment_selects_the_shard() {
    let dir = scratch("k8s-env");
    let input = dir.join("dump");
    let expected = make_dump(&input, 4, 10);
    let out = dir.join("out");
    for index in 0..2 {
        let status = Command::new(env!("CARGO_BIN_EXE_wikitok"))
            .args([
                "run",
                "sql/tokenize.sql",
                "--input",
                input.to_str().unwrap(),
                "--output",
                out.to_str().unwrap(),
                "-q",
            ])
            .current_dir(repo_root())
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .env("JOB_COMPLETION_COUNT", "2")
            .status()
            .unwrap();
        assert!(status.success());
    }
    assert_eq!(sorted(page_ids(&out.join("tokens"))), expected);
    assert!(out.join("_shards/shard-00000-of-00002.json").exists());
    assert!(out.join("_SUCCESS").exists());
}
