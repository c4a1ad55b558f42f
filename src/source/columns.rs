//! Arrow builders for the columns of the `pages` schema, shared by the
//! formats' decoders (one builder per projected column, finished per batch).

use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Builder, Int64Builder, ListBuilder, StringBuilder, TimestampMicrosecondBuilder};
use arrow::datatypes::{DataType, Field};

use super::schema::ColumnKind;

/// A builder for one column, by its Arrow type.
pub enum ColumnBuilder {
    Int64(Int64Builder),
    Int32(Int32Builder),
    Utf8(StringBuilder),
    Timestamp(TimestampMicrosecondBuilder),
    Utf8List(ListBuilder<StringBuilder>),
}

impl ColumnBuilder {
    pub fn new(kind: ColumnKind) -> Self {
        match kind {
            ColumnKind::PageId | ColumnKind::Int64 => ColumnBuilder::Int64(Int64Builder::new()),
            ColumnKind::Int32 => ColumnBuilder::Int32(Int32Builder::new()),
            ColumnKind::Utf8 | ColumnKind::IndexName => ColumnBuilder::Utf8(StringBuilder::new()),
            ColumnKind::Timestamp => ColumnBuilder::Timestamp(TimestampMicrosecondBuilder::new()),
            ColumnKind::Utf8List => ColumnBuilder::Utf8List(
                ListBuilder::new(StringBuilder::new())
                    .with_field(Arc::new(Field::new_list_field(DataType::Utf8, true))),
            ),
        }
    }

    pub fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Int64(b) => Arc::new(b.finish()),
            ColumnBuilder::Int32(b) => Arc::new(b.finish()),
            ColumnBuilder::Utf8(b) => Arc::new(b.finish()),
            ColumnBuilder::Timestamp(b) => Arc::new(b.finish().with_timezone("UTC")),
            ColumnBuilder::Utf8List(b) => Arc::new(b.finish()),
        }
    }
}
