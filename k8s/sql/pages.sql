-- pages.sql — page metadata, no text.
--
-- Writes ${output}/pages/*.parquet, one file per input split, one row per page
-- of every namespace:
--   page_id BIGINT, wiki VARCHAR, namespace INT, title VARCHAR,
--   timestamp TIMESTAMP WITH TIME ZONE (last edit), version BIGINT (revision id),
--   text_bytes BIGINT, incoming_links BIGINT,
--   n_categories, n_outgoing_links, n_headings, n_redirects BIGINT
--
-- Typical use: choosing pages (popular, recent, well-linked) before tokenizing.
--   duckdb -c "SELECT title, incoming_links FROM read_parquet('out/pages/*.parquet')
--              ORDER BY incoming_links DESC LIMIT 20"
COPY (
    SELECT
        page_id,
        wiki,
        namespace,
        title,
        timestamp,
        version,
        text_bytes,
        incoming_links,
        CAST(coalesce(cardinality(category), 0) AS BIGINT) AS n_categories,
        CAST(coalesce(cardinality(outgoing_link), 0) AS BIGINT) AS n_outgoing_links,
        CAST(coalesce(cardinality(heading), 0) AS BIGINT) AS n_headings,
        CAST(coalesce(cardinality(redirect), 0) AS BIGINT) AS n_redirects
    FROM pages
) TO '${output}/pages' STORED AS PARQUET;
