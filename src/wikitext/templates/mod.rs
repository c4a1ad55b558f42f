//! Templates that write prose — dates, quantities, numbers, language
//! wrappers, `{{nowrap}}`, interlanguage links — rendered as the reader sees
//! them; every other template (infoboxes, citations, navboxes, maintenance
//! tags) dropped, as MediaWiki's own search text drops them.
//!
//! What a wiki's templates write is data, not code: one TOML file per
//! language in `data/templates/` (embedded in the binary), each template a
//! short wikitext body (`"{{{2}}}"` for `{{lang|fr|texte}}`) evaluated with
//! parameters and parser functions, or a built-in renderer where the real
//! template is a Lua module (`convert`). Users add or override templates
//! with `--templates FILE` in the same format, without recompiling; see
//! `data/templates/README.md`.
//!
//! - [`parse`]: the call structure (`{{...}}`, `{{{...}}}`), as a flat arena;
//! - [`expand`]: calls → text, within a per-page budget;
//! - [`functions`]: parser functions and magic words;
//! - [`convert`]: `{{convert}}`'s units and rounding.

pub mod citation;
pub mod convert;
pub mod coord;
pub mod expand;
pub mod french_date;
pub mod functions;
pub mod ipa;
pub mod parse;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use serde::Deserialize;

pub use expand::{expand, PageContext};

/// The files in `data/templates/`, by language code.
const EMBEDDED: &[(&str, &str)] = &[
    ("en", include_str!("../../../data/templates/en.toml")),
    ("fr", include_str!("../../../data/templates/fr.toml")),
    ("de", include_str!("../../../data/templates/de.toml")),
    ("es", include_str!("../../../data/templates/es.toml")),
    ("it", include_str!("../../../data/templates/it.toml")),
    ("pt", include_str!("../../../data/templates/pt.toml")),
    ("ru", include_str!("../../../data/templates/ru.toml")),
    ("ja", include_str!("../../../data/templates/ja.toml")),
    ("zh", include_str!("../../../data/templates/zh.toml")),
    ("bg", include_str!("../../../data/templates/bg.toml")),
];

/// Templates with the same name and output on most wikis, for a wiki whose
/// language has no file of its own (`data/templates/common.toml`).
const COMMON: &str = include_str!("../../../data/templates/common.toml");

/// The common file, parsed once per process.
fn common_file() -> &'static TemplateFile {
    static PARSED: std::sync::OnceLock<TemplateFile> = std::sync::OnceLock::new();
    PARSED.get_or_init(|| parse_file(COMMON).expect("the common template file is checked by tests"))
}

/// The embedded file for a language, parsed once per process (every split
/// of a dump builds its wiki's [`Templates`] from it).
fn embedded_file(code: &str) -> Option<&'static TemplateFile> {
    static PARSED: std::sync::OnceLock<Vec<(&str, TemplateFile)>> = std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| {
            EMBEDDED
                .iter()
                .map(|(code, text)| {
                    (
                        *code,
                        parse_file(text).expect("embedded template files are checked by tests"),
                    )
                })
                .collect()
        })
        .iter()
        .find(|(language, _)| *language == code)
        .map(|(_, file)| file)
}

/// A calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// A valid date, or `None` (month 13, day 0, 31 February).
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        ((1..=12).contains(&month) && (1..=functions::days_in_month(year, month)).contains(&day)).then_some(Date {
            year,
            month,
            day,
        })
    }

    /// `20240601` in a dump's file name, or an ISO timestamp's date.
    pub fn from_compact(text: &str) -> Option<Date> {
        let digits: String = text.chars().filter(char::is_ascii_digit).take(8).collect();
        if digits.len() != 8 {
            return None;
        }
        Date::new(
            digits[..4].parse().ok()?,
            digits[4..6].parse().ok()?,
            digits[6..].parse().ok()?,
        )
    }
}

/// "Today" for a page with neither a dated dump file nor a revision
/// timestamp: a fixed day, so output never depends on when it was made.
pub const UNDATED: Date = Date {
    year: 2001,
    month: 1,
    day: 15,
};

/// The date in a dump's file name (`enwiki-20240601-pages-articles.xml.bz2`,
/// `frwiki_content-20241104-00001.json.bz2`): eight digits that make a day.
pub fn date_in_file_name(path: &str) -> Option<Date> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let bytes = name.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let run = bytes[at..].iter().take_while(|b| b.is_ascii_digit()).count();
        if run == 8 {
            if let Some(date) = Date::from_compact(&name[at..at + 8]).filter(|d| (1990..2200).contains(&d.year)) {
                return Some(date);
            }
        }
        at += run.max(1);
    }
    None
}

