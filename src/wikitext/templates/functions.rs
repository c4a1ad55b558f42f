//! Parser functions and magic words that write prose: `#expr` arithmetic,
//! `#time` dates, `formatnum`, case and padding functions, `PAGENAME`,
//! `CURRENTYEAR` — with the wiki's month names and number separators.

use super::expand::PageContext;
use super::{Date, Templates};

/// Functions written `{{name:argument|...}}` without a `#`.
const COLON_FUNCTIONS: &[&str] = &[
    "formatnum",
    "lc",
    "uc",
    "lcfirst",
    "ucfirst",
    "padleft",
    "padright",
    "plural",
    "grammar",
    "gender",
    "int",
    "ns",
    "nse",
    "urlencode",
    "anchorencode",
    "localurl",
    "fullurl",
    "canonicalurl",
    "filepath",
    "pagename",
    "fullpagename",
    "basepagename",
    "subpagename",
    "rootpagename",
    "displaytitle",
    "defaultsort",
    "defaultsortkey",
    "defaultcategorysort",
    "safesubst",
    "subst",
];

/// `#if: x` → `("#if", " x")`, `formatnum:12` → `("formatnum", "12")`;
/// `None` for a template name.
pub fn split_function(head: &str) -> Option<(String, &str)> {
    if head.starts_with('#') {
        let (name, first) = head.split_once(':').unwrap_or((head, ""));
        return Some((name.trim().to_lowercase(), first));
    }
    let (name, first) = head.split_once(':')?;
    let name = name.trim().to_lowercase();
    COLON_FUNCTIONS.contains(&name.as_str()).then_some((name, first))
}

/// The value of a magic word without arguments (`{{PAGENAME}}`).
pub fn magic_word(head: &str, page: &PageContext) -> Option<String> {
    let today = page.today;
    Some(match head {
        "PAGENAME" | "FULLPAGENAME" | "BASEPAGENAME" | "ROOTPAGENAME" | "SUBPAGENAME" | "ARTICLEPAGENAME" => {
            page.title.to_string()
        }
        // The title without a disambiguating qualifier: `Douglas Adams (writer)` → `Douglas Adams`.
        "PAGENAMEBASE" => without_qualifier(page.title).to_string(),
        "PAGENAMEE" | "FULLPAGENAMEE" => page.title.replace(' ', "_"),
        "CURRENTYEAR" | "LOCALYEAR" => today.year.to_string(),
        "CURRENTMONTH" | "CURRENTMONTH2" | "LOCALMONTH" => format!("{:02}", today.month),
        "CURRENTMONTH1" | "LOCALMONTH1" => today.month.to_string(),
        "CURRENTDAY" | "LOCALDAY" => today.day.to_string(),
        "CURRENTDAY2" | "LOCALDAY2" => format!("{:02}", today.day),
        "!" => "|".to_string(),
        "!!" => "||".to_string(),
        "=" => "=".to_string(),
        "NAMESPACE" | "NAMESPACENUMBER" => String::new(),
        _ => return None,
    })
}

/// A title without its closing disambiguation in brackets, as enwiki's
/// `{{PAGENAMEBASE}}` writes it: `Douglas Adams (writer)` → `Douglas Adams`,
/// `Foo (a (b))` → `Foo`; a title that is all brackets stays whole.
fn without_qualifier(title: &str) -> &str {
    if !title.ends_with(')') {
        return title;
    }
    let mut depth = 0usize;
    for (at, c) in title.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return match title[..at].strip_suffix(' ') {
                        Some(base) if !base.trim().is_empty() => base.trim_end(),
                        _ => title,
                    };
                }
            }
            _ => {}
        }
    }
    title
}

