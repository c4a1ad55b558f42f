#!/usr/bin/env python3
"""Independent judge of wikitok's MediaWiki XML source.

    check_xml.py OUT_DIR DUMP [DUMP...]
    check_xml.py --content-ids DUMP...     (JSON: ids of ns-0 non-redirect pages)
    check_xml.py --redirect-pairs DUMP...  (JSON: [target id, target title, redirect title]
                                            for ns-0 redirects whose target is in the dumps)

OUT_DIR holds Parquet files with page_id, namespace, title, version,
redirect_target, wiki, category, outgoing_link and text for every page of
the dumps (tests/fixtures/xml/all_columns.sql writes them). The dumps are
read again here with Python's own XML parser (xml.etree, streaming) and
the wikitext parsed with mwparserfromhell, and compared:

- every page exactly once; page_id, namespace, title (namespace prefix
  taken off, by <siteinfo>), version (last revision id), redirect_target
  and wiki exact;
- categories exact (as sets) on at least 95% of the pages with wikitext;
- links to main-namespace pages: mean Jaccard >= 0.95 against
  mwparserfromhell's wikilinks in title form (content pages) — wikitok's
  outgoing_link taken as it is, so that it joins to titles: entities
  decoded, `_` and whitespace runs one space, anchor dropped, first letter
  upper-cased on a first-letter wiki;
- text: markup (`{{`, `}}`, `[[`, `]]`, `'''`, `<ref`, `{|`, `|}`, `&lt;`,
  `&amp;`) on at most 2 content pages; its words against strip_code()'s:
  median F1 >= 0.9, 10th percentile >= 0.6 (strip_code keeps tables and
  some refs that wikitok drops, so it is a floor, not a target).

Prints the figures; exits 1 with the reasons when a check fails.
"""
import bz2
import collections
import html
import gzip
import io
import re
import statistics
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import mwparserfromhell
import pyarrow.parquet as pq

MARKUP = ["{{", "}}", "[[", "]]", "'''", "<ref", "{|", "|}", "&lt;", "&amp;"]
LANGUAGE_OR_INTERWIKI = re.compile(r"^[a-z]{2,3}(-[a-z]+)*$|^(wikt|wiktionary|commons|wikisource|wikiquote|simple)$")


def open_dump(path):
    raw = open(path, "rb")
    magic = raw.read(3)
    raw.seek(0)
    if magic == b"BZh":
        data = bz2.open(raw)
    elif magic[:2] == b"\x1f\x8b":
        data = gzip.open(raw)
    else:
        data = raw
    head = data.peek(2)[:2] if hasattr(data, "peek") else b""
    if head in (b"\xff\xfe", b"\xfe\xff"):
        return io.BytesIO(data.read().decode("utf-16").encode("utf-8"))
    return data


def local(tag):
    return tag.rsplit("}", 1)[-1]


def read_dump(path):
    """(siteinfo dict, [page dicts]) with Python's XML parser."""
    site = {"namespaces": {}, "dbname": None}
    pages = []
    for _, element in ET.iterparse(open_dump(path), events=("end",)):
        name = local(element.tag)
        if name == "namespace":
            site["namespaces"][int(element.get("key"))] = (element.text or "", element.get("case", "first-letter"))
        elif name == "dbname":
            site["dbname"] = element.text
        elif name == "page":
            page = {"redirect": None}
            revisions = []
            for child in element:
                child_name = local(child.tag)
                if child_name == "title":
                    page["title"] = child.text or ""
                elif child_name == "ns":
                    page["ns"] = int(child.text)
                elif child_name == "id":
                    page["id"] = int(child.text)
                elif child_name == "redirect":
                    page["redirect"] = child.get("title")
                elif child_name == "revision":
                    revisions.append(child)
            last = revisions[-1]
            page["version"] = int(next(c.text for c in last if local(c.tag) == "id"))
            page["model"] = next((c.text for c in last if local(c.tag) == "model"), "wikitext")
            text_element = next((c for c in last if local(c.tag) == "text"), None)
            page["text"] = None if text_element is None or text_element.get("deleted") else (text_element.text or "")
            pages.append(page)
            element.clear()
    return site, pages


def strip_prefix(site, ns, title):
    if ns != 0 and ":" in title:
        prefix, rest = title.split(":", 1)
        if prefix.lower() == site["namespaces"].get(ns, ("",))[0].lower():
            return rest
    return title


def normalize_title(title, first_letter=True):
    """MediaWiki's title form of a link target (no namespace handling)."""
    title = " ".join(html.unescape(title).replace("_", " ").split())
    return title[:1].upper() + title[1:] if first_letter else title


def prefixes(site, keys, canonical):
    names = {c.lower() for c in canonical}
    names |= {site["namespaces"][k][0].lower() for k in keys if k in site["namespaces"]}
    return names


def judge_links(site, wikitext):
    """(categories, main-namespace link targets) by mwparserfromhell."""
    category_names = prefixes(site, [14], ["Category"])
    namespace_names = {name.lower() for name, _ in site["namespaces"].values() if name} | {"category", "file", "image", "media"}
    categories, links = set(), set()
    for link in mwparserfromhell.parse(wikitext).filter_wikilinks():
        target = str(link.title).strip()
        leading_colon = target.startswith(":")
        target = target.lstrip(":").strip()
        if ":" in target:
            prefix, rest = target.split(":", 1)
            prefix = " ".join(prefix.replace("_", " ").split()).lower()
            if prefix in category_names and not leading_colon:
                categories.add(normalize_title(rest))
                continue
        target = html.unescape(target).split("#", 1)[0]
        if target.strip() and is_main_namespace(target, namespace_names):
            links.add(normalize_title(target, site["namespaces"].get(0, ("", "first-letter"))[1] == "first-letter"))
    return categories, links


