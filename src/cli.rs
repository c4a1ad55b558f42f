//! The command line: `wikitok run | explain | sql | schema | head`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use tokio::sync::oneshot;
use tracing_subscriber::EnvFilter;

use crate::destination::Destination;
use crate::interrupt::{self, Interruption};
use crate::job::{Job, JobConfig};
use crate::progress::ProgressMode;
use crate::runtime::{default_memory_limit, parse_memory_limit, parse_size, RuntimeSettings};
use crate::script::parse_define;
use crate::shard::Shard;
use crate::sink::WriteOptions;
use crate::source::format::ReadConfig;
use crate::source::storage::RetryOptions;
use crate::tokenizer::TokenizerBackend;
use crate::wikitext::UserTemplates;

/// Where the embedded sample lives, relative to the repository root.
pub const DEFAULT_INPUT: &str = "data/samples";
/// Built into the binary (tiktoken's ids): works in any directory.
pub const DEFAULT_TOKENIZER: &str = "cl100k_base";

#[derive(Parser, Debug)]
#[command(
    name = "wikitok",
    version,
    about = "Wikipedia dumps (CirrusSearch JSON or MediaWiki XML) → token tables and trainer-ready files, \
             with SQL over a streaming `pages` table"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a SQL file's statements; COPY ... TO 'DIR' STORED AS PARQUET | CSV | JSON | MEGATRON |
    /// PACKED writes one file per partition, atomically, then OUTPUT/_SUCCESS (the run summary).
    Run(FileArgs),
    /// Print each statement's physical plan; writes nothing (settings, views and tables are
    /// set up as a run would, so later statements plan as they will run).
    Explain(FileArgs),
    /// Run SQL given on the command line and print the result, e.g.
    /// wikitok sql "SELECT title, token_count(text) FROM pages LIMIT 5"
    Sql(QueryArgs),
    /// Print the columns of the `pages` table.
    Schema,
    /// Print the first pages of a dump file or directory: id, namespace, text length, title.
    Head {
        /// A dump file, directory or glob.
        path: String,
        /// How many pages.
        #[arg(short = 'n', default_value_t = 10)]
        n: usize,
    },
}

#[derive(Args, Debug, Clone)]
pub struct FileArgs {
    /// The SQL file to run (see sql/).
    pub sql_file: PathBuf,

    #[command(flatten)]
    pub job: JobArgs,
}

#[derive(Args, Debug, Clone)]
pub struct QueryArgs {
    /// One or more SQL statements.
    pub query: String,

    #[command(flatten)]
    pub job: JobArgs,
}

#[derive(Args, Debug, Clone)]
pub struct JobArgs {
    /// A dump file, a directory (searched recursively for *.json, *.json.gz, *.json.bz2 —
    /// CirrusSearch — and *.xml, *.xml.gz, *.xml.bz2, *.xml-p*p*.bz2 — MediaWiki XML), a glob,
    /// or a URL (s3://, gs://, az://, http(s)://); repeatable.
    #[arg(long, default_value = DEFAULT_INPUT)]
    pub input: Vec<String>,

    /// A tokenizer: a built-in one by name (cl100k_base, o200k_base), or a Hugging Face tokenizer.json as
    /// PATH or NAME=PATH; repeatable; the first is the default. Loaded only when a statement calls a tokenizer function.
    #[arg(long, default_value = DEFAULT_TOKENIZER)]
    pub tokenizer: Vec<String>,

    /// Who encodes page text: `fast` (exact byte-level BPE, for cl100k/GPT-2/Llama-3-style
    /// files), `hf` (Hugging Face tokenizers), or `auto` (fast when the file allows it).
    #[arg(long, value_enum, default_value_t = TokenizerBackend::Auto, env = "WIKITOK_TOKENIZER_BACKEND")]
    pub tokenizer_backend: TokenizerBackend,

    /// Output directory or bucket prefix (s3://, gs://, az://), available to SQL as ${output}.
    #[arg(long, default_value = "out")]
    pub output: String,

    /// Target partitions for DataFusion (default: the number of cores).
    #[arg(long, env = "WIKITOK_PARTITIONS")]
    pub partitions: Option<usize>,

    /// Set a SQL variable: -D NAME=VALUE makes ${NAME} available; repeatable.
    #[arg(short = 'D', value_name = "NAME=VALUE")]
    pub define: Vec<String>,

