//! The job runner: one session with the `pages` table and the tokenizer
//! functions, then a SQL file's statements in order.
//!
//! `COPY (query) TO 'dir' STORED AS PARQUET` is intercepted and handed to
//! [`crate::sink`], which writes one file per plan partition in parallel
//! (DataFusion's own COPY would coalesce every partition into one writer).
//! Every other statement runs as DataFusion runs it; a query's rows are
//! printed.

mod copy;
mod per_page;

use self::copy::{is_bucketed, skipped_note};
use self::per_page::check_per_page;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::datasource::source_as_provider;
use datafusion::datasource::MemTable;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{DdlStatement, LogicalPlan, TableScan};
use datafusion::physical_plan::{collect, displayable, ExecutionPlan, ExecutionPlanProperties};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::dialect::GenericDialect;

use crate::destination::Destination;
use crate::progress::{Progress, ProgressMode};
use crate::runtime::{
    build_runtime, check_spill_dirs, explain_spill_error, peak_rss, PeakTrackingPool, RuntimeSettings,
};
use crate::scaleout::{cut, ScaleOut, WaitOptions};
use crate::script::substitute_variables;
use crate::shard::Shard;
use crate::shuffle::register_shuffle_udf;
use crate::sink::writer::file_bucket;
use crate::sink::{WriteOptions, WriteReport, FILE_BUCKET_COLUMN};
use crate::source::compression::{check_bzip2_files_are_whole, split_large_files};
use crate::source::detect::{family_for_splits, format_of};
use crate::source::format::{DumpFormat, ReadConfig};
use crate::source::stats::ReadStats;
use crate::source::storage::{discover_splits_with, DumpFamily, RetryOptions, Split, SplitDescriptor};
use crate::source::PagesTable;
use crate::summary::{Markers, OutputSummary, RunSummary};
use crate::tokenizer::{register_tokenizer_udfs, TokenizerBackend, TokenizerSet};

/// Everything a run needs, as given on the command line.
#[derive(Debug, Clone)]
pub struct JobConfig {
    pub inputs: Vec<String>,
    /// `PATH` or `NAME=PATH`; the first is the default tokenizer.
    pub tokenizers: Vec<String>,
    pub tokenizer_backend: TokenizerBackend,
    /// A directory, or an `s3://`, `gs://` or `az://` prefix.
    pub output: String,
    /// Target partitions for DataFusion (joins, aggregations, repartitioning).
    pub partitions: usize,
    /// `-D` variables, plus `output` and `input`.
    pub variables: BTreeMap<String, String>,
    pub read: ReadConfig,
    pub write: WriteOptions,
    pub runtime: RuntimeSettings,
    /// This process's part of a scaled-out run.
    pub shard: Option<Shard>,
    /// Scaled out: the longest a shard waits for the tasks of others.
    pub shard_wait_timeout: Duration,
    /// Scaled out: a task claim not renewed this long belongs to a shard that died.
    pub shard_claim_timeout: Duration,
    /// Scaled out: keep `OUTPUT/_exchange/` after the run completes.
    pub keep_exchange: bool,
    pub progress: ProgressMode,
    /// Read an `index_name=...` directory without its `_SUCCESS` marker.
    pub allow_incomplete: bool,
    /// A sample run: at most this many pages in all, spread over every split
    /// so that the plan keeps the partitioning of a full run.
    pub max_pages: Option<u64>,
    /// Files at least twice this size are divided into byte ranges.
    pub min_split_bytes: u64,
    /// How remote reads ride out faults.
    pub retry: RetryOptions,
}

/// A session ready to run SQL over the dump.
pub struct Job {
    config: JobConfig,
    /// `--output`: a directory or a bucket prefix.
    output: Destination,
    ctx: SessionContext,
    pages: Arc<PagesTable>,
    tokenizers: Arc<TokenizerSet>,
    memory_pool: Arc<PeakTrackingPool>,
}

/// One statement of a SQL file, with a label for messages.
struct ScriptStatement {
    label: String,
    statement: Statement,
}

/// A non-COPY statement, as `explain` treats it.
enum Explained {
    /// Executed (a setting, a view); the note says what it was.
    Executed(String),
    /// A plan to show.
    Plan(LogicalPlan),
}

