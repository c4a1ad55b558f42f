//! Citation templates outside references: a "Works cited", "Bibliography" or
//! "Further reading" list of `{{cite book}}`, `{{Ouvrage}}` or
//! `{{Literatur}}` calls is prose a reader sees, and MediaWiki's search
//! text keeps it (authors, year, title, publisher, ISBN, "Retrieved …").
//! Inside `<ref>` the same calls never reach this module: references are
//! dropped before templates are expanded, as CirrusSearch drops them.
//!
//! On the wikis these templates are Lua modules (`Module:Citation/CS1`,
//! `Module:Biblio`) or long wikitext (`Vorlage:Literatur`); each style here
//! follows its documentation's examples for the order of the parts and the
//! words the module adds (`ISBN`, `doi:`, `pp.`, `consulté le`, `abgerufen
//! am`). Links and URLs are not shown (a URL is the link target of the
//! title), italics and quotes are plain text, and the rest of the markup
//! in values (`[[links]]`, `''italics''`) is left to the later passes.

use super::expand::Args;
use super::french_date::month_name;
use super::functions::parse_date;
use super::Templates;

/// Which module a citation template is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// English Wikipedia's Citation Style 1 (`{{cite book}}`, `{{cite
    /// web}}`, `{{cite journal}}`, `{{citation}}`, ...).
    Cs1,
    /// French Wikipedia's `Module:Biblio` (`{{Ouvrage}}`, `{{Article}}`,
    /// `{{Lien web}}`, `{{Chapitre}}`).
    Biblio,
    /// German Wikipedia's `{{Literatur}}`.
    Literatur,
    /// German Wikipedia's `{{Internetquelle}}`.
    Internetquelle,
    /// Russian Wikipedia's `{{Книга}}` (`article: false`) and `{{Статья}}`
    /// (`article: true`), in the GOST 7.1 style they write.
    Gost { article: bool },
    /// A Harvard citation in the sentence: `{{harv}}` (`(Einstein 2006, p.
    /// 33)`), `{{harvnb}}` (no brackets), `{{harvtxt}}` (`Einstein (2006, p.
    /// 33)`). `{{sfn}}` is a footnote, not text: it is not one of these.
    Harvard(Brackets),
}

/// Where a Harvard citation puts its brackets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Brackets {
    Around,
    None,
    AroundYear,
}

impl Style {
    pub fn named(name: &str) -> Option<Style> {
        match name {
            "cs1" => Some(Style::Cs1),
            "biblio" => Some(Style::Biblio),
            "literatur" => Some(Style::Literatur),
            "internetquelle" => Some(Style::Internetquelle),
            "книга" => Some(Style::Gost { article: false }),
            "статья" => Some(Style::Gost { article: true }),
            "harv" => Some(Style::Harvard(Brackets::Around)),
            "harvnb" => Some(Style::Harvard(Brackets::None)),
            "harvtxt" => Some(Style::Harvard(Brackets::AroundYear)),
            _ => None,
        }
    }

    pub fn render(self, args: &Args, templates: &Templates) -> String {
        let mut citation = Citation::default();
        match self {
            Style::Cs1 => cs1(args, templates, &mut citation),
            Style::Biblio => biblio(args, templates, &mut citation),
            Style::Literatur => literatur(args, &mut citation),
            Style::Internetquelle => internetquelle(args, templates, &mut citation),
            Style::Gost { article } => gost(args, article, &mut citation),
            Style::Harvard(brackets) => return harvard(args, brackets),
        }
        citation.text
    }
}

/// The first of `names` that is set (non-empty).
fn first<'a>(args: &'a Args, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|name| args.named(name))
}

/// A citation being written: parts joined by separators, never two
/// separators in a row and none at the start.
#[derive(Default)]
struct Citation {
    text: String,
}

impl Citation {
    /// Appends `part` after `separator` (left out at the start, and its
    /// leading `.` left out when the text already ends with one).
    fn part(&mut self, separator: &str, part: &str) {
        if part.is_empty() {
            return;
        }
        if !self.text.is_empty() {
            let separator = if self.text.ends_with(['.', '!', '?']) {
                separator.trim_start_matches('.')
            } else {
                separator
            };
            self.text.push_str(separator);
        }
        self.text.push_str(part);
    }

    fn end(&mut self, terminator: &str) {
        if !self.text.is_empty() && !self.text.ends_with(['.', '!', '?']) {
            self.text.push_str(terminator);
        }
    }
}

