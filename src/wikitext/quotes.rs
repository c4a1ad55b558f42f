//! Bold and italic: runs of apostrophes, removed by MediaWiki's rules
//! (`Parser::doQuotes`), so apostrophes that are text stay.
//!
//! `''` is italic, `'''` bold, `'''''` both; four apostrophes are one
//! literal `'` and bold, more than five are literal apostrophes and both.
//! When a line has an odd number of both italics and bolds, one `'''` is
//! really an apostrophe followed by italics: preferably one after a
//! one-letter word (`l'''amour''`), else after a longer word
//! (`''Iliad'''s`), else after a space.

/// Removes the formatting apostrophes of one line.
pub fn strip_quotes(line: &str) -> String {
    if !line.contains("''") {
        return line.to_string();
    }
    // Alternating text and apostrophe runs: text, run, text, run, ..., text.
    let mut texts: Vec<String> = Vec::new();
    let mut runs: Vec<usize> = Vec::new();
    let mut current = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' && chars.peek() == Some(&'\'') {
            let mut len = 1;
            while chars.peek() == Some(&'\'') {
                chars.next();
                len += 1;
            }
            texts.push(std::mem::take(&mut current));
            runs.push(len);
        } else {
            current.push(c);
        }
    }
    texts.push(current);

    let (mut italics, mut bolds) = (0, 0);
    for (i, run) in runs.iter_mut().enumerate() {
        if *run == 4 {
            texts[i].push('\'');
            *run = 3;
        } else if *run > 5 {
            texts[i].push_str(&"'".repeat(*run - 5));
            *run = 5;
        }
        match *run {
            2 => italics += 1,
            3 => bolds += 1,
            5 => {
                italics += 1;
                bolds += 1;
            }
            _ => {}
        }
    }
    if italics % 2 == 1 && bolds % 2 == 1 {
        if let Some(i) = apostrophe_bold(&texts, &runs) {
            texts[i].push('\'');
            runs[i] = 2;
        }
    }
    texts.concat()
}

/// Which `'''` run is an apostrophe plus italics (see the module docs).
fn apostrophe_bold(texts: &[String], runs: &[usize]) -> Option<usize> {
    let (mut single_letter, mut multi_letter, mut space) = (None, None, None);
    for (i, &run) in runs.iter().enumerate() {
        if run != 3 {
            continue;
        }
        let mut before = texts[i].chars().rev();
        let x1 = before.next().unwrap_or(' ');
        let x2 = before.next().unwrap_or(' ');
        if x1 == ' ' {
            space.get_or_insert(i);
        } else if x2 == ' ' {
            single_letter = Some(i);
            break;
        } else {
            multi_letter.get_or_insert(i);
        }
    }
    single_letter.or(multi_letter).or(space)
}

#[cfg(test)]
mod tests {
    use super::strip_quotes;

    #[test]
    fn mediawiki_quote_rules() {
        assert_eq!(strip_quotes("''Iliad'''s hero"), "Iliad's hero");
        assert_eq!(strip_quotes("l'''amour''"), "l'amour");
        assert_eq!(strip_quotes("'''bold''' ''it'' '''''both'''''"), "bold it both");
        assert_eq!(strip_quotes("''''four''''"), "'four'");
        assert_eq!(strip_quotes("rock 'n' roll"), "rock 'n' roll");
        assert_eq!(strip_quotes("'''''''x'''''''"), "''x''");
    }
}
