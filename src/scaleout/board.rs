//! The task board of one stage: which process runs which task, on a
//! directory every process of the run shares.
//!
//! Every task has a preferred shard (for the map tasks over input splits,
//! the shard `--shard` gives the split to), and each process runs its own
//! tasks first. A task is taken by creating its claim file
//! (`t00007.claim`, create-new, holding the shard index) and finished by
//! committing its done marker (`t00007.done`, written under a hidden name
//! and renamed). A process that has run out of its own tasks takes any
//! other unclaimed one, so no process ever waits for a process that has not
//! started: with `parallelism` < `completions` (pods in waves), the first
//! wave does the late pods' work and they find it done. It waits only for
//! tasks another live process has claimed, printing which shards it waits
//! for.
//!
//! A live claim is touched every few seconds; one untouched for
//! [`WaitOptions::stale_after`] (`--shard-claim-timeout`) belongs to a process that died, and is taken
//! over — so is any claim holding this process's own shard index that this
//! process is not running (a pod restarted after a kill). A task run twice
//! writes the same files under the same names, atomically: retries and
//! take-overs never mix halves.

use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use tokio::task::JoinSet;

use crate::shard::Shard;
use crate::sink::in_progress::owner;

/// How long waiting may take, and when a claim counts as abandoned.
#[derive(Debug, Clone, Copy)]
pub struct WaitOptions {
    /// The longest a process waits for other processes' tasks in one stage.
    pub timeout: Duration,
    /// A claim untouched this long is abandoned.
    pub stale_after: Duration,
    /// Tasks this process runs at once.
    pub concurrency: usize,
}

/// How often live claims are touched: every 5 s, or more often when claims
/// go stale sooner.
fn heartbeat(stale_after: Duration) -> Duration {
    (stale_after / 4).min(Duration::from_secs(5))
}
/// How often a waiting process looks again, and says what it waits for.
const POLL: Duration = Duration::from_millis(250);
const REPORT_EVERY: Duration = Duration::from_secs(15);

/// One stage's tasks on the shared directory.
pub struct Board {
    dir: PathBuf,
    /// For messages: "stage 1 of statement 2".
    what: String,
    /// The preferred shard of each task.
    owners: Vec<usize>,
    shard: Shard,
    options: WaitOptions,
}

impl Board {
    pub fn new(dir: PathBuf, what: String, owners: Vec<usize>, shard: Shard, options: WaitOptions) -> Self {
        Board {
            dir,
            what,
            owners,
            shard,
            options,
        }
    }

    fn claim_path(&self, task: usize) -> PathBuf {
        self.dir.join(format!("t{task:05}.claim"))
    }

    fn done_path(&self, task: usize) -> PathBuf {
        self.dir.join(format!("t{task:05}.done"))
    }

    pub fn is_done(&self, task: usize) -> bool {
        self.done_path(task).exists()
    }