/// What `run` did, per COPY statement.
#[derive(Debug, Default)]
struct RunOutcome {
    copies: Vec<(Destination, WriteReport)>,
    spilled_bytes: u64,
}

impl Job {
    pub fn new(config: JobConfig) -> Result<Self> {
        let (splits, family) = Job::input_splits(&config)?;
        if let Some(shard) = config.shard {
            // Every shard plans over every split (the same plan everywhere);
            // which tasks it runs is decided as it runs them.
            tracing::info!(
                "shard {shard}: {} of {} input splits are this shard's own",
                shard.select(splits.clone()).len(),
                splits.len()
            );
        }
        let split_count = splits.len();
        let tokenizers = Arc::new(TokenizerSet::load(&config.tokenizers, config.tokenizer_backend)?);
        Job::over_splits(config, splits, format_of(family), split_count, tokenizers)
    }

    /// The input's splits, divided as every run with `config` divides them
    /// (the same with or without --shard: large files are divided by size),
    /// and their dump family. bzip2 files cut short are refused here.
    pub fn input_splits(config: &JobConfig) -> Result<(Vec<Split>, DumpFamily)> {
        let splits = discover_splits_with(&config.inputs, config.allow_incomplete, config.retry)?;
        let splits = split_large_files(splits, config.partitions.max(1), config.min_split_bytes);
        check_bzip2_files_are_whole(&splits)?;
        let family = family_for_splits(&splits)?;
        Ok((splits, family))
    }

    /// A session whose `pages` table is one split of an input, listed by
    /// [`Job::input_splits`] (an engine's read task: the Python module's
    /// `read_split`). It runs in one partition — the engine runs the
    /// splits side by side — so rows come in the split's own order.
    pub fn for_split(mut config: JobConfig, split: &SplitDescriptor) -> Result<Self> {
        let family = split.dump_family()?;
        let opened = split.open(config.retry)?;
        check_bzip2_files_are_whole(std::slice::from_ref(&opened))?;
        config.partitions = 1;
        config.shard = None;
        // A worker reads split after split: its tokenizers are loaded once.
        let tokenizers = TokenizerSet::shared(&config.tokenizers, config.tokenizer_backend)?;
        Job::over_splits(config, vec![opened], format_of(family), split.of.max(1), tokenizers)
    }

    /// A session over `splits`, which are `split_count` of the input's
    /// (a sample run takes `--max-pages / split_count` pages from each).
    fn over_splits(
        config: JobConfig,
        splits: Vec<Split>,
        format: Arc<dyn DumpFormat>,
        split_count: usize,
        tokenizers: Arc<TokenizerSet>,
    ) -> Result<Self> {
        crate::destination::begin_run();
        check_spill_dirs(&config.runtime.spill_dirs)?;
        let (runtime, memory_pool) = build_runtime(&config.runtime)?;
        let partitions = config.partitions.max(1).max(splits.len());
        // Batches and sort reservations must fit many times into each
        // partition's share of the memory pool, or a spilling sort cannot
        // even hold one batch: scale them down under small limits.
        let share = usize::try_from(config.runtime.memory_limit).unwrap_or(usize::MAX) / partitions;
        // DataFusion operators coalesce batches up to `batch_size` rows, so
        // rows are capped too, assuming (pessimistically) 32 KiB of text and tokens per page.
        let mut read = config.read.clone();
        read.batch_bytes = read.batch_bytes.min(share / 16).max(256 << 10);
        read.batch_rows = read.batch_rows.min(share / 16 / (32 << 10)).max(16);
        if let Some(max_pages) = config.max_pages {
            read.max_pages_per_split = Some(max_pages.div_ceil(split_count.max(1) as u64));
        }
        let mut session_config = SessionConfig::new()
            .with_target_partitions(config.partitions.max(1))
            .with_batch_size(read.batch_rows)
            .with_information_schema(true);
        session_config.options_mut().execution.sort_spill_reservation_bytes = (share / 4).clamp(256 << 10, 10 << 20);
        // Each partition reads only its own files. DataFusion's file scans
        // otherwise let an idle partition take a sibling's files at run
        // time: a scale-out map task (one partition, run alone) then reads
        // every file of the scan, and two shards running tasks of one stage
        // count every row twice (`token_counts.sql`'s summary reading
        // back the Parquet it wrote); per-partition files would depend on
        // timing too.
        session_config.options_mut().execution.enable_file_stream_work_stealing = false;
        let ctx = SessionContext::new_with_config_rt(session_config, runtime);
        let pages = Arc::new(PagesTable::new(splits, format, read));
        ctx.register_table("pages", pages.clone())?;
        register_tokenizer_udfs(&ctx, tokenizers.clone());
        register_shuffle_udf(&ctx);
        let mut job = Job {
            output: Destination::Directory(Default::default()),
            config,
            ctx,
            pages,
            tokenizers,
            memory_pool,
        };
        job.output = job.destination(&job.config.output)?;
        Ok(job)
    }

    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    pub fn read_stats(&self) -> &ReadStats {
        self.pages.stats()
    }

