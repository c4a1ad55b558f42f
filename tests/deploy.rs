//! k8s/: the manifests validate offline, and the Job's exact container command
//! line, run locally once per index as an Indexed Job's pods would run it,
//! gives the same output as one run.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;

#[test]
fn manifests_render_and_validate_strictly() {
    let report = run_python_check("k8s/check.py", &[]);
    assert!(report.contains("0 failed"));
}

/// The tokenize Job's container (args, env, mounts), rendered from k8s/.
fn job_container() -> serde_json::Value {
    let out = Command::new(python())
        .args([repo_root().join("k8s/check.py").to_str().unwrap(), "--job-command", ""])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Expands `$(VAR)` as Kubernetes does and maps the pod's mount paths to
/// local directories.
fn local_args(container: &serde_json::Value, env: &BTreeMap<String, String>, mounts: &[(&str, &Path)]) -> Vec<String> {
    container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|arg| {
            let mut arg = arg.as_str().unwrap().to_string();
            for (name, value) in env {
                arg = arg.replace(&format!("$({name})"), value);
            }
            for (pod_path, local) in mounts {
                if let Some(rest) = arg.strip_prefix(pod_path) {
                    arg = format!("{}{rest}", local.display());
                }
            }
            arg
        })
        .collect()
}

#[test]
fn the_jobs_command_line_run_once_per_index_equals_one_run() {
    let container = job_container();
    let completions = container["completions"].as_u64().unwrap();
    assert!(completions > 1);
    let dir = scratch("k8s-simulation");
    let dumps = dir.join("dumps");
    let env: BTreeMap<String, String> = container["env"]
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
        .collect();
    let expected = make_dump(&dumps.join(&env["DUMP_PATH"]), 6, 15);
    let (output, spill) = (dir.join("output"), dir.join("spill"));
    std::fs::create_dir_all(&spill).unwrap();
    let sql = repo_root().join("sql");
    let mounts = [
        ("/dumps", dumps.as_path()),
        ("/output", output.as_path()),
        ("/spill", spill.as_path()),
        ("/sql", sql.as_path()),
    ];
    let args = local_args(&container, &env, &mounts);
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
    let mut single_args = local_args(
        &container,
        &env,
        &[
            ("/dumps", &dumps),
            ("/output", &single),
            ("/spill", &spill),
            ("/sql", &sql),
        ],
    );
    single_args.push("--quiet".into());
    let run = wikitok(&single_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run.status.success());
    let single_output = single.join(&env["OUTPUT_NAME"]);

    // File names may differ (a pod with fewer splits than cores repartitions
    // and names its files part-shard-...); the pages must not.
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
