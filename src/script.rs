//! SQL files: `${variable}` substitution before parsing.
//!
//! `${name}` is replaced by the variable's value; `${name:-default}` falls
//! back to `default` when the variable is not set, so each file in `sql/` runs
//! with no `-D` at all. A variable that is neither set nor defaulted is an
//! error naming it and its line — never an empty string in a path.

use std::collections::BTreeMap;

use anyhow::{bail, Result};

/// Replaces every `${name}` / `${name:-default}` in `sql`.
pub fn substitute_variables(sql: &str, vars: &BTreeMap<String, String>) -> Result<String> {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            bail!(
                "unterminated ${{ at line {}",
                line_of(sql, sql.len() - rest.len() + start)
            );
        };
        let body = &after[..end];
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name.trim(), Some(default)),
            None => (body.trim(), None),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            bail!(
                "bad variable name ${{{body}}} at line {}",
                line_of(sql, sql.len() - rest.len() + start)
            );
        }
        match (vars.get(name), default) {
            (Some(value), _) => out.push_str(value),
            (None, Some(default)) => out.push_str(default),
            (None, None) => {
                let known: Vec<&str> = vars.keys().map(String::as_str).collect();
                bail!(
                    "unknown variable ${{{name}}} at line {}; set it with -D {name}=VALUE (known: {})",
                    line_of(sql, sql.len() - rest.len() + start),
                    known.join(", ")
                );
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
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

    #[test]
    fn substitutes_values_and_defaults() {
        let sql = "COPY (SELECT 1 LIMIT ${limit}) TO '${output}/t' -- ${prepend_title:-false}";
        assert_eq!(
            substitute_variables(sql, &vars()).unwrap(),
            "COPY (SELECT 1 LIMIT 10) TO 'out/t' -- false"
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