def is_main_namespace(target, namespace_names):
    if ":" not in target:
        return True
    prefix = " ".join(target.split(":", 1)[0].replace("_", " ").split()).lower()
    return prefix not in namespace_names and not LANGUAGE_OR_INTERWIKI.match(prefix)


def words(text):
    return collections.Counter(re.findall(r"\w+", text.lower()))


def f1(ours, theirs):
    if not ours and not theirs:
        return 1.0
    common = sum((ours & theirs).values())
    if common == 0:
        return 0.0
    precision = common / sum(ours.values())
    recall = common / sum(theirs.values())
    return 2 * precision * recall / (precision + recall)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def listings(mode, dumps):
    """The --content-ids and --redirect-pairs answers, as JSON."""
    import json
    content, redirects, titles = [], [], {}
    for dump in dumps:
        site, pages = read_dump(dump)
        for page in pages:
            if page["ns"] != 0:
                continue
            if page["redirect"]:
                redirects.append(page)
            else:
                content.append(page["id"])
                titles[page["title"]] = page["id"]
    if mode == "--content-ids":
        return json.dumps(sorted(content))
    pairs = [[titles[r["redirect"]], r["redirect"], r["title"]] for r in redirects if r["redirect"] in titles]
    return json.dumps(sorted(pairs))


def main():
    if sys.argv[1].startswith("--"):
        print(listings(sys.argv[1], sys.argv[2:]))
        return
    out_dir, dumps = Path(sys.argv[1]), sys.argv[2:]
    rows = []
    for file in sorted(out_dir.rglob("*.parquet")):
        rows.extend(pq.read_table(file).to_pylist())
    ours = collections.defaultdict(list)
    for row in rows:
        ours[row["page_id"]].append(row)

    failures = []
    category_exact = category_total = 0
    jaccards, f1s, markup_pages = [], [], []
    expected_ids = []
    for dump in dumps:
        site, pages = read_dump(dump)
        namespace_names = {name.lower() for name, _ in site["namespaces"].values() if name} | {"category", "file", "image", "media"}
        for page in pages:
            expected_ids.append(page["id"])
            got = ours.get(page["id"], [])
            if len(got) != 1:
                failures.append(f"page {page['id']} appears {len(got)} times")
                continue
            row = got[0]
            expected = {
                "namespace": page["ns"],
                "title": strip_prefix(site, page["ns"], page["title"]),
                "version": page["version"],
                "redirect_target": page["redirect"],
                "wiki": site["dbname"],
            }
            for column, value in expected.items():
                if row[column] != value:
                    failures.append(f"page {page['id']}: {column} {row[column]!r} != {value!r}")
            if page["text"] is None or page["model"] != "wikitext":
                continue
            categories, links = judge_links(site, page["text"])
            category_total += 1
            if set(row["category"] or []) == categories:
                category_exact += 1
            if page["ns"] != 0 or page["redirect"]:
                continue
            # As wikitok writes them: they must already be in title form.
            our_links = {l for l in row["outgoing_link"] or [] if is_main_namespace(l, namespace_names)}
            union = our_links | links
            jaccards.append(len(our_links & links) / len(union) if union else 1.0)
            text = row["text"] or ""
            if any(m in text for m in MARKUP):
                markup_pages.append((page["id"], [m for m in MARKUP if m in text]))
            reference = mwparserfromhell.parse(page["text"]).strip_code(normalize=True, collapse=True)
            if text.strip() or reference.strip():
                f1s.append(f1(words(text), words(reference)))
    extra = set(ours) - set(expected_ids)
    if extra:
        failures.append(f"{len(extra)} page ids not in the dumps, e.g. {sorted(extra)[:5]}")
    if len(expected_ids) != len(set(expected_ids)):
        failures.append("the dumps themselves repeat page ids")

    category_share = category_exact / category_total if category_total else 1.0
    mean_jaccard = statistics.mean(jaccards) if jaccards else 1.0
    median_f1 = statistics.median(f1s) if f1s else 1.0
    p10_f1 = percentile(f1s, 0.1) if f1s else 1.0
    print(f"pages: {len(expected_ids)} in the dumps, {len(rows)} rows")
    print(f"categories exact: {category_exact}/{category_total} = {category_share:.3f}")
    print(f"main-namespace links, mean Jaccard over {len(jaccards)} content pages: {mean_jaccard:.3f}")
    print(f"text words vs strip_code: median F1 {median_f1:.3f}, 10th percentile {p10_f1:.3f} ({len(f1s)} pages)")
    print(f"content pages with markup left: {len(markup_pages)} {markup_pages[:5]}")
    if category_share < 0.95:
        failures.append(f"categories exact on {category_share:.3f} of pages < 0.95")
    if mean_jaccard < 0.95:
        failures.append(f"mean link Jaccard {mean_jaccard:.3f} < 0.95")
    if len(markup_pages) > 2:
        failures.append(f"{len(markup_pages)} content pages carry markup: {markup_pages[:10]}")
    if median_f1 < 0.9 or p10_f1 < 0.6:
        failures.append(f"text F1 median {median_f1:.3f} (>= 0.9), p10 {p10_f1:.3f} (>= 0.6)")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures[:30]))
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