/// What a template is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Definition {
    /// A wikitext body with `{{{1}}}`-style parameters.
    Wikitext(String),
    /// A renderer in wikitok.
    Builtin(Builtin),
}

/// Templates whose real definitions are Lua modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// English Wikipedia's `{{convert}}`.
    Convert,
    /// `{{coord}}`: coordinates in degrees, minutes and seconds.
    Coord,
    /// A citation module's templates (`{{cite book}}`, `{{Ouvrage}}`).
    Citation(citation::Style),
    /// French Wikipedia's `{{date}}` family (`Module:Date`).
    FrenchDate,
    /// `{{IPAc-en}}`: phoneme codes shown in IPA.
    IpacEn,
}

/// The names `{ builtin = "…" }` takes, for error messages.
const BUILTIN_NAMES: &str =
    "convert, coord, date fr, ipac-en, cs1, biblio, literatur, internetquelle, книга, статья, harv, harvnb, harvtxt";

impl Builtin {
    fn named(name: &str) -> Option<Builtin> {
        match name {
            "convert" => Some(Builtin::Convert),
            "coord" => Some(Builtin::Coord),
            "date fr" => Some(Builtin::FrenchDate),
            "ipac-en" => Some(Builtin::IpacEn),
            _ => citation::Style::named(name).map(Builtin::Citation),
        }
    }

    pub fn render(self, args: &expand::Args, templates: &Templates) -> String {
        match self {
            Builtin::Convert => convert::render(args),
            Builtin::Coord => coord::render(args),
            Builtin::Citation(style) => style.render(args, templates),
            Builtin::FrenchDate => french_date::render(args, templates),
            Builtin::IpacEn => ipa::render(args),
        }
    }
}

/// Month and weekday names of a language.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    pub months: Vec<String>,
    /// Month names as `#time`'s `xg` writes them (Slavic genitives).
    #[serde(default)]
    pub months_genitive: Vec<String>,
    #[serde(default)]
    pub months_short: Vec<String>,
    pub weekdays: Vec<String>,
}

impl Calendar {
    fn english() -> Calendar {
        let words = |s: &str| s.split(' ').map(str::to_string).collect();
        Calendar {
            months: words("January February March April May June July August September October November December"),
            months_genitive: Vec::new(),
            months_short: Vec::new(),
            weekdays: words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday"),
        }
    }

    pub fn short_month(&self, index: usize) -> String {
        match self.months_short.get(index) {
            Some(short) => short.clone(),
            None => self.months[index].chars().take(3).collect(),
        }
    }

    pub fn genitive_month(&self, index: usize) -> String {
        self.months_genitive.get(index).unwrap_or(&self.months[index]).clone()
    }

    /// 1..=12 for a month name (full, genitive or short; this language or
    /// English), case-insensitive.
    pub fn month_number(&self, word: &str) -> Option<u32> {
        static ENGLISH: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
        let word = word.to_lowercase();
        for calendar in [self, ENGLISH.get_or_init(Calendar::english)] {
            for list in [&calendar.months, &calendar.months_genitive, &calendar.months_short] {
                if let Some(index) = list.iter().position(|m| m.to_lowercase() == word) {
                    return Some(index as u32 + 1);
                }
            }
            if word.chars().count() >= 3 {
                if let Some(index) = calendar.months.iter().position(|m| {
                    let m = m.to_lowercase();
                    m.starts_with(&word) || m.chars().take(3).eq(word.chars().take(3)) && word.chars().count() == 3
                }) {
                    return Some(index as u32 + 1);
                }
            }
        }
        None
    }
}

/// How a language writes numbers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Numbers {
    pub decimal_separator: String,
    pub group_separator: String,
    /// Digits above the first group before grouping starts (`2` in
    /// Spanish: 1234 but 12 345).
    #[serde(default = "one")]
    pub minimum_grouping_digits: usize,
}

fn one() -> usize {
    1
}

/// One template data file (see `data/templates/README.md`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    /// The wiki language the file is for; a user file without one applies
    /// to every wiki.
    language: Option<String>,
    calendar: Option<Calendar>,
    numbers: Option<Numbers>,
    /// Local names of the `Template:` namespace (`Modèle`, `Vorlage`).
    #[serde(default)]
    template_namespaces: Vec<String>,
    /// `#language` names: code → name in this language.
    #[serde(default)]
    language_names: BTreeMap<String, String>,
    #[serde(default)]
    templates: BTreeMap<String, FileDefinition>,
    /// Other names of templates: alias → name.
    #[serde(default)]
    aliases: BTreeMap<String, String>,
    /// Templates that open a region dropped with its content, up to the
    /// template that closes it: opener → closer (`refbegin = "refend"`).
    #[serde(default)]
    regions: BTreeMap<String, String>,
    /// Suffixes of the wiki's numbered ordinal templates: with `["e"]`,
    /// `{{23e}}` is `23e` and `{{23e|place}}` is `23e place`.
    #[serde(default)]
    ordinal_suffixes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FileDefinition {
    Wikitext(String),
    Builtin { builtin: String },
}

