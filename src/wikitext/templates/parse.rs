//! The template structure of wikitext, as MediaWiki's preprocessor reads it:
//! `{{name|arg|key=value}}` calls, `{{{parameter|default}}}` references, and
//! `[[links]]` as brackets whose `|` does not split an argument.
//!
//! One stack pass builds a flat arena (children are indices, not boxes), so
//! neither parsing nor dropping a tree recurses: a page of 100 000 nested
//! braces costs memory proportional to its length and nothing more. A run
//! of `}` closes three braces of the innermost open run if both have three
//! (a parameter), otherwise two (a call); leftovers stay open or become
//! text, as in MediaWiki. Whatever is still open at the end is plain text.

/// Index of a node in [`Tree::nodes`].
pub type NodeId = u32;

/// One piece of a parsed text.
#[derive(Debug, Clone)]
pub enum Node {
    /// `source[start..end]`, no structure inside.
    Text { start: usize, end: usize },
    /// Text that is not in the source where it stands (the `|` between the
    /// parts of an unclosed call).
    Static(&'static str),
    /// `{{...}}` (a template, parser function or magic word) or `{{{...}}}`.
    Call { kind: CallKind, parts: Vec<Vec<NodeId>> },
}

/// Two braces or three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// `{{name|...}}`: `parts[0]` is the name, the rest the arguments.
    Template,
    /// `{{{name|default}}}`.
    Parameter,
}

/// A parsed text: nodes over `source`, `root` the top-level sequence.
#[derive(Debug)]
pub struct Tree<'s> {
    pub source: &'s str,
    pub nodes: Vec<Node>,
    pub root: Vec<NodeId>,
}

/// What is open while parsing.
struct Open {
    /// Braces not yet closed (`None`: a `[[` link).
    braces: Option<usize>,
    at: usize,
    parts: Vec<Vec<NodeId>>,
}

impl<'s> Tree<'s> {
    /// Parses `source`; never fails (unbalanced markup is text).
    pub fn parse(source: &'s str) -> Tree<'s> {
        let bytes = source.as_bytes();
        let mut tree = Tree {
            source,
            nodes: Vec::new(),
            root: Vec::new(),
        };
        let mut stack: Vec<Open> = Vec::new();
        let mut text_start = 0;
        let mut i = 0;
        while i < bytes.len() {
            // Skip plain text in one tight loop: most bytes are not markup.
            match bytes[i..].iter().position(|&b| IS_MARKUP[b as usize]) {
                Some(skip) => i += skip,
                None => break,
            }
            let in_braces = stack.last().is_some_and(|o| o.braces.is_some());
            match bytes[i] {
                b'{' => {
                    let run = run_length(bytes, i, b'{');
                    if run >= 2 {
                        tree.flush(&mut stack, text_start, i);
                        stack.push(Open {
                            braces: Some(run),
                            at: i,
                            parts: vec![Vec::new()],
                        });
                        text_start = i + run;
                    }
                    i += run;
                }
                b'[' if bytes.get(i + 1) == Some(&b'[') => {
                    tree.flush(&mut stack, text_start, i);
                    stack.push(Open {
                        braces: None,
                        at: i,
                        parts: vec![Vec::new()],
                    });
                    i += 2;
                    text_start = i;
                }
                b']' if bytes.get(i + 1) == Some(&b']') && stack.last().is_some_and(|o| o.braces.is_none()) => {
                    tree.flush(&mut stack, text_start, i);
                    let link = stack.pop().expect("checked above");
                    let open = tree.push(Node::Text {
                        start: link.at,
                        end: link.at + 2,
                    });
                    let close = tree.push(Node::Text { start: i, end: i + 2 });
                    let target = tree.current(&mut stack);
                    target.push(open);
                    target.extend(link.parts.into_iter().flatten());
                    target.push(close);
                    i += 2;
                    text_start = i;
                }
                b'|' if in_braces => {
                    tree.flush(&mut stack, text_start, i);
                    stack.last_mut().expect("in braces").parts.push(Vec::new());
                    i += 1;
                    text_start = i;
                }
                b'}' if in_braces => {
                    let run = run_length(bytes, i, b'}');
                    if run >= 2 {
                        tree.flush(&mut stack, text_start, i);
                        tree.close_braces(&mut stack, i, run);
                        text_start = i + run;
                    }
                    i += run;
                }
                _ => i += 1,
            }
        }
        tree.flush(&mut stack, text_start, bytes.len());
        // Still open at the end: the opener is text, and so is the rest.
        while let Some(open) = stack.pop() {
            let count = open.braces.unwrap_or(2);
            let opener = tree.push(Node::Text {
                start: open.at,
                end: open.at + count,
            });
            let mut flat = vec![opener];
            for (n, part) in open.parts.into_iter().enumerate() {
                if n > 0 {
                    flat.push(tree.push(Node::Static("|")));
                }
                flat.extend(part);
            }
            tree.current(&mut stack).extend(flat);
        }
        tree
    }

    /// The text of a `Text` node (empty for calls).
    pub fn text(&self, id: NodeId) -> &'s str {
        match &self.nodes[id as usize] {
            Node::Text { start, end } => &self.source[*start..*end],
            Node::Static(s) => s,
            Node::Call { .. } => "",
        }
    }

    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        (self.nodes.len() - 1) as NodeId
    }

    fn current<'a>(&'a mut self, stack: &'a mut [Open]) -> &'a mut Vec<NodeId> {
        match stack.last_mut() {
            Some(open) => open.parts.last_mut().expect("an open call has a part"),
            None => &mut self.root,
        }
    }

    /// Adds `source[start..end]` (if any) to what is being built.
    fn flush(&mut self, stack: &mut [Open], start: usize, end: usize) {
        if start < end {
            let id = self.push(Node::Text { start, end });
            self.current(stack).push(id);
        }
    }

    /// Closes calls with a run of `run` closing braces at `at`; braces no
    /// open run could take stay text.
    fn close_braces(&mut self, stack: &mut Vec<Open>, at: usize, run: usize) {
        let mut remaining = run;
        while remaining >= 2 {
            let Some(open) = stack.last_mut() else { break };
            let Some(count) = open.braces else { break };
            let (take, kind) = if count >= 3 && remaining >= 3 {
                (3, CallKind::Parameter)
            } else {
                (2, CallKind::Template)
            };
            let parts = std::mem::take(&mut open.parts);
            let left = count - take;
            remaining -= take;
            let call = self.push(Node::Call { kind, parts });
            if left >= 2 {
                // `{{{{x}}` → an open run of two around the call just closed.
                open.braces = Some(left);
                open.parts = vec![vec![call]];
                continue;
            }
            let open = stack.pop().expect("checked above");
            let mut nodes = Vec::with_capacity(2);
            if left == 1 {
                nodes.push(self.push(Node::Text {
                    start: open.at,
                    end: open.at + 1,
                }));
            }
            nodes.push(call);
            self.current(stack).extend(nodes);
        }
        let used = run - remaining;
        if remaining > 0 {
            let text = self.push(Node::Text {
                start: at + used,
                end: at + run,
            });
            self.current(stack).push(text);
        }
    }
}

