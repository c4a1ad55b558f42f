//! The task board of one stage: which process runs which task, kept in a
//! place every process of the run shares — a directory or a bucket prefix
//! ([`Destination`]), with the same objects in both.
//!
//! Every task has a preferred shard (for the map tasks over input splits,
//! the shard `--shard` gives the split to), and each process runs its own
//! tasks first. A task is taken by creating its claim (`t00007.claim-000`,
//! a conditional create — S3 `If-None-Match: *`, GCS `ifGenerationMatch=0`,
//! a create-new file — holding the shard index and `HOST-PID`) and
//! finished by committing its done marker (`t00007.done`, with the task's
//! result). A process that has run out of its own tasks takes any other
//! unclaimed one, so no process ever waits for a process that has not
//! started: with `parallelism` < `completions` (pods in waves), the first
//! wave does the late pods' work and they find it done. It waits only for
//! tasks another live process has claimed, printing which shards it waits
//! for.
//!
//! A live claim is rewritten every few seconds (a heartbeat). Whether it
//! is alive is judged by each watcher on its own clock — the claim's
//! version has not changed for [`WaitOptions::stale_after`]
//! (`--shard-claim-timeout`) since the watcher first saw it — never by
//! comparing timestamps of two machines, so clock skew between pods (or
//! between a pod and the storage service) does not matter. A stale claim
//! is taken over by creating the next generation, `t00007.claim-001`:
//! conditional, so of several watchers exactly one wins. So is a claim
//! holding this process's shard index written by another process (a pod
//! restarted after a kill). A task run twice writes the same files under
//! the same names, atomically: retries and take-overs never mix halves.
//!
//! Requests: one LIST per look at the board. A waiting process looks again
//! after 250 ms, then backs off to every 5 s while nothing changes (~12
//! LISTs a minute); a running task's claim costs a PUT every 5 s.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use tokio::task::JoinSet;

use crate::destination::{owner, Destination};
use crate::shard::Shard;

/// How long waiting may take, and when a claim counts as abandoned.
#[derive(Debug, Clone, Copy)]
pub struct WaitOptions {
    /// The longest a process waits for other processes' tasks in one stage.
    pub timeout: Duration,
    /// A claim unchanged this long is abandoned.
    pub stale_after: Duration,
    /// Tasks this process runs at once.
    pub concurrency: usize,
}

/// How often live claims are rewritten: every 5 s, or more often when
/// claims go stale sooner.
fn heartbeat(stale_after: Duration) -> Duration {
    (stale_after / 4).min(Duration::from_secs(5))
}
/// How often a waiting process looks again: at first, and at most.
const FIRST_POLL: Duration = Duration::from_millis(250);
const LONGEST_POLL: Duration = Duration::from_secs(5);
const REPORT_EVERY: Duration = Duration::from_secs(15);

/// One look at the board (one LIST).
#[derive(Default)]
struct Snapshot {
    done: BTreeSet<usize>,
    /// Each claimed task's newest claim: its generation and version.
    claims: BTreeMap<usize, (u32, String)>,
}

/// What a claim says: the shard and process that made it.
#[derive(Clone)]
struct Claim {
    shard: Option<usize>,
    owner: String,
}

/// A claim as this process watches it.
struct Watched {
    version: String,
    /// When this process first saw `version`.
    since: Instant,
    /// Read once per claim (a claim's maker never changes).
    claim: Option<Claim>,
}

/// One stage's tasks on the shared place.
pub struct Board {
    dir: Destination,
    /// For messages: "stage 1 of statement 2".
    what: String,
    /// The preferred shard of each task.
    owners: Vec<usize>,
    shard: Shard,
    options: WaitOptions,
    /// Claims this process has looked at, by name.
    watched: Mutex<HashMap<String, Watched>>,
}

fn claim_name(task: usize, generation: u32) -> String {
    format!("t{task:05}.claim-{generation:03}")
}

fn done_name(task: usize) -> String {
    format!("t{task:05}.done")
}

/// `(task, generation)` from `t00007.claim-001`.
fn parse_claim_name(name: &str) -> Option<(usize, u32)> {
    let (task, generation) = name.strip_prefix('t')?.split_once(".claim-")?;
    Some((task.parse().ok()?, generation.parse().ok()?))
}

