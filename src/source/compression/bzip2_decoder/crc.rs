//! bzip2's CRC-32: the CRC-32 polynomial `0x04c11db7` fed most significant
//! bit first (not the reflected form of gzip and zlib, so `crc32fast` does
//! not apply), computed eight bytes at a time ("slicing-by-8").

const POLYNOMIAL: u32 = 0x04c1_1db7;

/// `TABLES[k][b]`: the CRC contribution of byte `b` followed by `k` zero bytes.
static TABLES: [[u32; 256]; 8] = build_tables();

const fn build_tables() -> [[u32; 256]; 8] {
    let mut tables = [[0u32; 256]; 8];
    let mut byte = 0;
    while byte < 256 {
        let mut crc = (byte as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ POLYNOMIAL
            } else {
                crc << 1
            };
            bit += 1;
        }
        tables[0][byte] = crc;
        byte += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut byte = 0;
        while byte < 256 {
            let previous = tables[k - 1][byte];
            tables[k][byte] = (previous << 8) ^ tables[0][(previous >> 24) as usize];
            byte += 1;
        }
        k += 1;
    }
    tables
}

/// The bzip2 CRC of `data` (initial value all ones, result complemented).
pub fn block_crc(data: &[u8]) -> u32 {
    !update(u32::MAX, data)
}

fn update(mut crc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let high = crc ^ u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        let low = u32::from_be_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
        crc = TABLES[7][(high >> 24) as usize]
            ^ TABLES[6][((high >> 16) & 0xff) as usize]
            ^ TABLES[5][((high >> 8) & 0xff) as usize]
            ^ TABLES[4][(high & 0xff) as usize]
            ^ TABLES[3][(low >> 24) as usize]
            ^ TABLES[2][((low >> 16) & 0xff) as usize]
            ^ TABLES[1][((low >> 8) & 0xff) as usize]
            ^ TABLES[0][(low & 0xff) as usize];
    }
    for &byte in chunks.remainder() {
        crc = (crc << 8) ^ TABLES[0][((crc >> 24) ^ u32::from(byte)) as usize];
    }
    crc
}

/// The stream CRC after one more block: bzip2 rotates the running value
/// left by one bit and xors the block's CRC in.
pub fn combine(stream_crc: u32, block_crc: u32) -> u32 {
    stream_crc.rotate_left(1) ^ block_crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit by bit, straight from the definition.
    fn reference(data: &[u8]) -> u32 {
        let mut crc = u32::MAX;
        for &byte in data {
            crc ^= u32::from(byte) << 24;
            for _ in 0..8 {
                crc = if crc & 0x8000_0000 != 0 {
                    (crc << 1) ^ POLYNOMIAL
                } else {
                    crc << 1
                };
            }
        }
        !crc
    }

    #[test]
    fn matches_the_bitwise_definition_and_the_catalogue_check_value() {
        // CRC-32/BZIP2's check value from the CRC catalogue.
        assert_eq!(block_crc(b"123456789"), 0xfc89_1918);
        let data: Vec<u8> = (0..1000u32).map(|i| ((i * 7919) >> 3) as u8).collect();
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 100, 1000] {
            assert_eq!(block_crc(&data[..len]), reference(&data[..len]), "length {len}");
        }
    }
}
