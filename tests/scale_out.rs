//! Scale-out gives one run's answer: every SQL file of `sql/`, run as
//! concurrent shard processes (`--shard I/N`, the pod's command line) into
//! one output, writes exactly what one unsharded run writes — the same rows,
//! the same files where they are named by split or bucket, and for Megatron
//! datasets the same bytes — on both dump families. A shard killed with SIGKILL in the middle of a stage and
//! started again changes nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::compare::{assert_same_output, contents};
use common::*;

const XML_DUMP: &str = "tests/fixtures/xml/enwiki-20261101-pages-articles-multistream.xml.bz2";
const DEFINES: [&str; 6] = ["-D", "seq_len=512", "-D", "seed=7", "-D", "valid_per_mille=50"];

/// The command line of one run (a pod's, with `--shard`).
fn run_args(sql: &Path, input: &str, output: &Path, extra: &[&str], shard: Option<(usize, usize)>) -> Vec<String> {
    let mut args: Vec<String> = ["run", sql.to_str().unwrap(), "--input", input, "--output"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(output.to_str().unwrap().into());
    args.extend(DEFINES.iter().chain(extra).map(|s| s.to_string()));
    args.push("-q".into());
    if let Some((index, count)) = shard {
        args.push("--shard".into());
        args.push(format!("{index}/{count}"));
    }
    args
}

fn spawn(args: &[String]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_wikitok"))
        .args(args)
        .current_dir(repo_root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn wikitok")
}

fn finish(child: Child, what: &str) -> String {
    let run = child.wait_with_output().unwrap();
    let log = stderr(&run);
    assert!(!log.contains("panicked"), "{what} panicked:\n{log}");
    assert!(run.status.success(), "{what} failed:\n{log}");
    log
}

/// Runs `count` shard processes at once into `output`.
fn run_shards(sql: &Path, input: &str, output: &Path, extra: &[&str], count: usize) -> Vec<String> {
    let children: Vec<Child> = (0..count)
        .map(|index| spawn(&run_args(sql, input, output, extra, Some((index, count)))))
        .collect();
    children
        .into_iter()
        .enumerate()
        .map(|(index, child)| finish(child, &format!("shard {index}/{count} of {}", sql.display())))
        .collect()
}

fn run_single(sql: &Path, input: &str, output: &Path, extra: &[&str]) {
    finish(
        spawn(&run_args(sql, input, output, extra, None)),
        &sql.display().to_string(),
    );
}

fn sql_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_root().join("sql"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .map(|p| p.strip_prefix(repo_root()).unwrap().to_path_buf())
        .collect();
    files.sort();
    files
}

/// Every file of `sql/`, run once unsharded and then as each of `counts`
/// concurrent shard processes.
fn every_sql_file_sharded_equals_one_run(family: &str, input: &str, extra: &[&str], counts: &[usize]) {
    let root = scratch(&format!("scale-out-{family}"));
    for sql in sql_files() {
        let name = sql.file_stem().unwrap().to_string_lossy().into_owned();
        let single = root.join(format!("{name}-single"));
        run_single(&sql, input, &single, extra);
        for &count in counts {
            let sharded = root.join(format!("{name}-sharded-{count}"));
            run_shards(&sql, input, &sharded, extra, count);
            assert_same_output(
                &single,
                &sharded,
                &format!("{family} {}, {count} shards", sql.display()),
            );
            if name == "megatron" {
                let bins = files_under(&sharded)
                    .into_iter()
                    .filter(|f| f.ends_with(".bin"))
                    .count();
                assert!(bins > 1, "megatron.sql wrote {bins} datasets: nothing was compared");
            }
        }
    }
}

#[test]
fn every_sql_file_as_one_to_four_shards_writes_one_runs_output_cirrussearch() {
    every_sql_file_sharded_equals_one_run("cirrus", "data/samples", &[], &[1, 2, 3, 4]);
}

#[test]
fn every_sql_file_as_one_to_four_shards_writes_one_runs_output_xml() {
    let extra = ["--partitions", "4", "--min-split-size", "16KiB"];
    every_sql_file_sharded_equals_one_run("xml", XML_DUMP, &extra, &[1, 2, 3, 4]);
}

/// Polls until a claim file appears in a directory of `output`'s exchange
/// data whose name contains `stage` ("stage-000": a map stage; "write": the
/// COPY's writers).
fn wait_for_claim(output: &Path, stage: &str, child: &mut Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let claimed = files_under(&output.join("_exchange"))
            .iter()
            .any(|f| f.contains(stage) && f.contains(".claim-"));
        if claimed {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

/// A shard killed (SIGKILL: no clean-up at all) while it runs a map task,
/// and one killed while it writes the shuffled Megatron files, then started
/// again with the same command next to the other shards: the output is the
/// single run's, byte for byte.
#[test]
fn a_shard_killed_in_a_stage_and_restarted_gives_the_same_result() {
    let root = scratch("scale-out-kill");
    for (sql, stage) in [("sql/vocab.sql", "stage-000"), ("sql/megatron.sql", "write")] {
        let sql = Path::new(sql);
        let name = sql.file_stem().unwrap().to_string_lossy().into_owned();
        let single = root.join(format!("{name}-single"));
        run_single(sql, "data/samples", &single, &["--partitions", "1"]);
        let sharded = root.join(format!("{name}-sharded"));
        let args = run_args(sql, "data/samples", &sharded, &["--partitions", "1"], Some((0, 3)));
        let mut victim = spawn(&args);
        assert!(
            wait_for_claim(&sharded, stage, &mut victim),
            "{name}: shard 0 never reached {stage}"
        );
        victim.kill().unwrap();
        let status = victim.wait().unwrap();
        assert!(!status.success(), "{name}: shard 0 finished before it was killed");
        assert!(!sharded.join("_SUCCESS").exists());
        // The same three commands, shard 0 restarted among them.
        run_shards(sql, "data/samples", &sharded, &["--partitions", "1"], 3);
        assert_same_output(&single, &sharded, &format!("{name} after a kill in {stage}"));
    }
}

/// `_SUCCESS` counts the summaries of this attempt's shards only: after a
/// complete run, one shard run again does not mark the output complete with
/// the other shard's summary of the earlier run.
#[test]
fn a_shard_run_again_waits_for_this_attempts_summaries() {
    let out = scratch("scale-out-rerun");
    let sql = Path::new("sql/token_counts.sql");
    run_shards(sql, "data/samples", &out, &[], 2);
    assert!(out.join("_SUCCESS").exists());
    finish(
        spawn(&run_args(sql, "data/samples", &out, &[], Some((0, 2)))),
        "shard 0 again",
    );
    assert!(!out.join("_SUCCESS").exists(), "complete with an earlier run's summary");
    finish(
        spawn(&run_args(sql, "data/samples", &out, &[], Some((1, 2)))),
        "shard 1 again",
    );
    assert!(out.join("_SUCCESS").exists());
}

/// A shard killed while it holds a task and never started again (its index
/// failed for good) does not stall the run: the other shard takes the task
/// over once the claim is no longer renewed, and writes the single run's
/// output.
#[test]
fn a_dead_shards_claims_are_taken_over() {
    let root = scratch("scale-out-dead");
    let sql = Path::new("sql/vocab.sql");
    let extra = ["--partitions", "1", "--shard-claim-timeout", "2"];
    let single = root.join("single");
    run_single(sql, "data/samples", &single, &extra);
    let sharded = root.join("sharded");
    let mut victim = spawn(&run_args(sql, "data/samples", &sharded, &extra, Some((0, 2))));
    assert!(
        wait_for_claim(&sharded, "stage-000", &mut victim),
        "shard 0 never claimed a task"
    );
    victim.kill().unwrap();
    assert!(
        !victim.wait().unwrap().success(),
        "shard 0 finished before it was killed"
    );
    let log = finish(
        spawn(&run_args(sql, "data/samples", &sharded, &extra, Some((1, 2)))),
        "shard 1",
    );
    assert!(log.contains("went stale: taking it over"), "{log}");
    let (expected, got) = (contents(&single), contents(&sharded));
    assert_eq!(expected, got, "the output of one run");
    // Shard 0 never wrote its summary: the run is not marked complete.
    assert!(!sharded.join("_SUCCESS").exists());
}

/// `wikitok explain --shard` shows how a sharded run divides a statement:
/// its stages, what each exchanges, and the writers.
#[test]
fn explain_with_a_shard_shows_the_stages() {
    let run = wikitok(&["explain", "sql/vocab.sql", "--shard", "0/3", "--partitions", "2"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let plan = String::from_utf8_lossy(&run.stdout);
    assert!(
        plan.contains("-- stage 1 of 3: 5 map tasks, each writing 6 exchange files: Hash([token_id@0], 6)"),
        "{plan}"
    );
    assert!(plan.contains("ExchangeReaderExec: stage 1"), "{plan}");
    assert!(plan.contains("-- stage 3 of 3: 1 writer tasks"), "{plan}");
}
