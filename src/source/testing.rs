//! Test helpers shared by the formats' property tests: a tiny deterministic
//! generator (no extra dependency) and random divisions of a file into ranges.

use super::storage::{ByteRange, Split};

/// Xorshift64: deterministic, seedable, good enough to pick cut points.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// `whole` cut at up to `max_cuts` random points: the pieces, in order,
/// covering the file exactly once.
pub fn random_pieces(whole: &Split, rng: &mut XorShift, max_cuts: u64) -> Vec<Split> {
    let size = whole.size;
    let mut cuts: Vec<u64> = (0..rng.below(max_cuts)).map(|_| rng.below(size)).collect();
    cuts.extend([0, size]);
    cuts.sort();
    cuts.dedup();
    cuts.windows(2)
        .map(|w| Split {
            range: Some(ByteRange { start: w[0], end: w[1] }),
            ..whole.clone()
        })
        .collect()
}
