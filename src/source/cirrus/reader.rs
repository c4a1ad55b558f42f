//! CirrusSearch framing: the decompressed bytes of one split as lines, the
//! action/document pairs a range owns, and the decode loop.
//!
//! A range owns the pairs whose action line starts in it: it skips the
//! partial line it starts in, then the lines up to the next action line,
//! and finishes its last pair past its end.
//!
//! Memory is bounded by one line (capped by `max_line_bytes`) plus one batch
//! (capped in rows and bytes), whatever the file's size.

use std::io::{self, BufRead};
use std::sync::atomic::Ordering;

use arrow::array::RecordBatch;

use super::decode::{LineOutcome, PairDecoder};
use crate::source::bad_record::{BadRecord, BadRecordKind};
use crate::source::compression::{open_split, DecompressedSplit};
use crate::source::format::{report_bad_record, split_failure, DecodeOptions, ReadConfig, ReadError};
use crate::source::stats::ReadStats;
use crate::source::storage::{is_network_error, Split};

/// The result of [`read_line_limited`].
#[derive(Debug, PartialEq, Eq)]
pub enum LineRead {
    Eof,
    /// A line is in the buffer (newline stripped).
    Line,
    /// The line exceeded the limit; it was consumed and discarded.
    TooLong {
        bytes: u64,
    },
}

/// Reads one `\n`-terminated line into `buf`, never buffering more than
/// `limit` bytes of it.
pub fn read_line_limited(reader: &mut dyn BufRead, buf: &mut Vec<u8>, limit: usize) -> io::Result<LineRead> {
    buf.clear();
    let mut total: u64 = 0;
    let mut too_long = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(match (total, too_long) {
                (0, _) => LineRead::Eof,
                (bytes, true) => LineRead::TooLong { bytes },
                _ => LineRead::Line,
            });
        }
        let (chunk, found_newline) = match memchr(available) {
            Some(i) => (&available[..i], true),
            None => (available, false),
        };
        total += chunk.len() as u64;
        if !too_long {
            if buf.len() + chunk.len() > limit {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let consumed = chunk.len() + usize::from(found_newline);
        reader.consume(consumed);
        if found_newline {
            return Ok(if too_long {
                LineRead::TooLong { bytes: total }
            } else {
                LineRead::Line
            });
        }
    }
}

fn memchr(haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == b'\n')
}

