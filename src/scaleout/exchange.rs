//! Exchange data: what one stage of a scaled-out plan hands the next,
//! through files on the shared output volume.
//!
//! A map task runs one partition of a stage's plan and writes its rows as
//! Arrow IPC files (LZ4-compressed), one per output partition of the
//! exchange it feeds: `p00003-q00011.arrow` holds the rows of map task 3
//! that go to reduce partition 11 (a merge or coalesce has one output,
//! `q00000`). Each file is written under a
//! hidden name and renamed into place, then a done marker for the task is
//! committed (see [`super::board`]): nobody reads an exchange file before
//! every file of its task is in place, and a retried task rewrites the
//! same names with the same rows.
//!
//! [`ExchangeReaderExec`] stands where the exchange stood in the plan and
//! reads those files back, batch by batch: partition `q` of a repartition
//! reads `p*-q{q}` in map-task order, partition `p` of any other exchange
//! reads `p{p}-q00000`.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow_ipc::reader::FileReader;
use arrow_ipc::writer::{FileWriter, IpcWriteOptions};
use arrow_ipc::CompressionType;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics;
use datafusion::physical_plan::repartition::BatchPartitioner;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};
use futures::StreamExt;

use crate::sink::in_progress::owner;

/// How a stage's output is divided among the partitions that read it.
#[derive(Debug, Clone)]
pub enum ExchangeKind {
    /// Rows divided as a `RepartitionExec` divides them (hashed on
    /// expressions, or batches round robin), by DataFusion's own
    /// partitioner: the same division as in a single run.
    Repartitioned(Partitioning),
    /// Each map task's rows kept whole, in order: read back as one
    /// partition per map task (below a merge or a coalesce).
    PerTask,
}

impl std::fmt::Display for ExchangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExchangeKind::Repartitioned(partitioning) => write!(f, "{partitioning}"),
            ExchangeKind::PerTask => write!(f, "one file per task"),
        }
    }
}

impl ExchangeKind {
    /// Files each map task writes.
    pub fn outputs(&self) -> usize {
        match self {
            ExchangeKind::Repartitioned(partitioning) => partitioning.partition_count(),
            ExchangeKind::PerTask => 1,
        }
    }
}

fn file_name(task: usize, output: usize) -> String {
    format!("p{task:05}-q{output:05}.arrow")
}

/// What a map task wrote.
#[derive(Debug, Default, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct MapOutput {
    pub rows: u64,
    pub bytes: u64,
}

/// Runs partition `task` of `plan` (of `tasks`) and writes its rows into
/// `dir`, divided as `kind` says. Returns what was written; the caller
/// commits the task's done marker.
pub async fn write_map_task(
    plan: Arc<dyn ExecutionPlan>,
    task: usize,
    kind: &ExchangeKind,
    dir: &Path,
    context: Arc<TaskContext>,
) -> Result<MapOutput> {
    let tasks = plan.output_partitioning().partition_count();
    let schema = plan.schema();
    // Every output is open at once: their buffers share 8 MiB per task.
    let buffer = (8 << 20) / kind.outputs().max(1);
    let buffer = buffer.clamp(64 << 10, 1 << 20);
    let mut files = (0..kind.outputs())
        .map(|output| ExchangeFile::create(dir, &file_name(task, output), &schema, buffer))
        .collect::<Result<Vec<_>>>()?;
    let mut partitioner = match kind {
        ExchangeKind::Repartitioned(partitioning) => Some(BatchPartitioner::try_new(
            partitioning.clone(),
            metrics::Time::new(),
            task,
            tasks,
        )?),
        ExchangeKind::PerTask => None,
    };
    let mut stream = plan.execute(task, context)?;
    let mut rows = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        match partitioner.as_mut() {
            Some(partitioner) => partitioner.partition(batch, |output, part| files[output].write(&part))?,
            None => files[0].write(&batch)?,
        }
    }
    let mut bytes = 0;
    for file in files {
        bytes += file.commit()?;
    }
    Ok(MapOutput { rows, bytes })
}

/// One exchange file being written under a hidden name.
struct ExchangeFile {
    /// Taken by [`ExchangeFile::commit`].
    writer: Option<FileWriter<BufWriter<File>>>,
    temporary: PathBuf,
    path: PathBuf,
}

