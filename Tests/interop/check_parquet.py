#!/usr/bin/env python3
"""Checks Parquet files written by Tally against the values they should hold.

Usage: check_parquet.py DIR     (DIR holds the files and expected.json; see expected_values.py)

For every file: pyarrow, DuckDB and Polars must each read every value exactly (NaN-aware,
-0.0 sign-aware); the footer must have the expected codec, row groups, null counts and min/max
statistics (present exactly where the writer should write them, and equal to the true bounds),
dictionary pages exactly where the encodings say so, and each column chunk's encodings equal
to the column's "encodings" (when expected.json gives them);
and equality filters on int and string columns must count the same rows in all three engines as
in the expected values, which fails if statistics prune row groups wrongly.
Exits 0 when everything matches, 1 with one line per problem otherwise.
"""
import math
import sys

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from expected_values import load, same

PROBLEMS = []

ARROW_TYPES = {"int32": pa.int32(), "int64": pa.int64(), "double": pa.float64(),
               "string": pa.string(), "bytes": pa.binary()}
POLARS_TYPES = {"int32": pl.Int32, "int64": pl.Int64, "double": pl.Float64, "string": pl.String, "bytes": pl.Binary}
STATS_LIMIT = 4096


def problem(where, message):
    PROBLEMS.append(f"{where}: {message}")


def compare_column(where, engine, column, actual):
    expected = column["values"]
    if len(actual) != len(expected):
        problem(where, f"{engine} read {len(actual)} rows of {column['name']}, expected {len(expected)}")
        return
    for row, (a, e) in enumerate(zip(actual, expected)):
        if not same(a, e):
            problem(where, f"{engine} {column['name']}[{row}] = {a!r}, expected {e!r}")
            return


def check_pyarrow(where, path, entry):
    table = pq.read_table(path)
    if table.num_rows != entry["rows"]:
        problem(where, f"pyarrow sees {table.num_rows} rows, expected {entry['rows']}")
    for column in entry["columns"]:
        field = table.schema.field(column["name"])
        if field.type != ARROW_TYPES[column["type"]]:
            problem(where, f"pyarrow type of {column['name']} is {field.type}")
        if field.nullable != column["nullable"] and column["nullable"] is False and field.nullable:
            problem(where, f"pyarrow sees {column['name']} as nullable")
        compare_column(where, "pyarrow", column, table.column(column["name"]).to_pylist())


def expected_bounds(kind, values):
    """The (min, max) a writer should store, or None when min/max must be omitted."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if kind == "double":
        if any(math.isnan(v) for v in present):
            return None
        low, high = min(present), max(present)
        if low == 0:
            low = -0.0
        if high == 0:
            high = 0.0
        return low, high
    if kind in ("string", "bytes"):
        key = (lambda v: v.encode("utf-8")) if kind == "string" else (lambda v: v)
        low, high = min(present, key=key), max(present, key=key)
        if len(key(low)) > STATS_LIMIT or len(key(high)) > STATS_LIMIT:
            return None
        return low, high
    return min(present), max(present)


def check_metadata(where, path, entry):
    metadata = pq.ParquetFile(path).metadata
    if metadata.num_row_groups != entry["row_groups"]:
        problem(where, f"{metadata.num_row_groups} row groups, expected {entry['row_groups']}")
    if (metadata.created_by or "").startswith(("parquet-mr", "parquet-cpp")):
        problem(where, f"created_by imitates another writer: {metadata.created_by}")
    codec = {"zstd": "ZSTD", "none": "UNCOMPRESSED"}[entry["compression"]]
    start = 0
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        if group.num_rows == 0:
            problem(where, f"row group {g} is empty")
        rows = slice(start, start + group.num_rows)
        start += group.num_rows
        for c, column in enumerate(entry["columns"]):
            chunk = group.column(c)
            here = f"{where} row group {g} column {column['name']}"
            if chunk.compression != codec:
                problem(here, f"codec {chunk.compression}, expected {codec}")
            if chunk.num_values != group.num_rows:
                problem(here, f"num_values {chunk.num_values} != {group.num_rows} rows")
            check_encodings(here, chunk, column.get("encodings"))
            stats = chunk.statistics
            values = column["values"][rows]
            if stats is None:
                problem(here, "no statistics")
                continue
            nulls = sum(v is None for v in values)
            if not stats.has_null_count or stats.null_count != nulls:
                problem(here, f"null_count {stats.null_count}, expected {nulls}")
            bounds = expected_bounds(column["type"], values)
            if (bounds is not None) != stats.has_min_max:
                problem(here, f"has_min_max {stats.has_min_max}, expected {bounds is not None}")
            elif bounds is not None and not (same(stats.min, bounds[0]) and same(stats.max, bounds[1])):
                problem(here, f"min/max {stats.min!r}/{stats.max!r}, expected {bounds[0]!r}/{bounds[1]!r}")


def check_encodings(here, chunk, expected):
    """The chunk's encodings list, dictionary page and offsets agree, and match `expected` if given."""
    encodings = set(chunk.encodings)
    dictionary = "RLE_DICTIONARY" in encodings or "PLAIN_DICTIONARY" in encodings
    if chunk.has_dictionary_page != dictionary:
        problem(here, f"has_dictionary_page {chunk.has_dictionary_page} but encodings {sorted(encodings)}")
    if (chunk.dictionary_page_offset is not None) != dictionary:
        problem(here, f"dictionary_page_offset {chunk.dictionary_page_offset} with encodings {sorted(encodings)}")
    elif dictionary and not 4 <= chunk.dictionary_page_offset < chunk.data_page_offset:
        problem(here, f"dictionary page at {chunk.dictionary_page_offset} is not before the data at {chunk.data_page_offset}")
    if dictionary and "PLAIN" not in encodings:
        problem(here, f"dictionary chunk does not list PLAIN (its dictionary page): {sorted(encodings)}")
    if expected is not None and encodings != set(expected):
        problem(here, f"encodings {sorted(encodings)}, expected {sorted(expected)}")


