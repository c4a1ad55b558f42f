//! Output to a bucket, against a real S3-compatible server started on
//! 127.0.0.1 (moto's server mode, from PyPI): `--output s3://bucket/prefix`
//! writes what a local directory gets — the same rows, Megatron files byte
//! for byte, `_SUCCESS` — with nothing temporary or half-uploaded left
//! behind; a rerun keeps what is committed. Three shard processes that
//! share no directory (each its own working and spill directory, like
//! pods) write one run's answer to the bucket, also when one of them is
//! killed with SIGKILL mid-run and the three commands are run again.
//!
//! Parts are made small (`WIKITOK_UPLOAD_PART_SIZE`, and moto's minimum
//! lowered to match) so that the sample's files go up as multipart uploads.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::compare::{assert_same_output, contents};
use common::k8s::{container_env, job_container_of, local_args};
use common::servers::{free_port, start_with_env, Server};
use common::*;

const DEFINES: [&str; 6] = ["-D", "seq_len=512", "-D", "seed=7", "-D", "valid_per_mille=50"];
const PART: &str = "64KiB";

/// A moto S3 server with the bucket `out`.
struct S3 {
    _server: Server,
    endpoint: String,
}

impl S3 {
    fn start() -> S3 {
        let port = free_port();
        let bin = python().parent().unwrap();
        let server = start_with_env(
            &bin.join("moto_server"),
            &["-H", "127.0.0.1", "-p", &port.to_string()],
            &[("S3_UPLOAD_PART_MIN_SIZE", "65536")],
            port,
        );
        let s3 = S3 {
            _server: server,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        s3.python("s3.create_bucket(Bucket='out')", &[]);
        s3
    }

    /// Credentials and endpoint as the README tells users to set them.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("WIKITOK_UPLOAD_PART_SIZE", PART.into()),
        ]
    }

    /// Runs `code` with `s3` a boto3 client and `args` in `sys.argv[1:]`;
    /// returns what it prints.
    fn python(&self, code: &str, args: &[&str]) -> String {
        let script = format!(
            "import sys, os, time, boto3\n\
             s3 = boto3.client('s3', endpoint_url={:?}, region_name='us-east-1', \
             aws_access_key_id='test', aws_secret_access_key='test')\n\
             def keys(prefix):\n    \
                 pages = s3.get_paginator('list_objects_v2').paginate(Bucket='out', Prefix=prefix)\n    \
                 return [o['Key'] for page in pages for o in page.get('Contents', [])]\n\
             {code}\n",
            self.endpoint
        );
        let run = Command::new(python())
            .arg("-c")
            .arg(script)
            .args(args)
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        String::from_utf8_lossy(&run.stdout).into_owned()
    }

    fn keys(&self, prefix: &str) -> Vec<String> {
        self.python("print('\\n'.join(keys(sys.argv[1])))", &[prefix])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// A fault proxy (`tests/python/fault_proxy.py FAULTS`) in front of the
    /// server, and the environment that sends wikitok through it.
    fn behind_faults(&self, faults: &[&str]) -> (Server, Vec<(&'static str, String)>) {
        let port = free_port();
        let script = repo_root().join("tests/python/fault_proxy.py");
        let port_text = port.to_string();
        let mut args = vec![
            script.to_str().unwrap(),
            "--port",
            &port_text,
            "--target",
            &self.endpoint,
        ];
        args.extend_from_slice(faults);
        let proxy = common::servers::start(python(), &args, port);
        let mut env = self.env();
        env[0].1 = format!("http://127.0.0.1:{port}");
        (proxy, env)
    }

    /// Uploads begun and neither completed nor aborted.
    fn unfinished_uploads(&self) -> String {
        self.python(
            "print(' '.join(u['Key'] for u in s3.list_multipart_uploads(Bucket='out').get('Uploads', [])))",
            &[],
        )
        .trim()
        .to_string()
    }

    /// Copies `s3://out/PREFIX/` into `dir`, the URL in Megatron's
    /// `data-path.txt` replaced by `dir` (as a local run names its files).
    fn download(&self, prefix: &str, dir: &Path) {
        self.python(
            "prefix, root = sys.argv[1], sys.argv[2]\n\
             for key in keys(prefix + '/'):\n    \
                 path = os.path.join(root, key[len(prefix) + 1:])\n    \
                 os.makedirs(os.path.dirname(path), exist_ok=True)\n    \
                 body = s3.get_object(Bucket='out', Key=key)['Body'].read()\n    \
                 if key.endswith('data-path.txt'):\n        \
                     body = body.replace(('s3://out/' + prefix).encode(), root.encode())\n    \
                 open(path, 'wb').write(body)",
            &[prefix, dir.to_str().unwrap()],
        );
    }

    /// Nothing under `prefix` but complete objects: no upload markers, no
    /// temporaries, no exchange data, no unfinished multipart uploads.
    fn assert_clean(&self, prefix: &str) {
        self.assert_only_objects(prefix);
        assert_eq!(self.unfinished_uploads(), "", "unfinished multipart uploads");
    }

    /// The keys under `prefix`, none an upload marker, a temporary or
    /// exchange data.
    fn assert_only_objects(&self, prefix: &str) -> Vec<String> {
        let keys = self.keys(prefix);
        let leftovers: Vec<&String> = keys
            .iter()
            .filter(|k| k.contains("/.") || k.contains("_exchange"))
            .collect();
        assert!(leftovers.is_empty(), "{prefix}: left behind: {leftovers:?}");
        keys
    }

    /// [`S3::assert_clean`] after a writer was killed (SIGKILL): the same,
    /// but for an upload the victim may have started in the one request
    /// before its marker was written, which no later run can name (the
    /// gap the README's lifecycle rule covers). Such an upload is allowed
    /// only for an object the finished run then wrote whole; any marker
    /// left behind, or an unfinished upload of anything else, still fails.
    fn assert_clean_after_kill(&self, prefix: &str) {
        let keys = self.assert_only_objects(prefix);
        let unfinished = self.unfinished_uploads();
        let unnamed: Vec<&str> = unfinished.split_whitespace().collect();
        assert!(unnamed.len() <= 1, "unfinished multipart uploads: {unfinished}");
        for key in unnamed {
            assert!(
                keys.iter().any(|k| k == key),
                "an unfinished upload of {key}, which the run did not write whole"
            );
            eprintln!("{key}: an upload the killed shard started before its marker (left to the lifecycle rule)");
        }
    }
}

fn run(args: &[&str], cwd: &Path, env: &[(&str, String)]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_wikitok"))
        .args(args)
        .current_dir(cwd)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    output
}

fn sql(name: &str) -> String {
    repo_root()
        .join("sql")
        .join(format!("{name}.sql"))
        .display()
        .to_string()
}

fn samples() -> String {
    repo_root().join("data/samples").display().to_string()
}

/// A run's command line (a pod's, with `--shard` and its own spill volume).
fn args(name: &str, output: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["run", &sql(name), "--input", &samples(), "--output", output, "-q"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(DEFINES.iter().chain(extra).map(|s| s.to_string()));
    args
}

fn run_ok(args: &[String], cwd: &Path, env: &[(&str, String)]) -> String {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = run(&args, cwd, env);
    assert!(
        output.status.success(),
        "wikitok {}:\n{}",
        args.join(" "),
        stderr(&output)
    );
    stderr(&output)
}

#[test]
fn outputs_in_a_bucket_equal_a_directorys_and_reruns_keep_them() {
    let s3 = S3::start();
    let env = s3.env();
    let root = scratch("bucket-output");
    for name in ["tokenize", "vocab", "megatron"] {
        let local = root.join(format!("{name}-local"));
        run_ok(&args(name, local.to_str().unwrap(), &[]), &root, &[]);
        let prefix = format!("single-{name}");
        run_ok(&args(name, &format!("s3://out/{prefix}"), &[]), &root, &env);
        let downloaded = root.join(format!("{name}-downloaded"));
        s3.download(&prefix, &downloaded);
        assert_eq!(
            contents(&local),
            contents(&downloaded),
            "{name}: s3 differs from a directory"
        );
        assert!(
            s3.keys(&prefix).contains(&format!("{prefix}/_SUCCESS")),
            "{name}: no _SUCCESS"
        );
        s3.assert_clean(&prefix);
    }
    let biggest = s3.python(
        "print(max(s3.head_object(Bucket='out', Key=k)['ContentLength'] for k in keys('single-tokenize/tokens/')))",
        &[],
    );
    assert!(
        biggest.trim().parse::<u64>().unwrap() > 3 * 65536,
        "no file big enough for a multipart upload"
    );

    // A rerun keeps what is committed; --overwrite rewrites it.
    let again = run_ok(&args("tokenize", "s3://out/single-tokenize", &[]), &root, &env);
    assert!(
        again.contains("5 files already committed by an earlier run were kept"),
        "{again}"
    );
    let overwritten = run_ok(
        &args("tokenize", "s3://out/single-tokenize", &["--overwrite"]),
        &root,
        &env,
    );
    assert!(!overwritten.contains("already committed"), "{overwritten}");
    s3.assert_clean("single-tokenize");

    // A URL is never a directory name.
    let refused = run(&["run", &sql("tokenize"), "--output", "ftp://host/x"], &root, &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("not to ftp://"), "{}", stderr(&refused));
    assert!(!root.join("ftp:").exists());
}

/// Shard `index` of 3 as a pod runs it: its own working directory and spill
/// volume, nothing shared but the bucket.
fn spawn_pod(name: &str, prefix: &str, index: usize, pods: &Path, env: &[(&str, String)]) -> Child {
    let pod = pods.join(format!("pod-{index}"));
    let spill = pod.join("spill");
    std::fs::create_dir_all(&spill).unwrap();
    let shard = format!("{index}/3");
    let extra = [
        "--partitions",
        "1",
        "--shard",
        &shard,
        "--spill-dir",
        spill.to_str().unwrap(),
    ];
    Command::new(env!("CARGO_BIN_EXE_wikitok"))
        .args(args(name, &format!("s3://out/{prefix}"), &extra))
        .current_dir(&pod)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child, what: &str) {
    let output = child.wait_with_output().unwrap();
    assert!(!stderr(&output).contains("panicked"), "{what}:\n{}", stderr(&output));
    assert!(output.status.success(), "{what}:\n{}", stderr(&output));
}

#[test]
fn shards_sharing_only_a_bucket_write_one_runs_answer_even_after_a_kill() {
    let s3 = S3::start();
    let env = s3.env();
    let root = scratch("bucket-shards");
    for (name, stage) in [("vocab", "stage-000"), ("megatron", "/write/")] {
        let single = root.join(format!("{name}-single"));
        run_ok(
            &args(name, single.to_str().unwrap(), &["--partitions", "1"]),
            &root,
            &[],
        );
        let prefix = format!("sharded-{name}");
        let pods = root.join(format!("{name}-pods"));

        // Shard 0 alone, killed as soon as it has claimed a task of `stage`
        // (slowed at its claims and commits, so that it is still at work
        // when the claim is seen: the whole run takes well under a second).
        let mut slowed = env.clone();
        slowed.push(("WIKITOK_TEST_SHARD_DELAY_MS", "400".to_string()));
        let mut victim = spawn_pod(name, &prefix, 0, &pods, &slowed);
        let deadline = Instant::now() + Duration::from_secs(120);
        let claimed = loop {
            let keys = s3.keys(&format!("{prefix}/_exchange/"));
            if keys.iter().any(|k| k.contains(stage) && k.contains(".claim-")) {
                break true;
            }
            if Instant::now() > deadline || victim.try_wait().unwrap().is_some() {
                break false;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(claimed, "{name}: shard 0 never claimed a task of {stage}");
        victim.kill().unwrap();
        assert!(
            !victim.wait().unwrap().success(),
            "{name}: shard 0 finished before it was killed"
        );
        assert!(!s3.keys(&prefix).contains(&format!("{prefix}/_SUCCESS")));

        // The same three commands, shard 0 restarted among them.
        let children: Vec<Child> = (0..3).map(|i| spawn_pod(name, &prefix, i, &pods, &env)).collect();
        for (index, child) in children.into_iter().enumerate() {
            finish(child, &format!("{name}: shard {index}/3"));
        }
        let downloaded: PathBuf = root.join(format!("{name}-downloaded"));
        s3.download(&prefix, &downloaded);
        assert_same_output(&single, &downloaded, &format!("{name}, 3 shards on s3 after a kill"));
        s3.assert_clean_after_kill(&prefix);
    }
}

/// 503s and connections cut after a part went up, between wikitok and the
/// bucket: retries, not missing or partial objects.
#[test]
fn cut_connections_and_busy_answers_during_uploads_cost_retries_not_objects() {
    let s3 = S3::start();
    let (_proxy, env) = s3.behind_faults(&["--fail-every", "7", "--cut-parts-every", "3"]);
    let root = scratch("bucket-faults");
    for name in ["tokenize", "megatron"] {
        let local = root.join(format!("{name}-local"));
        run_ok(&args(name, local.to_str().unwrap(), &[]), &root, &[]);
        let prefix = format!("faults-{name}");
        run_ok(&args(name, &format!("s3://out/{prefix}"), &[]), &root, &env);
        let downloaded = root.join(format!("{name}-downloaded"));
        s3.download(&prefix, &downloaded);
        assert_eq!(contents(&local), contents(&downloaded), "{name} through faults");
        s3.assert_clean(&prefix);
    }
}

/// SIGTERM while objects are being uploaded: the uploads are aborted, no
/// object of the interrupted file appears, and the same command resumes.
#[test]
fn sigterm_during_uploads_aborts_them_and_the_same_command_resumes() {
    let s3 = S3::start();
    let env = s3.env();
    // Parts held a while on their way: uploads are caught under way.
    let (_proxy, slow_env) = s3.behind_faults(&["--delay-parts", "0.5"]);
    let root = scratch("bucket-sigterm");
    let dump = root.join("dump");
    let ids = make_dump(&dump, 4, 80);
    let local = root.join("local");
    let slow = ["--input", dump.to_str().unwrap(), "--partitions", "1"];
    let command = |output: &str| -> Vec<String> {
        let mut args: Vec<String> = ["run", &sql("tokenize"), "--output", output, "-q"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(slow.iter().map(|s| s.to_string()));
        args
    };
    run_ok(&command(local.to_str().unwrap()), &repo_root(), &[]);
    assert_eq!(sorted(page_ids(&local.join("tokens"))), ids);

    let child = Command::new(env!("CARGO_BIN_EXE_wikitok"))
        .args(command("s3://out/interrupted"))
        .current_dir(repo_root())
        .envs(slow_env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Signalled once an upload is under way (its marker is in the bucket).
    let deadline = Instant::now() + Duration::from_secs(120);
    while !s3.keys("interrupted/").iter().any(|k| k.ends_with(".upload")) {
        assert!(Instant::now() < deadline, "no upload ever started");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let run = child.wait_with_output().unwrap();
    let log = stderr(&run);
    assert_eq!(run.status.code(), Some(143), "{log}");
    assert!(log.contains("interrupted by SIGTERM"), "{log}");
    s3.assert_clean("interrupted");
    assert!(!s3.keys("interrupted/").contains(&"interrupted/_SUCCESS".to_string()));

    run_ok(&command("s3://out/interrupted"), &repo_root(), &env);
    let downloaded = root.join("downloaded");
    s3.download("interrupted", &downloaded);
    assert_eq!(contents(&local), contents(&downloaded));
    s3.assert_clean("interrupted");
}

/// k8s/overlays/bucket: the Job's exact container command line, run as
/// concurrent local processes (one per index, each with its own spill
/// directory and nothing else on disk), reads the dump from the bucket and
/// writes one run's output to it.
#[test]
fn the_bucket_overlays_pods_share_only_the_bucket_and_write_one_run() {
    let s3 = S3::start();
    s3.python(
        "s3.create_bucket(Bucket='dumps')\n\
         root = sys.argv[1]\n\
         for dirpath, _, files in os.walk(os.path.join(root, 'cirrus_search_index')):\n    \
             for name in files:\n        \
                 path = os.path.join(dirpath, name)\n        \
                 s3.upload_file(path, 'dumps', os.path.relpath(path, root))",
        &[repo_root().join("data/samples").to_str().unwrap()],
    );
    let container = job_container_of("overlays/bucket");
    let mounts = container["mounts"].as_object().unwrap();
    assert!(
        mounts.keys().all(|m| m == "/sql" || m == "/spill"),
        "pods mount more than their SQL and spill: {mounts:?}"
    );
    let mut env = container_env(&container);
    env.insert("DUMP_URL".into(), "s3://dumps/cirrus_search_index/20261115/".into());
    env.insert("OUTPUT_URL".into(), "s3://out/k8s".into());
    let root = scratch("bucket-k8s");
    let pod_args = |spill: &Path| {
        local_args(
            &container,
            &env,
            &[("/sql", repo_root().join("sql")), ("/spill", spill.to_path_buf())],
        )
    };
    let completions = container["completions"].as_u64().unwrap();
    let pods: Vec<Child> = (0..completions)
        .map(|index| {
            let pod = root.join(format!("pod-{index}"));
            let spill = pod.join("spill");
            std::fs::create_dir_all(&spill).unwrap();
            Command::new(env!("CARGO_BIN_EXE_wikitok"))
                .args(pod_args(&spill))
                .arg("--quiet")
                .current_dir(&pod)
                .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .envs(s3.env().iter().map(|(k, v)| (*k, v.as_str())))
                .env("JOB_COMPLETION_INDEX", index.to_string())
                .env("CONTAINER_MEMORY_LIMIT_MIB", "8192")
                .env("WIKITOK_PARTITIONS", "2")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (index, pod) in pods.into_iter().enumerate() {
        finish(pod, &format!("pod {index}"));
    }
    let single = root.join("single");
    run_ok(
        &args("tokenize", single.to_str().unwrap(), &["--partitions", "2"]),
        &root,
        &[],
    );
    let downloaded = root.join("downloaded");
    s3.download("k8s", &downloaded);
    assert_same_output(&single, &downloaded, "the bucket overlay's pods");
    s3.assert_clean("k8s");
}
