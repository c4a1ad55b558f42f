//! wikitok inside the engines its users run: `wikitok.ray` on a local Ray
//! (2 CPUs) and `wikitok.spark` on Spark `local[2]`, started by the tests in
//! a fresh venv with the engines (tests/engines/requirements.txt, ~1.1 GB of
//! wheels from PyPI) and `pip install .`, each judged against the binary on
//! the same dump: rows, a group-by of the tokens against vocab.sql, the
//! tokenizer as an Arrow function, and a Ray worker killed mid-read.
//! Spark needs Java 17+ on PATH. Alone: `cargo test --release --test engines`.

mod common;

use common::package::{pytest, venv_with_package};

#[test]
fn ray_and_spark_read_split_by_split_with_the_command_lines_answers() {
    let java = std::process::Command::new("java").arg("-version").output();
    assert!(
        java.is_ok_and(|o| o.status.success()),
        "Spark needs Java 17+ on PATH (Debian: apt-get install openjdk-17-jre-headless)"
    );
    let python = venv_with_package("engines-venv", "tests/engines/requirements.txt");
    pytest(&python, "tests/engines", &[]);
}
