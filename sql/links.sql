-- links.sql — one row per (page, outgoing link).
--
-- Writes ${output}/links/*.parquet, one file per input split:
--   page_id BIGINT, title VARCHAR, target VARCHAR (the linked page's title)
-- Variables: ${namespace:-0} selects the pages' namespace.
--
-- Typical use: the link graph (PageRank, neighbourhoods).
--   duckdb -c "SELECT target, count(*) n FROM read_parquet('out/links/*.parquet')
--              GROUP BY 1 ORDER BY n DESC LIMIT 20"
COPY (
    SELECT page_id, title, unnest(outgoing_link) AS target
    FROM pages
    WHERE namespace = ${namespace:-0} AND redirect_target IS NULL
) TO '${output}/links' STORED AS PARQUET;