/// People named by `last1`/`first1`-style parameters (and their aliases),
/// in order, as `Last, First`; `name_order` reverses to `First Last`.
fn people(args: &Args, last: &[&str], first_names: &[&str], whole: &[&str], given_first: bool) -> Vec<String> {
    let mut found = Vec::new();
    for n in 1..=20 {
        let keyed = |names: &[&str]| -> Option<String> {
            names.iter().find_map(|pattern| {
                if !pattern.contains('#') {
                    // `authors`: one list, as written.
                    return (n == 1).then(|| args.named(pattern)).flatten().map(str::to_string);
                }
                let numbered = pattern.replace('#', &n.to_string());
                let value = args.named(&numbered).or_else(|| {
                    // `last` means `last1`, `author` means `author1`.
                    (n == 1).then(|| args.named(&pattern.replace('#', ""))).flatten()
                });
                value.map(str::to_string)
            })
        };
        let person = match (keyed(last), keyed(first_names)) {
            (Some(last), Some(given)) if given_first => Some(format!("{given} {last}")),
            (Some(last), Some(given)) => Some(format!("{last}, {given}")),
            (Some(last), None) => Some(last),
            (None, _) => keyed(whole),
        };
        match person {
            Some(person) => found.push(person),
            None if n > 1 => break,
            None => {}
        }
    }
    found
}

/// `a; b; c` (CS1), with "et al." when `display-authors` cuts the list.
fn cs1_names(names: &[String], shown: Option<&str>) -> String {
    let limit = match shown {
        Some("etal") => names.len(),
        Some(n) => n.parse().unwrap_or(names.len()),
        None => names.len(),
    };
    if limit == 0 {
        // `display-authors=0`: the list is not shown at all.
        return String::new();
    }
    let mut out = names[..limit.min(names.len())].join("; ");
    if limit < names.len() || shown == Some("etal") {
        out.push_str("; et al.");
    }
    out
}

/// A language name for `(in German)`: the wiki's `#language` names, or the
/// value as written.
fn language_name<'a>(code: &'a str, templates: &'a Templates) -> &'a str {
    templates.language_name(code).unwrap_or(code)
}

/// An identifier as CS1 shows it: `ISBN 978-…`, `doi:10.…`.
const CS1_IDENTIFIERS: &[(&[&str], &str)] = &[
    (&["arxiv", "eprint"], "arXiv:"),
    (&["asin"], "ASIN "),
    (&["bibcode"], "Bibcode:"),
    (&["biorxiv"], "bioRxiv "),
    (&["citeseerx"], "CiteSeerX "),
    (&["doi", "DOI"], "doi:"),
    (&["eissn"], "eISSN "),
    (&["hdl", "HDL"], "hdl:"),
    (&["isbn", "ISBN", "isbn13", "ISBN13"], "ISBN "),
    (&["ismn"], "ISMN "),
    (&["issn", "ISSN"], "ISSN "),
    (&["jfm"], "JFM "),
    (&["jstor", "JSTOR"], "JSTOR "),
    (&["lccn", "LCCN"], "LCCN "),
    (&["mr", "MR"], "MR "),
    (&["oclc", "OCLC"], "OCLC "),
    (&["ol", "OL"], "OL "),
    (&["osti", "OSTI"], "OSTI "),
    (&["pmc", "PMC"], "PMC "),
    (&["pmid", "PMID"], "PMID "),
    (&["rfc", "RFC"], "RFC "),
    (&["ssrn", "SSRN"], "SSRN "),
    (&["s2cid", "S2CID"], "S2CID "),
    (&["zbl", "ZBL"], "Zbl "),
];

