//! SQL files: `${variable}` substitution before parsing, and the project's
//! own files (`sql/`) compiled in, for programs that have no checkout.
//!
//! `${name}` is replaced by the variable's value; `${name:-default}` falls
//! back to `default` when the variable is not set, so each file in `sql/` runs
//! with no `-D` at all. A variable that is neither set nor defaulted is an
//! error naming it and its line — never an empty string in a path.
//!
//! Comments are prose: a `${seq_len}` in a `-- ...` or `/* ... */` comment
//! documents the variable and is left as it is (neither substituted nor
//! required). Inside string literals (`'${output}/tokens'`) and quoted
//! identifiers a variable is substituted — that is how paths get there.

use std::collections::BTreeMap;

use anyhow::{bail, Result};

/// The files of `sql/` by name (`tokenize` for `sql/tokenize.sql`).
const LIBRARY: &[(&str, &str)] = &[
    ("categories", include_str!("../sql/categories.sql")),
    ("links", include_str!("../sql/links.sql")),
    ("megatron", include_str!("../sql/megatron.sql")),
    ("packed", include_str!("../sql/packed.sql")),
    ("pages", include_str!("../sql/pages.sql")),
    ("pretraining", include_str!("../sql/pretraining.sql")),
    ("redirects", include_str!("../sql/redirects.sql")),
    ("token_counts", include_str!("../sql/token_counts.sql")),
    ("tokenize", include_str!("../sql/tokenize.sql")),
    ("vocab", include_str!("../sql/vocab.sql")),
];

/// The text of `sql/NAME.sql` as this build has it.
pub fn library_file(name: &str) -> Result<&'static str> {
    match LIBRARY.iter().find(|(file, _)| *file == name) {
        Some((_, text)) => Ok(text),
        None => {
            let names: Vec<&str> = LIBRARY.iter().map(|(file, _)| *file).collect();
            bail!("no sql/{name}.sql in wikitok's SQL library ({})", names.join(", "))
        }
    }
}

/// Where the scanner is in the SQL text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lexical {
    Code,
    /// Inside `'...'` (a doubled `''` stays inside).
    SingleQuoted,
    /// Inside `"..."`.
    DoubleQuoted,
    /// From `--` to the end of the line.
    LineComment,
    /// Inside `/* ... */`.
    BlockComment,
}

/// Replaces every `${name}` / `${name:-default}` in `sql` outside comments.
pub fn substitute_variables(sql: &str, vars: &BTreeMap<String, String>) -> Result<String> {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut state = Lexical::Code;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let next = bytes.get(i + 1).copied();
        match (state, bytes[i]) {
            (Lexical::Code, b'-') if next == Some(b'-') => {
                state = Lexical::LineComment;
                i += 2;
                continue;
            }
            (Lexical::Code, b'/') if next == Some(b'*') => {
                state = Lexical::BlockComment;
                i += 2;
                continue;
            }
            (Lexical::Code, b'\'') => state = Lexical::SingleQuoted,
            (Lexical::Code, b'"') => state = Lexical::DoubleQuoted,
            (Lexical::SingleQuoted, b'\'') if next == Some(b'\'') => {
                i += 2;
                continue;
            }
            (Lexical::SingleQuoted, b'\'') | (Lexical::DoubleQuoted, b'"') => state = Lexical::Code,
            (Lexical::LineComment, b'\n') => state = Lexical::Code,
            (Lexical::BlockComment, b'*') if next == Some(b'/') => {
                state = Lexical::Code;
                i += 2;
                continue;
            }
            (Lexical::Code | Lexical::SingleQuoted | Lexical::DoubleQuoted, b'$') if next == Some(b'{') => {
                out.push_str(&sql[copied..i]);
                let end = variable_end(sql, i)?;
                out.push_str(&variable_value(sql, i, &sql[i + 2..end], vars)?);
                i = end + 1;
                copied = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(&sql[copied..]);
    Ok(out)
}

/// The offset of the `}` closing the variable that starts at `start`.
fn variable_end(sql: &str, start: usize) -> Result<usize> {
    match sql[start..].find('}') {
        Some(end) => Ok(start + end),
        None => bail!("unterminated ${{ at line {}", line_of(sql, start)),
    }
}

/// The value of the variable `body` (`name` or `name:-default`) found at `start`.
fn variable_value(sql: &str, start: usize, body: &str, vars: &BTreeMap<String, String>) -> Result<String> {
    let (name, default) = match body.split_once(":-") {
        Some((name, default)) => (name.trim(), Some(default)),
        None => (body.trim(), None),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        bail!("bad variable name ${{{body}}} at line {}", line_of(sql, start));
    }
    match (vars.get(name), default) {
        (Some(value), _) => Ok(value.clone()),
        (None, Some(default)) => Ok(default.to_string()),
        (None, None) => {
            let known: Vec<&str> = vars.keys().map(String::as_str).collect();
            bail!(
                "unknown variable ${{{name}}} at line {}; set it with -D {name}=VALUE (known: {})",
                line_of(sql, start),
                known.join(", ")
            );
        }
    }
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte].matches('\n').count() + 1
}

/// Parses `NAME=VALUE` (from `-D`).
pub fn parse_define(define: &str) -> Result<(String, String)> {
    match define.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_string(), value.to_string())),
        _ => bail!("-D {define:?}: expected NAME=VALUE"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        [("output", "out"), ("limit", "10")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Every file of `sql/` is in the library (a new file must be added).
    #[test]
    fn the_library_is_every_sql_file() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sql");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "sql"))
            .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let listed: Vec<&str> = LIBRARY.iter().map(|(name, _)| *name).collect();
        assert_eq!(on_disk, listed);
        assert!(library_file("tokenize")
            .unwrap()
            .contains("tokenize(coalesce(text, ''))"));
        let missing = library_file("tokenise").unwrap_err().to_string();
        assert!(
            missing.contains("no sql/tokenise.sql") && missing.contains("vocab"),
            "{missing}"
        );
    }

    #[test]
    fn substitutes_values_and_defaults() {
        let sql = "COPY (SELECT 1 LIMIT ${limit}) TO '${output}/t' WHERE x = ${flag:-false}";
        assert_eq!(
            substitute_variables(sql, &vars()).unwrap(),
            "COPY (SELECT 1 LIMIT 10) TO 'out/t' WHERE x = false"
        );
    }

    #[test]
    fn comments_are_prose_strings_are_not() {
        let sql = "-- rows of ${seq_len} ids, the page's title\n\
                   SELECT '${output}' /* ${nope} */, 'it''s ${limit}', \"${limit}\" -- ${x:-}\n\
                   FROM t WHERE a = '--' AND b = ${limit}";
        assert_eq!(
            substitute_variables(sql, &vars()).unwrap(),
            "-- rows of ${seq_len} ids, the page's title\n\
             SELECT 'out' /* ${nope} */, 'it''s 10', \"10\" -- ${x:-}\n\
             FROM t WHERE a = '--' AND b = 10"
        );
    }

    #[test]
    fn unknown_variable_is_named_with_its_line() {
        let err = substitute_variables("SELECT 1;\nSELECT ${nope}", &vars())
            .unwrap_err()
            .to_string();
        assert!(err.contains("${nope}") && err.contains("line 2"), "{err}");
    }

    #[test]
    fn defines() {
        assert_eq!(parse_define("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_define("novalue").is_err());
    }
}
