//! The first passes: comments, `<nowiki>`, extension tags, HTML tags.
//!
//! Tag names are matched case-insensitively on an ASCII-lowercased copy of
//! the text (same byte offsets), and a tag whose close is not found is
//! remembered, so a page of a thousand unclosed `<ref>`s stays linear.

use std::collections::HashSet;

use memchr::memmem;

/// Extension tags whose content is not wikitext (MediaWiki, and
/// mwparserfromhell, do not look for links in them).
pub const NOT_WIKITEXT: &[&str] = &[
    "math",
    "chem",
    "ce",
    "score",
    "gallery",
    "timeline",
    "graph",
    "templatedata",
    "templatestyles",
    "syntaxhighlight",
    "source",
    "hiero",
    "imagemap",
    "mapframe",
    "maplink",
    "categorytree",
    "inputbox",
    "charinsert",
];

/// Tags whose content is wikitext but not the page's prose: also dropped,
/// with their content, when rendering text.
pub const NOT_PROSE: &[&str] = &["ref", "references", "indicator", "includeonly", "table", "quiz"];

/// HTML and extension tags removed (content kept) after the other passes,
/// besides [`LINE_BREAKING_TAGS`] and [`INLINE_TAGS`]: boxes (cells,
/// captions, extension tags) whose text stands apart from its neighbours.
/// Anything else in angle brackets is text, as MediaWiki shows it.
const BLOCK_TAGS: &[&str] = &[
    "hr",
    "table",
    "td",
    "th",
    "caption",
    "thead",
    "tbody",
    "tfoot",
    "pre",
    "ref",
    "references",
    "section",
    "templatestyles",
    "math",
    "gallery",
    "score",
    "chem",
    "ce",
    "timeline",
    "graph",
    "syntaxhighlight",
    "source",
    "hiero",
    "imagemap",
    "mapframe",
    "maplink",
    "indicator",
    "categorytree",
    "inputbox",
    "charinsert",
    "languages",
    "quiz",
    "meta",
    "link",
];

/// Tags that break a line where they stand.
const LINE_BREAKING_TAGS: &[&str] = &[
    "br",
    "p",
    "div",
    "li",
    "tr",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "dl",
    "dd",
    "dt",
    "poem",
    "center",
];

/// Characters that would otherwise be read as markup, written as numeric
/// character references: protected `<nowiki>` text goes through the later
/// passes untouched and is decoded with the other entities at the end.
fn protect(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '[' | ']' | '{' | '}' | '\'' | '<' | '>' | '|' | '=' | '*' | '#' | ':' | ';' | '_' | '!' | '-' => {
                out.push_str(&format!("&#{};", c as u32));
            }
            _ => out.push(c),
        }
    }
}

/// Removes `<!-- comments -->` (an unclosed one runs to the end, as in
/// MediaWiki) and replaces `<nowiki>`/`<pre>` blocks with their content,
/// protected from the later passes.
pub fn strip_comments_and_protect_nowiki(source: &str) -> String {
    let lower = source.to_ascii_lowercase();
    let mut out = String::with_capacity(source.len());
    let mut unclosed: HashSet<&str> = HashSet::new();
    let mut copied = 0;
    let mut at = 0;
    while let Some(found) = memchr::memchr(b'<', &lower.as_bytes()[at..]) {
        let start = at + found;
        let rest = &lower[start..];
        if rest.starts_with("<!--") {
            out.push_str(&source[copied..start]);
            let end = memmem::find(&lower.as_bytes()[start + 4..], b"-->").map_or(source.len(), |i| start + 4 + i + 3);
            copied = end;
            at = end;
            continue;
        }
        let Some(tag) = parse_tag(&lower, start) else {
            at = start + 1;
            continue;
        };
        if tag.closing || !matches!(tag.name, "nowiki" | "pre") {
            at = start + 1;
            continue;
        }
        out.push_str(&source[copied..start]);
        if tag.self_closing {
            copied = tag.end;
            at = tag.end;
            continue;
        }
        let close = if unclosed.contains(tag.name) {
            None
        } else {
            find_close(&lower, tag.end, tag.name)
        };
        match close {
            Some((content_end, after)) => {
                protect(&source[tag.end..content_end], &mut out);
                copied = after;
                at = after;
            }
            None => {
                unclosed.insert(tag.name);
                copied = tag.end;
                at = tag.end;
            }
        }
    }
    out.push_str(&source[copied..]);
    out
}

/// Removes the tags named in any of `lists` with everything between them and
/// their close (a self-closing or unclosed tag: just the tag).
pub fn drop_tag_blocks(source: &str, lists: &[&[&str]]) -> String {
    let lower = source.to_ascii_lowercase();
    let mut out = String::with_capacity(source.len());
    let mut unclosed: HashSet<&str> = HashSet::new();
    let mut copied = 0;
    let mut at = 0;
    while let Some(found) = memchr::memchr(b'<', &lower.as_bytes()[at..]) {
        let start = at + found;
        let Some(tag) = parse_tag(&lower, start).filter(|t| lists.iter().any(|names| names.contains(&t.name))) else {
            at = start + 1;
            continue;
        };
        out.push_str(&source[copied..start]);
        let mut end = tag.end;
        if !tag.closing && !tag.self_closing && !unclosed.contains(tag.name) {
            match find_close(&lower, tag.end, tag.name) {
                Some((_, after)) => end = after,
                None => {
                    unclosed.insert(tag.name);
                }
            }
        }
        copied = end;
        at = end;
    }
    out.push_str(&source[copied..]);
    out
}

