//! A parsed page → one row of the `pages` schema, projected columns only,
//! filled as a CirrusSearch dump of the same wiki fills them.
//!
//! Rendering the wikitext is the costly part, so it runs only when `text`,
//! `opening_text` or `heading` is projected, and links only when `category`
//! or `outgoing_link` is; a namespace filter drops pages before either.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::compute::kernels::cast_utils::string_to_timestamp_nanos;
use arrow::datatypes::{Field, Schema, SchemaRef};

use super::page::RawPage;
use super::siteinfo::SiteInfo;
use crate::source::columns::ColumnBuilder;
use crate::source::format::DecodeOptions;
use crate::source::schema::PAGE_COLUMNS;
use crate::wikitext::{self, Date, PageContext, PageLinks, Rendered, Templates, UserTemplates, WikiRules};

/// Wikitext longer than this is not rendered (`text` null, counted): real
/// pages stay under MediaWiki's 2 MiB limit, and the renderer is linear, but
/// a damaged dump must not cost minutes on one page.
pub const MAX_RENDERED_BYTES: usize = 16 << 20;

/// Whether a pushed page made a row.
#[derive(Debug, PartialEq, Eq)]
pub enum PageOutcome {
    Row,
    /// The page's row was added, but its text was too long to render.
    RowNotRendered,
    /// The namespace filter excludes the page.
    Filtered,
}

/// The `pages` columns an XML page fills; `Absent` ones are always null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    PageId,
    Namespace,
    Version,
    TextBytes,
    Timestamp,
    Title,
    Wiki,
    Language,
    ContentModel,
    SourceText,
    RedirectTarget,
    Text,
    OpeningText,
    Heading,
    Category,
    OutgoingLink,
    /// Not in XML dumps: `redirect` (a join, see sql/redirects.sql),
    /// `incoming_links`, `wikibase_item`, `index_name`.
    Absent,
}

impl Column {
    fn of(name: &str) -> Column {
        match name {
            "page_id" => Column::PageId,
            "namespace" => Column::Namespace,
            "version" => Column::Version,
            "text_bytes" => Column::TextBytes,
            "timestamp" => Column::Timestamp,
            "title" => Column::Title,
            "wiki" => Column::Wiki,
            "language" => Column::Language,
            "content_model" => Column::ContentModel,
            "source_text" => Column::SourceText,
            "redirect_target" => Column::RedirectTarget,
            "text" => Column::Text,
            "opening_text" => Column::OpeningText,
            "heading" => Column::Heading,
            "category" => Column::Category,
            "outgoing_link" => Column::OutgoingLink,
            _ => Column::Absent,
        }
    }
}

/// Builds record batches from parsed pages; see the module docs.
pub struct PageDecoder {
    /// What each projected column is, resolved once (not per row).
    columns: Vec<Column>,
    namespaces: Option<Vec<i32>>,
    schema: SchemaRef,
    builders: Vec<ColumnBuilder>,
    site: SiteInfo,
    rules: WikiRules,
    /// "Today" for `CURRENTYEAR` and ages: the dump's date (from its file
    /// name), else each page's revision date — never the clock, so a re-run
    /// renders the same text.
    dump_date: Option<Date>,
    wants_rendering: bool,
    wants_links: bool,
    rows: usize,
    bytes: usize,
}

impl PageDecoder {
    pub fn new(options: &DecodeOptions, site: SiteInfo, templates: &UserTemplates, dump_date: Option<Date>) -> Self {
        let fields: Vec<Field> = options
            .projection
            .iter()
            .map(|&i| Field::new(PAGE_COLUMNS[i].name, PAGE_COLUMNS[i].kind.data_type(), true))
            .collect();
        let projected = |names: &[&str]| {
            options
                .projection
                .iter()
                .any(|&i| names.contains(&PAGE_COLUMNS[i].name))
        };
        PageDecoder {
            columns: options
                .projection
                .iter()
                .map(|&i| Column::of(PAGE_COLUMNS[i].name))
                .collect(),
            namespaces: options.namespaces.clone(),
            schema: Arc::new(Schema::new(fields)),
            builders: options
                .projection
                .iter()
                .map(|&i| ColumnBuilder::new(PAGE_COLUMNS[i].kind))
                .collect(),
            rules: WikiRules {
                links: site.link_rules(),
                templates: Templates::for_wiki(
                    site.language.as_deref(),
                    site.namespaces.get(&10).map(|ns| ns.name.as_str()),
                    templates,
                ),
            },
            dump_date,
            site,
            wants_rendering: projected(&["text", "opening_text", "heading"]),
            wants_links: projected(&["category", "outgoing_link"]),
            rows: 0,
            bytes: 0,
        }
    }

    pub fn buffered_rows(&self) -> usize {
        self.rows
    }

    pub fn buffered_bytes(&self) -> usize {
        self.bytes
    }

