-- tokenize.sql — token ids for every content page.
--
-- Writes ${output}/tokens/*.parquet, one file per input split, columns:
--   page_id   BIGINT     the page id (the dump's action line _id)
--   wiki      VARCHAR    e.g. enwiki
--   title     VARCHAR
--   n_tokens  BIGINT     number of tokens of `text`
--   tokens    UINTEGER[] token ids of `text` (no special tokens), with the
--                        default --tokenizer (the built-in cl100k_base)
-- Every content page gets a row: a page with null or missing text has
-- n_tokens = 0 and tokens = [] (as tiktoken gives for "").
--
-- Typical use:
--   wikitok run sql/tokenize.sql --input DUMP_DIR --output out
--   duckdb -c "SELECT count(*), sum(n_tokens) FROM read_parquet('out/tokens/*.parquet')"
COPY (
    SELECT
        page_id,
        wiki,
        title,
        CAST(cardinality(tokens) AS BIGINT) AS n_tokens,
        tokens
    FROM (
        SELECT page_id, wiki, title, tokenize(coalesce(text, '')) AS tokens
        FROM pages
        WHERE namespace = 0 AND redirect_target IS NULL
    )
) TO '${output}/tokens' STORED AS PARQUET;
