//! wikitok inside another program: the Python module (`python/`).
//!
//! The host hands in command-line arguments, which the command line's own
//! clap definitions parse (the same flags, defaults and checks), and gets
//! the same job: a SQL file's run and its summary, or a query's rows as a
//! stream of Arrow IPC messages, pulled one batch at a time. For engines
//! that schedule the work themselves (Ray, Spark): the input's splits as
//! descriptors, one split's per-page query, and the tokenizer functions
//! over an Arrow column. The host owns
//! signals — Python runs its own handlers — and passes an interruption in.
//! Nothing here duplicates the job's logic.

use std::ffi::OsString;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::{ArgAction, CommandFactory, Parser};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use crate::cli::{Cli, Command, UsageError};
pub use crate::interrupt::Interruption;
use crate::job::{Job, JobConfig};
use crate::progress::ProgressMode;
use crate::source::stats::ReadStats;
use crate::source::storage::SplitDescriptor;
use crate::tokenizer::{tokenize_array, TokenizerSet};

/// One runtime for every query and run of the process.
fn runtime() -> Result<&'static Runtime> {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("wikitok")
        .build()
        .map_err(|e| anyhow!("cannot start the async runtime: {e}"))?;
    Ok(RUNTIME.get_or_init(|| runtime))
}

/// Warnings and errors to stderr (`RUST_LOG` to see more), set up once.
fn init_logging() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_target(false)
            .try_init();
    });
}

/// `wikitok SUBCOMMAND ARGS...` as the command line parses it.
fn parse(subcommand: &str, args: Vec<String>) -> Result<Command> {
    let argv = ["wikitok", subcommand].into_iter().map(String::from).chain(args);
    Cli::try_parse_from(argv)
        .map(|cli| cli.command)
        .map_err(|e| anyhow!("{}", e.render().to_string().trim_end()).context(UsageError))
}

/// The job flags of `wikitok run`, as `(long name, kind)` — kind `switch`
/// (no value), `value` or `values` (repeatable) — for keyword arguments.
pub fn job_flags() -> Vec<(String, String)> {
    let command = Cli::command();
    let Some(run) = command.find_subcommand("run") else {
        return Vec::new();
    };
    run.get_arguments()
        .filter_map(|arg| {
            let long = arg.get_long()?;
            let kind = match arg.get_action() {
                ArgAction::SetTrue | ArgAction::SetFalse | ArgAction::Count => "switch",
                ArgAction::Append => "values",
                ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version => return None,
                _ => "value",
            };
            Some((long.to_string(), kind.to_string()))
        })
        .collect()
}

/// The command line, run on a thread of its own (`argv[0]` is the program).
pub struct CommandLine {
    exit_code: Receiver<u8>,
    interrupt: Option<oneshot::Sender<Interruption>>,
}

/// Starts the command line as the binary runs it, interrupted only through
/// [`CommandLine::interrupt`].
pub fn spawn_command_line(argv: Vec<String>) -> CommandLine {
    let (interrupt, interrupted) = oneshot::channel();
    let (sender, exit_code) = mpsc::channel();
    std::thread::spawn(move || {
        let args: Vec<OsString> = argv.into_iter().map(OsString::from).collect();
        let _ = sender.send(crate::cli::main_with(args, interrupted));
    });
    CommandLine {
        exit_code,
        interrupt: Some(interrupt),
    }
}

impl CommandLine {
    /// The exit code, once the command is done within `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> Result<u8, RecvTimeoutError> {
        self.exit_code.recv_timeout(timeout)
    }

    /// Interrupts the run as the signal would interrupt the binary; false
    /// when it was interrupted already (the caller then exits at once).
    pub fn interrupt(&mut self, signal: Interruption) -> bool {
        match self.interrupt.take() {
            Some(sender) => {
                let _ = sender.send(signal);
                true
            }
            None => false,
        }
    }
}

/// A SQL file's run in the background (`wikitok run`).
pub struct RunHandle {
    summary: Receiver<Result<String>>,
    task: tokio::task::JoinHandle<()>,
}

/// Starts `wikitok run ARGS...`; its summary is JSON, as in `_SUCCESS`.
pub fn spawn_run(args: Vec<String>) -> Result<RunHandle> {
    init_logging();
    let Command::Run(args) = parse("run", args)? else {
        bail!("not a run");
    };
    let config = args.job.job_config()?;
    let (sender, summary) = mpsc::channel();
    let task = runtime()?.spawn(async move {
        let outcome = async {
            let job = Job::new(config)?;
            let summary = job.run_file(&args.sql_file).await?;
            Ok(serde_json::to_string(&summary)?)
        }
        .await;
        let _ = sender.send(outcome);
    });
    Ok(RunHandle { summary, task })
}