/// Citation Style 1, as `Module:Citation/CS1` orders it:
/// `Authors (Date). "Chapter". Title [Trans]. Work. Vol (Issue). Place:
/// Publisher. p. N. ISBN …. Archived from the original on …. Retrieved ….`
fn cs1(args: &Args, templates: &Templates, out: &mut Citation) {
    let authors = people(
        args,
        &["last#", "surname#", "author#-last", "author-last#", "subject#"],
        &["first#", "given#", "author#-first", "author-first#"],
        &["author#", "authors", "vauthors", "people", "host#", "credits"],
        false,
    );
    let editors = people(
        args,
        &["editor-last#", "editor#-last", "editor-surname#", "editor#-surname"],
        &["editor-first#", "editor#-first", "editor-given#", "editor#-given"],
        &["editor#", "editors", "veditors"],
        false,
    );
    let shown = first(args, &["display-authors", "displayauthors"]);
    let date = first(args, &["date", "year"]).map(|d| match first(args, &["orig-date", "orig-year", "origyear"]) {
        Some(original) => format!("{d} [{original}]"),
        None => d.to_string(),
    });
    let periodical = first(
        args,
        &[
            "journal",
            "newspaper",
            "magazine",
            "periodical",
            "work",
            "website",
            "encyclopedia",
            "encyclopaedia",
            "dictionary",
            "mailinglist",
        ],
    );
    let chapter = first(args, &["chapter", "contribution", "entry", "article", "section"]);
    let editor_text = (!editors.is_empty()).then(|| {
        let label = if editors.len() > 1 { "(eds.)" } else { "(ed.)" };
        format!("{} {label}", cs1_names(&editors, None))
    });

    if !authors.is_empty() {
        out.part("", &cs1_names(&authors, shown));
        if let Some(date) = &date {
            out.part(" ", &format!("({date})"));
        }
    } else if let Some(editor_text) = &editor_text {
        out.part("", editor_text);
        if let Some(date) = &date {
            out.part(" ", &format!("({date})"));
        }
    }
    out.part(". ", first(args, &["others"]).unwrap_or(""));
    if let Some(chapter) = chapter {
        out.part(". ", &format!("\"{chapter}\""));
    }
    if !authors.is_empty() {
        if let Some(editor_text) = &editor_text {
            out.part(". In ", editor_text);
        }
    }
    if let Some(title) = first(args, &["title", "script-title"]) {
        let quoted = periodical.is_some() && chapter.is_none();
        out.part(
            ". ",
            &if quoted {
                format!("\"{title}\"")
            } else {
                title.to_string()
            },
        );
    }
    if let Some(translated) = first(args, &["trans-title", "trans_title"]) {
        out.part(" ", &format!("[{translated}]"));
    }
    if let Some(kind) = first(args, &["type", "medium", "degree"]) {
        out.part(" ", &format!("({kind})"));
    }
    if let Some(language) = first(args, &["language", "lang"]) {
        let name = language_name(language, templates);
        if !name.eq_ignore_ascii_case("english") && !name.eq_ignore_ascii_case("en") {
            out.part(" ", &format!("(in {name})"));
        }
    }
    if let Some(edition) = first(args, &["edition"]) {
        out.part(" ", &format!("({edition} ed.)"));
    }
    out.part(". ", first(args, &["series", "version"]).unwrap_or(""));
    let volume = first(args, &["volume"]);
    let issue = first(args, &["issue", "number"]);
    let pages = first(args, &["pages", "pp"]);
    let page = first(args, &["page", "p"]);
    let at = first(args, &["at", "minutes", "time"]);
    let place = first(args, &["location", "place", "publication-place"]);
    let publisher = first(args, &["publisher", "institution", "distributor"]);
    let mut publication = String::new();
    if let Some(place) = place {
        publication.push_str(place);
    }
    if let Some(publisher) = publisher {
        if !publication.is_empty() {
            publication.push_str(": ");
        }
        publication.push_str(publisher);
    }
    match periodical {
        Some(periodical) => {
            out.part(". ", periodical);
            let mut numbers = String::new();
            if let Some(volume) = volume {
                numbers.push_str(volume);
            }
            if let Some(issue) = issue {
                if !numbers.is_empty() {
                    numbers.push(' ');
                }
                numbers.push_str(&format!("({issue})"));
            }
            out.part(". ", &numbers);
            if !publication.is_empty() {
                out.part(" ", &format!("({publication})"));
            }
            if authors.is_empty() && editor_text.is_none() {
                if let Some(date) = &date {
                    out.part(". ", date);
                }
            }
            match (pages.or(page), numbers.is_empty()) {
                (Some(pages), false) => out.part(": ", pages),
                (Some(_), true) => cs1_pages(out, pages, page),
                (None, _) => {}
            }
        }
        None => {
            if let Some(volume) = volume {
                out.part(". ", &format!("Vol. {volume}"));
            }
            out.part(". ", &publication);
            if authors.is_empty() && editor_text.is_none() {
                if let Some(date) = &date {
                    out.part(". ", date);
                }
            }
            cs1_pages(out, pages, page);
        }
    }
    out.part(". ", at.unwrap_or(""));
    for (names, label) in CS1_IDENTIFIERS {
        if let Some(value) = first(args, names) {
            out.part(". ", &format!("{label}{value}"));
        }
    }
    out.part(". ", first(args, &["id", "ID"]).unwrap_or(""));
    if let Some(archived) = first(args, &["archive-date", "archivedate", "archive_date"]) {
        if first(args, &["archive-url", "archiveurl", "archive_url"]).is_some() {
            let live = first(args, &["url-status", "dead-url"]).is_some_and(|s| s == "live" || s == "no");
            let label = if live { "Archived" } else { "Archived from the original" };
            out.part(". ", &format!("{label} on {archived}"));
        }
    }
    if let Some(accessed) = first(args, &["access-date", "accessdate", "access_date"]) {
        if first(args, &["url", "chapter-url", "contribution-url"]).is_some() {
            out.part(". ", &format!("Retrieved {accessed}"));
        }
    }
    if let Some(via) = first(args, &["via"]) {
        out.part(" – ", &format!("via {via}"));
    }
    out.end(".");
    if let Some(quote) = first(args, &["quote", "quotation"]) {
        out.part(" ", &format!("\"{quote}\""));
    }
}

fn cs1_pages(out: &mut Citation, pages: Option<&str>, page: Option<&str>) {
    if let Some(pages) = pages {
        let label = if pages.contains(['-', '–', ',']) { "pp." } else { "p." };
        out.part(". ", &format!("{label} {pages}"));
    } else if let Some(page) = page {
        out.part(". ", &format!("p. {page}"));
    }
}

