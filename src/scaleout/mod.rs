//! Scale-out that gives one run's answer: N processes (the pods of a
//! Kubernetes Indexed Job, `--shard I/N`) run the same command into one
//! output and together write exactly what one process writes — for every
//! statement, aggregates, joins, windows, sorts and limits included.
//!
//! Every process plans each statement over the whole dump (the same plan
//! everywhere: the same splits, flags and SQL). The plan is cut at its
//! exchanges into stages ([`stages`]); a stage's partitions are tasks, and
//! the tasks of a stage are divided among the processes on a board of claim
//! and done files ([`board`]) — each process runs its own share first (map
//! tasks over the input splits `--shard` gives it), then helps with what is
//! left. A stage's rows go to the next through exchange files on the shared
//! output volume ([`exchange`]), under `OUTPUT/_exchange/RUN/`, where RUN
//! is a fingerprint of the SQL, the flags and the input: data of another
//! run is never read. The last stage is the COPY's writer, one file per
//! partition as in a single run, its partitions divided the same way.
//!
//! A statement without an exchange (the per-page COPYs) has no stages: its
//! partitions are the input splits and each process writes its own, as
//! before. After each COPY, every process waits until all its files are
//! written, so a later statement (a `CREATE EXTERNAL TABLE` over them) sees
//! the same files everywhere.

pub mod board;
pub mod exchange;
pub mod stages;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::{displayable, ExecutionPlan};

pub use board::{Board, WaitOptions};
use exchange::{write_map_task, MapOutput};
pub use stages::{cut, gathers_rows, Stage, StagedPlan};

use crate::destination::Destination;
use crate::shard::Shard;

/// The directory under the output that holds exchange data and task boards.
pub const EXCHANGE_DIR: &str = "_exchange";

/// One process's part in a scaled-out run.
#[derive(Debug, Clone)]
pub struct ScaleOut {
    pub shard: Shard,
    /// `OUTPUT/_exchange/RUN`: a directory, or a prefix in the output's bucket.
    pub root: Destination,
    pub wait: WaitOptions,
}

impl ScaleOut {
    /// `run_key` names everything the result depends on but the plans
    /// (the SQL file's text after substitution, the splits, the flags).
    pub fn new(output: &Destination, run_key: &str, shard: Shard, wait: WaitOptions) -> Self {
        ScaleOut {
            shard,
            root: output
                .join(EXCHANGE_DIR)
                .join(&format!("{:016x}", fingerprint(run_key))),
            wait,
        }
    }

    /// Marks the start of this attempt of the run (the first shard to start
    /// creates `RUN/started`; it goes with the exchange data when the run
    /// completes); returns when it was made. Shard summaries older than
    /// that belong to an earlier run of the same command.
    pub fn begin(&self) -> Result<SystemTime> {
        self.root.prepare()?;
        self.root.put_new("started", Vec::new())?;
        let started = self
            .root
            .head("started")?
            .with_context(|| format!("{}: missing", self.root.location_of("started")))?;
        Ok(started.modified)
    }

    /// The run's fingerprint, as its exchange directory is named.
    pub fn run_name(&self) -> String {
        let location = self.root.location();
        location.rsplit('/').next().unwrap_or_default().to_string()
    }

    /// Where statement `index` (from 1) keeps its stages and board: named
    /// by its plan too, so a changed statement never reads old data.
    pub fn statement_root(&self, index: usize, plan: &Arc<dyn ExecutionPlan>) -> Destination {
        let text = displayable(plan.as_ref()).indent(true).to_string();
        self.root.join(&format!("s{index:03}-{:016x}", fingerprint(&text)))
    }

    /// Runs every stage of `staged`, in order: this process's share of each
    /// stage's tasks, then whatever is left; returns when every task of the
    /// last stage is done. `owners` gives each stage's preferred shards.
    pub async fn run_stages(
        &self,
        staged: &StagedPlan,
        context: Arc<TaskContext>,
        label: &str,
        owners: &(dyn Fn(&Arc<dyn ExecutionPlan>) -> Vec<usize> + Sync),
    ) -> Result<()> {
        for stage in &staged.stages {
            let started = Instant::now();
            let what = format!("{label}, stage {} of {}", stage.id + 1, staged.stages.len() + 1);
            let board = Board::new(
                stage.dir.join(exchange::BOARD_DIR),
                what.clone(),
                owners(&stage.plan),
                self.shard,
                self.wait,
            );
            let ran = board
                .run(|task| {
                    let stage: Stage = stage.clone();
                    let context = context.clone();
                    async move {
                        let mut output =
                            write_map_task(stage.plan.clone(), task, &stage.kind, &stage.dir, context).await?;
                        output.stage = stage.key.clone();
                        Ok(output)
                    }
                })
                .await?;
            let rows: u64 = ran.iter().map(|(_, out): &(usize, MapOutput)| out.rows).sum();
            let bytes: u64 = ran.iter().map(|(_, out)| out.bytes).sum();
            tracing::info!(
                "{what}: {} of {} map tasks ran here ({rows} rows, {:.1} MB exchanged) in {:.1}s",
                ran.len(),
                stage.tasks(),
                bytes as f64 / 1e6,
                started.elapsed().as_secs_f64()
            );
        }
        Ok(())
    }

