//! Exchange data: what one stage of a scaled-out plan hands the next,
//! through files under the output — on a shared volume, or in the bucket
//! the output goes to.
//!
//! A map task runs one partition of a stage's plan and writes its rows as
//! Arrow IPC files (LZ4-compressed), one per output partition of the
//! exchange it feeds: `p00003-q00011.arrow` holds the rows of map task 3
//! that go to reduce partition 11 (a merge or coalesce has one output,
//! `q00000`). Each file appears only complete (a hidden name renamed into
//! place; in a bucket, an upload of a file staged in `--spill-dir`, or
//! streamed a part at a time without one), then a done marker for the task is
//! committed (see [`super::board`]): nobody reads an exchange file before
//! every file of its task is in place, and a retried task rewrites the
//! same names with the same rows.
//!
//! [`ExchangeReaderExec`] stands where the exchange stood in the plan and
//! reads those files back, batch by batch: partition `q` of a repartition
//! reads `p*-q{q}` in map-task order, partition `p` of any other exchange
//! reads `p{p}-q00000`.

use std::fmt;
use std::io::{BufWriter, Read, Write};
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::{FileWriter, IpcWriteOptions};
use arrow_ipc::CompressionType;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::SpillFile;
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

use crate::destination::{Destination, PendingObject, SinkWriter};

/// Where in a stage's directory its task board is (apart from its exchange
/// files, so that looking at the board lists only claims and done markers).
pub const BOARD_DIR: &str = "board";

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
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct MapOutput {
    pub rows: u64,
    pub bytes: u64,
    /// The stage's [`super::Stage::key`] and task count, as the map task
    /// ran it.
    #[serde(default)]
    pub stage: String,
    #[serde(default)]
    pub tasks: usize,
}

/// Runs partition `task` of `plan` (of `tasks`) and writes its rows into
/// `dir`, divided as `kind` says. Returns what was written; the caller
/// commits the task's done marker.
pub async fn write_map_task(
    plan: Arc<dyn ExecutionPlan>,
    task: usize,
    kind: &ExchangeKind,
    dir: &Destination,
    context: Arc<TaskContext>,
) -> Result<MapOutput> {
    let tasks = plan.output_partitioning().partition_count();
    let schema = plan.schema();
    // Every output is open at once: their buffers share 8 MiB per task.
    let buffer = (8 << 20) / kind.outputs().max(1);
    let buffer = buffer.clamp(64 << 10, 1 << 20);
    let mut files = (0..kind.outputs())
        .map(|output| ExchangeFile::create(dir, &file_name(task, output), &schema, buffer, &context))
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
    Ok(MapOutput {
        rows,
        bytes,
        stage: String::new(),
        tasks,
    })
}

/// Where an exchange file's bytes go until it is committed.
enum Pending {
    /// Straight to its place (a directory; a bucket without `--spill-dir`,
    /// a part at a time).
    Object(Box<PendingObject>),
    /// A bucket: staged in a spill file, uploaded at commit — a map task
    /// writes many files at once, and holding a part of each in memory
    /// would cost 8 MiB per reduce partition.
    Staged(Arc<dyn SpillFile>),
}

/// One exchange file being written.
struct ExchangeFile {
    /// Taken by [`ExchangeFile::commit`].
    writer: Option<FileWriter<SinkWriter>>,
    pending: Pending,
    dir: Destination,
    name: String,
}

