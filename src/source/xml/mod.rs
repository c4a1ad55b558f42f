//! MediaWiki XML dumps (`pages-articles[-multistream].xml.bz2`, per-range
//! `pages-articles1.xml-p1p41242.bz2`, `pages-meta-current`, plain `.xml`,
//! `.xml.gz`): `<siteinfo>` then `<page>` elements.
//!
//! - [`framing`]: the pages in decompressed text, found from any offset;
//! - [`page`]: one `<page>` → its fields (quick-xml, streaming);
//! - [`siteinfo`]: the wiki's name, language and namespace names;
//! - [`utf16`]: UTF-16 dumps (with a BOM) read as UTF-8;
//! - [`decode`]: fields → a row of the `pages` schema (wikitext rendered by
//!   [`crate::wikitext`]).
//!
//! A split owns the pages whose `<page>` starts in its text — the same rule
//! as CirrusSearch lines, so bzip2 block ranges (multistream files included:
//! their streams are whole pages) and plain byte ranges divide a file with
//! every page read exactly once. Every range knows the siteinfo: it is read
//! from the file's head once per file.

pub mod decode;
pub mod framing;
pub mod page;
pub mod siteinfo;
pub mod utf16;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Mutex;

use arrow::array::RecordBatch;

use super::bad_record::{BadRecord, BadRecordKind};
use super::compression::{open_dump_stream, open_split, DecompressedSplit};
use super::format::{report_bad_record, split_failure, DecodeOptions, DumpFormat, ReadConfig, ReadError};
use super::stats::ReadStats;
use super::storage::{is_network_error, Split};
use decode::{PageDecoder, PageOutcome};
use framing::{Frame, PageFramer};
use siteinfo::SiteInfo;

/// The text before the first `<page>` kept for `<siteinfo>`: a real one is
/// a few KB; a file with none is not kept whole.
const MAX_PREAMBLE_BYTES: usize = 4 << 20;

/// The MediaWiki XML export format (versions 0.10 and 0.11).
#[derive(Debug, Default)]
pub struct MediaWikiXml {
    /// Per file: its siteinfo, and whether it is UTF-16.
    heads: Mutex<HashMap<String, (SiteInfo, bool)>>,
}

