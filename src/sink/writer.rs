//! The parallel per-partition writer behind `COPY ... TO ...`.
//!
//! DataFusion's own COPY funnels every partition through one
//! `CoalescePartitionsExec` into a single-partition sink (the same funnel as
//! Spark's `coalesce`). Here every partition of the query plan is executed by
//! its own task and written to its own file, all at once.
//!
//! Files go to a [`Destination`] — a directory or a bucket prefix — and
//! appear atomically there: in a directory each is written under a hidden
//! temporary name of its own process and renamed to `NAME.parquet` only
//! after it is complete and synced; in a bucket it is a multipart upload
//! completed at commit. Readers listing `*.parquet` never see a half-written
//! file, two runs writing one place do not collide, and a failed or killed
//! run leaves only hidden leftovers that the next run removes.
//!
//! What goes into a file is the [`SinkFormat`]'s business (Parquet today);
//! this module only runs partitions, names files and commits them.
//!
//! When the plan's partitions are exactly the input splits (a scan, filters and
//! projections, no repartitioning or limit), files are named after the split
//! (`enwiki_content-20261115-00003.parquet`): the same input always gives the
//! same names, so a rerun skips splits already committed. Which leaf is a
//! scan of splits, and their labels, the job tells through [`SplitLabels`]:
//! the sink never looks inside the source.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::SchemaRef;
use datafusion::common::exec_err;

use datafusion::common::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::unnest::UnnestExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use futures::StreamExt;
use tokio::task::JoinSet;

use super::format::{Encoded, PartitionEncoder, SinkFiles, SinkFormat};
use super::parquet::ParquetOptions;
use crate::destination::{Destination, PendingObject};

/// The labels of the input splits a leaf of the plan reads, one per output
/// partition in order — when the leaf is a scan of whole splits (no limit);
/// `None` for any other node. Handed in by the job, which knows the source.
pub type SplitLabels<'a> = &'a dyn Fn(&dyn ExecutionPlan) -> Option<Vec<String>>;

/// How output files are written.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Rewrite files that already exist instead of skipping them.
    pub overwrite: bool,
    /// Set for sample runs (`--max-pages`): recorded in each file (for
    /// Parquet, its metadata as `wikitok.sample`), and such files are never
    /// kept as committed splits.
    pub sample: Option<String>,
    pub parquet: ParquetOptions,
}

/// What a write did.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct WriteReport {
    pub files_written: Vec<WrittenFile>,
    /// Files left as they were because a previous run committed them.
    pub files_skipped: Vec<String>,
    /// Partitions that made no file (nothing the format can hold, such as
    /// an empty Megatron dataset).
    pub partitions_without_file: usize,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct WrittenFile {
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
}

/// The file name of each output partition, and whether the names are tied to
/// input splits (and therefore stable across runs).
#[derive(Debug, Clone)]
pub struct PartitionNames {
    pub names: Vec<String>,
    pub per_split: bool,
    /// Files go into subdirectories named by a [`FILE_DIR_COLUMN`].
    pub by_dir: bool,
}

/// Names output files after input splits when partition `i` of `plan` reads
/// exactly split `i`; otherwise `part-00000.parquet`, ... (the shards of a
/// scaled-out run write the partitions of one plan, so these names never
/// collide either). `extension` is the sink format's (`parquet`).
pub fn partition_names(plan: &Arc<dyn ExecutionPlan>, split_labels: SplitLabels, extension: &str) -> PartitionNames {
    let count = plan.output_partitioning().partition_count();
    let by_dir = file_bucket(&plan.schema()).is_some_and(|routing| routing.dir.is_some());
    if let Some(labels) = split_labels_if_partitions_are_splits(plan, count, split_labels) {
        return PartitionNames {
            names: labels.into_iter().map(|l| format!("{l}.{extension}")).collect(),
            per_split: true,
            by_dir,
        };
    }
    PartitionNames {
        names: (0..count).map(|i| format!("part-{i:05}.{extension}")).collect(),
        per_split: false,
        by_dir,
    }
}

/// Operators that turn each input row into output rows of the same
/// partition, on their own (projection, filter, unnest, cooperative
/// yielding): a partition's output depends only on that partition's input.
/// The writer names files by split through them, and a sharded run may
/// run them on its share of the pages.
pub fn works_row_by_row(node: &dyn ExecutionPlan) -> bool {
    node.is::<ProjectionExec>() || node.is::<FilterExec>() || node.is::<CooperativeExec>() || node.is::<UnnestExec>()
}