/// `{{Книга}}`: `Автор. Заглавие = Оригинал / Ответственный. — Издание. —
/// Место: Издательство, 2001. — Т. 2. — С. 10—20. — 300 с. — ISBN …`;
/// `{{Статья}}`: `Автор. Заглавие // Издание. — 1905. — Т. 17, № 10. —
/// С. 891—921. — doi:…`.
fn gost(args: &Args, article: bool, out: &mut Citation) {
    out.part("", first(args, &["автор", "авторы"]).unwrap_or(""));
    if let Some(part) = first(args, &["часть"]).filter(|_| !article) {
        out.part(". ", part);
        out.part(" // ", first(args, &["заглавие"]).unwrap_or(""));
    } else {
        out.part(". ", first(args, &["заглавие"]).unwrap_or(""));
    }
    if let Some(original) = first(args, &["оригинал"]) {
        out.part(" = ", original);
    }
    if let Some(responsible) = first(args, &["ответственный"]) {
        out.part(" / ", responsible);
    }
    let (source, edition) = if article {
        (first(args, &["издание"]), None)
    } else {
        (None, first(args, &["издание"]))
    };
    out.part(" // ", source.unwrap_or(""));
    out.part(". — ", edition.unwrap_or(""));
    let mut imprint = String::new();
    if let Some(place) = first(args, &["место"]) {
        imprint.push_str(place);
    }
    if let Some(publisher) = first(args, &["издательство"]) {
        if !imprint.is_empty() {
            imprint.push_str(": ");
        }
        imprint.push_str(publisher);
    }
    if let Some(year) = first(args, &["год"]) {
        if !imprint.is_empty() {
            imprint.push_str(", ");
        }
        imprint.push_str(year);
    }
    out.part(". — ", &imprint);
    let mut numbers = Vec::new();
    if let Some(volume) = first(args, &["том"]) {
        numbers.push(format!("Т. {volume}"));
    }
    if let Some(issue) = first(args, &["выпуск"]) {
        numbers.push(format!("вып. {issue}"));
    }
    if let Some(number) = first(args, &["номер"]) {
        numbers.push(format!("№ {number}"));
    }
    out.part(". — ", &numbers.join(", "));
    if let Some(pages) = first(args, &["страницы"]) {
        out.part(". — ", &format!("С. {pages}"));
    }
    if let Some(total) = first(args, &["страниц"]) {
        out.part(". — ", &format!("{total} с."));
    }
    if let Some(series) = first(args, &["серия"]) {
        out.part(". — ", &format!("({series})"));
    }
    for (name, label) in [("isbn", "ISBN "), ("issn", "ISSN "), ("doi", "doi:")] {
        if let Some(value) = first(args, &[name, &name.to_uppercase()]) {
            out.part(". — ", &format!("{label}{value}"));
        }
    }
    out.end(".");
}

/// `{{harv|Last1|Last2|Year|p=5}}`: up to four surnames, then the year;
/// `A`, `A & B`, `A, B & C`, `A et al.`, and the page (`p`, `pp`, `loc`).
fn harvard(args: &Args, brackets: Brackets) -> String {
    let mut positional: Vec<&str> = (1..=5).filter_map(|n| args.positional(n)).collect();
    let Some(year) = positional.pop() else {
        return String::new();
    };
    let names = match positional.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [a, b] => format!("{a} & {b}"),
        [a, b, c] => format!("{a}, {b} & {c}"),
        [a, ..] => format!("{a} et al."),
    };
    let mut location = String::new();
    if let Some(page) = first(args, &["p", "page"]) {
        location = format!(", p. {page}");
    } else if let Some(pages) = first(args, &["pp", "pages"]) {
        location = format!(", pp. {pages}");
    }
    if let Some(at) = first(args, &["loc", "at"]) {
        location.push_str(&format!(", {at}"));
    }
    let names_year = if names.is_empty() {
        year.to_string()
    } else {
        format!("{names} {year}")
    };
    match brackets {
        Brackets::Around => format!("({names_year}{location})"),
        Brackets::None => format!("{names_year}{location}"),
        Brackets::AroundYear if names.is_empty() => format!("({year}{location})"),
        Brackets::AroundYear => format!("{names} ({year}{location})"),
    }
}

