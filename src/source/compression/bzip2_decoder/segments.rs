//! The inverse BWT of one block walked as many chains at once, each
//! through a piece of the text whose place is found afterwards.
//!
//! The walk is a chain of dependent loads, a cache miss per byte, so its
//! speed is how many chains run at once. Walking several blocks together,
//! or a block from both ends (forward through its links and backward
//! through inverse ones), gives more chains only by holding more link
//! arrays in the cache: on a 2-core EPYC VM whose cache is shared with
//! neighbours, the extra arrays cost more than the chains gained (one core,
//! a 73 MB shard: two blocks forward 16.2 ns per byte decoded, two from both
//! ends 24.7, three from both ends 26.2; this walk 10.9). This walk starts
//! chains at slots spread over one block's array instead: the text is a single cycle through the slots,
//! so chains started at [`SEGMENTS`] slots cut it into that many segments,
//! each ending where the next one's start slot comes up. [`LANES`] chains
//! step together through one array; each writes its segment into chunks
//! of a scratch buffer, and the segments are put in order by following,
//! from the origin, which start slot each one ended at.
//!
//! A start slot is marked in its own link (bit 31: a block has at most
//! 900 000 slots, so links use bits 8..28), so a chain sees that it
//! reached the next segment in the very load that moves it on. The marks
//! are cleared before the walk returns. A block whose slots form several
//! cycles (its text one string repeated) still decodes right — the
//! pieces are followed around the origin's cycle — and a block too small
//! to gain, or one whose pieces cannot be put in order within a few
//! passes, is left to the plain walk (`false`).

/// Chains stepping together.
const LANES: usize = 16;
/// Segments a block's text is cut into (more than lanes, so that lanes
/// whose segment ends take the next and all stay busy to the end).
const SEGMENTS: usize = 64;
/// Bytes of scratch a chain writes before it takes another chunk.
const CHUNK: usize = 4096;
/// Blocks smaller than this are walked plainly: their links fit in the
/// cache, where one chain is fast enough.
const MIN_LENGTH: usize = 64 * 1024;
/// Marks a segment's start slot, in that slot's own link.
const START: u32 = 1 << 31;

/// A run of the text written by one chain into one chunk.
#[derive(Clone, Copy)]
struct Piece {
    /// The slot of its first byte.
    first: u32,
    /// Where its bytes are in the scratch buffer.
    at: usize,
    len: usize,
    /// The slot of the byte that follows it.
    after: u32,
}

/// A chain in progress: where it is in the links and in its chunk.
#[derive(Clone, Copy)]
struct Lane {
    position: u32,
    write: usize,
    chunk_end: usize,
    piece: usize,
}

/// Buffers reused from block to block.
#[derive(Default)]
pub struct SegmentedWalk {
    scratch: Vec<u8>,
    pieces: Vec<Piece>,
    starts: Vec<u32>,
    pending: Vec<u32>,
    lanes: Vec<Lane>,
}

impl SegmentedWalk {
    /// Writes the text of the block whose links are `links` (one per slot:
    /// byte in bits 0..8, next slot above) and whose BWT origin is `origin`
    /// into `out` (as long as `links`). False when this block is left to the
    /// plain walk; `links` are then as they were.
    pub fn walk(&mut self, links: &mut [u32], origin: usize, out: &mut [u8]) -> bool {
        let length = links.len();
        if length < MIN_LENGTH || out.len() != length || origin >= length {
            return false;
        }
        let first = links[origin] >> 8;
        self.starts.clear();
        self.starts.push(first);
        self.starts.extend(
            (1..SEGMENTS)
                .map(|i| (i * length / SEGMENTS) as u32)
                .filter(|&s| s != first),
        );
        for &start in &self.starts {
            links[start as usize] |= START;
        }
        let walked = self.walk_pieces(links);
        for &start in &self.starts {
            links[start as usize] &= !START;
        }
        walked && self.assemble(first, out)
    }