/// `#ifeq`/`#switch` comparison: numerically when both sides are numbers.
pub fn values_equal(a: &str, b: &str) -> bool {
    match (parse_number(a), parse_number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let looks_numeric = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && text.bytes().any(|b| b.is_ascii_digit());
    looks_numeric.then(|| text.parse::<f64>().ok()).flatten()
}

/// Why an expression failed (reported as an error mark, see `#iferror`).
#[derive(Debug, PartialEq)]
pub struct ExprError;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    Number(f64),
    Word(&'static str),
    Open,
    Close,
}

const WORDS: &[&str] = &[
    "<=", ">=", "<>", "!=", "+", "-", "*", "/", "^", "=", "<", ">", "mod", "div", "round", "not", "and", "or", "e",
    "pi", "trunc", "floor", "ceil", "abs", "sqrt", "ln", "exp", "sin", "cos", "tan", "fmod",
];

fn tokenize(text: &str) -> Result<Vec<Token>, ExprError> {
    let lower = text.to_lowercase();
    let bytes = lower.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            i += 1;
        } else if b.is_ascii_digit() || b == b'.' {
            let end = i + bytes[i..]
                .iter()
                .take_while(|c| c.is_ascii_digit() || **c == b'.')
                .count();
            tokens.push(Token::Number(lower[i..end].parse().map_err(|_| ExprError)?));
            i = end;
        } else if b == b'(' {
            tokens.push(Token::Open);
            i += 1;
        } else if b == b')' {
            tokens.push(Token::Close);
            i += 1;
        } else {
            let rest = &lower[i..];
            let word = WORDS
                .iter()
                .find(|w| {
                    rest.starts_with(**w)
                        && (!w.as_bytes()[0].is_ascii_alphabetic()
                            || !rest.as_bytes().get(w.len()).is_some_and(u8::is_ascii_alphabetic))
                })
                .ok_or(ExprError)?;
            tokens.push(Token::Word(word));
            i += word.len();
        }
    }
    Ok(tokens)
}

/// Binding strength of a binary operator (higher binds tighter).
fn binary_precedence(word: &str) -> Option<u8> {
    Some(match word {
        "or" => 1,
        "and" => 2,
        "=" | "<>" | "!=" | "<" | ">" | "<=" | ">=" => 3,
        "round" => 4,
        "+" | "-" => 5,
        "*" | "/" | "div" | "mod" | "fmod" => 6,
        "^" => 7,
        "e" => 9,
        _ => return None,
    })
}

/// Evaluates a `#expr` expression (MediaWiki's operators and precedence).
pub fn evaluate(text: &str) -> Result<f64, ExprError> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Ok(0.0);
    }
    let mut parser = ExprParser {
        tokens,
        at: 0,
        depth: 0,
    };
    let value = parser.expression(0)?;
    if parser.at != parser.tokens.len() {
        return Err(ExprError);
    }
    Ok(value)
}

struct ExprParser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl ExprParser {
    fn expression(&mut self, min: u8) -> Result<f64, ExprError> {
        self.depth += 1;
        if self.depth > 100 {
            return Err(ExprError);
        }
        let mut left = self.unary()?;
        while let Some(&Token::Word(op)) = self.tokens.get(self.at) {
            let Some(precedence) = binary_precedence(op) else { break };
            if precedence < min {
                break;
            }
            self.at += 1;
            // `^` is right-associative; the others left.
            let next = if op == "^" { precedence } else { precedence + 1 };
            let right = self.expression(next)?;
            left = apply(op, left, right)?;
        }
        self.depth -= 1;
        Ok(left)
    }

    fn unary(&mut self) -> Result<f64, ExprError> {
        let token = *self.tokens.get(self.at).ok_or(ExprError)?;
        self.at += 1;
        match token {
            Token::Number(n) => Ok(n),
            Token::Open => {
                let value = self.expression(0)?;
                if self.tokens.get(self.at) != Some(&Token::Close) {
                    return Err(ExprError);
                }
                self.at += 1;
                Ok(value)
            }
            Token::Close => Err(ExprError),
            Token::Word("e") => Ok(std::f64::consts::E),
            Token::Word("pi") => Ok(std::f64::consts::PI),
            Token::Word(op) => {
                let operand = self.expression(8)?;
                Ok(match op {
                    "-" => -operand,
                    "+" => operand,
                    "not" => f64::from(operand == 0.0),
                    "trunc" => operand.trunc(),
                    "floor" => operand.floor(),
                    "ceil" => operand.ceil(),
                    "abs" => operand.abs(),
                    "sqrt" if operand >= 0.0 => operand.sqrt(),
                    "ln" if operand > 0.0 => operand.ln(),
                    "exp" => operand.exp(),
                    "sin" => operand.sin(),
                    "cos" => operand.cos(),
                    "tan" => operand.tan(),
                    _ => return Err(ExprError),
                })
            }
        }
    }
}