impl ExchangeFile {
    fn create(dir: &Destination, name: &str, schema: &SchemaRef, buffer: usize, context: &TaskContext) -> Result<Self> {
        let disk = context.runtime_env().disk_manager.clone();
        let (pending, sink): (Pending, SinkWriter) = match dir {
            Destination::Bucket(_) if disk.tmp_files_enabled() => {
                let staged = disk.create_tmp_file("staging a wikitok exchange file")?;
                let file = staged.open_writer()?;
                (
                    Pending::Staged(staged),
                    Box::new(BufWriter::with_capacity(buffer, file)),
                )
            }
            _ => {
                let object = dir.create(name)?;
                let writer = object.writer_with_capacity(buffer)?;
                (Pending::Object(Box::new(object)), writer)
            }
        };
        let options = IpcWriteOptions::default().try_with_compression(Some(CompressionType::LZ4_FRAME))?;
        let writer = FileWriter::try_new_with_options(sink, schema, options)?;
        Ok(ExchangeFile {
            writer: Some(writer),
            pending,
            dir: dir.clone(),
            name: name.to_string(),
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer
            .as_mut()
            .expect("written before commit")
            .write(batch)
            .map_err(|e| DataFusionError::Execution(format!("{}: {e}", self.dir.location_of(&self.name))))?;
        match &mut self.pending {
            Pending::Object(object) => object.send_ready(),
            Pending::Staged(_) => Ok(()),
        }
    }

    /// Finishes the file and makes it appear; returns its size.
    fn commit(mut self) -> Result<u64> {
        let mut writer = self.writer.take().expect("committed once");
        writer.finish()?;
        let location = self.dir.location_of(&self.name);
        writer.into_inner()?.flush().map_err(|e| disk_error(&location, e))?;
        super::injected_delay();
        match self.pending {
            Pending::Object(object) => object.commit(),
            Pending::Staged(staged) => match (&self.dir, staged.path()) {
                (Destination::Bucket(prefix), Some(path)) => prefix.put_file(&self.name, path),
                _ => Err(DataFusionError::Execution(format!(
                    "exchange file {location}: staged where it cannot be uploaded from"
                ))),
            },
        }
    }
}

fn disk_error(what: &dyn fmt::Display, e: std::io::Error) -> DataFusionError {
    DataFusionError::Execution(format!("exchange file {what}: {e}"))
}

/// Reads a finished stage's exchange files in place of the exchange.
#[derive(Debug)]
pub struct ExchangeReaderExec {
    dir: Destination,
    stage: usize,
    map_tasks: usize,
    hashed: bool,
    schema: SchemaRef,
    /// The properties of the node it replaces: the plan above sees the
    /// same partitioning and ordering it was planned with.
    properties: Arc<PlanProperties>,
    /// The stage's key: map outputs of another plan are refused.
    key: String,
    /// Whether this process has checked the map tasks' done markers.
    verified: std::sync::OnceLock<std::result::Result<(), String>>,
}

impl ExchangeReaderExec {
    pub fn new(
        dir: Destination,
        stage: usize,
        map_tasks: usize,
        kind: &ExchangeKind,
        replaced: &dyn ExecutionPlan,
        key: String,
    ) -> Self {
        ExchangeReaderExec {
            dir,
            stage,
            map_tasks,
            hashed: matches!(kind, ExchangeKind::Repartitioned(_)),
            schema: replaced.schema(),
            properties: replaced.properties().clone(),
            key,
            verified: std::sync::OnceLock::new(),
        }
    }

    /// Exactly this stage's map tasks are done, each run by this stage's
    /// plan (its key) over this task count: exchange data of another plan,
    /// input division or task count is never read, whatever the timing.
    fn verify(&self) -> Result<()> {
        let outcome = match self.verified.get() {
            Some(outcome) => outcome,
            // A storage error is returned as it is, not remembered: only a
            // definite answer is.
            None => self.verified.get_or_init({
                let checked = self.check_map_outputs()?;
                || checked
            }),
        };
        outcome.clone().map_err(|why| {
            DataFusionError::Execution(format!(
                "exchange data in {} is not this plan's ({why}); remove it and run again",
                self.dir.location()
            ))
        })
    }

    /// Reads the stage's done markers (on its board): `Err(why)` when they
    /// are not exactly this plan's tasks.
    fn check_map_outputs(&self) -> Result<std::result::Result<(), String>> {
        let board = self.dir.join(BOARD_DIR);
        let done = board
            .list()?
            .into_iter()
            .filter(|(name, _)| name.starts_with('t') && name.ends_with(".done"))
            .count();
        if done != self.map_tasks {
            return Ok(Err(format!("{done} map tasks done, this plan has {}", self.map_tasks)));
        }
        for task in 0..self.map_tasks {
            let name = format!("t{task:05}.done");
            let Some(text) = board.get(&name)? else {
                return Ok(Err(format!("map task {task} is not done")));
            };
            let output: MapOutput = match serde_json::from_slice(&text) {
                Ok(output) => output,
                Err(e) => return Ok(Err(format!("{name}: not a done marker: {e}"))),
            };
            if output.stage != self.key || output.tasks != self.map_tasks {
                return Ok(Err(format!(
                    "map task {task} ran stage {} of {} tasks, this plan's is {} of {}",
                    output.stage, output.tasks, self.key, self.map_tasks
                )));
            }
        }
        Ok(Ok(()))
    }

    /// The files partition `partition` reads, in order.
    fn files(&self, partition: usize) -> Vec<String> {
        if self.hashed {
            (0..self.map_tasks).map(|task| file_name(task, partition)).collect()
        } else {
            vec![file_name(partition, 0)]
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
        self.verify()?;
        let files = self.files(partition);
        let dir = self.dir.clone();
        let batches = futures::stream::iter(files).flat_map(move |name| {
            let location = dir.location_of(&name);
            let batches: Box<dyn Iterator<Item = Result<RecordBatch>> + Send> = match open(&dir, &name) {
                Ok(reader) => Box::new(reader.map(move |batch| {
                    batch
                        .map_err(|e| DataFusionError::Execution(format!("exchange file {location}: corrupt data: {e}")))
                })),
                Err(e) => Box::new(std::iter::once(Err(e))),
            };
            futures::stream::iter(batches)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), batches)))
    }
}

/// Opens the exchange file `name` as a stream. An IPC file is the IPC
/// stream format between a header (`ARROW1`, zero padding to the write
/// alignment) and a footer, so reading it front to back needs no seek: a
/// bucket object streams like a local file.
fn open(dir: &Destination, name: &str) -> Result<StreamReader<Box<dyn Read + Send>>> {
    let location = dir.location_of(name);
    let corrupt =
        |e: &dyn fmt::Display| DataFusionError::Execution(format!("exchange file {location}: corrupt data: {e}"));
    let size = dir
        .head(name)?
        .ok_or_else(|| DataFusionError::Execution(format!("exchange file {location}: missing")))?
        .size;
    let mut reader = dir.open(name, size)?;
    let mut magic = [0u8; 8];
    reader.read_exact(&mut magic).map_err(|e| corrupt(&e))?;
    if &magic[..6] != b"ARROW1" {
        return Err(corrupt(&"not an Arrow IPC file"));
    }
    // Padding is whole zero words; the stream starts with a 0xFFFFFFFF word.
    let mut word = [0u8; 4];
    loop {
        reader.read_exact(&mut word).map_err(|e| corrupt(&e))?;
        if word != [0; 4] {
            break;
        }
    }
    let stream: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(word).chain(reader));
    StreamReader::try_new(stream, None).map_err(|e| corrupt(&e))
}