    /// Walks every segment into pieces; false if the scratch ran out
    /// (which the sizing rules out, but is never assumed).
    fn walk_pieces(&mut self, links: &[u32]) -> bool {
        let length = links.len();
        // Each segment wastes at most one chunk's tail; the text is `length`.
        self.scratch.resize(length + (SEGMENTS + LANES + 1) * CHUNK, 0);
        self.pieces.clear();
        self.pending.clear();
        self.pending.extend(self.starts.iter().rev());
        self.lanes.clear();
        let mut chunks = Chunks {
            scratch: &mut self.scratch,
            pieces: &mut self.pieces,
            next: 0,
        };
        let (pending, lanes) = (&mut self.pending, &mut self.lanes);
        while lanes.len() < LANES {
            let Some(start) = pending.pop() else { break };
            let Some(lane) = chunks.open_segment(links, start) else {
                return false;
            };
            lanes.push(lane);
        }
        while !lanes.is_empty() {
            let scratch = &mut *chunks.scratch;
            step_all(lanes, links, scratch);
            let mut i = 0;
            while i < lanes.len() {
                let lane = lanes[i];
                let at_start = links[lane.position as usize] & START != 0;
                if !at_start && lane.write < lane.chunk_end {
                    i += 1;
                    continue;
                }
                let piece = &mut chunks.pieces[lane.piece];
                piece.len = lane.write - piece.at;
                piece.after = lane.position;
                let next = if !at_start {
                    // The chunk is full: the segment goes on in another.
                    chunks.open(lane.position)
                } else if let Some(start) = pending.pop() {
                    chunks.open_segment(links, start)
                } else {
                    lanes.swap_remove(i);
                    continue;
                };
                let Some(next) = next else {
                    return false;
                };
                lanes[i] = next;
                i += 1;
            }
        }
        true
    }

    /// Puts the pieces in the text's order into `out`, starting at the
    /// origin's slot `first`; false if they do not chain up.
    fn assemble(&mut self, first: u32, out: &mut [u8]) -> bool {
        self.pieces.sort_unstable_by_key(|piece| piece.first);
        let mut slot = first;
        let mut done = 0;
        // A single cycle visits each piece once; a repeated string's
        // shorter cycle a few times. More means a text of tiny cycles.
        let mut lookups_left = 4 * self.pieces.len();
        while done < out.len() {
            if lookups_left == 0 {
                return false;
            }
            lookups_left -= 1;
            let Ok(index) = self.pieces.binary_search_by_key(&slot, |piece| piece.first) else {
                return false;
            };
            let piece = self.pieces[index];
            if piece.len == 0 {
                return false;
            }
            let take = piece.len.min(out.len() - done);
            out[done..done + take].copy_from_slice(&self.scratch[piece.at..piece.at + take]);
            done += take;
            slot = piece.after;
        }
        true
    }
}

/// The scratch buffer handed out a chunk at a time, one piece per chunk.
struct Chunks<'a> {
    scratch: &'a mut Vec<u8>,
    pieces: &'a mut Vec<Piece>,
    next: usize,
}

impl Chunks<'_> {
    /// A chain from slot `first` on, writing into a fresh chunk.
    fn open(&mut self, first: u32) -> Option<Lane> {
        let at = self.next;
        if at + CHUNK > self.scratch.len() {
            return None;
        }
        self.next += CHUNK;
        self.pieces.push(Piece {
            first,
            at,
            len: 0,
            after: first,
        });
        Some(Lane {
            position: first,
            write: at,
            chunk_end: at + CHUNK,
            piece: self.pieces.len() - 1,
        })
    }

    /// A chain for the segment starting at `start`, its first byte written
    /// on the spot: the start slot carries the mark a stepping chain stops at.
    fn open_segment(&mut self, links: &[u32], start: u32) -> Option<Lane> {
        let mut lane = self.open(start)?;
        let link = links[start as usize] & !START;
        self.scratch[lane.write] = link as u8;
        lane.write += 1;
        lane.position = link >> 8;
        Some(lane)
    }
}

/// Steps the chains together until one of them stops.
fn step_all(lanes: &mut [Lane], links: &[u32], scratch: &mut [u8]) {
    macro_rules! by_count {
        ($($n:literal)*) => {
            match lanes.len() {
                $($n => step_until_one_stops::<$n>(lanes, links, scratch),)*
                _ => step_until_one_stops::<1>(&mut lanes[..1], links, scratch),
            }
        };
    }
    by_count!(16 15 14 13 12 11 10 9 8 7 6 5 4 3 2)
}

