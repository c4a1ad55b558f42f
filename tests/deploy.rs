//! k8s/: the manifests validate offline, and the Job's exact container command
//! line, run locally once per index as an Indexed Job's pods would run it,
//! gives the same output as one run.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::k8s::{container_env, job_container_of, local_args};
use common::*;

#[test]
fn manifests_render_and_validate_strictly() {
    let report = run_python_check("k8s/check.py", &[]);
    assert!(report.contains("0 failed"));
}

/// The engines' custom resources are checked, not waved through: a copy of
/// k8s/ with mistakes a user could make in them fails, naming each.
#[test]
fn the_engines_manifests_are_checked_field_by_field() {
    let root = scratch("k8s-engines-broken");
    let copy = |from: &str| {
        let status = Command::new("cp")
            .args([
                "-r",
                &repo_root().join(from).to_string_lossy(),
                &root.join(from).to_string_lossy(),
            ])
            .status()
            .unwrap();
        assert!(status.success());
    };
    std::fs::create_dir_all(root.join("tests/engines")).unwrap();
    std::fs::create_dir_all(root.join("python")).unwrap();
    for part in [
        "k8s",
        "sql",
        "examples",
        "tests/engines/requirements.txt",
        "Dockerfile",
        "src",
        "python/src",
    ] {
        copy(part);
    }
    let edit = |file: &str, from: &str, to: &str| {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    };
    edit(
        "k8s/engines/ray/rayjob.yaml",
        "rayVersion: \"2.60.0\"",
        "rayVersion: \"2.9.0\"",
    );
    edit(
        "k8s/engines/ray/rayjob.yaml",
        "/opt/wikitok/ray_tokenize.py",
        "/opt/wikitok/tokenize_on_ray.py",
    );
    edit(
        "k8s/engines/ray/rayjob.yaml",
        "limits:\n                    cpu: \"4\"\n                    memory: 8Gi\n",
        "limits:\n                    cpu: \"4\"\n",
    );
    edit(
        "k8s/engines/spark/sparkapplication.yaml",
        "  imagePullPolicy:",
        "  imagePulPolicy:",
    );
    edit(
        "k8s/engines/spark/sparkapplication.yaml",
        "sparkVersion: \"4.0.1\"",
        "sparkVersion: \"3.5.1\"",
    );
    // An image whose build stage misses the template data the crate compiles in.
    edit("Dockerfile", "COPY data/templates ./data/templates\n", "");
    let templates = std::fs::read_dir(repo_root().join("data/templates"))
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().path().extension().is_some_and(|e| e == "toml"))
        .count();
    let check = Command::new(python()).arg(root.join("k8s/check.py")).output().unwrap();
    let report = String::from_utf8_lossy(&check.stdout).to_string();
    eprintln!("{report}");
    assert!(!check.status.success(), "the broken manifests passed:\n{report}");
    for expected in [
        "RayJob wikitok-tokenize: rayVersion 2.9.0",
        "/opt/wikitok/tokenize_on_ray.py is not one of examples/",
        "group readers: container ray-worker has no memory limit",
        "SparkApplication wikitok-tokenize: spec: unknown field 'imagePulPolicy'",
        "sparkVersion < 4",
        "Dockerfile: its build stage does not copy data/templates/en.toml",
    ] {
        assert!(
            report.contains(expected),
            "the check did not report {expected:?}:\n{report}"
        );
    }
    assert!(report.contains(&format!("{} failed", 6 + templates)), "{report}");
}

/// The tokenize Job's container (args, env, mounts), rendered from k8s/.
fn job_container() -> serde_json::Value {
    job_container_of("")
}

/// The pod's volumes as local directories (`/sql` is the repository's `sql/`).
fn pod_mounts(dumps: &Path, output: &Path, spill: &Path) -> Vec<(&'static str, PathBuf)> {
    vec![
        ("/dumps", dumps.to_path_buf()),
        ("/output", output.to_path_buf()),
        ("/spill", spill.to_path_buf()),
        ("/sql", repo_root().join("sql")),
    ]
}

