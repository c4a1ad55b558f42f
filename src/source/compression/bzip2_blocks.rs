//! Reading a byte range of a bzip2 file by its blocks, so that one big shard
//! is decoded by every core.
//!
//! A bzip2 stream is `BZh` plus a level digit, then blocks, then an
//! end-of-stream marker. Each block begins with the 48-bit magic
//! `0x314159265359` (the digits of π) and its 32-bit CRC; the end marker is
//! `0x177245385090` (√π) and the stream's combined CRC, then padding to a
//! byte. Blocks are *bit*-aligned and carry no length, so the only way to find
//! them without decoding is to search for the magic at every bit offset — the
//! approach of Hadoop's splittable `BZip2Codec`.
//!
//! A block found that way decodes on its own once re-framed as a one-block
//! stream: `BZh9`, the block's bits, the end marker, and the block's CRC as the
//! combined CRC (for one block they are equal). Level 9 admits blocks of every
//! level. Both CRCs are still checked by the decoder, so a chance occurrence
//! of the magic inside compressed data (odds ~2⁻⁴⁸ per bit) cannot produce
//! wrong text: it fails loudly, naming the offset.
//!
//! A range owns the blocks whose magic *starts* inside it. Multi-stream files
//! (pbzip2, lbzip2) need nothing special: stream headers and end markers
//! between blocks are skipped by the search.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const BLOCK_MAGIC: u64 = 0x3141_5926_5359;
const END_OF_STREAM_MAGIC: u64 = 0x1772_4538_5090;
const MAGIC_BITS: u64 = 48;
const MAGIC_MASK: u64 = (1 << MAGIC_BITS) - 1;
/// Magic plus block CRC: anything shorter cannot be a block.
const BLOCK_HEADER_BITS: u64 = MAGIC_BITS + 32;

/// One block, re-framed as a standalone bzip2 stream.
#[derive(Debug)]
pub struct Block {
    /// Where the block's magic starts in the file, in bits.
    pub bit_offset: u64,
    /// `BZh9` + the block + end marker + CRC: valid input for any bzip2 decoder.
    pub stream: Vec<u8>,
}

/// Finds the blocks of a bzip2 file from a byte offset on, in file order.
pub struct BlockScanner<R> {
    input: R,
    /// Bits consumed from the file so far, counted from the file's start.
    bit_position: u64,
    /// The first bit this scanner may report a magic at.
    first_bit: u64,
    /// The last 64 bits read, the newest in the low bits.
    window: u64,
    /// The block being collected, if its magic has been seen.
    current: Option<BlockBits>,
    /// A block completed while reading the byte that started the next one.
    ready: Option<Block>,
    at_eof: bool,
}

/// The bits of a block, copied out of the file MSB-first.
struct BlockBits {
    bit_offset: u64,
    bytes: Vec<u8>,
    bit_len: u64,
}

impl BlockBits {
    fn push_bits(&mut self, value: u64, count: u32) {
        for i in (0..count).rev() {
            let bit = ((value >> i) & 1) as u8;
            if self.bit_len.is_multiple_of(8) {
                self.bytes.push(0);
            }
            if bit == 1 {
                *self.bytes.last_mut().expect("pushed above") |= 0x80 >> (self.bit_len % 8);
            }
            self.bit_len += 1;
        }
    }

    /// Appends a whole byte; the hot path, so no per-bit loop.
    fn push_byte(&mut self, byte: u8) {
        let used = (self.bit_len % 8) as u32;
        if used == 0 {
            self.bytes.push(byte);
        } else {
            *self.bytes.last_mut().expect("partial byte exists") |= byte >> used;
            self.bytes.push(byte << (8 - used));
        }
        self.bit_len += 8;
    }

    fn truncate_bits(&mut self, bit_len: u64) {
        self.bit_len = bit_len;
        self.bytes.truncate(bit_len.div_ceil(8) as usize);
        if !bit_len.is_multiple_of(8) {
            *self.bytes.last_mut().expect("non-empty") &= 0xff << (8 - bit_len % 8);
        }
    }

