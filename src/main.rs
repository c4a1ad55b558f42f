//! The `wikitok` binary; everything lives in the library (see `cli`).

fn main() -> std::process::ExitCode {
    wikitok::cli::main()
}
