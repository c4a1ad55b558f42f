#!/usr/bin/env python3
"""Which templates are used inside prose in a MediaWiki XML dump, and how many
of those uses wikitok's template data (data/templates/<lang>.toml) renders.

A use is "inline" when the template stands on a line that also holds at
least 20 letters of other text (a sentence), as opposed to a line of its own
(infoboxes, navboxes, hatnotes). Counts use mwparserfromhell (PyPI), an
independent parser; the dump is read with mwxml.

    python3 benches/template_coverage.py DUMP.xml.bz2 [--language en] [--top 40]

Prints: pages, inline uses, the share of inline uses whose template wikitok
knows (directly, by alias, any capitalization), and the most used unknown
inline templates — the list to grow the data files from. Citation-like and
maintenance templates (sfn, citation needed, ...) show up there too: they
are left out on purpose, as MediaWiki's search text leaves them out.
"""
import argparse
import bz2
import collections
import gzip
import os
import re
import sys
import tomllib

import mwparserfromhell
import mwxml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def normalize(name):
    name = " ".join(name.replace("_", " ").split())
    return name[:1].upper() + name[1:]


def known_names(language):
    with open(os.path.join(ROOT, "data", "templates", f"{language}.toml"), "rb") as f:
        data = tomllib.load(f)
    names = {normalize(n) for n in data.get("templates", {})}
    names |= {normalize(n) for n in data.get("aliases", {})}
    prefixes = {"template"} | {n.lower() for n in data.get("template_namespaces", [])}
    return names, {n.lower() for n in names}, prefixes


# Templates that write no prose a reader sees in the sentence, which
# MediaWiki's search text leaves out too: references and footnotes,
# citations, maintenance tags, flag and arrow icons, hatnotes, coordinates.
NOT_PROSE = re.compile(
    r"(?i)^(cite|citation|sfn|harv|rp$|r$|efn|refn|ref|note|clarify|when$|which$|who$|whom$|where$|by whom|"
    r"page needed|pages needed|better source|failed verification|verify source|dubious|vague|according to whom|"
    r"qualify evidence|relevance inline|wayback|webarchive|oclc|issn|isbn|doi|flagicon|flagdeco|increase|decrease|"
    r"steady|main$|see also|further|[a-z]{2} icon|dmoz|clear|coord|dead link|full citation needed|specify|"
    r"update after|year needed|original research|fact$|cn$|lower|anchor)"
)


def open_dump(path):
    if path.endswith(".bz2"):
        return bz2.open(path)
    if path.endswith(".gz"):
        return gzip.open(path)
    return open(path, "rb")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dump")
    parser.add_argument("--language", default="en")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    names, folded, prefixes = known_names(args.language)

    def is_known(name):
        name = normalize(name)
        if ":" in name:
            prefix, rest = name.split(":", 1)
            if prefix.strip().lower() in prefixes:
                name = normalize(rest)
            elif name.startswith("#") or prefix.strip().lower() in {"formatnum", "lc", "uc", "ucfirst", "lcfirst", "padleft"}:
                return True  # a parser function
        return name in names or name.lower() in folded or name in {"CURRENTYEAR", "PAGENAME", "!"}

    inline = collections.Counter()
    pages = 0
    for page in mwxml.Dump.from_file(open_dump(args.dump)):
        if page.namespace != 0 or page.redirect:
            continue
        for revision in page:
            pages += 1
            for line in (revision.text or "").split("\n"):
                stripped = line.strip()
                for template in mwparserfromhell.parse(line).filter_templates(recursive=False):
                    rest = stripped.replace(str(template), "", 1)
                    letters = sum(c.isalpha() for c in mwparserfromhell.parse(rest).strip_code())
                    if letters >= 20:
                        inline[str(template.name).strip()] += 1
            break
    total = sum(inline.values())
    covered = sum(n for name, n in inline.items() if is_known(name))
    not_prose = sum(n for name, n in inline.items() if not is_known(name) and NOT_PROSE.match(normalize(name)))
    prose = total - not_prose
    print(f"pages {pages}, inline template uses {total}: rendered by wikitok {covered} ({100 * covered / max(total, 1):.1f}%), "
          f"references/citations/maintenance/icons (dropped, as MediaWiki's search text does) {not_prose}")
    print(f"of the {prose} uses of templates that write prose, wikitok renders {covered} ({100 * covered / max(prose, 1):.1f}%)")
    distinct = collections.Counter()
    for name, n in inline.items():
        distinct[normalize(name)] += n
    print(f"distinct inline templates {len(distinct)}; most used prose templates wikitok drops:")
    shown = 0
    for name, n in distinct.most_common():
        if not is_known(name) and not NOT_PROSE.match(name):
            print(f"  {n:6d}  {name}")
            shown += 1
            if shown >= args.top:
                break


if __name__ == "__main__":
    sys.exit(main())
