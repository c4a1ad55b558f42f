//! Bad records: what a format skipped, counted and reported (never a
//! silently shorter table; past `--max-bad-records` the run fails).

use std::fmt;

/// Why a line (or pair) was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BadRecordKind {
    /// The line is not valid JSON (or not a JSON object).
    MalformedJson,
    /// An action line followed by another action line or the end of input.
    ActionWithoutDocument,
    /// A document line with no action line before it.
    DocumentWithoutAction,
    /// The line is not valid UTF-8.
    InvalidUtf8,
    /// The line (for XML: the page) is longer than the configured limit.
    LineTooLong,
    /// An XML page element that does not parse, or that the text ends in.
    MalformedXml,
    /// A page kept with `text` null: its wikitext is too long to render.
    NotRendered,
    /// An XML page without its `<id>`, `<ns>` or `<revision>` (a row without
    /// them would be a page nobody can name).
    IncompletePage,
}

impl BadRecordKind {
    pub const ALL: [BadRecordKind; 8] = [
        BadRecordKind::MalformedJson,
        BadRecordKind::ActionWithoutDocument,
        BadRecordKind::DocumentWithoutAction,
        BadRecordKind::InvalidUtf8,
        BadRecordKind::LineTooLong,
        BadRecordKind::MalformedXml,
        BadRecordKind::NotRendered,
        BadRecordKind::IncompletePage,
    ];

    /// A stable snake_case name, used in logs and the run summary.
    pub fn name(self) -> &'static str {
        match self {
            BadRecordKind::MalformedJson => "malformed_json",
            BadRecordKind::ActionWithoutDocument => "action_without_document",
            BadRecordKind::DocumentWithoutAction => "document_without_action",
            BadRecordKind::InvalidUtf8 => "invalid_utf8",
            BadRecordKind::LineTooLong => "line_too_long",
            BadRecordKind::MalformedXml => "malformed_xml",
            BadRecordKind::NotRendered => "not_rendered",
            BadRecordKind::IncompletePage => "incomplete_page",
        }
    }
}

/// A skipped record: what was wrong and on which (1-based) line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    pub kind: BadRecordKind,
    pub line: u64,
    pub detail: String,
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.kind.name())?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}
