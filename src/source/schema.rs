//! The `pages` table's columns.
//!
//! Column names are the dump's own field names so that users who know the
//! CirrusSearch format can query without a translation table. Every column is
//! nullable: fields come and go between dump versions, and a missing field is
//! simply null.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// How a column's value is found and converted from a page document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// The page id: the action line's `_id` (string or number), falling back
    /// to the document's own `page_id` field.
    PageId,
    Int32,
    Int64,
    Utf8,
    /// An ISO-8601 / RFC 3339 string, stored as microseconds UTC.
    Timestamp,
    /// Not from the document: the Hive-style `index_name=<value>` directory
    /// the file is in (current layout), e.g. `enwiki_content`.
    IndexName,
    /// A JSON array of strings (a lone string becomes a one-element list).
    /// Elements that are objects contribute their `title` (how dumps encode
    /// redirects: `{"namespace":0,"title":"..."}`).
    Utf8List,
}

/// One column of the `pages` table.
#[derive(Debug, Clone, Copy)]
pub struct PageColumn {
    pub name: &'static str,
    pub kind: ColumnKind,
}

const fn col(name: &'static str, kind: ColumnKind) -> PageColumn {
    PageColumn { name, kind }
}

/// All columns, in table order.
pub const PAGE_COLUMNS: &[PageColumn] = &[
    col("page_id", ColumnKind::PageId),
    col("wiki", ColumnKind::Utf8),
    col("namespace", ColumnKind::Int32),
    col("title", ColumnKind::Utf8),
    col("text", ColumnKind::Utf8),
    col("opening_text", ColumnKind::Utf8),
    col("timestamp", ColumnKind::Timestamp),
    col("version", ColumnKind::Int64),
    col("language", ColumnKind::Utf8),
    col("category", ColumnKind::Utf8List),
    col("outgoing_link", ColumnKind::Utf8List),
    col("heading", ColumnKind::Utf8List),
    col("redirect", ColumnKind::Utf8List),
    col("incoming_links", ColumnKind::Int64),
    col("text_bytes", ColumnKind::Int64),
    col("source_text", ColumnKind::Utf8),
    col("content_model", ColumnKind::Utf8),
    col("wikibase_item", ColumnKind::Utf8),
    col("index_name", ColumnKind::IndexName),
    // The target title of a redirect page (MediaWiki XML dumps, which list
    // redirect pages); null for other pages and for CirrusSearch dumps,
    // which fold redirects into `redirect` instead.
    col("redirect_target", ColumnKind::Utf8),
];

/// Index of the `namespace` column, used by the namespace filter pushdown.
pub const NAMESPACE_COLUMN: &str = "namespace";

impl ColumnKind {
    pub fn data_type(self) -> DataType {
        match self {
            ColumnKind::PageId | ColumnKind::Int64 => DataType::Int64,
            ColumnKind::Int32 => DataType::Int32,
            ColumnKind::Utf8 | ColumnKind::IndexName => DataType::Utf8,
            ColumnKind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            ColumnKind::Utf8List => DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
        }
    }
}

/// The Arrow schema of the `pages` table.
pub fn pages_schema() -> SchemaRef {
    let fields: Vec<Field> = PAGE_COLUMNS
        .iter()
        .map(|c| Field::new(c.name, c.kind.data_type(), true))
        .collect();
    Arc::new(Schema::new(fields))
}

/// The schema as a table, for `wikitok schema`.
pub fn describe_schema() -> String {
    let mut out = String::from("column\ttype\n");
    for field in pages_schema().fields() {
        out.push_str(&format!("{}\t{}\n", field.name(), field.data_type()));
    }
    out
}
