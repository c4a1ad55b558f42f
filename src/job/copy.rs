//! `COPY (query) TO 'target' STORED AS ...`: the statement planned, its
//! file format chosen, its partitions handed to the per-partition writer
//! ([`crate::sink::writer`]) — all at once in one process, or as tasks
//! shared with the other shards of a scaled-out run — and the target's
//! files committed to its [`Destination`] (a directory or a bucket prefix).

use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Result};
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use datafusion::sql::parser::{CopyToSource, CopyToStatement, DFParser, Statement};
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;

use super::{spilled_bytes, Job};
use crate::destination::Destination;
use crate::scaleout::{cut, gathers_rows, Board, ScaleOut};
use crate::shard::Shard;
use crate::sink::megatron::{MegatronSink, TokenDtype};
use crate::sink::packed::PackedSink;
use crate::sink::text::{CsvSink, JsonLinesSink};
use crate::sink::writer::{file_bucket, finish_directory, write_some_partitions};
use crate::sink::{
    partition_names, write_partitions, ParquetSink, PartitionNames, SinkFormat, WriteReport, FILE_BUCKET_COLUMN,
};
use crate::source::PagesScanExec;

impl Job {
    /// Where a COPY target (or `--output`) is: a directory, or a bucket
    /// prefix whose store the session also reads from (a later `CREATE
    /// EXTERNAL TABLE` over the files written there).
    pub(super) fn destination(&self, location: &str) -> Result<Destination> {
        let destination = Destination::parse(location, self.config.retry)?;
        if let Destination::Bucket(prefix) = &destination {
            let root = url::Url::parse(&prefix.root)?;
            self.ctx.register_object_store(&root, prefix.store.clone());
        }
        Ok(destination)
    }

    /// Plans a COPY's query; returns the target (a directory or a bucket
    /// prefix), the plan and the file format to write.
    /// `target_partitions` overrides `--partitions` for this plan (the
    /// reduce stages of a sharded run).
    pub(super) async fn copy_plan(
        &self,
        copy: CopyToStatement,
        target_partitions: Option<usize>,
    ) -> Result<(Destination, Arc<dyn ExecutionPlan>, Arc<dyn SinkFormat>)> {
        let options: Vec<(String, String)> = copy
            .options
            .iter()
            .map(|(key, value)| (key.to_ascii_lowercase(), option_text(value)))
            .collect();
        let sink = match copy.stored_as.as_deref() {
            Some(format) => self.sink_format(format, &options)?,
            None => bail!(
                "COPY ... TO '{}': add STORED AS PARQUET (or CSV, JSON, MEGATRON)",
                copy.target
            ),
        };
        if !copy.partitioned_by.is_empty() {
            bail!("COPY ... PARTITIONED BY is not supported; write one COPY per partition value");
        }
        if copy.target.ends_with(&format!(".{}", sink.extension())) || copy.target.ends_with(".parquet") {
            bail!(
                "COPY ... TO '{}': the target is a directory (one file per partition is written into it)",
                copy.target
            );
        }
        let plan = self.logical_plan(rows_of(copy.source)?).await?;
        let mut state = self.ctx.state();
        if let Some(partitions) = target_partitions {
            let options = state.config_mut().options_mut();
            options.execution.target_partitions = partitions;
            // The map tasks are already spread over every shard's cores:
            // spreading batches round robin would only exchange raw pages.
            options.optimizer.enable_round_robin_repartition = false;
        }
        let plan = state.create_physical_plan(&plan).await?;
        Ok((self.destination(&copy.target)?, plan, sink))
    }

    pub(super) async fn copy(&self, copy: CopyToStatement) -> Result<(Destination, WriteReport, u64)> {
        let (dir, plan, sink) = self.copy_plan(copy, None).await?;
        let names = self.partition_names(&plan, sink.extension());
        tracing::info!(
            "writing {} into {} in parallel",
            if is_bucketed(&plan) {
                format!("one file per {FILE_BUCKET_COLUMN} value")
            } else if names.per_split {
                format!("one file per input split ({})", names.names.len())
            } else {
                format!("{} partitions", plan.output_partitioning().partition_count())
            },
            dir.location()
        );
        let report = write_partitions(
            plan.clone(),
            self.ctx.task_ctx(),
            &dir,
            &names,
            &self.config.write,
            sink,
        )
        .await?;
        Ok((dir, report, spilled_bytes(&plan)))
    }