impl RunHandle {
    /// The outcome, once the run is done within `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> Option<Result<String>> {
        match self.summary.recv_timeout(timeout) {
            Ok(outcome) => Some(outcome),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(Err(anyhow!("the run's task ended without a result"))),
        }
    }

    /// Stops the run: no new work starts, in-progress files are removed,
    /// committed files stay (the same call resumes).
    pub fn cancel(&self) {
        self.task.abort();
        let (committed, discarded) = crate::destination::discard_all();
        tracing::warn!("interrupted: {committed} splits committed, {discarded} in flight discarded");
    }
}

/// A query's rows, batch by batch (`wikitok sql`).
pub struct QueryStream {
    schema: SchemaRef,
    stream: SendableRecordBatchStream,
    /// The session (tables, tokenizers, memory pool), kept alive; its read
    /// counters are what [`QueryStream::read_report`] reports.
    job: Job,
}

/// Starts `wikitok sql QUERY ARGS...`: statements before the last run now;
/// the last one's rows come from [`QueryStream::next_ipc`].
pub fn start_query(args: Vec<String>) -> Result<QueryStream> {
    init_logging();
    let Command::Sql(args) = parse("sql", args)? else {
        bail!("not a query");
    };
    let mut config = args.job.job_config()?;
    config.progress = ProgressMode::Quiet;
    runtime()?.block_on(async {
        let job = Job::new(config)?;
        let stream = job.query_stream(&args.query).await?;
        Ok(QueryStream {
            schema: stream.schema(),
            stream,
            job,
        })
    })
}

impl QueryStream {
    /// What the reader has read and skipped so far, as JSON: `pages`,
    /// `bad_records` and `bad_records_by_kind`.
    pub fn read_report(&self) -> String {
        let stats = self.job.read_stats();
        serde_json::json!({
            "pages": ReadStats::get(&stats.pages_emitted),
            "bad_records": stats.bad_total(),
            "bad_records_by_kind": stats.bad_by_kind(),
        })
        .to_string()
    }

    /// The schema, as an Arrow IPC stream without batches.
    pub fn schema_ipc(&self) -> Result<Vec<u8>> {
        ipc_stream(&self.schema, None)
    }

    /// The next non-empty batch as an Arrow IPC stream; `None` at the end.
    pub fn next_ipc(&mut self) -> Result<Option<Vec<u8>>> {
        loop {
            let Some(batch) = runtime()?.block_on(self.stream.next()) else {
                return Ok(None);
            };
            let batch = batch?;
            if batch.num_rows() > 0 {
                return Ok(Some(ipc_stream(&self.schema, Some(&batch))?));
            }
        }
    }
}

/// The job configuration of command-line flags alone (no query, no SQL file).
fn job_config_of_flags(flags: Vec<String>) -> Result<JobConfig> {
    // `wikitok sql` with a query that is never run: the same clap parsing,
    // defaults and checks as the command line.
    let args = std::iter::once("SELECT 1".to_string()).chain(flags).collect();
    let Command::Sql(args) = parse("sql", args)? else {
        bail!("not a query");
    };
    args.job.job_config()
}

/// The input's splits (`flags` as for `wikitok sql`, without a query),
/// divided as the command line divides them with the same flags: a JSON
/// array of [`SplitDescriptor`]s, in the command line's partition order.
pub fn list_splits(flags: Vec<String>) -> Result<String> {
    init_logging();
    let config = job_config_of_flags(flags)?;
    let (splits, family) = runtime()?.block_on(async { Job::input_splits(&config) })?;
    let described: Vec<SplitDescriptor> = splits
        .iter()
        .enumerate()
        .map(|(index, split)| SplitDescriptor::of_split(split, family, index, splits.len()))
        .collect();
    Ok(serde_json::to_string(&described)?)
}

