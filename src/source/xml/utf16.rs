//! UTF-16 dumps: some exports (gensim's bgwiki test dump among them) are
//! UTF-16 with a byte-order mark. They are transcoded to UTF-8 as they
//! stream, so everything above reads UTF-8. (Such a file cannot be divided
//! into byte ranges — a range's first byte may be half a code unit — so its
//! first range reads it whole.)

use std::io::{self, BufRead, Read};

/// If `reader` starts with a UTF-16 byte-order mark, a reader of the same
/// text as UTF-8 (the mark dropped); otherwise `None` and `reader` untouched.
pub fn decode_if_utf16(reader: &mut Box<dyn BufRead + Send>) -> io::Result<Option<Box<dyn BufRead + Send>>> {
    let head = reader.fill_buf()?;
    let little_endian = match head {
        [0xff, 0xfe, ..] => true,
        [0xfe, 0xff, ..] => false,
        _ => return Ok(None),
    };
    reader.consume(2);
    let inner = std::mem::replace(reader, Box::new(io::empty()));
    Ok(Some(Box::new(io::BufReader::with_capacity(
        1 << 20,
        Utf16ToUtf8 {
            inner,
            little_endian,
            pending: Vec::new(),
            odd_byte: None,
            high_surrogate: None,
        },
    ))))
}

/// Transcodes a UTF-16 byte stream to UTF-8; unpaired surrogates become
/// U+FFFD, as `iconv -c` would not but every browser does.
struct Utf16ToUtf8 {
    inner: Box<dyn BufRead + Send>,
    little_endian: bool,
    /// UTF-8 produced but not yet read.
    pending: Vec<u8>,
    odd_byte: Option<u8>,
    high_surrogate: Option<u16>,
}

impl Read for Utf16ToUtf8 {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pending.is_empty() {
            let input = self.inner.fill_buf()?;
            if input.is_empty() {
                if self.odd_byte.take().is_some() || self.high_surrogate.take().is_some() {
                    self.pending.extend_from_slice("\u{fffd}".as_bytes());
                    break;
                }
                return Ok(0);
            }
            let mut bytes = input.iter().copied();
            let consumed = input.len();
            let mut units = Vec::with_capacity(consumed / 2 + 1);
            loop {
                let first = match self.odd_byte.take() {
                    Some(b) => b,
                    None => match bytes.next() {
                        Some(b) => b,
                        None => break,
                    },
                };
                let Some(second) = bytes.next() else {
                    self.odd_byte = Some(first);
                    break;
                };
                units.push(if self.little_endian {
                    u16::from_le_bytes([first, second])
                } else {
                    u16::from_be_bytes([first, second])
                });
            }
            self.inner.consume(consumed);
            let mut all = Vec::with_capacity(units.len() + 1);
            all.extend(self.high_surrogate.take());
            all.extend(units);
            // A high surrogate at the end waits for its pair in the next chunk.
            if all.last().is_some_and(|u| (0xd800..0xdc00).contains(u)) {
                self.high_surrogate = all.pop();
            }
            let mut utf8 = [0u8; 4];
            for c in char::decode_utf16(all) {
                let c = c.unwrap_or('\u{fffd}');
                self.pending.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_both_orders_to_utf8() {
        let text = "<page>Гр😀 é</page>";
        for little_endian in [true, false] {
            let mut bytes = if little_endian {
                vec![0xff, 0xfe]
            } else {
                vec![0xfe, 0xff]
            };
            for unit in text.encode_utf16() {
                bytes.extend(if little_endian {
                    unit.to_le_bytes()
                } else {
                    unit.to_be_bytes()
                });
            }
            // Chunks of 3 bytes split code units and surrogate pairs.
            let mut reader: Box<dyn BufRead + Send> = Box::new(io::BufReader::with_capacity(3, io::Cursor::new(bytes)));
            let mut decoded = decode_if_utf16(&mut reader).unwrap().unwrap();
            let mut out = String::new();
            decoded.read_to_string(&mut out).unwrap();
            assert_eq!(out, text);
        }
        let mut plain: Box<dyn BufRead + Send> = Box::new(io::Cursor::new(b"<mediawiki>".to_vec()));
        assert!(decode_if_utf16(&mut plain).unwrap().is_none());
    }
}