    /// Rewrite output files an earlier run already committed (default: keep them and skip their splits).
    #[arg(long)]
    pub overwrite: bool,

    /// Rows per record batch (batches are also capped at 16 MiB of text). DataFusion
    /// coalesces filtered batches up to this many rows, so it bounds memory: with
    /// Wikipedia's long-tailed page sizes, 8192 pages can hold hundreds of MB.
    #[arg(long, default_value_t = 1024)]
    pub batch_size: usize,

    /// Fail the run once more bad records than this were skipped.
    #[arg(long, default_value_t = 1000)]
    pub max_bad_records: u64,

    /// Memory for sorts, aggregations and joins before they spill: a size (4GiB) or a
    /// percentage of the container's memory limit (60%). Default: 80% of the container's
    /// limit (CONTAINER_MEMORY_LIMIT_MIB or the cgroup's), else 50% of RAM.
    #[arg(long, value_name = "SIZE", env = "WIKITOK_MEMORY_LIMIT")]
    pub memory_limit: Option<String>,

    /// Where spill files go (a mounted volume); repeatable. Without it, spilling is disabled.
    #[arg(long, value_name = "DIR", env = "WIKITOK_SPILL_DIR")]
    pub spill_dir: Vec<PathBuf>,

    /// Cap on spill files on disk; reaching it ends the run with an error.
    #[arg(long, value_name = "SIZE", default_value = "100GiB")]
    pub max_spill: String,

    /// This process is shard I of N (0-based, e.g. 2/8) of one run: N processes with the
    /// same command and output together write exactly what one process writes.
    /// Default: JOB_COMPLETION_INDEX/JOB_COMPLETION_COUNT when set (Kubernetes Indexed Jobs).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,

    /// Sharded runs: the longest a shard waits for tasks other shards are running
    /// (stages of aggregates, joins, shuffles) before it gives up with an error.
    #[arg(long, value_name = "SECONDS", default_value_t = 14400.0)]
    pub shard_wait_timeout: f64,

    /// Sharded runs: a task claim not renewed for this long belongs to a shard that died;
    /// another shard takes the task over (live shards renew theirs every few seconds).
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub shard_claim_timeout: f64,

    /// Sharded runs: keep the exchange data (OUTPUT/_exchange/) after the run completes.
    #[arg(long)]
    pub keep_exchange: bool,

    /// No progress bar or progress lines.
    #[arg(long, short)]
    pub quiet: bool,

    /// Read a current-layout directory (index_name=...) even without its _SUCCESS marker.
    #[arg(long)]
    pub allow_incomplete: bool,

    /// A sample run: at most N pages, taken from every split, so the plan and the
    /// output files keep the partitioning of a full run (unlike LIMIT).
    #[arg(long, value_name = "N")]
    pub max_pages: Option<u64>,

    /// Plain and bzip2 files at least twice this size are divided into byte ranges
    /// (bzip2 at block boundaries) when there are fewer files than partitions; files
    /// over 256 MiB always are, into pieces of at most ~256 MiB.
    #[arg(long, value_name = "SIZE", default_value = "1MiB")]
    pub min_split_size: String,

    /// Lines longer than this are skipped as bad records (guards memory against a
    /// file without newlines).
    #[arg(long, value_name = "SIZE", default_value = "256MiB")]
    pub max_line_size: String,

    /// Remote inputs: failures in a row (refused requests, cut or stalled bodies)
    /// before a read gives up with a network error. Cut bodies resume where they stopped.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_retries: usize,

    /// Remote inputs: a response body that delivers no byte for this many seconds
    /// has failed (and is resumed).
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub read_timeout: f64,

    /// MediaWiki XML: a template file (TOML, the format of data/templates/) that adds or
    /// overrides how templates render, for every wiki or the `language` it names; repeatable.
    #[arg(long, value_name = "FILE")]
    pub templates: Vec<PathBuf>,
}

/// Marks errors in the command line itself; the process exits with 2 for
/// them (as for clap's own usage errors), so a Kubernetes podFailurePolicy can
/// fail fast instead of retrying.
#[derive(Debug)]
pub struct UsageError;

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid command line")
    }
}

impl JobArgs {
    pub fn job_config(&self) -> Result<JobConfig> {
        self.parse_job_config().map_err(|e| e.context(UsageError))
    }

