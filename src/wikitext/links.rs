//! `[[wikilinks]]` and `[external links]`: their labels in the text, their
//! targets in `outgoing_link`, category links in `category`.
//!
//! A target's prefix decides what a link is: a category (the wiki's name
//! for namespace 14 or `Category`), a file (namespace 6 / -2, `File`,
//! `Image`, `Media`), an interwiki link (`wikt:`, `commons:`, ...) or an
//! interlanguage link (`fr:`, `de:`, ...). Those prefixes are not in the
//! dump, so the interwiki and language lists here are static and short.
//!
//! Targets and categories are kept in *title form*, as MediaWiki stores a
//! link (and as titles and CirrusSearch's `outgoing_link` read), so that
//! they join to `title`: entities decoded, `_` and runs of whitespace one
//! space, trimmed, anchor dropped, a namespace prefix in the wiki's own
//! spelling (`[[user_talk:x]]` → `User talk:X`), and the first letter
//! upper-cased where the namespace's `case` is `first-letter`
//! (`[[abstentionism]]` → `Abstentionism`).

use std::collections::HashMap;

/// A namespace as a wiki declares it (`<siteinfo>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WikiNamespace {
    pub key: i32,
    /// The wiki's own name (`Категория`); empty for the main namespace.
    pub name: String,
    /// Titles start upper-case (`case="first-letter"`), as on most wikis.
    pub first_letter: bool,
}

/// MediaWiki's canonical (English) namespace names, valid on every wiki
/// beside the local ones, and its built-in aliases.
const CANONICAL_NAMESPACES: &[(i32, &str)] = &[
    (-2, "Media"),
    (-1, "Special"),
    (1, "Talk"),
    (2, "User"),
    (3, "User talk"),
    (4, "Project"),
    (5, "Project talk"),
    (6, "File"),
    (6, "Image"),
    (7, "File talk"),
    (7, "Image talk"),
    (8, "MediaWiki"),
    (9, "MediaWiki talk"),
    (10, "Template"),
    (11, "Template talk"),
    (12, "Help"),
    (13, "Help talk"),
    (14, "Category"),
    (15, "Category talk"),
];

/// Other names of the file namespace that MediaWiki accepts on wikis of a
/// language (its `Messages*.php` namespace names and aliases), which a
/// dump's `<siteinfo>` does not list: `[[Imagem:x.jpg|thumb|…]]` on ptwiki is
/// a file, not a link. The local names are here too, for dumps whose
/// `<siteinfo>` declares only the English ones (written by other tools).
const FILE_NAMESPACE_ALIASES: &[(&str, &[&str])] = &[
    ("pt", &["Imagem", "Arquivo", "Ficheiro"]),
    ("de", &["Bild", "Datei"]),
    ("es", &["Imagen", "Archivo"]),
    ("it", &["Immagine"]),
    ("fr", &["Fichier"]),
    ("nl", &["Afbeelding", "Bestand"]),
    ("pl", &["Grafika", "Plik"]),
    ("ru", &["Изображение", "Файл"]),
    ("uk", &["Зображення", "Файл"]),
    ("bg", &["Картинка", "Файл"]),
    ("sr", &["Слика", "Датотека"]),
    ("ja", &["画像", "ファイル"]),
    ("zh", &["图像", "圖像", "档案", "檔案", "文件"]),
    ("ko", &["그림", "파일"]),
    ("sv", &["Bild", "Fil"]),
    ("no", &["Bilde", "Fil"]),
    ("nb", &["Bilde", "Fil"]),
    ("da", &["Billede", "Fil"]),
    ("fi", &["Kuva", "Tiedosto"]),
    ("cs", &["Soubor"]),
    ("hu", &["Kép", "Fájl"]),
    ("ro", &["Imagine", "Fișier"]),
    ("ca", &["Imatge", "Fitxer"]),
    ("tr", &["Resim", "Dosya"]),
    ("id", &["Gambar", "Berkas"]),
    ("vi", &["Hình", "Tập tin"]),
    ("ceb", &["Payl"]),
    ("war", &["Paypay"]),
    ("tl", &["Talaksan"]),
    ("ms", &["Fail"]),
    ("eu", &["Fitxategi"]),
    ("gl", &["Imaxe", "Ficheiro"]),
    ("hr", &["Slika", "Datoteka"]),
    ("sh", &["Datoteka"]),
    ("bs", &["Datoteka"]),
    ("sk", &["Obrázok", "Súbor"]),
    ("sl", &["Slika"]),
    ("et", &["Pilt", "Fail"]),
    ("lt", &["Vaizdas"]),
    ("lv", &["Attēls"]),
    ("eo", &["Dosiero"]),
    ("uz", &["Tasvir", "Fayl"]),
    ("be", &["Выява", "Файл"]),
    ("hy", &["Պատկեր"]),
    ("ka", &["სურათი", "ფაილი"]),
    ("hi", &["चित्र"]),
    ("th", &["ภาพ", "ไฟล์"]),
    ("cy", &["Delwedd"]),
    ("af", &["Beeld", "Lêer"]),
    ("la", &["Imago", "Fasciculus"]),
    ("ar", &["صورة", "ملف"]),
    ("fa", &["تصویر", "پرونده"]),
    ("he", &["תמונה", "קובץ"]),
    ("el", &["Εικόνα", "Αρχείο"]),
];

