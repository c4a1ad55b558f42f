//! The command line: `wikitok run | explain`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::dump::reader::ReadConfig;
use crate::job::{Job, JobConfig};
use crate::script::parse_define;
use crate::writer::WriteOptions;

/// Where the embedded sample lives, relative to the repository root.
pub const DEFAULT_INPUT: &str = "data/samples";
pub const DEFAULT_TOKENIZER: &str = "data/samples/tokenizer/cl100k_base.tokenizer.json";

#[derive(Parser, Debug)]
#[command(
    name = "wikitok",
    version,
    about = "Wikipedia CirrusSearch dumps → Parquet token tables"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a SQL file's statements; COPY ... TO writes Parquet, one file per partition.
    Run(JobArgs),
    /// Print each statement's physical plan; writes nothing.
    Explain(JobArgs),
}

#[derive(Args, Debug, Clone)]
pub struct JobArgs {
    /// The SQL file to run (see sql/).
    pub sql_file: PathBuf,

    /// A dump file, a directory (searched recursively) or a glob; repeatable.
    #[arg(long, default_value = DEFAULT_INPUT)]
    pub input: Vec<String>,

    /// A Hugging Face tokenizer.json, as PATH or NAME=PATH; repeatable; the first is the default.
    #[arg(long, default_value = DEFAULT_TOKENIZER)]
    pub tokenizer: Vec<String>,

    /// Output directory, available to SQL as ${output}.
    #[arg(long, default_value = "out")]
    pub output: PathBuf,

    /// Target partitions for DataFusion (default: the number of cores).
    #[arg(long)]
    pub partitions: Option<usize>,

    /// Set a SQL variable: -D NAME=VALUE makes ${NAME} available; repeatable.
    #[arg(short = 'D', value_name = "NAME=VALUE")]
    pub define: Vec<String>,

    /// Rewrite output files an earlier run already committed (default: keep them and skip their splits).
    #[arg(long)]
    pub overwrite: bool,

    /// Rows per record batch (batches are also capped at 16 MiB of text).
    #[arg(long, default_value_t = 8192)]
    pub batch_size: usize,

    /// Fail the run once more bad records than this were skipped.
    #[arg(long, default_value_t = 1000)]
    pub max_bad_records: u64,
}

impl JobArgs {
    pub fn job_config(&self) -> Result<JobConfig> {
        let mut variables = BTreeMap::new();
        variables.insert("output".to_string(), self.output.display().to_string());
        variables.insert("input".to_string(), self.input.join(","));
        for define in &self.define {
            let (name, value) = parse_define(define)?;
            variables.insert(name, value);
        }
        let partitions = self
            .partitions
            .unwrap_or_else(|| std::thread::available_parallelism().map(usize::from).unwrap_or(1));
        Ok(JobConfig {
            inputs: self.input.clone(),
            tokenizers: self.tokenizer.clone(),
            output: self.output.clone(),
            partitions,
            variables,
            read: ReadConfig {
                batch_rows: self.batch_size.max(1),
                max_bad_records: self.max_bad_records,
                ..ReadConfig::default()
            },
            write: WriteOptions {
                overwrite: self.overwrite,
                ..WriteOptions::default()
            },
        })
    }
}

/// Runs the command line; the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run_command(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run_command(command: Command) -> Result<()> {
    match command {
        Command::Run(args) => {
            let job = Job::new(args.job_config()?)?;
            let outcome = job.run_file(&args.sql_file).await?;
            let stats = job.read_stats();
            eprintln!("{}", crate::job::format_summary(job.split_count(), stats, &outcome));
            Ok(())
        }
        Command::Explain(args) => {
            let job = Job::new(args.job_config()?)?;
            print!("{}", job.explain_file(&args.sql_file).await?);
            Ok(())
        }
    }
}
