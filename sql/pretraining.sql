-- pretraining.sql — token sequences ready for language-model training.
--
-- Writes ${output}/pretraining/*.parquet, one file per input split, one row per
-- content page with text:
--   page_id BIGINT, wiki VARCHAR, title VARCHAR,
--   n_tokens BIGINT   length of tokens (EOS included)
--   tokens UINTEGER[] the page's token ids followed by the tokenizer's own
--                     end-of-text token (eos_token_id(): <|endoftext|> for cl100k)
-- Variables:
--   -D prepend_title=true   tokenize "TITLE\n\nTEXT" instead of TEXT (default false)
--
-- Typical use: concatenate `tokens` across rows and cut into fixed-length
-- training sequences; EOS marks the document boundaries.
--   wikitok run sql/pretraining.sql --input DUMP_DIR -D prepend_title=true
COPY (
    SELECT page_id, wiki, title, CAST(cardinality(tokens) AS BIGINT) AS n_tokens, tokens
    FROM (
        SELECT
            page_id,
            wiki,
            title,
            array_append(
                tokenize(CASE WHEN ${prepend_title:-false} THEN concat(title, chr(10), chr(10), text) ELSE text END),
                eos_token_id()
            ) AS tokens
        FROM pages
        WHERE namespace = 0 AND redirect_target IS NULL AND text IS NOT NULL AND text <> ''
    )
) TO '${output}/pretraining' STORED AS PARQUET;