/// The category namespace's local names per language (MediaWiki's
/// `Messages*.php`), for dumps whose `<siteinfo>` declares only the English
/// name: `[[Kategoriya:…]]` on cebwiki is a category, not a link.
const CATEGORY_NAMESPACE_NAMES: &[(&str, &[&str])] = &[
    ("de", &["Kategorie"]),
    ("fr", &["Catégorie"]),
    ("es", &["Categoría"]),
    ("it", &["Categoria"]),
    ("pt", &["Categoria"]),
    ("nl", &["Categorie"]),
    ("pl", &["Kategoria"]),
    ("ru", &["Категория"]),
    ("uk", &["Категорія"]),
    ("bg", &["Категория"]),
    ("sr", &["Категорија"]),
    ("zh", &["分类", "分類"]),
    ("ko", &["분류"]),
    ("sv", &["Kategori"]),
    ("no", &["Kategori"]),
    ("nb", &["Kategori"]),
    ("da", &["Kategori"]),
    ("fi", &["Luokka"]),
    ("cs", &["Kategorie"]),
    ("hu", &["Kategória"]),
    ("ro", &["Categorie"]),
    ("ca", &["Categoria"]),
    ("tr", &["Kategori"]),
    ("id", &["Kategori"]),
    ("ms", &["Kategori"]),
    ("vi", &["Thể loại"]),
    ("ceb", &["Kategoriya"]),
    ("war", &["Kaarangay"]),
    ("tl", &["Kategorya"]),
    ("eu", &["Kategoria"]),
    ("gl", &["Categoría"]),
    ("hr", &["Kategorija"]),
    ("sh", &["Kategorija"]),
    ("bs", &["Kategorija"]),
    ("sk", &["Kategória"]),
    ("sl", &["Kategorija"]),
    ("et", &["Kategooria"]),
    ("lt", &["Kategorija"]),
    ("lv", &["Kategorija"]),
    ("eo", &["Kategorio"]),
    ("uz", &["Turkum"]),
    ("be", &["Катэгорыя"]),
    ("hy", &["Կատեգորիա"]),
    ("ka", &["კატეგორია"]),
    ("hi", &["श्रेणी"]),
    ("th", &["หมวดหมู่"]),
    ("cy", &["Categori"]),
    ("af", &["Kategorie"]),
    ("la", &["Categoria"]),
    ("ja", &["カテゴリ"]),
    ("ar", &["تصنيف"]),
    ("fa", &["رده"]),
    ("he", &["קטגוריה"]),
    ("el", &["Κατηγορία"]),
];

/// How a link's title is written in one namespace.
#[derive(Debug, Clone)]
struct NamespaceForm {
    /// The prefix as the wiki writes it (`User talk`).
    name: String,
    first_letter: bool,
}

/// How link targets are read on one wiki (from its `<siteinfo>`).
#[derive(Debug, Clone)]
pub struct LinkRules {
    /// Normalized (lower-case, spaces) names of the category namespace.
    category_prefixes: Vec<String>,
    /// Normalized names of the file and media namespaces.
    file_prefixes: Vec<String>,
    /// Every name of every namespace but the main one, normalized → how
    /// titles in it are written.
    namespaces: HashMap<String, NamespaceForm>,
    /// Main-namespace titles start upper-case.
    first_letter_main: bool,
    /// Category names get an upper-case first letter (`case` first-letter).
    first_letter_categories: bool,
}

