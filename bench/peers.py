"""The peers' side of each benchmark job, as BENCHMARKS.md states them: DuckDB and Polars.

Usage: peers.py TOOL JOB INPUT OUTPUT USER ITEM TIME WEIGHT
       (TOOL: duckdb | polars; JOB: b1 | b2 | b3; the last four are column names)
"""
import math
import sys


def duckdb_job(job: str, source: str, out: str, user: str, item: str, time: str, weight: str) -> None:
    import duckdb
    con = duckdb.connect()
    con.execute("SET threads = 2")
    keys = {"b1": item, "b2": f"{user}, {item}"}[job]
    con.execute(f"COPY (SELECT {keys}, count(*) AS count, sum({weight}) AS value FROM read_csv('{source}') "
                f"GROUP BY {keys}) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")


def polars_job(job: str, source: str, out: str, user: str, item: str, time: str, weight: str) -> None:
    import polars as pl
    if job in ("b1", "b2"):
        keys = [item] if job == "b1" else [user, item]
        (pl.scan_csv(source).group_by(keys)
         .agg(pl.len().alias("count"), pl.col(weight).sum().alias("value"))
         .sink_parquet(out, compression="zstd"))
        return
    # B3, the way BENCHMARKS.md writes it.
    lam = math.log(2) / 7
    lf = pl.scan_csv(source).select(item, time, weight)
    lf = lf.with_columns(age=(pl.col(time).max() - pl.col(time)) / 86400.0)
    lf = lf.with_columns(w=pl.col(weight) * (-lam * pl.col("age")).exp())
    agg = lf.group_by(item).agg(pl.len().alias("count"), pl.col("w").sum().alias("value"),
                                     (-pl.col("age") * pl.col("w")).sum().alias("d_value_d_decay")).collect()
    k = agg.height
    grad = -math.log(1.0 / k)
    agg = agg.with_columns(grad=pl.lit(grad))
    _loss = float((agg["value"] * grad).sum())
    _dl = float((agg["d_value_d_decay"] * grad).sum())
    agg.write_parquet(out, compression="zstd")


if __name__ == "__main__":
    tool, job, source, out, *columns = sys.argv[1:]
    (duckdb_job if tool == "duckdb" else polars_job)(job, source, out, *columns)