    /// A COPY as one shard of a scaled-out run: the plan cut at its
    /// exchanges, each stage's tasks and then the writer's partitions shared
    /// with the other shards (see [`crate::scaleout`]). Returns when every
    /// file of the COPY is written, by this shard or another.
    pub(super) async fn copy_scaled_out(
        &self,
        copy: CopyToStatement,
        scale_out: &ScaleOut,
        index: usize,
        label: &str,
    ) -> Result<(Destination, WriteReport, u64)> {
        let (dir, plan, sink) = self.copy_plan_scaled_out(copy, scale_out.shard).await?;
        let root = scale_out.statement_root(index, &plan);
        let staged = cut(plan, &root)?;
        let owners = |plan: &Arc<dyn ExecutionPlan>| self.preferred_shards(plan, scale_out);
        let short_label = format!("statement {index}");
        scale_out
            .run_stages(&staged, self.ctx.task_ctx(), &short_label, &owners)
            .await?;
        let last = staged.last;
        let names = self.partition_names(&last, sink.extension());
        tracing::info!(
            "{label}: writing {} partitions into {}, shared with the other shards",
            names.names.len(),
            dir.location()
        );
        let writing = Instant::now();
        let board = Board::new(
            root.join("write"),
            format!("{short_label}, writing {}", dir.location()),
            owners(&last),
            scale_out.shard,
            scale_out.wait,
        );
        let ran =
            board
                .run(|partition| {
                    let (plan, context, sink) = (last.clone(), self.ctx.task_ctx(), sink.clone());
                    let (dir, names, options) = (dir.clone(), names.clone(), self.config.write.clone());
                    async move {
                        Ok(write_some_partitions(plan, context, &dir, &names, &options, sink, &[partition]).await?)
                    }
                })
                .await?;
        let tasks_here = ran.len();
        let mut report = WriteReport::default();
        for (_, written) in ran {
            report.absorb(written);
        }
        let total = staged.stages.len() + 1;
        tracing::info!(
            "{short_label}, stage {total} of {total} (writers): {tasks_here} of {} tasks ran here ({} rows, {:.1} MB written) in {:.1}s",
            names.names.len(),
            report.files_written.iter().map(|f| f.rows).sum::<u64>(),
            report.files_written.iter().map(|f| f.bytes).sum::<u64>() as f64 / 1e6,
            writing.elapsed().as_secs_f64()
        );
        let everyone: Vec<WriteReport> = board.results()?;
        let current: Vec<&str> = everyone.iter().flat_map(WriteReport::file_names).collect();
        finish_directory(&dir, &names, &current, sink.as_ref())?;
        Ok((dir, report, spilled_bytes(&last)))
    }

    /// Plans a COPY for a sharded run: a statement that gathers rows is
    /// planned with partitions for every core of every shard, not one
    /// process's worth — its stages after an exchange are divided among all
    /// shards (the rows are the same; a hash-partitioned COPY spreads them
    /// over more `part-` files).
    pub(super) async fn copy_plan_scaled_out(
        &self,
        copy: CopyToStatement,
        shard: Shard,
    ) -> Result<(Destination, Arc<dyn ExecutionPlan>, Arc<dyn SinkFormat>)> {
        let (dir, plan, sink) = self.copy_plan(copy.clone(), None).await?;
        let reduce_partitions = self.config.partitions.max(1) * shard.count;
        if gathers_rows(&plan) && reduce_partitions > self.config.partitions {
            let plan = self.copy_plan(copy, Some(reduce_partitions)).await?.1;
            return Ok((dir, plan, sink));
        }
        Ok((dir, plan, sink))
    }

    /// The shard each partition of `plan` belongs to: when its partitions
    /// are the input splits (below any partial aggregate), the split's
    /// shard; otherwise round robin.
    fn preferred_shards(&self, plan: &Arc<dyn ExecutionPlan>, scale_out: &ScaleOut) -> Vec<usize> {
        let count = plan.output_partitioning().partition_count();
        let mut node = plan.clone();
        loop {
            if node.as_ref().is::<PagesScanExec>() {
                let splits = self.pages.splits();
                if splits.len() == count {
                    return scale_out.shard.owners(splits);
                }
                break;
            }
            let children = node.children();
            if children.len() != 1 || children[0].output_partitioning().partition_count() != count {
                break;
            }
            node = children[0].clone();
        }
        scale_out.round_robin(count)
    }