/// The links of one page.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageLinks {
    /// Category names in title form, without prefix or sort key, each once.
    pub categories: Vec<String>,
    /// Link targets in title form (anchor dropped), in order.
    pub links: Vec<String>,
}

/// Interwiki prefixes of Wikimedia's interwiki map that articles use.
const INTERWIKI: &[&str] = &[
    "wikt",
    "wiktionary",
    "commons",
    "c",
    "s",
    "wikisource",
    "q",
    "wikiquote",
    "b",
    "wikibooks",
    "n",
    "wikinews",
    "v",
    "wikiversity",
    "voy",
    "wikivoyage",
    "species",
    "wikispecies",
    "d",
    "wikidata",
    "m",
    "meta",
    "metawiki",
    "mw",
    "mediawikiwiki",
    "foundation",
    "wmf",
    "w",
    "phab",
    "phabricator",
    "doi",
    "imdbtitle",
    "imdbname",
    "oeis",
    "arxiv",
    "rfc",
    "iarchive",
    "outreach",
    "incubator",
    "betawiki",
    "translatewiki",
    "gerrit",
    "bugzilla",
    "wikimedia",
    "mediazilla",
    "testwiki",
    "wikitech",
    "google",
    "scholar",
    "worldcat",
    "isbn",
];

/// Language codes of Wikipedia editions (interlanguage link prefixes).
const LANGUAGES: &[&str] = &[
    "aa",
    "ab",
    "ace",
    "ady",
    "af",
    "ak",
    "als",
    "alt",
    "am",
    "ami",
    "an",
    "ang",
    "ar",
    "arc",
    "ary",
    "arz",
    "as",
    "ast",
    "atj",
    "av",
    "avk",
    "awa",
    "ay",
    "az",
    "azb",
    "ba",
    "ban",
    "bar",
    "bat-smg",
    "bcl",
    "be",
    "be-tarask",
    "be-x-old",
    "bg",
    "bh",
    "bi",
    "bjn",
    "blk",
    "bm",
    "bn",
    "bo",
    "bpy",
    "br",
    "bs",
    "bug",
    "bxr",
    "ca",
    "cbk-zam",
    "cdo",
    "ce",
    "ceb",
    "ch",
    "cho",
    "chr",
    "chy",
    "ckb",
    "co",
    "cr",
    "crh",
    "cs",
    "csb",
    "cu",
    "cv",
    "cy",
    "da",
    "dag",
    "de",
    "din",
    "diq",
    "dsb",
    "dty",
    "dv",
    "dz",
    "ee",
    "el",
    "eml",
    "en",
    "eo",
    "es",
    "et",
    "eu",
    "ext",
    "fa",
    "ff",
    "fi",
    "fiu-vro",
    "fj",
    "fo",
    "fr",
    "frp",
    "frr",
    "fur",
    "fy",
    "ga",
    "gag",
    "gan",
    "gcr",
    "gd",
    "gl",
    "glk",
    "gn",
    "gom",
    "gor",
    "got",
    "gu",
    "guw",
    "gv",
    "ha",
    "hak",
    "haw",
    "he",
    "hi",
    "hif",
    "ho",
    "hr",
    "hsb",
    "ht",
    "hu",
    "hy",
    "hyw",
    "hz",
    "ia",
    "id",
    "ie",
    "ig",
    "ii",
    "ik",
    "ilo",
    "inh",
    "io",
    "is",
    "it",
    "iu",
    "ja",
    "jam",
    "jbo",
    "jv",
    "ka",
    "kaa",
    "kab",
    "kbd",
    "kbp",
    "kcg",
    "kg",
    "ki",
    "kj",
    "kk",
    "kl",
    "km",
    "kn",
    "ko",
    "koi",
    "kr",
    "krc",
    "ks",
    "ksh",
    "ku",
    "kv",
    "kw",
    "ky",
    "la",
    "lad",
    "lb",
    "lbe",
    "lez",
    "lfn",
    "lg",
    "li",
    "lij",
    "lld",
    "lmo",
    "ln",
    "lo",
    "lrc",
    "lt",
    "ltg",
    "lv",
    "mad",
    "mai",
    "map-bms",
    "mdf",
    "mg",
    "mh",
    "mhr",
    "mi",
    "min",
    "mk",
    "ml",
    "mn",
    "mni",
    "mnw",
    "mr",
    "mrj",
    "ms",
    "mt",
    "mus",
    "mwl",
    "my",
    "myv",
    "mzn",
    "na",
    "nah",
    "nap",
    "nds",
    "nds-nl",
    "ne",
    "new",
    "ng",
    "nia",
    "nl",
    "nn",
    "no",
    "nov",
    "nqo",
    "nrm",
    "nso",
    "nv",
    "ny",
    "oc",
    "olo",
    "om",
    "or",
    "os",
    "pa",
    "pag",
    "pam",
    "pap",
    "pcd",
    "pcm",
    "pdc",
    "pfl",
    "pi",
    "pih",
    "pl",
    "pms",
    "pnb",
    "pnt",
    "ps",
    "pt",
    "pwn",
    "qu",
    "rm",
    "rmy",
    "rn",
    "ro",
    "roa-rup",
    "roa-tara",
    "ru",
    "rue",
    "rw",
    "sa",
    "sah",
    "sat",
    "sc",
    "scn",
    "sco",
    "sd",
    "se",
    "sg",
    "sh",
    "shi",
    "shn",
    "si",
    "simple",
    "sk",
    "skr",
    "sl",
    "sm",
    "smn",
    "sn",
    "so",
    "sq",
    "sr",
    "srn",
    "ss",
    "st",
    "stq",
    "su",
    "sv",
    "sw",
    "szl",
    "szy",
    "ta",
    "tay",
    "tcy",
    "te",
    "tet",
    "tg",
    "th",
    "ti",
    "tk",
    "tl",
    "tly",
    "tn",
    "to",
    "tpi",
    "tr",
    "trv",
    "ts",
    "tt",
    "tum",
    "tw",
    "ty",
    "tyv",
    "udm",
    "ug",
    "uk",
    "ur",
    "uz",
    "ve",
    "vec",
    "vep",
    "vi",
    "vls",
    "vo",
    "wa",
    "war",
    "wo",
    "wuu",
    "xal",
    "xh",
    "xmf",
    "yi",
    "yo",
    "za",
    "zea",
    "zh",
    "zh-classical",
    "zh-min-nan",
    "zh-yue",
    "zu",
];