    /// The block's CRC, stored right after its magic.
    fn crc(&self) -> u64 {
        let mut crc = 0u64;
        for i in MAGIC_BITS..BLOCK_HEADER_BITS {
            let bit = (self.bytes[(i / 8) as usize] >> (7 - i % 8)) & 1;
            crc = (crc << 1) | u64::from(bit);
        }
        crc
    }

    fn into_stream(self) -> Block {
        let crc = self.crc();
        let mut framed = BlockBits {
            bit_offset: self.bit_offset,
            bytes: Vec::with_capacity(self.bytes.len() + 16),
            bit_len: 0,
        };
        for &b in b"BZh9" {
            framed.push_byte(b);
        }
        let whole_bytes = self.bit_len / 8;
        for &b in &self.bytes[..whole_bytes as usize] {
            framed.push_byte(b);
        }
        let rest = (self.bit_len % 8) as u32;
        if rest > 0 {
            framed.push_bits(u64::from(self.bytes[whole_bytes as usize] >> (8 - rest)), rest);
        }
        framed.push_bits(END_OF_STREAM_MAGIC, MAGIC_BITS as u32);
        framed.push_bits(crc, 32);
        Block {
            bit_offset: self.bit_offset,
            stream: framed.bytes,
        }
    }
}

impl<R: BufRead> BlockScanner<R> {
    /// `input` must be positioned at byte `start` of the file.
    pub fn new(input: R, start: u64) -> Self {
        BlockScanner {
            input,
            bit_position: start * 8,
            first_bit: start * 8,
            window: 0,
            current: None,
            ready: None,
            at_eof: false,
        }
    }

    /// The byte offset the scan has reached.
    pub fn byte_position(&self) -> u64 {
        self.bit_position / 8
    }

    /// The next block, or `None` at the end of the file. A file that ends
    /// inside a block is an error naming the block's offset.
    pub fn next_block(&mut self) -> io::Result<Option<Block>> {
        loop {
            if let Some(block) = self.ready.take() {
                return Ok(Some(block));
            }
            if self.at_eof {
                return match self.current.take() {
                    None => Ok(None),
                    Some(bits) => Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "the file ends inside the bzip2 block that starts at compressed byte {} (truncated?)",
                            bits.bit_offset / 8
                        ),
                    )),
                };
            }
            self.scan_chunk()?;
        }
    }

    /// Consumes one buffer of input, stopping early once a block completes.
    fn scan_chunk(&mut self) -> io::Result<()> {
        let chunk = loop {
            match self.input.fill_buf() {
                Ok(chunk) => break chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if chunk.is_empty() {
            self.at_eof = true;
            return Ok(());
        }
        let mut used = 0;
        for &byte in chunk {
            used += 1;
            self.window = (self.window << 8) | u64::from(byte);
            self.bit_position += 8;
            if let Some(bits) = self.current.as_mut() {
                bits.push_byte(byte);
            }
            // A magic ending in this byte ends `shift` bits before its end.
            for shift in 0..8u64 {
                let candidate = (self.window >> shift) & MAGIC_MASK;
                if candidate != BLOCK_MAGIC && candidate != END_OF_STREAM_MAGIC {
                    continue;
                }
                let magic_start = self.bit_position - shift - MAGIC_BITS;
                if magic_start < self.first_bit {
                    continue;
                }
                if let Some(mut bits) = self.current.take() {
                    if magic_start < bits.bit_offset + BLOCK_HEADER_BITS {
                        // Overlaps the current block's own header: not a boundary.
                        self.current = Some(bits);
                        continue;
                    }
                    bits.truncate_bits(magic_start - bits.bit_offset);
                    self.ready = Some(bits.into_stream());
                }
                if candidate == BLOCK_MAGIC {
                    let mut bits = BlockBits {
                        bit_offset: magic_start,
                        bytes: Vec::with_capacity(1 << 20),
                        bit_len: 0,
                    };
                    bits.push_bits(
                        self.window & ((1 << (MAGIC_BITS + shift)) - 1),
                        (MAGIC_BITS + shift) as u32,
                    );
                    self.current = Some(bits);
                }
            }
            if self.ready.is_some() {
                break;
            }
        }
        self.input.consume(used);
        Ok(())
    }
}

/// Whether a bzip2 file ends the way every complete stream does: the
/// end-of-stream magic, a 32-bit CRC and at most 7 bits of padding. A file cut
/// short by an interrupted download fails this check in microseconds, before
/// any range of it is read or any output committed.
pub fn ends_with_end_of_stream(path: &Path) -> io::Result<bool> {
    let mut file = File::open(path)?;
    let length = file.metadata()?.len();
    file.seek(SeekFrom::Start(length - TAIL_BYTES.min(length)))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)?;
    Ok(tail_has_end_of_stream(&tail))
}

