#!/usr/bin/env python3
"""wikitok's wikitext renderer against MediaWiki's own rendering of the same revisions.

    target/test-venv/bin/python benches/render_vs_mediawiki.py SOURCE ... [--show N] [--json OUT]

Each SOURCE is one of two kinds of pairs (wikitext, MediaWiki's text of the
same revision):

- a CirrusSearch date directory (holding `index_name=WIKI_content/`): each
  document carries the revision's wikitext (`source_text`) and the text
  MediaWiki's search index made from its HTML (`text`);
- a directory of article records with the revision's wikitext and
  MediaWiki's rendering of it: Wikimedia Enterprise records
  (`article_body.wikitext` + `article_body.html`, Parsoid HTML),
  `{wiki, title, pageid, wikitext, html}` records (the legacy parser's
  HTML, from `action=parse`), or `{wiki, title, pageid, wikitext, text}`
  records (a TextExtracts plain-text extract), as `*.json` files. The reference text is the
  HTML's paragraphs, list items, definitions and quotes with what
  CirrusSearch's `text` leaves out taken away: headings, references,
  tables, infoboxes, figures, navboxes, hatnotes, hidden and
  `noprint`/`metadata` elements. E.g. ../shared/oracle/wme-enterprise-articles.

For each wiki, the wikitext is written as a MediaWiki XML dump (with a
`<siteinfo>` for the wiki's namespaces), `target/release/wikitok run
tests/fixtures/xml/all_columns.sql` renders it, and each page is scored:

- word F1: the multisets of lower-cased words (\\w+) of both texts;
- numbers found: the share of the reference's digit runs (\\d+, as a
  multiset) that wikitok's text has — dates, quantities, counts the
  templates write. For HTML references, counted over prose paragraphs.

mwparserfromhell's `strip_code()` on the same wikitext is the baseline.
`--json OUT` writes every page's scores (tests/render_oracle.rs reads it).

The repository's own samples cannot judge a renderer: their `text` is not
MediaWiki's (it equals strip_code's output). Needs beautifulsoup4 and lxml
for HTML records (both in tests/python/requirements.txt). Build first:
cargo build --release.
"""
import argparse
import bz2
import collections
import glob
import html
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BINARY = os.path.join(REPO, "target", "release", "wikitok")
WORD = re.compile(r"\w+")
DIGITS = re.compile(r"\d+")

# Namespace names: canonical English names, and each language's own for the
# namespaces a renderer must know (files, templates, categories; from the
# wikis' siteinfo).
NAMESPACES = {
    "en": {},
    "bg": {2: "Потребител", 4: "Уикипедия", 6: "Файл", 10: "Шаблон", 12: "Помощ", 14: "Категория", 100: "Портал"},
    "fr": {6: "Fichier", 10: "Modèle", 14: "Catégorie"},
    "de": {6: "Datei", 10: "Vorlage", 14: "Kategorie"},
    "pt": {6: "Ficheiro", 10: "Predefinição", 14: "Categoria"},
    "es": {6: "Archivo", 10: "Plantilla", 14: "Categoría"},
    "it": {6: "File", 10: "Template", 14: "Categoria"},
    "ru": {6: "Файл", 10: "Шаблон", 14: "Категория"},
    "ja": {6: "ファイル", 10: "Template", 14: "Category"},
    "nl": {6: "Bestand", 10: "Sjabloon", 14: "Categorie"},
}
CANONICAL = {-2: "Media", -1: "Special", 1: "Talk", 2: "User", 3: "User talk", 4: "Wikipedia", 5: "Wikipedia talk",
             6: "File", 7: "File talk", 8: "MediaWiki", 9: "MediaWiki talk", 10: "Template", 11: "Template talk",
             12: "Help", 13: "Help talk", 14: "Category", 15: "Category talk", 100: "Portal", 101: "Portal talk",
             828: "Module", 829: "Module talk"}


def documents(date_dir):
    """{wiki: [document]} from a CirrusSearch date directory."""
    wikis = collections.defaultdict(list)
    for path in sorted(glob.glob(os.path.join(date_dir, "index_name=*", "*.json*"))):
        opener = bz2.open if path.endswith(".bz2") else open
        with opener(path, "rt", encoding="utf-8") as f:
            lines = f.read().splitlines()
        for line in lines[1::2]:
            doc = json.loads(line)
            if doc.get("namespace") == 0 and doc.get("source_text") and doc.get("text"):
                wikis[doc["wiki"]].append(doc)
    return wikis


