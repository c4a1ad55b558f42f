//! wikitok's own bzip2 decoder: whole files (every stream, as `bzip2 -dc`)
//! and byte ranges of a file (the blocks whose magic starts in the range,
//! then as many following blocks as the reader asks for).
//!
//! Why not libbz2: decoding bzip2 is the floor of every Wikipedia job (both
//! dump families ship as `.bz2`), and libbz2 — like its Rust port, which the
//! `bzip2` crate uses — spends its time in a byte-at-a-time state machine.
//! This decoder keeps the format's stages apart (`block.rs`) so each runs as
//! a tight loop: table-driven Huffman decoding (`huffman.rs`), the inverse
//! BWT walked as sixteen chains at once through one block's links (the walk
//! is a cache miss per byte, and independent chains overlap their misses;
//! `segments.rs`), run-length decoding by slices, CRC eight bytes at a time
//! (`crc.rs`). libbz2 stays the reference
//! in the tests: every input decodes to libbz2's bytes, and both CRCs (block
//! and stream) are checked. Measured in `benches/pipeline.rs` (`bzip2`).
//!
//! A range searches for its first block magic only ([`find_block_magic`]):
//! from there every block's end is known from decoding it, so blocks are
//! read in sequence straight from the file's bits — no block is copied out
//! and re-framed as a stream of its own for another decoder.

mod bits;
mod block;
mod crc;
mod huffman;
mod links;
mod segments;

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::bzip2_blocks::{find_block_magic, BLOCK_MAGIC, END_OF_STREAM_MAGIC, MAGIC_BITS};
use bits::BitReader;
use block::{BlockDecoder, BlockError};

/// Compressed bytes held ahead of a block before decoding it. A block of
/// real data is at most ~1 MB; a block that needs more (hostile input) is
/// retried with twice the lookahead, up to [`MAX_LOOKAHEAD`].
const LOOKAHEAD: usize = 2 << 20;
const MAX_LOOKAHEAD: usize = 64 << 20;
/// Bytes read from the source at a time.
const READ_CHUNK: usize = 1 << 20;

/// Where the reader stands in the file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// A range from a mid-file offset: looking for its first block magic.
    SeekFirstBlock,
    /// At a byte boundary where a stream (`BZh` + level) may start, or the file end.
    StreamHeader,
    /// Before a block magic or an end-of-stream marker.
    Marker,
    Finished,
}

/// A bzip2 file (or a byte range of one) decompressed as a `BufRead`.
pub struct Bzip2Reader {
    source: Box<dyn Read + Send>,
    /// Compressed bytes from file offset `input_offset` on.
    input: Vec<u8>,
    input_offset: u64,
    source_done: bool,
    /// The absolute bit position of the next unread bit.
    bit: u64,
    state: State,
    /// The current stream's block size limit (level × 100 000).
    max_block_size: usize,
    /// The running stream CRC, when the reader saw the stream's header.
    stream_crc: Option<u32>,
    /// Whether the reader is past a stream header: the file's end is then a
    /// proper end. (A range that starts mid-file is inside a stream from
    /// its first block on.)
    inside_stream_data: bool,
    /// The block decoder (created as first needed: its buffers take 4.5 MB).
    decoder: Option<Box<BlockDecoder>>,
    /// The text of the block being read (decoded when the one before it
    /// has been read to its end), and how far.
    text: Vec<u8>,
    position: usize,
    /// For a range: blocks whose magic starts before this bit are its own.
    end_bit: Option<u64>,
    /// Decompressed bytes of the range's own blocks decoded so far.
    own_bytes: Arc<AtomicU64>,
    /// Compressed bytes consumed (for ranges, never past the range's end).
    compressed: Arc<AtomicU64>,
}

impl Bzip2Reader {
    /// Every stream of a file; `source` yields the file from its first byte.
    pub fn whole_file(source: Box<dyn Read + Send>, compressed: Arc<AtomicU64>) -> Self {
        Self::new(source, 0, None, compressed)
    }

    /// The blocks whose magic starts in `start..end` of a file, then the
    /// blocks after them as far as the reader reads. `source` yields the
    /// file from byte `start` on (a seeked file, a ranged GET).
    pub fn byte_range(source: Box<dyn Read + Send>, start: u64, end: u64, compressed: Arc<AtomicU64>) -> Self {
        Self::new(source, start, Some(end * 8), compressed)
    }

