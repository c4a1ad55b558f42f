//! One bzip2 block, from the bits after its magic to its text.
//!
//! The stages, in the order the format applies them in reverse:
//! 1. the header: stored CRC, the obsolete "randomised" flag, the BWT origin;
//! 2. the symbol map, Huffman tables and their selectors;
//! 3. Huffman symbols → move-to-front indices and RUNA/RUNB zero runs → the
//!    BWT's last column (one byte per `u32` slot, counted per byte value);
//! 4. the inverse BWT: the slots are linked into the text's order (each slot
//!    keeps its byte in the low 8 bits and the next slot in the upper 24, as
//!    libbz2 does), then walked;
//! 5. the initial run-length coding (4 equal bytes, then a repeat count) is
//!    undone and the CRC checked.
//!
//! Every count read from the input is checked before it is used, so hostile
//! input gives an error, never a panic or an unbounded allocation.

use super::bits::BitReader;
use super::crc::block_crc;
use super::huffman::{HuffmanTable, MAX_CODE_BITS, MAX_SYMBOLS};
use super::links::LinkArray;
use super::segments::SegmentedWalk;

const MAX_TABLES: usize = 6;
const MIN_TABLES: usize = 2;
const GROUP_SIZE: usize = 50;
/// libbz2 reads up to 2¹⁵ selectors but only ever needs (and keeps) this many.
const MAX_SELECTORS: usize = 18_002;
/// Symbols 0 (RUNA) and 1 (RUNB) write zero runs; the rest are move-to-front indices + 1.
const RUN_B: u16 = 1;

/// Why a block could not be decoded.
#[derive(Debug, PartialEq, Eq)]
pub enum BlockError {
    /// The input ended inside the block.
    Truncated,
    /// The bits are not a valid block.
    Corrupt(String),
}

fn corrupt<T>(what: impl Into<String>) -> Result<T, BlockError> {
    Err(BlockError::Corrupt(what.into()))
}

/// A block read up to its inverse BWT (stages 1–3 and the links).
struct Prepared {
    length: usize,
    origin: usize,
    stored_crc: u32,
}

/// Decodes blocks, reusing its buffers (a 900 k block needs 3.6 MB of links
/// and 0.9 MB of walked text). A block is decoded in three steps —
/// [`read`](Self::read), [`walk`](Self::walk), [`finish`](Self::finish).
#[derive(Default)]
pub struct BlockDecoder {
    /// The last column, one byte per slot, then each slot's link to the
    /// next slot in the text.
    links: LinkArray,
    /// The text before the run-length decoding.
    walked: Vec<u8>,
    tables: Vec<HuffmanTable>,
    selectors: Vec<u8>,
    prepared: Option<Prepared>,
    segments: SegmentedWalk,
}

impl BlockDecoder {
    /// Reads the block whose magic has just been read from `bits`, up to
    /// its links. `max_block_size` is the stream level's block size
    /// (level × 100 000).
    pub fn read(&mut self, bits: &mut BitReader, max_block_size: usize) -> Result<(), BlockError> {
        self.prepared = None;
        let stored_crc = bits.read(32);
        if bits.read_bit() {
            return corrupt("a randomised block (written by bzip2 0.9.0 or older), which wikitok does not decode");
        }
        let origin = bits.read(24) as usize;
        let used_bytes = read_symbol_map(bits)?;
        self.read_tables(bits, used_bytes.len() + 2)?;
        let (length, counts) = self.read_last_column(bits, &used_bytes, max_block_size)?;
        if bits.overran() {
            return Err(BlockError::Truncated);
        }
        if length == 0 {
            return corrupt("an empty block");
        }
        if origin >= length {
            return corrupt(format!("BWT origin {origin} outside the block's {length} bytes"));
        }
        self.link(length, &counts);
        self.prepared = Some(Prepared {
            length,
            origin,
            stored_crc,
        });
        Ok(())
    }

    /// Walks the block read into its text before the run-length decoding:
    /// as many chains through its links at once ([`super::segments`]), or,
    /// for a block too small to gain (or of many short cycles), as one.
    pub fn walk(&mut self) {
        let Some(Prepared { length, origin, .. }) = self.prepared else {
            return;
        };
        let links = &mut self.links.slots()[..length];
        self.walked.resize(length.max(self.walked.len()), 0);
        let walked = &mut self.walked[..length];
        if !self.segments.walk(links, origin, walked) {
            walk_one_chain(links, origin, walked);
        }
    }

    /// Undoes the initial run-length coding of the walked text, appending
    /// the block's text to `out`, and checks the block's CRC (returned).
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<u32, BlockError> {
        let Some(prepared) = self.prepared.take() else {
            return corrupt("no block was read");
        };
        let start = out.len();
        undo_initial_runs(&self.walked[..prepared.length], out);
        let crc = block_crc(&out[start..]);
        if crc != prepared.stored_crc {
            out.truncate(start);
            return corrupt(format!(
                "block CRC mismatch (stored {:08x}, computed {crc:08x})",
                prepared.stored_crc
            ));
        }
        Ok(crc)
    }

