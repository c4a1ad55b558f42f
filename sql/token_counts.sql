-- token_counts.sql — tokens per page, and a one-row corpus summary.
--
-- Writes
--   ${output}/token_counts/*.parquet          one row per content page, one file per input split:
--       page_id BIGINT, title VARCHAR, n_chars BIGINT (characters of text),
--       n_tokens BIGINT (tokens of text with the default tokenizer; 0 for no text)
--   ${output}/token_counts_summary/*.parquet  one row:
--       pages BIGINT, tokens BIGINT, chars BIGINT, tokens_per_page_p50/p90/p99 DOUBLE
--       (exact percentiles), tokens_per_page_max BIGINT
-- The summary is computed from the per-page files, so pages are tokenized once.
-- Variables: ${namespace:-0} selects the namespace.
--
-- Typical use: sizing a corpus before a full tokenize run.
--   wikitok run sql/token_counts.sql --input DUMP_DIR
--   duckdb -c "SELECT * FROM read_parquet('out/token_counts_summary/*.parquet')"
COPY (
    SELECT
        page_id,
        title,
        CAST(coalesce(character_length(text), 0) AS BIGINT) AS n_chars,
        coalesce(token_count(text), 0) AS n_tokens
    FROM pages
    WHERE namespace = ${namespace:-0} AND redirect_target IS NULL
) TO '${output}/token_counts' STORED AS PARQUET;

CREATE EXTERNAL TABLE token_counts STORED AS PARQUET LOCATION '${output}/token_counts/';

COPY (
    SELECT
        count(*) AS pages,
        sum(n_tokens) AS tokens,
        sum(n_chars) AS chars,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY n_tokens) AS tokens_per_page_p50,
        percentile_cont(0.9) WITHIN GROUP (ORDER BY n_tokens) AS tokens_per_page_p90,
        percentile_cont(0.99) WITHIN GROUP (ORDER BY n_tokens) AS tokens_per_page_p99,
        max(n_tokens) AS tokens_per_page_max
    FROM token_counts
) TO '${output}/token_counts_summary' STORED AS PARQUET;
