//! The pair decoder: CirrusSearch action/document line pairs → Arrow rows.
//!
//! A dump is newline-delimited JSON in pairs: an action line
//! `{"index":{"_type":"page","_id":"12"}}` (`_type` absent in newer dumps, `_id`
//! a string or a number) followed by the page document. The decoder is fed one
//! line at a time and appends one row per complete pair to per-column Arrow
//! builders, materializing only the projected columns: the document is scanned
//! once, and fields nobody asked for (above all `source_text`) are skipped
//! without being copied.
//!
//! Decoding is lenient per field, strict per line: a field whose JSON type is
//! not what the column expects (`defaultsort: false` where a string is usual)
//! becomes null, while a line that is not JSON at all is a [`BadRecord`] the
//! caller counts and reports.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use arrow::array::{ArrayRef, ListBuilder, RecordBatch, StringBuilder};
use arrow::compute::kernels::cast_utils::string_to_timestamp_nanos;
use arrow::datatypes::{Field, Schema, SchemaRef};
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::source::bad_record::{BadRecord, BadRecordKind};
use crate::source::columns::ColumnBuilder;
use crate::source::format::DecodeOptions;
use crate::source::schema::{ColumnKind, PAGE_COLUMNS};

const COLUMN_COUNT: usize = PAGE_COLUMNS.len();

/// What one pushed line did.
#[derive(Debug, PartialEq, Eq)]
pub enum LineOutcome {
    /// An action line, a blank line, or a document that completed a row.
    Consumed,
    /// A complete pair whose namespace the pushed-down filter excludes.
    Filtered,
    /// Something to count and report; the decoder has already recovered.
    Bad(BadRecord),
}

/// Turns a stream of lines into record batches; see the module docs.
pub struct PairDecoder {
    options: DecodeOptions,
    schema: SchemaRef,
    /// Document fields to look at: the projected columns plus what filtering
    /// and the page-id fallback need.
    wanted: [bool; COLUMN_COUNT],
    builders: Vec<ColumnBuilder>,
    pending_action: Option<PendingAction>,
    rows: usize,
    bytes: usize,
    /// The value of the `index_name` column for this input.
    index_name: Option<String>,
}

#[derive(Debug)]
struct PendingAction {
    line: u64,
    page_id: Option<i64>,
}

impl PairDecoder {
    pub fn new(options: DecodeOptions) -> Self {
        let mut wanted = [false; COLUMN_COUNT];
        for &i in &options.projection {
            wanted[i] = true;
        }
        let namespace_index = column_index("namespace");
        if options.namespaces.is_some() {
            wanted[namespace_index] = true;
        }
        // The document's own `page_id` is the fallback for an action line
        // without a usable `_id`.
        wanted[column_index("page_id")] |= options.projection.contains(&column_index("page_id"));
        let fields: Vec<Field> = options
            .projection
            .iter()
            .map(|&i| Field::new(PAGE_COLUMNS[i].name, PAGE_COLUMNS[i].kind.data_type(), true))
            .collect();
        let builders = options
            .projection
            .iter()
            .map(|&i| ColumnBuilder::new(PAGE_COLUMNS[i].kind))
            .collect();
        PairDecoder {
            options,
            schema: Arc::new(Schema::new(fields)),
            wanted,
            builders,
            pending_action: None,
            rows: 0,
            bytes: 0,
            index_name: None,
        }
    }

    /// Sets the `index_name` column's value (from the input's directory).
    pub fn set_index_name(&mut self, index_name: Option<String>) {
        self.index_name = index_name;
    }

    /// The schema of the batches [`Self::finish_batch`] returns.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Rows buffered since the last batch.
    pub fn buffered_rows(&self) -> usize {
        self.rows
    }

    /// Approximate bytes of string data buffered since the last batch.
    pub fn buffered_bytes(&self) -> usize {
        self.bytes
    }

