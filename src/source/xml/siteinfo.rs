//! `<siteinfo>`: what every page of a dump needs to be read like its wiki —
//! `dbname` (the `wiki` column), the root's `xml:lang` (`language`), and the
//! namespaces' local names (to take `Category:` off titles, to recognize
//! `[[Категория:X]]` on the Bulgarian Wikipedia).

use std::collections::BTreeMap;

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::wikitext::{LinkRules, WikiNamespace};

/// A namespace as `<siteinfo>` declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    pub name: String,
    /// `first-letter` (titles start upper-case) or `case-sensitive`.
    pub first_letter: bool,
}

/// The parts of `<siteinfo>` and the root element that pages need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteInfo {
    pub dbname: Option<String>,
    pub language: Option<String>,
    pub base: Option<String>,
    pub namespaces: BTreeMap<i32, Namespace>,
}

impl SiteInfo {
    /// Parses the text before the first `<page>`: the root start tag and
    /// `<siteinfo>` (a multistream file's first stream holds exactly this).
    /// Missing pieces stay empty; broken XML ends the parse where it breaks.
    pub fn parse(preamble: &str) -> SiteInfo {
        let mut info = SiteInfo::default();
        let mut reader = Reader::from_str(preamble);
        let mut namespace: Option<(i32, bool)> = None;
        let mut text = String::new();
        loop {
            match reader.read_event() {
                Ok(Event::Start(start)) | Ok(Event::Empty(start)) => {
                    match start.local_name().as_ref() {
                        b"mediawiki" => {
                            for attribute in start.attributes().flatten() {
                                if attribute.key.as_ref() == b"xml:lang" {
                                    info.language = attribute.unescape_value().ok().map(|v| v.into_owned());
                                }
                            }
                        }
                        b"namespace" => {
                            let mut key = None;
                            let mut first_letter = true;
                            for attribute in start.attributes().flatten() {
                                let value = attribute.unescape_value().unwrap_or_default();
                                match attribute.key.as_ref() {
                                    b"key" => key = value.parse::<i32>().ok(),
                                    b"case" => first_letter = value != "case-sensitive",
                                    _ => {}
                                }
                            }
                            namespace = key.map(|k| (k, first_letter));
                            if let Some((key, first_letter)) = namespace {
                                info.namespaces.insert(
                                    key,
                                    Namespace {
                                        name: String::new(),
                                        first_letter,
                                    },
                                );
                            }
                        }
                        _ => {}
                    }
                    text.clear();
                }
                Ok(Event::Text(t)) => text.push_str(&t.decode().unwrap_or_default()),
                Ok(Event::GeneralRef(r)) => push_reference(&mut text, &r),
                Ok(Event::End(end)) => {
                    let value = std::mem::take(&mut text);
                    match end.local_name().as_ref() {
                        b"dbname" => info.dbname = Some(value),
                        b"base" => info.base = Some(value),
                        b"namespace" => {
                            if let Some((key, _)) = namespace.take() {
                                if let Some(ns) = info.namespaces.get_mut(&key) {
                                    ns.name = value;
                                }
                            }
                        }
                        b"siteinfo" => break,
                        _ => {}
                    }
                }
                Ok(Event::Eof) | Err(_) => break,
                Ok(_) => {}
            }
        }
        info
    }

    /// `title` without its namespace's prefix (`Category:X` in namespace 14
    /// → `X`), as CirrusSearch dumps give titles.
    pub fn title_without_namespace<'a>(&self, namespace: i32, title: &'a str) -> &'a str {
        if namespace == 0 {
            return title;
        }
        if let Some((prefix, rest)) = title.split_once(':') {
            let local = self.namespaces.get(&namespace).map(|ns| ns.name.as_str());
            if local.is_some_and(|name| name.eq_ignore_ascii_case(prefix)) {
                return rest;
            }
            // A dump without <namespaces>: any prefix before the first colon.
            if self.namespaces.is_empty() {
                return rest;
            }
        }
        title
    }

    /// How this wiki's links read: its namespace names and cases.
    pub fn link_rules(&self) -> LinkRules {
        let namespaces: Vec<WikiNamespace> = self
            .namespaces
            .iter()
            .map(|(&key, ns)| WikiNamespace {
                key,
                name: ns.name.clone(),
                first_letter: ns.first_letter,
            })
            .collect();
        LinkRules::for_language(&namespaces, self.language.as_deref())
    }
}

/// Appends an XML reference (`&amp;`, `&#233;`) as the character it stands for.
pub fn push_reference(text: &mut String, reference: &quick_xml::events::BytesRef<'_>) {
    if let Ok(Some(c)) = reference.resolve_char_ref() {
        text.push(c);
        return;
    }
    let name = reference.decode().unwrap_or_default();
    match name.as_ref() {
        "lt" => text.push('<'),
        "gt" => text.push('>'),
        "amp" => text.push('&'),
        "quot" => text.push('"'),
        "apos" => text.push('\''),
        other => {
            text.push('&');
            text.push_str(other);
            text.push(';');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_siteinfo() {
        let info = SiteInfo::parse(
            r#"<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="bg">
  <siteinfo>
    <dbname>bgwiki</dbname>
    <base>https://bg.wikipedia.org/wiki/Начална_страница</base>
    <namespaces>
      <namespace key="0" case="first-letter" />
      <namespace key="14" case="first-letter">Категория</namespace>
      <namespace key="2302" case="case-sensitive">Gadget &amp; definition</namespace>
    </namespaces>
  </siteinfo>
"#,
        );
        assert_eq!(info.dbname.as_deref(), Some("bgwiki"));
        assert_eq!(info.language.as_deref(), Some("bg"));
        assert_eq!(info.namespaces[&14].name, "Категория");
        assert_eq!(info.namespaces[&2302].name, "Gadget & definition");
        assert!(!info.namespaces[&2302].first_letter);
        assert_eq!(info.title_without_namespace(14, "Категория:Градове"), "Градове");
        assert_eq!(
            info.title_without_namespace(0, "Star Wars: Episode I"),
            "Star Wars: Episode I"
        );
    }
}
