//! Megatron-LM / NeMo / GPT-NeoX "indexed datasets": `NAME.bin` + `NAME.idx`
//! per partition (`STORED AS MEGATRON`).
//!
//! The layout is Megatron-Core's (`megatron/core/datasets/indexed_dataset.py`,
//! `_IndexWriter`), all little-endian:
//! - `.bin`: the token ids of every sequence back to back, in the dtype;
//! - `.idx`: `MMIDIDX\0\0`, version `u64` 1, dtype code `u8`, sequence count
//!   `u64`, document count + 1 `u64`, then the sequence lengths (`i32` each),
//!   the sequences' byte offsets into `.bin` (`i64` each) and the document
//!   indices (`i64`, 0 first, one more per document).
//!
//! Each row of the query is one document of one sequence: its `tokens`
//! column. The `.bin` is streamed; the `.idx` arrays (12 bytes per document)
//! are kept until the partition ends. After a COPY, `data-path.txt` in the
//! directory lists `WEIGHT PREFIX` pairs (weight = tokens) ready for
//! Megatron's `--data-path`.

use std::io::Write;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::{exec_err, plan_err, DataFusionError, Result};

use super::format::{Encoded, PartitionEncoder, SinkFiles, SinkFormat};
use crate::destination::{Destination, SinkWriter};

const MAGIC: &[u8; 9] = b"MMIDIDX\x00\x00";
const HEADER_BYTES: usize = 9 + 8 + 1 + 8 + 8;
/// The column holding each document's token ids.
pub const TOKENS_COLUMN: &str = "tokens";

/// Token id types Megatron reads, with its dtype codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenDtype {
    UInt16,
    Int32,
    Int64,
}

impl TokenDtype {
    /// Megatron's rule (`DType.optimal_dtype`): uint16 for vocabularies
    /// below 65 500 tokens, else int32.
    pub fn for_vocabulary(size: usize) -> Self {
        if size < 65_500 {
            TokenDtype::UInt16
        } else {
            TokenDtype::Int32
        }
    }

    pub fn parse(name: &str) -> anyhow::Result<Self> {
        match name {
            "uint16" => Ok(TokenDtype::UInt16),
            "int32" => Ok(TokenDtype::Int32),
            "int64" => Ok(TokenDtype::Int64),
            other => anyhow::bail!("COPY option dtype: uint16, int32 or int64, got {other:?}"),
        }
    }

    /// The code in the `.idx` header.
    pub fn code(self) -> u8 {
        match self {
            TokenDtype::UInt16 => 8,
            TokenDtype::Int32 => 4,
            TokenDtype::Int64 => 5,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        [TokenDtype::UInt16, TokenDtype::Int32, TokenDtype::Int64]
            .into_iter()
            .find(|d| d.code() == code)
    }

    pub fn bytes(self) -> usize {
        match self {
            TokenDtype::UInt16 => 2,
            TokenDtype::Int32 => 4,
            TokenDtype::Int64 => 8,
        }
    }

    fn max(self) -> u64 {
        match self {
            TokenDtype::UInt16 => u64::from(u16::MAX),
            TokenDtype::Int32 => i32::MAX as u64,
            TokenDtype::Int64 => i64::MAX as u64,
        }
    }
}

/// `STORED AS MEGATRON`.
#[derive(Debug, Clone)]
pub struct MegatronSink {
    pub dtype: TokenDtype,
}

impl SinkFormat for MegatronSink {
    fn extension(&self) -> &'static str {
        "bin"
    }

    fn companions(&self) -> &'static [&'static str] {
        &["idx"]
    }

    fn create(&self, files: SinkFiles, schema: SchemaRef) -> Result<Box<dyn PartitionEncoder>> {
        let Ok(field) = schema.field_with_name(TOKENS_COLUMN) else {
            return plan_err!("STORED AS MEGATRON needs a column named {TOKENS_COLUMN} (a list of token ids)");
        };
        let DataType::List(item) = field.data_type() else {
            return plan_err!(
                "STORED AS MEGATRON: {TOKENS_COLUMN} must be a list, got {}",
                field.data_type()
            );
        };
        if !item.data_type().is_integer() {
            return plan_err!(
                "STORED AS MEGATRON: {TOKENS_COLUMN} must hold integers, got {}",
                item.data_type()
            );
        }
        let Some(index) = files.companions.into_iter().next() else {
            return exec_err!("STORED AS MEGATRON: no .idx file to write");
        };
        Ok(Box::new(MegatronEncoder {
            dtype: self.dtype,
            bin: files.main,
            index,
            lengths: Vec::new(),
            offsets: Vec::new(),
            bytes: 0,
            buffer: Vec::new(),
        }))
    }

    fn is_complete(&self, dir: &Destination, name: &str) -> bool {
        // Unreadable counts as incomplete: the file is written again.
        read_index_header(dir, &index_name(name))
            .ok()
            .flatten()
            .is_some_and(|(dtype, _, tokens)| {
                dir.head(name)
                    .is_ok_and(|bin| bin.is_some_and(|bin| bin.size == tokens * dtype.bytes() as u64))
            })
    }

    fn finish_directory(&self, dir: &Destination) -> Result<()> {
        write_data_path(dir)
    }
}

struct MegatronEncoder {
    dtype: TokenDtype,
    bin: SinkWriter,
    index: SinkWriter,
    lengths: Vec<i32>,
    offsets: Vec<i64>,
    /// Bytes written to `.bin` so far.
    bytes: u64,
    buffer: Vec<u8>,
}

