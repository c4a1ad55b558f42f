//! French Wikipedia's date templates (`{{date}}`, `{{date de naissance}}`,
//! `{{date de décès}}`, `{{date sans lien}}`), as `Module:Date` reads them:
//! day, month and year as three arguments (`{{date|17|11|1994}}`) or in the
//! first one (`{{date de naissance|17 11 1994}}`, `{{date|17 novembre
//! 1994}}`, `{{date|novembre 1994}}`, `{{date|1994}}`); the month by number
//! or name; written `17 novembre 1994`, the first of the month `1er`.
//! Anything else is written as given.

use super::expand::Args;
use super::Templates;

/// Renders a date template call; see the module docs.
pub fn render(args: &Args, templates: &Templates) -> String {
    let given: Vec<&str> = (1..=3).filter_map(|n| args.positional(n)).collect();
    let parts: Vec<&str> = match given.as_slice() {
        [one] => one.split_whitespace().collect(),
        _ => given.clone(),
    };
    match read(&parts, templates) {
        Some(date) => date,
        None => given.join(" "),
    }
}

/// `[day] [month] year`.
/// A month by number (`11`, `02`) or name (`novembre`, `nov.`), as the
/// wiki's calendar writes it; `None` for anything else.
pub fn month_name(text: &str, templates: &Templates) -> Option<String> {
    let index = match text.parse::<usize>() {
        Ok(n @ 1..=12) => n,
        Ok(_) => return None,
        Err(_) => templates.calendar().month_number(text)? as usize,
    };
    templates.calendar().months.get(index.checked_sub(1)?).cloned()
}

fn read(parts: &[&str], templates: &Templates) -> Option<String> {
    let month = |text: &str| month_name(text, templates);
    let day = |text: &str| -> Option<String> {
        let text = text.trim_end_matches("er");
        match text.parse::<u32>() {
            Ok(1) => Some("1er".to_string()),
            Ok(n @ 2..=31) => Some(n.to_string()),
            _ => None,
        }
    };
    let year = |text: &str| -> Option<String> {
        let digits = text.trim_start_matches('-');
        (!digits.is_empty() && digits.len() <= 4 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.to_string())
    };
    let pieces = match parts {
        [y] => vec![year(y)?],
        [m, y] => vec![month(m)?, year(y)?],
        [d, m, y] => vec![day(d)?, month(m)?, year(y)?],
        _ => return None,
    };
    Some(pieces.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wikitext::templates::UserTemplates;

    fn date(pairs: &[(&str, &str)]) -> String {
        let french = Templates::for_wiki(Some("fr"), None, &UserTemplates::default());
        render(&Args::from_pairs(pairs), &french)
    }

    /// The forms of the templates' documentation.
    #[test]
    fn one_argument_or_three() {
        assert_eq!(date(&[("1", "17"), ("2", "11"), ("3", "1994")]), "17 novembre 1994");
        assert_eq!(date(&[("1", "17 11 1994")]), "17 novembre 1994");
        assert_eq!(date(&[("1", "1 mars 1879")]), "1er mars 1879");
        assert_eq!(date(&[("1", "1er"), ("2", "mars"), ("3", "1879")]), "1er mars 1879");
        assert_eq!(date(&[("1", "novembre 1994")]), "novembre 1994");
        assert_eq!(date(&[("1", "1994")]), "1994");
        assert_eq!(date(&[("1", ""), ("2", "juin"), ("3", "1944")]), "juin 1944");
        assert_eq!(date(&[("1", "vers 1900")]), "vers 1900");
        assert_eq!(date(&[("1", "14 13 1879")]), "14 13 1879");
    }
}