    /// The number of tables, the selectors (move-to-front coded, unary), and
    /// each table's code lengths (delta coded).
    fn read_tables(&mut self, bits: &mut BitReader, alphabet_size: usize) -> Result<(), BlockError> {
        let table_count = bits.read(3) as usize;
        if !(MIN_TABLES..=MAX_TABLES).contains(&table_count) {
            return corrupt(format!("{table_count} Huffman tables (2 to 6 are valid)"));
        }
        let selector_count = bits.read(15) as usize;
        if selector_count == 0 {
            return corrupt("no Huffman table selectors");
        }
        let mut order: [u8; MAX_TABLES] = [0, 1, 2, 3, 4, 5];
        self.selectors.clear();
        for _ in 0..selector_count {
            let mut index = 0usize;
            while bits.read_bit() {
                index += 1;
                if index >= table_count {
                    return corrupt("a selector names a table that does not exist");
                }
            }
            if bits.overran() {
                return Err(BlockError::Truncated);
            }
            let table = order[index];
            order.copy_within(0..index, 1);
            order[0] = table;
            if self.selectors.len() < MAX_SELECTORS {
                self.selectors.push(table);
            }
        }
        self.tables.resize_with(table_count, HuffmanTable::default);
        let mut lengths = [0u8; MAX_SYMBOLS];
        for table in &mut self.tables[..table_count] {
            let mut length = bits.read(5) as i32;
            for slot in &mut lengths[..alphabet_size] {
                loop {
                    if !(1..=MAX_CODE_BITS as i32).contains(&length) {
                        return corrupt(format!("Huffman code length {length} (1 to 20 are valid)"));
                    }
                    if bits.overran() {
                        return Err(BlockError::Truncated);
                    }
                    if !bits.read_bit() {
                        break;
                    }
                    length += if bits.read_bit() { -1 } else { 1 };
                }
                *slot = length as u8;
            }
            table.build(&lengths[..alphabet_size]).or_else(corrupt)?;
        }
        Ok(())
    }

    /// Decodes the Huffman symbols into the BWT's last column (in
    /// the forward links), returning its length and the count of each byte.
    fn read_last_column(
        &mut self,
        bits: &mut BitReader,
        used_bytes: &[u8],
        max_block_size: usize,
    ) -> Result<(usize, [u32; 256]), BlockError> {
        let end_of_block = (used_bytes.len() + 1) as u16;
        let mut front: [u8; 256] = [0; 256];
        front[..used_bytes.len()].copy_from_slice(used_bytes);
        let mut counts = [0u32; 256];
        let all_slots = self.links.slots();
        let capacity = all_slots.len();
        let slots = &mut all_slots[..max_block_size.min(capacity)];
        let mut length = 0usize;
        let mut run = 0usize;
        let mut run_weight = 1usize;
        for &selector in &self.selectors {
            let table = &self.tables[usize::from(selector)];
            for _ in 0..GROUP_SIZE {
                let Some(symbol) = table.decode(bits) else {
                    return if bits.overran() {
                        Err(BlockError::Truncated)
                    } else {
                        corrupt("an invalid Huffman code")
                    };
                };
                if symbol <= RUN_B {
                    // Zero runs are written in bijective base 2: RUNA adds 1×, RUNB 2× the weight.
                    run += run_weight << symbol;
                    run_weight <<= 1;
                    if run > max_block_size {
                        return corrupt("a run longer than the block");
                    }
                    continue;
                }
                if run > 0 {
                    let byte = front[0];
                    let Some(target) = slots.get_mut(length..length + run) else {
                        return corrupt("more data than the block size");
                    };
                    target.fill(u32::from(byte));
                    counts[usize::from(byte)] += run as u32;
                    length += run;
                    run = 0;
                    run_weight = 1;
                }
                if symbol == end_of_block {
                    return Ok((length, counts));
                }
                if symbol > end_of_block {
                    return corrupt("a symbol outside the block's alphabet");
                }
                let byte = move_to_front(&mut front, usize::from(symbol - 1));
                let Some(slot) = slots.get_mut(length) else {
                    return corrupt("more data than the block size");
                };
                *slot = u32::from(byte);
                counts[usize::from(byte)] += 1;
                length += 1;
            }
            if bits.overran() {
                return Err(BlockError::Truncated);
            }
        }
        if bits.overran() {
            return Err(BlockError::Truncated);
        }
        corrupt("the selectors ran out before the end of the block")
    }

