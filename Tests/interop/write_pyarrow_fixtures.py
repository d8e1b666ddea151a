#!/usr/bin/env python3
"""Writes Parquet files with pyarrow for the Swift reader, plus DIR/expected.json.

Usage: write_pyarrow_fixtures.py DIR

Covers zstd with dictionary encoding, data page v2, uncompressed PLAIN, DELTA_BINARY_PACKED ints,
FLOAT (expected widened to double) and BOOLEAN (expected as int32 0/1), nulls, several pages and
row groups, zero rows, and a SNAPPY file and a nested file the reader must refuse with a clear message.
"""
import json
import struct
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from expected_values import encode_value

WORDS = ["alpha", "", "ω-omega", "日本語", "zeta", "é", "\U0001F600", "Zulu"]


def base_table(rows, seed=1):
    rng = np.random.default_rng(seed)
    ids = np.arange(rows, dtype=np.int64)
    small = [None if i % 7 == 3 else int(v) for i, v in enumerate(rng.integers(-2**31, 2**31, rows, dtype=np.int64))]
    if rows > 2:
        small[0], small[1] = -2**31, 2**31 - 1
    big = [int(v) for v in rng.integers(-2**63, 2**63 - 1, rows, dtype=np.int64, endpoint=True)]
    if rows > 2:
        big[0], big[1] = -2**63, 2**63 - 1
    doubles = [None if i % 5 == 4 else float(v) for i, v in enumerate(rng.normal(size=rows))]
    for i, special in enumerate([float("nan"), -0.0, 0.0, float("inf")]):
        if i < rows:
            doubles[i] = special
    words = [None if i % 11 == 0 else WORDS[(i // 300 + i % 3) % len(WORDS)] for i in range(rows)]
    blobs = [bytes([i % 256, 0xFF, 0]) if i % 9 else b"" for i in range(rows)]
    columns = {
        "id": ("int64", pa.array(ids, pa.int64()), False),
        "i32": ("int32", pa.array(small, pa.int32()), True),
        "i64": ("int64", pa.array(big, pa.int64()), False),
        "d": ("double", pa.array(doubles, pa.float64()), True),
        "s": ("string", pa.array(words, pa.string()), True),
        "b": ("bytes", pa.array(blobs, pa.binary()), False),
    }
    return columns


def table_of(columns):
    fields = [pa.field(name, array.type, nullable=nullable) for name, (_, array, nullable) in columns.items()]
    return pa.Table.from_arrays([array for _, array, _ in columns.values()], schema=pa.schema(fields))


def expected(name, columns, rows, extra=None):
    entry = {"file": name, "rows": rows, "columns": [
        {"name": col, "type": kind, "nullable": nullable,
         "values": [encode_value(kind, v) for v in array.to_pylist()]}
        for col, (kind, array, nullable) in columns.items()]}
    entry.update(extra or {})
    return entry


def main():
    directory = sys.argv[1]
    entries = []

    def write(name, columns, rows, **options):
        pq.write_table(table_of(columns), f"{directory}/{name}", **options)
        entries.append(expected(name, columns, rows))

    columns = base_table(5000)
    write("pa_zstd_dictionary_v1.parquet", columns, 5000, compression="zstd", use_dictionary=True,
          row_group_size=2000, data_page_size=2048)
    write("pa_zstd_dictionary_v2.parquet", columns, 5000, compression="zstd", use_dictionary=True,
          data_page_version="2.0", row_group_size=1500, data_page_size=2048)
    write("pa_plain_uncompressed.parquet", columns, 5000, compression="none", use_dictionary=False,
          row_group_size=3000, data_page_size=4096)
    write("pa_plain_v2_uncompressed.parquet", columns, 5000, compression="none", use_dictionary=False,
          data_page_version="2.0")
    write("pa_zero_rows.parquet", base_table(0), 0, compression="zstd")

    ints = {"id": ("int64", pa.array(np.arange(-500, 9500, dtype=np.int64) * 3, pa.int64()), False),
            "i32": ("int32", pa.array([(-1) ** i * i * 1000 for i in range(10000)], pa.int32()), False),
            "n": ("int64", pa.array([None if i % 4 == 0 else i for i in range(10000)], pa.int64()), True)}
    write("pa_delta.parquet", ints, 10000, compression="zstd", use_dictionary=False,
          column_encoding={"id": "DELTA_BINARY_PACKED", "i32": "DELTA_BINARY_PACKED", "n": "DELTA_BINARY_PACKED"},
          data_page_size=1024)

    floats = [None if i % 6 == 0 else float(np.float32(i / 7)) for i in range(3000)]
    flags = [None if i % 5 == 0 else i % 3 == 0 for i in range(3000)]
    narrow = {"f": ("double", pa.array(floats, pa.float32()), True),
              "flag": ("int32", pa.array(flags, pa.bool_()), True)}
    for name, version in (("pa_float_bool.parquet", "1.0"), ("pa_float_bool_v2.parquet", "2.0")):
        pq.write_table(table_of(narrow), f"{directory}/{name}", compression="zstd", data_page_version=version)
        entry = expected(name, narrow, 3000)
        for column in entry["columns"]:
            if column["name"] == "flag":
                column["values"] = [None if v is None else int(v) for v in flags]
        entries.append(entry)

    # pyarrow's and DuckDB's default codec: pages of literals and copies of every offset size,
    # dictionaries, v1 and v2 pages.
    write("pa_snappy.parquet", base_table(5000), 5000, compression="snappy", row_group_size=3000)
    write("pa_snappy_plain_v2.parquet", base_table(5000), 5000, compression="snappy", use_dictionary=False,
          data_page_version="2.0", data_page_size=1 << 20)
    pq.write_table(table_of(base_table(10)), f"{directory}/pa_gzip.parquet", compression="gzip")
    entries.append({"file": "pa_gzip.parquet", "rows": 10, "columns": [],
                    "expect_error": "unsupported codec GZIP in column id (zstd, snappy or none are read); rewrite with compression='zstd'"})

    nested = pa.table({"id": pa.array([1, 2], pa.int64()), "tags": pa.array([["a"], []], pa.list_(pa.string()))})
    pq.write_table(nested, f"{directory}/pa_nested.parquet", compression="zstd")
    entries.append({"file": "pa_nested.parquet", "rows": 2, "columns": [],
                    "expect_error": "nested schemas are not supported"})

    # Integers our reader would read as signed and unscaled: refused, not misread.
    unsigned = pa.table({"id": pa.array([1, 2**64 - 1], pa.uint64())})
    pq.write_table(unsigned, f"{directory}/pa_uint64.parquet", compression="zstd")
    entries.append({"file": "pa_uint64.parquet", "rows": 2, "columns": [],
                    "expect_error": "column 'id' holds unsigned integers, which are not supported"})
    small_unsigned = pa.table({"id": pa.array([1, 2], pa.uint32())})
    pq.write_table(small_unsigned, f"{directory}/pa_uint32.parquet", compression="zstd")
    entries.append({"file": "pa_uint32.parquet", "rows": 2, "columns": [],
                    "expect_error": "column 'id' holds unsigned integers, which are not supported"})

    with open(f"{directory}/expected.json", "w", encoding="utf-8") as f:
        json.dump({"files": entries}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
