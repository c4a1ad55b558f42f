-- vocab.sql — token-id frequencies over the corpus.
--
-- Writes ${output}/vocab/*.parquet (one file), one row per token id that occurs,
-- most frequent first:
--   token_id UINTEGER, n BIGINT (occurrences), share DOUBLE (n / all tokens)
-- Variables: ${namespace:-0} selects the namespace.
--
-- The aggregation spills to --spill-dir when it outgrows --memory-limit:
--   wikitok run sql/vocab.sql --memory-limit 32MiB --spill-dir /spill
--   duckdb -c "SELECT * FROM read_parquet('out/vocab/*.parquet') LIMIT 20"
COPY (
    SELECT token_id, n, CAST(n AS DOUBLE) / sum(n) OVER () AS share
    FROM (
        SELECT token_id, count(*) AS n
        FROM (
            SELECT unnest(tokenize(text)) AS token_id
            FROM pages
            WHERE namespace = ${namespace:-0} AND redirect_target IS NULL
        )
        GROUP BY token_id
    )
    ORDER BY n DESC, token_id
) TO '${output}/vocab' STORED AS PARQUET;