    /// Links each slot to the slot that follows it in the text, keeping
    /// its byte in the low 8 bits.
    fn link(&mut self, length: usize, counts: &[u32; 256]) {
        let slots = &mut self.links.slots()[..length];
        let mut next_of_byte = [0u32; 256];
        let mut sum = 0u32;
        for (next, &count) in next_of_byte.iter_mut().zip(counts) {
            *next = sum;
            sum += count;
        }
        for i in 0..length {
            let byte = slots[i] & 0xff;
            let target = next_of_byte[byte as usize];
            next_of_byte[byte as usize] += 1;
            slots[target as usize] |= (i as u32) << 8;
        }
    }
}

/// The inverse BWT walked as one chain: from the slot after the origin,
/// each slot's byte, then on to the slot it links to. (Following the links
/// `length` times from any slot returns to it, as the cycle's length
/// divides the block's — also when the block is one string repeated.)
fn walk_one_chain(links: &[u32], origin: usize, out: &mut [u8]) {
    let mut position = links[origin] >> 8;
    for byte in out.iter_mut() {
        let link = links[position as usize];
        *byte = link as u8;
        position = link >> 8;
    }
}

/// Moves the byte at `index` of the move-to-front list to its front and
/// returns it. Nearly all indices are small: for those the first 16 bytes
/// are shifted as one 128-bit value instead of calling `memmove`.
#[inline(always)]
fn move_to_front(list: &mut [u8; 256], index: usize) -> u8 {
    if index < 16 {
        let head: &mut [u8; 16] = (&mut list[..16]).try_into().expect("16 bytes");
        let value = u128::from_le_bytes(*head);
        let shift = 8 * index as u32;
        let byte = (value >> shift) as u8;
        let before = value & ((1u128 << shift) - 1);
        let after = value & u128::MAX.checked_shl(shift + 8).unwrap_or(0);
        *head = (after | (before << 8) | u128::from(byte)).to_le_bytes();
        return byte;
    }
    let byte = list[index];
    list.copy_within(0..index, 1);
    list[0] = byte;
    byte
}

/// The bytes that occur in the block, in byte order: 16 flags for
/// ranges of 16 byte values, then 16 flags within each range present.
fn read_symbol_map(bits: &mut BitReader) -> Result<Vec<u8>, BlockError> {
    let ranges = bits.read(16);
    let mut used = Vec::with_capacity(256);
    for range in 0..16u32 {
        if ranges & (0x8000 >> range) != 0 {
            let flags = bits.read(16);
            for k in 0..16u32 {
                if flags & (0x8000 >> k) != 0 {
                    used.push((range * 16 + k) as u8);
                }
            }
        }
    }
    if used.is_empty() {
        return corrupt("a block that uses no byte values");
    }
    Ok(used)
}

/// Undoes bzip2's first stage: four equal bytes are followed by a count
/// (0..=255) of further copies. A block may end right after four equal
/// bytes, with no count (libbz2 accepts that too).
fn undo_initial_runs(walked: &[u8], out: &mut Vec<u8>) {
    let n = walked.len();
    let mut literal_start = 0;
    let mut i = 0;
    while i + 3 < n {
        let byte = walked[i];
        if walked[i + 1] != byte {
            i += 1;
            continue;
        }
        if walked[i + 2] != byte || walked[i + 3] != byte {
            i += 2;
            continue;
        }
        out.extend_from_slice(&walked[literal_start..i + 4]);
        i += 4;
        if let Some(&extra) = walked.get(i) {
            out.resize(out.len() + usize::from(extra), byte);
            i += 1;
        }
        literal_start = i;
    }
    out.extend_from_slice(&walked[literal_start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn undo(walked: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        undo_initial_runs(walked, &mut out);
        out
    }

    /// The run-length decoding as a byte-at-a-time state machine.
    fn undo_reference(walked: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let (mut last, mut repeats) = (None, 0);
        let mut iter = walked.iter();
        while let Some(&byte) = iter.next() {
            out.push(byte);
            if last == Some(byte) {
                repeats += 1;
            } else {
                last = Some(byte);
                repeats = 1;
            }
            if repeats == 4 {
                if let Some(&extra) = iter.next() {
                    out.extend(std::iter::repeat_n(byte, usize::from(extra)));
                }
                last = None;
                repeats = 0;
            }
        }
        out
    }

    #[test]
    fn move_to_front_matches_the_plain_definition_at_every_index() {
        let start: [u8; 256] = std::array::from_fn(|i| (i as u8).wrapping_mul(101));
        for index in 0..256 {
            let mut fast = start;
            let mut plain = start.to_vec();
            let byte = plain.remove(index);
            plain.insert(0, byte);
            assert_eq!(move_to_front(&mut fast, index), byte);
            assert_eq!(fast.to_vec(), plain, "index {index}");
        }
    }

    #[test]
    fn run_length_decoding_matches_a_byte_at_a_time_state_machine() {
        let mut seed = 17u64;
        for case in 0..2000 {
            let len = case % 40;
            let walked: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // Few distinct values so runs of four are common.
                    (seed % 3) as u8
                })
                .collect();
            assert_eq!(undo(&walked), undo_reference(&walked), "{walked:?}");
        }
    }
}
