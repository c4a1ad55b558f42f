//! `{{IPAc-en}}`: an English pronunciation written as phoneme codes, one
//! per argument (`{{IPAc-en|s|I|'|j|u:|r|I|d|eI}}`), shown in IPA between
//! slashes (`/sɪˈjuːrɪdeɪ/`). The codes are the template's documented
//! ASCII keys (`I` ɪ, `u:` uː, `eI` eɪ, `'` ˈ, `,` ˌ, `_` a space); IPA
//! written directly passes through, as it does in the template. Leading
//! labels (`UK`, `US`, `lang`, `also`) are written as words before the
//! transcription they label.

use super::expand::Args;

/// Phoneme codes and what the template shows for them.
const PHONEMES: &[(&str, &str)] = &[
    ("I", "ɪ"),
    ("i:", "iː"),
    ("E", "ɛ"),
    ("e", "ɛ"),
    ("{", "æ"),
    ("ae", "æ"),
    ("A:", "ɑː"),
    ("ah", "ɑː"),
    ("Q", "ɒ"),
    ("o", "ɒ"),
    ("O:", "ɔː"),
    ("aw", "ɔː"),
    ("U", "ʊ"),
    ("u:", "uː"),
    ("oo", "uː"),
    ("V", "ʌ"),
    ("uh", "ʌ"),
    ("@", "ə"),
    ("3:", "ɜː"),
    ("eI", "eɪ"),
    ("ei", "eɪ"),
    ("aI", "aɪ"),
    ("ai", "aɪ"),
    ("OI", "ɔɪ"),
    ("oi", "ɔɪ"),
    ("oU", "oʊ"),
    ("ou", "oʊ"),
    ("aU", "aʊ"),
    ("au", "aʊ"),
    ("ow", "aʊ"),
    ("Ir", "ɪər"),
    ("ir", "ɪər"),
    ("Er", "ɛər"),
    ("er", "ɛər"),
    ("Ur", "ʊər"),
    ("ur", "ʊər"),
    ("ar", "ɑːr"),
    ("or", "ɔːr"),
    ("3r", "ɜːr"),
    ("@r", "ər"),
    ("@l", "əl"),
    ("@n", "ən"),
    ("g", "ɡ"),
    ("dZ", "dʒ"),
    ("dj", "dʒ"),
    ("tS", "tʃ"),
    ("tsh", "tʃ"),
    ("ch", "tʃ"),
    ("S", "ʃ"),
    ("sh", "ʃ"),
    ("Z", "ʒ"),
    ("zh", "ʒ"),
    ("T", "θ"),
    ("th", "θ"),
    ("D", "ð"),
    ("dh", "ð"),
    ("N", "ŋ"),
    ("ng", "ŋ"),
    ("'", "ˈ"),
    ("\"", "ˌ"),
    (",", "ˌ"),
    ("_", " "),
    (",_", ", "),
];

/// Labels before a transcription.
const LABELS: &[(&str, &str)] = &[
    ("lang", "English:"),
    ("UK", "UK:"),
    ("US", "US:"),
    ("also", "also"),
    ("or", "or"),
    ("local", "locally"),
];

/// Renders an `{{IPAc-en}}` call; see the module docs.
pub fn render(args: &Args) -> String {
    let mut out = String::new();
    let mut open = false;
    for code in args.positionals() {
        let code = code.trim();
        if code.is_empty() {
            continue;
        }
        if let Some((_, label)) = LABELS.iter().find(|(key, _)| *key == code).filter(|_| !open) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(label);
            continue;
        }
        if !open {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push('/');
            open = true;
        }
        match PHONEMES.iter().find(|(key, _)| *key == code) {
            Some((_, ipa)) => out.push_str(ipa),
            None => out.push_str(code),
        }
    }
    if open {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipa(codes: &[&str]) -> String {
        let names: Vec<String> = (1..=codes.len()).map(|n| n.to_string()).collect();
        let pairs: Vec<(&str, &str)> = names.iter().map(String::as_str).zip(codes.iter().copied()).collect();
        render(&Args::from_pairs(&pairs))
    }

    /// Examples of the template's documentation.
    #[test]
    fn codes_become_ipa() {
        assert_eq!(ipa(&["'", "aI", "n", "s", "t", "aI", "n"]), "/ˈaɪnstaɪn/");
        assert_eq!(
            ipa(&["s", "I", "'", "j", "u:", "r", "I", "d", "eI", ",_", "-", "d", "i:"]),
            "/sɪˈjuːrɪdeɪ, -diː/"
        );
        assert_eq!(ipa(&["UK", "'", "b", "{", "T"]), "UK: /ˈbæθ/");
        assert_eq!(ipa(&["ˈ", "ʃ", "ɛ"]), "/ˈʃɛ/");
        assert_eq!(ipa(&[]), "");
    }
}
