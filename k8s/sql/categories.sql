-- categories.sql — one row per (page, category).
--
-- Writes ${output}/categories/*.parquet, one file per input split:
--   page_id BIGINT, title VARCHAR, category VARCHAR (without the "Category:" prefix)
-- Variables: ${namespace:-0} selects the pages' namespace.
--
-- Typical use: topic filters and category graphs.
--   duckdb -c "SELECT category, count(*) n FROM read_parquet('out/categories/*.parquet')
--              GROUP BY 1 ORDER BY n DESC LIMIT 20"
COPY (
    SELECT page_id, title, unnest(category) AS category
    FROM pages
    WHERE namespace = ${namespace:-0} AND redirect_target IS NULL
) TO '${output}/categories' STORED AS PARQUET;
