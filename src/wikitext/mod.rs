//! Wikitext → plain text, headings, categories and links, for MediaWiki XML
//! dumps (CirrusSearch dumps carry these already rendered by Wikipedia).
//!
//! What people train on is prose, so the renderer keeps what a reader of the
//! page sees and that the wikitext itself holds: paragraphs and list items
//! as lines, link labels, the text inside formatting. Section titles go to
//! `headings`, not `text`, as in CirrusSearch. It renders the templates that
//! write prose (dates, quantities, language wrappers, citations outside
//! references — see [`templates`]) and drops every other template
//! (infoboxes, navboxes, maintenance tags), references, tables, maths,
//! galleries, comments, file/image links and category/interlanguage links.
//!
//! It is a sequence of linear passes over the page, not a parse tree, so no
//! page can make it slow: every bracket pair is matched with one stack pass,
//! every tag close is searched for at most once per tag name, and link
//! labels are rendered recursively only to [`MAX_LINK_DEPTH`].
//!
//! - [`preprocess`]: comments, `<nowiki>`/`<pre>` (their content protected
//!   from the later passes), extension tags whose content is dropped;
//! - [`templates`]: templates, parser functions and magic words expanded
//!   (known prose templates) or dropped (all others), within a page budget;
//! - [`blocks`]: tables (and stray template markup);
//! - [`links`]: `[[wikilinks]]` and `[external links]`, and which targets
//!   are categories, files, interwiki or interlanguage links;
//! - [`quotes`]: MediaWiki's bold/italic apostrophe rules;
//! - this module: lines (headings, lists), tags, entities, whitespace.

pub mod blocks;
pub mod links;
pub mod preprocess;
pub mod quotes;
pub mod templates;

pub use links::{LinkRules, PageLinks, WikiNamespace};
pub use templates::{Date, PageContext, Templates, UserTemplates};

/// Labels of links inside labels (`[[File:x|a [[b|c]]]]`) are rendered to
/// this depth; deeper brackets are dropped.
pub const MAX_LINK_DEPTH: usize = 8;

/// A page rendered to plain text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The page's paragraphs and list items, one per line, without markup
    /// and without section titles: CirrusSearch's `text` has no headings
    /// (they are its `heading` field), and the same SQL must mean the same
    /// on both dump families.
    pub text: String,
    /// The lines before the first heading.
    pub opening_text: String,
    /// Section titles as plain text, in order.
    pub headings: Vec<String>,
}

/// How a wiki's pages read: its links and its templates.
#[derive(Debug, Clone)]
pub struct WikiRules {
    pub links: LinkRules,
    pub templates: Templates,
}

impl WikiRules {
    /// The English Wikipedia's.
    pub fn english() -> WikiRules {
        WikiRules {
            links: LinkRules::english(),
            templates: Templates::english(),
        }
    }
}

/// Renders `source` (wikitext) of the page `page` to plain text.
pub fn render(source: &str, rules: &WikiRules, page: &PageContext) -> Rendered {
    let protected = preprocess::strip_comments_and_protect_nowiki(source);
    let without_tags = preprocess::drop_tag_blocks(&protected, &[preprocess::NOT_WIKITEXT, preprocess::NOT_PROSE]);
    let expanded = templates::expand(&without_tags, &rules.templates, page);
    let without_blocks = blocks::drop_templates_and_tables(&expanded);
    let mut inline = String::with_capacity(without_blocks.len());
    links::render_links(&without_blocks, &rules.links, &mut inline, 0);
    let without_html = preprocess::strip_html_tags(&inline);
    render_lines(&without_html)
}

/// The categories and links of `source`, as a CirrusSearch dump lists them.
pub fn page_links(source: &str, rules: &LinkRules) -> PageLinks {
    let protected = preprocess::strip_comments_and_protect_nowiki(source);
    let parsed = preprocess::drop_tag_blocks(&protected, &[preprocess::NOT_WIKITEXT]);
    links::collect_links(&parsed, rules)
}

/// Line structure: headings, list markers, quotes, entities, whitespace.
fn render_lines(text: &str) -> Rendered {
    let mut rendered = Rendered::default();
    let mut seen_heading = false;
    let mut line_out = String::new();
    for raw_line in text.split('\n') {
        let line = raw_line.trim();
        if line.is_empty() || is_horizontal_rule(line) || line.starts_with('|') || line.starts_with('!') {
            continue;
        }
        let (is_heading, body) = match heading_text(line) {
            Some(title) => (true, title),
            None => (false, line.trim_start_matches(['*', '#', ':', ';']).trim_start()),
        };
        line_out.clear();
        finish_line(body, &mut line_out);
        if line_out.is_empty() {
            continue;
        }
        if is_heading {
            seen_heading = true;
            rendered.headings.push(line_out.clone());
            continue;
        }
        if !seen_heading {
            if !rendered.opening_text.is_empty() {
                rendered.opening_text.push('\n');
            }
            rendered.opening_text.push_str(&line_out);
        }
        if !rendered.text.is_empty() {
            rendered.text.push('\n');
        }
        rendered.text.push_str(&line_out);
    }
    rendered
}

