//! How the inverse BWT is walked — chosen by measuring, on the CPU at hand.
//!
//! The walk is a chain of dependent loads at random places in a block's
//! links: 3.6 MB per array. Walking several chains at once overlaps their
//! misses (see [`super::block::walk`]), but each chain needs its array in
//! the cache: walking every block from both ends doubles the arrays, and
//! each block walked alongside adds two more. Which wins depends on how much
//! cache the process really gets, which a CPU's reported L3 size does not
//! tell on a shared machine:
//!
//! - measured on one 2-core AMD EPYC VM (32 MB L3 reported, shared with
//!   other tenants), one core, a 73 MB shard: two blocks from both ends
//!   (4 arrays) 10.3 s, two blocks forward only (2 arrays) 6.3 s, three
//!   forward 8.2 s — `lbzip2 -dc -n1` 7.1 s in the same run;
//! - on the machine the decoder was first tuned on, three blocks from both
//!   ends (6 arrays) were fastest: 1.90× libbz2, against 1.58× with two.
//!
//! So every reader in the process shares one [`PlanChooser`]: it tries each
//! [`WalkPlan`] on real blocks, then keeps using the fastest (nanoseconds
//! per decoded byte, over recent rounds), and keeps re-measuring the others
//! now and then, since the cache a process gets changes with its
//! neighbours. The plan changes only how fast a block decodes, never its
//! bytes.

use std::sync::Mutex;
use std::time::Duration;

/// How many blocks are walked together, and whether each is walked from
/// both ends (forward through the links and backward through inverse links).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkPlan {
    pub blocks: usize,
    pub both_ends: bool,
}

impl std::fmt::Display for WalkPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ends = if self.both_ends { "both ends" } else { "forward" };
        write!(f, "{} blocks, {ends}", self.blocks)
    }
}

/// The plans tried: 2, 4 and 6 link arrays in the cache at once.
pub const PLANS: [WalkPlan; 3] = [
    WalkPlan {
        blocks: 2,
        both_ends: false,
    },
    WalkPlan {
        blocks: 2,
        both_ends: true,
    },
    WalkPlan {
        blocks: 3,
        both_ends: true,
    },
];

/// The most blocks any plan reads together (decoders a reader may hold).
pub const MAX_BLOCKS: usize = 3;

/// Decoded bytes each plan is measured over before the fastest is chosen.
const TRIAL_BYTES: u64 = 8 << 20;
/// Once chosen, one round in this many re-measures another plan.
const EXPLORE_EVERY: u64 = 32;
/// A round of this many bytes moves a plan's speed all the way to its own;
/// smaller ones part of the way (an average over the recent rounds).
const SMOOTHING_BYTES: f64 = (4 << 20) as f64;

#[derive(Debug, Default, Clone, Copy)]
struct Measured {
    /// Bytes decoded with the plan so far.
    bytes: u64,
    /// Its recent speed, nanoseconds per decoded byte.
    nanos_per_byte: f64,
}

/// Measurements of every plan, shared by the readers of a process.
#[derive(Debug, Default)]
pub struct PlanChooser {
    state: Mutex<ChooserState>,
}

#[derive(Debug, Default)]
struct ChooserState {
    measured: [Measured; PLANS.len()],
    rounds: u64,
    /// The plan used outside exploring rounds, once trials are done.
    chosen: Option<usize>,
}

impl PlanChooser {
    /// The process's chooser.
    pub fn shared() -> &'static PlanChooser {
        static SHARED: std::sync::OnceLock<PlanChooser> = std::sync::OnceLock::new();
        SHARED.get_or_init(PlanChooser::default)
    }

    /// The plan for the next round (an index into [`PLANS`]).
    pub fn next(&self) -> usize {
        let Ok(mut state) = self.state.lock() else {
            return 0;
        };
        state.rounds += 1;
        // Trials first: the least measured plan until each has its share.
        let (least, measured) = state
            .measured
            .iter()
            .enumerate()
            .min_by_key(|(_, m)| m.bytes)
            .map(|(i, m)| (i, *m))
            .unwrap_or_default();
        if measured.bytes < TRIAL_BYTES {
            return least;
        }
        let best = (0..PLANS.len())
            .min_by(|&a, &b| {
                let (a, b) = (state.measured[a].nanos_per_byte, state.measured[b].nanos_per_byte);
                a.total_cmp(&b)
            })
            .unwrap_or(0);
        if state.chosen != Some(best) {
            state.chosen = Some(best);
            let speeds: Vec<String> = PLANS
                .iter()
                .zip(&state.measured)
                .map(|(plan, m)| format!("{plan}: {:.1} ns/byte", m.nanos_per_byte))
                .collect();
            tracing::debug!("bzip2 walk: {} chosen ({})", PLANS[best], speeds.join(", "));
        }
        if state.rounds.is_multiple_of(EXPLORE_EVERY) {
            // Another plan's turn to be measured again.
            let others = PLANS.len() - 1;
            return (best + 1 + (state.rounds / EXPLORE_EVERY) as usize % others) % PLANS.len();
        }
        best
    }

    /// Records a round of `plan` that decoded `bytes` in `took`.
    pub fn record(&self, plan: usize, bytes: u64, took: Duration) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let Some(measured) = state.measured.get_mut(plan) else {
            return;
        };
        if bytes == 0 {
            return;
        }
        let sample = took.as_nanos() as f64 / bytes as f64;
        let weight = if measured.bytes == 0 {
            1.0
        } else {
            (bytes as f64 / SMOOTHING_BYTES).min(1.0)
        };
        measured.nanos_per_byte += (sample - measured.nanos_per_byte) * weight;
        measured.bytes += bytes;
    }
}

/// This thread's CPU time so far: what a round is measured by. Wall time
/// would also count the time the thread waits for a core (the query's
/// other threads run beside the reader), which says nothing of the plan.
pub fn thread_cpu_time() -> Duration {
    #[cfg(unix)]
    {
        let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes the timespec it is given, nothing else.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } == 0 {
            return Duration::new(now.tv_sec as u64, now.tv_nsec as u32);
        }
    }
    // Elsewhere (or if the clock is refused): time since the first call.
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_plan_is_tried_then_the_fastest_is_kept_and_the_others_revisited() {
        let chooser = PlanChooser::default();
        let speed = [3.0, 1.0, 2.0]; // ns per byte: plan 1 is the fastest
        let mut used = [0u32; PLANS.len()];
        for _ in 0..2000 {
            let plan = chooser.next();
            used[plan] += 1;
            let bytes = 1 << 20;
            chooser.record(plan, bytes, Duration::from_nanos((bytes as f64 * speed[plan]) as u64));
        }
        assert!(used.iter().all(|&n| n >= 8), "every plan was measured: {used:?}");
        assert!(used[1] > 1800, "the fastest plan is used nearly always: {used:?}");
        // When the machine changes, the choice follows.
        let speed = [0.5, 1.0, 2.0];
        let mut late = [0u32; PLANS.len()];
        for _ in 0..4000 {
            let plan = chooser.next();
            late[plan] += 1;
            let bytes = 1 << 20;
            chooser.record(plan, bytes, Duration::from_nanos((bytes as f64 * speed[plan]) as u64));
        }
        assert!(late[0] > 3200, "the new fastest plan took over: {late:?}");
    }

    #[test]
    fn plans_fit_the_decoders_a_reader_holds() {
        assert!(PLANS.iter().all(|p| (1..=MAX_BLOCKS).contains(&p.blocks)));
    }
}