    /// Runs tasks until every task of the stage is done, by this process or
    /// another; returns the results of the tasks this process ran.
    pub async fn run<T, F, Fut>(&self, work: F) -> Result<Vec<(usize, T)>>
    where
        F: Fn(usize) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
        T: Serialize + Send + 'static,
    {
        std::fs::create_dir_all(&self.dir).with_context(|| format!("creating {}", self.dir.display()))?;
        let order = self.order();
        let mut results = Vec::new();
        let mut running: JoinSet<(usize, Result<T>)> = JoinSet::new();
        let mut active = BTreeSet::new();
        let mut waiting_since: Option<Instant> = None;
        let mut last_report: Option<Instant> = None;
        let mut last_heartbeat = Instant::now();
        loop {
            for &task in &order {
                if running.len() >= self.options.concurrency.max(1) {
                    break;
                }
                if active.contains(&task) || self.is_done(task) || !self.try_claim(task)? {
                    continue;
                }
                active.insert(task);
                let future = work(task);
                running.spawn(async move { (task, future.await) });
            }
            if running.is_empty() {
                let pending: Vec<usize> = order.iter().copied().filter(|&t| !self.is_done(t)).collect();
                if pending.is_empty() {
                    return Ok(results);
                }
                let since = *waiting_since.get_or_insert_with(Instant::now);
                let holders = self.holders(&pending);
                if since.elapsed() > self.options.timeout {
                    bail!(
                        "{}: gave up after {:.0} s waiting for shards {} of {} to finish {} tasks \
                         (their claims in {} are still being renewed); raise --shard-wait-timeout \
                         or look at those pods",
                        self.what,
                        since.elapsed().as_secs_f64(),
                        holders,
                        self.shard.count,
                        pending.len(),
                        self.dir.display()
                    );
                }
                if last_report.is_none_or(|t| t.elapsed() > REPORT_EVERY) {
                    tracing::info!(
                        "{}: waiting for shards {} of {} ({} tasks left)",
                        self.what,
                        holders,
                        self.shard.count,
                        pending.len()
                    );
                    last_report = Some(Instant::now());
                }
                tokio::time::sleep(POLL).await;
                continue;
            }
            waiting_since = None;
            tokio::select! {
                joined = running.join_next() => {
                    let (task, outcome) = joined
                        .expect("running is not empty")
                        .map_err(|e| anyhow!("{}: a task failed: {e}", self.what))?;
                    active.remove(&task);
                    match outcome {
                        Ok(result) => {
                            self.commit(task, &result)?;
                            results.push((task, result));
                        }
                        Err(e) => {
                            running.abort_all();
                            for task in std::iter::once(task).chain(active.iter().copied()) {
                                let _ = std::fs::remove_file(self.claim_path(task));
                            }
                            return Err(e);
                        }
                    }
                }
                _ = tokio::time::sleep(POLL) => {}
            }
            if last_heartbeat.elapsed() > heartbeat(self.options.stale_after) {
                for &task in &active {
                    touch(&self.claim_path(task));
                }
                last_heartbeat = Instant::now();
            }
        }
    }

    /// The results every process committed for this stage's tasks, in task
    /// order (call once every task is done).
    pub fn results<T: serde::de::DeserializeOwned>(&self) -> Result<Vec<T>> {
        (0..self.owners.len())
            .map(|task| {
                let path = self.done_path(task);
                let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                serde_json::from_str(&text).with_context(|| format!("{}: not a done marker", path.display()))
            })
            .collect()
    }

    /// This shard's tasks first, then the others', each shard's in turn
    /// starting after this one (so idle processes spread over the rest).
    fn order(&self) -> Vec<usize> {
        let count = self.shard.count;
        let mut order: Vec<usize> = (0..self.owners.len()).collect();
        order.sort_by_key(|&task| ((self.owners[task] + count - self.shard.index) % count, task));
        order
    }

    /// Takes `task` unless a live process holds it or it is done.
    fn try_claim(&self, task: usize) -> Result<bool> {
        let claimed = self.claim(task)?;
        // Its holder may have finished between our look at the done marker
        // and the claim (done is committed before the claim is dropped).
        if claimed && self.is_done(task) {
            let _ = std::fs::remove_file(self.claim_path(task));
            return Ok(false);
        }
        Ok(claimed)
    }

    fn claim(&self, task: usize) -> Result<bool> {
        let path = self.claim_path(task);
        if create_claim(&path, self.shard.index)? {
            return Ok(true);
        }
        let holder = std::fs::read_to_string(&path).ok().and_then(|text| parse_claim(&text));
        let stale = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| SystemTime::now().duration_since(modified).ok())
            .is_some_and(|age| age > self.options.stale_after);
        let mine = holder == Some(self.shard.index);
        if !(stale || mine) {
            return Ok(false);
        }
        if stale {
            tracing::info!(
                "{}: task {task}'s claim by shard {} went stale: taking it over",
                self.what,
                holder.map_or("?".to_string(), |h| h.to_string())
            );
        }
        let _ = std::fs::remove_file(&path);
        create_claim(&path, self.shard.index)
    }

    /// The shards holding claims on `pending` tasks, as "3, 7".
    fn holders(&self, pending: &[usize]) -> String {
        let holders: BTreeSet<usize> = pending
            .iter()
            .map(|&task| {
                std::fs::read_to_string(self.claim_path(task))
                    .ok()
                    .and_then(|text| parse_claim(&text))
                    .unwrap_or(self.owners[task])
            })
            .collect();
        holders.iter().map(|h| h.to_string()).collect::<Vec<_>>().join(", ")
    }

    /// Commits `task`'s done marker (with its result) and drops its claim.
    fn commit<T: Serialize>(&self, task: usize, result: &T) -> Result<()> {
        let path = self.done_path(task);
        let temporary = self.dir.join(format!(".t{task:05}.done.{}.tmp", owner()));
        let text = serde_json::to_string(result)?;
        std::fs::write(&temporary, text).with_context(|| format!("writing {}", temporary.display()))?;
        std::fs::rename(&temporary, &path).with_context(|| format!("committing {}", path.display()))?;
        let _ = std::fs::remove_file(self.claim_path(task));
        Ok(())
    }
}