/// Reads a split from start to end (or `limit` pages), passing each batch to
/// `emit`; `emit` returns false when nobody wants more.
pub fn read_split(
    split: &Split,
    options: DecodeOptions,
    limit: Option<usize>,
    config: &ReadConfig,
    stats: &ReadStats,
    mut emit: impl FnMut(RecordBatch) -> bool,
) -> Result<(), ReadError> {
    let path = split.location();
    let DecompressedSplit {
        mut reader,
        compression,
        compressed,
        compressed_start,
        text_start,
        starts_mid_text,
        end,
    } = open_split(split).map_err(|e| split_failure(path, e))?;
    let mut first_line_offset = text_start;
    if starts_mid_text {
        // The first line (whole or partial) belongs to the previous range.
        first_line_offset += skip_line(reader.as_mut()).map_err(|e| ReadError::Failed(format!("{path}: {e}")))?;
    }
    let range_start = split.range.map_or(0, |r| r.start);
    let mut at_range_start = range_start > 0;
    let mut decoder = PairDecoder::new(options);
    decoder.set_index_name(split.index_name.clone());
    let mut line = Vec::new();
    let mut line_no: u64 = 0;
    let mut uncompressed: u64 = first_line_offset;
    let mut uncompressed_reported: u64 = first_line_offset;
    let mut emitted: usize = 0;
    let mut checked_format = false;
    let sample_limit = config
        .max_pages_per_split
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let limit = limit.unwrap_or(usize::MAX).min(sample_limit.unwrap_or(usize::MAX));
    let mut compressed_reported = compressed_start;

    let result = loop {
        if emitted + decoder.buffered_rows() >= limit {
            break Ok(());
        }
        let read = match read_line_limited(reader.as_mut(), &mut line, config.max_line_bytes) {
            Ok(read) => read,
            // A network failure that outlived its retries is not corrupt data
            // (its message names the URL and the byte).
            Err(e) if is_network_error(&e) => break Err(ReadError::Failed(e.to_string())),
            Err(e) => {
                break Err(ReadError::Failed(format!(
                    "{path}: {} data is truncated or corrupt near compressed byte {} (decompressed byte {uncompressed}, line {}): {e}",
                    compression.name(),
                    compressed.load(Ordering::Relaxed),
                    line_no + 1,
                )))
            }
        };
        // Past the range's end, only the document of a pair begun inside it is read.
        if end.is_past(uncompressed)
            && (!decoder.has_pending_action() || (read == LineRead::Line && is_action_line(&line)))
        {
            break Ok(());
        }
        let outcome = match read {
            LineRead::Eof => break Ok(()),
            LineRead::Line if std::mem::take(&mut at_range_start) && !is_action_line(&line) => {
                uncompressed += line.len() as u64 + 1;
                continue;
            }
            LineRead::Line => {
                line_no += 1;
                uncompressed += line.len() as u64 + 1;
                if range_start == 0 && !checked_format && !line.iter().all(u8::is_ascii_whitespace) {
                    checked_format = true;
                    if let Some(what) = not_a_dump(&line) {
                        break Err(ReadError::Failed(format!("{path}: not a CirrusSearch dump: {what}")));
                    }
                }
                decoder.push_line(&line, line_no)
            }
            LineRead::TooLong { bytes } => {
                line_no += 1;
                uncompressed += bytes + 1;
                LineOutcome::Bad(BadRecord {
                    kind: BadRecordKind::LineTooLong,
                    line: line_no,
                    detail: format!("{bytes} bytes, limit {}", config.max_line_bytes),
                })
            }
        };
        match outcome {
            LineOutcome::Consumed => {}
            LineOutcome::Filtered => ReadStats::add(&stats.pages_filtered, 1),
            LineOutcome::Bad(bad) => {
                if let Err(e) = report_bad_record(split, &bad, stats, config) {
                    break Err(e);
                }
            }
        }
        if decoder.buffered_rows() >= config.batch_rows || decoder.buffered_bytes() >= config.batch_bytes {
            emitted += decoder.buffered_rows();
            ReadStats::add(&stats.pages_emitted, decoder.buffered_rows() as u64);
            if !emit(finish_batch(&mut decoder, stats)) {
                break Err(ReadError::Cancelled);
            }
        }
        let now = compressed.load(Ordering::Relaxed);
        ReadStats::add(&stats.compressed_bytes, now - compressed_reported);
        compressed_reported = now;
        ReadStats::add(&stats.uncompressed_bytes, uncompressed - uncompressed_reported);
        uncompressed_reported = uncompressed;
    };
    ReadStats::add(&stats.uncompressed_bytes, uncompressed - uncompressed_reported);
    // The last bytes (a stream's end marker) are consumed by the final, empty read.
    ReadStats::add(
        &stats.compressed_bytes,
        compressed.load(Ordering::Relaxed).saturating_sub(compressed_reported),
    );
    result?;
    if emitted < limit {
        if let Some(bad) = decoder.finish_input() {
            report_bad_record(split, &bad, stats, config)?;
        }
    }
    if decoder.buffered_rows() > 0 {
        ReadStats::add(&stats.pages_emitted, decoder.buffered_rows() as u64);
        if !emit(finish_batch(&mut decoder, stats)) {
            return Err(ReadError::Cancelled);
        }
    }
    Ok(())
}

fn is_action_line(line: &[u8]) -> bool {
    std::str::from_utf8(line).is_ok_and(super::decode::looks_like_action)
}

/// Consumes through the next newline; returns the bytes consumed.
fn skip_line(reader: &mut dyn BufRead) -> io::Result<u64> {
    let mut skipped = 0u64;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(skipped);
        }
        let (used, done) = match memchr(available) {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        reader.consume(used);
        skipped += used as u64;
        if done {
            return Ok(skipped);
        }
    }
}

/// Takes the decoder's batch, noting its last title for progress lines.
fn finish_batch(decoder: &mut PairDecoder, stats: &ReadStats) -> RecordBatch {
    let batch = decoder.finish_batch();
    stats.note_last_title(&batch);
    batch
}

