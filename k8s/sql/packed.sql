-- packed.sql — fixed-length training sequences for HF/trl/litgpt-style loops.
--
-- Writes ${output}/packed/part-bNNNNN.parquet, one file per bucket of pages
-- (at most ${buckets}, written in parallel):
--   partition INT (the bucket), row BIGINT,
--   input_ids UINTEGER[]  exactly ${seq_len} token ids
-- Content pages go to bucket page_id % ${buckets}; in each bucket, in page-id
-- order, their token ids + the tokenizer's end-of-text token are
-- concatenated and cut into rows of seq_len ids; the last incomplete row of
-- each bucket is dropped (the run summary says how many tokens that lost).
-- Same dump, same variables → byte-identical files, whatever --partitions,
-- the number of shards or the machine: the division of the work never
-- decides which pages share a row.
-- Variables:
--   -D seq_len=N            tokens per row (default 2048)
--   -D buckets=N            files (default 64); fewer buckets drop fewer
--                           tokens (one incomplete row each), more write
--                           in parallel on more cores
--   -D prepend_title=true   tokenize "TITLE\n\nTEXT" instead of TEXT
--
--   wikitok run sql/packed.sql --input DUMP -D seq_len=4096
--   python -c "import datasets; d = datasets.load_dataset('parquet', data_files='out/packed/*.parquet')"
COPY (
    SELECT tokens, bucket AS file_bucket,
           row_number() OVER (PARTITION BY bucket ORDER BY page_id, wiki) AS position
    FROM (
        SELECT
            array_append(
                tokenize(CASE WHEN ${prepend_title:-false} THEN concat(title, chr(10), chr(10), text) ELSE text END),
                eos_token_id()
            ) AS tokens,
            page_id % ${buckets:-64} AS bucket,
            page_id,
            wiki
        FROM pages
        WHERE namespace = 0 AND redirect_target IS NULL AND text IS NOT NULL AND text <> ''
    )
) TO '${output}/packed' STORED AS PACKED OPTIONS ('seq_len' '${seq_len:-2048}');