fn split_labels_if_partitions_are_splits(
    plan: &Arc<dyn ExecutionPlan>,
    count: usize,
    split_labels: SplitLabels,
) -> Option<Vec<String>> {
    let mut node = plan.clone();
    loop {
        if let Some(labels) = split_labels(node.as_ref()) {
            return (labels.len() == count).then_some(labels);
        }
        let keeps_partitions = works_row_by_row(node.as_ref());
        let children = node.children();
        if !keeps_partitions || children.len() != 1 || node.fetch().is_some() {
            return None;
        }
        let child = children[0].clone();
        if child.output_partitioning().partition_count() != count {
            return None;
        }
        node = child;
    }
}

/// Executes every partition of `plan` in parallel, each into its own file in
/// `dir`, encoded by `format`.
pub async fn write_partitions(
    plan: Arc<dyn ExecutionPlan>,
    task_ctx: Arc<TaskContext>,
    dir: &Destination,
    names: &PartitionNames,
    options: &WriteOptions,
    format: Arc<dyn SinkFormat>,
) -> Result<WriteReport> {
    let all: Vec<usize> = (0..names.names.len()).collect();
    let report = write_some_partitions(plan, task_ctx, dir, names, options, format.clone(), &all).await?;
    let current: Vec<&str> = report.file_names().collect();
    finish_directory(dir, names, &current, format.as_ref())?;
    Ok(report)
}

/// After every partition of a write is committed: removes files of earlier
/// runs whose names are not tied to splits (say, with more partitions) so
/// the directory holds exactly this result (`current`: the files written or
/// kept now), and lets the format finish the directory (Megatron's
/// `data-path.txt`).
pub fn finish_directory(
    dir: &Destination,
    names: &PartitionNames,
    current: &[&str],
    format: &dyn SinkFormat,
) -> Result<()> {
    if names.by_dir {
        return finish_subdirectories(dir, current, format);
    }
    if !names.per_split {
        remove_stale_files(dir, current, format)?;
    }
    format.finish_directory(dir)
}

/// [`finish_directory`] for files routed into subdirectories by a
/// [`FILE_DIR_COLUMN`]: each subdirectory written now, and each one holding
/// files of this format from an earlier run that this run wrote nothing to
/// (all of them stale), ends up holding exactly this run's files.
fn finish_subdirectories(dir: &Destination, current: &[&str], format: &dyn SinkFormat) -> Result<()> {
    let mut subdirs: BTreeSet<String> = current
        .iter()
        .filter_map(|name| name.split_once('/').map(|(subdir, _)| subdir.to_string()))
        .collect();
    let extension = format!(".{}", format.extension());
    for subdir in dir.list_dirs()? {
        if dir
            .join(&subdir)
            .list()?
            .iter()
            .any(|(name, _)| name.ends_with(&extension))
        {
            subdirs.insert(subdir);
        }
    }
    for subdir in subdirs {
        let prefix = format!("{subdir}/");
        let here: Vec<&str> = current.iter().filter_map(|name| name.strip_prefix(&prefix)).collect();
        let place = dir.join(&subdir);
        remove_stale_files(&place, &here, format)?;
        format.finish_directory(&place)?;
    }
    Ok(())
}