impl DumpFormat for MediaWikiXml {
    fn name(&self) -> &'static str {
        "MediaWikiXml"
    }

    fn read_split(
        &self,
        split: &Split,
        options: &DecodeOptions,
        limit: Option<usize>,
        config: &ReadConfig,
        stats: &ReadStats,
        emit: &mut dyn FnMut(RecordBatch) -> bool,
    ) -> Result<(), ReadError> {
        let path = split.location();
        let failed = |e: std::io::Error| split_failure(path, e);
        let DecompressedSplit {
            mut reader,
            compression,
            compressed,
            compressed_start,
            text_start,
            starts_mid_text,
            end,
        } = open_split(split).map_err(failed)?;
        // A range after the first learns the siteinfo from the file's head; a
        // UTF-16 file is read whole by its first range.
        let head = if starts_mid_text {
            let head = self.head_of(split).map_err(failed)?;
            if head.1 {
                return Ok(());
            }
            Some(head.0)
        } else {
            None
        };
        let utf16 = match head {
            Some(_) => false,
            None => match utf16::decode_if_utf16(&mut reader).map_err(failed)? {
                Some(decoded) => {
                    reader = decoded;
                    true
                }
                None => false,
            },
        };
        let mut framer = PageFramer::new(reader.as_mut(), text_start);
        let corrupt = |e: std::io::Error, framer: &PageFramer| {
            if is_network_error(&e) {
                return split_failure(path, e);
            }
            ReadError::Failed(format!(
                "{path}: {} data is truncated or corrupt near compressed byte {} (decompressed byte {}, line {}): {e}",
                compression.name(),
                compressed.load(Ordering::Relaxed),
                framer.offset(),
                framer.lines() + 1,
            ))
        };
        if starts_mid_text {
            // The page starting at the range's first byte belongs to the
            // previous range (see `RangeEnd`).
            framer.skip(1).map_err(|e| corrupt(e, &framer))?;
        }
        let mut preamble = Vec::new();
        let keep = if starts_mid_text { 0 } else { MAX_PREAMBLE_BYTES };
        let first = framer.seek_page(&mut preamble, keep).map_err(|e| corrupt(e, &framer))?;
        let site = match head {
            Some(site) => site,
            None => {
                let text = String::from_utf8_lossy(&preamble);
                check_is_xml_dump(&text).map_err(|what| ReadError::Failed(format!("{path}: {what}")))?;
                if let Some(first_page) = first {
                    check_has_siteinfo(&text, first_page)
                        .map_err(|what| ReadError::Failed(format!("{path}: {what}")))?;
                }
                SiteInfo::parse(&text)
            }
        };
        let dump_date = crate::wikitext::templates::date_in_file_name(path);
        let mut decoder = PageDecoder::new(options, site, &config.templates, dump_date);
        let sample_limit = config
            .max_pages_per_split
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        let limit = limit.unwrap_or(usize::MAX).min(sample_limit.unwrap_or(usize::MAX));
        let mut emitted = 0usize;
        let mut page_bytes = Vec::new();
        let mut next = first;
        let mut compressed_reported = compressed_start;
        let mut uncompressed_reported = text_start;
        let result = loop {
            if emitted + decoder.buffered_rows() >= limit {
                break Ok(());
            }
            let Some(start) = next else { break Ok(()) };
            if !utf16 && end.is_past(start) {
                break Ok(());
            }
            let line = framer.lines() + 1;
            let frame = match framer.read_page(start, &mut page_bytes, config.max_line_bytes) {
                Ok(frame) => frame,
                Err(e) => break Err(corrupt(e, &framer)),
            };
            let bad = match frame {
                Frame::Page { .. } => match push_page(&mut decoder, &page_bytes, stats) {
                    Ok(()) => None,
                    Err((kind, detail)) => Some(BadRecord { kind, line, detail }),
                },
                Frame::TooLong { bytes, .. } => Some(BadRecord {
                    kind: BadRecordKind::LineTooLong,
                    line,
                    detail: format!("a page of {bytes} bytes, limit {}", config.max_line_bytes),
                }),
                Frame::Truncated { start } => Some(BadRecord {
                    kind: BadRecordKind::MalformedXml,
                    line,
                    detail: format!("the text ends inside the <page> at decompressed byte {start}"),
                }),
                Frame::Eof => None,
            };
            if let Some(bad) = bad {
                if let Err(e) = report_bad_record(split, &bad, stats, config) {
                    break Err(e);
                }
            }
            if decoder.buffered_rows() >= config.batch_rows || decoder.buffered_bytes() >= config.batch_bytes {
                emitted += decoder.buffered_rows();
                if !emit_batch(&mut decoder, stats, emit) {
                    break Err(ReadError::Cancelled);
                }
            }
            let now = compressed.load(Ordering::Relaxed);
            ReadStats::add(&stats.compressed_bytes, now.saturating_sub(compressed_reported));
            compressed_reported = compressed_reported.max(now);
            ReadStats::add(&stats.uncompressed_bytes, framer.offset() - uncompressed_reported);
            uncompressed_reported = framer.offset();
            next = match framer.seek_page(&mut Vec::new(), 0) {
                Ok(next) => next,
                Err(e) => break Err(corrupt(e, &framer)),
            };
        };
        // The last bytes (a stream's end marker) are consumed by the final, empty read.
        ReadStats::add(
            &stats.compressed_bytes,
            compressed.load(Ordering::Relaxed).saturating_sub(compressed_reported),
        );
        ReadStats::add(&stats.uncompressed_bytes, framer.offset() - uncompressed_reported);
        result?;
        if decoder.buffered_rows() > 0 && !emit_batch(&mut decoder, stats, emit) {
            return Err(ReadError::Cancelled);
        }
        Ok(())
    }
}

impl MediaWikiXml {
    /// The siteinfo of `split`'s file (and whether it is UTF-16), read from
    /// the file's head once per file.
    fn head_of(&self, split: &Split) -> std::io::Result<(SiteInfo, bool)> {
        if let Some(head) = self.heads.lock().expect("heads lock").get(split.location()) {
            return Ok(head.clone());
        }
        let (mut reader, _, _) = open_dump_stream(split.open_at(0)?)?;
        let mut utf16 = false;
        if let Some(decoded) = utf16::decode_if_utf16(&mut reader)? {
            reader = decoded;
            utf16 = true;
        }
        let mut framer = PageFramer::new(reader.as_mut(), 0);
        let mut preamble = Vec::new();
        framer.seek_page(&mut preamble, MAX_PREAMBLE_BYTES)?;
        let head = (SiteInfo::parse(&String::from_utf8_lossy(&preamble)), utf16);
        self.heads
            .lock()
            .expect("heads lock")
            .insert(split.location().to_string(), head.clone());
        Ok(head)
    }
}