# What CirrusSearch's `text` leaves out of the HTML (its excluded and
# auxiliary selectors, and the templates' own "not searchable" classes).
DROPPED = ["h1", "h2", "h3", "h4", "h5", "h6", "table", "figure", "figcaption", "style", "script", "math",
           "sup.reference", "sup.mw-ref", ".mw-references-wrap", "ol.references", ".navbox", ".hatnote",
           ".dablink", ".rellink", ".metadata", ".noprint", ".mw-editsection", ".infobox", ".thumb",
           ".gallery", ".reflist", ".refbegin", ".navigation-not-searchable", ".autocollapse", ".sidebar",
           ".toc", "#toc", ".mw-empty-elt", "link", "meta"]


def html_text(html_source, paragraphs_only=False):
    """The prose of MediaWiki's HTML, as CirrusSearch's `text` keeps it."""
    from bs4 import BeautifulSoup
    body = BeautifulSoup(html_source, "lxml")
    body = body.body or body
    for selector in DROPPED:
        for element in body.select(selector):
            element.decompose()
    kinds = ["p"] if paragraphs_only else ["p", "li", "dd", "blockquote"]
    return "\n".join(e.get_text(" ") for e in body.find_all(kinds) if not e.find_parent(["li", "dd", "blockquote"]))


# Where a plain-text extract's article ends: the sections of notes and links
# that CirrusSearch's `text` leaves out with the references.
END_SECTIONS = re.compile(r"^==+\s*(References|Notes|Sources|Bibliography|External links|Further reading|See also)\b", re.I)


def extract_text(extract, paragraphs_only=False):
    """The prose of a TextExtracts plain-text extract: its lines up to the
    closing sections, without the `== Heading ==` lines; paragraphs are the
    lines of 40 characters or more."""
    kept = []
    for line in extract.splitlines():
        stripped = line.strip()
        if END_SECTIONS.match(stripped):
            break
        if stripped and not stripped.startswith("=="):
            kept.append(stripped)
    return "\n".join(l for l in kept if not paragraphs_only or len(l) >= 40)