/// How many bytes at a file's end [`tail_has_end_of_stream`] looks at.
pub const TAIL_BYTES: u64 = 16;

/// Whether the last bytes of a file (up to [`TAIL_BYTES`]) hold the
/// end-of-stream marker, its CRC and padding. The smallest bzip2 file (an
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

/// The decompressed text of the blocks that start in a byte range, followed
/// by as many later blocks as the reader asks for (the last pair of a range
/// may end in the next range's blocks).
pub struct BlockRangeReader {
    scanner: BlockScanner<BufReader<Box<dyn Read + Send>>>,
    /// Blocks starting before this bit belong to the range.
    end_bit: u64,
    end_byte: u64,
    decoded: Vec<u8>,
    position: usize,
    /// Decompressed bytes of the range's own blocks produced so far; once a
    /// later block has been started this is the range's full length.
    own_bytes: Arc<AtomicU64>,
    /// Compressed bytes of the range scanned so far (never past its end), for progress.
    compressed: Arc<AtomicU64>,
    /// Whether any block has been decoded yet.
    started: bool,
    /// The range holds no block start: it reads nothing.
    empty: bool,
}

impl BlockRangeReader {
    /// `source` yields the file's bytes from `start` on (a seeked file, a ranged GET).
    pub fn new(source: Box<dyn Read + Send>, start: u64, end: u64, compressed: Arc<AtomicU64>) -> Self {
        compressed.store(start, Ordering::Relaxed);
        BlockRangeReader {
            scanner: BlockScanner::new(BufReader::with_capacity(1 << 20, source), start),
            end_bit: end * 8,
            end_byte: end,
            decoded: Vec::new(),
            position: 0,
            own_bytes: Arc::new(AtomicU64::new(0)),
            compressed,
            started: false,
            empty: false,
        }
    }

    /// See the field's docs; shared so the caller can watch it through a `BufRead` box.
    pub fn own_bytes(&self) -> Arc<AtomicU64> {
        self.own_bytes.clone()
    }

    fn decode_next_block(&mut self) -> io::Result<bool> {
        if self.empty {
            return Ok(false);
        }
        let Some(block) = self.scanner.next_block()? else {
            self.compressed
                .store(self.end_byte.min(self.scanner.byte_position()), Ordering::Relaxed);
            return Ok(false);
        };
        let own = block.bit_offset < self.end_bit;
        if !own && !self.started {
            // The range holds no block start: everything here is another range's.
            self.empty = true;
            self.compressed.store(self.end_byte, Ordering::Relaxed);
            return Ok(false);
        }
        self.started = true;
        self.compressed
            .store(self.end_byte.min(self.scanner.byte_position()), Ordering::Relaxed);
        self.decoded.clear();
        self.position = 0;
        bzip2::read::BzDecoder::new(&block.stream[..])
            .read_to_end(&mut self.decoded)
            .map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "the bzip2 block at compressed byte {} is corrupt: {e}",
                        block.bit_offset / 8
                    ),
                )
            })?;
        if own {
            self.own_bytes.fetch_add(self.decoded.len() as u64, Ordering::Relaxed);
        }
        Ok(true)
    }
}

