//! Expanding a parsed page: known templates become their text, parser
//! functions and magic words are evaluated, everything else is dropped.
//!
//! Arguments of a template wikitok does not know are never expanded (an
//! infobox costs its parse, nothing more); parser function branches are
//! expanded only when taken. Every page has a budget — nesting depth, nodes
//! visited, bytes produced (counted over every buffer of the page, so a
//! template that repeats its argument cannot double its way past it) —
//! after which the remaining calls expand to nothing, so no template soup,
//! recursion or blow-up can slow a page down.
//!
//! A region (`{{refbegin}} … {{refend}}`, see the template files'
//! `[regions]`) is dropped with what it encloses: a list styled as
//! references is left out as references are. It ends at its closing call,
//! or at the next heading when never closed.

use super::functions;
use super::parse::{CallKind, Node, NodeId, Tree};
use super::{Date, Definition, Templates};

/// How deep calls nest (MediaWiki's own limit is 40).
pub const MAX_DEPTH: usize = 40;

/// Marks an error (`#expr` of something not an expression) for `#iferror`;
/// removed from the final text.
pub const ERROR_MARK: char = '\u{E000}';

/// The page being rendered, for `PAGENAME`, `CURRENTYEAR` and friends.
#[derive(Debug, Clone, Copy)]
pub struct PageContext<'a> {
    pub title: &'a str,
    /// "Now" for the page: the dump's date (never the machine's clock, so a
    /// re-run gives the same text).
    pub today: Date,
}

/// Arguments of a call: `(name, value)`, positional ones named `1`, `2`, ...
/// (a later duplicate wins, as in MediaWiki).
#[derive(Debug, Default)]
pub struct Args {
    pairs: Vec<(String, String)>,
}

impl Args {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Positional argument `n` (from 1), trimmed; empty counts as absent.
    pub fn positional(&self, n: usize) -> Option<&str> {
        self.get(&n.to_string()).map(str::trim).filter(|v| !v.is_empty())
    }

    /// Named argument, trimmed; empty counts as absent.
    pub fn named(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// The positional arguments `1`, `2`, ... up to the first missing one,
    /// untrimmed, in one pass (a later duplicate wins): templates with
    /// thousands of arguments cost linear time, not quadratic.
    pub fn positionals(&self) -> Vec<&str> {
        let mut by_number: std::collections::BTreeMap<usize, &str> = std::collections::BTreeMap::new();
        for (name, value) in &self.pairs {
            if let Ok(n) = name.parse::<usize>() {
                if n > 0 && name.bytes().all(|b| b.is_ascii_digit()) {
                    by_number.insert(n, value.as_str());
                }
            }
        }
        let mut values = Vec::new();
        for (expected, (n, value)) in (1..).zip(by_number) {
            if n != expected {
                break;
            }
            values.push(value);
        }
        values
    }

    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Args {
        Args {
            pairs: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }
}

/// Expands every call in `source`; see the module docs.
pub fn expand(source: &str, templates: &Templates, page: &PageContext) -> String {
    if !source.contains("{{") {
        return source.to_string();
    }
    let tree = Tree::parse(source);
    let mut expander = Expander {
        templates,
        page,
        steps_left: 200_000 + source.len(),
        bytes_left: output_budget(source),
    };
    let mut out = String::with_capacity(source.len());
    let mut closing: Option<String> = None;
    for (index, &id) in tree.root.iter().enumerate() {
        let name = plain_call_name(&tree, id);
        match (&closing, name) {
            (Some(closer), Some(name)) if templates.same_template(name, closer) => closing = None,
            (Some(_), None) => {
                // A region left open ends at the next section, as the
                // block it opens would in MediaWiki's HTML.
                if let Node::Text { start, end } = tree.nodes[id as usize] {
                    if let Some(heading) = tree.source[start..end].find("\n=") {
                        closing = None;
                        expander.produce(&mut out, &tree.source[start + heading..end]);
                    }
                }
            }
            (Some(_), Some(_)) => {}
            (None, Some(name)) => match templates.region_closer(name) {
                Some(closer) => closing = Some(closer.to_string()),
                None => expander.nodes(&tree, &tree.root[index..=index], None, 0, &mut out),
            },
            (None, None) => expander.nodes(&tree, &tree.root[index..=index], None, 0, &mut out),
        }
    }
    if out.contains(ERROR_MARK) {
        out.retain(|c| c != ERROR_MARK);
    }
    out
}

/// The name of a top-level template call written as plain text
/// (`{{refbegin|30em}}` → `refbegin`).
fn plain_call_name<'s>(tree: &Tree<'s>, id: NodeId) -> Option<&'s str> {
    match &tree.nodes[id as usize] {
        Node::Call {
            kind: CallKind::Template,
            parts,
        } => plain_text(tree, &parts[0]).map(str::trim),
        _ => None,
    }
}