    /// Runs every statement of `sql_file` in order, then writes the run
    /// summary (`_SUCCESS`) into the output directory.
    pub async fn run_file(&self, sql_file: &Path) -> Result<RunSummary> {
        let started = Instant::now();
        let statements = self.parse_file(sql_file)?;
        let markers = Markers::new(&self.output, self.config.shard);
        markers.clear()?;
        // A shard's progress is measured against its own splits (it may do
        // more, taking over the splits of shards that have not started).
        let total_bytes = self.own_splits().iter().map(|s| s.size).sum();
        let progress = Progress::start(
            self.config.progress,
            total_bytes,
            self.pages.stats().clone(),
            self.tokenizers.tokens_produced.clone(),
        );
        let scale_out = self.scale_out(&statements);
        let begun = scale_out.as_ref().map(ScaleOut::begin).transpose()?;
        let outcome = self.run_statements(statements, scale_out.as_ref()).await;
        progress.finish();
        let outcome = outcome.map_err(|e| explain_spill_error(e, &self.config.runtime))?;
        let mut summary = self.summarize(sql_file, &outcome, started);
        summary.run = scale_out.as_ref().map(|s| s.run_name());
        self.output.prepare()?;
        let marker = markers.write(&summary, begun)?;
        tracing::info!("run summary written to {marker}");
        if let Some(scale_out) = scale_out.filter(|_| marker.ends_with("_SUCCESS") && !self.config.keep_exchange) {
            // Every shard has written its summary: none reads exchange data any more.
            scale_out.remove_exchange();
        }
        Ok(summary)
    }

    /// The splits this process answers for: all of them, or a shard's own.
    fn own_splits(&self) -> Vec<Split> {
        match self.config.shard {
            Some(shard) => shard.select(self.pages.splits().to_vec()),
            None => self.pages.splits().to_vec(),
        }
    }

    /// A sharded run's part: the statements' text (after substitution), the
    /// splits and the flags name its exchange data.
    fn scale_out(&self, statements: &[ScriptStatement]) -> Option<ScaleOut> {
        let shard = self.config.shard?;
        let mut key = String::new();
        for statement in statements {
            key.push_str(&statement.statement.to_string());
            key.push('\n');
        }
        for split in self.pages.splits() {
            let range = split
                .range
                .map(|r| format!("{}..{}", r.start, r.end))
                .unwrap_or_default();
            key.push_str(&format!(
                "{} {} {} {range}\n",
                split.label,
                split.location(),
                split.size
            ));
        }
        key.push_str(&format!(
            "{} {:?} {:?} {:?}",
            self.config.partitions, self.config.tokenizers, self.config.tokenizer_backend, self.config.max_pages
        ));
        let wait = WaitOptions {
            timeout: self.config.shard_wait_timeout,
            stale_after: self.config.shard_claim_timeout,
            concurrency: self.config.partitions.max(1),
        };
        Some(ScaleOut::new(&self.output, &key, shard, wait))
    }