impl Read for BlockRangeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for BlockRangeReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.position >= self.decoded.len() {
            if !self.decode_next_block()? {
                return Ok(&[]);
            }
        }
        Ok(&self.decoded[self.position..])
    }

    fn consume(&mut self, amount: usize) {
        self.position += amount;
    }
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

    fn decode_all_blocks(file: &[u8], start: u64) -> Vec<u8> {
        let mut scanner = BlockScanner::new(&file[start as usize..], start);
        let mut out = Vec::new();
        while let Some(block) = scanner.next_block().unwrap() {
            bzip2::read::BzDecoder::new(&block.stream[..])
                .read_to_end(&mut out)
                .unwrap();
        }
        out
    }

    #[test]
    fn every_block_decodes_alone_and_together_they_are_the_file() {
        let first = text(450_000, 7);
        let second = text(130_000, 99);
        // Two streams back to back, as pbzip2 and lbzip2 write them.
        let mut file = compress(&first, 1);
        file.extend(compress(&second, 1));
        let expected = [first, second].concat();
        assert_eq!(decode_all_blocks(&file, 0), expected);
        let mut scanner = BlockScanner::new(&file[..], 0);
        let mut blocks = 0;
        while scanner.next_block().unwrap().is_some() {
            blocks += 1;
        }
        assert!(blocks >= 6, "expected several 100k blocks, found {blocks}");
    }

    #[test]
    fn scanning_from_any_offset_finds_exactly_the_blocks_starting_after_it() {
        let data = text(600_000, 3);
        let file = compress(&data, 1);
        let mut all = Vec::new();
        let mut scanner = BlockScanner::new(&file[..], 0);
        while let Some(block) = scanner.next_block().unwrap() {
            all.push(block.bit_offset);
        }
        for start in [1u64, 4, 5, 1000, file.len() as u64 / 2, file.len() as u64 - 10] {
            let mut scanner = BlockScanner::new(&file[start as usize..], start);
            let mut found = Vec::new();
            while let Some(block) = scanner.next_block().unwrap() {
                found.push(block.bit_offset);
            }
            let expected: Vec<u64> = all.iter().copied().filter(|&b| b >= start * 8).collect();
            assert_eq!(found, expected, "start {start}");
        }
    }

    #[test]
    fn complete_files_end_with_the_end_of_stream_marker_and_cut_ones_do_not() {
        let dir = std::env::temp_dir().join(format!("wikitok-bz2-end-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (i, len) in [0usize, 1, 1000, 250_000].into_iter().enumerate() {
            let file = compress(&text(len, i as u64 + 1), 1);
            let whole = dir.join(format!("whole-{i}.bz2"));
            std::fs::write(&whole, &file).unwrap();
            assert!(ends_with_end_of_stream(&whole).unwrap(), "length {len}");
            for cut in [1, 3, 7, 500.min(file.len() - 1)] {
                let short = dir.join(format!("short-{i}-{cut}.bz2"));
                std::fs::write(&short, &file[..file.len() - cut]).unwrap();
                assert!(!ends_with_end_of_stream(&short).unwrap(), "length {len} cut {cut}");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_truncated_file_is_an_error_naming_the_block() {
        let file = compress(&text(300_000, 5), 1);
        let cut = &file[..file.len() - 5000];
        let mut scanner = BlockScanner::new(cut, 0);
        let error = loop {
            match scanner.next_block() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("a truncated file read to the end"),
                Err(e) => break e,
            }
        };
        assert!(error.to_string().contains("ends inside the bzip2 block"), "{error}");
    }
}