/// `Module:Biblio`'s templates: `Auteur, « Titre », Périodique, vol. 1,
/// no 2, date, p. 3 (ISSN …, lire en ligne)` for an article; `Auteur, Titre
/// : Sous-titre, Lieu, Éditeur, coll. « … », année, 300 p. (ISBN …)` for a
/// book; `« Titre », sur Site, date (consulté le …)` for a web page;
/// `« Chapitre », dans Auteurs, Titre, …` for a chapter.
fn biblio(args: &Args, templates: &Templates, out: &mut Citation) {
    let authors = people(
        args,
        &["nom#", "last#"],
        &["prénom#", "first#"],
        &["auteur#", "auteurs", "author#", "authors", "auteur institutionnel"],
        true,
    );
    let mut names = french_list(&authors);
    if first(args, &["directeur1", "directeur", "dir1"]) == Some("oui") {
        names.push_str(" (dir.)");
    }
    out.part("", &names);
    let periodical = first(args, &["périodique", "journal", "revue", "work"]);
    let site = first(args, &["site", "website", "éditeur site"]);
    let chapter = first(args, &["titre chapitre", "chapitre", "titre article"]);
    let title = first(args, &["titre", "title"]);
    let is_article = periodical.is_some() || site.is_some() || args.named("url").is_some() && chapter.is_none();
    if let Some(chapter) = chapter {
        out.part(", ", &format!("« {chapter} »"));
        let in_authors = people(args, &[], &[], &["auteurs ouvrage", "auteur ouvrage"], true);
        let in_title = first(args, &["titre ouvrage"]).or(title);
        out.part(", dans ", &french_list(&in_authors));
        if let Some(in_title) = in_title {
            let separator = if in_authors.is_empty() { ", dans " } else { ", " };
            out.part(separator, in_title);
        }
    } else if let Some(title) = title {
        let mut full = title.to_string();
        if let Some(subtitle) = first(args, &["sous-titre"]) {
            full.push_str(" : ");
            full.push_str(subtitle);
        }
        if is_article {
            out.part(", ", &format!("« {full} »"));
        } else {
            out.part(", ", &full);
        }
    }
    if let Some(translated) = first(args, &["traduction titre", "trad titre"]) {
        out.part(" ", &format!("[« {translated} »]"));
    }
    if let Some(translator) = first(args, &["traducteur", "trad"]) {
        out.part(", trad. ", translator);
    }
    if let Some(periodical) = periodical {
        out.part(", ", periodical);
    } else if let Some(site) = site {
        out.part(", sur ", site);
    }
    if let Some(edition) = first(args, &["numéro d'édition", "édition"]) {
        out.part(", ", &format!("{edition}e éd."));
    }
    out.part(", ", first(args, &["lieu", "location"]).unwrap_or(""));
    out.part(", ", first(args, &["éditeur", "publisher", "editeur"]).unwrap_or(""));
    if let Some(collection) = first(args, &["collection"]) {
        out.part(", coll. ", &format!("« {collection} »"));
    }
    if let Some(volume) = first(args, &["volume", "vol"]) {
        out.part(", ", &format!("vol. {volume}"));
    }
    if let Some(tome) = first(args, &["tome"]) {
        out.part(", ", &format!("t. {tome}"));
    }
    if let Some(number) = first(args, &["numéro", "no", "issue"]) {
        out.part(", ", &format!("no {number}"));
    }
    let date = match (first(args, &["date"]), first(args, &["année", "year"])) {
        (Some(date), _) => Some(date.to_string()),
        (None, Some(year)) => Some(match first(args, &["mois", "month"]) {
            // `mois=02` → `février`; anything else as written.
            Some(month) => format!(
                "{} {year}",
                month_name(month, templates).unwrap_or_else(|| month.to_string())
            ),
            None => year.to_string(),
        }),
        (None, None) => None,
    };
    out.part(", ", date.as_deref().unwrap_or(""));
    if let Some(total) = first(args, &["pages totales", "pages"]) {
        out.part(", ", &format!("{total} p."));
    }
    let mut ids: Vec<String> = Vec::new();
    let isbns: Vec<&str> = ["isbn", "ISBN", "isbn1", "isbn2", "isbn3", "ISBN2"]
        .iter()
        .filter_map(|name| args.named(name))
        .collect();
    if !isbns.is_empty() {
        ids.push(format!("ISBN {}", isbns.join(" et ")));
    }
    for (names, label) in [
        (&["issn", "ISSN"][..], "ISSN "),
        (&["e-issn"], "e-ISSN "),
        (&["oclc", "OCLC"], "OCLC "),
        (&["bnf", "BnF"], "BNF "),
        (&["doi", "DOI"], "DOI "),
        (&["pmid", "PMID"], "PMID "),
        (&["jstor", "JSTOR"], "JSTOR "),
        (&["hal"], "HAL "),
        (&["arxiv"], "arXiv "),
        (&["bibcode"], "Bibcode "),
        (&["sudoc"], "SUDOC "),
        (&["wikisource"], ""),
    ] {
        if let Some(value) = first(args, names) {
            ids.push(format!("{label}{value}"));
        }
    }
    if first(args, &["présentation en ligne"]).is_some() {
        ids.push("présentation en ligne".into());
    }
    let online = first(args, &["lire en ligne", "url texte", "url", "texte"]).is_some();
    let is_web = site.is_some() || (periodical.is_none() && args.named("url").is_some() && chapter.is_none());
    if online && !is_web {
        ids.push("lire en ligne".into());
    }
    if let Some(pages) = first(args, &["passage", "page"]) {
        out.part(", ", &format!("p. {pages}"));
    }
    if !ids.is_empty() {
        out.part(" ", &format!("({})", ids.join(", ")));
    }
    if let Some(accessed) = first(args, &["consulté le", "accessdate", "access-date"]) {
        if online {
            out.part(" ", &format!("(consulté le {accessed})"));
        }
    }
    if let Some(language) = first(args, &["langue", "lang", "language"]) {
        if !out.text.is_empty() && !language.eq_ignore_ascii_case("fr") && !language.eq_ignore_ascii_case("français") {
            out.text.insert_str(0, &format!("({language}) "));
        }
    }
}