    /// Feeds one line (without its newline; a trailing `\r` is tolerated).
    pub fn push_line(&mut self, line: &[u8], line_no: u64) -> LineOutcome {
        let line = match std::str::from_utf8(line) {
            Ok(line) => line.trim_end_matches(['\r', '\n']),
            Err(e) => {
                // The pair this line belonged to is lost either way.
                self.pending_action = None;
                return LineOutcome::Bad(BadRecord {
                    kind: BadRecordKind::InvalidUtf8,
                    line: line_no,
                    detail: format!("invalid byte at column {}", e.valid_up_to() + 1),
                });
            }
        };
        if line.trim().is_empty() {
            return LineOutcome::Consumed;
        }
        if looks_like_action(line) {
            return self.push_action(line, line_no);
        }
        let Some(action) = self.pending_action.take() else {
            // Still validate, so that junk is reported as junk.
            if let Err(e) = self.parse_document(line) {
                return bad(BadRecordKind::MalformedJson, line_no, e.to_string());
            }
            return bad(BadRecordKind::DocumentWithoutAction, line_no, String::new());
        };
        let fields = match self.parse_document(line) {
            Ok(fields) => fields,
            Err(e) => return bad(BadRecordKind::MalformedJson, line_no, e.to_string()),
        };
        if let Some(allowed) = &self.options.namespaces {
            let namespace = fields.values[column_index("namespace")].and_then(json_int);
            if !namespace.is_some_and(|ns| allowed.iter().any(|&a| i64::from(a) == ns)) {
                return LineOutcome::Filtered;
            }
        }
        self.append_row(action.page_id, &fields);
        LineOutcome::Consumed
    }

    /// Whether an action line is waiting for its document.
    pub fn has_pending_action(&self) -> bool {
        self.pending_action.is_some()
    }

    /// Ends the input: an action line still waiting for its document is bad.
    pub fn finish_input(&mut self) -> Option<BadRecord> {
        self.pending_action.take().map(|a| BadRecord {
            kind: BadRecordKind::ActionWithoutDocument,
            line: a.line,
            detail: "end of input".into(),
        })
    }

    /// Returns the buffered rows as a batch and starts a new one.
    pub fn finish_batch(&mut self) -> RecordBatch {
        let columns: Vec<ArrayRef> = self.builders.iter_mut().map(ColumnBuilder::finish).collect();
        let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(self.rows));
        self.rows = 0;
        self.bytes = 0;
        RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)
            .expect("builders match the projected schema")
    }

    fn push_action(&mut self, line: &str, line_no: u64) -> LineOutcome {
        let action: ActionLine = match serde_json::from_str(line) {
            Ok(action) => action,
            Err(e) => {
                self.pending_action = None;
                return bad(BadRecordKind::MalformedJson, line_no, e.to_string());
            }
        };
        let previous = self.pending_action.replace(PendingAction {
            line: line_no,
            page_id: action.index.id.and_then(json_int),
        });
        match previous {
            Some(previous) => bad(
                BadRecordKind::ActionWithoutDocument,
                previous.line,
                format!("followed by another action line at line {line_no}"),
            ),
            None => LineOutcome::Consumed,
        }
    }

    fn parse_document<'a>(&self, line: &'a str) -> serde_json::Result<DocumentFields<'a>> {
        let mut de = serde_json::Deserializer::from_str(line);
        let fields = DocumentSeed { wanted: &self.wanted }.deserialize(&mut de)?;
        de.end()?;
        Ok(fields)
    }

    fn append_row(&mut self, action_page_id: Option<i64>, fields: &DocumentFields<'_>) {
        for (builder, &column) in self.builders.iter_mut().zip(&self.options.projection) {
            let raw = fields.values[column];
            self.bytes += match builder {
                ColumnBuilder::Int64(b) => {
                    let value = if PAGE_COLUMNS[column].kind == ColumnKind::PageId {
                        action_page_id.or_else(|| raw.and_then(json_int))
                    } else {
                        raw.and_then(json_int)
                    };
                    b.append_option(value);
                    8
                }
                ColumnBuilder::Int32(b) => {
                    b.append_option(raw.and_then(json_int).and_then(|v| i32::try_from(v).ok()));
                    4
                }
                ColumnBuilder::Utf8(b) if PAGE_COLUMNS[column].kind == ColumnKind::IndexName => {
                    b.append_option(self.index_name.as_deref());
                    0
                }
                ColumnBuilder::Utf8(b) => {
                    let value = raw.and_then(json_scalar_string);
                    let len = value.as_ref().map_or(0, |v| v.len());
                    b.append_option(value);
                    len
                }
                ColumnBuilder::Timestamp(b) => {
                    b.append_option(raw.and_then(json_timestamp_micros));
                    8
                }
                ColumnBuilder::Utf8List(b) => append_string_list(b, raw),
            };
        }
        self.rows += 1;
    }
}