    /// The file format of `COPY ... STORED AS format OPTIONS (...)`.
    fn sink_format(&self, format: &str, options: &[(String, String)]) -> Result<Arc<dyn SinkFormat>> {
        let no_options = |format: &str| match options.first() {
            Some((key, _)) => bail!("COPY ... STORED AS {format}: option {key:?} is not supported"),
            None => Ok(()),
        };
        let write = &self.config.write;
        Ok(match format.to_ascii_lowercase().as_str() {
            "parquet" => {
                no_options("PARQUET")?;
                Arc::new(ParquetSink::new(&write.parquet, write.sample.as_deref())?)
            }
            "csv" => Arc::new(CsvSink::from_options(options)?),
            "json" | "jsonl" | "ndjson" => {
                no_options("JSON")?;
                Arc::new(JsonLinesSink)
            }
            "megatron" => {
                let dtype = match options.iter().find(|(key, _)| key == "dtype") {
                    Some((_, name)) => TokenDtype::parse(name)?,
                    None => TokenDtype::for_vocabulary(
                        self.tokenizers.default_tokenizer("STORED AS MEGATRON")?.vocab_size(),
                    ),
                };
                if let Some((key, _)) = options.iter().find(|(key, _)| key != "dtype") {
                    bail!("COPY ... STORED AS MEGATRON: option {key:?} is not supported (only 'dtype')");
                }
                Arc::new(MegatronSink { dtype })
            }
            "packed" => {
                let mut seq_len = 2048;
                for (key, value) in options {
                    match key.as_str() {
                        "seq_len" => seq_len = PackedSink::parse_seq_len(value)?,
                        other => bail!("COPY ... STORED AS PACKED: option {other:?} is not supported (only 'seq_len')"),
                    }
                }
                let parquet = ParquetSink::new(&write.parquet, write.sample.as_deref())?;
                Arc::new(PackedSink { seq_len, parquet })
            }
            other => bail!("COPY ... STORED AS {other}: wikitok writes PARQUET, CSV, JSON, MEGATRON or PACKED"),
        })
    }

    /// Output file names for `plan`'s partitions: after the input splits
    /// when the partitions are the splits of a `pages` scan.
    pub(super) fn partition_names(&self, plan: &Arc<dyn ExecutionPlan>, extension: &str) -> PartitionNames {
        let split_labels = |node: &dyn ExecutionPlan| {
            let scan = node.downcast_ref::<PagesScanExec>()?;
            scan.fetch()
                .is_none()
                .then(|| scan.splits().iter().map(|s| s.label.clone()).collect())
        };
        partition_names(plan, &split_labels, extension)
    }
}

/// What the COPY log line adds about files kept from an earlier run and
/// partitions that made no file.
pub(super) fn skipped_note(report: &WriteReport) -> String {
    let mut note = String::new();
    if !report.files_skipped.is_empty() {
        note.push_str(&format!(
            "; {} files already committed by an earlier run were kept (--overwrite rewrites them)",
            report.files_skipped.len()
        ));
    }
    if report.partitions_without_file > 0 {
        note.push_str(&format!(
            "; {} partitions had nothing to write and made no file",
            report.partitions_without_file
        ));
    }
    note
}

/// The query whose rows a COPY writes: its own, or all of a table's.
pub(super) fn rows_of(source: CopyToSource) -> Result<Statement> {
    match source {
        CopyToSource::Query(query) => Ok(Statement::Statement(Box::new(SqlStatement::Query(query)))),
        CopyToSource::Relation(name) => DFParser::parse_sql(&format!("SELECT * FROM {name}"))?
            .pop_front()
            .ok_or_else(|| anyhow!("COPY {name}: cannot plan")),
    }
}

/// A COPY option's value as text (`'\t'` → a tab, `true` → "true").
fn option_text(value: &datafusion::sql::sqlparser::ast::Value) -> String {
    use datafusion::sql::sqlparser::ast::Value;
    match value {
        Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) | Value::EscapedStringLiteral(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether a COPY's files are named by its [`FILE_BUCKET_COLUMN`].
pub(super) fn is_bucketed(plan: &Arc<dyn ExecutionPlan>) -> bool {
    file_bucket(&plan.schema()).is_some()
}
