//! Text sinks: CSV/TSV (`STORED AS CSV`) and JSON Lines (`STORED AS JSON`),
//! written by arrow-rs's own writers — the tables Spark extractors write and
//! the `.jsonl` files scripts of the Ray pipeline read.
//!
//! CSV has no lists: a list column (`category`, `tokens`) is written as JSON
//! text in its cell (`[1,2,3]`, `["A","B"]`), which `json.loads`, DuckDB's
//! `json` type or pandas `.apply(json.loads)` read back.

use std::io::Write;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::{DataFusionError, Result};

use super::format::{Encoded, PartitionEncoder, SinkFiles, SinkFormat};
use crate::destination::{Destination, SinkWriter};

/// `STORED AS CSV`, with DataFusion's option names.
#[derive(Debug, Clone)]
pub struct CsvSink {
    pub delimiter: u8,
    pub has_header: bool,
}

impl CsvSink {
    /// From COPY options: `format.delimiter` (one character; `\t` for TSV)
    /// and `format.has_header` (default true).
    pub fn from_options(options: &[(String, String)]) -> anyhow::Result<Self> {
        let mut sink = CsvSink {
            delimiter: b',',
            has_header: true,
        };
        for (key, value) in options {
            match key.as_str() {
                "format.delimiter" | "delimiter" => {
                    let value = if value == "\\t" { "\t" } else { value.as_str() };
                    match value.as_bytes() {
                        [byte] => sink.delimiter = *byte,
                        _ => anyhow::bail!("COPY option {key}: one ASCII character, got {value:?}"),
                    }
                }
                "format.has_header" | "has_header" => {
                    sink.has_header = value
                        .parse()
                        .map_err(|_| anyhow::anyhow!("COPY option {key}: true or false, got {value:?}"))?
                }
                other => anyhow::bail!("COPY ... STORED AS CSV: unknown option {other:?}"),
            }
        }
        Ok(sink)
    }
}

impl SinkFormat for CsvSink {
    fn extension(&self) -> &'static str {
        if self.delimiter == b'\t' {
            "tsv"
        } else {
            "csv"
        }
    }

    fn create(&self, files: SinkFiles, _schema: SchemaRef) -> Result<Box<dyn PartitionEncoder>> {
        let writer = arrow_csv::WriterBuilder::new()
            .with_delimiter(self.delimiter)
            .with_header(self.has_header)
            .build(files.main);
        Ok(Box::new(CsvEncoder { writer, rows: 0 }))
    }

    fn is_complete(&self, _dir: &Destination, _name: &str) -> bool {
        // Present means complete: files appear only whole.
        true
    }
}

struct CsvEncoder {
    writer: arrow_csv::Writer<SinkWriter>,
    rows: u64,
}

impl PartitionEncoder for CsvEncoder {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.rows += batch.num_rows() as u64;
        self.writer.write(&lists_as_json_text(batch)?)?;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Encoded> {
        self.writer.into_inner().flush().map_err(DataFusionError::IoError)?;
        Ok(Encoded::File { rows: self.rows })
    }
}

/// `batch` with every list column replaced by its rows as JSON text.
fn lists_as_json_text(batch: &RecordBatch) -> Result<RecordBatch> {
    if !batch
        .columns()
        .iter()
        .any(|c| matches!(c.data_type(), DataType::List(_)))
    {
        return Ok(batch.clone());
    }
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if !matches!(column.data_type(), DataType::List(_)) {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
            continue;
        }
        let list = column.as_list::<i32>();
        let mut text = StringBuilder::new();
        for row in 0..list.len() {
            if list.is_null(row) {
                text.append_null();
                continue;
            }
            let values = list.value(row);
            let json: Vec<serde_json::Value> = match values.data_type() {
                DataType::Utf8 => values.as_string::<i32>().iter().map(|v| v.into()).collect(),
                _ => {
                    let strings = arrow::compute::cast(&values, &DataType::Utf8)?;
                    strings
                        .as_string::<i32>()
                        .iter()
                        .map(|v| match v {
                            Some(v) => serde_json::from_str(v).unwrap_or_else(|_| v.into()),
                            None => serde_json::Value::Null,
                        })
                        .collect()
                }
            };
            text.append_value(serde_json::Value::Array(json).to_string());
        }
        fields.push(Field::new(field.name(), DataType::Utf8, true));
        columns.push(Arc::new(text.finish()));
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

/// `STORED AS JSON`: JSON Lines, one object per row.
#[derive(Debug, Clone, Default)]
pub struct JsonLinesSink;

impl SinkFormat for JsonLinesSink {
    fn extension(&self) -> &'static str {
        "jsonl"
    }

    fn create(&self, files: SinkFiles, _schema: SchemaRef) -> Result<Box<dyn PartitionEncoder>> {
        Ok(Box::new(JsonEncoder {
            writer: arrow_json::LineDelimitedWriter::new(files.main),
            rows: 0,
        }))
    }

    fn is_complete(&self, _dir: &Destination, _name: &str) -> bool {
        // Present means complete: files appear only whole.
        true
    }
}

struct JsonEncoder {
    writer: arrow_json::LineDelimitedWriter<SinkWriter>,
    rows: u64,
}

impl PartitionEncoder for JsonEncoder {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.rows += batch.num_rows() as u64;
        self.writer.write(batch)?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Encoded> {
        self.writer.finish()?;
        self.writer.into_inner().flush().map_err(DataFusionError::IoError)?;
        Ok(Encoded::File { rows: self.rows })
    }
}
