//! The job runner: one session with the `pages` table and the tokenizer
//! functions, then a SQL file's statements in order.
//!
//! `COPY (query) TO 'dir' STORED AS PARQUET` is intercepted and handed to
//! [`crate::writer`], which writes one file per plan partition in parallel
//! (DataFusion's own COPY would coalesce every partition into one writer).
//! Every other statement runs as DataFusion runs it; a query's rows are
//! printed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::{displayable, ExecutionPlan, ExecutionPlanProperties};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::{CopyToSource, CopyToStatement, DFParser, Statement};
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;
use datafusion::sql::sqlparser::dialect::GenericDialect;

use crate::dump::input::discover_splits;
use crate::dump::reader::ReadConfig;
use crate::dump::stats::ReadStats;
use crate::dump::PagesTable;
use crate::script::substitute_variables;
use crate::tokenizer::{register_tokenizer_udfs, TokenizerSet};
use crate::writer::{partition_names, write_partitions, WriteOptions, WriteReport};

/// Everything a run needs, as given on the command line.
#[derive(Debug, Clone)]
pub struct JobConfig {
    pub inputs: Vec<String>,
    /// `PATH` or `NAME=PATH`; the first is the default tokenizer.
    pub tokenizers: Vec<String>,
    pub output: PathBuf,
    /// Target partitions for DataFusion (joins, aggregations, repartitioning).
    pub partitions: usize,
    /// `-D` variables, plus `output` and `input`.
    pub variables: BTreeMap<String, String>,
    pub read: ReadConfig,
    pub write: WriteOptions,
}

/// A session ready to run SQL over the dump.
pub struct Job {
    config: JobConfig,
    ctx: SessionContext,
    pages: Arc<PagesTable>,
}

/// One statement of a SQL file, with a label for messages.
struct ScriptStatement {
    label: String,
    statement: Statement,
}

/// What `run` did, per COPY statement.
#[derive(Debug, Default)]
pub struct RunOutcome {
    pub copies: Vec<(PathBuf, WriteReport)>,
}

impl Job {
    pub fn new(config: JobConfig) -> Result<Self> {
        let splits = discover_splits(&config.inputs)?;
        let tokenizers = Arc::new(TokenizerSet::load(&config.tokenizers)?);
        let session_config = SessionConfig::new()
            .with_target_partitions(config.partitions.max(1))
            .with_batch_size(config.read.batch_rows)
            .with_information_schema(true);
        let ctx = SessionContext::new_with_config(session_config);
        let pages = Arc::new(PagesTable::new(splits, config.read.clone()));
        ctx.register_table("pages", pages.clone())?;
        register_tokenizer_udfs(&ctx, tokenizers);
        Ok(Job { config, ctx, pages })
    }

    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    pub fn read_stats(&self) -> &ReadStats {
        self.pages.stats()
    }

    pub fn split_count(&self) -> usize {
        self.pages.splits().len()
    }

    /// Runs every statement of `sql_file` in order.
    pub async fn run_file(&self, sql_file: &Path) -> Result<RunOutcome> {
        let mut outcome = RunOutcome::default();
        for statement in self.parse_file(sql_file)? {
            let started = Instant::now();
            match statement.statement {
                Statement::CopyTo(copy) => {
                    let (dir, report) = self.copy(copy).await.with_context(|| statement.label.clone())?;
                    let rows: u64 = report.files_written.iter().map(|f| f.rows).sum();
                    tracing::info!(
                        "{}: wrote {} files ({rows} rows) to {}{} in {:.1}s",
                        statement.label,
                        report.files_written.len(),
                        dir.display(),
                        skipped_note(&report),
                        started.elapsed().as_secs_f64()
                    );
                    outcome.copies.push((dir, report));
                }
                other => {
                    let text = self.execute(other).await.with_context(|| statement.label.clone())?;
                    if !text.is_empty() {
                        println!("{text}");
                    }
                }
            }
        }
        Ok(outcome)
    }

    /// The physical plan of every statement of `sql_file`; nothing is written.
    pub async fn explain_file(&self, sql_file: &Path) -> Result<String> {
        let mut out = String::new();
        for statement in self.parse_file(sql_file)? {
            out.push_str(&format!("-- {}\n", statement.label));
            let plan = match statement.statement {
                Statement::CopyTo(copy) => {
                    let (dir, plan) = self.copy_plan(copy).await.with_context(|| statement.label.clone())?;
                    let names = partition_names(&plan);
                    out.push_str(&format!(
                        "ParallelParquetWriter: {} files into {} ({})\n",
                        names.names.len(),
                        dir.display(),
                        if names.per_split {
                            "one per input split"
                        } else {
                            "one per partition"
                        }
                    ));
                    plan
                }
                other => {
                    let plan = self
                        .logical_plan(other)
                        .await
                        .with_context(|| statement.label.clone())?;
                    self.ctx.state().create_physical_plan(&plan).await?
                }
            };
            out.push_str(&displayable(plan.as_ref()).indent(true).to_string());
            out.push('\n');
        }
        Ok(out)
    }