impl ExchangeFile {
    fn create(dir: &Path, name: &str, schema: &SchemaRef, buffer: usize) -> Result<Self> {
        let path = dir.join(name);
        let temporary = dir.join(format!(".{name}.{}.tmp", owner()));
        let file = File::create(&temporary).map_err(|e| disk_error(&temporary, e))?;
        let options = IpcWriteOptions::default().try_with_compression(Some(CompressionType::LZ4_FRAME))?;
        let writer = FileWriter::try_new_with_options(BufWriter::with_capacity(buffer, file), schema, options)?;
        Ok(ExchangeFile {
            writer: Some(writer),
            temporary,
            path,
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer
            .as_mut()
            .expect("written before commit")
            .write(batch)
            .map_err(|e| DataFusionError::Execution(format!("{}: {e}", self.temporary.display())))
    }

    /// Finishes, syncs and renames the file into place; returns its size.
    fn commit(mut self) -> Result<u64> {
        let mut writer = self.writer.take().expect("committed once");
        writer.finish()?;
        let file = writer
            .into_inner()?
            .into_inner()
            .map_err(|e| disk_error(&self.temporary, e.into_error()))?;
        file.sync_all().map_err(|e| disk_error(&self.temporary, e))?;
        let bytes = file.metadata().map_err(|e| disk_error(&self.temporary, e))?.len();
        std::fs::rename(&self.temporary, &self.path).map_err(|e| disk_error(&self.path, e))?;
        Ok(bytes)
    }
}

impl Drop for ExchangeFile {
    fn drop(&mut self) {
        // Uncommitted (an error or an interruption): nothing half-written stays.
        let _ = std::fs::remove_file(&self.temporary);
    }
}

fn disk_error(path: &Path, e: std::io::Error) -> DataFusionError {
    DataFusionError::Execution(format!("exchange file {}: disk error: {e}", path.display()))
}

/// Reads a finished stage's exchange files in place of the exchange.
#[derive(Debug)]
pub struct ExchangeReaderExec {
    dir: PathBuf,
    stage: usize,
    map_tasks: usize,
    hashed: bool,
    schema: SchemaRef,
    /// The properties of the node it replaces: the plan above sees the
    /// same partitioning and ordering it was planned with.
    properties: Arc<PlanProperties>,
}

impl ExchangeReaderExec {
    pub fn new(
        dir: PathBuf,
        stage: usize,
        map_tasks: usize,
        kind: &ExchangeKind,
        replaced: &dyn ExecutionPlan,
    ) -> Self {
        ExchangeReaderExec {
            dir,
            stage,
            map_tasks,
            hashed: matches!(kind, ExchangeKind::Repartitioned(_)),
            schema: replaced.schema(),
            properties: replaced.properties().clone(),
        }
    }

    /// The files partition `partition` reads, in order.
    fn files(&self, partition: usize) -> Vec<PathBuf> {
        if self.hashed {
            (0..self.map_tasks)
                .map(|task| self.dir.join(file_name(task, partition)))
                .collect()
        } else {
            vec![self.dir.join(file_name(partition, 0))]
        }
    }
}

impl DisplayAs for ExchangeReaderExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "ExchangeReaderExec: stage {} ({} map tasks, {})",
            self.stage + 1,
            self.map_tasks,
            if self.hashed {
                "repartitioned"
            } else {
                "one partition per task"
            }
        )
    }
}

impl ExecutionPlan for ExchangeReaderExec {
    fn name(&self) -> &str {
        "ExchangeReaderExec"
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            Err(DataFusionError::Internal("ExchangeReaderExec has no children".into()))
        }
    }

    fn execute(&self, partition: usize, _context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let files = self.files(partition);
        let batches = futures::stream::iter(files).flat_map(|path| {
            let batches: Box<dyn Iterator<Item = Result<RecordBatch>> + Send> = match open(&path) {
                Ok(reader) => Box::new(reader.map(move |batch| {
                    batch.map_err(|e| {
                        DataFusionError::Execution(format!("exchange file {}: corrupt data: {e}", path.display()))
                    })
                })),
                Err(e) => Box::new(std::iter::once(Err(e))),
            };
            futures::stream::iter(batches)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), batches)))
    }
}

fn open(path: &Path) -> Result<FileReader<BufReader<File>>> {
    let file = File::open(path).map_err(|e| disk_error(path, e))?;
    FileReader::try_new(BufReader::with_capacity(1 << 20, file), None)
        .map_err(|e| DataFusionError::Execution(format!("exchange file {}: corrupt data: {e}", path.display())))
}