/// Recognizes inputs that are clearly something else, from the first line.
fn not_a_dump(first_line: &[u8]) -> Option<String> {
    let start = first_line.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
    let line = &first_line[start..];
    if line.starts_with(b"{") {
        return None;
    }
    if line.starts_with(b"<") {
        let head = String::from_utf8_lossy(&line[..line.len().min(200)]);
        if head.contains("<mediawiki") || head.starts_with("<?xml") {
            return Some("it looks like XML (a MediaWiki XML dump?); wikitok reads CirrusSearch JSON dumps".into());
        }
        return Some("it looks like XML or HTML".into());
    }
    let prefix = &line[..line.len().min(64)];
    let invalid_utf8 = matches!(std::str::from_utf8(prefix), Err(e) if e.error_len().is_some());
    if invalid_utf8 || prefix.iter().any(|&b| b < 0x09) {
        return Some("it looks like binary data".into());
    }
    Some(format!(
        "the first line starts with {:?}, expected a JSON object",
        String::from_utf8_lossy(&line[..line.len().min(40)])
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_over_the_limit_are_skipped_whole() {
        let data = b"short\nthis line is too long\nok\nlast-no-newline";
        let mut reader: &[u8] = data;
        let mut buf = Vec::new();
        let mut seen = Vec::new();
        loop {
            match read_line_limited(&mut reader, &mut buf, 8).unwrap() {
                LineRead::Eof => break,
                LineRead::Line => seen.push(String::from_utf8(buf.clone()).unwrap()),
                LineRead::TooLong { bytes } => seen.push(format!("<{bytes}>")),
            }
        }
        assert_eq!(seen, ["short", "<21>", "ok", "<15>"]);
    }

    use crate::source::testing::{random_pieces, XorShift};
    use arrow::array::AsArray;

    fn page_ids_of(split: &Split) -> Vec<i64> {
        use arrow::datatypes::Int64Type;
        let options = DecodeOptions {
            projection: vec![0],
            namespaces: None,
        };
        let mut ids = Vec::new();
        let config = ReadConfig {
            batch_rows: 7,
            ..ReadConfig::default()
        };
        read_split(split, options, None, &config, &ReadStats::default(), |batch| {
            ids.extend(batch.column(0).as_primitive::<Int64Type>().values().iter().copied());
            true
        })
        .unwrap();
        ids
    }

    /// Reads `path` whole, then as byte ranges cut at `rounds` random sets
    /// of up to `max_cuts` points: every cut set must give the same pages.
    fn assert_random_ranges_read_like_the_whole(
        path: &std::path::Path,
        rng: &mut XorShift,
        rounds: usize,
        max_cuts: u64,
    ) {
        use crate::source::storage::local::LocalFile;
        let whole = Split::whole(std::sync::Arc::new(LocalFile::open(path).unwrap()), "t".into(), None);
        let sequential = page_ids_of(&whole);
        assert_eq!(sequential, (1..=300).collect::<Vec<_>>());
        for _ in 0..rounds {
            let pieces = random_pieces(&whole, rng, max_cuts);
            let ids: Vec<i64> = pieces.iter().flat_map(page_ids_of).collect();
            assert_eq!(
                ids,
                sequential,
                "pieces {:?}",
                pieces.iter().map(|p| p.range).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn reading_byte_ranges_at_random_boundaries_gives_each_page_exactly_once() {
        let mut rng = XorShift(0x5eed_1234_abcd_ef01);
        let path = std::env::temp_dir().join(format!("wikitok-ranges-{}.json", std::process::id()));
        let mut dump = String::new();
        for id in 1..=300 {
            dump.push_str(&format!("{{\"index\":{{\"_id\":\"{id}\"}}}}\n"));
            let text = "x".repeat(rng.below(3000) as usize);
            dump.push_str(&format!(
                "{{\"namespace\":0,\"title\":\"T{id}\",\"text\":\"{text}\"}}\n"
            ));
            if rng.below(10) == 0 {
                dump.push('\n');
            }
        }
        std::fs::write(&path, &dump).unwrap();
        assert_random_ranges_read_like_the_whole(&path, &mut rng, 60, 12);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn reading_bzip2_block_ranges_at_random_boundaries_gives_each_page_exactly_once() {
        use std::io::Write;
        let mut rng = XorShift(0xb21b_10c5_0000_0042);
        let path = std::env::temp_dir().join(format!("wikitok-bz2-ranges-{}.json.bz2", std::process::id()));
        // Random-ish text compresses poorly, so level-1 (100k) blocks are many;
        // two streams back to back, as pbzip2 writes them.
        let mut file = Vec::new();
        let mut id = 0;
        for _stream in 0..2 {
            let mut dump = String::new();
            for _ in 0..150 {
                id += 1;
                dump.push_str(&format!("{{\"index\":{{\"_id\":\"{id}\"}}}}\n"));
                let text: String = (0..rng.below(12_000))
                    .map(|_| (b'a' + rng.below(26) as u8) as char)
                    .collect();
                dump.push_str(&format!(
                    "{{\"namespace\":0,\"title\":\"T{id}\",\"text\":\"{text}\"}}\n"
                ));
            }
            let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(1));
            encoder.write_all(dump.as_bytes()).unwrap();
            file.extend(encoder.finish().unwrap());
        }
        std::fs::write(&path, &file).unwrap();
        assert_random_ranges_read_like_the_whole(&path, &mut rng, 25, 10);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn recognises_non_dumps() {
        assert!(
            not_a_dump(b"<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.10/\">")
                .unwrap()
                .contains("XML")
        );
        assert!(not_a_dump(b"\x00\x01\xfe\xff garbage").unwrap().contains("binary"));
        assert!(not_a_dump(b"{\"index\":{}}").is_none());
    }
}