/// Starts a per-page query over one split (`split` a descriptor's JSON from
/// [`list_splits`]; `args` as for `wikitok sql`): its rows in the split's
/// order, one batch at a time; [`QueryStream::read_report`] says what was
/// read and skipped once they are all out.
pub fn start_split_query(split: &str, args: Vec<String>) -> Result<QueryStream> {
    let (descriptor, query, config) = split_query_args(split, args)?;
    runtime()?.block_on(async {
        let job = Job::for_split(config, &descriptor)?;
        let stream = job
            .split_query_stream(&query)
            .await
            .with_context(|| format!("split {}", descriptor.label))?;
        Ok(QueryStream {
            schema: stream.schema(),
            stream,
            job,
        })
    })
}

/// The schema of [`start_split_query`]'s rows, as an Arrow IPC stream
/// without batches: the query is planned and checked, nothing is read.
pub fn split_query_schema(split: &str, args: Vec<String>) -> Result<Vec<u8>> {
    let (descriptor, query, config) = split_query_args(split, args)?;
    runtime()?.block_on(async {
        let job = Job::for_split(config, &descriptor)?;
        let plan = job
            .split_query_plan(&query)
            .await
            .with_context(|| format!("split {}", descriptor.label))?;
        ipc_stream(&Arc::new(plan.schema().as_arrow().clone()), None)
    })
}

/// A split descriptor's JSON and `wikitok sql` arguments, parsed.
fn split_query_args(split: &str, args: Vec<String>) -> Result<(SplitDescriptor, String, JobConfig)> {
    init_logging();
    let descriptor: SplitDescriptor =
        serde_json::from_str(split).map_err(|e| anyhow!("not a split of wikitok.splits(): {e}"))?;
    let Command::Sql(args) = parse("sql", args)? else {
        bail!("not a query");
    };
    let mut config = args.job.job_config()?;
    config.progress = ProgressMode::Quiet;
    Ok((descriptor, args.query, config))
}

/// Applies `function` (`tokenize`, `tokenize_with_special_tokens`,
/// `token_count`) to the first column of every batch of the Arrow IPC
/// stream `texts`, with the tokenizer of `flags` (`--tokenizer`,
/// `--tokenizer-backend`); returns the results as an IPC stream of one
/// column named after the function. Tokenizers are loaded once per process.
pub fn tokenize_ipc(texts: &[u8], function: &str, flags: Vec<String>) -> Result<Vec<u8>> {
    let config = job_config_of_flags(flags)?;
    let tokenizers = TokenizerSet::shared(&config.tokenizers, config.tokenizer_backend)?;
    let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(texts), None)?;
    let mut writer: Option<arrow_ipc::writer::StreamWriter<Vec<u8>>> = None;
    for batch in reader {
        let batch = batch?;
        if batch.num_columns() != 1 {
            bail!(
                "{function}: expected one column of strings, got {}",
                batch.num_columns()
            );
        }
        let result = tokenize_array(&tokenizers, function, batch.column(0)).map_err(|e| anyhow!("{e}"))?;
        let field = Field::new(function, result.data_type().clone(), true);
        let out = RecordBatch::try_new(Arc::new(Schema::new(vec![field])), vec![result])?;
        let writer = match &mut writer {
            Some(writer) => writer,
            None => writer.insert(arrow_ipc::writer::StreamWriter::try_new(Vec::new(), &out.schema())?),
        };
        writer.write(&out)?;
    }
    match writer {
        Some(mut writer) => {
            writer.finish()?;
            Ok(writer.into_inner()?)
        }
        None => bail!("{function}: the input stream has no batches"),
    }
}

fn ipc_stream(schema: &SchemaRef, batch: Option<&RecordBatch>) -> Result<Vec<u8>> {
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(Vec::new(), schema)?;
    if let Some(batch) = batch {
        writer.write(batch)?;
    }
    writer.finish()?;
    Ok(writer.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_flags_are_the_command_lines() {
        let flags = job_flags();
        let kind = |name: &str| flags.iter().find(|(f, _)| f == name).map(|(_, k)| k.as_str());
        assert_eq!(kind("input"), Some("values"));
        assert_eq!(kind("memory-limit"), Some("value"));
        assert_eq!(kind("overwrite"), Some("switch"));
        assert_eq!(kind("max-pages"), Some("value"));
        assert_eq!(kind("help"), None);
    }

    #[test]
    fn a_bad_flag_is_a_usage_error_with_claps_message() {
        let error = parse("sql", vec!["SELECT 1".into(), "--no-such-flag".into()]).unwrap_err();
        assert!(error.downcast_ref::<UsageError>().is_some());
        assert!(crate::cli::error_chain(&error).contains("--no-such-flag"), "{error:#}");
    }
}