fn bad(kind: BadRecordKind, line: u64, detail: String) -> LineOutcome {
    LineOutcome::Bad(BadRecord { kind, line, detail })
}

fn column_index(name: &str) -> usize {
    PAGE_COLUMNS.iter().position(|c| c.name == name).expect("known column")
}

/// Action lines start with the key `index`; documents never do. Checking the
/// prefix keeps documents (often hundreds of KB) from being parsed twice.
pub(crate) fn looks_like_action(line: &str) -> bool {
    line.trim_start()
        .strip_prefix('{')
        .is_some_and(|rest| rest.trim_start().starts_with("\"index\""))
}

#[derive(Deserialize)]
struct ActionLine<'a> {
    #[serde(borrow)]
    index: ActionMeta<'a>,
}

#[derive(Deserialize)]
struct ActionMeta<'a> {
    #[serde(borrow, rename = "_id", default)]
    id: Option<&'a RawValue>,
}

/// The raw JSON of the wanted fields of one document, indexed like [`PAGE_COLUMNS`].
struct DocumentFields<'a> {
    values: [Option<&'a RawValue>; COLUMN_COUNT],
}

/// Deserializes a document keeping only the wanted fields, as borrowed raw JSON.
struct DocumentSeed<'w> {
    wanted: &'w [bool; COLUMN_COUNT],
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = DocumentFields<'de>;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_> {
    type Value = DocumentFields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CirrusSearch page document (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut values = [None; COLUMN_COUNT];
        while let Some(FieldKey(column)) = map.next_key()? {
            match column {
                Some(i) if self.wanted[i] => values[i] = map.next_value::<Option<&'de RawValue>>()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(DocumentFields { values })
    }
}

/// A document key, resolved to a column index without allocating.
struct FieldKey(Option<usize>);

impl<'de> Deserialize<'de> for FieldKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = FieldKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<FieldKey, E> {
                Ok(FieldKey(PAGE_COLUMNS.iter().position(|c| c.name == key)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// An integer from a JSON number (integral floats accepted) or a numeric string.
fn json_int(raw: &RawValue) -> Option<i64> {
    let text = raw.get();
    let text = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
    text.parse::<i64>().ok().or_else(|| {
        let float = text.parse::<f64>().ok()?;
        (float.fract() == 0.0 && float.abs() < 9.0e18).then_some(float as i64)
    })
}

/// A string from a JSON string (borrowed when it has no escapes) or a number.
fn json_scalar_string(raw: &RawValue) -> Option<Cow<'_, str>> {
    let text = raw.get();
    if text.starts_with('"') {
        json_string(text)
    } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        Some(Cow::Borrowed(text))
    } else {
        None
    }
}

/// Decodes a JSON string literal; `text` is known to be valid JSON.
fn json_string(text: &str) -> Option<Cow<'_, str>> {
    if !text.contains('\\') {
        return Some(Cow::Borrowed(&text[1..text.len() - 1]));
    }
    serde_json::from_str::<String>(text).ok().map(Cow::Owned)
}

fn json_timestamp_micros(raw: &RawValue) -> Option<i64> {
    let text = json_scalar_string(raw)?;
    string_to_timestamp_nanos(&text).ok().map(|nanos| nanos / 1000)
}

/// Appends a list value; returns the string bytes appended.
fn append_string_list(builder: &mut ListBuilder<StringBuilder>, raw: Option<&RawValue>) -> usize {
    let Some(raw) = raw else {
        builder.append_null();
        return 0;
    };
    let text = raw.get();
    let mut bytes = 0;
    if text.starts_with('[') {
        let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(text) else {
            builder.append_null();
            return 0;
        };
        for item in items {
            let value = if item.get().starts_with('{') {
                serde_json::from_str::<Titled>(item.get())
                    .ok()
                    .and_then(|t| t.title)
                    .and_then(json_scalar_string)
            } else {
                json_scalar_string(item)
            };
            if let Some(value) = value {
                bytes += value.len();
                builder.values().append_value(value);
            }
        }
        builder.append(true);
    } else if let Some(value) = json_scalar_string(raw) {
        bytes += value.len();
        builder.values().append_value(value);
        builder.append(true);
    } else {
        builder.append_null();
    }
    bytes
}

/// A list element given as an object, e.g. a redirect `{"namespace":0,"title":"X"}`.
#[derive(Deserialize)]
struct Titled<'a> {
    #[serde(borrow, default)]
    title: Option<&'a RawValue>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Int32Type, Int64Type, TimestampMicrosecondType};

    fn decode(lines: &[&str], options: DecodeOptions) -> (RecordBatch, Vec<BadRecord>) {
        let mut decoder = PairDecoder::new(options);
        let mut bad = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if let LineOutcome::Bad(b) = decoder.push_line(line.as_bytes(), i as u64 + 1) {
                bad.push(b);
            }
        }
        bad.extend(decoder.finish_input());
        (decoder.finish_batch(), bad)
    }

    fn column<'a>(batch: &'a RecordBatch, name: &str) -> &'a ArrayRef {
        batch.column_by_name(name).unwrap()
    }

    #[test]
    fn both_action_line_forms_give_the_page_id() {
        let (batch, bad) = decode(
            &[
                r#"{"index":{"_type":"page","_id":"12"}}"#,
                r#"{"title":"Anarchism","namespace":0}"#,
                r#"{"index":{"_id":25}}"#,
                r#"{"title":"Autism","namespace":0}"#,
            ],
            DecodeOptions::all_columns(),
        );
        assert!(bad.is_empty(), "{bad:?}");
        let ids = column(&batch, "page_id").as_primitive::<Int64Type>();
        assert_eq!(ids.values().to_vec(), vec![12, 25]);
        let titles = column(&batch, "title").as_string::<i32>();
        assert_eq!(titles.value(1), "Autism");
    }

    #[test]
    fn missing_extra_and_odd_typed_fields_never_break_a_page() {
        let (batch, bad) = decode(
            &[
                r#"{"index":{"_id":"7"}}"#,
                concat!(
                    r#"{"title":"T","namespace":"0","defaultsort":false,"version":5.0,"#,
                    r#""wikibase_item":null,"language":123,"incoming_links":"x","#,
                    r#""category":"Solo","heading":[1,"h",{"a":1},null],"#,
                    r#""redirect":[{"namespace":0,"title":"R1"},{"title":"R\u00e9"}],"#,
                    r#""timestamp":"2016-04-22T10:19:33Z","surprise":{"nested":[1,2]}}"#
                ),
            ],
            DecodeOptions::all_columns(),
        );
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(column(&batch, "namespace").as_primitive::<Int32Type>().value(0), 0);
        assert_eq!(column(&batch, "version").as_primitive::<Int64Type>().value(0), 5);
        assert!(column(&batch, "wikibase_item").is_null(0));
        assert_eq!(column(&batch, "language").as_string::<i32>().value(0), "123");
        assert!(column(&batch, "incoming_links").is_null(0));
        assert!(column(&batch, "text").is_null(0), "a missing field is null");
        let list = |name| {
            let l = column(&batch, name).as_list::<i32>().value(0);
            let s = l.as_string::<i32>();
            (0..s.len()).map(|i| s.value(i).to_string()).collect::<Vec<_>>()
        };
        assert_eq!(list("category"), ["Solo"]);
        assert_eq!(list("heading"), ["1", "h"]);
        assert_eq!(list("redirect"), ["R1", "Ré"]);
        let ts = column(&batch, "timestamp").as_primitive::<TimestampMicrosecondType>();
        assert_eq!(ts.value(0), 1_461_320_373_000_000);
    }

    #[test]
    fn null_missing_and_escaped_text() {
        let (batch, bad) = decode(
            &[
                r#"{"index":{"_id":"1"}}"#,
                r#"{"text":null}"#,
                r#"{"index":{"_id":"2"}}"#,
                r#"{"title":"no text"}"#,
                r#"{"index":{"_id":"3"}}"#,
                r#"{"text":""}"#,
                r#"{"index":{"_id":"4"}}"#,
                r#"{"text":"a\nb \"q\" \ud83d\ude00 ж"}"#,
            ],
            DecodeOptions::all_columns(),
        );
        assert!(bad.is_empty(), "{bad:?}");
        let text = column(&batch, "text").as_string::<i32>();
        assert!(text.is_null(0));
        assert!(text.is_null(1));
        assert_eq!(text.value(2), "");
        assert_eq!(text.value(3), "a\nb \"q\" 😀 ж");
    }

    #[test]
    fn broken_pairs_are_reported_with_their_line_and_the_rest_survives() {
        let (batch, bad) = decode(
            &[
                r#"{"index":{"_id":"1"}}"#,
                r#"{"index":{"_id":"2"}}"#,
                r#"{"title":"two"}"#,
                r#"{"title":"orphan"}"#,
                r#"{"index":{"_id":"3"}}"#,
                r#"{"title": "broken"#,
                r#"{"index":{"_id":"4"}}"#,
                r#"{"title":"four"}"#,
                r#"{"index":{"_id":"5"}}"#,
            ],
            DecodeOptions::all_columns(),
        );
        let kinds: Vec<_> = bad.iter().map(|b| (b.kind, b.line)).collect();
        assert_eq!(
            kinds,
            [
                (BadRecordKind::ActionWithoutDocument, 1),
                (BadRecordKind::DocumentWithoutAction, 4),
                (BadRecordKind::MalformedJson, 6),
                (BadRecordKind::ActionWithoutDocument, 9),
            ]
        );
        let ids = column(&batch, "page_id").as_primitive::<Int64Type>();
        assert_eq!(ids.values().to_vec(), vec![2, 4]);
    }

    #[test]
    fn invalid_utf8_is_a_bad_record() {
        let mut decoder = PairDecoder::new(DecodeOptions::all_columns());
        assert_eq!(decoder.push_line(br#"{"index":{"_id":"1"}}"#, 1), LineOutcome::Consumed);
        let outcome = decoder.push_line(b"{\"title\":\"\xff\"}", 2);
        assert!(matches!(
            outcome,
            LineOutcome::Bad(BadRecord {
                kind: BadRecordKind::InvalidUtf8,
                line: 2,
                ..
            })
        ));
        assert_eq!(decoder.finish_batch().num_rows(), 0);
    }

    #[test]
    fn projection_and_namespace_filter() {
        let options = DecodeOptions {
            projection: vec![column_index("title")],
            namespaces: Some(vec![0]),
        };
        let (batch, bad) = decode(
            &[
                r#"{"index":{"_id":"1"}}"#,
                r#"{"title":"content","namespace":0,"source_text":"{{big}}"}"#,
                r#"{"index":{"_id":"2"}}"#,
                r#"{"title":"project page","namespace":4}"#,
                r#"{"index":{"_id":"3"}}"#,
                r#"{"title":"no namespace"}"#,
            ],
            options,
        );
        assert!(bad.is_empty());
        assert_eq!(batch.num_columns(), 1);
        assert_eq!(batch.schema().field(0).name(), "title");
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.column(0).as_string::<i32>().value(0), "content");
    }
}