/// Template files a user gave with `--templates`, parsed once per run.
#[derive(Debug, Default, Clone)]
pub struct UserTemplates {
    files: Vec<Arc<TemplateFile>>,
}

impl UserTemplates {
    /// Reads and checks `paths`; errors name the file and what is wrong.
    pub fn load(paths: &[impl AsRef<Path>]) -> Result<UserTemplates> {
        let mut files = Vec::new();
        for path in paths {
            let path = path.as_ref();
            let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
            let file = parse_file(&text).with_context(|| format!("{}: not a template file", path.display()))?;
            files.push(Arc::new(file));
        }
        Ok(UserTemplates { files })
    }
}

fn parse_file(text: &str) -> Result<TemplateFile> {
    let file: TemplateFile = toml::from_str(text)?;
    for (name, definition) in &file.templates {
        if let FileDefinition::Builtin { builtin } = definition {
            anyhow::ensure!(
                Builtin::named(builtin).is_some(),
                "template {name:?}: unknown builtin {builtin:?} (known: {BUILTIN_NAMES})"
            );
        }
    }
    if let Some(calendar) = &file.calendar {
        anyhow::ensure!(calendar.months.len() == 12, "calendar.months must list 12 months");
        anyhow::ensure!(
            calendar.weekdays.len() == 7,
            "calendar.weekdays must list 7 days, Monday first"
        );
    }
    Ok(file)
}

/// The templates, calendar and number format of one wiki.
#[derive(Debug, Clone)]
pub struct Templates {
    calendar: Calendar,
    numbers: Numbers,
    language_names: HashMap<String, String>,
    /// Normalized name → definition.
    definitions: HashMap<String, Definition>,
    /// Lower-cased name → normalized name, for calls with other capitals.
    folded: HashMap<String, String>,
    aliases: HashMap<String, String>,
    /// Lower-cased namespace prefixes that name a template (`template`).
    namespaces: Vec<String>,
    /// Region openers → closers, both as [`Templates::canonical`] names.
    regions: HashMap<String, String>,
    /// See `TemplateFile::ordinal_suffixes`.
    ordinal_suffixes: Vec<String>,
}

impl Default for Templates {
    fn default() -> Self {
        Templates {
            calendar: Calendar::english(),
            numbers: Numbers {
                decimal_separator: ".".into(),
                group_separator: ",".into(),
                minimum_grouping_digits: 1,
            },
            language_names: HashMap::new(),
            definitions: HashMap::new(),
            folded: HashMap::new(),
            aliases: HashMap::new(),
            namespaces: vec!["template".into()],
            regions: HashMap::new(),
            ordinal_suffixes: Vec::new(),
        }
    }
}

impl Templates {
    /// The built-in file for `language` (`xml:lang` of the dump: `fr`,
    /// `pt-br`), then the user's files for it; a language without a file
    /// gets the templates common to most wikis (`common.toml`), parser
    /// functions with English names, and the user's files.
    pub fn for_wiki(language: Option<&str>, local_template_namespace: Option<&str>, user: &UserTemplates) -> Templates {
        let code = language
            .unwrap_or("en")
            .split('-')
            .next()
            .unwrap_or("en")
            .to_ascii_lowercase();
        let mut templates = Templates::default();
        templates.add(embedded_file(&code).unwrap_or_else(|| common_file()));
        for user_file in &user.files {
            if user_file
                .language
                .as_deref()
                .is_none_or(|l| l.eq_ignore_ascii_case(&code))
            {
                templates.add(user_file);
            }
        }
        if let Some(local) = local_template_namespace {
            templates.namespaces.push(local.to_lowercase());
        }
        templates
    }

    /// English Wikipedia's templates.
    pub fn english() -> Templates {
        Templates::for_wiki(Some("en"), None, &UserTemplates::default())
    }