    /// Preferred shards for tasks that are not input splits: round robin.
    pub fn round_robin(&self, tasks: usize) -> Vec<usize> {
        (0..tasks).map(|task| task % self.shard.count).collect()
    }

    /// Removes this run's exchange data (the run is complete).
    pub fn remove_exchange(&self) {
        match self.root.remove_all() {
            Ok(()) => tracing::info!("removed the exchange data in {}", self.root.location()),
            Err(e) => tracing::warn!("could not remove {}: {e}", self.root.location()),
        }
        if let Some(dir) = self.root.local_dir().and_then(|root| root.parent()) {
            // `_exchange/` itself, when no other run's data is in it.
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Test-only: sleeps a random 0..N ms when `WIKITOK_TEST_SHARD_DELAY_MS=N`
/// is set, at the steps where shards race (claims, heartbeats, commits of
/// exchange files and done markers), so that stress runs try orders that
/// scheduling alone seldom produces. Nothing happens without it.
pub(crate) fn injected_delay() {
    static MAX_MS: OnceLock<u64> = OnceLock::new();
    let max = *MAX_MS.get_or_init(|| {
        std::env::var("WIKITOK_TEST_SHARD_DELAY_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(0)
    });
    if max == 0 {
        return;
    }
    static STATE: AtomicU64 = AtomicU64::new(0);
    let seed = std::process::id() as u64
        ^ SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
    let mut x = STATE.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed) ^ seed;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::thread::sleep(std::time::Duration::from_millis(x % (max + 1)));
}

/// FNV-1a, 64 bits: the same on every machine and build.
pub fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::util::pretty::pretty_format_batches;
    use datafusion::datasource::MemTable;
    use datafusion::physical_plan::collect;
    use datafusion::prelude::{SessionConfig, SessionContext};

    /// A table of 4 partitions, keys repeating across them.
    fn context() -> SessionContext {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, false),
            Field::new("v", DataType::Int64, false),
        ]));
        let partitions = (0..4)
            .map(|p| {
                let keys: Vec<i64> = (0..50).map(|i| (i * 7 + p) % 13).collect();
                let values: Vec<i64> = (0..50).map(|i| i + 100 * p).collect();
                vec![RecordBatch::try_new(
                    schema.clone(),
                    vec![Arc::new(Int64Array::from(keys)), Arc::new(Int64Array::from(values))],
                )
                .unwrap()]
            })
            .collect();
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(3));
        ctx.register_table("t", Arc::new(MemTable::try_new(schema, partitions).unwrap()))
            .unwrap();
        ctx
    }

    /// Runs `sql` cut into stages (every task in this process, through the
    /// exchange files) and whole; both must print the same rows.
    async fn staged_equals_whole(sql: &str) {
        let ctx = context();
        let plan = ctx.sql(sql).await.unwrap().create_physical_plan().await.unwrap();
        let whole = pretty_format_batches(&collect(plan.clone(), ctx.task_ctx()).await.unwrap())
            .unwrap()
            .to_string();
        let root = std::env::temp_dir().join(format!("wikitok-stages-{}-{}", std::process::id(), fingerprint(sql)));
        let _ = std::fs::remove_dir_all(&root);
        // A fresh plan: an executed one keeps state (a TopK's dynamic filter).
        let plan = ctx.sql(sql).await.unwrap().create_physical_plan().await.unwrap();
        let place = Destination::Directory(root.clone());
        let staged = cut(plan, &place).unwrap();
        assert!(!staged.stages.is_empty(), "{sql}: no exchange was cut");
        let wait = WaitOptions {
            timeout: std::time::Duration::from_secs(10),
            stale_after: std::time::Duration::from_secs(60),
            concurrency: 2,
        };
        let scale_out = ScaleOut::new(&place, "test", Shard::new(0, 1).unwrap(), wait);
        let owners = |plan: &Arc<dyn ExecutionPlan>| {
            vec![0; datafusion::physical_plan::ExecutionPlanProperties::output_partitioning(plan).partition_count()]
        };
        scale_out
            .run_stages(&staged, ctx.task_ctx(), "test", &owners)
            .await
            .unwrap();
        let batches = collect(staged.last.clone(), ctx.task_ctx()).await.unwrap();
        assert_eq!(pretty_format_batches(&batches).unwrap().to_string(), whole, "{sql}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[tokio::test]
    async fn aggregates_joins_windows_and_limits_run_in_stages_like_a_whole_plan() {
        for sql in [
            "SELECT k, count(*) AS n, sum(v) AS s FROM t GROUP BY k ORDER BY k",
            "SELECT a.k, count(*) AS n FROM t a JOIN t b ON a.k = b.k GROUP BY a.k ORDER BY a.k",
            "SELECT k, v, row_number() OVER (PARTITION BY k ORDER BY v) AS r FROM t ORDER BY k, v",
            "SELECT v FROM t ORDER BY v DESC LIMIT 7",
            "SELECT count(DISTINCT k) AS keys, sum(v) AS total FROM t",
        ] {
            staged_equals_whole(sql).await;
        }
    }
}