fn apply(op: &str, a: f64, b: f64) -> Result<f64, ExprError> {
    let truth = |x: bool| f64::from(x);
    Ok(match op {
        "+" => a + b,
        "-" => a - b,
        "*" => a * b,
        "/" | "div" if b != 0.0 => a / b,
        // `checked_rem`: i64::MIN mod -1 overflows.
        "mod" => (a.trunc() as i64).checked_rem(b.trunc() as i64).ok_or(ExprError)? as f64,
        "fmod" if b != 0.0 => a % b,
        "^" => a.powf(b),
        "e" => a * 10f64.powf(b),
        "round" => {
            let scale = 10f64.powi(b.trunc() as i32);
            (a * scale).round() / scale
        }
        "=" => truth(a == b),
        "<>" | "!=" => truth(a != b),
        "<" => truth(a < b),
        ">" => truth(a > b),
        "<=" => truth(a <= b),
        ">=" => truth(a >= b),
        "and" => truth(a != 0.0 && b != 0.0),
        "or" => truth(a != 0.0 || b != 0.0),
        _ => return Err(ExprError),
    })
}

/// A number as `#expr` prints it (PHP's 14 significant digits).
pub fn format_number(value: f64) -> String {
    if !value.is_finite() {
        return if value.is_nan() { "NAN".into() } else { "INF".into() };
    }
    if value == value.trunc() && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    let scientific = format!("{:.13e}", value);
    let (_, exponent) = scientific.split_once('e').expect("formatted with e");
    let exponent: i32 = exponent.parse().expect("an exponent");
    if (-5..15).contains(&exponent) {
        let decimals = (13 - exponent).max(0) as usize;
        let fixed = format!("{value:.decimals$}");
        let fixed = fixed.trim_end_matches('0').trim_end_matches('.');
        return fixed.to_string();
    }
    let (mantissa, _) = scientific.split_once('e').expect("formatted with e");
    let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}E{sign}{}", exponent.abs())
}

/// `formatnum`: digit groups and decimal separator of the wiki's language;
/// `raw` (`|R`) undoes it. As in MediaWiki's `Language::formatNum`, each
/// number in the text is formatted and the text around it is kept, so
/// `{{unité|10000 à 35000|individus}}` groups both numbers. A number is
/// digits with an optional `.` fraction (MediaWiki's input form); what is
/// already written the wiki's way is left as it is: a fraction after the
/// local decimal separator (`3,14159` on frwiki), numbers with several
/// dots (`1.234.567` on dewiki), and character references (`&#8239;`).
pub fn formatnum(text: &str, raw: bool, templates: &Templates) -> String {
    let numbers = templates.numbers();
    let text = text.trim();
    if raw {
        return unformat(text, &numbers.group_separator, &numbers.decimal_separator);
    }
    let bytes = text.as_bytes();
    let digits_from = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let digit_at = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    let local_decimal = numbers.decimal_separator.as_bytes();
    let mut out = String::with_capacity(text.len() + 8);
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        i = digits_from(i);
        let integer_end = i;
        let mut fraction = None;
        if bytes.get(i) == Some(&b'.') && digit_at(i + 1) {
            let fraction_end = digits_from(i + 1);
            if bytes.get(fraction_end) == Some(&b'.') && digit_at(fraction_end + 1) {
                // 1.234.567: grouped already; the whole run stays as written.
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                    i += 1;
                }
                continue;
            }
            fraction = Some(&text[i + 1..fraction_end]);
            i = fraction_end;
        }
        let before = &text[..start];
        if before.ends_with("&#") || before.ends_with("&#x") || before.ends_with("&#X") {
            continue;
        }
        out.push_str(&text[copied..start]);
        out.push_str(&group_digits(
            &text[start..integer_end],
            &numbers.group_separator,
            numbers.minimum_grouping_digits,
        ));
        if let Some(fraction) = fraction {
            out.push_str(&numbers.decimal_separator);
            out.push_str(fraction);
        } else if local_decimal != b"." && bytes[i..].starts_with(local_decimal) && digit_at(i + local_decimal.len()) {
            // 3,14159: a fraction in the wiki's own form, copied as written.
            i = digits_from(i + local_decimal.len());
            out.push_str(&text[integer_end..i]);
        }
        copied = i;
    }
    out.push_str(&text[copied..]);
    out
}

