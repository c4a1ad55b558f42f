//! The decoder against libbz2 (the `bzip2` crate), the reference: the same
//! bytes for every level, block size and stream layout, and an error — never
//! a panic or a silently shorter text — for damaged input.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::Bzip2Reader;
use crate::source::compression::bzip2_blocks::find_block_magic;

fn compress(data: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(level));
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn libbz2(file: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    bzip2::read::MultiBzDecoder::new(file).read_to_end(&mut out)?;
    Ok(out)
}

fn ours(file: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    Bzip2Reader::whole_file(
        Box::new(std::io::Cursor::new(file.to_vec())),
        Arc::new(AtomicU64::new(0)),
    )
    .read_to_end(&mut out)?;
    Ok(out)
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Text with the shapes that exercise every stage: words from a small
/// vocabulary, long runs of one byte (the initial run-length coding), all
/// 256 byte values, and periodic stretches.
fn mixed_text(rng: &mut Rng, len: usize) -> Vec<u8> {
    let words: [&[u8]; 8] = [
        b"the ",
        b"Wikipedia ",
        b"\xd0\x91\xd1\x8a\xd0\xbb ",
        b"of ",
        b"{{cite}} ",
        b"\n",
        b"1987 ",
        b"\t",
    ];
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        match rng.below(10) {
            0 => out.extend(std::iter::repeat_n(rng.below(256) as u8, rng.below(600) as usize)),
            1 => out.extend((0..rng.below(300)).map(|_| rng.below(256) as u8)),
            2 => {
                let period = 1 + rng.below(5) as usize;
                let unit: Vec<u8> = (0..period).map(|_| rng.below(256) as u8).collect();
                for _ in 0..rng.below(200) {
                    out.extend_from_slice(&unit);
                }
            }
            _ => out.extend_from_slice(words[rng.below(8) as usize]),
        }
    }
    out.truncate(len);
    out
}

#[test]
fn every_level_and_size_decodes_to_libbz2s_bytes() {
    let mut rng = Rng(0x5eed);
    for level in 1..=9 {
        for len in [0usize, 1, 2, 3, 4, 5, 9, 255, 256, 1000, 4099, 120_000, 350_000] {
            let data = mixed_text(&mut rng, len);
            let file = compress(&data, level);
            assert_eq!(ours(&file).unwrap(), data, "level {level}, {len} bytes");
        }
    }
}

#[test]
fn degenerate_blocks_decode_exactly() {
    let cases: Vec<Vec<u8>> = vec![
        vec![b'a'; 2_000_000], // runs longer than a block, 4+255 at a time
        b"ab".repeat(300_000), // a periodic block: several BWT cycles
        (0..=255u8).collect(), // every byte value once
        (0..=255u8).cycle().take(1_000_000).collect(),
        vec![0u8; 4], // ends on four equal bytes
    ];
    for data in cases {
        for level in [1, 9] {
            assert_eq!(ours(&compress(&data, level)).unwrap(), data, "{} bytes", data.len());
        }
    }
}

#[test]
fn every_stream_of_a_multi_stream_file_is_read_and_the_counter_ends_at_the_file_size() {
    let mut rng = Rng(42);
    let parts: Vec<Vec<u8>> = (0..4).map(|i| mixed_text(&mut rng, 50_000 * i + 7)).collect();
    let mut file = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        file.extend(compress(part, 1 + i as u32 * 2));
    }
    let counter = Arc::new(AtomicU64::new(0));
    let mut out = Vec::new();
    Bzip2Reader::whole_file(Box::new(std::io::Cursor::new(file.clone())), counter.clone())
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, parts.concat());
    assert_eq!(out, libbz2(&file).unwrap());
    assert_eq!(counter.load(Ordering::Relaxed), file.len() as u64);
}

/// Reads `start..end` of `file` the way a split does: the range's own
/// blocks, then the rest of the file (a reader stops when it has what it needs).
fn read_range(file: &[u8], start: u64, end: u64) -> (Vec<u8>, u64, u64) {
    let counter = Arc::new(AtomicU64::new(0));
    let source = std::io::Cursor::new(file[start as usize..].to_vec());
    let mut reader = Bzip2Reader::byte_range(Box::new(source), start, end, counter.clone());
    let own = reader.own_bytes();
    let mut out = Vec::new();
    reader.read_to_end(&mut out).unwrap();
    (out, own.load(Ordering::Relaxed), counter.load(Ordering::Relaxed))
}

#[test]
fn byte_ranges_own_the_blocks_that_start_in_them_and_together_make_the_file() {
    let mut rng = Rng(7);
    let first = mixed_text(&mut rng, 700_000);
    let second = mixed_text(&mut rng, 260_000);
    let mut file = compress(&first, 1);
    file.extend(compress(&second, 2));
    let expected = [first, second].concat();
    let size = file.len() as u64;
    for pieces in [1u64, 2, 3, 7, 40] {
        let mut joined = Vec::new();
        for i in 0..pieces {
            let (start, end) = (size * i / pieces, size * (i + 1) / pieces);
            let (all, own, compressed) = read_range(&file, start, end);
            assert_eq!(compressed, end, "a range's progress ends at its end");
            // A range that holds no block start reads nothing; any other reads
            // its own blocks, then the rest of the file.
            let rest = if own == 0 { &[][..] } else { &expected[joined.len()..] };
            assert!(all == rest, "{pieces} pieces, range {i}: not the rest of the file");
            joined.extend_from_slice(&all[..own as usize]);
        }
        assert!(joined == expected, "{pieces} pieces do not join to the file");
    }
}

