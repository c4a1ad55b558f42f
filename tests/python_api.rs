//! The Python package, as a user gets it: `pip install .` of this checkout
//! into a fresh venv, then pytest runs tests/python_api/ against it — the
//! `wikitok` console script beside the cargo-built binary, and the module
//! feeding DuckDB, polars, pyarrow and HF `datasets`; splits, per-split
//! reads and the tokenizer over Arrow arrays judged against the binary.

mod common;

use common::package::{pytest, venv_with_package};

#[test]
fn pip_install_gives_the_command_and_the_module_and_pytest_passes() {
    let python = venv_with_package("python-api-venv", "tests/python_api/requirements.txt");
    pytest(
        &python,
        "tests/python_api",
        &[("HF_DATASETS_OFFLINE", "1"), ("HF_HUB_OFFLINE", "1")],
    );
}