/// Creates the claim file if no one has; `false` if it exists.
fn create_claim(path: &Path, shard: usize) -> Result<bool> {
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(mut file) => {
            writeln!(file, "shard {shard} {}", owner()).with_context(|| format!("writing {}", path.display()))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("claiming {}: disk error", path.display())),
    }
}

fn parse_claim(text: &str) -> Option<usize> {
    text.strip_prefix("shard ")?.split_whitespace().next()?.parse().ok()
}

fn touch(path: &Path) {
    if let Ok(file) = OpenOptions::new().write(true).open(path) {
        let _ = file.set_modified(SystemTime::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> WaitOptions {
        WaitOptions {
            timeout: Duration::from_secs(5),
            stale_after: Duration::from_secs(60),
            concurrency: 2,
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wikitok-board-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[tokio::test]
    async fn a_process_alone_runs_every_task_its_own_first() {
        let dir = scratch("alone");
        let shard = Shard::new(1, 3).unwrap();
        let board = Board::new(dir.clone(), "test".into(), vec![0, 1, 2, 0, 1, 2], shard, options());
        assert_eq!(board.order(), vec![1, 4, 2, 5, 0, 3]);
        let ran = board.run(|task| async move { Ok(task * 10) }).await.unwrap();
        let mut tasks: Vec<usize> = ran.iter().map(|(t, _)| *t).collect();
        tasks.sort();
        assert_eq!(tasks, (0..6).collect::<Vec<_>>());
        assert!((0..6).all(|t| board.is_done(t)));
        // Done tasks are never run again.
        let again = board.run(|task| async move { Ok(task) }).await.unwrap();
        assert!(again.is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn shards_running_at_once_run_every_task_exactly_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let dir = scratch("together");
        let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..40).map(|_| AtomicUsize::new(0)).collect());
        let owners: Vec<usize> = (0..40).map(|task| task % 3).collect();
        let shards = (0..3).map(|index| {
            let (dir, owners, runs) = (dir.clone(), owners.clone(), runs.clone());
            tokio::spawn(async move {
                let board = Board::new(dir, "test".into(), owners, Shard::new(index, 3).unwrap(), options());
                board
                    .run(|task| {
                        let runs = runs.clone();
                        async move {
                            runs[task].fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(5)).await;
                            Ok(task)
                        }
                    })
                    .await
                    .unwrap()
                    .len()
            })
        });
        let mut ran_here = Vec::new();
        for shard in shards.collect::<Vec<_>>() {
            ran_here.push(shard.await.unwrap());
        }
        assert_eq!(ran_here.iter().sum::<usize>(), 40, "{ran_here:?}");
        assert!(runs.iter().all(|r| r.load(Ordering::SeqCst) == 1));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_live_claim_is_waited_for_and_an_own_one_is_retaken() {
        let dir = scratch("claims");
        std::fs::create_dir_all(&dir).unwrap();
        let shard = Shard::new(0, 2).unwrap();
        // Task 1 is held by a live shard 1: waiting for it times out.
        assert!(create_claim(&dir.join("t00001.claim"), 1).unwrap());
        // Task 0 was claimed by an earlier incarnation of this shard.
        assert!(create_claim(&dir.join("t00000.claim"), 0).unwrap());
        let mut short = options();
        short.timeout = Duration::from_millis(600);
        let board = Board::new(dir.clone(), "test".into(), vec![0, 1], shard, short);
        let error = board.run(|task| async move { Ok(task) }).await.unwrap_err().to_string();
        assert!(board.is_done(0), "its own old claim was not taken over");
        assert!(!board.is_done(1));
        assert!(error.contains("waiting for shards 1 of 2"), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
