-- packed.sql — fixed-length training sequences for HF/trl/litgpt-style loops.
--
-- Writes ${output}/packed/*.parquet, one file per input split:
--   partition INT, row BIGINT,
--   input_ids UINTEGER[]  exactly ${seq_len} token ids
-- The content pages of each split (token ids + the tokenizer's end-of-text
-- token, in page order) are concatenated and cut into rows of seq_len ids;
-- the last incomplete row of each file is dropped (the run summary says how
-- many tokens that lost).
-- Variables:
--   -D seq_len=N            tokens per row (default 2048)
--   -D prepend_title=true   tokenize "TITLE\n\nTEXT" instead of TEXT
--
--   wikitok run sql/packed.sql --input DUMP -D seq_len=4096
--   python -c "import datasets; d = datasets.load_dataset('parquet', data_files='out/packed/*.parquet')"
COPY (
    SELECT
        array_append(
            tokenize(CASE WHEN ${prepend_title:-false} THEN concat(title, chr(10), chr(10), text) ELSE text END),
            eos_token_id()
        ) AS tokens
    FROM pages
    WHERE namespace = 0 AND redirect_target IS NULL AND text IS NOT NULL AND text <> ''
) TO '${output}/packed' STORED AS PACKED OPTIONS ('seq_len' '${seq_len:-2048}');