#[test]
fn the_jobs_command_line_run_once_per_index_equals_one_run() {
    let container = job_container();
    let completions = container["completions"].as_u64().unwrap();
    assert!(completions > 1);
    let dir = scratch("k8s-simulation");
    let dumps = dir.join("dumps");
    let env = container_env(&container);
    let expected = make_dump(&dumps.join(&env["DUMP_PATH"]), 6, 15);
    let (output, spill) = (dir.join("output"), dir.join("spill"));
    std::fs::create_dir_all(&spill).unwrap();
    let args = local_args(&container, &env, &pod_mounts(&dumps, &output, &spill));
    assert!(
        args.iter().any(|a| a == spill.to_str().unwrap()),
        "--spill-dir is the mounted spill volume: {args:?}"
    );

    let memory_mib = container["memory_limit"]
        .as_str()
        .unwrap()
        .strip_suffix("Gi")
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 1024;
    for index in 0..completions {
        let status = Command::new(env!("CARGO_BIN_EXE_wikitok"))
            .args(&args)
            .arg("--quiet")
            .current_dir(repo_root())
            .envs(&env)
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .env("CONTAINER_MEMORY_LIMIT_MIB", memory_mib.to_string())
            .env("WIKITOK_PARTITIONS", container["cpu_limit"].as_str().unwrap())
            .status()
            .unwrap();
        assert!(status.success(), "pod {index} failed");
    }
    let pods_output = output.join(&env["OUTPUT_NAME"]);
    assert!(
        pods_output.join("_SUCCESS").exists(),
        "the last pod marks the output complete"
    );

    let single = dir.join("single");
    let mut single_args = local_args(&container, &env, &pod_mounts(&dumps, &single, &spill));
    single_args.push("--quiet".into());
    let run = wikitok(&single_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run.status.success());
    let single_output = single.join(&env["OUTPUT_NAME"]);

    assert_eq!(
        files_under(&pods_output.join("tokens")),
        files_under(&single_output.join("tokens")),
        "the pods write the files of one run"
    );
    let mut pod_ids = page_ids(&pods_output.join("tokens"));
    pod_ids.sort();
    assert_eq!(pod_ids, expected, "every page exactly once across the pods");
    let mut single_ids = page_ids(&single_output.join("tokens"));
    single_ids.sort();
    assert_eq!(pod_ids, single_ids);
}

#[test]
fn usage_errors_exit_with_2_for_the_pod_failure_policy() {
    let bad_flag = wikitok(&["run", "sql/tokenize.sql", "--no-such-flag"]);
    assert_eq!(bad_flag.status.code(), Some(2));
    let bad_shard = wikitok(&["run", "sql/tokenize.sql", "--shard", "5/3"]);
    assert_eq!(bad_shard.status.code(), Some(2));
    let bad_input = wikitok(&[
        "run",
        "sql/tokenize.sql",
        "--input",
        "/nonexistent/dump",
        "--output",
        scratch("exit-codes").to_str().unwrap(),
    ]);
    assert_eq!(bad_input.status.code(), Some(1));
}

/// overlays/megatron: 8 pods, 4 at a time, each running the Job's command
/// line; the second wave starts only when the first has exited (as
/// Kubernetes runs them with `parallelism` < `completions`). Nobody may wait
/// for a pod that has not started, and the shuffled datasets are the bytes
/// of one unsharded run.
#[test]
fn the_megatron_overlay_in_waves_of_pods_equals_one_run() {
    let container = job_container_of("overlays/megatron");
    let completions = container["completions"].as_u64().unwrap() as usize;
    let parallelism = container["parallelism"].as_u64().unwrap() as usize;
    assert!(parallelism < completions, "the overlay runs pods in waves");
    let dir = scratch("k8s-megatron-waves");
    let dumps = dir.join("dumps");
    let env = container_env(&container);
    make_dump(&dumps.join(&env["DUMP_PATH"]), 6, 15);
    let (output, spill) = (dir.join("output"), dir.join("spill"));
    std::fs::create_dir_all(&spill).unwrap();
    let args = local_args(&container, &env, &pod_mounts(&dumps, &output, &spill));
    let pod = |index: usize| {
        Command::new(env!("CARGO_BIN_EXE_wikitok"))
            .args(&args)
            .args(["--quiet", "--partitions", "2"])
            .current_dir(repo_root())
            .envs(&env)
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .env("CONTAINER_MEMORY_LIMIT_MIB", "4096")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    for wave in (0..completions).collect::<Vec<_>>().chunks(parallelism) {
        let pods: Vec<_> = wave.iter().map(|&index| (index, pod(index))).collect();
        for (index, child) in pods {
            let run = child.wait_with_output().unwrap();
            assert!(run.status.success(), "pod {index}: {}", stderr(&run));
        }
    }
    let pods_output = output.join(&env["OUTPUT_NAME"]);
    assert!(
        pods_output.join("_SUCCESS").exists(),
        "the last pod marks the output complete"
    );

    let single = dir.join("single");
    let mut single_args = local_args(&container, &env, &pod_mounts(&dumps, &single, &spill));
    single_args.extend(["--quiet".to_string(), "--partitions".to_string(), "2".to_string()]);
    let run = wikitok_with_env(
        &single_args.iter().map(String::as_str).collect::<Vec<_>>(),
        &[("CONTAINER_MEMORY_LIMIT_MIB", "4096".to_string())],
    );
    assert!(run.status.success());
    let single_output = single.join(&env["OUTPUT_NAME"]);
    for split in ["train", "valid"] {
        let datasets = |root: &Path| -> Vec<(String, Vec<u8>)> {
            files_under(&root.join("megatron").join(split))
                .into_iter()
                .filter(|f| f.ends_with(".bin") || f.ends_with(".idx"))
                .map(|f| {
                    (
                        f.clone(),
                        std::fs::read(root.join("megatron").join(split).join(&f)).unwrap(),
                    )
                })
                .collect()
        };
        let (pods, one) = (datasets(&pods_output), datasets(&single_output));
        assert!(!one.is_empty() || split == "valid", "no {split} datasets");
        assert_eq!(
            pods.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            one.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            "{split}: other files"
        );
        assert!(pods == one, "{split}: the datasets' bytes differ");
    }
}