impl PartitionEncoder for MegatronEncoder {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let Some(column) = batch.column_by_name(TOKENS_COLUMN) else {
            return exec_err!("STORED AS MEGATRON: no {TOKENS_COLUMN} column in a batch");
        };
        let lists = column.as_list::<i32>();
        let values = arrow::compute::cast(lists.values(), &DataType::Int64)?;
        let values = values.as_primitive::<arrow::datatypes::Int64Type>();
        for row in 0..lists.len() {
            // A null list is an empty document; Megatron has no nulls.
            let (start, end) = if lists.is_null(row) {
                (0, 0)
            } else {
                let offsets = lists.value_offsets();
                (offsets[row] as usize, offsets[row + 1] as usize)
            };
            self.buffer.clear();
            for i in start..end {
                let id = values.value(i);
                if id < 0 || id as u64 > self.dtype.max() {
                    return exec_err!(
                        "token id {id} does not fit the Megatron dtype {:?} (set OPTIONS ('dtype' 'int32'))",
                        self.dtype
                    );
                }
                match self.dtype {
                    TokenDtype::UInt16 => self.buffer.extend_from_slice(&(id as u16).to_le_bytes()),
                    TokenDtype::Int32 => self.buffer.extend_from_slice(&(id as i32).to_le_bytes()),
                    TokenDtype::Int64 => self.buffer.extend_from_slice(&id.to_le_bytes()),
                }
            }
            let length = i32::try_from(end - start)
                .map_err(|_| DataFusionError::Execution("a document of more than 2^31 tokens".into()))?;
            self.bin.write_all(&self.buffer)?;
            self.lengths.push(length);
            self.offsets.push(self.bytes as i64);
            self.bytes += self.buffer.len() as u64;
        }
        Ok(())
    }

    /// A dataset without tokens is not written: its `.bin` would be empty,
    /// and Megatron memory-maps `.bin` files with numpy, which refuses an
    /// empty file ("cannot mmap an empty file") — one such path in
    /// `--data-path` stops a training run at its start.
    fn finish(mut self: Box<Self>) -> Result<Encoded> {
        let count = self.lengths.len() as u64;
        if self.bytes == 0 {
            if count > 0 {
                tracing::warn!("{count} documents without tokens make no Megatron dataset; none written");
            }
            return Ok(Encoded::Nothing);
        }
        let mut header = Vec::with_capacity(HEADER_BYTES);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&1u64.to_le_bytes());
        header.push(self.dtype.code());
        header.extend_from_slice(&count.to_le_bytes());
        header.extend_from_slice(&(count + 1).to_le_bytes());
        self.index.write_all(&header)?;
        for length in &self.lengths {
            self.index.write_all(&length.to_le_bytes())?;
        }
        for offset in &self.offsets {
            self.index.write_all(&offset.to_le_bytes())?;
        }
        for document in 0..=count {
            self.index.write_all(&(document as i64).to_le_bytes())?;
        }
        let MegatronEncoder { mut bin, mut index, .. } = *self;
        bin.flush()?;
        index.flush()?;
        Ok(Encoded::File { rows: count })
    }
}

/// `NAME.idx` for `NAME.bin`.
fn index_name(bin: &str) -> String {
    format!("{}.idx", bin.strip_suffix(".bin").unwrap_or(bin))
}

/// The dtype, sequence count and token count of the complete `.idx` file
/// `name` in `dir` (read in two ranges: the header, then the lengths);
/// `None` when it is not one. Storage errors are errors: a dataset must
/// never drop out of `data-path.txt` because a request failed.
fn read_index_header(dir: &Destination, name: &str) -> Result<Option<(TokenDtype, u64, u64)>> {
    let Some(info) = dir.head(name)? else { return Ok(None) };
    if info.size < HEADER_BYTES as u64 {
        return Ok(None);
    }
    let header = dir.get_range(name, 0..HEADER_BYTES as u64)?;
    if &header[..9] != MAGIC || header[9..17] != 1u64.to_le_bytes() {
        return Ok(None);
    }
    let Some(dtype) = TokenDtype::from_code(header[17]) else {
        return Ok(None);
    };
    let count = u64::from_le_bytes(header[18..26].try_into().expect("8 bytes"));
    let expected = count
        .checked_mul(20)
        .and_then(|arrays| arrays.checked_add(HEADER_BYTES as u64 + 8));
    if expected != Some(info.size) {
        return Ok(None);
    }
    let start = HEADER_BYTES as u64;
    let lengths = dir.get_range(name, start..start + count * 4)?;
    let tokens = lengths
        .chunks_exact(4)
        .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        .sum();
    Ok(Some((dtype, count, tokens)))
}

/// Writes `data-path.txt`: `TOKENS PREFIX` for every complete, non-empty
/// dataset in `dir`, in name order — Megatron's `--data-path` blends them
/// by weight. Prefixes are paths, or URLs in a bucket (copied down before
/// training: Megatron memory-maps local files).
fn write_data_path(dir: &Destination) -> Result<()> {
    let mut entries = Vec::new();
    for (name, _) in dir.list()? {
        let Some(stem) = name.strip_suffix(".idx") else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        if let Some((_, _, tokens)) = read_index_header(dir, &name)?.filter(|(_, _, tokens)| *tokens > 0) {
            entries.push((dir.location_of(stem), tokens));
        }
    }
    entries.sort();
    let listing: Vec<String> = entries
        .iter()
        .map(|(prefix, tokens)| format!("{tokens} {prefix}"))
        .collect();
    dir.put("data-path.txt", (listing.join(" ") + "\n").into_bytes())
}
