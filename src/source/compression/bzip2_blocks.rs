//! Where bzip2 blocks start, found without decoding — how a byte range of a
//! file finds its first block, and how a cut-short file is recognised.
//!
//! A bzip2 stream is `BZh` plus a level digit, then blocks, then an
//! end-of-stream marker. Each block begins with the 48-bit magic
//! `0x314159265359` (the digits of π) and its 32-bit CRC; the end marker is
//! `0x177245385090` (√π) and the stream's combined CRC, then padding to a
//! byte. Blocks are *bit*-aligned and carry no length, so the only way to find
//! one without decoding is to search for the magic at every bit offset — the
//! approach of Hadoop's splittable `BZip2Codec`. A range owns the blocks whose
//! magic *starts* inside it; after the first, the decoder
//! ([`super::bzip2_decoder`]) knows where each block ends.
//!
//! A chance occurrence of the magic inside compressed data (odds ~2⁻⁴⁸ per
//! bit) cannot produce wrong text: the block's CRC fails, naming the offset.

pub const BLOCK_MAGIC: u64 = 0x3141_5926_5359;
pub const END_OF_STREAM_MAGIC: u64 = 0x1772_4538_5090;
/// The length of a block magic or end-of-stream marker.
pub const MAGIC_BITS: u64 = 48;
const MAGIC_MASK: u64 = (1 << MAGIC_BITS) - 1;

/// The first block magic that starts at or after bit `from_bit`, searching
/// `data` (which holds the file from byte `data_offset` on); an absolute
/// bit offset.
pub fn find_block_magic(data: &[u8], data_offset: u64, from_bit: u64) -> Option<u64> {
    let first_byte = (from_bit / 8).checked_sub(data_offset)? as usize;
    let mut window = 0u64;
    for (k, &byte) in data.get(first_byte..)?.iter().enumerate() {
        window = (window << 8) | u64::from(byte);
        let end_bit = (data_offset + (first_byte + k + 1) as u64) * 8;
        let bits_seen = (k as u64 + 1) * 8;
        // Earlier starts (larger shifts) first.
        for shift in (0..8u64).rev() {
            if bits_seen < MAGIC_BITS + shift || (window >> shift) & MAGIC_MASK != BLOCK_MAGIC {
                continue;
            }
            let start = end_bit - shift - MAGIC_BITS;
            if start >= from_bit {
                return Some(start);
            }
        }
    }
    None
}

/// How many bytes at a file's end [`tail_has_end_of_stream`] looks at.
pub const TAIL_BYTES: u64 = 16;

/// Whether the last bytes of a file (up to [`TAIL_BYTES`]) hold the
/// end-of-stream marker, its CRC and at most 7 bits of padding — how every
/// complete stream ends. A file cut short by an interrupted download fails
/// this check in microseconds, before any range of it is read or any output
/// committed. The smallest bzip2 file (an
/// empty stream) is 14 bytes.
pub fn tail_has_end_of_stream(tail: &[u8]) -> bool {
    if tail.len() < 14 {
        return false;
    }
    let mut last = [0u8; 16];
    let take = tail.len().min(16);
    last[16 - take..].copy_from_slice(&tail[tail.len() - take..]);
    let bits = u128::from_be_bytes(last);
    (0..8).any(|padding| (bits >> (32 + padding)) as u64 & MAGIC_MASK == END_OF_STREAM_MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn compress(data: &[u8], level: u32) -> Vec<u8> {
        let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(level));
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    /// Deterministic, poorly compressible text so a level-1 stream has many blocks.
    fn text(len: usize, mut seed: u64) -> Vec<u8> {
        (0..len)
            .map(|i| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                if i % 80 == 79 {
                    b'\n'
                } else {
                    b'a' + (seed % 26) as u8
                }
            })
            .collect()
    }

    fn all_magics(file: &[u8]) -> Vec<u64> {
        let mut found = Vec::new();
        let mut from = 0;
        while let Some(bit) = find_block_magic(file, 0, from) {
            found.push(bit);
            from = bit + 1;
        }
        found
    }

    #[test]
    fn the_magics_found_are_the_blocks_of_every_stream() {
        // Two streams back to back, as pbzip2 and lbzip2 write them.
        let mut file = compress(&text(450_000, 7), 1);
        let second_stream = file.len() as u64;
        file.extend(compress(&text(130_000, 99), 1));
        let magics = all_magics(&file);
        // The first block of each stream follows its 4-byte header.
        assert_eq!(magics[0], 32);
        assert!(magics.contains(&(second_stream * 8 + 32)));
        assert!(magics.len() >= 6, "expected several 100k blocks, found {magics:?}");
    }

    #[test]
    fn searching_from_any_offset_finds_the_next_block_even_in_a_later_buffer() {
        let file = compress(&text(600_000, 3), 1);
        let magics = all_magics(&file);
        for start in [1u64, 4, 5, 1000, file.len() as u64 / 2, file.len() as u64 - 10] {
            let expected = magics.iter().copied().find(|&b| b >= start * 8);
            assert_eq!(find_block_magic(&file, 0, start * 8), expected, "start {start}");
            // The same search over a buffer that holds the file from `start` on.
            assert_eq!(find_block_magic(&file[start as usize..], start, start * 8), expected);
        }
    }

    #[test]
    fn complete_files_end_with_the_end_of_stream_marker_and_cut_ones_do_not() {
        let tail = |file: &[u8]| file[file.len().saturating_sub(TAIL_BYTES as usize)..].to_vec();
        for (i, len) in [0usize, 1, 1000, 250_000].into_iter().enumerate() {
            let file = compress(&text(len, i as u64 + 1), 1);
            assert!(tail_has_end_of_stream(&tail(&file)), "length {len}");
            for cut in [1, 3, 7, 500.min(file.len() - 1)] {
                let short = &file[..file.len() - cut];
                assert!(!tail_has_end_of_stream(&tail(short)), "length {len} cut {cut}");
            }
        }
    }
}