def check_duckdb(where, path, entry, connection):
    names = ", ".join(f'"{c["name"]}"' for c in entry["columns"])
    rows = connection.execute(f"SELECT {names} FROM read_parquet(?)", [path]).fetchall()
    for index, column in enumerate(entry["columns"]):
        compare_column(where, "duckdb", column, [row[index] for row in rows])


def check_polars(where, path, entry):
    frame = pl.read_parquet(path)
    if frame.height != entry["rows"]:
        problem(where, f"polars sees {frame.height} rows, expected {entry['rows']}")
    for column in entry["columns"]:
        series = frame[column["name"]]
        if series.dtype != POLARS_TYPES[column["type"]]:
            problem(where, f"polars type of {column['name']} is {series.dtype}")
        compare_column(where, "polars", column, series.to_list())


def probes(column, row_groups):
    """Values to filter on: each row group's first, middle and last non-null values, plus a miss."""
    values = column["values"]
    chosen = []
    start = 0
    for size in row_groups:
        part = [v for v in values[start:start + size] if v is not None]
        start += size
        if part:
            chosen += [part[0], part[len(part) // 2], part[-1]]
    if column["type"] in ("int32", "int64"):
        present = set(values)
        chosen.append(next(v for v in range(12345, 2**31) if v not in present))
    if column["type"] == "string":
        chosen.append("not-in-the-file")
    unique = []
    for value in chosen:
        if value not in unique and (column["type"] != "int32" or -2**31 <= value < 2**31):
            unique.append(value)
    return unique


def check_filters(where, path, entry, connection):
    row_groups = [pq.ParquetFile(path).metadata.row_group(g).num_rows
                  for g in range(pq.ParquetFile(path).metadata.num_row_groups)]
    dataset = ds.dataset(path, format="parquet")
    for column in entry["columns"]:
        if column["type"] not in ("int32", "int64", "string"):
            continue
        name = column["name"]
        for probe in probes(column, row_groups):
            expected = sum(v == probe for v in column["values"])
            arrow_type = ARROW_TYPES[column["type"]]
            got_arrow = dataset.to_table(filter=pc.field(name) == pa.scalar(probe, arrow_type)).num_rows
            got_duck = connection.execute(
                f'SELECT count(*) FROM read_parquet(?) WHERE "{name}" = ?::{"VARCHAR" if column["type"] == "string" else "BIGINT"}',
                [path, probe]).fetchone()[0]
            got_polars = pl.scan_parquet(path).filter(
                pl.col(name) == pl.lit(probe, dtype=POLARS_TYPES[column["type"]])).select(pl.len()).collect().item()
            for engine, got in (("pyarrow.dataset", got_arrow), ("duckdb", got_duck), ("polars", got_polars)):
                if got != expected:
                    problem(where, f"{engine} filter {name} = {probe!r} counted {got}, expected {expected}")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    directory = sys.argv[1]
    entries = load(directory)
    connection = duckdb.connect()
    for entry in entries:
        path = f"{directory}/{entry['file']}"
        where = entry["file"]
        for check in (check_pyarrow, check_metadata, check_polars):
            try:
                check(where, path, entry)
            except Exception as error:  # report every engine's failure, not just the first
                problem(where, f"{check.__name__} raised {type(error).__name__}: {error}")
        for check in (check_duckdb, check_filters):
            try:
                check(where, path, entry, connection)
            except Exception as error:
                problem(where, f"{check.__name__} raised {type(error).__name__}: {error}")
    for line in PROBLEMS:
        print(line)
    print(f"checked {len(entries)} files with pyarrow {pa.__version__}, duckdb {duckdb.__version__}, "
          f"polars {pl.__version__}: {len(PROBLEMS)} problems")
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
