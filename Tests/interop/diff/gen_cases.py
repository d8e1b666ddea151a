"""Writes the differentiable-counting test cases into a folder: data, tables and pipelines.

    gen_cases.py FOLDER [--rows N]

FOLDER/cases.json lists every case: {"name", "pipeline", "out", "group"}; groups:
  modes       each mode alone and combined, on 7.5k generated rows (tools/gen_interactions.py,
              --items 500 --users 200), three files (two .csv.zst, one plain .csv)
  edge        tiny hand-made inputs: a single row, one key, all weights zero, ages of zero,
              times before the origin, bin boundaries, bandwidths just above their bounds,
              temperatures 1e-3 and 1e3
  identity    pairs and sets that identities.py compares with each other
  workers     pipelines with every mode on, for the byte-identity test over --workers
Every case of every group is also checked against reference.py by check_diff.py.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
START = 1_732_000_000
DIM = 4


def write_zst(path, data: bytes):
    with pa.output_stream(path, compression="zstd") as out:
        out.write(data)


def generate(rows, seed, start, days=1):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_interactions.py"), "--rows", str(rows),
                          "--out", "-", "--seed", str(seed), "--items", "500", "--users", "200",
                          "--days", str(days), "--start", str(start)], check=True, capture_output=True)
    return out.stdout


def write_csv(path, header, rows, zst=False):
    text = (",".join(header) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)).encode()
    if zst:
        write_zst(path, text)
    else:
        with open(path, "wb") as f:
            f.write(text)


def ids_in(data: bytes, column):
    lines = data.decode().splitlines()
    pos = lines[0].split(",").index(column)
    return sorted({line.split(",")[pos] for line in lines[1:]})


class Cases:
    def __init__(self, folder):
        self.folder = folder
        self.list = []

    def add(self, name, group, input_, count, loss, gradients=None, vocabulary=None, variables=None):
        doc = {"version": 1, "name": name, "input": input_}
        if vocabulary:
            doc["vocabulary"] = vocabulary
        doc["count"] = count
        doc["loss"] = loss
        if gradients:
            doc["gradients"] = gradients
        out = name + "".join(f"-${{{k}}}" for k in sorted(variables or {}))
        doc["output"] = {"dir": f"out/{out}"}
        path = os.path.join(self.folder, f"{name}.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(doc, f, sort_keys=False, allow_unicode=True)
        for k, v in (variables or {}).items():
            out = out.replace(f"${{{k}}}", v)
        self.list.append({"name": name, "group": group, "pipeline": path, "vars": variables or {},
                          "out": os.path.join(self.folder, "out", out)})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--rows", type=int, default=2500, help="rows per generated file (three files)")
    p.add_argument("--worker-rows", type=int, default=25000, help="rows of the multi-batch file for --workers")
    a = p.parse_args()
    folder = os.path.abspath(a.folder)
    for sub in ("data", "edge", "big", "tables", "out"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    rng = np.random.default_rng(11)

    # --- generated logs: three days, two zstd files and one plain
    day = [generate(a.rows, seed, START + 86400 * n) for n, seed in enumerate((1, 2, 3))]
    write_zst(os.path.join(folder, "data", "day-1.csv.zst"), day[0])
    write_zst(os.path.join(folder, "data", "day-2.csv.zst"), day[1])
    with open(os.path.join(folder, "data", "day-3.csv"), "wb") as f:
        f.write(day[2])
    items = sorted(set(ids_in(day[0], "item_id")) | set(ids_in(day[1], "item_id")) | set(ids_in(day[2], "item_id")))
    users = sorted(set(ids_in(day[0], "user_id")) | set(ids_in(day[1], "user_id")) | set(ids_in(day[2], "user_id")))
    end_iso = "2024-11-22T12:00:00Z"   # 1732276800: after every generated row (start + 3 days = 1732259200)
    mid_iso = "2024-11-20T18:00:00Z"   # inside the data: some ages are negative

    # --- tables
    tables = os.path.join(folder, "tables")
    all_items = [f"sku-{i:08x}" for i in range(500)]
    emb = rng.normal(0, 0.5, (len(all_items), DIM))
    pq.write_table(pa.table({"item_id": all_items, **{f"e{c}": emb[:, c] for c in range(DIM)}}),
                   os.path.join(tables, "item-emb.parquet"), compression="zstd")
    pick = [i for i in items if rng.random() < 0.4] + ["sku-unseen-1", "sku-unseen-2"]
    pq.write_table(pa.table({"item_id": pick, "logit": rng.normal(0, 1.5, len(pick))}),
                   os.path.join(tables, "item-logit.parquet"), compression="zstd")
    pq.write_table(pa.table({"item_id": pick, "log_rate": rng.normal(1.0, 1.0, len(pick))}),
                   os.path.join(tables, "item-rate.parquet"), compression="zstd")
    upick = [u for u in users if rng.random() < 0.5]
    write_csv(os.path.join(tables, "user-logit.csv"), ["user_id", "logit"],
              [(u, repr(float(x))) for u, x in zip(upick, rng.normal(0, 1, len(upick)))])
    pairs = sorted({(u, i) for u in users[:60] for i in items[:20] if rng.random() < 0.3})
    write_csv(os.path.join(tables, "pair-target.csv.zst"), ["user_id", "item_id", "target"],
              [(u, i, repr(float(x))) for (u, i), x in zip(pairs, rng.uniform(0, 200, len(pairs)))], zst=True)
    bin_keys = sorted({(i, int(j)) for i in items[:60] for j in rng.integers(-3, 45, 6)}) + [("sku-unseen-1", 5)]
    pq.write_table(pa.table({"item_id": [k[0] for k in bin_keys], "time_bin": pa.array([k[1] for k in bin_keys], pa.int64()),
                             "log_rate": rng.normal(0.0, 1.0, len(bin_keys))}),
                   os.path.join(tables, "bin-rate.parquet"), compression="zstd")
    bag_users = [u for u in users if rng.random() < 0.6] + ["u-target-only"]
    bt = rng.normal(0, 20, (len(bag_users), DIM))
    pq.write_table(pa.table({"user_id": bag_users, **{f"e{c}": bt[:, c] for c in range(DIM)}}),
                   os.path.join(tables, "user-bag-target.parquet"), compression="zstd")

    cases = Cases(folder)
    cols = {"user": "user_id", "item": "item_id", "event": "event", "time": "timestamp", "weight": "weight"}
    data = {"paths": ["data/*.csv.zst", "data/*.csv"], "columns": cols}
    dw = {"column": "weight"}
    pe = {"per_event": True}

    # --- modes, alone and combined
    cases.add("hard-item-multinomial", "modes", data, {"key": ["item"], "weight": dw},
              {"kind": "multinomial_nll", "target": "tables/item-logit.parquet"}, pe)
    cases.add("decay-end-item-poisson", "modes", data,
              {"key": ["item"], "weight": dw, "decay": {"half_life": "2d", "reference": "end"}},
              {"kind": "poisson_nll", "target": "tables/item-rate.parquet"}, {"parameters": ["decay"], "per_event": True})
    cases.add("decay-instant-user-kl", "modes", data,
              {"key": ["user"], "decay": {"half_life": "36h", "reference": end_iso}},
              {"kind": "kl", "target": "tables/user-logit.csv"}, {"parameters": ["decay"], "per_event": True})
    cases.add("decay-mid-pair-mse", "modes", data,
              {"key": ["user", "item"], "weight": dw, "decay": {"half_life": "12h", "reference": mid_iso}},
              {"kind": "mse", "target": "tables/pair-target.csv.zst"}, {"parameters": ["decay"], "per_event": True})
    cases.add("smooth-item-multinomial", "modes", data,
              {"key": ["item"], "weight": dw, "decay": {"half_life": "1d"}, "smoothing": {"temperature": 0.5}},
              {"kind": "multinomial_nll", "target": "tables/item-logit.parquet"},
              {"parameters": ["decay", "temperature"], "per_event": True})
    cases.add("smooth-user-kl", "modes", data, {"key": ["user"], "smoothing": {"temperature": 2.0}},
              {"kind": "kl"}, {"parameters": ["temperature"], "per_event": True})
    cases.add("smooth-item-poisson-mse", "modes", data,
              {"key": ["item"], "smoothing": {"temperature": 0.25}, "decay": {"half_life": "3d", "reference": end_iso}},
              {"kind": "poisson_nll", "target": "tables/item-rate.parquet"},
              {"parameters": ["temperature", "decay"], "per_event": True})
    cases.add("smooth-oov-drop", "modes", data,
              {"key": ["item"], "weight": dw, "smoothing": {"temperature": 1.0},
               "decay": {"half_life": "2d", "reference": end_iso}},
              {"kind": "mse"}, {"parameters": ["decay", "temperature"], "per_event": True},
              vocabulary={"item": {"min_count": 5, "oov": "drop"}})
    cases.add("smooth-oov-bucket", "modes", data,
              {"key": ["item"], "smoothing": {"temperature": 0.8}},
              {"kind": "multinomial_nll", "target": "tables/item-logit.parquet"},
              {"parameters": ["temperature"], "per_event": True},
              vocabulary={"item": {"min_count": 5, "oov": "bucket"}})
    cases.add("smooth-where-events", "modes", {**data, "where": {"event": ["click", "cart", "purchase"]}},
              {"key": ["item"], "weight": {"events": {"click": 1, "cart": 3, "purchase": 10}},
               "decay": {"half_life": "1d"}, "smoothing": {"temperature": 1.5}},
              {"kind": "kl", "target": "tables/item-logit.parquet"}, {"parameters": ["decay", "temperature"], "per_event": True})
    bins = {"width": "6h", "origin": "2024-11-19T00:00:00Z"}
    cases.add("bins-hard-sum", "modes", data,
              {"key": ["item", "time"], "weight": dw, "time_bins": {**bins, "kernel": "hard"}},
              {"kind": "sum"}, pe)
    cases.add("bins-triangular-decay-multinomial", "modes", data,
              {"key": ["item", "time"], "weight": dw, "decay": {"half_life": "1d"},
               "time_bins": {**bins, "kernel": "triangular", "bandwidth": 1.5}},
              {"kind": "multinomial_nll"}, {"parameters": ["decay", "bandwidth"], "per_event": True})
    cases.add("bins-epanechnikov-poisson", "modes", data,
              {"key": ["item", "time"], "time_bins": {"width": "1h", "origin": "2024-11-20T00:00:00Z",
                                                       "kernel": "epanechnikov", "bandwidth": 0.8}},
              {"kind": "poisson_nll", "target": "tables/bin-rate.parquet"}, {"parameters": ["bandwidth"], "per_event": True})
    cases.add("bins-gaussian-decay-mse", "modes", data,
              {"key": ["item", "time"], "weight": dw, "decay": {"half_life": "18h", "reference": mid_iso},
               "time_bins": {"width": "4h", "origin": "2024-11-19T02:00:00Z", "kernel": "gaussian", "bandwidth": 0.7123}},
              {"kind": "mse"}, {"parameters": ["bandwidth", "decay"], "per_event": True})
    cases.add("bins-gaussian-kl", "modes", data,
              {"key": ["item", "time"], "time_bins": {**bins, "kernel": "gaussian", "bandwidth": 2.5}},
              {"kind": "kl"}, {"parameters": ["bandwidth"]})
    cases.add("emb-sum-item", "modes", data,
              {"key": ["item"], "weight": dw, "decay": {"half_life": "2d"},
               "embedding": {"group": "user", "dim": DIM, "table": "tables/item-emb.parquet", "seed": 7}},
              {"kind": "sum"}, {"parameters": ["decay"], "per_event": True, "embedding_table": True})
    cases.add("emb-mse-pair", "modes", data,
              {"key": ["user", "item"], "weight": dw, "decay": {"half_life": "1d", "reference": end_iso},
               "embedding": {"group": "user", "dim": DIM, "table": "tables/item-emb.parquet", "seed": 7}},
              {"kind": "mse", "target": "tables/user-bag-target.parquet"},
              {"parameters": ["decay"], "per_event": True, "embedding_table": True})
    cases.add("emb-mse-item-nodecay", "modes", data,
              {"key": ["item"], "embedding": {"group": "user", "dim": DIM, "table": "tables/item-emb.parquet", "seed": 3}},
              {"kind": "mse", "target": "tables/user-bag-target.parquet"}, {"per_event": True, "embedding_table": True})
    cases.add("emb-notable-sum", "modes", data,
              {"key": ["item"], "weight": dw, "embedding": {"group": "user", "dim": 8, "seed": 42}},
              {"kind": "sum"}, {"per_event": True, "embedding_table": True})
    cases.add("negative-weights-smooth", "modes", data,
              {"key": ["item"], "weight": {"events": {"view": -1, "click": 2, "cart": -0.5, "purchase": 4}},
               "decay": {"half_life": "1d"}, "smoothing": {"temperature": 0.4}},
              {"kind": "mse", "target": "tables/item-logit.parquet", "target_column": "logit"},
              {"parameters": ["decay", "temperature"], "per_event": True})
    cases.add("negative-weights-bins", "modes", data,
              {"key": ["item", "time"], "weight": {"events": {"view": -1, "click": 2, "cart": -0.5, "purchase": 4}},
               "time_bins": {"width": "3h", "origin": "2024-11-19T00:00:00Z", "kernel": "triangular", "bandwidth": 1.1}},
              {"kind": "sum"}, {"parameters": ["bandwidth"], "per_event": True})
    cases.add("kl-zero-weights-decay-smooth", "modes", data,
              {"key": ["user"], "weight": {"events": {"view": 0, "click": 1}}, "decay": {"half_life": "1d"},
               "smoothing": {"temperature": 0.5}},
              {"kind": "kl"}, {"parameters": ["decay", "temperature"], "per_event": True})
    cases.add("kl-zero-weights-decay", "modes", data,
              {"key": ["item"], "weight": {"events": {"view": 0, "click": 1, "cart": 2, "purchase": 5}},
               "decay": {"half_life": "1d"}},
              {"kind": "kl"}, {"parameters": ["decay"], "per_event": True})
    cases.add("kl-zero-weights", "modes", data,
              {"key": ["item"], "weight": {"events": {"view": 0, "click": 1, "cart": 2, "purchase": 5}}},
              {"kind": "kl", "target": "tables/item-logit.parquet"}, pe)

    cases.add("decay-var", "modes", data,
              {"key": ["item"], "weight": dw, "decay": {"half_life": "${hl}"}, "smoothing": {"temperature": "${tau}"}},
              {"kind": "poisson_nll"}, {"parameters": ["temperature", "decay"], "per_event": True},
              variables={"hl": "30h", "tau": "0.9"})

    # other time formats: unix_millis (with sub-second offsets) and ISO-8601, from day 1's rows
    lines = day[0].decode().splitlines()
    millis, iso = [lines[0]], [lines[0]]
    import datetime as dt
    for n, line in enumerate(lines[1:]):
        f = line.split(",")
        t = int(f[3])
        millis.append(",".join(f[:3] + [str(t * 1000 + (n * 37) % 1000)] + f[4:]))
        stamp = dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        iso.append(",".join(f[:3] + [stamp + ("Z" if n % 2 else "+00:00")] + f[4:]))
    os.makedirs(os.path.join(folder, "formats"), exist_ok=True)
    with open(os.path.join(folder, "formats", "millis.csv"), "w") as f:
        f.write("\n".join(millis) + "\n")
    with open(os.path.join(folder, "formats", "iso.csv"), "w") as f:
        f.write("\n".join(iso) + "\n")
    cases.add("format-millis-bins", "modes", {"paths": ["formats/millis.csv"], "columns": cols, "time_format": "unix_millis"},
              {"key": ["item", "time"], "weight": dw, "decay": {"half_life": "5h"},
               "time_bins": {"width": "90m", "origin": "2024-11-19T06:00:00Z", "kernel": "epanechnikov", "bandwidth": 1.37}},
              {"kind": "poisson_nll"}, {"parameters": ["decay", "bandwidth"], "per_event": True})
    cases.add("format-iso-smooth", "modes", {"paths": ["formats/iso.csv"], "columns": cols, "time_format": "iso8601"},
              {"key": ["item"], "weight": dw, "decay": {"half_life": "7h", "reference": "2024-11-20T00:00:00Z"},
               "smoothing": {"temperature": 0.3}},
              {"kind": "multinomial_nll", "target": "tables/item-logit.parquet"},
              {"parameters": ["decay", "temperature"], "per_event": True})
    # a reference long before the data: every age is negative and weights grow to ~1e90
    cases.add("decay-reference-before", "modes", data,
              {"key": ["item"], "weight": dw, "decay": {"half_life": "20m", "reference": "2024-11-18T00:00:00Z"}},
              {"kind": "multinomial_nll"}, {"parameters": ["decay"], "per_event": True})

    # very short half-lives: old rows' weights underflow (e^(−λ·age) with λ·age in the thousands)
    cases.add("decay-short-item", "modes", data,
              {"key": ["item"], "weight": dw, "decay": {"half_life": "10m"}},
              {"kind": "multinomial_nll"}, {"parameters": ["decay"], "per_event": True})
    cases.add("decay-short-bins", "modes", data,
              {"key": ["item", "time"], "decay": {"half_life": "20m"},
               "time_bins": {"width": "2h", "origin": "2024-11-19T00:00:00Z", "kernel": "gaussian", "bandwidth": 1.0}},
              {"kind": "poisson_nll"}, {"parameters": ["decay", "bandwidth"], "per_event": True})

    # --- identities (compared with each other by identities.py)
    cases.add("id-nodecay", "identity", data, {"key": ["item"], "weight": dw}, {"kind": "poisson_nll"}, pe)
    cases.add("id-longdecay", "identity", data,
              {"key": ["item"], "weight": dw, "decay": {"half_life": "1000000000000d"}},
              {"kind": "poisson_nll"}, {"parameters": ["decay"], "per_event": True})
    cases.add("id-emb-notable-sum-items", "identity", data, {"key": ["item"], "weight": dw}, {"kind": "sum"})

    # the seeded initialisation: every user has one row of weight 1, so bag_u = E[k(u)]
    init_rows = [[(f"u{n}", f"i{(n + shift) % 400}", "view", START + n, 1) for n in range(400)] for shift in (0, 7)]
    hdr0 = ["user_id", "item_id", "event", "timestamp", "weight"]
    for n, rows_ in enumerate(init_rows):
        write_csv(os.path.join(folder, "edge", f"init-{n}.csv"), hdr0, rows_)
    half = [f"i{n}" for n in range(0, 400, 2)]
    hv = rng.normal(0, 1, (len(half), 8))
    pq.write_table(pa.table({"item_id": half, **{f"e{c}": hv[:, c] for c in range(8)}}),
                   os.path.join(tables, "half-emb.parquet"), compression="zstd")
    cases.add("id-emb-init-partial", "identity", {"paths": ["edge/init-0.csv"], "columns": cols},
              {"key": ["user", "item"],
               "embedding": {"group": "user", "dim": 8, "seed": 42, "table": "tables/half-emb.parquet"}},
              {"kind": "sum"}, {"embedding_table": True})
    for name, seed, part in (("id-emb-init-a", 42, 0), ("id-emb-init-b", 42, 1), ("id-emb-init-c", 43, 0)):
        cases.add(name, "identity", {"paths": [f"edge/init-{part}.csv"], "columns": cols},
                  {"key": ["user", "item"], "embedding": {"group": "user", "dim": 8, "seed": seed}},
                  {"kind": "sum"}, {"embedding_table": True})

    # --- edge cases on tiny inputs
    edge = os.path.join(folder, "edge")
    hdr = ["user_id", "item_id", "event", "timestamp", "weight"]
    write_csv(os.path.join(edge, "single.csv"), hdr, [("u1", "a", "click", START, 2.5)])
    write_csv(os.path.join(edge, "onekey.csv"), hdr,
              [(f"u{n % 3}", "a", "click", START + 3600 * n, 1 + n) for n in range(9)])
    write_csv(os.path.join(edge, "zeros.csv"), hdr,
              [(f"u{n % 4}", f"i{n % 5}", "view", START + 5000 * n, 0) for n in range(20)])
    write_csv(os.path.join(edge, "sametime.csv"), hdr,
              [(f"u{n % 4}", f"i{n % 5}", "view", START, 1 + n % 3) for n in range(20)])
    # times before the origin and exactly on bin boundaries (origin = START, width 1h)
    write_csv(os.path.join(edge, "boundaries.csv"), hdr,
              [(f"u{n % 2}", f"i{n % 3}", "view", START + 1800 * (n - 10), 1 + n % 4) for n in range(25)])
    write_csv(os.path.join(edge, "small.csv"), hdr,
              [(f"u{n % 6}", f"i{(n * 7) % 11}", "view", START + 977 * n, 0.5 + (n % 5)) for n in range(60)])

    # the latest row's item is seen once: under min_count 2 and oov: drop it leaves the counts, but
    # it is a kept row (pipeline-file.md: vocabularies and `end` use rows before OOV drops)
    write_csv(os.path.join(edge, "late-oov.csv"), hdr,
              [(f"u{n % 3}", f"i{n % 4}", "view", START + 3600 * n, 1 + n % 2) for n in range(16)]
              + [("u9", "rare", "view", START + 3600 * 40, 1)])

    # physical lines for event_grads: CRLF ends, a blank line, a quoted id that spans two lines
    with open(os.path.join(edge, "quoted.csv"), "wb") as f:
        f.write(b"user_id,item_id,event,timestamp,weight\r\n"
                b"u1,a,view,1732000000,1.5\r\n"
                b"\r\n"
                b"\"u2\nsecond line\",b,click,1732003600,2\r\n"
                b"\"u,3\",a,view,1732007200,0.5\r\n"
                b"u1,\"c\"\"q\",view,1732010800,3\r\n")

    def tiny(name):
        return {"paths": [f"edge/{name}.csv"], "columns": cols}
    origin_iso = "2024-11-19T07:06:40Z"  # = START
    assert origin_iso
    cases.add("edge-single-smooth", "edge", tiny("single"),
              {"key": ["item"], "weight": dw, "decay": {"half_life": "1d"}, "smoothing": {"temperature": 0.5}},
              {"kind": "multinomial_nll"}, {"parameters": ["decay", "temperature"], "per_event": True})
    cases.add("edge-single-gaussian", "edge", tiny("single"),
              {"key": ["item", "time"], "weight": dw, "decay": {"half_life": "1d"},
               "time_bins": {"width": "1h", "origin": "2024-11-19T00:00:00Z", "kernel": "gaussian", "bandwidth": 1.0}},
              {"kind": "poisson_nll"}, {"parameters": ["decay", "bandwidth"], "per_event": True})
    cases.add("edge-single-emb", "edge", tiny("single"),
              {"key": ["user", "item"], "weight": dw, "decay": {"half_life": "1d"},
               "embedding": {"group": "user", "dim": 3, "seed": 1}},
              {"kind": "sum"}, {"parameters": ["decay"], "per_event": True, "embedding_table": True})
    cases.add("edge-onekey-smooth", "edge", tiny("onekey"),
              {"key": ["item"], "weight": dw, "decay": {"half_life": "5h"}, "smoothing": {"temperature": 1.0}},
              {"kind": "kl"}, {"parameters": ["decay", "temperature"], "per_event": True})
    cases.add("edge-onekey-drop-smooth", "edge", tiny("onekey"),
              {"key": ["item"], "smoothing": {"temperature": 1.0}},
              {"kind": "multinomial_nll"}, {"parameters": ["temperature"], "per_event": True},
              vocabulary={"item": {"oov": "drop"}})
    cases.add("edge-zeros-smooth", "edge", tiny("zeros"),
              {"key": ["item"], "weight": dw, "decay": {"half_life": "1d"}, "smoothing": {"temperature": 0.7}},
              {"kind": "mse"}, {"parameters": ["decay", "temperature"], "per_event": True})
    cases.add("edge-zeros-bins", "edge", tiny("zeros"),
              {"key": ["item", "time"], "weight": dw, "decay": {"half_life": "1d"},
               "time_bins": {"width": "1h", "origin": origin_iso, "kernel": "triangular", "bandwidth": 1.2}},
              {"kind": "multinomial_nll"}, {"parameters": ["decay", "bandwidth"], "per_event": True})
    cases.add("edge-zeros-emb", "edge", tiny("zeros"),
              {"key": ["item"], "weight": dw, "embedding": {"group": "user", "dim": 2, "seed": 5}},
              {"kind": "sum"}, {"per_event": True, "embedding_table": True})
    cases.add("edge-ages-zero", "edge", tiny("sametime"),
              {"key": ["user"], "weight": dw, "decay": {"half_life": "2h"}, "smoothing": {"temperature": 3.0}},
              {"kind": "poisson_nll"}, {"parameters": ["decay", "temperature"], "per_event": True})
    cases.add("edge-quoted-lines", "edge", tiny("quoted"),
              {"key": ["user"], "weight": dw, "decay": {"half_life": "1h"}, "smoothing": {"temperature": 0.9}},
              {"kind": "kl"}, {"parameters": ["decay", "temperature"], "per_event": True})
    cases.add("edge-end-oov-drop", "edge", tiny("late-oov"),
              {"key": ["item"], "weight": dw, "decay": {"half_life": "6h"}},
              {"kind": "multinomial_nll"}, {"parameters": ["decay"], "per_event": True},
              vocabulary={"item": {"min_count": 2, "oov": "drop"}})
    for kernel in ("hard", "triangular", "epanechnikov", "gaussian"):
        extra = {} if kernel == "hard" else {"bandwidth": 0.9}
        cases.add(f"edge-before-origin-{kernel}", "edge", tiny("boundaries"),
                  {"key": ["item", "time"], "weight": dw, "decay": {"half_life": "3h"},
                   "time_bins": {"width": "1h", "origin": origin_iso, "kernel": kernel, **extra}},
                  {"kind": "poisson_nll"},
                  {"parameters": ["decay"] + ([] if kernel == "hard" else ["bandwidth"]), "per_event": True})
    # |u| = 4 exactly in decimal, computed in binary: x = 18720 s / 4 h = 1.3, h = 0.7, bin −2 has
    # u = (1.3 + 1.5)/0.7, which rounds to exactly 4.0: the contract's |u| ≤ 4 includes it
    write_csv(os.path.join(edge, "tie.csv"), hdr, [("u1", "a", "view", 1731981600 + 18720, 2.0), ("u2", "b", "view", 1731981600 + 3600, 1.0)])
    cases.add("edge-gaussian-truncation-tie", "edge", tiny("tie"),
              {"key": ["item", "time"], "weight": dw,
               "time_bins": {"width": "4h", "origin": "2024-11-19T02:00:00Z", "kernel": "gaussian", "bandwidth": 0.7}},
              {"kind": "mse"}, {"parameters": ["bandwidth"], "per_event": True})
    for kernel, h in (("triangular", 0.5000001), ("epanechnikov", 0.5000001), ("gaussian", 0.1250001)):
        cases.add(f"edge-bandwidth-bound-{kernel}", "edge", tiny("small"),
                  {"key": ["item", "time"], "weight": dw,
                   "time_bins": {"width": "30m", "origin": "2024-11-19T07:00:00Z", "kernel": kernel, "bandwidth": h}},
                  {"kind": "multinomial_nll"}, {"parameters": ["bandwidth"], "per_event": True})
    for tau, label in ((1e-3, "1e-3"), (1e3, "1e3")):
        cases.add(f"edge-temperature-{label}", "edge", tiny("small"),
                  {"key": ["item"], "weight": dw, "decay": {"half_life": "1h"}, "smoothing": {"temperature": tau}},
                  {"kind": "multinomial_nll"}, {"parameters": ["decay", "temperature"], "per_event": True})
        cases.add(f"edge-temperature-{label}-big", "edge", data,
                  {"key": ["item"], "smoothing": {"temperature": tau}},
                  {"kind": "kl", "target": "tables/item-logit.parquet"}, {"parameters": ["temperature"], "per_event": True})

    # --- every mode on, for --workers 1, 2, 4: a plain file of several 1 MiB batches
    big = generate(a.worker_rows, 9, START, days=2)
    with open(os.path.join(folder, "big", "big.csv"), "wb") as f:
        f.write(big)
    write_zst(os.path.join(folder, "big", "more.csv.zst"), day[1])
    bigin = {"paths": ["big/*"], "columns": cols}
    cases.add("workers-smooth", "workers", bigin,
              {"key": ["item"], "weight": dw, "decay": {"half_life": "1d"}, "smoothing": {"temperature": 0.6}},
              {"kind": "multinomial_nll", "target": "tables/item-logit.parquet"},
              {"parameters": ["decay", "temperature"], "per_event": True})
    cases.add("workers-bins", "workers", bigin,
              {"key": ["item", "time"], "weight": dw, "decay": {"half_life": "1d"},
               "time_bins": {**bins, "kernel": "gaussian", "bandwidth": 1.3}},
              {"kind": "poisson_nll"}, {"parameters": ["decay", "bandwidth"], "per_event": True})
    cases.add("workers-emb", "workers", bigin,
              {"key": ["user", "item"], "weight": dw, "decay": {"half_life": "1d"},
               "embedding": {"group": "user", "dim": DIM, "table": "tables/item-emb.parquet", "seed": 1}},
              {"kind": "mse", "target": "tables/user-bag-target.parquet"},
              {"parameters": ["decay"], "per_event": True, "embedding_table": True})

    with open(os.path.join(folder, "cases.json"), "w") as f:
        json.dump(cases.list, f, indent=1)
    print(f"{len(cases.list)} cases in {folder}/cases.json")


if __name__ == "__main__":
    main()
