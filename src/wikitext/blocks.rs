//! Templates (`{{...}}`, `{{{param}}}`, parser functions) and tables
//! (`{| ... |}`), dropped with everything inside them.
//!
//! One stack pass finds the spans: a run of `{` opens, a run of `}` closes
//! as many braces as it can of the innermost open run (MediaWiki's
//! preprocessor does the same), and `{|` / `|}` at the start of a line open
//! and close tables. Openers never closed are left to MediaWiki's reading
//! (literal text; the line renderer drops the stray brackets). A table not
//! closed by `|}` — a table a template started — is dropped to the end of
//! its line only, so one broken table cannot swallow the rest of a page.

/// What is open on the stack.
#[derive(Debug, Clone, Copy)]
enum Open {
    /// A run of `{` with this many braces not yet closed, starting here.
    Braces { start: usize, count: usize },
    /// `{|` at the start of a line.
    Table { start: usize },
}

/// Removes templates and tables; see the module docs.
pub fn drop_templates_and_tables(source: &str) -> String {
    let spans = spans_to_drop(source);
    let mut out = String::with_capacity(source.len());
    let mut copied = 0;
    for (start, end) in spans {
        if start < copied {
            continue;
        }
        out.push_str(&source[copied..start]);
        copied = end;
    }
    out.push_str(&source[copied..]);
    out
}

/// Outermost spans to drop, in order, not overlapping.
fn spans_to_drop(source: &str) -> Vec<(usize, usize)> {
    let bytes = source.as_bytes();
    let mut stack: Vec<Open> = Vec::new();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut line_start = true;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => {
                line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b':' if line_start => {
                i += 1;
                continue;
            }
            b'{' if line_start && bytes.get(i + 1) == Some(&b'|') => {
                stack.push(Open::Table { start: i });
                i += 2;
            }
            b'|' if line_start && bytes.get(i + 1) == Some(&b'}') => {
                close_table(&mut stack, &mut spans, i + 2);
                i += 2;
            }
            b'{' => {
                let run = bytes[i..].iter().take_while(|&&c| c == b'{').count();
                if run >= 2 {
                    stack.push(Open::Braces { start: i, count: run });
                }
                i += run;
            }
            b'}' => {
                let run = bytes[i..].iter().take_while(|&&c| c == b'}').count();
                close_braces(&mut stack, &mut spans, i, run);
                i += run;
            }
            _ => i += 1,
        }
        line_start = false;
    }
    // Tables never closed: drop their first line only.
    for open in stack {
        if let Open::Table { start } = open {
            let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |p| start + p);
            spans.push((start, end));
        }
    }
    spans.sort_unstable();
    spans
}

fn close_braces(stack: &mut Vec<Open>, spans: &mut Vec<(usize, usize)>, at: usize, run: usize) {
    let mut remaining = run;
    let mut end = at;
    while remaining >= 2 {
        let Some(Open::Braces { start, count }) = stack.last_mut() else {
            return;
        };
        // `{{{x}}}` closes three at once; otherwise two (a template).
        let take = if *count >= 3 && remaining >= 3 { 3 } else { 2 };
        if *count < 2 {
            stack.pop();
            continue;
        }
        *count -= take;
        remaining -= take;
        end += take;
        if *count < 2 {
            let start = *start;
            stack.pop();
            record(spans, start, end);
        }
    }
}

fn close_table(stack: &mut Vec<Open>, spans: &mut Vec<(usize, usize)>, end: usize) {
    if let Some(position) = stack.iter().rposition(|o| matches!(o, Open::Table { .. })) {
        let Open::Table { start } = stack[position] else {
            unreachable!()
        };
        // Braces opened inside the table and never closed end with it.
        stack.truncate(position);
        record(spans, start, end);
    }
}

/// Records a closed span.
fn record(spans: &mut Vec<(usize, usize)>, start: usize, end: usize) {
    // Inner spans are kept too (the enclosing opener may never close); the
    // copy loop skips spans that start inside an earlier one. Drop spans
    // this one contains so the list stays short for deeply nested input.
    while spans.last().is_some_and(|&(s, _)| s >= start) {
        spans.pop();
    }
    spans.push((start, end));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_and_tables() {
        assert_eq!(drop_templates_and_tables("a{{b}}c"), "ac");
        assert_eq!(drop_templates_and_tables("a{{b|{{c}}|d}}e"), "ae");
        assert_eq!(drop_templates_and_tables("a{{{1|x}}}b"), "ab");
        assert_eq!(drop_templates_and_tables("a{{b"), "a{{b");
        assert_eq!(drop_templates_and_tables("a}}b"), "a}}b");
        assert_eq!(drop_templates_and_tables("x\n{|\n|a\n|}\ny"), "x\n\ny");
        assert_eq!(drop_templates_and_tables("x\n {| class=t\n|a\n|}y"), "x\n y");
        assert_eq!(drop_templates_and_tables("x\n{|\n|a\ny"), "x\n\n|a\ny");
        assert_eq!(drop_templates_and_tables("{{a\n{|\n|}\n}}z"), "z");
    }
}