/// `a, b et c`.
fn french_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} et {last}", rest.join(", ")),
    }
}

/// `{{Literatur}}`: `Autor: Titel. Untertitel. In: Hrsg. (Hrsg.):
/// Sammelwerk. Band 4. Auflage. Verlag, Ort Datum, ISBN …, S. 1–2,
/// doi:… (Kommentar).`
fn literatur(args: &Args, out: &mut Citation) {
    out.part("", first(args, &["Autor", "Autoren"]).unwrap_or(""));
    if let Some(title) = first(args, &["Titel"]) {
        out.part(": ", title);
    }
    out.part(". ", first(args, &["TitelErg"]).unwrap_or(""));
    out.part(". ", first(args, &["Untertitel"]).unwrap_or(""));
    if let Some(translated) = first(args, &["Übersetzung"]) {
        out.part(". ", &format!("Übersetzt von {translated}"));
    }
    if let Some(collection) = first(args, &["Sammelwerk"]) {
        out.part(
            ". In: ",
            &match first(args, &["Hrsg"]) {
                Some(editor) => format!("{editor} (Hrsg.): {collection}"),
                None => collection.to_string(),
            },
        );
    } else if let Some(editor) = first(args, &["Hrsg"]) {
        out.part(". ", &format!("{editor} (Hrsg.)"));
    }
    out.part(". ", first(args, &["WerkErg"]).unwrap_or(""));
    if let Some(volume) = first(args, &["Band"]) {
        let volume = if volume.starts_with(|c: char| c.is_ascii_digit()) {
            format!("Band {volume}")
        } else {
            volume.to_string()
        };
        out.part(". ", &volume);
    }
    if let Some(number) = first(args, &["Nummer"]) {
        out.part(", ", &format!("Nr. {number}"));
    }
    if let Some(edition) = first(args, &["Auflage"]) {
        out.part(". ", &format!("{edition}. Auflage"));
    }
    let publisher = first(args, &["Verlag"]);
    let mut place_date = String::new();
    if let Some(place) = first(args, &["Ort"]) {
        place_date.push_str(place);
    }
    if let Some(date) = first(args, &["Datum", "Jahr"]) {
        if !place_date.is_empty() {
            place_date.push(' ');
        }
        place_date.push_str(date);
    }
    match publisher {
        Some(publisher) => {
            out.part(". ", publisher);
            out.part(", ", &place_date);
        }
        // After a volume (`Band 17, 1905`); after the title, a new part.
        None if first(args, &["Band", "Nummer", "Auflage"]).is_some() => out.part(", ", &place_date),
        None => out.part(". ", &place_date),
    }
    out.part(", ", first(args, &["Reihe"]).unwrap_or(""));
    if let Some(isbn) = first(args, &["ISBN"]) {
        out.part(", ", &format!("ISBN {isbn}"));
    }
    if let Some(issn) = first(args, &["ISSN"]) {
        out.part(", ", &format!("ISSN {issn}"));
    }
    if let Some(pages) = first(args, &["Seiten"]) {
        out.part(", ", &format!("S. {pages}"));
    }
    if let Some(columns) = first(args, &["Spalten"]) {
        out.part(", ", &format!("Sp. {columns}"));
    }
    for (name, label) in [
        ("DOI", "doi:"),
        ("PMID", "PMID "),
        ("arXiv", "arXiv:"),
        ("JSTOR", "JSTOR "),
    ] {
        if let Some(value) = first(args, &[name]) {
            out.part(", ", &format!("{label}{value}"));
        }
    }
    if let Some(comment) = first(args, &["Kommentar"]) {
        out.part(" ", &format!("({comment})"));
    }
    out.end(".");
}

/// `{{Internetquelle}}`: `Autor: Titel. In: Werk. Hrsg, Datum, abgerufen
/// am 1. März 2020 (Sprache).`
fn internetquelle(args: &Args, templates: &Templates, out: &mut Citation) {
    out.part("", first(args, &["autor"]).unwrap_or(""));
    if let Some(title) = first(args, &["titel"]) {
        out.part(": ", title);
    }
    out.part(". ", first(args, &["titelerg"]).unwrap_or(""));
    if let Some(work) = first(args, &["werk"]) {
        out.part(". In: ", work);
    }
    out.part(". ", first(args, &["hrsg"]).unwrap_or(""));
    out.part(", ", &german_date(first(args, &["datum"]), templates));
    if let Some(pages) = first(args, &["seiten"]) {
        out.part(", ", &format!("S. {pages}"));
    }
    if let Some(archived) = first(args, &["archiv-datum"]) {
        if first(args, &["archiv-url"]).is_some() {
            out.part(
                ", ",
                &format!("archiviert vom Original am {}", german_date(Some(archived), templates)),
            );
        }
    }
    if let Some(accessed) = first(args, &["abruf"]) {
        out.part(
            ", ",
            &format!("abgerufen am {}", german_date(Some(accessed), templates)),
        );
    }
    if let Some(language) = first(args, &["sprache"]) {
        if !language.eq_ignore_ascii_case("de") {
            out.part(" ", &format!("({})", language_name(language, templates)));
        }
    }
    out.end(".");
}

