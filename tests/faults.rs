//! Faults a long run meets, injected on purpose: remote bodies cut mid-way,
//! busy servers (503), servers that never recover, SIGTERM, and two runs
//! writing one output. Each must cost a retry or a rerun, never data, never
//! a panic, never a misleading error. The misbehaving server is
//! `tests/python/fault_server.py`, on 127.0.0.1 only, exiting by itself.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A server process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the fault server on a free port over `dir`; returns it and its base URL.
fn fault_server(dir: &Path, faults: &[&str]) -> (Server, String) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let port_text = port.to_string();
    let script = repo_root().join("tests/python/fault_server.py");
    let mut args = vec![
        script.to_str().unwrap(),
        "--port",
        &port_text,
        "--directory",
        dir.to_str().unwrap(),
        "--lifetime",
        "300",
    ];
    args.extend_from_slice(faults);
    let server = Server(spawn_quiet(python(), &args));
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the fault server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, format!("http://127.0.0.1:{port}"))
}

fn assert_no_panic(output: &Output) {
    let log = stderr(output);
    assert!(!log.contains("panicked"), "a panic in the log:\n{log}");
}

/// Whether a file is being written anywhere under `dir`.
fn has_in_progress_files(dir: &Path) -> bool {
    files_under(dir).iter().any(|f| f.ends_with(".inprogress"))
}

/// No hidden temporary file left anywhere under `dir`.
fn assert_no_in_progress_files(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                assert!(
                    !path.to_string_lossy().ends_with(".inprogress"),
                    "left behind: {}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn cut_bodies_and_busy_answers_cost_retries_not_pages() {
    let root = scratch("faults-cuts");
    let dump = root.join("dump/index_name=testwiki_content");
    let ids = make_dump(&dump, 2, 60);
    let size = std::fs::metadata(dump.join("testwiki_content-20261115-00000.json.gz"))
        .unwrap()
        .len();
    assert!(
        size > 1_000_000,
        "shards must be larger than the cut point: {size} bytes"
    );
    let (_server, base) = fault_server(
        &root.join("dump"),
        &["--cut-every", "3", "--cut-after", "400000", "--fail-every", "5"],
    );
    let url = format!("{base}/index_name=testwiki_content/");
    let out = root.join("out");
    let run = tokenize_sql(&url, out.to_str().unwrap(), &["-q"]);
    assert_no_panic(&run);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("resuming"),
        "no body was cut: the test proved nothing"
    );
    assert_eq!(sorted(page_ids(&out.join("tokens"))), ids);
    assert_no_in_progress_files(&out);
}

#[test]
fn a_server_that_never_recovers_is_a_network_error_naming_the_url_and_byte() {
    let root = scratch("faults-dead");
    let dump = root.join("dump");
    make_dump(&dump, 1, 20);
    // Every body is cut before its first byte: no progress, ever.
    let (_server, base) = fault_server(&dump, &["--cut-every", "1", "--cut-after", "0"]);
    let url = format!("{base}/testwiki_content-20261115-00000.json.gz");
    let started = Instant::now();
    let run = tokenize_sql(&url, root.join("out").to_str().unwrap(), &["-q", "--max-retries", "2"]);
    assert!(started.elapsed() < Duration::from_secs(60), "gave up too slowly");
    assert!(!run.status.success());
    assert_no_panic(&run);
    let log = stderr(&run);
    let error = &log[log.find("\nerror:").expect("an error message")..];
    assert!(error.contains("network failure"), "{log}");
    assert!(error.contains(&url) && error.contains("at byte 0"), "{error}");
    assert!(error.contains("3 attempts"), "{error}");
    assert!(
        !error.contains("corrupt"),
        "a network fault reported as bad data: {error}"
    );
    assert_no_in_progress_files(&root.join("out"));
}

#[test]
fn sigterm_stops_tidily_and_the_same_command_resumes() {
    let root = scratch("faults-sigterm");
    let dump = root.join("dump");
    let ids = make_dump(&dump, 4, 80);
    let out = root.join("out");
    // The Hugging Face backend on one partition: slow enough to be caught mid-run.
    let args = [
        "run",
        "sql/tokenize.sql",
        "--input",
        dump.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--tokenizer",
        "data/samples/tokenizer/cl100k_base.tokenizer.json",
        "--tokenizer-backend",
        "hf",
        "--partitions",
        "1",
        "-q",
    ];
    let child = Command::new(env!("CARGO_BIN_EXE_wikitok"))
        .args(args)
        .current_dir(repo_root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Signalled as soon as it writes, whatever the machine's speed: a fixed
    // sleep lets a fast machine finish first.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !has_in_progress_files(&out) {
        assert!(Instant::now() < deadline, "the run never started writing");
        std::thread::sleep(Duration::from_millis(2));
    }
    let signalled = Instant::now();
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let run = child.wait_with_output().unwrap();
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "took {:?} to stop",
        signalled.elapsed()
    );
    let log = stderr(&run);
    eprintln!("{log}");
    assert_eq!(run.status.code(), Some(143), "{log}");
    assert!(log.contains("interrupted by SIGTERM"), "{log}");
    assert!(log.contains("rerun the same command to resume"), "{log}");
    assert_no_panic(&run);
    assert_no_in_progress_files(&out);
    assert!(
        !out.join("_SUCCESS").exists(),
        "an interrupted run marked its output complete"
    );

    let rerun = wikitok(&args);
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    assert_eq!(sorted(page_ids(&out.join("tokens"))), ids);
}

#[test]
fn two_runs_into_one_output_at_once_write_every_page_once() {
    let root = scratch("faults-concurrent");
    let dump = root.join("dump");
    let ids = make_dump(&dump, 4, 40);
    let out = root.join("out");
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_wikitok"))
            .args(["run", "sql/tokenize.sql", "--input", dump.to_str().unwrap()])
            .args(["--output", out.to_str().unwrap(), "-q"])
            .current_dir(repo_root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (start(), start());
    for run in [first.wait_with_output().unwrap(), second.wait_with_output().unwrap()] {
        assert_no_panic(&run);
        assert!(run.status.success(), "{}", stderr(&run));
    }
    assert_eq!(sorted(page_ids(&out.join("tokens"))), ids);
    assert_no_in_progress_files(&out);
    assert!(out.join("_SUCCESS").exists());
}