/// What a link target is.
#[derive(Debug, PartialEq, Eq)]
enum Target<'a> {
    /// A page: its title in title form.
    Page(String),
    /// `[[Category:X|key]]`: `X`.
    Category(&'a str),
    File,
    /// Another wiki: shown as its label, not an outgoing link.
    Interwiki,
    /// The same article in another language: not shown.
    Interlanguage,
    /// `[[#section]]`: shown, not an outgoing link.
    Section,
    /// Not a title at all (brackets, templates, a line break in it).
    Invalid,
}

impl LinkRules {
    /// English (canonical) namespace names only, every namespace first-letter.
    pub fn english() -> Self {
        LinkRules::new(&[])
    }

    /// The rules of a wiki with `namespaces` (its `<siteinfo>`); the
    /// canonical English names always apply too. A namespace the list does
    /// not declare is first-letter, MediaWiki's default.
    pub fn new(namespaces: &[WikiNamespace]) -> Self {
        Self::for_language(namespaces, None)
    }

    /// [`LinkRules::new`], with the file namespace aliases of the wiki's
    /// language (`xml:lang`: `pt`, `pt-br`).
    pub fn for_language(namespaces: &[WikiNamespace], language: Option<&str>) -> Self {
        let declared = |key: i32| namespaces.iter().find(|ns| ns.key == key);
        let first_letter = |key: i32| declared(key).is_none_or(|ns| ns.first_letter);
        let mut forms = HashMap::new();
        for &(key, canonical) in CANONICAL_NAMESPACES {
            let name = declared(key)
                .map(|ns| ns.name.clone())
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| canonical.to_string());
            let form = NamespaceForm {
                name,
                first_letter: first_letter(key),
            };
            forms.insert(normalize_prefix(canonical), form);
        }
        for ns in namespaces.iter().filter(|ns| ns.key != 0 && !ns.name.is_empty()) {
            let form = NamespaceForm {
                name: ns.name.clone(),
                first_letter: ns.first_letter,
            };
            forms.insert(normalize_prefix(&ns.name), form);
        }
        let local_names = |keys: &[i32]| -> Vec<String> {
            namespaces
                .iter()
                .filter(|ns| keys.contains(&ns.key) && !ns.name.is_empty())
                .map(|ns| normalize_prefix(&ns.name))
                .collect()
        };
        let mut category_prefixes = vec!["category".to_string()];
        category_prefixes.extend(local_names(&[14]));
        let mut file_prefixes = vec!["file".to_string(), "image".to_string(), "media".to_string()];
        file_prefixes.extend(local_names(&[6, -2]));
        let code = language
            .and_then(|l| l.split('-').next())
            .unwrap_or("")
            .to_ascii_lowercase();
        let of_language = |table: &[(&str, &[&str])]| -> Vec<String> {
            table
                .iter()
                .filter(|(l, _)| *l == code)
                .flat_map(|(_, names)| names.iter().map(|name| normalize_prefix(name)))
                .collect()
        };
        file_prefixes.extend(of_language(FILE_NAMESPACE_ALIASES));
        category_prefixes.extend(of_language(CATEGORY_NAMESPACE_NAMES));
        LinkRules {
            category_prefixes,
            file_prefixes,
            namespaces: forms,
            first_letter_main: first_letter(0),
            first_letter_categories: first_letter(14),
        }
    }

    fn classify<'a>(&self, target: &'a str) -> Target<'a> {
        if target.contains(['[', ']', '{', '}', '<', '>', '\n']) || target.len() > 512 {
            return Target::Invalid;
        }
        let trimmed = target.trim();
        let (leading_colon, title) = match trimmed.strip_prefix(':') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, trimmed),
        };
        if title.starts_with('#') {
            return Target::Section;
        }
        if let Some((prefix, rest)) = title.split_once(':') {
            let prefix = normalize_prefix(prefix);
            if self.category_prefixes.contains(&prefix) && !leading_colon {
                return Target::Category(rest);
            }
            if self.file_prefixes.contains(&prefix) {
                return Target::File;
            }
            if INTERWIKI.contains(&prefix.as_str()) {
                return Target::Interwiki;
            }
            if LANGUAGES.contains(&prefix.as_str()) {
                return if leading_colon {
                    Target::Interwiki
                } else {
                    Target::Interlanguage
                };
            }
        }
        match self.page_title(title) {
            Some(page) => Target::Page(page),
            None => Target::Invalid,
        }
    }

    /// The title form of a page link's target (leading colon taken off):
    /// `user_talk:jimbo#x` → `User talk:Jimbo`; `None` when nothing is left.
    fn page_title(&self, target: &str) -> Option<String> {
        let text = title_text(target);
        let text = text.split('#').next().unwrap_or_default().trim();
        if let Some((prefix, rest)) = text.split_once(':') {
            if let Some(form) = self.namespaces.get(&normalize_prefix(prefix)) {
                let rest = rest.trim();
                if rest.is_empty() {
                    return None;
                }
                return Some(format!("{}:{}", form.name, first_letter_form(rest, form.first_letter)));
            }
        }
        (!text.is_empty()).then(|| first_letter_form(text, self.first_letter_main))
    }

    /// `X` of `[[Category:X|key]]`, as the category's title.
    fn category_name(&self, raw: &str) -> String {
        let text = title_text(raw);
        let name = text.split('#').next().unwrap_or_default().trim();
        first_letter_form(name, self.first_letter_categories)
    }
}

