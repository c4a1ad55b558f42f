//! The Python package as a user gets it: a fresh venv under target/, the
//! requirements of a test directory, `pip install .` of this checkout
//! (maturin builds the extension, reusing this build's compiled dependencies
//! through CARGO_TARGET_DIR), then pytest over that directory against the
//! cargo-built binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{repo_root, scratch};

/// The environment of a user's shell rather than the one cargo gives a test
/// process: the variables cargo sets for tests (`CARGO_PKG_*`,
/// `CARGO_MANIFEST_DIR`, `OUT_DIR`, an extended `LD_LIBRARY_PATH`, ...) would
/// reach the nested cargo under maturin; ring's build script declares
/// `rerun-if-env-changed` on some of them, so ring and everything above it
/// (object_store, all of DataFusion) would be compiled a second time.
/// Cargo settings a user gives through the environment (`CARGO_HOME`,
/// `CARGO_NET_*`, ...) stay.
fn as_a_users_shell(command: &mut Command) {
    const SET_FOR_TESTS: &[&str] = &[
        "CARGO_PKG_",
        "CARGO_MANIFEST_",
        "CARGO_CRATE_",
        "CARGO_BIN_",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
    ];
    for (key, _) in std::env::vars_os() {
        let name = key.to_string_lossy();
        let set_by_cargo = name == "CARGO"
            || ["OUT_DIR", "LD_LIBRARY_PATH"].contains(&name.as_ref())
            || SET_FOR_TESTS.iter().any(|prefix| name.starts_with(prefix));
        if set_by_cargo {
            command.env_remove(&key);
        }
    }
}

/// A fresh venv `target/VENV` with `requirements` (a file of the
/// repository) and this checkout's package installed; returns its python.
pub fn venv_with_package(venv: &str, requirements: &str) -> PathBuf {
    let root = repo_root();
    let venv = root.join("target").join(venv);
    let _ = std::fs::remove_dir_all(&venv);
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(status.success(), "python3 -m venv failed");
    let python = venv.join("bin").join("python");
    let pip = |args: &[&str]| {
        let mut command = Command::new(&python);
        as_a_users_shell(&mut command);
        let status = command
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .args(args)
            .current_dir(&root)
            .env("CARGO_TARGET_DIR", root.join("target"))
            .status()
            .unwrap();
        assert!(status.success(), "pip install {args:?} failed");
    };
    pip(&["-r", requirements]);
    pip(&["."]);
    python
}

/// pytest over `tests` (a directory of the repository) with `python`; the
/// tests find the binary in WIKITOK_BINARY and a scratch directory in
/// WIKITOK_SCRATCH. Fails with pytest's report unless every test passed.
pub fn pytest(python: &Path, tests: &str, env: &[(&str, &str)]) {
    let output = Command::new(python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", tests])
        .current_dir(repo_root())
        .env("WIKITOK_BINARY", env!("CARGO_BIN_EXE_wikitok"))
        .env("WIKITOK_SCRATCH", scratch(&tests.replace('/', "-")))
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{report}");
    // pytest's exit code 5: no tests collected — a broken test directory, not a pass.
    assert_ne!(output.status.code(), Some(5), "pytest collected no tests:\n{report}");
    assert!(output.status.success(), "pytest failed:\n{report}");
}