    async fn run_statements(
        &self,
        statements: Vec<ScriptStatement>,
        scale_out: Option<&ScaleOut>,
    ) -> Result<RunOutcome> {
        let mut outcome = RunOutcome::default();
        for (index, statement) in statements.into_iter().enumerate() {
            let started = Instant::now();
            match statement.statement {
                Statement::CopyTo(copy) => {
                    let copied = match scale_out {
                        Some(scale_out) => self.copy_scaled_out(copy, scale_out, index + 1, &statement.label).await,
                        None => self.copy(copy).await,
                    };
                    let (dir, report, spilled) = copied.with_context(|| statement.label.clone())?;
                    let rows: u64 = report.files_written.iter().map(|f| f.rows).sum();
                    tracing::info!(
                        "{}: wrote {} files ({rows} rows) to {}{} in {:.1}s",
                        statement.label,
                        report.files_written.len(),
                        dir.location(),
                        skipped_note(&report),
                        started.elapsed().as_secs_f64()
                    );
                    outcome.spilled_bytes += spilled;
                    outcome.copies.push((dir, report));
                }
                other => {
                    let (text, spilled) = self.execute(other).await.with_context(|| statement.label.clone())?;
                    outcome.spilled_bytes += spilled;
                    if !text.is_empty() {
                        println!("{text}");
                    }
                }
            }
        }
        Ok(outcome)
    }

    fn summarize(&self, sql_file: &Path, outcome: &RunOutcome, started: Instant) -> RunSummary {
        let stats = self.pages.stats();
        let elapsed = started.elapsed().as_secs_f64();
        let pages_emitted = ReadStats::get(&stats.pages_emitted);
        let filtered = ReadStats::get(&stats.pages_filtered);
        let bad = stats.bad_total();
        let pages_read = pages_emitted + filtered + bad;
        let pages_written: u64 = outcome
            .copies
            .iter()
            .flat_map(|(_, r)| r.files_written.iter())
            .map(|f| f.rows)
            .sum();
        let tokens = self.tokenizers.tokens_produced.load(Ordering::Relaxed);
        let mut pages_skipped = BTreeMap::new();
        pages_skipped.insert("filtered_while_decoding".to_string(), filtered);
        pages_skipped.insert("bad_records".to_string(), bad);
        RunSummary {
            wikitok_version: env!("CARGO_PKG_VERSION").to_string(),
            sql_file: sql_file.display().to_string(),
            shard: self.config.shard.map(|s| s.to_string()),
            run: None,
            splits: self.own_splits().iter().map(|s| s.label.clone()).collect(),
            pages_read,
            pages_written,
            pages_skipped,
            bad_records: stats
                .bad_by_kind()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            tokens,
            input_bytes_compressed: ReadStats::get(&stats.compressed_bytes),
            input_bytes_uncompressed: ReadStats::get(&stats.uncompressed_bytes),
            elapsed_seconds: elapsed,
            pages_per_second: pages_read as f64 / elapsed.max(1e-9),
            tokens_per_second: tokens as f64 / elapsed.max(1e-9),
            spilled_bytes: outcome.spilled_bytes,
            packed_tokens_dropped: crate::sink::packed::dropped_tokens(),
            peak_memory_pool_bytes: self.memory_pool.peak() as u64,
            peak_rss_bytes: peak_rss().unwrap_or(0),
            outputs: outcome
                .copies
                .iter()
                .map(|(dir, report)| OutputSummary {
                    directory: dir.location(),
                    files_written: report.files_written.iter().map(|f| f.name.clone()).collect(),
                    files_kept: report.files_skipped.clone(),
                    rows_written: report.files_written.iter().map(|f| f.rows).sum(),
                    bytes_written: report.files_written.iter().map(|f| f.bytes).sum(),
                })
                .collect(),
        }
    }