    fn new(source: Box<dyn Read + Send>, start: u64, end_bit: Option<u64>, compressed: Arc<AtomicU64>) -> Self {
        compressed.store(start, Ordering::Relaxed);
        Bzip2Reader {
            source,
            input: Vec::new(),
            input_offset: start,
            source_done: false,
            bit: start * 8,
            state: if start == 0 {
                State::StreamHeader
            } else {
                State::SeekFirstBlock
            },
            max_block_size: 900_000,
            stream_crc: None,
            inside_stream_data: start > 0,
            decoder: None,
            text: Vec::new(),
            position: 0,
            end_bit,
            own_bytes: Arc::new(AtomicU64::new(0)),
            compressed,
        }
    }

    /// Decompressed bytes of the range's own blocks so far; final once a
    /// later block has been started. Shared so the caller can watch it.
    pub fn own_bytes(&self) -> Arc<AtomicU64> {
        self.own_bytes.clone()
    }

    /// Reads from the source until the buffer reaches file byte `end` (or
    /// the file ends), first dropping what lies before the current position.
    fn fill_to(&mut self, end: u64) -> io::Result<()> {
        let consumed = (self.bit / 8 - self.input_offset) as usize;
        if consumed >= LOOKAHEAD {
            self.input.drain(..consumed);
            self.input_offset += consumed as u64;
        }
        while !self.source_done && self.input_offset + (self.input.len() as u64) < end {
            let old = self.input.len();
            self.input.resize(old + READ_CHUNK, 0);
            let read = loop {
                match self.source.read(&mut self.input[old..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.input.truncate(old);
                        return Err(e);
                    }
                }
            };
            self.input.truncate(old + read);
            self.source_done = read == 0;
        }
        Ok(())
    }

    fn input_end(&self) -> u64 {
        self.input_offset + self.input.len() as u64
    }

    /// Publishes how far the compressed input has been consumed, for
    /// progress and error offsets: the parse position (all bytes read, once
    /// finished), never past a range's end, never backwards.
    fn report_position(&self) {
        let byte = match self.state {
            State::Finished => self.input_end(),
            _ => self.bit / 8,
        };
        let byte = self.end_bit.map_or(byte, |end| byte.min(end / 8));
        self.compressed.fetch_max(byte, Ordering::Relaxed);
    }

    /// Finds the range's first block; a range that holds no block start
    /// reads nothing (its bytes are the previous block's).
    fn seek_first_block(&mut self) -> io::Result<()> {
        let end_bit = self.end_bit.unwrap_or(u64::MAX);
        let mut from = self.bit;
        loop {
            let searched_to = self.input_end() * 8;
            if let Some(found) = find_block_magic(&self.input, self.input_offset, from) {
                self.bit = found;
                self.state = if found < end_bit {
                    State::Marker
                } else {
                    State::Finished
                };
                return Ok(());
            }
            if self.source_done || searched_to >= end_bit {
                self.state = State::Finished;
                return Ok(());
            }
            // A magic may straddle the buffer's end: search its last bits again.
            from = from.max(searched_to.saturating_sub(63));
            let more = self.input_end() + READ_CHUNK as u64;
            self.fill_to(more)?;
        }
    }

    fn read_stream_header(&mut self) -> io::Result<()> {
        self.bit = self.bit.div_ceil(8) * 8;
        let at = self.bit / 8;
        self.fill_to(at + 4)?;
        let head = &self.input[(at - self.input_offset) as usize..];
        if head.is_empty() && self.inside_stream_data {
            self.state = State::Finished;
            return Ok(());
        }
        match head {
            [b'B', b'Z', b'h', level @ b'1'..=b'9', ..] => {
                self.max_block_size = usize::from(level - b'0') * 100_000;
                self.stream_crc = Some(0);
                self.inside_stream_data = true;
                self.bit += 32;
                self.state = State::Marker;
                Ok(())
            }
            _ if !self.inside_stream_data => Err(corrupt_at(at, "no bzip2 stream header (BZh1 to BZh9)")),
            _ => Err(corrupt_at(
                at,
                "data after the end of a bzip2 stream that is not another bzip2 stream",
            )),
        }
    }

    /// Decodes the next block's text into `self.text`; false at the end.
    fn decode_next_block(&mut self) -> io::Result<bool> {
        loop {
            match self.state {
                State::Finished => {
                    self.report_position();
                    return Ok(false);
                }
                State::SeekFirstBlock => self.seek_first_block()?,
                State::StreamHeader => self.read_stream_header()?,
                State::Marker => {
                    if self.read_next_block()? {
                        self.report_position();
                        return Ok(true);
                    }
                    self.read_end_of_stream()?;
                }
            }
        }
    }

