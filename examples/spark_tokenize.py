#!/usr/bin/env python3
"""tokenize.sql and vocab.sql on Spark: the `wikitok` data source reads and
tokenizes the dump split by split (one Spark partition per split); Spark
counts the vocabulary and writes both tables. Also: tokenizing a column
Spark already holds, with mapInArrow and wikitok.tokenize.

    spark-submit examples/spark_tokenize.py --input DUMP --output OUT [--sql FILE] [--tokenizer cl100k_base]

DUMP is anything wikitok reads (a path every executor mounts, s3://,
gs://, https://); OUT is anything Spark writes (s3a:// with hadoop-aws).
Writes OUT/tokens/, OUT/vocab/ and OUT/title_tokens/. Token ids arrive as
array<bigint> (Spark has no unsigned integers). Needs
`pip install "wikitok[spark]"` on the driver and every executor.
"""
import argparse

import pyarrow as pa
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

import wikitok
import wikitok.spark


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--sql", help="a SQL file whose per-page query gives the token rows "
                        "(default: wikitok's own sql/tokenize.sql; its COPY stands for the rows it writes)")
    parser.add_argument("--tokenizer", default="cl100k_base")
    parser.add_argument("--partitions", type=int, help="divide the dump into at least this many splits")
    args = parser.parse_args()
    tokens = open(args.sql, encoding="utf-8").read() if args.sql else wikitok.library_sql("tokenize")
    spark = SparkSession.builder.appName("wikitok-tokenize").getOrCreate()
    wikitok.spark.register(spark)
    reader = spark.read.format("wikitok").option("input", args.input).option("tokenizer", args.tokenizer)
    if args.partitions:
        reader = reader.option("partitions", str(args.partitions))
    pages = reader.option("query", tokens).load()
    pages.write.mode("overwrite").parquet(f"{args.output}/tokens")
    # A second read of the dump rather than a persist of every page's tokens.
    vocab = pages.select(F.explode("tokens").alias("token_id")).groupBy("token_id").count()
    vocab.write.mode("overwrite").parquet(f"{args.output}/vocab")

    # The tokenizer on a column Spark holds (here the titles), as Arrow.
    tokenizer = args.tokenizer

    def tokenize_titles(batches):
        for batch in batches:
            ids = wikitok.tokenize(batch.column("title"), tokenizer=tokenizer).cast(pa.list_(pa.int64()))
            yield pa.RecordBatch.from_arrays([batch.column("page_id"), ids], names=["page_id", "title_tokens"])

    titles = reader.option("query", "SELECT page_id, title FROM pages WHERE namespace = 0").load()
    titles.mapInArrow(tokenize_titles, "page_id bigint, title_tokens array<bigint>").write.mode("overwrite").parquet(
        f"{args.output}/title_tokens"
    )
    spark.stop()


if __name__ == "__main__":
    main()
