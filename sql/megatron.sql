-- megatron.sql — Megatron-LM / NeMo / GPT-NeoX indexed datasets, shuffled.
--
-- Writes ${output}/megatron/train/part-bNNNNN.bin + .idx (one pair per
-- shuffle bucket, at most 64, in parallel) and ${output}/megatron/valid/
-- likewise — in one pass over the dump — plus
-- data-path.txt in each: "TOKENS PREFIX ..." to paste into Megatron's
-- --data-path (it blends the per-partition datasets by weight). Each document
-- is one content page (namespace 0; a page without text is a lone EOS): its
-- token ids followed by the tokenizer's end-of-text token. The dtype follows
-- Megatron's rule (uint16 below 65 500 tokens, else int32: int32 for cl100k).
--
-- Variables:
--   -D seed=N              document order: a seeded, deterministic shuffle of
--                          the whole corpus (default 0). Same seed →
--                          byte-identical files, whatever --partitions:
--                          documents go to one of 64 buckets by a key derived
--                          from the seed and are sorted by it in each bucket;
--                          files are named by bucket (the file_bucket column),
--                          not by partition (the sort spills to --spill-dir
--                          under a small --memory-limit).
--   -D valid_per_mille=K   ~K‰ of documents (chosen by a hash of the page id,
--                          whatever the seed) go to valid/, the rest to train/:
--                          disjoint, together every document once (default 0:
--                          no valid/ at all; leave --valid-data-path out then).
--   -D prepend_title=true  tokenize "TITLE\n\nTEXT" instead of TEXT.
--
--   wikitok run sql/megatron.sql --input DUMP -D seed=7 -D valid_per_mille=5 \
--       --memory-limit 2GiB --spill-dir /spill
CREATE VIEW megatron_documents AS
SELECT
    array_append(
        tokenize(CASE WHEN ${prepend_title:-false} THEN concat(title, chr(10), chr(10), text) ELSE coalesce(text, '') END),
        eos_token_id()
    ) AS tokens,
    shuffle_key(page_id, ${seed:-0}) AS shuffle,
    shuffle_key(page_id, -1) % 1000 < ${valid_per_mille:-0} AS is_valid
FROM pages
WHERE namespace = 0 AND redirect_target IS NULL;

-- One query, one scan of the dump, both datasets: file_dir routes each
-- document's file into train/ or valid/, file_bucket names the file. The
-- window is the shuffle: rows are hash-partitioned by their directory and
-- bucket and sorted by their key within them.
COPY (
    SELECT tokens,
           CASE WHEN is_valid THEN 'valid' ELSE 'train' END AS file_dir,
           shuffle % 64 AS file_bucket,
           row_number() OVER (PARTITION BY is_valid, shuffle % 64 ORDER BY shuffle) AS position
    FROM megatron_documents
) TO '${output}/megatron' STORED AS MEGATRON;
