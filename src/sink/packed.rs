//! Fixed-length training sequences (`STORED AS PACKED OPTIONS ('seq_len' 'N')`):
//! the documents of each partition — rows of a `tokens` list column, EOS
//! already appended by the query — concatenated in order and cut into rows
//! of exactly N ids, written as Parquet (`partition INT`, `row BIGINT`,
//! `input_ids LIST<UINT32>`), the shape HF/trl/litgpt-style loops read.
//!
//! A cross-row operation done per partition as the batches stream through
//! the writer: at most one unfinished sequence is carried from batch to
//! batch, never a partition. The last incomplete sequence of each partition
//! is dropped (padding it would invent tokens); how many tokens that loses
//! is logged and reported in the run summary (`packed_tokens_dropped`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow::array::{Array, AsArray, Int32Array, Int64Array, ListArray, RecordBatch, UInt32Array};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt32Type};
use datafusion::common::{exec_err, plan_err, Result};

use super::format::{Encoded, PartitionEncoder, SinkFiles, SinkFormat};
use super::megatron::TOKENS_COLUMN;
use super::parquet::ParquetSink;
use crate::destination::Destination;

/// Tokens of incomplete last sequences dropped by this process.
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Tokens dropped so far (the last, incomplete sequence of each partition).
pub fn dropped_tokens() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// `STORED AS PACKED`.
pub struct PackedSink {
    pub seq_len: usize,
    pub parquet: ParquetSink,
}

impl PackedSink {
    pub fn parse_seq_len(value: &str) -> anyhow::Result<usize> {
        match value.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => anyhow::bail!("COPY option seq_len: a positive number of tokens, got {value:?}"),
        }
    }

    fn output_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("partition", DataType::Int32, false),
            Field::new("row", DataType::Int64, false),
            Field::new(
                "input_ids",
                DataType::List(Arc::new(Field::new_list_field(DataType::UInt32, true))),
                false,
            ),
        ]))
    }
}

impl SinkFormat for PackedSink {
    fn extension(&self) -> &'static str {
        "parquet"
    }

    fn file_schema(&self, _query: SchemaRef) -> SchemaRef {
        Self::output_schema()
    }

    fn create(&self, files: SinkFiles, schema: SchemaRef) -> Result<Box<dyn PartitionEncoder>> {
        let Ok(field) = schema.field_with_name(TOKENS_COLUMN) else {
            return plan_err!("STORED AS PACKED needs a column named {TOKENS_COLUMN} (a list of token ids)");
        };
        if !matches!(field.data_type(), DataType::List(item) if item.data_type().is_integer()) {
            return plan_err!(
                "STORED AS PACKED: {TOKENS_COLUMN} must be a list of integers, got {}",
                field.data_type()
            );
        }
        let partition = files.partition as i32;
        Ok(Box::new(PackedEncoder {
            inner: self.parquet.create(files, Self::output_schema())?,
            seq_len: self.seq_len,
            partition,
            carry: Vec::with_capacity(self.seq_len),
            rows: 0,
        }))
    }

    fn is_complete(&self, dir: &Destination, name: &str) -> bool {
        self.parquet.is_complete(dir, name)
    }

    fn records_sample(&self) -> bool {
        true
    }
}

struct PackedEncoder {
    inner: Box<dyn PartitionEncoder>,
    seq_len: usize,
    partition: i32,
    /// The sequence being filled (fewer than `seq_len` ids).
    carry: Vec<u32>,
    rows: i64,
}

impl PartitionEncoder for PackedEncoder {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let Some(column) = batch.column_by_name(TOKENS_COLUMN) else {
            return exec_err!("STORED AS PACKED: no {TOKENS_COLUMN} column in a batch");
        };
        let lists = column.as_list::<i32>();
        let values = arrow::compute::cast(lists.values(), &DataType::UInt32)?;
        let values = values.as_primitive::<UInt32Type>().values();
        // Only the ids the lists reference, in row order (null rows add none).
        let mut ids: Vec<u32> = std::mem::take(&mut self.carry);
        for row in 0..lists.len() {
            if lists.is_valid(row) {
                let offsets = lists.value_offsets();
                ids.extend_from_slice(&values[offsets[row] as usize..offsets[row + 1] as usize]);
            }
        }
        let complete = ids.len() / self.seq_len;
        self.carry = ids.split_off(complete * self.seq_len);
        if complete == 0 {
            return Ok(());
        }
        let offsets = OffsetBuffer::from_lengths(std::iter::repeat_n(self.seq_len, complete));
        let input_ids = ListArray::try_new(
            Arc::new(Field::new_list_field(DataType::UInt32, true)),
            offsets,
            Arc::new(UInt32Array::from(ids)),
            None,
        )?;
        let out = RecordBatch::try_new(
            PackedSink::output_schema(),
            vec![
                Arc::new(Int32Array::from(vec![self.partition; complete])),
                Arc::new(Int64Array::from_iter_values(self.rows..self.rows + complete as i64)),
                Arc::new(input_ids),
            ],
        )?;
        self.rows += complete as i64;
        self.inner.write(&out)
    }

    /// The file holds the packed sequences: its row count is theirs, not the
    /// documents'.
    fn finish(self: Box<Self>) -> Result<Encoded> {
        if !self.carry.is_empty() {
            tracing::info!(
                "partition {}: dropped the last {} tokens (an incomplete sequence of {})",
                self.partition,
                self.carry.len(),
                self.seq_len
            );
            DROPPED.fetch_add(self.carry.len() as u64, Ordering::Relaxed);
        }
        let rows = self.rows as u64;
        match self.inner.finish()? {
            Encoded::File { .. } => Ok(Encoded::File { rows }),
            Encoded::Nothing => Ok(Encoded::Nothing),
        }
    }
}
