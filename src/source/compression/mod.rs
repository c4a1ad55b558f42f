//! Compression: (storage, byte range) → a stream of decompressed bytes, plus
//! what an error message needs to say where in the file it happened.
//!
//! Decompression is complete by construction: gzip uses `MultiGzDecoder` and
//! bzip2 wikitok's own [`bzip2_decoder`] (every stream), so files recompressed
//! with pigz, pbzip2 or lbzip2 (many members / streams) yield every byte,
//! exactly as `gzip -dc` and `bzip2 -dc` would. The codec is sniffed from the
//! file's first bytes, not its name.
//!
//! A split that is a byte range of a file is opened here too: a plain file at
//! the byte before the range (so the format can tell whether the range starts
//! on a record boundary), a bzip2 file at the first block starting in the
//! range ([`bzip2_blocks`]). Which records a range owns is the format's rule,
//! applied with [`RangeEnd`].

pub mod bzip2_blocks;
pub mod bzip2_decoder;

use std::collections::BTreeSet;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use flate2::read::MultiGzDecoder;

use super::storage::{ByteRange, Split};
use bzip2_blocks::{tail_has_end_of_stream, TAIL_BYTES};
use bzip2_decoder::Bzip2Reader;

/// How a dump file is compressed, from its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Bzip2,
}

impl Compression {
    /// For messages: "bzip2 data is truncated or corrupt ...".
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "plain",
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
        }
    }
}

/// A split's decompressed bytes, positioned where its reading starts.
pub struct DecompressedSplit {
    pub reader: Box<dyn BufRead + Send>,
    pub compression: Compression,
    /// Compressed bytes consumed (an absolute file offset for ranges), for
    /// error offsets and progress.
    pub compressed: Arc<AtomicU64>,
    /// Where that counter started: 0, or where a range's reading began.
    pub compressed_start: u64,
    /// The decompressed offset of the reader's first byte, in the
    /// coordinates [`RangeEnd::is_past`] uses.
    pub text_start: u64,
    /// Whether the reader starts at an arbitrary point of the text (a range
    /// after the file's first): the format must skip to its next record
    /// boundary, as that first partial record belongs to the previous range.
    pub starts_mid_text: bool,
    pub end: RangeEnd,
}

/// Where a split's records end: it owns the records that start before its
/// end (and finishes the last one past it).
pub enum RangeEnd {
    /// A whole file.
    EndOfFile,
    /// A byte range of a plain file: records starting before this offset.
    Before(u64),
    /// A block range of a bzip2 file: records starting at or before the
    /// length of its own blocks' text (counted as they decode; see
    /// [`Bzip2Reader::own_bytes`]). The next range skips its first partial
    /// record, so a record starting exactly at the boundary is read once,
    /// here.
    AtOrBefore(Arc<AtomicU64>),
}

impl RangeEnd {
    /// Whether a record starting at `offset` belongs to a later split.
    /// Called after `offset` bytes have been consumed, so for block ranges
    /// an offset beyond the own bytes decoded so far means the own blocks
    /// are done.
    pub fn is_past(&self, offset: u64) -> bool {
        match self {
            RangeEnd::EndOfFile => false,
            RangeEnd::Before(end) => offset >= *end,
            RangeEnd::AtOrBefore(own_bytes) => offset > own_bytes.load(Ordering::Relaxed),
        }
    }
}

/// Opens a split for reading: the whole file decompressed, or its range.
pub fn open_split(split: &Split) -> io::Result<DecompressedSplit> {
    let Some(range) = split.range else {
        let (reader, compression, compressed) = open_dump_stream(split.open_at(0)?)?;
        return Ok(DecompressedSplit {
            reader,
            compression,
            compressed,
            compressed_start: 0,
            text_start: 0,
            starts_mid_text: false,
            end: RangeEnd::EndOfFile,
        });
    };
    let magic = split.read_head(3)?;
    if magic == b"BZh" {
        let compressed = Arc::new(AtomicU64::new(range.start));
        let blocks = Bzip2Reader::byte_range(split.open_at(range.start)?, range.start, range.end, compressed.clone());
        let own_bytes = blocks.own_bytes();
        return Ok(DecompressedSplit {
            reader: Box::new(blocks),
            compression: Compression::Bzip2,
            compressed,
            compressed_start: range.start,
            text_start: 0,
            starts_mid_text: range.start > 0,
            end: RangeEnd::AtOrBefore(own_bytes),
        });
    }
    if magic.starts_with(&[0x1f, 0x8b]) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a gzip file cannot be read from an offset",
        ));
    }
    open_plain_range(split, range)
}

/// Opens an uncompressed file at the byte before `range.start`, so that the
/// format's skip to the next record boundary consumes just that byte when
/// the range starts on a boundary.
fn open_plain_range(split: &Split, range: ByteRange) -> io::Result<DecompressedSplit> {
    let position = range.start.saturating_sub(1);
    let consumed = Arc::new(AtomicU64::new(position));
    let reader = BufReader::with_capacity(
        1 << 20,
        CountingReader {
            inner: split.open_at(position)?,
            count: consumed.clone(),
        },
    );
    Ok(DecompressedSplit {
        reader: Box::new(reader),
        compression: Compression::None,
        compressed: consumed,
        compressed_start: position,
        text_start: position,
        starts_mid_text: range.start > 0,
        end: RangeEnd::Before(range.end),
    })
}