    /// The physical plan of every statement of `sql_file`; nothing is written.
    ///
    /// Settings and DDL are executed, as a run would, so that later
    /// statements plan as they will run: `SET`, `CREATE VIEW`, `CREATE
    /// EXTERNAL TABLE` (over the files an earlier COPY of the file writes:
    /// an empty table of that COPY's schema stands in for them, as they need
    /// not exist yet), `CREATE TABLE ... AS` (its query is planned, not run).
    pub async fn explain_file(&self, sql_file: &Path) -> Result<String> {
        let mut out = String::new();
        // Target directory → the schema of the files its COPY writes.
        let mut copy_targets: BTreeMap<String, SchemaRef> = BTreeMap::new();
        for statement in self.parse_file(sql_file)? {
            out.push_str(&format!("-- {}\n", statement.label));
            let plan = match statement.statement {
                Statement::CopyTo(copy) => {
                    let planned = match self.config.shard {
                        Some(shard) => self.copy_plan_scaled_out(copy, shard).await,
                        None => self.copy_plan(copy, None).await,
                    };
                    let (dir, plan, sink) = planned.with_context(|| statement.label.clone())?;
                    copy_targets.insert(
                        directory_key(&dir.location()),
                        sink.file_schema(without_file_bucket(plan.schema())),
                    );
                    let names = self.partition_names(&plan, sink.extension());
                    out.push_str(&format!(
                        "ParallelWriter ({}): {} into {} ({})\n",
                        sink.extension(),
                        if is_bucketed(&plan) {
                            format!("one file per {FILE_BUCKET_COLUMN}")
                        } else {
                            format!("{} files", names.names.len())
                        },
                        dir.location(),
                        if is_bucketed(&plan) {
                            "named by bucket, whatever the partitions"
                        } else if names.per_split {
                            "one per input split"
                        } else {
                            "one per partition"
                        }
                    ));
                    if self.config.shard.is_some() {
                        out.push_str(&explain_stages(plan)?);
                        continue;
                    }
                    plan
                }
                other => {
                    let plan = self
                        .logical_plan(other)
                        .await
                        .with_context(|| statement.label.clone())?;
                    match self
                        .prepare_for_explain(plan, &copy_targets)
                        .await
                        .with_context(|| statement.label.clone())?
                    {
                        Explained::Executed(note) => {
                            out.push_str(&note);
                            out.push_str("\n\n");
                            continue;
                        }
                        Explained::Plan(plan) => self.ctx.state().create_physical_plan(&plan).await?,
                    }
                }
            };
            out.push_str(&displayable(plan.as_ref()).indent(true).to_string());
            out.push('\n');
        }
        Ok(out)
    }