fn claim_text(shard: usize, beat: u64) -> Vec<u8> {
    format!("shard {shard} {} beat {beat}\n", owner()).into_bytes()
}

impl Board {
    pub fn new(dir: Destination, what: String, owners: Vec<usize>, shard: Shard, options: WaitOptions) -> Self {
        Board {
            dir,
            what,
            owners,
            shard,
            options,
            watched: Mutex::new(HashMap::new()),
        }
    }

    /// Reads the board: done tasks and the newest claim of each task.
    fn look(&self) -> Result<Snapshot> {
        let mut snapshot = Snapshot::default();
        for (name, info) in self.dir.list()? {
            if let Some(task) = name.strip_prefix('t').and_then(|n| n.strip_suffix(".done")) {
                if let Ok(task) = task.parse() {
                    snapshot.done.insert(task);
                }
            } else if let Some((task, generation)) = parse_claim_name(&name) {
                let newest = snapshot
                    .claims
                    .entry(task)
                    .or_insert((generation, info.version.clone()));
                if generation >= newest.0 {
                    *newest = (generation, info.version);
                }
            }
        }
        Ok(snapshot)
    }

    pub fn is_done(&self, task: usize) -> Result<bool> {
        Ok(self.dir.head(&done_name(task))?.is_some())
    }

