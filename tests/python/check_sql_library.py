#!/usr/bin/env python3
"""Cross-checks the outputs of every sql/ file run on data/samples, reading
them with DuckDB as users do.

    check_sql_library.py OUT_DIR REFERENCE.tsv BERT_TOKENIZER_JSON

Expects OUT_DIR to hold the outputs of tokenize, token_counts, pretraining
(and pretraining with -D prepend_title=true under OUT_DIR/titled), pages,
categories, links, redirects, vocab, and bert_counts (token_count with the
BERT tokenizer). Prints each failed check; exits non-zero if any failed.
"""
import csv
import math
import sys

import duckdb
from tokenizers import Tokenizer


def main():
    out, ref_path, bert_path = sys.argv[1:4]
    con = duckdb.connect()
    q = lambda sql: con.execute(sql.replace("OUT", out)).fetchall()
    failures = []

    def check(name, got, want):
        status = "ok  " if got == want else "FAIL"
        print(f"{status} {name}: {got!r}" + ("" if got == want else f" != {want!r}"))
        if got != want:
            failures.append(name)

    with open(ref_path, newline="", encoding="utf-8") as f:
        ref = [r for r in csv.DictReader(f, delimiter="\t")]
    content = [r for r in ref if r["namespace"] == "0"]
    ref_tokens = sum(int(r["n_tokens"]) for r in content)

    tokens_total = q("SELECT sum(n_tokens) FROM read_parquet('OUT/tokens/*.parquet')")[0][0]
    check("tokenize total = reference", tokens_total, ref_tokens)
    check("token_counts sum = tokenize total", q("SELECT sum(n_tokens) FROM read_parquet('OUT/token_counts/*.parquet')")[0][0], tokens_total)
    check("token_counts per page = tokenize per page",
          q("SELECT count(*) FROM read_parquet('OUT/token_counts/*.parquet') c JOIN read_parquet('OUT/tokens/*.parquet') t USING (page_id) WHERE c.n_tokens <> t.n_tokens")[0][0], 0)
    pages, tokens, p50, p90, p99, mx = q("SELECT pages, tokens, tokens_per_page_p50, tokens_per_page_p90, tokens_per_page_p99, tokens_per_page_max FROM read_parquet('OUT/token_counts_summary/*.parquet')")[0]
    check("summary pages", pages, len(content))
    check("summary tokens", tokens, ref_tokens)
    want = q("SELECT quantile_cont(n_tokens, 0.5), quantile_cont(n_tokens, 0.9), quantile_cont(n_tokens, 0.99), max(n_tokens) FROM read_parquet('OUT/token_counts/*.parquet')")[0]
    # Interpolation may differ in the last float digits between engines.
    close = all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip([p50, p90, p99, mx], want))
    check("summary percentiles = DuckDB's quantile_cont (rel. 1e-6)", close, True)

    check("pretraining rows end with EOS 100257",
          q("SELECT count(*) FROM read_parquet('OUT/pretraining/*.parquet') WHERE tokens[-1] <> 100257 OR len(tokens) <> n_tokens")[0][0], 0)
    check("pretraining = tokenize + EOS",
          q("SELECT count(*) FROM read_parquet('OUT/pretraining/*.parquet') p JOIN read_parquet('OUT/tokens/*.parquet') t USING (page_id) WHERE p.tokens[1:-2] <> t.tokens")[0][0], 0)
    check("pretraining with titles starts with the title's tokens and is longer",
          q("SELECT count(*) FROM read_parquet('OUT/titled/pretraining/*.parquet') p JOIN read_parquet('OUT/pretraining/*.parquet') t USING (page_id) WHERE p.n_tokens <= t.n_tokens")[0][0], 0)

    check("pages: every page of every namespace", q("SELECT count(*), count(DISTINCT namespace) FROM read_parquet('OUT/pages/*.parquet')")[0], (len(ref), 2))
    for name, column, count_column in [("categories", "category", "n_categories"), ("links", "target", "n_outgoing_links"), ("redirects", "redirect_title", "n_redirects")]:
        check(f"{name} rows = sum(pages.{count_column}) over content pages",
              q(f"SELECT count(*) FROM read_parquet('OUT/{name}/*.parquet')")[0][0],
              q(f"SELECT sum({count_column}) FROM read_parquet('OUT/pages/*.parquet') WHERE namespace = 0")[0][0])
    check("redirects: a known one", q("SELECT title FROM read_parquet('OUT/redirects/*.parquet') WHERE redirect_title = 'AnAmericanInParis'"), [("An American in Paris",)])

    check("vocab: sum(n) = tokens", q("SELECT sum(n) FROM read_parquet('OUT/vocab/*.parquet')")[0][0], ref_tokens)
    check("vocab: one row per token id, shares sum to 1",
          q("SELECT count(*) = count(DISTINCT token_id), round(sum(share), 9) FROM read_parquet('OUT/vocab/*.parquet')")[0], (True, 1.0))
    check("vocab = DuckDB's own count of the token ids",
          q("SELECT count(*) FROM (SELECT t AS token_id, count(*) AS n FROM (SELECT unnest(tokens) AS t FROM read_parquet('OUT/tokens/*.parquet')) GROUP BY t) d FULL JOIN read_parquet('OUT/vocab/*.parquet') v USING (token_id) WHERE d.n IS DISTINCT FROM v.n")[0][0], 0)

    # BERT carries truncation at 128 in its file: wikitok must not cut.
    bert = Tokenizer.from_file(bert_path)
    bert.no_truncation()
    bert.no_padding()
    rows = q("SELECT page_id, n FROM read_parquet('OUT/bert_counts/*.parquet')")
    texts = {}
    import bz2, glob, json, os
    for path in glob.glob(os.path.join(os.path.dirname(ref_path), "..", "..", "data", "samples", "**", "*.json.bz2"), recursive=True):
        lines = bz2.open(path, "rt", encoding="utf-8").read().splitlines()
        for action, doc in zip(lines[::2], lines[1::2]):
            d = json.loads(doc)
            if d.get("namespace") == 0:
                texts[int(json.loads(action)["index"]["_id"])] = d.get("text") or ""
    wrong = [pid for pid, n in rows if n != len(bert.encode(texts[pid], add_special_tokens=False).ids)]
    check("bert token counts = HF tokenizers without truncation", wrong, [])
    check("bert pages are longer than the file's max_length 128", q("SELECT count(*) FROM read_parquet('OUT/bert_counts/*.parquet') WHERE n > 128")[0][0] > 50, True)

    print(f"{len(failures)} checks failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