    fn parse_job_config(&self) -> Result<JobConfig> {
        let mut variables = BTreeMap::new();
        let mut output = self.output.clone();
        if Destination::is_url(&output) {
            // Refused here, before any work: a usage error (exit 2).
            Destination::parse(&output, RetryOptions::default()).context("--output")?;
            output = output.trim_end_matches('/').to_string();
        }
        variables.insert("output".to_string(), output.clone());
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
            tokenizer_backend: self.tokenizer_backend,
            output,
            partitions,
            variables,
            read: ReadConfig {
                batch_rows: self.batch_size.max(1),
                max_bad_records: self.max_bad_records,
                max_line_bytes: usize::try_from(parse_size(&self.max_line_size).context("--max-line-size")?)
                    .unwrap_or(usize::MAX),
                templates: UserTemplates::load(&self.templates).context("--templates")?,
                ..ReadConfig::default()
            },
            write: WriteOptions {
                overwrite: self.overwrite,
                sample: self.max_pages.map(|n| format!("max_pages={n}")),
                ..WriteOptions::default()
            },
            runtime: RuntimeSettings {
                memory_limit: match &self.memory_limit {
                    Some(limit) => parse_memory_limit(limit).context("--memory-limit")?,
                    None => default_memory_limit(),
                },
                spill_dirs: self.spill_dir.clone(),
                max_spill: parse_size(&self.max_spill).context("--max-spill")?,
            },
            shard: match &self.shard {
                Some(shard) => Some(Shard::parse(shard)?),
                None => Shard::from_env()?,
            },
            shard_wait_timeout: Duration::try_from_secs_f64(self.shard_wait_timeout)
                .ok()
                .filter(|t| !t.is_zero())
                .context("--shard-wait-timeout: a positive number of seconds")?,
            shard_claim_timeout: Duration::try_from_secs_f64(self.shard_claim_timeout)
                .ok()
                .filter(|t| !t.is_zero())
                .context("--shard-claim-timeout: a positive number of seconds")?,
            keep_exchange: self.keep_exchange,
            progress: ProgressMode::detect(self.quiet),
            allow_incomplete: self.allow_incomplete,
            max_pages: self.max_pages,
            min_split_bytes: parse_size(&self.min_split_size).context("--min-split-size")?,
            retry: RetryOptions {
                max_retries: self.max_retries,
                read_timeout: Duration::try_from_secs_f64(self.read_timeout)
                    .ok()
                    .filter(|t| !t.is_zero())
                    .context("--read-timeout: a positive number of seconds")?,
            },
        })
    }
}

/// Runs the command line of this process, interrupted by SIGTERM/SIGINT;
/// the process exit code.
pub fn main() -> ExitCode {
    let interrupted = match interrupt::listen() {
        Ok(receiver) => receiver,
        Err(e) => {
            eprintln!("error: cannot listen for SIGTERM: {e}");
            return ExitCode::FAILURE;
        }
    };
    ExitCode::from(main_with(std::env::args_os(), interrupted))
}

/// Runs the command line `args` (`args[0]` is the program name), stopping
/// tidily when `interrupted` completes; the exit code. The binary hands in
/// its signal listener; an embedding host (Python) hands in its own.
pub fn main_with<I, T>(args: I, interrupted: oneshot::Receiver<Interruption>) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    crate::runtime::limit_malloc_arenas();
    let cli = Cli::parse_from(args);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    // The command runs as a task of its own: a storage call it blocks on
    // (retrying for minutes) must not keep this select from seeing a signal
    // — Kubernetes SIGKILLs 30 s after SIGTERM.
    let outcome = runtime.block_on(async {
        let mut command = tokio::spawn(run_command(cli.command));
        tokio::select! {
            outcome = &mut command => Ok(outcome.unwrap_or_else(|e| Err(anyhow::anyhow!("the run failed: {e}")))),
            Ok(signal) = interrupted => {
                // No new work starts: the run is dropped at its next await.
                command.abort();
                Err(signal)
            }
        }
    });
    let code = match outcome {
        Ok(Ok(())) => 0,
        Ok(Err(e)) if e.downcast_ref::<UsageError>().is_some() => {
            eprintln!("error: {}", error_chain(&e));
            2
        }
        Ok(Err(e)) => {
            eprintln!("error: {}", error_chain(&e));
            1
        }
        Err(signal) => {
            // The run's future is gone: no new work starts. Remove what was
            // in flight before anything else can be said or done.
            let (committed, discarded) = crate::destination::discard_all();
            eprintln!(
                "error: interrupted by {signal}: {committed} splits committed, {discarded} in flight discarded; \
                 rerun the same command to resume"
            );
            signal.exit_code()
        }
    };
    crate::destination::settle();
    // Reader threads notice their consumers are gone within a batch; do not
    // wait on a straggler longer than that.
    runtime.shutdown_timeout(Duration::from_secs(5));
    code
}