    fn add(&mut self, file: &TemplateFile) {
        if let Some(calendar) = &file.calendar {
            self.calendar = calendar.clone();
        }
        if let Some(numbers) = &file.numbers {
            self.numbers = numbers.clone();
        }
        self.namespaces
            .extend(file.template_namespaces.iter().map(|n| n.to_lowercase()));
        for (code, name) in &file.language_names {
            self.language_names.insert(code.to_lowercase(), name.clone());
        }
        for (name, definition) in &file.templates {
            let key = normalize(name);
            let definition = match definition {
                FileDefinition::Wikitext(body) => Definition::Wikitext(body.clone()),
                FileDefinition::Builtin { builtin } => {
                    Definition::Builtin(Builtin::named(builtin).expect("checked when parsed"))
                }
            };
            self.aliases.remove(&key);
            self.folded.insert(key.to_lowercase(), key.clone());
            self.definitions.insert(key, definition);
        }
        for (alias, name) in &file.aliases {
            let key = normalize(alias);
            self.folded.insert(key.to_lowercase(), key.clone());
            self.aliases.insert(key, normalize(name));
        }
        self.ordinal_suffixes.extend(file.ordinal_suffixes.iter().cloned());
        for (opener, closer) in &file.regions {
            let (opener, closer) = (self.canonical(opener), self.canonical(closer));
            self.regions.insert(opener, closer);
        }
    }

    /// A template name as one key for every way of writing it: prefix off,
    /// normalized, aliases followed, lower-cased.
    fn canonical(&self, name: &str) -> String {
        let mut key = normalize(name);
        if let Some((prefix, rest)) = key.split_once(':') {
            if self.namespaces.contains(&prefix.trim().to_lowercase()) {
                key = normalize(rest);
            }
        }
        for _ in 0..8 {
            match self.aliases.get(&key) {
                Some(target) => key = target.clone(),
                None => break,
            }
        }
        key.to_lowercase()
    }

    /// `23e` for a call of `{{23e}}` on a wiki whose ordinal suffixes
    /// include `e` (and which has no template of that name).
    pub fn numbered_ordinal<'n>(&self, name: &'n str) -> Option<&'n str> {
        let digits = name.bytes().take_while(u8::is_ascii_digit).count();
        let suffix = &name[digits..];
        (digits > 0 && self.ordinal_suffixes.iter().any(|s| s == suffix) && self.lookup(name).is_none()).then_some(name)
    }

    /// The closing template of the region `name` opens, if it opens one.
    pub fn region_closer(&self, name: &str) -> Option<&str> {
        if self.regions.is_empty() {
            return None;
        }
        self.regions.get(&self.canonical(name)).map(String::as_str)
    }

    /// Whether `name` calls the template `canonical` names.
    pub fn same_template(&self, name: &str, canonical: &str) -> bool {
        self.canonical(name) == canonical
    }

    /// The definition `{{name}}` calls, following aliases; `None` for a
    /// template that does not write prose (or that wikitok does not know).
    pub fn lookup(&self, name: &str) -> Option<&Definition> {
        let mut key = normalize(name);
        if let Some((prefix, rest)) = key.split_once(':') {
            let prefix = prefix.trim().to_lowercase();
            if self.namespaces.contains(&prefix) || matches!(prefix.as_str(), "subst" | "safesubst") {
                key = normalize(rest);
            } else {
                // `{{:Article}}`, `{{Wikipedia:...}}`: a page, not a template.
                return None;
            }
        }
        for _ in 0..8 {
            if let Some(definition) = self.definitions.get(&key) {
                return Some(definition);
            }
            if let Some(target) = self.aliases.get(&key) {
                key = target.clone();
                continue;
            }
            match self.folded.get(&key.to_lowercase()) {
                Some(exact) if *exact != key => key = exact.clone(),
                _ => return None,
            }
        }
        None
    }

    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    pub fn numbers(&self) -> &Numbers {
        &self.numbers
    }

    pub fn language_name(&self, code: &str) -> Option<&str> {
        self.language_names.get(&code.trim().to_lowercase()).map(String::as_str)
    }
}