#[test]
fn damaged_input_is_an_error_never_a_panic_or_a_shorter_text() {
    let mut rng = Rng(99);
    let data = mixed_text(&mut rng, 300_000);
    let file = compress(&data, 1);
    // Cut anywhere: an error (the end-of-stream check fails or a block is cut).
    for cut in [1, 4, 5, 20, 100, file.len() / 3, file.len() - 11, file.len() - 1] {
        let error = ours(&file[..cut]).expect_err("a cut file decoded");
        let message = error.to_string();
        assert!(message.contains("compressed byte"), "cut {cut}: {message}");
    }
    // Bit flips: libbz2 and we agree on whether the file is valid, and never differ on the bytes.
    let mut disagreements = 0;
    for trial in 0..300 {
        let mut damaged = file.clone();
        for _ in 0..1 + trial % 3 {
            let bit = rng.below(damaged.len() as u64 * 8);
            damaged[(bit / 8) as usize] ^= 0x80 >> (bit % 8);
        }
        match (ours(&damaged), libbz2(&damaged)) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Ok(a), Err(_)) => assert_eq!(a, data, "we accepted damage libbz2 refused, with other bytes"),
            (Err(_), Ok(_)) => disagreements += 1,
            (Err(_), Err(_)) => {}
        }
    }
    assert!(
        disagreements <= 3,
        "{disagreements} damaged files libbz2 read and we refused"
    );
}

#[test]
fn random_bytes_after_a_bzip2_header_never_panic() {
    let mut rng = Rng(3);
    for trial in 0..2000 {
        let len = rng.below(400) as usize;
        let mut file = b"BZh9".to_vec();
        // Half the cases start with a block magic so the block parser runs.
        if trial % 2 == 0 {
            file.extend_from_slice(&[0x31, 0x41, 0x59, 0x26, 0x53, 0x59]);
        }
        file.extend((0..len).map(|_| rng.below(256) as u8));
        let _ = ours(&file);
        let start = rng.below(file.len() as u64 + 1);
        let _ = find_block_magic(&file, 0, start * 8);
    }
}

#[test]
fn a_network_error_from_the_source_is_passed_on_unchanged() {
    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "peer reset"))
        }
    }
    let mut reader = Bzip2Reader::whole_file(Box::new(Failing), Arc::new(AtomicU64::new(0)));
    let error = reader.read_to_end(&mut Vec::new()).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
}

#[test]
fn a_corrupt_block_is_reported_after_every_byte_of_the_blocks_before_it() {
    let mut rng = Rng(11);
    let data = mixed_text(&mut rng, 1_500_000);
    let file = compress(&data, 1);
    let mut magics = Vec::new();
    let mut from = 0;
    while let Some(bit) = find_block_magic(&file, 0, from) {
        magics.push(bit);
        from = bit + 1;
    }
    assert!(magics.len() >= 4, "{} blocks", magics.len());
    // Damage the second block in its middle: the block before it decodes,
    // and the failure must wait for its bytes to be read.
    let bad = 1;
    let mut damaged = file.clone();
    let middle = ((magics[bad] + magics[bad + 1]) / 2 / 8) as usize;
    damaged[middle] ^= 0x10;
    // The text before it: what a range ending at the damaged block owns.
    let (_, before_bad, _) = read_range(&file, 0, magics[bad] / 8);
    let mut reader = Bzip2Reader::whole_file(Box::new(std::io::Cursor::new(damaged)), Arc::new(AtomicU64::new(0)));
    let mut text = Vec::new();
    let error = loop {
        match std::io::BufRead::fill_buf(&mut reader) {
            Ok([]) => panic!("a damaged file read to the end"),
            Ok(chunk) => {
                let n = chunk.len();
                text.extend_from_slice(chunk);
                std::io::BufRead::consume(&mut reader, n);
            }
            Err(error) => break error,
        }
    };
    assert!(before_bad > 0);
    assert_eq!(text.len() as u64, before_bad);
    assert!(
        text == data[..text.len()],
        "the blocks before the damage decode to other bytes"
    );
    let message = error.to_string();
    assert!(
        message.contains(&format!("compressed byte {}", magics[bad] / 8)),
        "{message}"
    );
}

#[test]
fn blocks_walked_in_segments_give_libbz2s_bytes_for_files_and_ranges() {
    let mut rng = Rng(29);
    let data = mixed_text(&mut rng, 2_300_000);
    // Level 1: blocks of 100 000 bytes, large enough to be walked in segments.
    let file = compress(&data, 1);
    let expected = libbz2(&file).unwrap();
    assert_eq!(expected, data);
    assert!(
        ours(&file).unwrap() == expected,
        "the whole file decoded to other bytes"
    );
    // Ranges too: the own blocks of three thirds put together are the whole.
    let size = file.len() as u64;
    let mut joined = Vec::new();
    for i in 0..3 {
        let (start, end) = (size * i / 3, size * (i + 1) / 3);
        let source = std::io::Cursor::new(file[start as usize..].to_vec());
        let mut reader = Bzip2Reader::byte_range(Box::new(source), start, end, Arc::new(AtomicU64::new(0)));
        let own = reader.own_bytes();
        let mut all = Vec::new();
        reader.read_to_end(&mut all).unwrap();
        joined.extend_from_slice(&all[..own.load(Ordering::Relaxed) as usize]);
    }
    assert!(joined == expected, "the ranges' own blocks differ");
}