/// Removes known HTML and extension tags, keeping their content; tags that
/// break lines leave a line break.
pub fn strip_html_tags(source: &str) -> String {
    let lower = source.to_ascii_lowercase();
    let mut out = String::with_capacity(source.len());
    let mut copied = 0;
    let mut at = 0;
    while let Some(found) = memchr::memchr(b'<', &lower.as_bytes()[at..]) {
        let start = at + found;
        let Some(tag) = parse_tag(&lower, start).filter(|t| is_known_tag(t.name)) else {
            at = start + 1;
            continue;
        };
        out.push_str(&source[copied..start]);
        if LINE_BREAKING_TAGS.contains(&tag.name) {
            out.push('\n');
        } else if BLOCK_TAGS.contains(&tag.name) {
            // A table cell or other box: its text is apart from its neighbours'.
            out.push(' ');
        }
        copied = tag.end;
        at = tag.end;
    }
    out.push_str(&source[copied..]);
    out
}

fn is_known_tag(name: &str) -> bool {
    INLINE_TAGS.contains(&name) || LINE_BREAKING_TAGS.contains(&name) || BLOCK_TAGS.contains(&name)
}

/// Tags that only style text within a line: they leave nothing, so words
/// stay whole as a browser shows them (`CH<sub>4</sub>` → `CH4`,
/// `10<sup>6</sup>` → `106`, as MediaWiki's own search text has them).
const INLINE_TAGS: &[&str] = &[
    "b",
    "i",
    "u",
    "s",
    "del",
    "ins",
    "big",
    "small",
    "sub",
    "sup",
    "span",
    "font",
    "cite",
    "code",
    "tt",
    "kbd",
    "var",
    "samp",
    "abbr",
    "dfn",
    "q",
    "em",
    "strong",
    "strike",
    "mark",
    "ruby",
    "rb",
    "rp",
    "rt",
    "rtc",
    "bdi",
    "bdo",
    "data",
    "time",
    "wbr",
    "nowiki",
    "noinclude",
    "onlyinclude",
    "includeonly",
    "langconvert",
    "translate",
    "tvar",
];

/// One tag at `start` of the lowercased text.
struct Tag<'a> {
    name: &'a str,
    closing: bool,
    self_closing: bool,
    /// The byte after the tag's `>`.
    end: usize,
}

/// Parses `<name ...>`, `</name>` or `<name .../>` at `start`; attributes may
/// not contain `<` and the tag is at most 4 KB long.
fn parse_tag(lower: &str, start: usize) -> Option<Tag<'_>> {
    let bytes = lower.as_bytes();
    let mut i = start + 1;
    let closing = bytes.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    let name_start = i;
    while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
        i += 1;
    }
    if i == name_start || !bytes[name_start].is_ascii_alphabetic() {
        return None;
    }
    let name = &lower[name_start..i];
    match bytes.get(i) {
        Some(b'>' | b'/') => {}
        Some(c) if c.is_ascii_whitespace() => {}
        _ => return None,
    }
    let limit = bytes.len().min(i + 4096);
    let close = memchr::memchr2(b'>', b'<', &bytes[i..limit]).map(|p| i + p)?;
    if bytes[close] != b'>' {
        return None;
    }
    Some(Tag {
        name,
        closing,
        self_closing: close > start && bytes[close - 1] == b'/',
        end: close + 1,
    })
}

/// Finds `</name ...>` from `from`: (where the content ends, the byte after the close).
fn find_close(lower: &str, from: usize, name: &str) -> Option<(usize, usize)> {
    let needle = format!("</{name}");
    let finder = memmem::Finder::new(needle.as_bytes());
    let bytes = lower.as_bytes();
    let mut at = from;
    while let Some(found) = finder.find(&bytes[at..]) {
        let start = at + found;
        let after_name = start + needle.len();
        match bytes.get(after_name) {
            Some(b'>') => return Some((start, after_name + 1)),
            Some(c) if c.is_ascii_whitespace() => {
                let close = memchr::memchr(b'>', &bytes[after_name..])?;
                return Some((start, after_name + close + 1));
            }
            None => return None,
            _ => at = after_name,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_nowiki() {
        assert_eq!(strip_comments_and_protect_nowiki("a<!-- x -->b<!-- open"), "ab");
        assert_eq!(
            strip_comments_and_protect_nowiki("<NoWiki>[[x]]</nowiki>"),
            "&#91;&#91;x&#93;&#93;"
        );
        assert_eq!(strip_comments_and_protect_nowiki("a<nowiki/>b<nowiki>c"), "abc");
    }

    #[test]
    fn tag_blocks() {
        let names: &[&[&str]] = &[NOT_WIKITEXT, NOT_PROSE];
        assert_eq!(drop_tag_blocks("a<ref name=x>b</ref >c<ref name=y/>d", names), "acd");
        assert_eq!(drop_tag_blocks("a<REF>b</Ref>c", names), "ac");
        assert_eq!(drop_tag_blocks("a<ref>b<ref>c", names), "abc");
        assert_eq!(drop_tag_blocks("a <references /> b", names), "a  b");
        assert_eq!(drop_tag_blocks("x < y and <refx>", names), "x < y and <refx>");
    }

    #[test]
    fn html_tags() {
        assert_eq!(strip_html_tags("a<br/>b <span style=\"x\">c</span>"), "a\nb c");
        assert_eq!(
            strip_html_tags("CH<sub>4</sub> and 10<sup>6</sup> km<sup>2</sup>"),
            "CH4 and 106 km2"
        );
        assert_eq!(strip_html_tags("<td>a</td><td>b</td>"), " a  b ");
        assert_eq!(strip_html_tags("a <Tab> key, 1<2"), "a <Tab> key, 1<2");
    }
}