    /// Executes what `explain` must execute for later statements to plan
    /// (settings, views, tables); returns what is left to plan, if anything.
    async fn prepare_for_explain(
        &self,
        plan: LogicalPlan,
        copy_targets: &BTreeMap<String, SchemaRef>,
    ) -> Result<Explained> {
        match plan {
            LogicalPlan::Ddl(DdlStatement::CreateExternalTable(table)) => {
                let written = table
                    .locations
                    .iter()
                    .find_map(|location| copy_targets.get(&directory_key(location)));
                match written {
                    Some(schema) => {
                        let empty = MemTable::try_new(schema.clone(), vec![vec![]])?;
                        self.ctx.register_table(table.name.clone(), Arc::new(empty))?;
                        Ok(Explained::Executed(format!(
                            "CreateExternalTable: {} over {} — the files a COPY above writes; \
                             planned as an empty table of their schema",
                            table.name,
                            table.locations.join(", ")
                        )))
                    }
                    None => {
                        let name = table.name.to_string();
                        self.ctx
                            .execute_logical_plan(LogicalPlan::Ddl(DdlStatement::CreateExternalTable(table)))
                            .await?;
                        Ok(Explained::Executed(format!("CreateExternalTable: {name} (executed)")))
                    }
                }
            }
            LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(table)) => {
                // Running its query would do the work explain must not do.
                let schema = Arc::new(table.input.schema().as_arrow().clone());
                let empty = MemTable::try_new(schema, vec![vec![]])?;
                self.ctx.register_table(table.name.clone(), Arc::new(empty))?;
                Ok(Explained::Plan(table.input.as_ref().clone()))
            }
            LogicalPlan::Ddl(_) | LogicalPlan::Statement(_) => {
                let what = plan.display().to_string();
                self.ctx.execute_logical_plan(plan).await?;
                Ok(Explained::Executed(format!("{what} (executed)")))
            }
            query => Ok(Explained::Plan(query)),
        }
    }

    fn parse_file(&self, sql_file: &Path) -> Result<Vec<ScriptStatement>> {
        let text = std::fs::read_to_string(sql_file).with_context(|| format!("reading {}", sql_file.display()))?;
        self.parse_text(&text, &sql_file.display().to_string())
    }

    /// Substitutes variables and splits `text` into statements; `origin`
    /// names it in messages.
    fn parse_text(&self, text: &str, origin: &str) -> Result<Vec<ScriptStatement>> {
        let sql = substitute_variables(text, &self.config.variables).with_context(|| origin.to_string())?;
        let statements =
            DFParser::parse_sql_with_dialect(&sql, &GenericDialect {}).map_err(|e| anyhow!("{origin}: {e}"))?;
        if statements.is_empty() {
            bail!("{origin}: no SQL statements");
        }
        Ok(statements
            .into_iter()
            .enumerate()
            .map(|(i, statement)| ScriptStatement {
                label: format!("statement {} of {origin} ({})", i + 1, summarize(&statement)),
                statement,
            })
            .collect())
    }

    /// Runs SQL given on the command line (`wikitok sql`), printing what its
    /// queries return; writes no run summary.
    pub async fn run_query_text(&self, sql: &str) -> Result<()> {
        let statements = self.parse_text(sql, "the query")?;
        self.run_statements(statements, None)
            .await
            .map_err(|e| explain_spill_error(e, &self.config.runtime))?;
        Ok(())
    }

    /// Runs every statement of `sql` but the last, which must be a query,
    /// and returns the last one's rows as a stream (the Python API): rows
    /// are produced as they are read, `LIMIT` stops reading early.
    pub async fn query_stream(&self, sql: &str) -> Result<SendableRecordBatchStream> {
        let plan = self.last_query_plan(sql).await?;
        let frame = self.ctx.execute_logical_plan(plan).await?;
        Ok(frame.execute_stream().await?)
    }

    /// [`Job::query_stream`] for a session over one split ([`Job::for_split`]):
    /// the query must work page by page, so that the splits' rows, put
    /// together, are the whole input's answer.
    pub async fn split_query_stream(&self, sql: &str) -> Result<SendableRecordBatchStream> {
        let plan = self.split_query_plan(sql).await?;
        let frame = self.ctx.execute_logical_plan(plan).await?;
        Ok(frame.execute_stream().await?)
    }

    /// The plan of [`Job::split_query_stream`], checked to work page by
    /// page; its schema is the rows' (nothing is read to learn it).
    /// A COPY as the last statement stands for the rows it would write,
    /// so that a SQL file of the command line (`sql/tokenize.sql`) reads
    /// split by split as it is.
    pub async fn split_query_plan(&self, sql: &str) -> Result<LogicalPlan> {
        let (earlier, mut last) = self.split_last_statement(sql)?;
        if let Statement::CopyTo(copy) = last.statement {
            last.statement = copy::rows_of(copy.source)?;
        }
        // Before a split's query: settings and views only. They run again in
        // every read task (and where the schema is planned), so anything
        // that writes or reads pages there would happen once per split.
        for statement in earlier {
            let plan = self
                .logical_plan(statement.statement)
                .await
                .with_context(|| statement.label.clone())?;
            let setting_or_view = matches!(
                plan,
                LogicalPlan::Ddl(DdlStatement::CreateView(_))
                    | LogicalPlan::Statement(datafusion::logical_expr::Statement::SetVariable(_))
            );
            if !setting_or_view {
                bail!(
                    "{}: only SET and CREATE VIEW may come before a split's query (it runs once per split)",
                    statement.label
                );
            }
            self.ctx.execute_logical_plan(plan).await?.collect().await?;
        }
        let plan = self
            .logical_plan(last.statement)
            .await
            .with_context(|| last.label.clone())?;
        let plan = self.ctx.state().optimize(&plan)?;
        // The very table of this session, not another one named `pages`.
        let pages = Arc::as_ptr(&self.pages) as *const ();
        let is_pages = |scan: &TableScan| {
            source_as_provider(&scan.source).is_ok_and(|provider| Arc::as_ptr(&provider) as *const () == pages)
        };
        check_per_page(&plan, &is_pages)?;
        Ok(plan)
    }

    /// Runs every statement of `sql` but the last, which must be a query;
    /// returns the last one's plan.
    async fn last_query_plan(&self, sql: &str) -> Result<LogicalPlan> {
        let (earlier, last) = self.split_last_query(sql)?;
        self.run_statements(earlier, None)
            .await
            .map_err(|e| explain_spill_error(e, &self.config.runtime))?;
        self.logical_plan(last.statement)
            .await
            .with_context(|| last.label.clone())
    }

    /// The statements of `sql` before the last, and the last.
    fn split_last_statement(&self, sql: &str) -> Result<(Vec<ScriptStatement>, ScriptStatement)> {
        let mut statements = self.parse_text(sql, "the query")?;
        let Some(last) = statements.pop() else {
            bail!("the query: no SQL statements");
        };
        Ok((statements, last))
    }

    /// The statements of `sql` before the last, and the last, which must be
    /// a query (it returns rows).
    fn split_last_query(&self, sql: &str) -> Result<(Vec<ScriptStatement>, ScriptStatement)> {
        let (statements, last) = self.split_last_statement(sql)?;
        if matches!(last.statement, Statement::CopyTo(_)) {
            bail!(
                "{} writes files and returns no rows: run it with wikitok.run",
                last.label
            );
        }
        Ok((statements, last))
    }

    async fn logical_plan(&self, statement: Statement) -> Result<LogicalPlan> {
        Ok(self.ctx.state().statement_to_plan(statement).await?)
    }

    /// Runs a non-COPY statement; returns its rows as a table (if any) and
    /// the bytes it spilled.
    async fn execute(&self, statement: Statement) -> Result<(String, u64)> {
        let plan = self.logical_plan(statement).await?;
        let plan = self
            .ctx
            .execute_logical_plan(plan)
            .await?
            .create_physical_plan()
            .await?;
        let batches = collect(plan.clone(), self.ctx.task_ctx()).await?;
        let spilled = spilled_bytes(&plan);
        if batches.iter().all(|b| b.num_rows() == 0) {
            return Ok((String::new(), spilled));
        }
        Ok((pretty_format_batches(&batches)?.to_string(), spilled))
    }
}

