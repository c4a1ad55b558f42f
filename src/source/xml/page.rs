//! One `<page>` element → its fields, with a streaming XML parser
//! (quick-xml) over the page's own bytes.
//!
//! Elements are matched by local name (multistream chunks carry no
//! `xmlns`), entity and character references are joined with the text
//! around them, and only the last `<revision>` counts (history dumps list
//! every revision of a page).

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::siteinfo::push_reference;

/// The fields of one page, as the dump gives them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RawPage {
    pub title: Option<String>,
    pub namespace: Option<i32>,
    pub id: Option<i64>,
    /// `<redirect title="..."/>`.
    pub redirect: Option<String>,
    pub revision_id: Option<i64>,
    pub timestamp: Option<String>,
    pub model: Option<String>,
    /// The wikitext; `None` for `<text deleted="deleted"/>`.
    pub text: Option<String>,
    /// The `bytes` attribute of `<text>`.
    pub text_bytes: Option<i64>,
}

/// Which field the text being read belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Title,
    Namespace,
    Id,
    RevisionId,
    Timestamp,
    Model,
    Text,
}

/// Parses one page; the error says what is wrong with its XML.
pub fn parse_page(xml: &str) -> Result<RawPage, String> {
    let mut page = RawPage::default();
    let mut reader = Reader::from_str(xml);
    // Depth 1: children of <page>; 2: of <revision> (or <contributor>...).
    let mut depth = 0usize;
    let mut in_revision = false;
    let mut field: Option<Field> = None;
    let mut value = String::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed XML at byte {} of the page: {e}", reader.error_position()))?;
        match event {
            Event::Start(start) => {
                depth += 1;
                field = None;
                value.clear();
                match (depth, start.local_name().as_ref()) {
                    (1, b"page") => {}
                    (2, b"revision") => {
                        in_revision = true;
                        page.revision_id = None;
                        page.timestamp = None;
                        page.model = None;
                        page.text = None;
                        page.text_bytes = None;
                    }
                    (2, b"title") => field = Some(Field::Title),
                    (2, b"ns") => field = Some(Field::Namespace),
                    (2, b"id") => field = Some(Field::Id),
                    (2, b"redirect") => page.redirect = attribute(&start, b"title"),
                    (3, b"id") if in_revision => field = Some(Field::RevisionId),
                    (3, b"timestamp") if in_revision => field = Some(Field::Timestamp),
                    (3, b"model") if in_revision => field = Some(Field::Model),
                    (3, b"text") if in_revision => {
                        text_attributes(&start, &mut page);
                        field = Some(Field::Text);
                        page.text = Some(String::new());
                    }
                    _ => {}
                }
            }
            Event::Empty(start) => match (depth + 1, start.local_name().as_ref()) {
                (2, b"redirect") => page.redirect = attribute(&start, b"title"),
                (3, b"text") if in_revision => {
                    let deleted = attribute(&start, b"deleted").is_some();
                    text_attributes(&start, &mut page);
                    page.text = (!deleted).then(String::new);
                }
                _ => {}
            },
            Event::Text(text) if field.is_some() => {
                value.push_str(&text.decode().map_err(|e| format!("bad text: {e}"))?);
            }
            Event::CData(text) if field.is_some() => {
                value.push_str(&text.decode().map_err(|e| format!("bad text: {e}"))?);
            }
            Event::GeneralRef(reference) if field.is_some() => push_reference(&mut value, &reference),
            Event::End(end) => {
                if let Some(done) = field.take() {
                    let text = std::mem::take(&mut value);
                    match done {
                        Field::Title => page.title = Some(text),
                        Field::Namespace => page.namespace = text.trim().parse().ok(),
                        Field::Id => page.id = text.trim().parse().ok(),
                        Field::RevisionId => page.revision_id = text.trim().parse().ok(),
                        Field::Timestamp => page.timestamp = Some(text),
                        Field::Model => page.model = Some(text),
                        Field::Text => page.text = Some(text),
                    }
                }
                if depth == 2 && end.local_name().as_ref() == b"revision" {
                    in_revision = false;
                }
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            Event::Eof => return Err("the page ends before </page>".into()),
            _ => {}
        }
    }
    Ok(page)
}

fn attribute(start: &BytesStart<'_>, key: &[u8]) -> Option<String> {
    start
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

fn text_attributes(start: &BytesStart<'_>, page: &mut RawPage) {
    page.text_bytes = attribute(start, b"bytes").and_then(|b| b.trim().parse().ok());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_last_revision_and_decodes_references() {
        let page = parse_page(
            r#"<page>
    <title>AT&amp;T &lt;x&gt;</title>
    <ns>0</ns>
    <id>12</id>
    <redirect title="Target &quot;q&quot;" />
    <revision>
      <id>1</id>
      <timestamp>2001-01-01T00:00:00Z</timestamp>
      <contributor><username>U</username><id>99</id></contributor>
      <text bytes="3" xml:space="preserve">old</text>
    </revision>
    <revision>
      <id>2</id>
      <timestamp>2014-10-26T04:50:23Z</timestamp>
      <contributor><username>U</username><id>99</id></contributor>
      <model>wikitext</model>
      <format>text/x-wiki</format>
      <text bytes="25" xml:space="preserve">a &amp;nbsp; &lt;ref&gt;&#233;</text>
    </revision>
  </page>"#,
        )
        .unwrap();
        assert_eq!(page.title.as_deref(), Some("AT&T <x>"));
        assert_eq!(
            (page.namespace, page.id, page.revision_id),
            (Some(0), Some(12), Some(2))
        );
        assert_eq!(page.redirect.as_deref(), Some("Target \"q\""));
        assert_eq!(page.text.as_deref(), Some("a &nbsp; <ref>é"));
        assert_eq!(page.text_bytes, Some(25));
        assert_eq!(page.model.as_deref(), Some("wikitext"));
    }

    #[test]
    fn deleted_and_empty_text() {
        let deleted = parse_page(
            "<page><title>T</title><ns>0</ns><id>1</id><revision><id>5</id><text deleted=\"deleted\" /></revision></page>",
        )
        .unwrap();
        assert_eq!(deleted.text, None);
        let empty = parse_page(
            "<page><title>T</title><ns>0</ns><id>1</id><revision><id>5</id><text bytes=\"0\" /></revision></page>",
        )
        .unwrap();
        assert_eq!(empty.text.as_deref(), Some(""));
        assert!(parse_page("<page><title>T</title>").is_err());
        assert!(parse_page("<page><title>T</oops></page>").is_err());
    }
}