/// Parses and appends one page; a bad page is (kind, detail).
fn push_page(decoder: &mut PageDecoder, bytes: &[u8], stats: &ReadStats) -> Result<(), (BadRecordKind, String)> {
    let xml = std::str::from_utf8(bytes).map_err(|e| {
        (
            BadRecordKind::InvalidUtf8,
            format!("invalid byte {} bytes into the page", e.valid_up_to()),
        )
    })?;
    let page = page::parse_page(xml).map_err(|e| (BadRecordKind::MalformedXml, e))?;
    let missing: Vec<&str> = [
        ("<id>", page.id.is_none()),
        ("<ns>", page.namespace.is_none()),
        ("<revision> with an <id>", page.revision_id.is_none()),
    ]
    .into_iter()
    .filter_map(|(element, absent)| absent.then_some(element))
    .collect();
    if !missing.is_empty() {
        let title = page.title.as_deref().unwrap_or_default();
        return Err((
            BadRecordKind::IncompletePage,
            format!("page {title:?} has no {}", missing.join(", no ")),
        ));
    }
    match decoder.push(&page) {
        PageOutcome::Row => {}
        PageOutcome::RowNotRendered => {
            let detail = format!(
                "page {} ({:?}): wikitext over {} bytes, text left null",
                page.id.unwrap_or_default(),
                page.title.unwrap_or_default(),
                decode::MAX_RENDERED_BYTES
            );
            tracing::warn!("{detail}");
            stats.count_bad(&BadRecord {
                kind: BadRecordKind::NotRendered,
                line: 0,
                detail,
            });
        }
        PageOutcome::Filtered => ReadStats::add(&stats.pages_filtered, 1),
    }
    Ok(())
}

/// Hands the decoder's batch to `emit`, noting its last title for progress.
fn emit_batch(decoder: &mut PageDecoder, stats: &ReadStats, emit: &mut dyn FnMut(RecordBatch) -> bool) -> bool {
    ReadStats::add(&stats.pages_emitted, decoder.buffered_rows() as u64);
    let batch = decoder.finish_batch();
    stats.note_last_title(&batch);
    emit(batch)
}

/// Refuses text that is clearly not a MediaWiki export, from what precedes
/// the first page.
fn check_is_xml_dump(preamble: &str) -> Result<(), String> {
    let head = preamble.trim_start_matches('\u{feff}').trim_start();
    if head.is_empty() || head.starts_with("<mediawiki") || head.starts_with("<?xml") || head.starts_with("<siteinfo") {
        return Ok(());
    }
    if head.starts_with('{') {
        return Err("not a MediaWiki XML dump: it looks like JSON (a CirrusSearch dump named .xml?)".into());
    }
    let shown: String = head.chars().take(40).collect();
    Err(format!(
        "not a MediaWiki XML dump: it starts with {shown:?}, expected <mediawiki"
    ))
}