    /// Appends the page's row (unless filtered out).
    pub fn push(&mut self, page: &RawPage) -> PageOutcome {
        if let Some(allowed) = &self.namespaces {
            if !page.namespace.is_some_and(|ns| allowed.contains(&ns)) {
                return PageOutcome::Filtered;
            }
        }
        let is_wikitext = page.model.as_deref().is_none_or(|m| m == "wikitext");
        let source = page.text.as_deref().filter(|_| is_wikitext);
        let too_long = source.is_some_and(|s| s.len() > MAX_RENDERED_BYTES);
        let renderable = source.filter(|_| !too_long);
        let namespace = page.namespace.unwrap_or(0);
        let title = page
            .title
            .as_deref()
            .map(|t| self.site.title_without_namespace(namespace, t));
        let rendered: Option<Rendered> = match renderable {
            Some(source) if self.wants_rendering && page.redirect.is_none() => {
                let context = PageContext {
                    title: title.unwrap_or_default(),
                    today: self
                        .dump_date
                        .or_else(|| page.timestamp.as_deref().and_then(Date::from_compact))
                        .unwrap_or(wikitext::templates::UNDATED),
                };
                Some(wikitext::render(source, &self.rules, &context))
            }
            _ => None,
        };
        let links: Option<PageLinks> = match renderable {
            Some(source) if self.wants_links => Some(wikitext::page_links(source, &self.rules.links)),
            _ => None,
        };
        for (builder, &column) in self.builders.iter_mut().zip(&self.columns) {
            self.bytes += match (column, builder) {
                (Column::PageId, ColumnBuilder::Int64(b)) => append_i64(b, page.id),
                (Column::Namespace, ColumnBuilder::Int32(b)) => {
                    b.append_option(page.namespace);
                    4
                }
                (Column::Version, ColumnBuilder::Int64(b)) => append_i64(b, page.revision_id),
                (Column::TextBytes, ColumnBuilder::Int64(b)) => append_i64(
                    b,
                    page.text_bytes.or_else(|| page.text.as_ref().map(|t| t.len() as i64)),
                ),
                (Column::Timestamp, ColumnBuilder::Timestamp(b)) => {
                    let micros = page
                        .timestamp
                        .as_deref()
                        .and_then(|t| string_to_timestamp_nanos(t.trim()).ok())
                        .map(|nanos| nanos / 1000);
                    b.append_option(micros);
                    8
                }
                (Column::Title, ColumnBuilder::Utf8(b)) => append_str(b, title),
                (Column::Wiki, ColumnBuilder::Utf8(b)) => append_str(b, self.site.dbname.as_deref()),
                (Column::Language, ColumnBuilder::Utf8(b)) => append_str(b, self.site.language.as_deref()),
                (Column::ContentModel, ColumnBuilder::Utf8(b)) => append_str(b, page.model.as_deref()),
                (Column::SourceText, ColumnBuilder::Utf8(b)) => append_str(b, page.text.as_deref()),
                (Column::RedirectTarget, ColumnBuilder::Utf8(b)) => append_str(b, page.redirect.as_deref()),
                (Column::Text, ColumnBuilder::Utf8(b)) => append_str(b, rendered.as_ref().map(|r| r.text.as_str())),
                (Column::OpeningText, ColumnBuilder::Utf8(b)) => {
                    append_str(b, rendered.as_ref().map(|r| r.opening_text.as_str()))
                }
                (Column::Heading, ColumnBuilder::Utf8List(b)) => append_list(b, rendered.as_ref().map(|r| &r.headings)),
                (Column::Category, ColumnBuilder::Utf8List(b)) => append_list(b, links.as_ref().map(|l| &l.categories)),
                (Column::OutgoingLink, ColumnBuilder::Utf8List(b)) => append_list(b, links.as_ref().map(|l| &l.links)),
                (Column::Absent, ColumnBuilder::Int64(b)) => append_i64(b, None),
                (Column::Absent, ColumnBuilder::Int32(b)) => {
                    b.append_null();
                    0
                }
                (Column::Absent, ColumnBuilder::Utf8(b)) => append_str(b, None),
                (Column::Absent, ColumnBuilder::Timestamp(b)) => {
                    b.append_null();
                    0
                }
                (Column::Absent, ColumnBuilder::Utf8List(b)) => append_list(b, None),
                (column, _) => unreachable!("{column:?} is built with its own column type"),
            };
        }
        self.rows += 1;
        if too_long && self.wants_rendering {
            PageOutcome::RowNotRendered
        } else {
            PageOutcome::Row
        }
    }

    /// Returns the buffered rows as a batch and starts a new one.
    pub fn finish_batch(&mut self) -> RecordBatch {
        let columns: Vec<ArrayRef> = self.builders.iter_mut().map(ColumnBuilder::finish).collect();
        let options = RecordBatchOptions::new().with_row_count(Some(self.rows));
        self.rows = 0;
        self.bytes = 0;
        RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)
            .expect("builders match the projected schema")
    }
}

fn append_i64(builder: &mut arrow::array::Int64Builder, value: Option<i64>) -> usize {
    builder.append_option(value);
    8
}

fn append_str(builder: &mut arrow::array::StringBuilder, value: Option<&str>) -> usize {
    builder.append_option(value);
    value.map_or(0, str::len)
}

fn append_list(
    builder: &mut arrow::array::ListBuilder<arrow::array::StringBuilder>,
    values: Option<&Vec<String>>,
) -> usize {
    let Some(values) = values else {
        builder.append_null();
        return 0;
    };
    let mut bytes = 0;
    for value in values {
        bytes += value.len();
        builder.values().append_value(value);
    }
    builder.append(true);
    bytes
}