/// The start of a statement, on one line, for messages.
fn summarize(statement: &Statement) -> String {
    let text = statement.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > 60 {
        format!("{}...", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// How a sharded run divides `plan`: each stage's plan (its partitions are
/// the tasks the shards share) and the writers' plan.
fn explain_stages(plan: Arc<dyn ExecutionPlan>) -> Result<String> {
    let staged = cut(plan, &Destination::Directory("OUTPUT/_exchange/RUN".into()))?;
    let mut out = String::new();
    let total = staged.stages.len() + 1;
    for stage in &staged.stages {
        out.push_str(&format!(
            "-- stage {} of {total}: {} map tasks, each writing {} exchange files: {}\n",
            stage.id + 1,
            stage.tasks(),
            stage.kind.outputs(),
            stage.kind
        ));
        out.push_str(&displayable(stage.plan.as_ref()).indent(true).to_string());
    }
    out.push_str(&format!(
        "-- stage {total} of {total}: {} writer tasks\n",
        staged.last.output_partitioning().partition_count()
    ));
    out.push_str(&displayable(staged.last.as_ref()).indent(true).to_string());
    out.push('\n');
    Ok(out)
}

/// The columns a COPY writes: its query's, less the bucket that names files.
fn without_file_bucket(schema: SchemaRef) -> SchemaRef {
    file_bucket(&schema).map_or(schema, |routing| routing.schema)
}

/// A directory as COPY targets and table locations name it: `out/x/` = `out/x`.
fn directory_key(location: &str) -> String {
    location.trim_end_matches('/').to_string()
}

/// Bytes spilled to disk by every operator of an executed plan.
pub(super) fn spilled_bytes(plan: &Arc<dyn ExecutionPlan>) -> u64 {
    let own = plan.metrics().and_then(|m| m.spilled_bytes()).unwrap_or(0) as u64;
    own + plan.children().into_iter().map(spilled_bytes).sum::<u64>()
}