/// A title as MediaWiki reads it before namespaces: HTML entities decoded,
/// bidirectional marks dropped, `_` and every run of whitespace one space,
/// trimmed.
fn title_text(raw: &str) -> String {
    let decoded = if raw.contains('&') {
        html_escape::decode_html_entities(raw)
    } else {
        std::borrow::Cow::Borrowed(raw)
    };
    let spaced: String = decoded
        .chars()
        .filter(|c| !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}'))
        .map(|c| if c == '_' { ' ' } else { c })
        .collect();
    collapse_spaces(&spaced)
}

/// `title` with its first letter upper-cased when `first_letter`.
fn first_letter_form(title: &str, first_letter: bool) -> String {
    let mut chars = title.chars();
    match chars.next() {
        Some(first) if first_letter => first.to_uppercase().chain(chars).collect(),
        _ => title.to_string(),
    }
}

/// `Category`, ` category `, `Category_talk` → `category`, `category talk`.
fn normalize_prefix(prefix: &str) -> String {
    collapse_spaces(&prefix.replace('_', " ")).to_lowercase()
}

fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Matched `[[`/`]]` pairs of `text` as (open, close) byte offsets, sorted by
/// open; unmatched brackets are not in it.
fn bracket_pairs(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut stack = Vec::new();
    let mut pairs = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'[' && bytes[i + 1] == b'[' {
            stack.push(i);
            i += 2;
        } else if bytes[i] == b']' && bytes[i + 1] == b']' {
            if let Some(open) = stack.pop() {
                pairs.push((open, i));
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    pairs.sort_unstable();
    pairs
}

/// Copies `text` to `out` with links replaced by what a reader sees.
pub fn render_links(text: &str, rules: &LinkRules, out: &mut String, depth: usize) {
    if depth > super::MAX_LINK_DEPTH {
        out.push_str(text);
        return;
    }
    let mut copied = 0;
    for (open, close) in bracket_pairs(text) {
        if open < copied {
            continue; // inside an outer link, rendered with its label
        }
        render_external_links(&text[copied..open], out);
        let inner = &text[open + 2..close];
        let (target, label) = match inner.find('|') {
            Some(bar) => (&inner[..bar], Some(&inner[bar + 1..])),
            None => (inner, None),
        };
        match rules.classify(target) {
            Target::Category(_) | Target::File | Target::Interlanguage => {}
            Target::Invalid => render_links(inner, rules, out, depth + 1),
            Target::Page(_) | Target::Interwiki | Target::Section => match label {
                Some(label) if !label.trim().is_empty() => render_links(label, rules, out, depth + 1),
                _ => out.push_str(target.trim().trim_start_matches(':').trim_start()),
            },
        }
        copied = close + 2;
    }
    render_external_links(&text[copied..], out);
}

/// `[http://x label]` → `label`; `[http://x]` → nothing; other brackets stay.
fn render_external_links(text: &str, out: &mut String) {
    let mut copied = 0;
    let mut at = 0;
    while let Some(found) = memchr::memchr(b'[', &text.as_bytes()[at..]) {
        let start = at + found;
        let rest = &text[start + 1..];
        let is_url = ["http://", "https://", "ftp://", "//", "mailto:", "irc://", "news:"]
            .iter()
            .any(|scheme| {
                rest.len() >= scheme.len() && rest.as_bytes()[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes())
            });
        let close = rest.find([']', '\n']).filter(|&c| rest.as_bytes()[c] == b']');
        match (is_url, close) {
            (true, Some(close)) => {
                out.push_str(&text[copied..start]);
                let inside = &rest[..close];
                if let Some((_, label)) = inside.split_once(char::is_whitespace) {
                    out.push_str(label.trim());
                }
                copied = start + 1 + close + 1;
                at = copied;
            }
            _ => at = start + 1,
        }
    }
    out.push_str(&text[copied..]);
}

/// Every link and category of `text`, nested ones included (a link in a
/// file caption or a template argument is still a link on the page).
pub fn collect_links(text: &str, rules: &LinkRules) -> PageLinks {
    let mut page = PageLinks::default();
    for (open, close) in bracket_pairs(text) {
        let inner = &text[open + 2..close];
        let target = inner.split('|').next().unwrap_or_default();
        match rules.classify(target) {
            Target::Page(title) => page.links.push(title),
            Target::Category(raw) => {
                let name = rules.category_name(raw);
                if !name.is_empty() && !page.categories.contains(&name) {
                    page.categories.push(name);
                }
            }
            _ => {}
        }
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_categories() {
        let rules = LinkRules::new(&[
            WikiNamespace {
                key: 14,
                name: "Категория".into(),
                first_letter: true,
            },
            WikiNamespace {
                key: 6,
                name: "Файл".into(),
                first_letter: true,
            },
        ]);
        let page = collect_links(
            "[[A#b|c]] [[#sec]] [[:Category:X]] [[Category:space_opera films|key]] [[категория:Y]] \
             [[File:F.jpg|thumb|[[Nested]]]] [[Файл:G.png]] [[fr:Z]] [[wikt:w|w]] [[ Spaced  title ]] \
             [[Category:X]] [[{{tpl}}]] [[Category:Space opera films]]",
            &rules,
        );
        // Title form spells the namespace as the wiki does.
        assert_eq!(page.links, ["A", "Категория:X", "Nested", "Spaced title"]);
        assert_eq!(page.categories, ["Space opera films", "Y", "X"]);
    }

    /// Localized file namespace names that MediaWiki knows but `<siteinfo>`
    /// does not list: a captioned image, not a link, on that language only.
    #[test]
    fn file_namespace_aliases_of_the_wiki_language() {
        let portuguese = LinkRules::for_language(&[], Some("pt-br"));
        let mut out = String::new();
        render_links("a [[Imagem:M.png|thumb|esquerda|Mapa]] b", &portuguese, &mut out, 0);
        assert_eq!(out, "a  b");
        let english = LinkRules::for_language(&[], Some("en"));
        out.clear();
        render_links("a [[Imagem:M.png|thumb|Mapa]] b", &english, &mut out, 0);
        assert_ne!(out, "a  b");
    }

    /// A dump whose `<siteinfo>` names the namespaces in English only (as
    /// some tools write them): the wiki language's own category name is
    /// still a category, kept out of the text and listed.
    #[test]
    fn local_category_names_of_the_wiki_language() {
        let english_only = [WikiNamespace {
            key: 14,
            name: "Category".into(),
            first_letter: true,
        }];
        let cebuano = LinkRules::for_language(&english_only, Some("ceb"));
        let mut out = String::new();
        render_links(
            "Montréal.\n[[Kategoriya:Pagklaro paghimo ni bot]]",
            &cebuano,
            &mut out,
            0,
        );
        assert_eq!(out.trim_end(), "Montréal.");
        let page = collect_links("[[Kategoriya:Pagklaro paghimo ni bot|M]] [[Payl:X.png]]", &cebuano);
        assert_eq!(page.categories, ["Pagklaro paghimo ni bot"]);
        assert!(page.links.is_empty(), "{:?}", page.links);
        let english = LinkRules::for_language(&english_only, Some("en"));
        out.clear();
        render_links("[[Kategoriya:X]]", &english, &mut out, 0);
        assert_eq!(out, "Kategoriya:X", "only on wikis of that language");
        let waray = LinkRules::for_language(&english_only, Some("war"));
        out.clear();
        render_links(
            "[[Paypay:Flag.svg|right|thumb|Bandera]]\nAn Montréal",
            &waray,
            &mut out,
            0,
        );
        assert_eq!(out.trim(), "An Montréal", "warwiki's file namespace");
        for (language, category) in [("ja", "カテゴリ"), ("et", "Kategooria"), ("tl", "Kategorya")] {
            let rules = LinkRules::for_language(&english_only, Some(language));
            let page = collect_links(&format!("x [[{category}:Y]]"), &rules);
            assert_eq!(page.categories, ["Y"], "{language}");
        }
    }

    #[test]
    fn targets_in_title_form() {
        let rules = LinkRules::new(&[
            WikiNamespace {
                key: 4,
                name: "Wikipedia".into(),
                first_letter: true,
            },
            WikiNamespace {
                key: 14,
                name: "Category".into(),
                first_letter: true,
            },
            WikiNamespace {
                key: 2300,
                name: "Gadget".into(),
                first_letter: false,
            },
        ]);
        let page = collect_links(
            "[[abstentionism]] [[ new_york  city#History|NYC]] [[user_talk:jimbo_wales]] [[wikipedia:about]] \
             [[project:about]] [[AT&amp;T]] [[éclair]] [[:category:space opera]] [[gadget:lower]] \
             [[Talk:]] [[Star Wars: Episode I]] [[\u{200E}Left mark]]",
            &rules,
        );
        assert_eq!(
            page.links,
            [
                "Abstentionism",
                "New york city",
                "User talk:Jimbo wales",
                "Wikipedia:About",
                "Wikipedia:About",
                "AT&T",
                "Éclair",
                "Category:Space opera",
                "Gadget:lower",
                "Star Wars: Episode I",
                "Left mark",
            ]
        );
        let case_sensitive = LinkRules::new(&[WikiNamespace {
            key: 0,
            name: String::new(),
            first_letter: false,
        }]);
        assert_eq!(collect_links("[[iPod]]", &case_sensitive).links, ["iPod"]);
        assert_eq!(collect_links("[[Category:x_y&amp;z#k]]", &rules).categories, ["X y&z"]);
    }

    #[test]
    fn labels() {
        let mut out = String::new();
        render_links(
            "[[A|b]] [[C]]s [[Foo (bar)|]] [[wikt:word|word]] [[:fr:Paris]] [x] [https://e.org e site]",
            &LinkRules::english(),
            &mut out,
            0,
        );
        assert_eq!(out, "b Cs Foo (bar) word fr:Paris [x] e site");
    }
}