def records(directory):
    """{wiki: [document]} from article records with wikitext and HTML."""
    wikis = collections.defaultdict(list)
    unreadable = 0
    for path in sorted(glob.glob(os.path.join(directory, "**", "*.json"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            try:
                record = json.load(f)
            except json.JSONDecodeError:
                unreadable += 1
                continue
        if not isinstance(record, dict):
            continue
        body = record.get("article_body") or {}
        if body.get("wikitext") and body.get("html"):
            wiki, title = record["is_part_of"]["identifier"], record["name"]
            page_id, version = int(record["identifier"]), int(record["version"]["identifier"])
            wikitext, html_source = body["wikitext"], body["html"]
        elif record.get("wikitext") and (record.get("html") or record.get("text")):
            wiki, title = record["wiki"], record["title"]
            page_id, version = int(record["pageid"]), int(record.get("lastrevid") or record["pageid"])
            wikitext, html_source = record["wikitext"], record.get("html")
        else:
            continue
        if html_source:
            text, prose = html_text(html_source), html_text(html_source, paragraphs_only=True)
        else:
            text, prose = extract_text(record["text"]), extract_text(record["text"], paragraphs_only=True)
        wikis[wiki].append({"wiki": wiki, "title": title, "page_id": page_id, "version": version,
                            "source_text": wikitext, "text": text, "prose": prose})
    if unreadable:
        print(f"{directory}: {unreadable} file(s) skipped: not JSON", file=sys.stderr)
    return wikis


def write_dump(directory, wiki, date, docs):
    language = {"simple": "en", "": "en"}.get(wiki.split("wiki")[0], wiki.split("wiki")[0])
    names = dict(CANONICAL)
    names.update(NAMESPACES.get(language, {}))
    lines = [
        '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="%s">' % language,
        "  <siteinfo>",
        f"    <sitename>Wikipedia</sitename>\n    <dbname>{wiki}</dbname>",
        f"    <base>https://{language}.wikipedia.org/wiki/Main_Page</base>",
        "    <case>first-letter</case>\n    <namespaces>",
        '      <namespace key="0" case="first-letter" />',
    ]
    lines += [f'      <namespace key="{k}" case="first-letter">{html.escape(v)}</namespace>' for k, v in sorted(names.items())]
    lines += ["    </namespaces>", "  </siteinfo>"]
    for doc in docs:
        text = doc["source_text"]
        lines += [
            "  <page>",
            f"    <title>{html.escape(doc['title'], quote=False)}</title>",
            "    <ns>0</ns>",
            f"    <id>{doc['page_id']}</id>",
            "    <revision>",
            f"      <id>{doc.get('version') or doc['page_id']}</id>",
            f"      <timestamp>{doc.get('timestamp') or '2026-11-15T00:00:00Z'}</timestamp>",
            "      <model>wikitext</model>\n      <format>text/x-wiki</format>",
            f'      <text bytes="{len(text.encode())}" xml:space="preserve">{html.escape(text, quote=False)}</text>',
            "    </revision>",
            "  </page>",
        ]
    lines.append("</mediawiki>\n")
    path = os.path.join(directory, f"{wiki}-{date}-pages-articles.xml.bz2")
    with bz2.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines))
    return path


def f1(reference, candidate):
    ref = collections.Counter(w.lower() for w in WORD.findall(reference))
    got = collections.Counter(w.lower() for w in WORD.findall(candidate))
    common = sum((ref & got).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def numbers_found(reference, candidate):
    ref = collections.Counter(DIGITS.findall(reference))
    if not ref:
        return None
    got = collections.Counter(DIGITS.findall(candidate))
    return sum((ref & got).values()) / sum(ref.values())


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    values.sort()
    return f"median {statistics.median(values):.3f}, min {values[0]:.3f}, p10 {values[len(values) // 10]:.3f} ({len(values)} pages)"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("sources", nargs="+",
                        help="CirrusSearch date directories (holding index_name=...), or directories of article records")
    parser.add_argument("--show", type=int, default=0, help="print the N worst pages by numbers found")
    parser.add_argument("--json", help="write every page's scores here")
    parser.add_argument("--binary", default=BINARY, help="the wikitok binary (default: target/release/wikitok)")
    opts = parser.parse_args()
    try:
        import mwparserfromhell
    except ImportError:
        mwparserfromhell = None
    work = tempfile.mkdtemp(prefix="wikitok-render-")
    rows = []
    for source in opts.sources:
        if glob.glob(os.path.join(source, "index_name=*")):
            date, wikis = os.path.basename(os.path.normpath(source)), documents(source)
        else:
            date, wikis = "20990101", records(source)
        for wiki, docs in sorted(wikis.items()):
            dump_dir = os.path.join(work, f"{len(rows)}-{wiki}", "dump")
            out = os.path.join(work, f"{len(rows)}-{wiki}", "out")
            os.makedirs(dump_dir)
            write_dump(dump_dir, wiki, date, docs)
            subprocess.run([opts.binary, "run", os.path.join(REPO, "tests/fixtures/xml/all_columns.sql"), "--input", dump_dir,
                            "--output", out, "-q"], check=True, capture_output=True)
            table = pq.read_table(os.path.join(out, "all_columns")).to_pylist()
            rendered = {r["page_id"]: r["text"] or "" for r in table}
            for doc in docs:
                mine = rendered.get(doc["page_id"], "")
                baseline = mwparserfromhell.parse(doc["source_text"]).strip_code() if mwparserfromhell else None
                prose = doc.get("prose", doc["text"])
                rows.append({
                    "wiki": wiki, "title": doc["title"], "rendered": doc["page_id"] in rendered,
                    "f1": f1(doc["text"], mine), "numbers": numbers_found(prose, mine),
                    "f1_base": f1(doc["text"], baseline) if baseline is not None else None,
                    "numbers_base": numbers_found(prose, baseline) if baseline is not None else None,
                })
    for wiki in sorted({r["wiki"] for r in rows}) + ["all"]:
        mine = [r for r in rows if wiki in ("all", r["wiki"])]
        print(f"{wiki}:")
        print(f"  word F1       wikitok {summary([r['f1'] for r in mine])}")
        print(f"                strip_code {summary([r['f1_base'] for r in mine])}")
        print(f"  numbers found wikitok {summary([r['numbers'] for r in mine])}")
        print(f"                strip_code {summary([r['numbers_base'] for r in mine])}")
    worst = sorted((r for r in rows if r["numbers"] is not None), key=lambda r: r["numbers"])[: opts.show]
    for r in worst:
        print(f"  {r['wiki']} {r['title']!r}: numbers {r['numbers']:.3f}, F1 {r['f1']:.3f}")
    if opts.json:
        with open(opts.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    sys.exit(main())
