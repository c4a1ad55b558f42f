-- redirects.sql — one row per (page, redirect to it), from either dump family.
--
-- Writes ${output}/redirects/*.parquet:
--   page_id BIGINT, title VARCHAR (the target page), redirect_title VARCHAR
-- Variables: ${namespace:-0} selects the target pages' namespace.
--
-- CirrusSearch dumps list a page's redirects in its `redirect` column.
-- MediaWiki XML dumps list redirect pages instead (`redirect_target` set):
-- they are joined to their targets on (namespace, title) — a join over every
-- title of the dump, so it is a sort-merge join, which spills to --spill-dir
-- under a small --memory-limit where a hash join would fail. (Redirects to
-- another namespace, rare, are left out; the target's title is compared
-- without its namespace prefix, as titles are stored.)
--
-- Typical use: resolving alternative titles and aliases to page ids.
--   duckdb -c "SELECT * FROM read_parquet('out/redirects/*.parquet') WHERE redirect_title = 'AnAmericanInParis'"
SET datafusion.optimizer.prefer_hash_join = false;

COPY (
    SELECT page_id, title, unnest(redirect) AS redirect_title
    FROM pages
    WHERE namespace = ${namespace:-0} AND redirect IS NOT NULL
    UNION ALL
    SELECT target.page_id, target.title, source.title AS redirect_title
    FROM (
        SELECT namespace, title,
            CASE WHEN namespace = 0 THEN redirect_target
                 ELSE substr(redirect_target, strpos(redirect_target, ':') + 1) END AS target_title
        FROM pages
        WHERE namespace = ${namespace:-0} AND redirect_target IS NOT NULL
    ) AS source
    JOIN (
        SELECT page_id, namespace, title
        FROM pages
        WHERE namespace = ${namespace:-0} AND redirect_target IS NULL
    ) AS target
    ON source.namespace = target.namespace AND source.target_title = target.title
) TO '${output}/redirects' STORED AS PARQUET;