    /// Runs tasks until every task of the stage is done, by this process or
    /// another; returns the results of the tasks this process ran.
    pub async fn run<T, F, Fut>(&self, work: F) -> Result<Vec<(usize, T)>>
    where
        F: Fn(usize) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
        T: Serialize + Send + 'static,
    {
        self.dir.prepare()?;
        let order = self.order();
        let mut results = Vec::new();
        let mut running: JoinSet<(usize, Result<T>)> = JoinSet::new();
        // Running here: task → its claim's generation.
        let mut active: BTreeMap<usize, u32> = BTreeMap::new();
        let mut waiting_since: Option<Instant> = None;
        let mut last_report: Option<Instant> = None;
        let mut last_heartbeat = Instant::now();
        let mut beats = 0u64;
        let mut poll = FIRST_POLL;
        loop {
            let snapshot = self.look()?;
            for &task in &order {
                if running.len() >= self.options.concurrency.max(1) {
                    break;
                }
                if active.contains_key(&task) || snapshot.done.contains(&task) {
                    continue;
                }
                let Some(generation) = self.try_claim(task, &snapshot)? else {
                    continue;
                };
                active.insert(task, generation);
                let future = work(task);
                running.spawn(async move { (task, future.await) });
            }
            if running.is_empty() {
                let pending: Vec<usize> = order.iter().copied().filter(|t| !snapshot.done.contains(t)).collect();
                if pending.is_empty() {
                    return Ok(results);
                }
                let since = *waiting_since.get_or_insert_with(Instant::now);
                let holders = self.holders(&pending, &snapshot);
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
                        self.dir.location()
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
                tokio::time::sleep(poll).await;
                // Back off while waiting; a claim going stale is still
                // noticed within a poll of `stale_after`.
                poll = (poll * 3 / 2).min(LONGEST_POLL).min(self.options.stale_after / 4);
                continue;
            }
            waiting_since = None;
            poll = FIRST_POLL;
            tokio::select! {
                joined = running.join_next() => {
                    let (task, outcome) = joined
                        .expect("running is not empty")
                        .map_err(|e| anyhow!("{}: a task failed: {e}", self.what))?;
                    let generation = active.remove(&task).unwrap_or_default();
                    match outcome {
                        Ok(result) => {
                            self.commit(task, generation, &result)?;
                            results.push((task, result));
                        }
                        Err(e) => {
                            running.abort_all();
                            for (task, generation) in std::iter::once((task, generation)).chain(active.into_iter()) {
                                let _ = self.dir.remove(&claim_name(task, generation));
                            }
                            return Err(e);
                        }
                    }
                }
                _ = tokio::time::sleep(heartbeat(self.options.stale_after)) => {}
            }
            if last_heartbeat.elapsed() >= heartbeat(self.options.stale_after) {
                beats += 1;
                super::injected_delay();
                for (&task, &generation) in &active {
                    // A missed heartbeat is not a failure: the next one
                    // renews the claim (a claim goes stale only after many).
                    if let Err(e) = self
                        .dir
                        .put(&claim_name(task, generation), claim_text(self.shard.index, beats))
                    {
                        tracing::warn!("{}: renewing the claim of task {task}: {e}", self.what);
                    }
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
                let name = done_name(task);
                let text = self
                    .dir
                    .get(&name)?
                    .ok_or_else(|| anyhow!("{}: missing", self.dir.location_of(&name)))?;
                serde_json::from_slice(&text)
                    .with_context(|| format!("{}: not a done marker", self.dir.location_of(&name)))
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

    /// Takes `task` unless a live process holds it or it is done; returns
    /// the generation of the claim made.
    fn try_claim(&self, task: usize, snapshot: &Snapshot) -> Result<Option<u32>> {
        let generation = match snapshot.claims.get(&task) {
            None => 0,
            Some((generation, version)) => {
                let (unchanged, claim) = self.watch(&claim_name(task, *generation), version)?;
                let stale = unchanged > self.options.stale_after;
                let restarted = claim
                    .as_ref()
                    .is_some_and(|c| c.shard == Some(self.shard.index) && c.owner != owner());
                if !(stale || restarted) {
                    return Ok(None);
                }
                let holder = claim.as_ref().and_then(|c| c.shard);
                tracing::info!(
                    "{}: task {task}'s claim by shard {} {}: taking it over",
                    self.what,
                    holder.map_or("?".to_string(), |h| h.to_string()),
                    if stale {
                        "went stale"
                    } else {
                        "is this shard's, left by its earlier run"
                    }
                );
                generation + 1
            }
        };
        super::injected_delay();
        if !self
            .dir
            .put_new(&claim_name(task, generation), claim_text(self.shard.index, 0))?
        {
            return Ok(None);
        }
        if generation > 0 {
            let _ = self.dir.remove(&claim_name(task, generation - 1));
        }
        // Its holder may have finished between our look and the claim
        // (done is committed before the claim is dropped).
        if self.is_done(task)? {
            let _ = self.dir.remove(&claim_name(task, generation));
            return Ok(None);
        }
        Ok(Some(generation))
    }

    /// How long, by this process's clock, the claim `name` has had
    /// `version`, and what it says (one GET the first time it is seen).
    fn watch(&self, name: &str, version: &str) -> Result<(Duration, Option<Claim>)> {
        let known = {
            let watched = self.watched.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            watched.get(name).map(|w| w.claim.clone())
        };
        let claim = match known {
            Some(claim) => claim,
            None => self.dir.get(name)?.map(|text| {
                let text = String::from_utf8_lossy(&text);
                let mut words = text.split_whitespace();
                let shard = (words.next() == Some("shard"))
                    .then(|| words.next()?.parse().ok())
                    .flatten();
                Claim {
                    shard,
                    owner: words.next().unwrap_or_default().to_string(),
                }
            }),
        };
        let mut watched = self.watched.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = watched.entry(name.to_string()).or_insert_with(|| Watched {
            version: version.to_string(),
            since: Instant::now(),
            claim: claim.clone(),
        });
        if entry.version != version {
            entry.version = version.to_string();
            entry.since = Instant::now();
        }
        Ok((entry.since.elapsed(), claim))
    }

    /// The shards holding claims on `pending` tasks, as "3, 7".
    fn holders(&self, pending: &[usize], snapshot: &Snapshot) -> String {
        let holders: BTreeSet<usize> = pending
            .iter()
            .map(|&task| {
                snapshot
                    .claims
                    .get(&task)
                    .and_then(|(generation, version)| {
                        let (_, claim) = self.watch(&claim_name(task, *generation), version).ok()?;
                        claim?.shard
                    })
                    .unwrap_or(self.owners[task])
            })
            .collect();
        holders.iter().map(|h| h.to_string()).collect::<Vec<_>>().join(", ")
    }

    /// Commits `task`'s done marker (with its result) and drops its claim.
    fn commit<T: Serialize>(&self, task: usize, generation: u32, result: &T) -> Result<()> {
        let text = serde_json::to_vec(result)?;
        super::injected_delay();
        self.dir
            .put(&done_name(task), text)
            .with_context(|| format!("{}: committing task {task}", self.what))?;
        let _ = self.dir.remove(&claim_name(task, generation));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

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

    fn place(dir: &Path) -> Destination {
        Destination::Directory(dir.to_path_buf())
    }

    #[tokio::test]
    async fn a_process_alone_runs_every_task_its_own_first() {
        let dir = scratch("alone");
        let shard = Shard::new(1, 3).unwrap();
        let board = Board::new(place(&dir), "test".into(), vec![0, 1, 2, 0, 1, 2], shard, options());
        assert_eq!(board.order(), vec![1, 4, 2, 5, 0, 3]);
        let ran = board.run(|task| async move { Ok(task * 10) }).await.unwrap();
        let mut tasks: Vec<usize> = ran.iter().map(|(t, _)| *t).collect();
        tasks.sort();
        assert_eq!(tasks, (0..6).collect::<Vec<_>>());
        assert!((0..6).all(|t| board.is_done(t).unwrap()));
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
                let board = Board::new(
                    place(&dir),
                    "test".into(),
                    owners,
                    Shard::new(index, 3).unwrap(),
                    options(),
                );
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
        // Task 1 is held by a live shard 1 (renewing its claim): waiting
        // for it times out, though the claim is older than stale_after.
        let live = dir.join(claim_name(1, 0));
        std::fs::write(&live, "shard 1 other-host-7 beat 0\n").unwrap();
        // Task 0 was claimed by an earlier incarnation of this shard.
        std::fs::write(dir.join(claim_name(0, 0)), "shard 0 this-host-earlier-1 beat 0\n").unwrap();
        let mut short = options();
        short.timeout = Duration::from_millis(1500);
        short.stale_after = Duration::from_millis(1000);
        let renewer = std::thread::spawn(move || {
            for beat in 1..12 {
                std::thread::sleep(Duration::from_millis(150));
                std::fs::write(&live, format!("shard 1 other-host-7 beat {beat}\n")).unwrap();
            }
        });
        let board = Board::new(place(&dir), "test".into(), vec![0, 1], shard, short);
        let error = board.run(|task| async move { Ok(task) }).await.unwrap_err().to_string();
        renewer.join().unwrap();
        assert!(board.is_done(0).unwrap(), "its own old claim was not taken over");
        assert!(!board.is_done(1).unwrap());
        assert!(error.contains("waiting for shards 1 of 2"), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_claim_left_unchanged_is_taken_over_by_exactly_one_watcher() {
        let dir = scratch("stale");
        std::fs::create_dir_all(&dir).unwrap();
        // A dead shard's claim, written "in the future" by a skewed clock:
        // only its not changing counts.
        std::fs::write(dir.join(claim_name(0, 0)), "shard 1 other-host-9 beat 0\n").unwrap();
        let file = std::fs::File::options()
            .write(true)
            .open(dir.join(claim_name(0, 0)))
            .unwrap();
        file.set_modified(std::time::SystemTime::now() + Duration::from_secs(3600))
            .unwrap();
        let mut short = options();
        short.stale_after = Duration::from_millis(400);
        let boards: Vec<Board> = (0..3)
            .map(|i| {
                Board::new(
                    place(&dir),
                    "test".into(),
                    vec![1],
                    Shard::new(if i == 2 { 2 } else { 0 }, 3).unwrap(),
                    short,
                )
            })
            .collect();
        let snapshot = boards[0].look().unwrap();
        for board in &boards {
            assert_eq!(
                board.try_claim(0, &snapshot).unwrap(),
                None,
                "a fresh claim was taken over"
            );
        }
        std::thread::sleep(Duration::from_millis(500));
        let snapshot = boards[0].look().unwrap();
        let won: Vec<Option<u32>> = boards.iter().map(|b| b.try_claim(0, &snapshot).unwrap()).collect();
        assert_eq!(won.iter().filter(|w| **w == Some(1)).count(), 1, "{won:?}");
        assert!(!dir.join(claim_name(0, 0)).exists(), "the stale claim stayed");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
