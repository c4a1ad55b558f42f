#!/usr/bin/env python3
"""MediaWiki XML → text (and tokens): wikitok against wikiextractor and
mwparserfromhell on the same single-stream .xml.bz2, same machine, same run.

    # a 24 MB-of-XML dump scaled up from real pages (fresh page ids):
    python3 benches/compare_xml.py --make /tmp/xml24.xml.bz2 --mb 24 \
        --from tests/fixtures/xml/enwiki-20261101-pages-articles-multistream.xml.bz2
    # then time the tools on it (wikiextractor from PyPI, in any venv):
    python3 benches/compare_xml.py /tmp/xml24.xml.bz2 --runs 3 \
        --wikiextractor-python /tmp/wxvenv/bin/python [--strip-code-python target/test-venv/bin/python]

Prints, per tool: median wall time over --runs, MB/s of XML, content
pages/s, and the ratio to wikitok. wikitok runs `sql/tokenize.sql` (it
renders text *and* tokenizes it); wikiextractor extracts text only
(`--processes 2`); mwparserfromhell's `strip_code` runs on one core.
`bzip2 -dc` is the floor every tool pays.
"""
import argparse
import bz2
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_dump(target, mb, source):
    """Repeats the pages of `source` with fresh ids until `mb` MB of XML."""
    text = bz2.open(source).read().decode("utf-8")
    head_end = text.index("</siteinfo>") + len("</siteinfo>\n")
    head = text[:head_end]
    pages = re.findall(r"  <page>.*?</page>\n", text[head_end:], flags=re.S)
    out = bz2.BZ2File(target, "wb", compresslevel=9)
    out.write(head.encode())
    written, next_id, copy = len(head), 1, 0
    while written < mb * 1_000_000:
        for page in pages:
            page = re.sub(r"<id>\d+</id>", f"<id>{next_id}</id>", page, count=1)
            page = re.sub(r"<title>(.*?)</title>", lambda m: f"<title>{m.group(1)} {copy}</title>" if copy else m.group(0), page, count=1)
            data = page.encode()
            out.write(data)
            written += len(data)
            next_id += 1
        copy += 1
    out.write(b"</mediawiki>\n")
    out.close()
    print(f"wrote {target}: {written / 1e6:.1f} MB of XML, {next_id - 1} pages")


def timed(command, runs, **kwargs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


STRIP_CODE = """
import bz2, sys, xml.etree.ElementTree as ET, mwparserfromhell
n = 0
for _, e in ET.iterparse(bz2.open(sys.argv[1]), events=("end",)):
    if e.tag.endswith("}page") or e.tag == "page":
        text = next((t for t in e.iter() if t.tag.endswith("text")), None)
        if text is not None and text.text:
            mwparserfromhell.parse(text.text).strip_code(normalize=True, collapse=True)
            n += 1
        e.clear()
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dump", nargs="?")
    parser.add_argument("--make")
    parser.add_argument("--mb", type=float, default=24)
    parser.add_argument("--from", dest="source", default=str(ROOT / "tests/fixtures/xml/enwiki-20261101-pages-articles-multistream.xml.bz2"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wikitok", default=str(ROOT / "target/release/wikitok"))
    parser.add_argument("--wikiextractor-python", help="a python with wikiextractor installed")
    parser.add_argument("--strip-code-python", help="a python with mwparserfromhell installed (one core; slow)")
    args = parser.parse_args()
    if args.make:
        make_dump(args.make, args.mb, args.source)
        return
    dump = Path(args.dump)
    xml_mb = sum(len(chunk) for chunk in iter(lambda f=bz2.open(dump): f.read(1 << 20), b"")) / 1e6
    scratch = Path(tempfile.mkdtemp(prefix="wikitok-xml-bench-"))
    results = {}
    results["bzip2 -dc (decompression only)"] = timed(["bzip2", "-dc", str(dump)], args.runs)
    wikitok_out = scratch / "wikitok"

    def run_wikitok():
        shutil.rmtree(wikitok_out, ignore_errors=True)
        subprocess.run(
            [args.wikitok, "run", "sql/tokenize.sql", "--input", str(dump), "--output", str(wikitok_out), "-q"],
            check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        run_wikitok()
        times.append(time.perf_counter() - started)
    results["wikitok run sql/tokenize.sql (text + cl100k tokens)"] = statistics.median(times)
    if args.wikiextractor_python:
        out = scratch / "wikiextractor"
        times = []
        for _ in range(args.runs):
            shutil.rmtree(out, ignore_errors=True)
            started = time.perf_counter()
            subprocess.run(
                [args.wikiextractor_python, "-m", "wikiextractor.WikiExtractor", str(dump), "--processes", "2", "-o", str(out), "-q"],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            times.append(time.perf_counter() - started)
        results["wikiextractor --processes 2 (text only)"] = statistics.median(times)
    if args.strip_code_python:
        results["mwparserfromhell strip_code (text only, 1 core)"] = timed(
            [args.strip_code_python, "-c", STRIP_CODE, str(dump)], 1
        )
    content_pages = sum(1 for _ in iter_content_pages(dump))
    wikitok_time = results["wikitok run sql/tokenize.sql (text + cl100k tokens)"]
    print(f"{dump}: {xml_mb:.1f} MB of XML, {content_pages} content pages; median of {args.runs} runs")
    print(f"{'tool':<55} {'wall s':>8} {'MB/s XML':>9} {'pages/s':>8} {'× wikitok':>9}")
    for tool, seconds in results.items():
        print(f"{tool:<55} {seconds:>8.2f} {xml_mb / seconds:>9.1f} {content_pages / seconds:>8.0f} {seconds / wikitok_time:>9.2f}")
    shutil.rmtree(scratch, ignore_errors=True)


def iter_content_pages(dump):
    """Namespace-0 pages that are not redirects, counted from the XML."""
    import xml.etree.ElementTree as ET
    for _, element in ET.iterparse(bz2.open(dump), events=("end",)):
        if element.tag.rsplit("}", 1)[-1] == "page":
            ns = next((c.text for c in element if c.tag.rsplit("}", 1)[-1] == "ns"), None)
            redirect = any(c.tag.rsplit("}", 1)[-1] == "redirect" for c in element)
            if ns == "0" and not redirect:
                yield 1
            element.clear()


if __name__ == "__main__":
    sys.exit(main())