    fn parse_file(&self, sql_file: &Path) -> Result<Vec<ScriptStatement>> {
        let text = std::fs::read_to_string(sql_file).with_context(|| format!("reading {}", sql_file.display()))?;
        let sql =
            substitute_variables(&text, &self.config.variables).with_context(|| sql_file.display().to_string())?;
        let statements = DFParser::parse_sql_with_dialect(&sql, &GenericDialect {})
            .map_err(|e| anyhow!("{}: {e}", sql_file.display()))?;
        if statements.is_empty() {
            bail!("{}: no SQL statements", sql_file.display());
        }
        Ok(statements
            .into_iter()
            .enumerate()
            .map(|(i, statement)| ScriptStatement {
                label: format!(
                    "statement {} of {} ({})",
                    i + 1,
                    sql_file.display(),
                    summarize(&statement)
                ),
                statement,
            })
            .collect())
    }

    async fn logical_plan(&self, statement: Statement) -> Result<LogicalPlan> {
        Ok(self.ctx.state().statement_to_plan(statement).await?)
    }

    /// Runs a non-COPY statement; returns its rows as a table, if any.
    async fn execute(&self, statement: Statement) -> Result<String> {
        let plan = self.logical_plan(statement).await?;
        let batches = self.ctx.execute_logical_plan(plan).await?.collect().await?;
        if batches.iter().all(|b| b.num_rows() == 0) {
            return Ok(String::new());
        }
        Ok(pretty_format_batches(&batches)?.to_string())
    }

    /// Plans a COPY's query; returns the target directory and the plan.
    async fn copy_plan(&self, copy: CopyToStatement) -> Result<(PathBuf, Arc<dyn ExecutionPlan>)> {
        match copy.stored_as.as_deref() {
            Some(format) if format.eq_ignore_ascii_case("parquet") => {}
            Some(format) => bail!("COPY ... STORED AS {format}: wikitok writes Parquet only"),
            None => bail!("COPY ... TO '{}': add STORED AS PARQUET", copy.target),
        }
        if !copy.partitioned_by.is_empty() {
            bail!("COPY ... PARTITIONED BY is not supported; write one COPY per partition value");
        }
        if let Some((key, _)) = copy.options.first() {
            bail!("COPY option {key:?} is not supported (files are zstd-compressed Parquet)");
        }
        if copy.target.ends_with(".parquet") {
            bail!(
                "COPY ... TO '{}': the target is a directory (one file per partition is written into it)",
                copy.target
            );
        }
        let query = match copy.source {
            CopyToSource::Query(query) => Statement::Statement(Box::new(SqlStatement::Query(query))),
            CopyToSource::Relation(name) => DFParser::parse_sql(&format!("SELECT * FROM {name}"))?
                .pop_front()
                .ok_or_else(|| anyhow!("COPY {name}: cannot plan"))?,
        };
        let plan = self.logical_plan(query).await?;
        let plan = self.ctx.state().create_physical_plan(&plan).await?;
        Ok((PathBuf::from(copy.target), plan))
    }

    async fn copy(&self, copy: CopyToStatement) -> Result<(PathBuf, WriteReport)> {
        let (dir, plan) = self.copy_plan(copy).await?;
        let names = partition_names(&plan);
        tracing::info!(
            "writing {} into {} in parallel",
            if names.per_split {
                format!("one file per input split ({})", names.names.len())
            } else {
                format!("{} partitions", plan.output_partitioning().partition_count())
            },
            dir.display()
        );
        let report = write_partitions(plan, self.ctx.task_ctx(), &dir, &names, &self.config.write).await?;
        Ok((dir, report))
    }
}

fn skipped_note(report: &WriteReport) -> String {
    if report.files_skipped.is_empty() {
        String::new()
    } else {
        format!(
            "; {} files already committed by an earlier run were kept (--overwrite rewrites them)",
            report.files_skipped.len()
        )
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

/// A short human summary of a run, printed at its end.
pub fn format_summary(splits: usize, stats: &ReadStats, outcome: &RunOutcome) -> String {
    let mut lines = vec![format!(
        "read {splits} input splits: {} pages, {} filtered out by a pushed-down filter, {} bad records skipped{}",
        ReadStats::get(&stats.pages_emitted),
        ReadStats::get(&stats.pages_filtered),
        stats.bad_total(),
        if stats.bad_total() > 0 {
            format!(" {:?}", stats.bad_by_kind())
        } else {
            String::new()
        }
    )];
    for (dir, report) in &outcome.copies {
        let rows: u64 = report.files_written.iter().map(|f| f.rows).sum();
        let bytes: u64 = report.files_written.iter().map(|f| f.bytes).sum();
        lines.push(format!(
            "{}: {} files written ({rows} rows, {:.1} MB){}",
            dir.display(),
            report.files_written.len(),
            bytes as f64 / 1e6,
            skipped_note(report)
        ));
    }
    lines.join("\n")
}
