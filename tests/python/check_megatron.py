#!/usr/bin/env python3
"""Checks sql/megatron.sql output with a reader written from Megatron-Core's
documented layout (megatron/core/datasets/indexed_dataset.py, _IndexWriter) —
Megatron itself imports torch at import time, so numpy stands in for it.

    check_megatron.py MEGATRON_DIR REFERENCE.tsv EOS_ID DTYPE_CODE

MEGATRON_DIR holds train/ and valid/, each with PREFIX.bin + PREFIX.idx pairs
and data-path.txt. Checks every .idx (magic, version, dtype code, counts,
sequence pointers, document indices, .bin size), decodes every document,
checks that it ends with EOS, and compares the documents (ids before EOS,
by sha256 of little-endian uint32) with the tiktoken reference's content
pages: train and valid disjoint, together exactly the reference, as
multisets. Both files are opened as Megatron opens them, with numpy.memmap
(which refuses an empty file: a 0-byte .bin would stop a training run at its
start), and data-path.txt must list exactly the datasets in its directory.
Prints "train N valid M" and exits non-zero on any failure.
"""
import collections
import csv
import glob
import hashlib
import os
import sys

import numpy as np

DTYPES = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 6: np.float64, 7: np.float32, 8: np.uint16}


def memmap(path, dtype, failures):
    """The file as Megatron-Core maps it (numpy.memmap, read-only), or None."""
    try:
        return np.memmap(path, dtype=dtype, mode="r", order="C")
    except (ValueError, OSError) as e:
        failures.append(f"{path}: numpy.memmap fails as Megatron's would: {e}")
        return None


def read_dataset(prefix, failures):
    index = memmap(prefix + ".idx", np.uint8, failures)
    if index is None:
        return None, []
    index = index.tobytes()
    if index[:9] != b"MMIDIDX\x00\x00":
        failures.append(f"{prefix}.idx: bad magic {index[:9]!r}")
        return None, []
    version = int(np.frombuffer(index, "<u8", 1, 9)[0])
    code = index[17]
    sequences = int(np.frombuffer(index, "<u8", 1, 18)[0])
    documents = int(np.frombuffer(index, "<u8", 1, 26)[0])
    if version != 1:
        failures.append(f"{prefix}.idx: version {version}")
    offset = 34
    lengths = np.frombuffer(index, "<i4", sequences, offset)
    offset += 4 * sequences
    pointers = np.frombuffer(index, "<i8", sequences, offset)
    offset += 8 * sequences
    doc_idx = np.frombuffer(index, "<i8", documents, offset)
    offset += 8 * documents
    if offset != len(index):
        failures.append(f"{prefix}.idx: {len(index)} bytes, layout says {offset}")
    if not np.array_equal(doc_idx, np.arange(sequences + 1)):
        failures.append(f"{prefix}.idx: document indices are not 0..{sequences}")
    dtype = np.dtype(DTYPES[code]).newbyteorder("<")
    expected_pointers = np.concatenate([[0], np.cumsum(lengths.astype(np.int64))[:-1]]) * dtype.itemsize
    if sequences and not np.array_equal(pointers, expected_pointers):
        failures.append(f"{prefix}.idx: sequence pointers are not the running byte offsets")
    tokens = memmap(prefix + ".bin", dtype, failures)
    if tokens is None:
        return code, []
    if tokens.size != int(lengths.sum()):
        failures.append(f"{prefix}.bin: {tokens.size} tokens, index says {int(lengths.sum())}")
        return code, []
    docs = [tokens[p // dtype.itemsize : p // dtype.itemsize + n] for p, n in zip(pointers, lengths)]
    return code, docs


def main():
    root, ref_path, eos, want_code = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with open(ref_path, newline="", encoding="utf-8") as f:
        reference = collections.Counter(
            r["sha256"] for r in csv.DictReader(f, delimiter="\t") if r["namespace"] == "0"
        )
    failures = []
    seen = {}
    for part in ("train", "valid"):
        shas = collections.Counter()
        listing_weights = {}
        listing = os.path.join(root, part, "data-path.txt")
        words = open(listing).read().split() if os.path.exists(listing) else None
        if words is None and part == "valid" and not os.path.exists(os.path.join(root, part)):
            words = []  # no validation share: no valid/ at all
        if words is None:
            failures.append(f"{listing}: missing")
        else:
            listing_weights = {os.path.abspath(p): int(w) for w, p in zip(words[0::2], words[1::2])}
        for idx in sorted(glob.glob(os.path.join(root, part, "*.idx"))):
            prefix = idx[: -len(".idx")]
            code, docs = read_dataset(prefix, failures)
            if code is not None and code != want_code:
                failures.append(f"{idx}: dtype code {code}, expected {want_code}")
            total = sum(len(d) for d in docs)
            weight = listing_weights.pop(os.path.abspath(prefix), None)
            if weight != total:
                failures.append(f"{listing}: weight of {prefix} is {weight}, it holds {total} tokens")
            for doc in docs:
                if len(doc) == 0 or doc[-1] != eos:
                    failures.append(f"{prefix}: a document does not end with EOS {eos}")
                    continue
                ids = np.asarray(doc[:-1], dtype="<u4")
                shas[hashlib.sha256(ids.tobytes()).hexdigest()] += 1
        if listing_weights:
            failures.append(f"{listing} lists datasets that are not in its directory: {sorted(listing_weights)}")
        seen[part] = shas
    if seen["train"] & seen["valid"]:
        failures.append(f"{sum((seen['train'] & seen['valid']).values())} documents in both train and valid")
    union = seen["train"] + seen["valid"]
    if union != reference:
        missing, extra = reference - union, union - reference
        failures.append(f"documents differ from the reference: {sum(missing.values())} missing, {sum(extra.values())} unexpected")
    for f in failures[:50]:
        print("FAIL", f)
    print(f"train {sum(seen['train'].values())} valid {sum(seen['valid'].values())}: {len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
