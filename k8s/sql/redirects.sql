-- redirects.sql — one row per (page, redirect to it).
--
-- Writes ${output}/redirects/*.parquet, one file per input split:
--   page_id BIGINT, title VARCHAR (the target page), redirect_title VARCHAR
-- Variables: ${namespace:-0} selects the target pages' namespace.
--
-- Typical use: resolving alternative titles and aliases to page ids.
--   duckdb -c "SELECT * FROM read_parquet('out/redirects/*.parquet') WHERE redirect_title = 'AnAmericanInParis'"
COPY (
    SELECT page_id, title, unnest(redirect) AS redirect_title
    FROM pages
    WHERE namespace = ${namespace:-0}
) TO '${output}/redirects' STORED AS PARQUET;