/// `2020-03-01` → `1. März 2020` (as `{{Internetquelle}}` writes its
/// dates); anything else as written.
fn german_date(date: Option<&str>, templates: &Templates) -> String {
    let Some(date) = date else {
        return String::new();
    };
    let iso = date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-';
    match parse_date(date, templates).filter(|_| iso) {
        Some(day) => format!(
            "{}. {} {}",
            day.day,
            templates.calendar().months[day.month as usize - 1],
            day.year
        ),
        None => date.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wikitext::templates::UserTemplates;

    fn render(style: Style, language: &str, pairs: &[(&str, &str)]) -> String {
        let templates = Templates::for_wiki(Some(language), None, &UserTemplates::default());
        style.render(&Args::from_pairs(pairs), &templates)
    }

    /// Examples from the templates' documentation pages.
    #[test]
    fn cs1_book_journal_and_web() {
        assert_eq!(
            render(
                Style::Cs1,
                "en",
                &[
                    ("last", "Mackenzie"),
                    ("first", "Ian"),
                    ("title", "Book of Mackenzie"),
                    ("publisher", "Mackenzie Publishing"),
                    ("location", "London"),
                    ("year", "2007"),
                    ("isbn", "978-0-12-345678-9"),
                    ("page", "12"),
                ]
            ),
            "Mackenzie, Ian (2007). Book of Mackenzie. London: Mackenzie Publishing. p. 12. ISBN 978-0-12-345678-9."
        );
        assert_eq!(
            render(
                Style::Cs1,
                "en",
                &[
                    ("last1", "Einstein"),
                    ("first1", "Albert"),
                    ("title", "Zur Elektrodynamik bewegter Körper"),
                    ("journal", "Annalen der Physik"),
                    ("volume", "17"),
                    ("issue", "10"),
                    ("pages", "891–921"),
                    ("date", "1905"),
                    ("language", "de"),
                    ("doi", "10.1002/andp.19053221004"),
                    ("bibcode", "1905AnP...322..891E"),
                ]
            ),
            "Einstein, Albert (1905). \"Zur Elektrodynamik bewegter Körper\" (in German). Annalen der Physik. 17 (10): 891–921. Bibcode:1905AnP...322..891E. doi:10.1002/andp.19053221004."
        );
        assert_eq!(
            render(
                Style::Cs1,
                "en",
                &[
                    ("url", "https://example.org/a"),
                    ("title", "Nobel Prize in Physics 1921"),
                    ("website", "NobelPrize.org"),
                    ("access-date", "5 March 2020"),
                    ("archive-url", "https://web.archive.org/x"),
                    ("archive-date", "1 April 2019"),
                ]
            ),
            "\"Nobel Prize in Physics 1921\". NobelPrize.org. Archived from the original on 1 April 2019. Retrieved 5 March 2020."
        );
        assert_eq!(
            render(
                Style::Cs1,
                "en",
                &[
                    ("last1", "A"),
                    ("first1", "B"),
                    ("last2", "C"),
                    ("first2", "D"),
                    ("chapter", "Relativity"),
                    ("title", "Collected Papers"),
                    ("editor-last", "Stachel"),
                    ("editor-first", "John"),
                    ("edition", "2nd"),
                    ("year", "1989"),
                ]
            ),
            "A, B; C, D (1989). \"Relativity\". In Stachel, John (ed.). Collected Papers (2nd ed.)."
        );
        assert_eq!(render(Style::Cs1, "en", &[]), "");
    }

    #[test]
    fn harvard_citations_in_the_sentence() {
        let harv = |brackets, pairs: &[(&str, &str)]| render(Style::Harvard(brackets), "en", pairs);
        assert_eq!(
            harv(Brackets::Around, &[("1", "Holmes"), ("2", "1989"), ("p", "21-22")]),
            "(Holmes 1989, p. 21-22)"
        );
        assert_eq!(
            harv(Brackets::None, &[("1", "Einstein"), ("2", "2006"), ("pp", "33-37")]),
            "Einstein 2006, pp. 33-37"
        );
        assert_eq!(
            harv(
                Brackets::AroundYear,
                &[("1", "A"), ("2", "B"), ("3", "C"), ("4", "2001")]
            ),
            "A, B & C (2001)"
        );
        assert_eq!(
            harv(
                Brackets::Around,
                &[("1", "A"), ("2", "B"), ("3", "C"), ("4", "D"), ("5", "1999")]
            ),
            "(A et al. 1999)"
        );
        assert_eq!(harv(Brackets::Around, &[]), "");
    }

    #[test]
    fn biblio_ouvrage_article_lien_web_chapitre() {
        assert_eq!(
            render(
                Style::Biblio,
                "fr",
                &[
                    ("auteur1", "Pascal Dupuy"),
                    ("titre", "Folgorite"),
                    ("sous-titre", "Parcours de Sante Ferrini"),
                    ("lieu", "Lyon"),
                    ("éditeur", "Atelier de création libertaire"),
                    ("année", "2020"),
                    ("mois", "01"),
                    ("pages totales", "348"),
                    ("isbn", "978-2351041383"),
                ]
            ),
            "Pascal Dupuy, Folgorite : Parcours de Sante Ferrini, Lyon, Atelier de création libertaire, janvier 2020, 348 p. (ISBN 978-2351041383)"
        );
        assert_eq!(
            render(
                Style::Biblio,
                "fr",
                &[
                    ("prénom1", "Michel"),
                    ("nom1", "Onfray"),
                    ("prénom2", "Adeline"),
                    ("nom2", "Baldacchino"),
                    ("titre", "Entretien"),
                    ("périodique", "Les Cahiers"),
                    ("numéro", "28"),
                    ("année", "2016"),
                    ("url texte", "http://x"),
                ]
            ),
            "Michel Onfray et Adeline Baldacchino, « Entretien », Les Cahiers, no 28, 2016 (lire en ligne)"
        );
        assert_eq!(
            render(
                Style::Biblio,
                "fr",
                &[
                    ("titre", "La Revue nègre"),
                    ("url", "https://x"),
                    ("site", "musee.fr"),
                    ("consulté le", "13 mars 2021"),
                ]
            ),
            "« La Revue nègre », sur musee.fr (consulté le 13 mars 2021)"
        );
        assert_eq!(
            render(
                Style::Biblio,
                "fr",
                &[
                    ("langue", "en"),
                    ("titre chapitre", "Danseuse"),
                    ("auteurs ouvrage", "Pénélope Bagieu"),
                    ("titre ouvrage", "Culottées"),
                    ("année", "2016"),
                ]
            ),
            "(en) « Danseuse », dans Pénélope Bagieu, Culottées, 2016"
        );
    }

    #[test]
    fn gost_books_and_articles() {
        assert_eq!(
            render(
                Style::Gost { article: false },
                "ru",
                &[
                    ("автор", "Гинзбург В. Л."),
                    ("заглавие", "О физике и астрофизике"),
                    ("место", "М."),
                    ("издательство", "Наука"),
                    ("год", "1985"),
                    ("страниц", "400"),
                    ("isbn", "5-02-000000-0"),
                ]
            ),
            "Гинзбург В. Л. О физике и астрофизике. — М.: Наука, 1985. — 400 с. — ISBN 5-02-000000-0."
        );
        assert_eq!(
            render(
                Style::Gost { article: true },
                "ru",
                &[
                    ("автор", "Einstein A."),
                    ("заглавие", "Zur Elektrodynamik bewegter Körper"),
                    ("издание", "Annalen der Physik"),
                    ("год", "1905"),
                    ("том", "17"),
                    ("номер", "10"),
                    ("страницы", "891—921"),
                ]
            ),
            "Einstein A. Zur Elektrodynamik bewegter Körper // Annalen der Physik. — 1905. — Т. 17, № 10. — С. 891—921."
        );
    }

    #[test]
    fn literatur_and_internetquelle() {
        assert_eq!(
            render(
                Style::Literatur,
                "de",
                &[
                    ("Autor", "Albert Einstein"),
                    ("Titel", "Eine neue Bestimmung der Moleküldimensionen"),
                    ("Verlag", "Buchdruckerei K. J. Wyss"),
                    ("Ort", "Bern"),
                    ("Datum", "1905"),
                    ("Kommentar", "Dissertation"),
                    ("DOI", "10.3929/ethz-a-000565688"),
                ]
            ),
            "Albert Einstein: Eine neue Bestimmung der Moleküldimensionen. Buchdruckerei K. J. Wyss, Bern 1905, doi:10.3929/ethz-a-000565688 (Dissertation)."
        );
        assert_eq!(
            render(
                Style::Literatur,
                "de",
                &[
                    ("Titel", "Zur Elektrodynamik bewegter Körper"),
                    ("Sammelwerk", "Annalen der Physik"),
                    ("Band", "17"),
                    ("Datum", "1905"),
                    ("Seiten", "891–921"),
                ]
            ),
            "Zur Elektrodynamik bewegter Körper. In: Annalen der Physik. Band 17, 1905, S. 891–921."
        );
        assert_eq!(
            render(
                Style::Internetquelle,
                "de",
                &[
                    ("url", "https://x"),
                    ("titel", "Einstein"),
                    ("werk", "nobelprize.org"),
                    ("abruf", "2020-03-05"),
                    ("sprache", "en"),
                ]
            ),
            "Einstein. In: nobelprize.org, abgerufen am 5. März 2020 (englisch)."
        );
    }
}