/// Writes the partitions `partitions` of `plan`, in parallel, and nothing
/// else: the processes of a scaled-out run each write their share, and
/// [`finish_directory`] runs once all are written.
pub async fn write_some_partitions(
    plan: Arc<dyn ExecutionPlan>,
    task_ctx: Arc<TaskContext>,
    dir: &Destination,
    names: &PartitionNames,
    options: &WriteOptions,
    format: Arc<dyn SinkFormat>,
    partitions: &[usize],
) -> Result<WriteReport> {
    dir.prepare()?;

    let mut report = WriteReport::default();
    let mut tasks = JoinSet::new();
    let claimed = ClaimedBuckets::default();
    for &partition in partitions {
        let name = &names.names[partition];
        if names.per_split && !options.overwrite && options.sample.is_none() && is_kept(format.as_ref(), dir, name)? {
            report.files_skipped.push(name.clone());
            continue;
        }
        let plan = plan.clone();
        let task_ctx = task_ctx.clone();
        let format = format.clone();
        let name = name.clone();
        let dir = dir.clone();
        let sample = options.sample.is_some();
        let claimed = claimed.clone();
        tasks.spawn(async move {
            write_partition(plan, partition, task_ctx, &dir, &name, claimed, format.as_ref(), sample)
                .await
                .map_err(|e| e.context(format!("writing {}", dir.location_of(&name))))
        });
    }

    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        let outcome = joined.unwrap_or_else(|e| Err(DataFusionError::Execution(format!("writer task failed: {e}"))));
        match outcome {
            Ok(files) if files.is_empty() => report.partitions_without_file += 1,
            Ok(files) => report.files_written.extend(files),
            Err(e) if first_error.is_none() => {
                // Stop the other partitions; their in-progress files are
                // removed as their tasks are dropped.
                tasks.abort_all();
                first_error = Some(e);
            }
            Err(_) => {}
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    report.files_written.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(report)
}

impl WriteReport {
    /// The files this write made or kept.
    pub fn file_names(&self) -> impl Iterator<Item = &str> {
        self.files_written
            .iter()
            .map(|f| f.name.as_str())
            .chain(self.files_skipped.iter().map(String::as_str))
    }

    /// Adds what another write (of the same directory) did.
    pub fn absorb(&mut self, other: WriteReport) {
        self.files_written.extend(other.files_written);
        self.files_skipped.extend(other.files_skipped);
        self.partitions_without_file += other.partitions_without_file;
        self.files_written.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

/// A file named `NAME.EXT` has companions `NAME.COMPANION` (Megatron's
/// `.idx` beside its `.bin`).
fn companion_name(name: &str, extension: &str, companion: &str) -> String {
    let stem = name.strip_suffix(&format!(".{extension}")).unwrap_or(name);
    format!("{stem}.{companion}")
}

/// Marks a sample run's file for formats that cannot record it inside the
/// file: `.NAME.sample` beside it.
fn sample_marker(name: &str) -> String {
    format!(".{name}.sample")
}

/// Whether a rerun keeps `name`: committed by a full (not sample) run.
fn is_kept(format: &dyn SinkFormat, dir: &Destination, name: &str) -> Result<bool> {
    for companion in format.companions() {
        if dir
            .head(&companion_name(name, format.extension(), companion))?
            .is_none()
        {
            return Ok(false);
        }
    }
    Ok(dir.head(name)?.is_some()
        && format.is_complete(dir, name)
        && (format.records_sample() || dir.head(&sample_marker(name))?.is_none()))
}

/// A query column that names output files instead of partitions: each
/// value becomes its own file (`part-b00042.bin`), the column itself is not
/// written. A file's name and bytes then depend on the data only, not on
/// `--partitions` (`sql/megatron.sql` buckets its shuffle this way). Rows of
/// a bucket must come together in one partition — a window or sort
/// `PARTITION BY` the bucket gives that; anything else is an error, never a
/// silently split file.
pub const FILE_BUCKET_COLUMN: &str = "file_bucket";

/// With a [`FILE_BUCKET_COLUMN`], a text column that puts each row's file
/// in a subdirectory of the target (`train/part-b00003.bin`): one query —
/// one scan of the dump — writes several datasets (`sql/megatron.sql`'s
/// train and valid). Values are plain names (letters, digits, `-`, `_`,
/// `.`; not starting with `.` or `_`); the column is not written.
pub const FILE_DIR_COLUMN: &str = "file_dir";

/// How a COPY's rows choose their files: by bucket, and perhaps directory.
#[derive(Debug, Clone)]
pub struct FileRouting {
    pub bucket: usize,
    pub dir: Option<usize>,
    /// The schema of the files written (every other column).
    pub schema: SchemaRef,
}

/// The routing columns of `schema` — `None` without a [`FILE_BUCKET_COLUMN`].
pub fn file_bucket(schema: &SchemaRef) -> Option<FileRouting> {
    let bucket = schema.index_of(FILE_BUCKET_COLUMN).ok()?;
    let dir = schema.index_of(FILE_DIR_COLUMN).ok();
    let kept: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| i != bucket && Some(i) != dir)
        .collect();
    Some(FileRouting {
        bucket,
        dir,
        schema: Arc::new(schema.project(&kept).expect("indices of this schema")),
    })
}

/// Checks a [`FILE_DIR_COLUMN`] value names one plain subdirectory.
fn check_dir_name(name: &str) -> Result<()> {
    let plain = !name.is_empty()
        && !name.starts_with(['.', '_'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if plain {
        Ok(())
    } else {
        exec_err!("{FILE_DIR_COLUMN} {name:?} is not a plain directory name (letters, digits, '-', '_', '.')")
    }
}

/// Which file a row goes to: its [`FILE_DIR_COLUMN`] (if any) and bucket.
type FileKey = (Option<String>, i64);

/// Files already written by some partition of one COPY.
type ClaimedBuckets = Arc<Mutex<BTreeSet<FileKey>>>;

/// Writes partition `partition` of `plan`: into the file `name`, or, with a
/// [`FILE_BUCKET_COLUMN`], into one file per bucket.
#[allow(clippy::too_many_arguments)]
async fn write_partition(
    plan: Arc<dyn ExecutionPlan>,
    partition: usize,
    task_ctx: Arc<TaskContext>,
    dir: &Destination,
    name: &str,
    claimed: ClaimedBuckets,
    format: &dyn SinkFormat,
    sample: bool,
) -> Result<Vec<WrittenFile>> {
    let mut stream = plan.execute(partition, task_ctx)?;
    let schema = stream.schema();
    let Some(routing) = file_bucket(&schema) else {
        let mut file = OpenFile::create(dir, name, format, schema, partition)?;
        while let Some(batch) = stream.next().await {
            file.write(&batch?)?;
        }
        return Ok(file.commit(dir, name, format, sample)?.into_iter().collect());
    };
    let mut written = Vec::new();
    let mut current: Option<RoutedFile> = None;
    let mut seen = BTreeSet::new();
    // Subdirectories made ready (leftovers of dead writers removed) once each.
    let mut prepared = BTreeSet::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let buckets = arrow::compute::cast(batch.column(routing.bucket), &arrow::datatypes::DataType::Int64)?;
        let buckets = buckets.as_primitive::<arrow::datatypes::Int64Type>();
        if buckets.null_count() > 0 {
            return exec_err!("{FILE_BUCKET_COLUMN} is null in a row: every row needs the bucket it is written to");
        }
        let dirs = match routing.dir {
            Some(index) => {
                let dirs = arrow::compute::cast(batch.column(index), &arrow::datatypes::DataType::Utf8)?;
                if dirs.null_count() > 0 {
                    return exec_err!("{FILE_DIR_COLUMN} is null in a row: every row needs its directory");
                }
                Some(dirs)
            }
            None => None,
        };
        let dirs = dirs.as_ref().map(|d| d.as_string::<i32>());
        // Borrowed from the batch: no allocation per row.
        let key_of = |row: usize| (dirs.map(|d| d.value(row)), buckets.value(row));
        let data = batch.project(
            &(0..batch.num_columns())
                .filter(|&i| i != routing.bucket && Some(i) != routing.dir)
                .collect::<Vec<_>>(),
        )?;
        let mut start = 0;
        while start < batch.num_rows() {
            let (subdir, bucket) = key_of(start);
            let end = (start..batch.num_rows())
                .find(|&row| key_of(row) != (subdir, bucket))
                .unwrap_or(batch.num_rows());
            let same_file = current
                .as_ref()
                .is_some_and(|c| c.key.0.as_deref() == subdir && c.key.1 == bucket);
            if !same_file {
                if let Some(done) = current.take() {
                    written.extend(done.commit(format, sample)?);
                }
                let key: FileKey = (subdir.map(str::to_string), bucket);
                if bucket < 0 {
                    return exec_err!("{FILE_BUCKET_COLUMN} {bucket} is negative: buckets name files, from 0");
                }
                let what = match subdir {
                    Some(subdir) => {
                        check_dir_name(subdir)?;
                        format!("{FILE_BUCKET_COLUMN} {bucket} of {FILE_DIR_COLUMN} {subdir}")
                    }
                    None => format!("{FILE_BUCKET_COLUMN} {bucket}"),
                };
                if !seen.insert(key.clone()) {
                    return exec_err!(
                        "the rows of {what} are not together in partition {partition}: \
                         order them by the bucket (a window or sort PARTITION BY {FILE_BUCKET_COLUMN})"
                    );
                }
                if !claimed.lock().expect("claimed buckets lock").insert(key.clone()) {
                    return exec_err!(
                        "{what} appears in two partitions: \
                         partition the query by the bucket (a window PARTITION BY {FILE_BUCKET_COLUMN})"
                    );
                }
                let place = match subdir {
                    Some(subdir) => {
                        let place = dir.join(subdir);
                        if prepared.insert(subdir.to_string()) {
                            place.prepare()?;
                        }
                        place
                    }
                    None => dir.clone(),
                };
                let name = format!("part-b{bucket:05}.{}", format.extension());
                // The encoder is told the bucket, not the plan partition: a
                // file's bytes must not depend on how the work was divided.
                let file = OpenFile::create(&place, &name, format, routing.schema.clone(), bucket as usize)?;
                current = Some(RoutedFile { key, place, name, file });
            }
            let routed = current.as_mut().expect("opened above");
            routed.file.write(&data.slice(start, end - start))?;
            start = end;
        }
    }
    if let Some(done) = current.take() {
        written.extend(done.commit(format, sample)?);
    }
    Ok(written)
}

/// The file a [`FILE_BUCKET_COLUMN`] (and [`FILE_DIR_COLUMN`]) routes rows to.
struct RoutedFile {
    key: FileKey,
    place: Destination,
    name: String,
    file: OpenFile,
}

impl RoutedFile {
    /// Commits it; its name is relative to the COPY's target (`train/part-b00003.bin`).
    fn commit(self, format: &dyn SinkFormat, sample: bool) -> Result<Option<WrittenFile>> {
        let subdir = self.key.0;
        Ok(self
            .file
            .commit(&self.place, &self.name, format, sample)?
            .map(|mut written| {
                if let Some(subdir) = subdir {
                    written.name = format!("{subdir}/{}", written.name);
                }
                written
            }))
    }
}

/// One output file being written: its pending objects and encoder.
struct OpenFile {
    main: PendingObject,
    companions: Vec<PendingObject>,
    encoder: Box<dyn PartitionEncoder>,
}

impl OpenFile {
    fn create(
        dir: &Destination,
        name: &str,
        format: &dyn SinkFormat,
        schema: SchemaRef,
        partition: usize,
    ) -> Result<OpenFile> {
        let main = dir.create(name)?;
        let companions = format
            .companions()
            .iter()
            .map(|companion| dir.create(&companion_name(name, format.extension(), companion)))
            .collect::<Result<Vec<_>>>()?;
        let files = SinkFiles {
            main: main.writer()?,
            location: main.location(),
            companions: companions.iter().map(PendingObject::writer).collect::<Result<_>>()?,
            partition,
        };
        let encoder = format.create(files, schema)?;
        Ok(OpenFile {
            main,
            companions,
            encoder,
        })
    }

    /// Encodes `batch`, and sends what is ready to a bucket.
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.encoder.write(batch)?;
        self.main.send_ready()?;
        for companion in &mut self.companions {
            companion.send_ready()?;
        }
        Ok(())
    }

    /// Finishes the encoding and commits the file as `name` (companions
    /// first: a main file in place means its companions are too); `None`
    /// when the encoder made no file.
    fn commit(
        self,
        dir: &Destination,
        name: &str,
        format: &dyn SinkFormat,
        sample: bool,
    ) -> Result<Option<WrittenFile>> {
        let rows = match self.encoder.finish()? {
            Encoded::File { rows } => rows,
            Encoded::Nothing => {
                // The pending objects go as they are dropped; a file of this
                // name from an earlier run is not this run's answer either.
                remove_committed(dir, name, format)?;
                return Ok(None);
            }
        };
        for companion in self.companions {
            companion.commit()?;
        }
        let marker = sample_marker(name);
        if !format.records_sample() && sample {
            dir.put(&marker, Vec::new())?;
        }
        let bytes = self.main.commit()?;
        if !format.records_sample() && !sample {
            dir.remove(&marker)?;
        }
        Ok(Some(WrittenFile {
            name: name.to_string(),
            rows,
            bytes,
        }))
    }
}

/// Removes the committed file `name` in `dir` and its companions, if any.
fn remove_committed(dir: &Destination, name: &str, format: &dyn SinkFormat) -> Result<()> {
    // The main file first: without it the companions are never read.
    let companions = format
        .companions()
        .iter()
        .map(|companion| companion_name(name, format.extension(), companion));
    dir.remove(&sample_marker(name))?;
    for file in std::iter::once(name.to_string()).chain(companions) {
        if dir.head(&file)?.is_some() {
            dir.remove(&file)?;
            tracing::info!(file = %dir.location_of(&file), "removed a file of an earlier run");
        }
    }
    Ok(())
}

/// Removes files of earlier runs not in `current`.
fn remove_stale_files(dir: &Destination, current: &[&str], format: &dyn SinkFormat) -> Result<()> {
    let extension = format.extension();
    let current: BTreeSet<&str> = current.iter().copied().collect();
    for (name, _) in dir.list()? {
        if name.ends_with(&format!(".{extension}")) && !name.starts_with('.') && !current.contains(name.as_str()) {
            tracing::info!(file = %dir.location_of(&name), "removing a stale output file from an earlier run");
            // Another shard finishing the same place may remove it first: not an error.
            dir.remove(&name)?;
            for companion in format.companions() {
                dir.remove(&companion_name(&name, extension, companion))?;
            }
        }
    }
    Ok(())
}
