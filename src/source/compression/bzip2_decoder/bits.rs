//! An MSB-first bit reader over a byte slice — bzip2 packs every field, and
//! every Huffman code, most significant bit first.
//!
//! Reading past the end of the slice yields zero bits instead of failing on
//! the spot: the hot loops stay free of error paths, and the caller checks
//! [`BitReader::overran`] once a block is done (a block whose bits ran out
//! is a truncated file, or needs more input).

/// Bits of `data` from a starting bit on. The buffer holds the next
/// `available` bits in its most significant end.
pub struct BitReader<'a> {
    data: &'a [u8],
    /// The next byte of `data` to load into the buffer.
    next_byte: usize,
    buffer: u64,
    available: u32,
}

impl<'a> BitReader<'a> {
    /// A reader positioned at bit `bit` of `data` (bit 0 is the most
    /// significant bit of `data[0]`).
    pub fn new(data: &'a [u8], bit: u64) -> Self {
        let mut reader = BitReader {
            data,
            next_byte: (bit / 8) as usize,
            buffer: 0,
            available: 0,
        };
        let skip = (bit % 8) as u32;
        if skip > 0 {
            reader.read(skip);
        }
        reader
    }

    /// The position of the next unread bit, counted from the start of `data`.
    pub fn bit_position(&self) -> u64 {
        self.next_byte as u64 * 8 - u64::from(self.available)
    }

    /// Whether bits past the end of `data` were consumed (as zeros).
    pub fn overran(&self) -> bool {
        self.bit_position() > self.data.len() as u64 * 8
    }

    /// Makes at least `count` (≤ 32) bits available.
    #[inline(always)]
    pub fn ensure(&mut self, count: u32) {
        if self.available < count {
            self.refill();
        }
    }

    #[inline(always)]
    fn refill(&mut self) {
        // available < 32 here, so 4 to 7 whole bytes fit below the valid bits.
        let take = (63 - self.available) / 8;
        if let Some(word) = self.data.get(self.next_byte..self.next_byte + 8) {
            let word = u64::from_be_bytes(word.try_into().expect("8 bytes"));
            let kept = word & !(u64::MAX >> (8 * take));
            self.buffer |= kept >> self.available;
            self.next_byte += take as usize;
            self.available += 8 * take;
        } else {
            self.refill_near_end(take);
        }
    }

    #[cold]
    fn refill_near_end(&mut self, take: u32) {
        for _ in 0..take {
            let byte = self.data.get(self.next_byte).copied().unwrap_or(0);
            self.buffer |= u64::from(byte) << (56 - self.available);
            self.next_byte += 1;
            self.available += 8;
        }
    }

    /// The next `count` (1..=32) bits, not consumed. Call [`ensure`](Self::ensure) first.
    #[inline(always)]
    pub fn peek(&self, count: u32) -> u32 {
        (self.buffer >> (64 - count)) as u32
    }

    #[inline(always)]
    pub fn consume(&mut self, count: u32) {
        self.buffer <<= count;
        self.available -= count;
    }

    /// Reads `count` (1..=32) bits.
    #[inline(always)]
    pub fn read(&mut self, count: u32) -> u32 {
        self.ensure(count);
        let value = self.peek(count);
        self.consume(count);
        value
    }

    #[inline(always)]
    pub fn read_bit(&mut self) -> bool {
        self.read(1) == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_of_any_width_from_any_bit() {
        let data: Vec<u8> = (0..64u32).map(|i| (i * 37 + 11) as u8).collect();
        let bit_of = |i: u64| (data[(i / 8) as usize] >> (7 - i % 8)) & 1;
        for start in 0..24u64 {
            let mut reader = BitReader::new(&data, start);
            let mut position = start;
            for width in [1u32, 5, 32, 3, 20, 24, 7, 32, 1, 15] {
                let expected = (0..u64::from(width)).fold(0u32, |v, k| (v << 1) | u32::from(bit_of(position + k)));
                assert_eq!(reader.read(width), expected, "start {start} width {width}");
                position += u64::from(width);
                assert_eq!(reader.bit_position(), position);
            }
            assert!(!reader.overran());
        }
    }

    #[test]
    fn reading_past_the_end_gives_zeros_and_says_so() {
        let data = [0xffu8, 0xff];
        let mut reader = BitReader::new(&data, 4);
        assert_eq!(reader.read(12), 0xfff);
        assert!(!reader.overran());
        assert_eq!(reader.read(8), 0);
        assert!(reader.overran());
    }
}