/// The bytes the parser stops at.
const IS_MARKUP: [bool; 256] = {
    let mut table = [false; 256];
    table[b'{' as usize] = true;
    table[b'}' as usize] = true;
    table[b'[' as usize] = true;
    table[b']' as usize] = true;
    table[b'|' as usize] = true;
    table
};

fn run_length(bytes: &[u8], at: usize, of: u8) -> usize {
    bytes[at..].iter().take_while(|&&b| b == of).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree written back as markup, calls in angle brackets.
    fn show(tree: &Tree, ids: &[NodeId]) -> String {
        let mut out = String::new();
        for &id in ids {
            match &tree.nodes[id as usize] {
                Node::Call { kind, parts } => {
                    out.push_str(if *kind == CallKind::Parameter { "<P " } else { "<T " });
                    let shown: Vec<String> = parts.iter().map(|p| show(tree, p)).collect();
                    out.push_str(&shown.join("¦"));
                    out.push('>');
                }
                _ => out.push_str(tree.text(id)),
            }
        }
        out
    }

    fn parsed(source: &str) -> String {
        let tree = Tree::parse(source);
        show(&tree, &tree.root)
    }

    #[test]
    fn calls_parameters_and_links() {
        assert_eq!(parsed("a{{b|c=d|e}}f"), "a<T b¦c=d¦e>f");
        assert_eq!(parsed("{{{1|x}}}"), "<P 1¦x>");
        assert_eq!(parsed("{{a|[[b|c]]|d}}"), "<T a¦[[b|c]]¦d>");
        assert_eq!(parsed("{{a|{{b|{{{c}}}}}}}"), "<T a¦<T b¦<P c>>>");
        assert_eq!(parsed("{{{{{a}}}}}"), "<T <P a>>");
        // Four and four: a parameter in literal braces, as in MediaWiki.
        assert_eq!(parsed("{{{{a}}}}"), "{<P a>}");
        assert_eq!(parsed("{{{a}}"), "{<T a>");
        assert_eq!(parsed("{{a}}}"), "<T a>}");
        assert_eq!(parsed("[[a|{{b|c}}]]"), "[[a|<T b¦c>]]");
    }

    #[test]
    fn unclosed_markup_is_text() {
        assert_eq!(parsed("x {{a|b and [[c"), "x {{a|b and [[c");
        assert_eq!(parsed("a}}b|c]]"), "a}}b|c]]");
        assert_eq!(parsed("{{a|[[b}}"), "{{a|[[b}}");
        assert_eq!(parsed("{{a|b}} {{c"), "<T a¦b> {{c");
    }

    #[test]
    fn deep_nesting_is_flat() {
        let deep = format!("{}x{}", "{{a|".repeat(100_000), "}}".repeat(100_000));
        let tree = Tree::parse(&deep);
        assert_eq!(tree.root.len(), 1);
        drop(tree);
        let unclosed = "{{a|".repeat(100_000);
        assert_eq!(parsed(&unclosed), unclosed);
    }
}