/// `|R`: group separators between digits taken out, the decimal separator
/// between digits made a `.`; the rest of the text as it is.
fn unformat(text: &str, group_separator: &str, decimal_separator: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let after_digit = out.as_bytes().last().is_some_and(u8::is_ascii_digit);
        let separates_digits = |separator: &str| {
            !separator.is_empty()
                && after_digit
                && rest
                    .strip_prefix(separator)
                    .is_some_and(|after| after.as_bytes().first().is_some_and(u8::is_ascii_digit))
        };
        if separates_digits(group_separator) {
            rest = &rest[group_separator.len()..];
        } else if separates_digits(decimal_separator) {
            out.push('.');
            rest = &rest[decimal_separator.len()..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// `1234567` → `1,234,567`: digit groups of three from the right, none
/// below `10^(3 + minimum - 1)` (Spanish writes `1234` but `12 345`).
pub fn group_digits(integer: &str, separator: &str, minimum_grouping_digits: usize) -> String {
    if integer.len() < 3 + minimum_grouping_digits.max(1) {
        return integer.to_string();
    }
    let mut out = String::with_capacity(integer.len() + integer.len() / 3 * separator.len());
    for (i, c) in integer.chars().enumerate() {
        if i > 0 && (integer.len() - i).is_multiple_of(3) {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

/// `ucfirst`/`lcfirst`.
pub fn change_first(text: &str, upper: bool) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if upper => first.to_uppercase().chain(chars).collect(),
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `padleft`/`padright` to `length` characters with repeats of `pad`.
pub fn pad(text: &str, length: usize, pad: &str, left: bool) -> String {
    let have = text.chars().count();
    if have >= length {
        return text.to_string();
    }
    let padding: String = pad.chars().cycle().take(length - have).collect();
    if left {
        padding + text
    } else {
        format!("{text}{padding}")
    }
}

/// `#time`: `format` (PHP date letters) applied to `date` (empty: the
/// page's today). `None` when the date is not understood.
pub fn format_time(format: &str, date: &str, today: Date, templates: &Templates) -> Option<String> {
    let date = if date.trim().is_empty() || date.trim().eq_ignore_ascii_case("now") {
        today
    } else {
        parse_date(date, templates)?
    };
    let names = templates.calendar();
    let month_index = (date.month.clamp(1, 12) - 1) as usize;
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            'Y' => out.push_str(&date.year.to_string()),
            'y' => out.push_str(&format!("{:02}", date.year.rem_euclid(100))),
            'n' => out.push_str(&date.month.to_string()),
            'm' => out.push_str(&format!("{:02}", date.month)),
            'F' => out.push_str(&names.months[month_index]),
            'M' => out.push_str(&names.short_month(month_index)),
            'j' => out.push_str(&date.day.to_string()),
            'd' => out.push_str(&format!("{:02}", date.day)),
            'L' => out.push(if is_leap(date.year) { '1' } else { '0' }),
            't' => out.push_str(&days_in_month(date.year, date.month).to_string()),
            'N' => out.push_str(&(weekday(date) + 1).to_string()),
            'w' => out.push_str(&((weekday(date) + 1) % 7).to_string()),
            'l' => out.push_str(&names.weekdays[weekday(date)]),
            'D' => out.push_str(&names.weekdays[weekday(date)].chars().take(3).collect::<String>()),
            'x' => {
                // `xg`: the genitive month; other `x` codes are not supported.
                if chars.next() == Some('g') {
                    out.push_str(&names.genitive_month(month_index));
                }
            }
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '"' => {
                for quoted in chars.by_ref() {
                    if quoted == '"' {
                        break;
                    }
                    out.push(quoted);
                }
            }
            'H' | 'G' | 'i' | 's' | 'h' | 'g' | 'A' | 'a' => {
                let value = match c {
                    'H' => "00",
                    'G' | 'g' => "0",
                    'h' => "12",
                    'A' => "AM",
                    'a' => "am",
                    _ => "00",
                };
                out.push_str(value);
            }
            other => out.push(other),
        }
    }
    Some(out)
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub(super) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Monday = 0 (proleptic Gregorian, Sakamoto's method).
fn weekday(date: Date) -> usize {
    const OFFSETS: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let month = date.month.clamp(1, 12);
    let year = if month < 3 { date.year - 1 } else { date.year };
    let sunday_based = (year + year.div_euclid(4) - year.div_euclid(100)
        + year.div_euclid(400)
        + OFFSETS[(month - 1) as usize]
        + date.day as i32)
        .rem_euclid(7);
    ((sunday_based + 6) % 7) as usize
}

/// Reads the dates templates pass to `#time`: ISO (`1879-03-14`,
/// `1879-3`, `1879`, with a time after `T` or a space), `14 March 1879`,
/// `March 14, 1879`, `March 1879`, month names in English or the wiki's
/// language, and the digits-only timestamps PHP reads (`20110720`,
/// `20110720193159`: archive dates in `{{Wayback}}`).
pub fn parse_date(text: &str, templates: &Templates) -> Option<Date> {
    let text = text.trim();
    if (text.len() == 8 || text.len() == 14) && text.bytes().all(|b| b.is_ascii_digit()) {
        return Date::from_compact(text);
    }
    let iso = text.split(['T', ' ']).next().unwrap_or(text);
    let fields: Vec<&str> = iso.split('-').collect();
    let numeric = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    if fields.iter().all(|f| numeric(f)) && fields[0].len() == 4 && fields.len() <= 3 {
        let year = fields[0].parse().ok()?;
        let month = fields.get(1).map_or(Some(1), |m| m.parse().ok())?;
        let day = fields.get(2).map_or(Some(1), |d| d.parse().ok())?;
        return Date::new(year, month, day);
    }
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == '.')
        .filter(|w| !w.is_empty())
        .collect();
    let mut year = None;
    let mut day = None;
    let mut month = None;
    for word in words {
        if let Ok(number) = word.parse::<i32>() {
            if word.len() >= 3 || day.is_some() {
                year = Some(number);
            } else {
                day = Some(number as u32);
            }
        } else if let Some(m) = templates.calendar().month_number(word) {
            month = Some(m);
        } else {
            return None;
        }
    }
    // `14 1879` (no month) is not a date, nor is `March 14` (PHP would
    // take the current year: not reproducible).
    Date::new(year?, month?, day.unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_follow_mediawiki() {
        let value = |e: &str| evaluate(e).map(format_number);
        assert_eq!(value("1 + 2 * 3"), Ok("7".into()));
        assert_eq!(value("(1 + 2) * 3"), Ok("9".into()));
        assert_eq!(value("7 mod 3"), Ok("1".into()));
        assert_eq!(value("7 / 2"), Ok("3.5".into()));
        assert_eq!(value("10 / 3"), Ok("3.3333333333333".into()));
        assert_eq!(value("2 ^ 3 ^ 2"), Ok("512".into()));
        assert_eq!(value("3.14159 round 2"), Ok("3.14".into()));
        assert_eq!(value("2e3"), Ok("2000".into()));
        assert_eq!(value("-5 + 2"), Ok("-3".into()));
        assert_eq!(value("2 < 3 and 3 < 2"), Ok("0".into()));
        assert_eq!(value("not 0"), Ok("1".into()));
        assert_eq!(value("2026 - 1879 - ((3 < 3) or (3 = 3 and 2 < 14))"), Ok("146".into()));
        assert_eq!(value("1/0"), Err(ExprError));
        assert_eq!(value("5 mod 0"), Err(ExprError));
        assert_eq!(value("-9223372036854775808 mod -1"), Err(ExprError));
        assert_eq!(value("1 +"), Err(ExprError));
        assert_eq!(value("abc"), Err(ExprError));
        assert_eq!(value(""), Ok("0".into()));
        assert_eq!(format_number(1e20), "1.0E+20".replace(".0", ""));
    }

    #[test]
    fn padding_case_and_digit_groups() {
        assert_eq!(pad("7", 3, "0", true), "007");
        assert_eq!(pad("ab", 5, "xy", false), "abxyx");
        assert_eq!(change_first("élan", true), "Élan");
        assert_eq!(group_digits("1234567", ",", 1), "1,234,567");
        assert_eq!(group_digits("1234", " ", 2), "1234");
        assert_eq!(group_digits("12345", " ", 2), "12 345");
    }

    #[test]
    fn weekdays() {
        // 14 March 1879 was a Friday; 1 January 2000 a Saturday.
        assert_eq!(weekday(Date::new(1879, 3, 14).unwrap()), 4);
        assert_eq!(weekday(Date::new(2000, 1, 1).unwrap()), 5);
    }
}
