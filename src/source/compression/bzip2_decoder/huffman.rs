//! bzip2's canonical Huffman codes: up to 258 symbols, code lengths 1..=20.
//!
//! Codes of up to [`LOOKUP_BITS`] bits — nearly every symbol of real text —
//! decode with one table lookup on the next bits; longer ones fall back to
//! the canonical comparison, one length at a time. Code lengths whose codes
//! would not fit (an over-subscribed code) are refused, so no code is ever
//! ambiguous and every lookup stays in bounds.

use super::bits::BitReader;

pub const MAX_CODE_BITS: u32 = 20;
pub const MAX_SYMBOLS: usize = 258;
const LOOKUP_BITS: u32 = 10;
const LENGTH_BITS: u32 = 5;

pub struct HuffmanTable {
    /// Indexed by the next `LOOKUP_BITS` bits: `symbol << 5 | length`, or 0
    /// when the code there is longer.
    lookup: Vec<u16>,
    /// Per length: the first canonical code and one past the last.
    first_code: [u32; MAX_CODE_BITS as usize + 1],
    end_code: [u32; MAX_CODE_BITS as usize + 1],
    /// Per length: where its symbols start in `sorted`.
    first_index: [u16; MAX_CODE_BITS as usize + 1],
    /// Symbols ordered by (code length, symbol): the canonical code order.
    sorted: Vec<u16>,
}

impl Default for HuffmanTable {
    fn default() -> Self {
        HuffmanTable {
            lookup: vec![0; 1 << LOOKUP_BITS],
            first_code: [0; MAX_CODE_BITS as usize + 1],
            end_code: [0; MAX_CODE_BITS as usize + 1],
            first_index: [0; MAX_CODE_BITS as usize + 1],
            sorted: Vec::with_capacity(MAX_SYMBOLS),
        }
    }
}

impl HuffmanTable {
    /// Rebuilds the table for these code lengths (each 1..=20, one per symbol).
    pub fn build(&mut self, lengths: &[u8]) -> Result<(), &'static str> {
        let mut count = [0u32; MAX_CODE_BITS as usize + 1];
        for &length in lengths {
            count[usize::from(length)] += 1;
        }
        // Kraft: the codes must fit in the code space.
        let used: u64 = (1..=MAX_CODE_BITS as usize)
            .map(|len| u64::from(count[len]) << (MAX_CODE_BITS as usize - len))
            .sum();
        if used > 1 << MAX_CODE_BITS {
            return Err("over-subscribed Huffman code lengths");
        }
        self.sorted.clear();
        let mut code = 0u32;
        for (len, &codes) in count.iter().enumerate().skip(1) {
            self.first_code[len] = code;
            self.end_code[len] = code + codes;
            self.first_index[len] = self.sorted.len() as u16;
            self.sorted
                .extend((0..lengths.len() as u16).filter(|&symbol| usize::from(lengths[usize::from(symbol)]) == len));
            code = (code + codes) << 1;
        }
        self.lookup.fill(0);
        for len in 1..=LOOKUP_BITS as usize {
            let spread = 1u32 << (LOOKUP_BITS as usize - len);
            for (k, code) in (self.first_code[len]..self.end_code[len]).enumerate() {
                let symbol = self.sorted[usize::from(self.first_index[len]) + k];
                let entry = (symbol << LENGTH_BITS) | len as u16;
                let start = (code * spread) as usize;
                self.lookup[start..start + spread as usize].fill(entry);
            }
        }
        Ok(())
    }

    /// Decodes one symbol; `None` for bits that are no code (an incomplete code).
    #[inline(always)]
    pub fn decode(&self, bits: &mut BitReader) -> Option<u16> {
        bits.ensure(MAX_CODE_BITS);
        let entry = self.lookup[bits.peek(LOOKUP_BITS) as usize];
        if entry != 0 {
            bits.consume(u32::from(entry) & ((1 << LENGTH_BITS) - 1));
            return Some(entry >> LENGTH_BITS);
        }
        self.decode_long(bits)
    }

    #[cold]
    fn decode_long(&self, bits: &mut BitReader) -> Option<u16> {
        for len in LOOKUP_BITS + 1..=MAX_CODE_BITS {
            let code = bits.peek(len);
            let l = len as usize;
            if code < self.end_code[l] {
                bits.consume(len);
                let index = usize::from(self.first_index[l]) + (code - self.first_code[l]) as usize;
                return self.sorted.get(index).copied();
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes codes MSB-first, the canonical way: by (length, symbol).
    fn encode(lengths: &[u8], symbols: &[u16]) -> Vec<u8> {
        let mut codes = vec![0u32; lengths.len()];
        let mut code = 0u32;
        for len in 1..=20u8 {
            for (symbol, &l) in lengths.iter().enumerate() {
                if l == len {
                    codes[symbol] = code;
                    code += 1;
                }
            }
            code <<= 1;
        }
        let mut bytes = Vec::new();
        let mut bit = 0usize;
        for &s in symbols {
            let (code, len) = (codes[usize::from(s)], lengths[usize::from(s)]);
            for k in (0..len).rev() {
                if bit.is_multiple_of(8) {
                    bytes.push(0);
                }
                if (code >> k) & 1 == 1 {
                    *bytes.last_mut().unwrap() |= 0x80 >> (bit % 8);
                }
                bit += 1;
            }
        }
        bytes
    }

    #[test]
    fn decodes_short_and_long_codes() {
        // A complete code with lengths 1..=20 (a Fibonacci-like skew) plus two of 20.
        let mut lengths: Vec<u8> = (1..=20).collect();
        lengths.push(20);
        let symbols: Vec<u16> = (0..lengths.len() as u16).chain([0, 20, 19, 3, 11]).collect();
        let data = encode(&lengths, &symbols);
        let mut table = HuffmanTable::default();
        table.build(&lengths).unwrap();
        let mut bits = BitReader::new(&data, 0);
        for &s in &symbols {
            assert_eq!(table.decode(&mut bits), Some(s));
        }
    }

    #[test]
    fn over_subscribed_lengths_are_refused_and_gaps_decode_to_none() {
        let mut table = HuffmanTable::default();
        assert!(table.build(&[1, 1, 1]).is_err());
        // Only "0" and "10" are codes: "11..." is none.
        table.build(&[1, 2, 0][..2]).unwrap();
        let data = [0xff, 0xff, 0xff, 0xff];
        assert_eq!(table.decode(&mut BitReader::new(&data, 0)), None);
    }
}
