//! Pages in a stream of XML text: the bytes from each `<page>` to its
//! `</page>`, found by searching for the tags themselves.
//!
//! A literal `<page>` cannot occur inside page content (text is escaped:
//! `&lt;page&gt;`), so searching needs no parser and can start anywhere — in
//! the middle of a bzip2 block range, or of a plain byte range. The parser
//! ([`super::page`]) then reads each page's own bytes.

use std::io::{self, BufRead};

use memchr::memmem;

const PAGE_OPEN: &[u8] = b"<page>";
const PAGE_CLOSE: &[u8] = b"</page>";

/// What [`PageFramer::next_page`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A whole page is in the buffer; it starts at this decompressed offset.
    Page {
        start: u64,
    },
    /// A page longer than the limit, consumed and discarded.
    TooLong {
        start: u64,
        bytes: u64,
    },
    /// A `<page>` the text ends inside of.
    Truncated {
        start: u64,
    },
    Eof,
}

/// Finds pages in decompressed text; counts offsets and lines as it goes.
pub struct PageFramer<'r> {
    reader: &'r mut dyn BufRead,
    /// Decompressed offset of the reader's next byte.
    offset: u64,
    /// Newlines consumed so far (for line numbers in messages).
    lines: u64,
    open: memmem::Finder<'static>,
    close: memmem::Finder<'static>,
}

impl<'r> PageFramer<'r> {
    pub fn new(reader: &'r mut dyn BufRead, offset: u64) -> Self {
        PageFramer {
            reader,
            offset,
            lines: 0,
            open: memmem::Finder::new(PAGE_OPEN),
            close: memmem::Finder::new(PAGE_CLOSE),
        }
    }

    /// Decompressed offset of the next unread byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Lines consumed so far (1-based line of the next byte is this + 1).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Skips `n` bytes (a range that starts mid-text skips its first byte).
    pub fn skip(&mut self, n: u64) -> io::Result<()> {
        let mut left = n;
        while left > 0 {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                break;
            }
            let take = available.len().min(left as usize);
            self.lines += memchr::memchr_iter(b'\n', &available[..take]).count() as u64;
            self.reader.consume(take);
            self.offset += take as u64;
            left -= take as u64;
        }
        Ok(())
    }

    /// Reads up to the next `<page>`, appending what it skips to `skipped`
    /// while that stays under `keep_limit` bytes (the siteinfo preamble).
    /// Returns the page's start offset, or `None` at the end of the text.
    pub fn seek_page(&mut self, skipped: &mut Vec<u8>, keep_limit: usize) -> io::Result<Option<u64>> {
        let mut matched = 0usize; // bytes of PAGE_OPEN at the end of the previous chunk
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                return Ok(None);
            }
            if matched > 0 {
                let need = &PAGE_OPEN[matched..];
                let have = available.len().min(need.len());
                if available[..have] == need[..have] {
                    if have == need.len() {
                        self.consume_counted(have);
                        let start = self.offset - PAGE_OPEN.len() as u64;
                        return Ok(Some(start));
                    }
                    matched += have;
                    self.consume_counted(have);
                    continue;
                }
                if skipped.len() + matched <= keep_limit {
                    skipped.extend_from_slice(&PAGE_OPEN[..matched]);
                }
            }
            if let Some(at) = self.open.find(available) {
                if skipped.len() + at <= keep_limit {
                    skipped.extend_from_slice(&available[..at]);
                }
                let start = self.offset + at as u64;
                self.consume_counted(at + PAGE_OPEN.len());
                return Ok(Some(start));
            }
            matched = partial_suffix(available, PAGE_OPEN);
            let keep = available.len() - matched;
            if skipped.len() + keep <= keep_limit {
                skipped.extend_from_slice(&available[..keep]);
            }
            let len = available.len();
            self.consume_counted(len);
        }
    }

    /// After [`Self::seek_page`] found a page at `start`: reads it through
    /// `</page>` into `page` (which then holds the whole element).
    pub fn read_page(&mut self, start: u64, page: &mut Vec<u8>, limit: usize) -> io::Result<Frame> {
        page.clear();
        page.extend_from_slice(PAGE_OPEN);
        let mut too_long = false;
        let mut total = PAGE_OPEN.len() as u64;
        // The last bytes read, to find a `</page>` split across chunks.
        let mut tail: Vec<u8> = Vec::new();
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                return Ok(Frame::Truncated { start });
            }
            let carried = tail.len();
            let straddling = if carried == 0 {
                None
            } else {
                let mut window = tail.clone();
                window.extend_from_slice(&available[..available.len().min(PAGE_CLOSE.len() - 1)]);
                self.close
                    .find(&window)
                    .filter(|&at| at < carried)
                    .map(|at| at + PAGE_CLOSE.len() - carried)
            };
            let found = straddling.or_else(|| self.close.find(available).map(|at| at + PAGE_CLOSE.len()));
            let used = found.unwrap_or(available.len());
            total += used as u64;
            if !too_long {
                if page.len() + used > limit {
                    too_long = true;
                    page.clear();
                } else {
                    page.extend_from_slice(&available[..used]);
                }
            }
            tail.extend_from_slice(&available[used - used.min(PAGE_CLOSE.len() - 1)..used]);
            let excess = tail.len().saturating_sub(PAGE_CLOSE.len() - 1);
            tail.drain(..excess);
            self.consume_counted(used);
            if found.is_some() {
                return Ok(if too_long {
                    Frame::TooLong { start, bytes: total }
                } else {
                    Frame::Page { start }
                });
            }
        }
    }

    fn consume_counted(&mut self, n: usize) {
        if let Ok(available) = self.reader.fill_buf() {
            let n = n.min(available.len());
            self.lines += memchr::memchr_iter(b'\n', &available[..n]).count() as u64;
        }
        self.reader.consume(n);
        self.offset += n as u64;
    }
}