/// `== Title ==` → `Title` (the shorter run of `=` decides the level; the
/// rest is part of the title, as MediaWiki does).
fn heading_text(line: &str) -> Option<&str> {
    let opening = line.bytes().take_while(|&b| b == b'=').count();
    let closing = line.bytes().rev().take_while(|&b| b == b'=').count();
    if opening == 0 || closing == 0 || line.len() < 3 || opening == line.len() {
        return None;
    }
    let level = opening.min(closing).min(6);
    Some(line[level..line.len() - level].trim())
}

fn is_horizontal_rule(line: &str) -> bool {
    line.len() >= 4 && line.bytes().all(|b| b == b'-')
}

/// Quotes, magic words, stray brackets, entities and whitespace of one line.
fn finish_line(line: &str, out: &mut String) {
    let unquoted = quotes::strip_quotes(line);
    let cleaned = drop_leftover_markup(&unquoted);
    let decoded = html_escape::decode_html_entities(&cleaned);
    let mut pending_space = false;
    for c in decoded.chars() {
        if c.is_whitespace() || c == '\u{a0}' {
            pending_space = !out.is_empty();
        } else {
            if std::mem::take(&mut pending_space) {
                out.push(' ');
            }
            out.push(c);
        }
    }
}

/// Removes behaviour switches (`__NOTOC__`) and brackets left unmatched by
/// the earlier passes (`]]` with no `[[`), which MediaWiki would show as
/// literal text but which are noise in a corpus.
fn drop_leftover_markup(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &line[i..];
        if let Some(len) = behaviour_switch_len(rest) {
            i += len;
            continue;
        }
        if ["[[", "]]", "{{", "}}", "{|", "|}"].iter().any(|m| rest.starts_with(m)) {
            i += 2;
            continue;
        }
        let c = rest.chars().next().expect("in bounds");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// `__NOTOC__`, `__TOC__`, `__NOEDITSECTION__`, ...: upper-case letters
/// between double underscores.
fn behaviour_switch_len(rest: &str) -> Option<usize> {
    let inner = rest.strip_prefix("__")?;
    let letters = inner.bytes().take_while(u8::is_ascii_uppercase).count();
    (letters >= 2 && inner[letters..].starts_with("__")).then_some(letters + 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> PageContext<'static> {
        PageContext {
            title: "Test page",
            today: Date::new(2026, 12, 1).unwrap(),
        }
    }

    fn english(source: &str) -> Rendered {
        render(source, &WikiRules::english(), &page())
    }

    fn text(source: &str) -> String {
        english(source).text
    }

    #[test]
    fn links_become_their_labels_and_markup_goes() {
        assert_eq!(
            text("The [[Jedi]] and the [[A#b|c]] of [[Sith]]s."),
            "The Jedi and the c of Siths."
        );
        assert_eq!(text("''Iliad'''s hero"), "Iliad's hero");
        assert_eq!(
            text("'''Bold''' and ''italic'' and '''''both'''''"),
            "Bold and italic and both"
        );
        assert_eq!(
            text("A{{sfn|x}} b<ref name=\"n\">{{cite web|url=x|title=[[T]]}} ref</ref> c<ref name=\"n\"/>."),
            "A b c."
        );
        assert_eq!(text("x <!-- hidden [[y]] --> z"), "x z");
        assert_eq!(text("[[File:A.jpg|thumb|A [[b]] caption]]Text"), "Text");
        assert_eq!(text("Text.\n[[Category:Foo|bar]]\n[[fr:Texte]]"), "Text.");
        assert_eq!(
            text("[http://example.org Example site] and [http://x.org]"),
            "Example site and"
        );
        assert_eq!(text("a &amp; b &lt; c&nbsp;d &mdash; e"), "a & b < c d — e");
        assert_eq!(text("<nowiki>[[not a link]] ''x''</nowiki>"), "[[not a link]] ''x''");
        assert_eq!(text("E = <math>mc^2</math>."), "E = .");
        assert_eq!(text("a <small>b</small><br/>c"), "a b\nc");
        assert_eq!(text("__NOTOC__\nHello"), "Hello");
    }

    #[test]
    fn lines_headings_and_opening_text() {
        let page = english(
            "Intro ''one''.\n\n* item [[a|A]]\n# two\n== History ==\nOld.\n=== Early '''days''' ===\nx\n{|\n| cell\n|}\nafter",
        );
        assert_eq!(page.text, "Intro one.\nitem A\ntwo\nOld.\nx\nafter");
        assert_eq!(page.opening_text, "Intro one.\nitem A\ntwo");
        assert_eq!(page.headings, ["History", "Early days"]);
    }

    /// Prose templates become their text and go through the later passes
    /// (links, quotes); the rest are dropped with their arguments.
    #[test]
    fn prose_templates_are_rendered_in_place() {
        assert_eq!(
            text("In {{as of|2020|5|lc=y}}, {{lang|la|''[[Carpe diem|carpe]]''}} {{nowrap|{{convert|3|mi|km}}}} away.<ref>{{Cite web|title=[[T]]}}</ref>"),
            "In as of May 2020, carpe 3 miles (4.8 km) away."
        );
        assert_eq!(
            text("{{Infobox person|born={{birth date|1879|3|14}}}}\n'''A''' ({{Birth date|1879|3|14|df=yes}} – {{death date and age|1955|4|18|1879|3|14}}) was."),
            "A (14 March 1879 – April 18, 1955 (aged 76)) was."
        );
        assert_eq!(
            text("{{ill|Otto Stern|de}} met {{PAGENAME}}."),
            "Otto Stern met Test page."
        );
        // Spaces that #if would trim are written &#32; in the data files.
        assert_eq!(
            text("{{nihongo|Tokyo Tower|東京タワー|Tōkyō tawā}}, {{HMS|Victory}}"),
            "Tokyo Tower (東京タワー, Tōkyō tawā), HMS Victory"
        );
    }

    /// A bibliography is prose a reader sees; the same citation inside a
    /// reference is not (CirrusSearch leaves references out).
    #[test]
    fn citations_render_outside_references_only() {
        let page = english(
            "Text.<ref>{{cite book|title=Hidden}}</ref>\n== Works cited ==\n* {{cite book|last=Pais|first=Abraham|title=[[Subtle is the Lord]]|publisher=Oxford University Press|year=1982|isbn=0-19-853907-X}}\n* {{coord|40|-100}}",
        );
        assert_eq!(
            page.text,
            "Text.\nPais, Abraham (1982). Subtle is the Lord. Oxford University Press. ISBN 0-19-853907-X.\n40°N 100°W / 40°N 100°W / 40; -100"
        );
        assert_eq!(page.headings, ["Works cited"]);
    }

    #[test]
    fn nested_templates_and_tables_are_dropped_whole() {
        assert_eq!(text("a {{x|{{y|{{{1|}}}}}|z}} b"), "a b");
        assert_eq!(text("a\n{| class=x\n|-\n| {{t}} || c\n{|\n| inner\n|}\n|}\nb"), "a\nb");
        assert_eq!(text("unclosed {{x and [[y"), "unclosed x and y");
    }

    /// Random wikitext-like input: no panic, no hang, no markup left.
    #[test]
    fn random_wikitext_never_panics() {
        let pieces = [
            "[[",
            "]]",
            "{{",
            "}}",
            "{|",
            "|}",
            "|",
            "''",
            "'''",
            "<ref>",
            "</ref>",
            "<!--",
            "-->",
            "<nowiki>",
            "</nowiki>",
            "\n",
            "==",
            "a",
            "é",
            "😀",
            " ",
            "[",
            "]",
            "[éééé",
            "[http://é ",
            ":",
            "Category:",
            "File:",
            "&amp;",
            "&",
            "<",
            ">",
            "<math>",
            "#",
            "*",
            "http://x ",
            "<br/>",
            "__TOC__",
            "=",
        ];
        let mut state = 0x1234_5678_9abc_def0_u64;
        for _ in 0..3000 {
            let mut source = String::new();
            let len = (state % 60) as usize;
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                source.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            let page = english(&source);
            for markup in ["[[", "]]", "{{", "}}", "<ref", "<!--"] {
                assert!(
                    !page.text.contains(markup),
                    "{markup:?} in {:?} from {source:?}",
                    page.text
                );
            }
            let _ = page_links(&source, &LinkRules::english());
        }
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let source = format!("{}x{}", "[[a|".repeat(50_000), "]]".repeat(50_000));
        let page = english(&source);
        assert!(!page.text.contains("[["));
        let braces = format!("{}x{}", "{{".repeat(100_000), "}}".repeat(100_000));
        assert_eq!(text(&braces), "");
        let unclosed_refs = "<ref>a ".repeat(20_000);
        assert!(!text(&unclosed_refs).contains("<ref"));
    }
}