/// An error and its causes on one line, each said once: a cause whose text
/// the message before it already contains (an I/O error quoted by each
/// layer that passed it on) is left out.
pub fn error_chain(error: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if text.is_empty() || out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

async fn run_command(command: Command) -> Result<()> {
    match command {
        Command::Run(args) => {
            let job = Job::new(args.job.job_config()?)?;
            let summary = job.run_file(&args.sql_file).await?;
            eprintln!("{}", summary.to_text());
            Ok(())
        }
        Command::Explain(args) => {
            let job = Job::new(args.job.job_config()?)?;
            print!("{}", job.explain_file(&args.sql_file).await?);
            Ok(())
        }
        Command::Sql(args) => {
            let mut config = args.job.job_config()?;
            config.progress = ProgressMode::Quiet;
            Job::new(config)?.run_query_text(&args.query).await
        }
        Command::Head { path, n } => {
            print!("{}", crate::head::head(&path, n)?);
            Ok(())
        }
        Command::Schema => {
            print!("{}", crate::source::schema::describe_schema());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The README's flag table: `(flag, default column)` per row.
    fn readme_flags() -> Vec<(String, String)> {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        readme
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let flag = cells.get(1)?.strip_prefix('`')?.split(['`', ' ']).next()?;
                flag.starts_with('-')
                    .then(|| (flag.to_string(), cells.get(2).unwrap_or(&"").to_string()))
            })
            .collect()
    }

    #[test]
    fn the_readme_flag_table_is_the_command_line() {
        let command = Cli::command();
        let run = command.find_subcommand("run").unwrap();
        let readme = readme_flags();
        let mut flags = Vec::new();
        for arg in run.get_arguments() {
            let flag = match (arg.get_long(), arg.get_short()) {
                (Some("help" | "version"), _) | (None, None) => continue,
                (Some(long), _) => format!("--{long}"),
                (None, Some(short)) => format!("-{short}"),
            };
            let Some((_, default)) = readme.iter().find(|(f, _)| *f == flag) else {
                panic!("{flag} is not in the README's flag table");
            };
            for value in arg.get_default_values() {
                let value = format!("`{}`", value.to_string_lossy());
                assert!(
                    default.contains(&value),
                    "{flag}: README's default {default:?}, the code's {value}"
                );
            }
            flags.push(flag);
        }
        for (flag, _) in &readme {
            assert!(
                flags.contains(flag),
                "the README documents {flag}, which `wikitok run` does not take"
            );
        }
    }

    #[test]
    fn input_help_names_the_files_discovery_takes() {
        let command = Cli::command();
        let run = command.find_subcommand("run").unwrap();
        let input = run.get_arguments().find(|a| a.get_long() == Some("input")).unwrap();
        let help = input.get_help().unwrap().to_string();
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let readme_row = readme.lines().find(|l| l.starts_with("| `--input`")).unwrap();
        for pattern in crate::source::storage::discover::DUMP_NAMES.split(", ") {
            assert!(help.contains(pattern), "--input's help does not name {pattern}: {help}");
            assert!(
                readme_row.contains(&format!("`{pattern}`")),
                "the README's --input row does not name {pattern}"
            );
        }
    }

    #[test]
    fn each_cause_is_said_once() {
        let disk = std::io::Error::from_raw_os_error(28);
        let error = anyhow::Error::new(disk)
            .context(format!(
                "writing out/x.parquet: {}",
                std::io::Error::from_raw_os_error(28)
            ))
            .context("statement 1 of sql/tokenize.sql");
        let text = error_chain(&error);
        assert_eq!(text.matches("No space left on device").count(), 1, "{text}");
        assert!(
            text.starts_with("statement 1 of sql/tokenize.sql: writing out/x.parquet"),
            "{text}"
        );
    }
}