/// The length of the longest suffix of `chunk` that is a proper prefix of
/// `pattern`.
fn partial_suffix(chunk: &[u8], pattern: &[u8]) -> usize {
    (1..pattern.len().min(chunk.len() + 1))
        .rev()
        .find(|&k| chunk[chunk.len() - k..] == pattern[..k])
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` bytes at a time, so tags fall
    /// across chunk boundaries.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }
    impl io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn pages_are_found_whatever_the_chunking() {
        let text = b"<mediawiki><siteinfo>x</siteinfo>\n  <page>a</page>\n  <page>&lt;page&gt;b</page>\n<page>c";
        for step in 1..=12 {
            let mut reader = io::BufReader::with_capacity(step, Trickle { data: text, step });
            let mut framer = PageFramer::new(&mut reader, 0);
            let mut preamble = Vec::new();
            let mut pages = Vec::new();
            let mut page = Vec::new();
            let mut frames = Vec::new();
            let first = framer.seek_page(&mut preamble, 1 << 20).unwrap();
            assert_eq!(preamble, b"<mediawiki><siteinfo>x</siteinfo>\n  ", "step {step}");
            let mut next = first;
            while let Some(start) = next {
                let frame = framer.read_page(start, &mut page, 1 << 20).unwrap();
                if matches!(frame, Frame::Page { .. }) {
                    pages.push(String::from_utf8(page.clone()).unwrap());
                }
                frames.push(frame);
                next = framer.seek_page(&mut Vec::new(), 0).unwrap();
            }
            assert_eq!(pages, ["<page>a</page>", "<page>&lt;page&gt;b</page>"], "step {step}");
            assert_eq!(frames[0], Frame::Page { start: 36 });
            assert_eq!(frames[2], Frame::Truncated { start: 80 });
        }
    }

    #[test]
    fn partial_suffixes() {
        assert_eq!(partial_suffix(b"abc<pa", b"<page>"), 3);
        assert_eq!(partial_suffix(b"<page", b"<page>"), 5);
        assert_eq!(partial_suffix(b"abc", b"<page>"), 0);
    }
}