/// Opens a dump byte stream (a local file, a remote object's GET) for
/// reading, decompressing as needed. The returned counter tracks compressed
/// bytes consumed (for error offsets and progress).
pub fn open_dump_stream(
    file: Box<dyn Read + Send>,
) -> io::Result<(Box<dyn BufRead + Send>, Compression, Arc<AtomicU64>)> {
    let consumed = Arc::new(AtomicU64::new(0));
    let mut raw = BufReader::with_capacity(
        1 << 20,
        CountingReader {
            inner: file,
            count: consumed.clone(),
        },
    );
    let head = raw.fill_buf()?;
    let compression = match head {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [b'B', b'Z', b'h', ..] => Compression::Bzip2,
        [] => return Err(io::Error::new(io::ErrorKind::InvalidData, "empty file, not a dump")),
        [b'P', b'A', b'R', b'1', ..] => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "looks like a Parquet file, not a dump",
            ))
        }
        _ => Compression::None,
    };
    let reader: Box<dyn BufRead + Send> = match compression {
        Compression::Gzip => Box::new(BufReader::with_capacity(1 << 20, MultiGzDecoder::new(raw))),
        Compression::Bzip2 => {
            // The decoder buffers and counts the compressed bytes itself.
            let counted = Arc::new(AtomicU64::new(0));
            let reader = Bzip2Reader::whole_file(Box::new(raw), counted.clone());
            return Ok((Box::new(reader), compression, counted));
        }
        Compression::None => Box::new(raw),
    };
    Ok((reader, compression, consumed))
}

struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// By default, files smaller than twice this are never divided. Small enough
/// that a 2 MB bzip2 file (bzip2 decodes at ~4 MB/s of compressed input per
/// core; an XML dump of 24 MB of wikitext is ~7 MB) is shared by the cores;
/// large enough — above bzip2's largest block, 900 KB — that the per-range
/// overhead (one partly read block or line at each end, and for XML the
/// file's first block for `<siteinfo>`) stays small.
pub const DEFAULT_MIN_SPLIT_BYTES: u64 = 1 << 20;

/// Every file at least this large is divided into pieces of at most about
/// this size, however many partitions or shards a run has: enough pieces
/// for every core of a scaled-out run (enwiki's 22 GB multistream file
/// gives ~90), and the same pieces whoever runs them.
pub const SCALE_OUT_PIECE_BYTES: u64 = 256 << 20;

/// Divides plain and bzip2 files into byte ranges: when there are fewer
/// files than `target_partitions`, so one big shard still keeps every core
/// busy, and any file larger than [`SCALE_OUT_PIECE_BYTES`]. gzip files stay
/// whole: a gzip stream can only be decoded from its start.
///
/// The division depends on the files, `target_partitions` and
/// `min_split_bytes` only — never on how many shards run it — so a
/// sharded run reads exactly the splits of an unsharded one, and outputs
/// that depend on the division (file names, packed sequences) match.
pub fn split_large_files(splits: Vec<Split>, target_partitions: usize, min_split_bytes: u64) -> Vec<Split> {
    let per_file = if splits.len() >= target_partitions {
        1
    } else {
        target_partitions.div_ceil(splits.len().max(1)) as u64
    };
    let mut out = Vec::new();
    for split in splits {
        let by_size = split.size.div_ceil(SCALE_OUT_PIECE_BYTES);
        let pieces = per_file.min(split.size / min_split_bytes.max(1)).max(by_size).max(1);
        if pieces == 1 || split.range.is_some() || !is_splittable(&split) {
            out.push(split);
            continue;
        }
        for i in 0..pieces {
            out.push(Split {
                label: format!("{}.r{i:03}-of-{pieces:03}", split.label),
                range: Some(ByteRange {
                    start: split.size * i / pieces,
                    end: split.size * (i + 1) / pieces,
                }),
                size: split.size / pieces,
                ..split.clone()
            });
        }
    }
    out
}

/// Refuses bzip2 files that do not end with an end-of-stream marker — a
/// download cut short — before anything is read, so no output of theirs is
/// committed. (Each file is checked once, however many ranges it has; a
/// remote server that cannot serve byte ranges skips the check.)
pub fn check_bzip2_files_are_whole(splits: &[Split]) -> Result<()> {
    let mut checked = BTreeSet::new();
    for split in splits {
        if !checked.insert(split.location()) || !split.read_head(3).is_ok_and(|head| head == b"BZh") {
            continue;
        }
        let tail = match split.read_tail(TAIL_BYTES) {
            Ok(tail) => tail,
            Err(e) if split.file.ranges_are_optional() => {
                tracing::debug!("{}: end-of-stream check skipped: {e}", split.location());
                continue;
            }
            Err(e) => return Err(e).with_context(|| format!("input {}", split.location())),
        };
        if !tail_has_end_of_stream(&tail) {
            bail!(
                "{}: bzip2 data is truncated or corrupt: the file ends at byte {} without a bzip2 end-of-stream \
                 marker (an interrupted download?); nothing of it was read",
                split.location(),
                split.file.size()
            );
        }
    }
    Ok(())
}

/// Plain text and bzip2 can be read from an offset; gzip cannot. (A remote
/// server that cannot serve byte ranges makes a file unsplittable too.)
fn is_splittable(split: &Split) -> bool {
    split
        .read_head(3)
        .is_ok_and(|head| head.len() == 3 && head[..2] != [0x1f, 0x8b])
}