    /// The 48-bit marker at the reader's bit, with the lookahead a block
    /// needs buffered behind it.
    fn marker(&mut self, lookahead: usize) -> io::Result<u64> {
        self.fill_to(self.bit / 8 + lookahead as u64)?;
        let mut bits = BitReader::new(&self.input, self.bit - self.input_offset * 8);
        let magic = (u64::from(bits.read(24)) << 24) | u64::from(bits.read(24));
        if bits.overran() {
            return Err(truncated_at(self.bit / 8));
        }
        Ok(magic)
    }

    /// Reads the next block and walks it into `self.text`, to be read from
    /// its start; false when the next marker is not a block.
    fn read_next_block(&mut self) -> io::Result<bool> {
        let Some(block_start) = self.read_block()? else {
            return Ok(false);
        };
        let decoder = self.decoder.get_or_insert_with(Box::default);
        decoder.walk();
        self.text.clear();
        self.position = 0;
        let crc = decoder
            .finish(&mut self.text)
            .map_err(|error| block_error(block_start, error, true))?;
        self.stream_crc = self.stream_crc.map(|stream| crc::combine(stream, crc));
        if self.end_bit.is_none_or(|end| block_start < end) {
            self.own_bytes.fetch_add(self.text.len() as u64, Ordering::Relaxed);
        }
        Ok(true)
    }

    /// Reads the block at the reader's bit into the decoder, returning
    /// where it started; `None` when no block starts there.
    fn read_block(&mut self) -> io::Result<Option<u64>> {
        if self.state != State::Marker {
            return Ok(None);
        }
        let block_start = self.bit;
        let mut lookahead = LOOKAHEAD;
        loop {
            if self.marker(lookahead)? != BLOCK_MAGIC {
                return Ok(None);
            }
            let decoder = self.decoder.get_or_insert_with(Box::default);
            let mut bits = BitReader::new(&self.input, block_start + MAGIC_BITS - self.input_offset * 8);
            match decoder.read(&mut bits, self.max_block_size) {
                Ok(()) => {
                    self.bit = self.input_offset * 8 + bits.bit_position();
                    return Ok(Some(block_start));
                }
                Err(BlockError::Truncated) if !self.source_done && lookahead < MAX_LOOKAHEAD => lookahead *= 2,
                Err(error) => return Err(block_error(block_start, error, self.source_done)),
            }
        }
    }

    /// Reads the end-of-stream marker at the reader's bit and checks the
    /// stream's CRC; anything else there is corrupt data.
    fn read_end_of_stream(&mut self) -> io::Result<()> {
        let at = self.bit / 8;
        if self.marker(16)? != END_OF_STREAM_MAGIC {
            return Err(corrupt_at(
                at,
                "neither a bzip2 block nor an end-of-stream marker where one must start",
            ));
        }
        let mut bits = BitReader::new(&self.input, self.bit + MAGIC_BITS - self.input_offset * 8);
        let stored = bits.read(32);
        if bits.overran() {
            return Err(truncated_at(at));
        }
        if let Some(computed) = self.stream_crc {
            if computed != stored {
                return Err(corrupt_at(
                    at,
                    &format!("bzip2 stream CRC mismatch (stored {stored:08x}, computed {computed:08x})"),
                ));
            }
        }
        self.bit = self.input_offset * 8 + bits.bit_position();
        self.state = State::StreamHeader;
        Ok(())
    }
}

/// The message for a block that failed: truncated (the file ended inside
/// it), too long, or corrupt.
fn block_error(block_start: u64, error: BlockError, source_done: bool) -> io::Error {
    let at = block_start / 8;
    match error {
        BlockError::Truncated if source_done => truncated_at(at),
        BlockError::Truncated => corrupt_at(at, "a bzip2 block longer than any valid block"),
        BlockError::Corrupt(what) => corrupt_at(at, &format!("the bzip2 block is corrupt: {what}")),
    }
}

fn corrupt_at(byte: u64, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{what} (at compressed byte {byte})"),
    )
}

fn truncated_at(byte: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("the file ends inside the bzip2 block that starts at compressed byte {byte} (truncated?)"),
    )
}

impl Read for Bzip2Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Bzip2Reader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.position >= self.text.len() {
            if !self.decode_next_block()? {
                return Ok(&[]);
            }
        }
        Ok(&self.text[self.position..])
    }

    fn consume(&mut self, amount: usize) {
        self.position += amount;
    }
}

#[cfg(test)]
mod tests;