/// A template name as MediaWiki compares titles: spaces for underscores,
/// runs of spaces collapsed, first letter upper-case.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for word in name
        .split(|c: char| c == '_' || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    functions::change_first(&out, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> PageContext<'static> {
        page_titled("Albert Einstein")
    }

    fn page_titled(title: &str) -> PageContext<'_> {
        PageContext {
            title,
            today: Date::new(2026, 3, 1).unwrap(),
        }
    }

    fn en(source: &str) -> String {
        expand(source, &Templates::english(), &page())
    }

    fn language(code: &str, source: &str) -> String {
        expand(
            source,
            &Templates::for_wiki(Some(code), None, &UserTemplates::default()),
            &page(),
        )
    }

    #[test]
    fn every_embedded_file_parses() {
        for (language, text) in EMBEDDED {
            let file = parse_file(text).unwrap_or_else(|e| panic!("{language}: {e:#}"));
            assert_eq!(file.language.as_deref(), Some(*language));
            let templates = Templates::for_wiki(Some(language), None, &UserTemplates::default());
            let defined: std::collections::HashSet<String> =
                file.templates.keys().map(|name| normalize(name)).collect();
            for alias in file.aliases.keys() {
                assert!(
                    templates.lookup(alias).is_some(),
                    "{language}: alias {alias:?} leads nowhere"
                );
                assert!(
                    !defined.contains(&normalize(alias)),
                    "{language}: {alias:?} is both a template and an alias"
                );
            }
        }
    }

    /// A wiki whose language has no file (nlwiki, svwiki, cebwiki) gets the
    /// templates most wikis share; a language with a file only its own.
    #[test]
    fn wikis_without_a_file_get_the_common_templates() {
        let file = parse_file(COMMON).expect("common.toml parses");
        assert_eq!(file.language, None, "common to every language");
        assert_eq!(
            language("nl", "Het {{nowrap|1 000 km}} lange {{lang|en|river}}{{Foo|x}}."),
            "Het 1 000 km lange river."
        );
        assert!(language("sv", "{{coord|59|19|N|18|4|E}}").starts_with("59°19′N 18°4′E"));
        let common = Templates::for_wiki(Some("nl"), None, &UserTemplates::default());
        for alias in file.aliases.keys() {
            assert!(common.lookup(alias).is_some(), "alias {alias:?} leads nowhere");
        }
        let french = Templates::for_wiki(Some("fr"), None, &UserTemplates::default());
        assert!(
            french.lookup("small").is_none(),
            "frwiki's file replaces the common one"
        );
    }

    #[test]
    fn dump_dates_come_from_file_names() {
        assert_eq!(
            date_in_file_name("/d/enwiki-20240601-pages-articles1.xml-p1p41242.bz2"),
            Date::new(2024, 6, 1)
        );
        assert_eq!(date_in_file_name("enwiki-latest-pages-articles.xml.bz2"), None);
        assert_eq!(date_in_file_name("x-p000000010p000030302.bz2"), None);
    }

    #[test]
    fn parser_functions() {
        assert_eq!(en("{{#if: x | yes | no }}"), "yes");
        assert_eq!(en("{{#if:  | yes | no }}"), "no");
        assert_eq!(en("{{#ifeq: 01 | 1 | same | different}}"), "same");
        assert_eq!(en("{{#ifeq: a | b | same | different}}"), "different");
        assert_eq!(en("{{#switch: b | a = A | b = B | #default = D}}"), "B");
        assert_eq!(en("{{#switch: c | a | c = AC | D}}"), "AC");
        assert_eq!(en("{{#switch: z | a = A | D}}"), "D");
        assert_eq!(en("{{#expr: 2 * (3 + 4)}}"), "14");
        assert_eq!(en("{{#iferror: {{#expr: 1/0}} | bad | good}}"), "bad");
        assert_eq!(en("{{#ifexpr: 3 > 2 | yes | no}}"), "yes");
        assert_eq!(en("{{#time: j F Y | 1879-03-14}}"), "14 March 1879");
        assert_eq!(en("{{#time: F j, Y | 14 March 1879}}"), "March 14, 1879");
        assert_eq!(en("{{#time: Y}}"), "2026");
        assert_eq!(en("{{formatnum:1234567.89}}"), "1,234,567.89");
        assert_eq!(en("{{formatnum:1,234|R}}"), "1234");
        assert_eq!(
            en("{{lc:ABC}} {{uc:abc}} {{ucfirst:abc}} {{lcfirst:ABC}}"),
            "abc ABC Abc aBC"
        );
        assert_eq!(en("{{padleft:7|3|0}}"), "007");
        assert_eq!(en("{{PAGENAME}} in {{CURRENTYEAR}}"), "Albert Einstein in 2026");
        assert_eq!(en("a {{!}} b"), "a | b");
        assert_eq!(en("{{#invoke:Foo|bar}}x"), "x");
        assert_eq!(language("fr", "{{formatnum:1234567,5}}"), "1 234 567,5");
        assert_eq!(
            language("fr", "{{unité|10000 à 35000|individus}}"),
            "10 000 à 35 000&#32;individus"
        );
        assert_eq!(en("{{formatnum:about 1234.5 or -20000}}"), "about 1,234.5 or -20,000");
        // What is written the wiki's way already stays as written.
        assert_eq!(language("fr", "{{formatnum:3,14159}}"), "3,14159");
        assert_eq!(language("fr", "{{formatnum:1 234,5678}}"), "1 234,5678");
        assert_eq!(language("de", "{{formatnum:1.234.567}}"), "1.234.567");
        assert_eq!(en("{{formatnum:&#8239;12345&#x2009;}}"), "&#8239;12,345&#x2009;");
        assert_eq!(language("ja", "{{formatnum:約10000人}}"), "約10,000人");
        assert_eq!(language("ru", "{{formatnum:1234 и 12345}}"), "1234 и 12 345");
        assert_eq!(language("fr", "{{formatnum:10 000 à 35 000,5|R}}"), "10000 à 35000.5");
        assert_eq!(en("{{#time: j F Y | 20110720}}"), "20 July 2011");
        assert_eq!(en("{{#time: j F Y | 20110720193159}}"), "20 July 2011");
        for not_a_day in ["20110231", "20111320", "20110732", "201107201931"] {
            assert_eq!(
                en(&format!("{{{{#iferror:{{{{#time: j F Y | {not_a_day}}}}}|bad}}}}")),
                "bad",
                "{not_a_day}"
            );
        }
        assert_eq!(language("fr", "{{formatnum:1234567.5}}"), "1 234 567,5");
        assert_eq!(language("fr", "{{sp-|XVIII|e|et|XIX|e}}"), "XVIIIe et XIXe siècles");
        assert_eq!(
            language("fr", "{{XIXe siècle}}, {{Ier siècle}}, {{s mini-|XIX|e}}"),
            "XIXe siècle, Ier siècle, XIXe"
        );
        assert_eq!(language("de", "{{#time: j. F Y | 1879-03-14}}"), "14. März 1879");
        assert_eq!(language("ru", "{{#time: j xg Y | 1879-03-14}}"), "14 марта 1879");
    }

    #[test]
    fn templates_write_their_prose_and_others_go() {
        assert_eq!(en("At {{convert|10|km|mi}}, it"), "At 10 kilometres (6.2 mi), it");
        assert_eq!(en("{{nowrap|10 km}}"), "10 km");
        assert_eq!(en("{{lang|fr|''texte''}}"), "''texte''");
        assert_eq!(
            en("{{Infobox person|name=X|birth_date={{birth date|1879|3|14}}}}Text"),
            "Text"
        );
        assert_eq!(en("Born {{birth date|1879|3|14}}."), "Born March 14, 1879.");
        assert_eq!(en("Born {{Birth date|1879|3|14|df=y}}."), "Born 14 March 1879.");
        assert_eq!(en("Born {{birth_date|1879|3|14}}."), "Born March 14, 1879.");
        assert_eq!(en("Born {{Template:Birth date|1879|3|14}}."), "Born March 14, 1879.");
        assert_eq!(en("{{cite web|url=x|title=y|website=Z}}"), "\"y\". Z.");
        assert_eq!(
            en("{{RailGauge|sg}} track in {{music|flat}}; {{Nuclide2|Carbon|14}}"),
            "1,435 mm (4 ft 8+1⁄2 in) standard gauge track in ♭; carbon-14"
        );
        assert_eq!(en("{{Citation needed|date=May 2020}}"), "");
        assert_eq!(en("{{unknown template|a|b}}x"), "x");
        assert_eq!(en("{{{1|default}}} and {{{2}}}"), "default and ");
    }

    /// `{{refbegin}} … {{refend}}` goes with what it encloses; left open,
    /// it ends at the next heading.
    #[test]
    fn regions_are_dropped_whole() {
        assert_eq!(
            en("a\n{{Refbegin|30em}}\n* {{cite book|title=T}}\n{{refend}}\nb"),
            "a\n\nb"
        );
        assert_eq!(en("a\n{{refbegin}}\n* x\n== Next ==\nc"), "a\n\n== Next ==\nc");
        assert_eq!(en("{{refend}} stays"), " stays");
    }

    #[test]
    fn each_wikis_citation_templates() {
        assert_eq!(
            language("ru", "{{Книга|автор=А. Б.|заглавие=В|год=2000}}"),
            "А. Б. В. — 2000."
        );
        assert_eq!(
            language("de", "{{Literatur|Titel=T|Ort=Bern|Jahr=1905}}"),
            "T. Bern 1905."
        );
        assert_eq!(language("ja", "{{Cite web|title=T|website=W}}"), "\"T\". W.");
        assert_eq!(en("{{Citation|last=L|title=T|year=1}}"), "L (1). T.");
    }

    /// Readings, ranged notes, ages at death and unit conversions on
    /// jawiki; links to untranslated articles on ruwiki.
    #[test]
    fn japanese_and_russian_prose_templates() {
        assert_eq!(
            language(
                "ja",
                "{{読み仮名|東京|とうきょう}}、{{要出典範囲|開業した|date=2020年1月}}"
            ),
            "東京（とうきょう）、開業した"
        );
        assert_eq!(
            language("ja", "{{死亡年月日と没年齢|1900|3|5|1980|2|2}}、{{convert|10|km|mi}}"),
            "1980年2月2日（79歳没）、10 km (6.2 mi)"
        );
        assert_eq!(
            language("ja", "{{convert|10|km|2}}; {{convert|10|km|mi|disp=flip}}"),
            "10 km (6.21 mi); 6.2 mi (10 km)"
        );
        assert_eq!(
            language(
                "ru",
                "{{нп5|Иванов, Пётр|Пётр Иванов|en|Peter Ivanov}} и {{нп3|Сидоров||de|Sidorow}}"
            ),
            "Пётр Иванов и Сидоров"
        );
        assert_eq!(
            language("ru", "{{tr-en|белка}}; {{Цитата|Текст.|Автор|Источник}}"),
            "с англ. — «белка»; Текст.&#10;— Автор, Источник"
        );
        assert_eq!(language("ja", "（{{没年齢|1900|3|5|1980|2|2}}）"), "（79歳没）");
        assert_eq!(
            language("ja", "{{Twitter|ONEOKROCK_japan|ONE OK ROCK_official}}; {{Facebook|X}}"),
            "ONE OK ROCK_official (@ONEOKROCK_japan) - Twitter; Albert Einstein - Facebook"
        );
    }

    /// Quotations with their attribution, and the lines External links
    /// sections write with templates.
    #[test]
    fn quotations_and_external_link_lines() {
        assert_eq!(
            en("{{quotation|Words.|Douglas Adams|Grand Hotel}}"),
            "Words.&#10;— Douglas Adams, Grand Hotel"
        );
        assert_eq!(en("{{Quote|text=Words.}}"), "Words.");
        assert_eq!(
            en("{{Find a Grave|22814}}; {{Commons category-inline}}"),
            "Albert Einstein at Find a Grave; Media related to Albert Einstein at Wikimedia Commons"
        );
        assert_eq!(
            en("{{Wayback|df=yes|date=20110720193159|url=http://x.org/|title=Site}}"),
            "Site at the Wayback Machine&#32;(archived 20 July 2011)"
        );
        let titled = |title, source| expand(source, &Templates::english(), &page_titled(title));
        assert_eq!(
            titled("Douglas Adams (writer)", "{{IMDb name|0010930}}"),
            "Douglas Adams at IMDb"
        );
        let titled = |title| titled(title, "{{PAGENAMEBASE}}");
        assert_eq!(titled("Foo (a (b))"), "Foo");
        assert_eq!(titled("Foo (bar) baz"), "Foo (bar) baz");
        assert_eq!(titled("(Untitled)"), "(Untitled)");
        assert_eq!(
            en("{{Wayback|url=http://x.org/|date=20110720}}; {{Wayback|url=x|title=T|date=spring 2011}}"),
            "Archived&#32;July 20, 2011 at the Wayback Machine; T at the Wayback Machine&#32;(archived spring 2011)"
        );
        assert_eq!(
            en("{{Cquote|Words.|||Author|Source}} {{Quote|text=W.|author=A|source=S}}"),
            "Words.&#10;— Author, Source W.&#10;— A, S"
        );
    }

    /// dewiki: a quotation with its translation; the lines of Weblinks and
    /// Literatur its templates write.
    #[test]
    fn german_quotations_and_link_lines() {
        assert_eq!(
            language("de", "{{Zitat|Text=I go.|Sprache=en|Übersetzung=Ich gehe.|Autor=A}}"),
            "„I go.“&#10;„Ich gehe.“&#10;– A"
        );
        assert_eq!(
            language("de", "{{DNB-Portal|118529579}}"),
            "Literatur von und über Albert Einstein im Katalog der Deutschen Nationalbibliothek"
        );
        assert_eq!(
            language("de", "{{Webarchiv|url=http://x.de|wayback=20110720193159|text=Seite}}"),
            "Seite&#32;(Memento vom 20. Juli 2011 im Internet Archive)"
        );
        assert_eq!(
            language("de", "{{NDB|4|404|408|Einstein, Albert|Max von Laue}}"),
            "Max von Laue:&#32;Einstein, Albert. In: Neue Deutsche Biographie (NDB). Band 4, Duncker & Humblot, Berlin, S. 404–408."
        );
    }

    /// frwiki's taxonomic database links, as its templates write them.
    #[test]
    fn french_taxon_references() {
        assert_eq!(
            language(
                "fr",
                "{{ITIS|625037|''Okapia johnstoni'' (P. L. Sclater, 1901)|consulté le=28 Nov 2013}}"
            ),
            "Référence ITIS : ''Okapia johnstoni'' (P. L. Sclater, 1901) (fr) (+ version anglaise (en))&#32;(consulté le 28 novembre 2013)"
        );
        assert_eq!(
            language("fr", "{{ADW|Okapia_johnstoni|''Okapia johnstoni''}}"),
            "Référence Animal Diversity Web : ''Okapia johnstoni'' (en)"
        );
    }

    #[test]
    fn numbered_ordinals() {
        assert_eq!(
            language("fr", "la {{23e|place}}, le {{153e}}, {{7e|art}}"),
            "la 23e place, le 153e, 7e art"
        );
        assert_eq!(language("fr", "{{1er|semestre}} {{2e}}"), "1er semestre 2e");
        assert_eq!(en("{{23e|place}}"), "");
    }

    #[test]
    fn a_user_file_adds_and_overrides() {
        let dir = std::env::temp_dir().join(format!("wikitok-templates-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mine.toml");
        std::fs::write(&path, "[templates]\n\"my greeting\" = \"Hello {{{1|world}}}\"\nnowrap = \"<{{{1}}}>\"\n[aliases]\nhi = \"my greeting\"\n").unwrap();
        let user = UserTemplates::load(&[&path]).unwrap();
        let templates = Templates::for_wiki(Some("en"), None, &user);
        assert_eq!(
            expand("{{hi}}, {{My_greeting|you}} {{nowrap|x}}", &templates, &page()),
            "Hello world, Hello you <x>"
        );
        std::fs::write(&path, "[templates]\nx = { builtin = \"nope\" }\n").unwrap();
        let error = format!("{:#}", UserTemplates::load(&[&path]).unwrap_err());
        assert!(
            error.contains("mine.toml") && error.contains("unknown builtin"),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Random template soup: never a panic, always within the budget.
    #[test]
    fn random_template_soup_is_bounded() {
        let pieces = [
            "{{",
            "}}",
            "{{{",
            "}}}",
            "|",
            "=",
            "#if:",
            "#switch:",
            "#expr:",
            "convert",
            "nowrap",
            "lang",
            "1",
            "km",
            "[[",
            "]]",
            "x",
            " ",
            "#time:",
            "formatnum:",
            "{{!}}",
            "birth date",
            "#ifeq:",
            "é",
            // The builtins: citations, coordinates, IPA, dates, ordinals, regions.
            "cite book",
            "ouvrage",
            "literatur",
            "internetquelle",
            "harv",
            "coord",
            "IPAc-en",
            "date",
            "23e",
            "refbegin",
            "refend",
            "last=",
            "display-authors=",
            "mois=",
            "Datum=",
            "abruf=",
            "-",
            "–",
            "1.5",
            ".",
            "N",
            "W",
            "'",
            "\n== h ==\n",
            "99999999999999999999",
        ];
        for language in ["en", "fr", "de"] {
            let templates = Templates::for_wiki(Some(language), None, &UserTemplates::default());
            let mut state = 0x9e37_79b9_7f4a_7c15_u64;
            for _ in 0..5000 {
                let mut source = String::new();
                for _ in 0..(state % 80) {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    source.push_str(pieces[(state % pieces.len() as u64) as usize]);
                }
                let out = expand(&source, &templates, &page());
                assert!(out.len() <= 2 * expand::output_budget(&source), "{source:?}");
            }
        }
        // A template that repeats its argument, nested: 2^30 copies unless
        // the budget counts every buffer of the page.
        let mut doubling = UserTemplates::default();
        doubling.files.push(Arc::new(
            parse_file("[templates]\ntwice = \"{{{1}}}{{{1}}}\"\n").unwrap(),
        ));
        let twice = Templates::for_wiki(Some("en"), None, &doubling);
        let nested = format!("{}{}{}", "{{twice|".repeat(30), "x".repeat(1000), "}}".repeat(30));
        let out = expand(&nested, &twice, &page());
        assert!(out.len() <= 2 * expand::output_budget(&nested), "{}", out.len());
        // A template that calls itself, and exponential fan-out.
        let mut user = UserTemplates::default();
        user.files.push(Arc::new(
            parse_file("[templates]\nloop = \"a{{loop}}{{loop}}\"\n").unwrap(),
        ));
        let looping = Templates::for_wiki(Some("en"), None, &user);
        let out = expand("{{loop}}", &looping, &page());
        assert!(out.len() <= 1 << 21 && out.starts_with('a'));
    }
}
