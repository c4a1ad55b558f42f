//! The Kubernetes Job's container as `k8s/check.py` renders it, and its
//! command line turned into a local one (pod paths mapped to directories).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use super::{python, repo_root};

/// The Job's container as the kustomization in `k8s/DIR` renders it.
pub fn job_container_of(dir: &str) -> serde_json::Value {
    let out = Command::new(python())
        .args([repo_root().join("k8s/check.py").to_str().unwrap(), "--job-command", dir])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The container's literal environment variables.
pub fn container_env(container: &serde_json::Value) -> BTreeMap<String, String> {
    container["env"]
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
        .collect()
}

/// Expands `$(VAR)` as Kubernetes does and maps the pod's mount paths to
/// local directories.
pub fn local_args(
    container: &serde_json::Value,
    env: &BTreeMap<String, String>,
    mounts: &[(&str, PathBuf)],
) -> Vec<String> {
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