/// A file whose pages come without `<siteinfo>` (a hand-cut or truncated
/// export) cannot be read like its wiki — no name, language or namespace
/// names — so it is refused rather than read with guesses.
fn check_has_siteinfo(preamble: &str, first_page: u64) -> Result<(), String> {
    if preamble.contains("<siteinfo") {
        return Ok(());
    }
    Err(format!(
        "corrupt MediaWiki XML dump: no <siteinfo> before the first <page> (decompressed byte {first_page}); \
         the wiki's name, language and namespaces are unknown"
    ))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;

    use arrow::array::AsArray;
    use arrow::datatypes::Int64Type;

    use super::*;
    use crate::source::storage::local::LocalFile;

    use crate::source::testing::{random_pieces, XorShift};

    const HEADER: &str = "<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.11/\" version=\"0.11\" xml:lang=\"en\">\n  <siteinfo>\n    <dbname>testwiki</dbname>\n    <namespaces>\n      <namespace key=\"14\" case=\"first-letter\">Category</namespace>\n    </namespaces>\n  </siteinfo>\n";

    fn page(rng: &mut XorShift, id: u64) -> String {
        let words: String = (0..rng.below(3000))
            .map(|_| (b'a' + rng.below(26) as u8) as char)
            .collect();
        format!(
            "  <page>\n    <title>Category:T{id}</title>\n    <ns>14</ns>\n    <id>{id}</id>\n    <revision>\n      <id>{}</id>\n      <model>wikitext</model>\n      <text bytes=\"1\" xml:space=\"preserve\">{words} &lt;page&gt; [[L{id}]]</text>\n    </revision>\n  </page>\n",
            id + 1000
        )
    }

    fn ids_and_wikis(split: &Split) -> Vec<(i64, String)> {
        let options = DecodeOptions {
            projection: vec![0, 1, 3],
            namespaces: None,
        };
        let config = ReadConfig {
            batch_rows: 7,
            ..ReadConfig::default()
        };
        let mut rows = Vec::new();
        MediaWikiXml::default()
            .read_split(split, &options, None, &config, &ReadStats::default(), &mut |batch| {
                let ids = batch.column(0).as_primitive::<Int64Type>();
                let wikis = batch.column(1).as_string::<i32>();
                let titles = batch.column(2).as_string::<i32>();
                for i in 0..batch.num_rows() {
                    assert_eq!(titles.value(i), format!("T{}", ids.value(i)));
                    rows.push((ids.value(i), wikis.value(i).to_string()));
                }
                true
            })
            .unwrap();
        rows
    }

    /// Reads `file` whole and as ranges cut at random points: every cut set
    /// gives every page exactly once, each knowing the siteinfo.
    fn assert_random_ranges_read_like_the_whole(
        file: &[u8],
        name: &str,
        pages: i64,
        rng: &mut XorShift,
        rounds: usize,
    ) {
        let path = std::env::temp_dir().join(format!("wikitok-xml-{}-{name}", std::process::id()));
        std::fs::write(&path, file).unwrap();
        let whole = Split::whole(Arc::new(LocalFile::open(&path).unwrap()), "t".into(), None);
        let expected: Vec<(i64, String)> = (1..=pages).map(|id| (id, "testwiki".to_string())).collect();
        assert_eq!(ids_and_wikis(&whole), expected);
        for _ in 0..rounds {
            let pieces = random_pieces(&whole, rng, 10);
            let rows: Vec<(i64, String)> = pieces.iter().flat_map(ids_and_wikis).collect();
            let ranges: Vec<_> = pieces.iter().map(|p| p.range).collect();
            assert_eq!(rows, expected, "{name}: {ranges:?}");
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn plain_xml_ranges_at_random_boundaries_give_each_page_exactly_once() {
        let mut rng = XorShift(0x0dd5_eed5_1234_5678);
        let mut dump = HEADER.to_string();
        for id in 1..=200 {
            dump.push_str(&page(&mut rng, id));
        }
        dump.push_str("</mediawiki>\n");
        assert_random_ranges_read_like_the_whole(dump.as_bytes(), "plain.xml", 200, &mut rng, 60);
    }

    #[test]
    fn bzip2_block_ranges_single_and_multistream_give_each_page_exactly_once() {
        let compress = |text: &str| {
            let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(1));
            encoder.write_all(text.as_bytes()).unwrap();
            encoder.finish().unwrap()
        };
        let mut rng = XorShift(0xb21b_0000_5eed_0077);
        let pages: Vec<String> = (1..=150).map(|id| page(&mut rng, id)).collect();
        // Single stream: pages cross block boundaries.
        let single = compress(&format!("{HEADER}{}</mediawiki>\n", pages.concat()));
        assert_random_ranges_read_like_the_whole(&single, "single.xml.bz2", 150, &mut rng, 25);
        // Multistream, as Wikimedia writes it: siteinfo alone, then streams of pages.
        let mut multi = compress(HEADER);
        for chunk in pages.chunks(20) {
            multi.extend(compress(&chunk.concat()));
        }
        multi.extend(compress("</mediawiki>\n"));
        assert_random_ranges_read_like_the_whole(&multi, "multi.xml.bz2", 150, &mut rng, 25);
    }
}