/// A part that is one piece of plain text (most template names): no
/// expansion, no copy.
fn plain_text<'s>(tree: &Tree<'s>, part: &[NodeId]) -> Option<&'s str> {
    match part {
        [only] if matches!(tree.nodes[*only as usize], Node::Text { .. }) => Some(tree.text(*only)),
        _ => None,
    }
}

struct Expander<'a> {
    templates: &'a Templates,
    page: &'a PageContext<'a>,
    steps_left: usize,
    /// Bytes the page may still produce from text and argument values.
    bytes_left: usize,
}

/// How many bytes expanding `source` may produce: four times the page, at
/// least 1 MiB.
pub fn output_budget(source: &str) -> usize {
    (4 * source.len()).max(1 << 20)
}

impl Expander<'_> {
    fn exhausted(&self) -> bool {
        self.steps_left == 0 || self.bytes_left == 0
    }

    /// Appends `text` if the page's byte budget allows it; otherwise spends
    /// the budget, so every later call expands to nothing.
    fn produce(&mut self, out: &mut String, text: &str) {
        if text.len() > self.bytes_left {
            self.bytes_left = 0;
            return;
        }
        self.bytes_left -= text.len();
        out.push_str(text);
    }

    fn nodes(&mut self, tree: &Tree, ids: &[NodeId], args: Option<&Args>, depth: usize, out: &mut String) {
        for &id in ids {
            if self.exhausted() {
                return;
            }
            self.steps_left -= 1;
            match &tree.nodes[id as usize] {
                Node::Text { .. } | Node::Static(_) => self.produce(out, tree.text(id)),
                Node::Call { kind, parts } if depth < MAX_DEPTH => match kind {
                    CallKind::Parameter => self.parameter(tree, parts, args, depth, out),
                    CallKind::Template => self.call(tree, parts, args, depth, out),
                },
                Node::Call { .. } => {}
            }
        }
    }

    fn string(&mut self, tree: &Tree, ids: &[NodeId], args: Option<&Args>, depth: usize) -> String {
        let mut out = String::new();
        self.nodes(tree, ids, args, depth, &mut out);
        out
    }

    /// `{{{name|default}}}`: the argument, its default, or nothing (a page
    /// is not a template: its own `{{{1}}}` shows nothing).
    fn parameter(&mut self, tree: &Tree, parts: &[Vec<NodeId>], args: Option<&Args>, depth: usize, out: &mut String) {
        let name = self.string(tree, &parts[0], args, depth + 1);
        if let Some(value) = args.and_then(|a| a.get(name.trim())) {
            self.produce(out, value);
        } else if let Some(default) = parts.get(1) {
            self.nodes(tree, default, args, depth + 1, out);
        }
    }

    /// `{{...}}`: a parser function, a magic word, or a template.
    fn call(&mut self, tree: &Tree, parts: &[Vec<NodeId>], args: Option<&Args>, depth: usize, out: &mut String) {
        let expanded;
        let head = match plain_text(tree, &parts[0]) {
            Some(name) => name,
            None => {
                expanded = self.string(tree, &parts[0], args, depth + 1);
                &expanded
            }
        }
        .trim();
        if let Some((function, first)) = functions::split_function(head) {
            let call = FunctionCall {
                tree,
                rest: &parts[1..],
                args,
                depth: depth + 1,
            };
            self.function(&function, first.trim(), &call, out);
            return;
        }
        if let Some(value) = functions::magic_word(head, self.page) {
            out.push_str(&value);
            return;
        }
        if let Some(ordinal) = self.templates.numbered_ordinal(head) {
            // `{{23e|place}}` → `23e place`.
            let call_args = self.arguments(tree, &parts[1..], args, depth + 1);
            self.produce(out, ordinal);
            if let Some(noun) = call_args.positional(1) {
                self.produce(out, " ");
                self.produce(out, noun);
            }
            return;
        }
        let Some(definition) = self.templates.lookup(head) else {
            return;
        };
        let call_args = self.arguments(tree, &parts[1..], args, depth + 1);
        match definition {
            Definition::Wikitext(body) => {
                let body_tree = Tree::parse(body);
                self.nodes(&body_tree, &body_tree.root, Some(&call_args), depth + 1, out);
            }
            Definition::Builtin(builtin) => {
                let text = builtin.render(&call_args, self.templates);
                self.produce(out, &text);
            }
        }
    }

    /// The arguments of a template call, expanded in the caller's frame.
    fn arguments(&mut self, tree: &Tree, parts: &[Vec<NodeId>], args: Option<&Args>, depth: usize) -> Args {
        let mut result = Args::default();
        let mut position = 0;
        for part in parts {
            match self.named_part(tree, part, args, depth) {
                (Some(name), value) => result.pairs.push((name.trim().to_string(), value.trim().to_string())),
                (None, value) => {
                    position += 1;
                    result.pairs.push((position.to_string(), value));
                }
            }
        }
        result
    }

    /// A part split at its first `=` outside nested calls: `(name, value)`,
    /// or `(None, value)` without one.
    fn named_part(
        &mut self,
        tree: &Tree,
        part: &[NodeId],
        args: Option<&Args>,
        depth: usize,
    ) -> (Option<String>, String) {
        let split = part
            .iter()
            .enumerate()
            .find_map(|(index, &id)| match tree.nodes[id as usize] {
                Node::Text { .. } => tree.text(id).find('=').map(|at| (index, at)),
                _ => None,
            });
        let Some((index, at)) = split else {
            return (None, self.string(tree, part, args, depth));
        };
        let mut name = self.string(tree, &part[..index], args, depth);
        let text = tree.text(part[index]);
        name.push_str(&text[..at]);
        let mut value = text[at + 1..].to_string();
        self.nodes(tree, &part[index + 1..], args, depth, &mut value);
        (Some(name), value)
    }

    fn function(&mut self, name: &str, first: &str, call: &FunctionCall, out: &mut String) {
        let arg = |this: &mut Self, n: usize| -> Option<String> {
            call.rest
                .get(n)
                .map(|part| this.string(call.tree, part, call.args, call.depth).trim().to_string())
        };
        match name {
            "#if" => {
                let branch = if first.is_empty() { 1 } else { 0 };
                out.push_str(&arg(self, branch).unwrap_or_default());
            }
            "#ifeq" => {
                let other = arg(self, 0).unwrap_or_default();
                let branch = if functions::values_equal(first, &other) { 1 } else { 2 };
                out.push_str(&arg(self, branch).unwrap_or_default());
            }
            "#iferror" => {
                if first.contains(ERROR_MARK) {
                    out.push_str(&arg(self, 0).unwrap_or_default());
                } else {
                    out.push_str(&arg(self, 1).unwrap_or_else(|| first.to_string()));
                }
            }
            "#ifexpr" => {
                let branch = match functions::evaluate(first) {
                    Ok(value) if value != 0.0 => 0,
                    Ok(_) => 1,
                    Err(_) => return out.push(ERROR_MARK),
                };
                out.push_str(&arg(self, branch).unwrap_or_default());
            }
            "#switch" => self.switch(first, call, out),
            "#expr" => match functions::evaluate(first) {
                Ok(value) => out.push_str(&functions::format_number(value)),
                Err(_) => out.push(ERROR_MARK),
            },
            "#time" | "#timel" => {
                let date = arg(self, 0).unwrap_or_default();
                match functions::format_time(first, &date, self.page.today, self.templates) {
                    Some(text) => out.push_str(&text),
                    None => out.push(ERROR_MARK),
                }
            }
            "#language" => {
                if let Some(language_name) = self.templates.language_name(first) {
                    out.push_str(language_name);
                }
            }
            // `{{#tag:ref|...}}` is a reference; other tags keep their content.
            "#tag"
                if !matches!(
                    first.to_ascii_lowercase().as_str(),
                    "ref" | "references" | "math" | "gallery"
                ) =>
            {
                out.push_str(&arg(self, 0).unwrap_or_default());
            }
            "formatnum" => {
                let raw = arg(self, 0).is_some_and(|flag| flag.eq_ignore_ascii_case("R"));
                out.push_str(&functions::formatnum(first, raw, self.templates));
            }
            "lc" => out.push_str(&first.to_lowercase()),
            "uc" => out.push_str(&first.to_uppercase()),
            "lcfirst" => out.push_str(&functions::change_first(first, false)),
            "ucfirst" => out.push_str(&functions::change_first(first, true)),
            "padleft" | "padright" => {
                let length = arg(self, 0).and_then(|l| l.parse::<usize>().ok()).unwrap_or(0).min(500);
                let pad = arg(self, 1)
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| "0".to_string());
                out.push_str(&functions::pad(first, length, &pad, name == "padleft"));
            }
            "plural" => {
                // `{{plural:n|one|many}}`, English-style.
                let one = functions::evaluate(first).is_ok_and(|n| n.abs() == 1.0);
                let branch = if one { 0 } else { 1 };
                out.push_str(&arg(self, branch).or_else(|| arg(self, 0)).unwrap_or_default());
            }
            // Page-name variants with an argument, `{{PAGENAME:x}}`.
            "pagename" | "fullpagename" | "basepagename" | "subpagename" | "rootpagename" => out.push_str(first),
            // Everything else (#invoke, #property, #statements, int, ...) is
            // beyond an offline renderer: nothing.
            _ => {}
        }
    }

    /// `{{#switch:value|a=x|b|c=y|#default=z|last}}`.
    fn switch(&mut self, value: &str, call: &FunctionCall, out: &mut String) {
        let mut matched = false;
        let mut default: Option<String> = None;
        let count = call.rest.len();
        for (index, part) in call.rest.iter().enumerate() {
            match self.named_part(call.tree, part, call.args, call.depth) {
                (Some(key), result) => {
                    let key = key.trim();
                    if matched || functions::values_equal(key, value) {
                        return out.push_str(result.trim());
                    }
                    if key == "#default" {
                        default = Some(result.trim().to_string());
                    }
                }
                (None, key) => {
                    let key = key.trim();
                    if index + 1 == count {
                        // A last part without `=` is the default.
                        return out.push_str(if matched { "" } else { key });
                    }
                    matched |= functions::values_equal(key, value);
                }
            }
        }
        if let Some(default) = default {
            out.push_str(&default);
        }
    }
}

/// A parser function's arguments after the first, expanded only on demand.
struct FunctionCall<'t, 's> {
    tree: &'t Tree<'s>,
    rest: &'t [Vec<NodeId>],
    args: Option<&'t Args>,
    depth: usize,
}