/// Steps exactly `N` chains together until one of them reaches a start
/// slot or fills its chunk (a fixed count, so their state stays in
/// registers). A chain that stopped stays put; the others may have taken
/// the round's step.
#[inline(always)]
fn step_until_one_stops<const N: usize>(lanes: &mut [Lane], links: &[u32], scratch: &mut [u8]) {
    let Ok(lanes) = <&mut [Lane; N]>::try_from(lanes) else {
        return;
    };
    let mut state = *lanes;
    loop {
        let mut all_moved = true;
        for lane in state.iter_mut() {
            let link = links[lane.position as usize];
            if link & START != 0 || lane.write == lane.chunk_end {
                all_moved = false;
                continue;
            }
            scratch[lane.write] = link as u8;
            lane.write += 1;
            lane.position = link >> 8;
        }
        if !all_moved {
            break;
        }
    }
    *lanes = state;
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// Links through `cycles` (each a list of slots, in walking order), with
    /// a random byte per slot; the origin is the slot before `cycles[0][0]`.
    fn links_through(cycles: &[Vec<usize>], rng: &mut Rng) -> (Vec<u32>, usize) {
        let n = cycles.iter().map(Vec::len).sum();
        let mut links = vec![0u32; n];
        for cycle in cycles {
            for (k, &slot) in cycle.iter().enumerate() {
                let next = cycle[(k + 1) % cycle.len()];
                links[slot] = ((next as u32) << 8) | rng.below(256) as u32;
            }
        }
        let first = &cycles[0];
        (links, first[first.len() - 1])
    }

    fn plain_walk(links: &[u32], origin: usize) -> Vec<u8> {
        let mut position = links[origin] >> 8;
        (0..links.len())
            .map(|_| {
                let link = links[position as usize];
                position = link >> 8;
                link as u8
            })
            .collect()
    }

    fn shuffled(n: usize, rng: &mut Rng) -> Vec<usize> {
        let mut slots: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            slots.swap(i, rng.below(i + 1));
        }
        slots
    }

    #[test]
    fn segments_put_together_are_the_plain_walks_text() {
        let mut rng = Rng(5);
        let mut walk = SegmentedWalk::default();
        for n in [MIN_LENGTH, 100_003, 900_000] {
            // The text of a real block: one cycle through every slot.
            let order = shuffled(n, &mut rng);
            let (mut links, origin) = links_through(&[order], &mut rng);
            let before = links.clone();
            let mut out = vec![0; n];
            assert!(walk.walk(&mut links, origin, &mut out), "{n} slots walked in segments");
            assert!(out == plain_walk(&before, origin), "{n} slots: other bytes");
            assert!(links == before, "the start marks were cleared");
        }
    }

    #[test]
    fn a_repeated_strings_short_cycles_decode_right_or_go_to_the_plain_walk() {
        let mut rng = Rng(9);
        let mut walk = SegmentedWalk::default();
        // Cycles of equal length (a string repeated 3, 8 times; every slot
        // its own cycle: one byte repeated), and unequal ones (hostile).
        for (n, pieces) in [(150_000, 3), (160_000, 8), (MIN_LENGTH, MIN_LENGTH), (100_000, 0)] {
            let order = shuffled(n, &mut rng);
            let cycles: Vec<Vec<usize>> = match n.checked_div(pieces) {
                Some(each) => order.chunks(each).map(<[usize]>::to_vec).collect(),
                None => vec![order[..10_000].to_vec(), order[10_000..].to_vec()],
            };
            let (mut links, origin) = links_through(&cycles, &mut rng);
            let before = links.clone();
            let mut out = vec![0; n];
            if walk.walk(&mut links, origin, &mut out) {
                assert!(out == plain_walk(&before, origin), "{pieces} cycles: other bytes");
            } else {
                assert!(pieces == MIN_LENGTH, "{pieces} cycles left to the plain walk");
            }
            assert!(links == before, "the start marks were cleared");
        }
    }

    #[test]
    fn small_blocks_are_left_to_the_plain_walk() {
        let mut rng = Rng(3);
        let (mut links, origin) = links_through(&[shuffled(1000, &mut rng)], &mut rng);
        let mut out = vec![0; 1000];
        assert!(!SegmentedWalk::default().walk(&mut links, origin, &mut out));
    }
}
