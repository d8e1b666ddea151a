"""Compares a Tally output folder with the independent reference (reference.py).

    check_diff.py PIPELINE OUTPUT_DIR [--var NAME=VALUE]...
    check_diff.py --cases CASES.json          # [{"pipeline": ..., "out": ..., "vars": {...}}, ...]

Checks counts.parquet, target_grad.parquet, event_grads.parquet, bags.parquet,
embedding_grad.parquet and summary.json's loss and gradients: column names, order and Parquet
types, row keys and order, integers and strings exactly, doubles to rtol 1e-9 / atol 1e-12 of
max(|expected|, magnitude) where magnitude is Σ|terms| (see reference.py), ±inf and NaN exactly.
Exit 0 when everything agrees, 1 with a list of differences otherwise.
"""
from __future__ import annotations

import json
import math
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402

RTOL, ATOL = 1e-9, 1e-12
MAX_REPORTED = 5


class Report:
    def __init__(self, name):
        self.name = name
        self.problems = []

    def add(self, text):
        self.problems.append(text)


def close(got, exp, mag):
    if exp is None or got is None:
        return got is None and exp is None
    if math.isnan(exp) or math.isnan(got):
        return math.isnan(exp) and math.isnan(got)
    if math.isinf(exp) or math.isinf(got):
        return exp == got
    return abs(got - exp) <= ATOL + RTOL * max(abs(exp), mag)


TYPES = {"int32": pa.int32(), "int64": pa.int64(), "double": pa.float64(), "string": pa.string()}


def check_table(report, path, columns, keys_label, key_names=()):
    """columns: list of (name, type, values, magnitudes or None). When the key columns
    (`key_names`) of the file and of the reference differ, the keys missing and extra are
    reported and the other columns are compared on the keys both have."""
    name = os.path.basename(path)
    if not os.path.exists(path):
        report.add(f"{name}: missing")
        return
    table = pq.read_table(path)
    want = [c[0] for c in columns]
    if table.column_names != want:
        report.add(f"{name}: columns {table.column_names}, expected {want}")
    nrows = len(columns[0][2]) if columns else 0
    if table.num_rows != nrows:
        report.add(f"{name}: {table.num_rows} rows, expected {nrows}")
    got_rows = list(range(table.num_rows))
    exp_rows = list(range(nrows))
    key_names = [k for k in key_names if k in table.column_names]
    if key_names:
        got_keys = list(zip(*(table.column(k).to_pylist() for k in key_names)))
        exp_keys = list(zip(*([int(v) for v in c[2]] for c in columns if c[0] in key_names)))
        if got_keys != exp_keys:
            gset, eset = set(got_keys), set(exp_keys)
            missing = [k for k in exp_keys if k not in gset]
            extra = [k for k in got_keys if k not in eset]
            label = "(" + ", ".join(key_names) + ")"
            if missing:
                report.add(f"{name}: {len(missing)} keys {label} missing, e.g. {missing[:MAX_REPORTED]}")
            if extra:
                report.add(f"{name}: {len(extra)} keys {label} not expected, e.g. {extra[:MAX_REPORTED]}")
            if not missing and not extra:
                report.add(f"{name}: keys {label} out of order")
            gpos = {k: r for r, k in enumerate(got_keys)}
            exp_rows = [r for r, k in enumerate(exp_keys) if k in gpos]
            got_rows = [gpos[exp_keys[r]] for r in exp_rows]
    for cname, ctype, values, mags in columns:
        if cname not in table.column_names:
            continue
        col = table.column(cname)
        if col.type != TYPES[ctype] and not (ctype == "string" and col.type == pa.large_string()):
            report.add(f"{name}.{cname}: type {col.type}, expected {ctype}")
        got_all = col.to_pylist()
        bad = []
        for g_r, r in zip(got_rows, exp_rows):
            e = values[r]
            g = got_all[g_r]
            if ctype == "double":
                ok = close(g, None if e is None else float(e), float(mags[r]) if mags is not None else 0.0)
            else:
                ok = g == (None if e is None else (int(e) if ctype != "string" else e))
            if not ok:
                bad.append((g_r, r))
        for g_r, r in bad[:MAX_REPORTED]:
            g = got_all[g_r]
            e = values[r]
            e = e if e is None or ctype == "string" else (float(e) if ctype == "double" else int(e))
            extra = f" (magnitude {float(mags[r]):.3e})" if ctype == "double" and mags is not None else ""
            diff = ""
            if ctype == "double" and g is not None and e is not None:
                diff = f", rel err {abs(g - e) / max(abs(e), 1e-300):.2e}"
            report.add(f"{name}.{cname} row {g_r} [{keys_label(r)}]: got {g!r}, expected {e!r}{extra}{diff}")
        if len(bad) > MAX_REPORTED:
            report.add(f"{name}.{cname}: {len(bad) - MAX_REPORTED} more differing rows")


def key_columns(cfg, keys, ev):
    cols = []
    for n, role in enumerate(cfg.key):
        vals = [k[n] for k in keys]
        if role == "time":
            cols.append(("time_bin", "int64", vals, None))
        else:
            cols.append((role, "int32", vals, None))
    for n, role in enumerate(cfg.key):
        if role != "time":
            vocab = ev.item_vocab if role == "item" else ev.user_vocab
            cols.append((f"{role}_id", "string", [vocab.ids[k[n]] for k in keys], None))
    return cols


def check(pipeline_path, out_dir, variables=None):
    report = Report(pipeline_path)
    pipeline, ev, cfg, res = ref.run_reference(pipeline_path, variables)
    grads = pipeline.get("gradients") or {}
    label = lambda keys: (lambda r: ", ".join(str(x) for x in keys[r]) if r < len(keys) else "?")

    # counts.parquet
    cols = key_columns(cfg, res.keys, ev)
    cols.append(("count", "int64", res.count, None))
    cols.append(("value", "double", res.value.v, res.value.m))
    if cfg.embedding is None:
        cols.append(("grad", "double", res.grad.v, res.grad.m))
    for p in cfg.parameters:
        if p in res.d:
            cols.append((f"d_value_d_{p}", "double", res.d[p].v, res.d[p].m))
    check_table(report, os.path.join(out_dir, "counts.parquet"), cols, label(res.keys),
                key_names=[c[0] for c in cols[:len(cfg.key)]])

    # target_grad.parquet
    if res.target_keys is not None:
        roles = [r for r in ("user", "item") if r in cfg.key]
        tcols = [(f"{role}_id", "string", [k[n] for k in res.target_keys], None) for n, role in enumerate(roles)]
        if "time" in cfg.key:
            tcols.append(("time_bin", "int64", [k[len(roles)] for k in res.target_keys], None))
        tcols.append(("grad", "double", res.target_grad.v, res.target_grad.m))
        check_table(report, os.path.join(out_dir, "target_grad.parquet"), tcols, label(res.target_keys))

    skip_values = res.missing_table
    # event_grads.parquet
    if grads.get("per_event"):
        n = len(ev.base)
        ecols = [("file", "string", ev.file, None), ("line", "int64", ev.line, None)]
        if "time" in cfg.key:
            ecols += [("item", "int32", [k[0] for k in res.event_key], None),
                      ("time_bin", "int64", [k[1] for k in res.event_key], None)]
        else:
            ecols += [(role, "int32", [k[i] for k in res.event_key], None) for i, role in enumerate(cfg.key)]
        ecols.append(("weight", "double", res.weight, np.abs(res.weight)))
        if not skip_values:
            ecols.append(("grad", "double", res.event_grad.v, res.event_grad.m))
        elabel = lambda r: f"{ev.file[r]}:{ev.line[r]}" if r < n else "?"
        check_event_table(report, os.path.join(out_dir, "event_grads.parquet"), ecols, elabel, skip_values)

    # bags.parquet and embedding_grad.parquet
    if cfg.embedding is not None:
        dim = cfg.embedding["dim"]
        group = cfg.embedding["group"]
        gv = ev.user_vocab if group == "user" else ev.item_vocab
        groups = sorted(res.bags)
        bcols = [(group, "int32", groups, None), (f"{group}_id", "string", [gv.ids[g] for g in groups], None)]
        for c in range(dim):
            bcols.append((f"e{c}", "double", [res.bags[g][0].v[c] for g in groups], [res.bags[g][0].m[c] for g in groups]))
        for c in range(dim):
            bcols.append((f"g{c}", "double", [res.bags[g][1].v[c] for g in groups], [res.bags[g][1].m[c] for g in groups]))
        sum_loss = cfg.loss == "sum"
        if skip_values:  # E is Tally's seeded init: only what does not depend on E is checkable
            bcols = bcols[:2] + (bcols[2 + dim:] if sum_loss else [])
            check_table_subset(report, os.path.join(out_dir, "bags.parquet"), bcols, label([(g,) for g in groups]))
        else:
            check_table(report, os.path.join(out_dir, "bags.parquet"), bcols, label([(g,) for g in groups]))
        if grads.get("embedding_table") and (sum_loss or not skip_values):
            items = sorted(res.embedding_grad)
            gcols = [("item", "int32", items, None), ("item_id", "string", [ev.item_vocab.ids[k] for k in items], None)]
            for c in range(dim):
                gcols.append((f"g{c}", "double", [res.embedding_grad[k].v[c] for k in items],
                              [res.embedding_grad[k].m[c] for k in items]))
            check_table(report, os.path.join(out_dir, "embedding_grad.parquet"), gcols, label([(k,) for k in items]))

    # summary.json
    spath = os.path.join(out_dir, "summary.json")
    if not os.path.exists(spath):
        report.add("summary.json: missing")
    else:
        with open(spath) as f:
            summary = json.load(f)
        if not skip_values:
            got = summary.get("loss")
            if got is None or not close(float(got), float(res.loss.v), float(res.loss.m)):
                report.add(f"summary.json loss: got {got!r}, expected {float(res.loss.v)!r} (magnitude {res.loss.m:.3e})")
            sg = summary.get("gradients") or {}
            for p in cfg.parameters:
                exp = res.gradients.get(p)
                if exp is None:
                    continue
                g = sg.get(p)
                if g is None or not close(float(g), float(exp.v), float(exp.m)):
                    report.add(f"summary.json gradients.{p}: got {g!r}, expected {float(exp.v)!r} (magnitude {exp.m:.3e})")
            extra = set(sg) - set(cfg.parameters)
            if extra:
                report.add(f"summary.json gradients: unexpected parameters {sorted(extra)}")
    return report


def check_event_table(report, path, cols, elabel, skip_values):
    if skip_values:
        check_table_subset(report, path, cols, elabel)
    else:
        check_table(report, path, cols, elabel)


def check_table_subset(report, path, cols, labeller):
    """Like check_table, but the file may have more columns than those checked."""
    if not os.path.exists(path):
        report.add(f"{os.path.basename(path)}: missing")
        return
    names = pq.read_schema(path).names
    missing = [c[0] for c in cols if c[0] not in names]
    if missing:
        report.add(f"{os.path.basename(path)}: missing columns {missing}")
    tmp = Report("")
    table = pq.read_table(path, columns=[c[0] for c in cols if c[0] in names])
    sub = path + ".subset.parquet"
    pq.write_table(table, sub)
    try:
        check_table(tmp, sub, [c for c in cols if c[0] in names], labeller)
    finally:
        os.remove(sub)
    report.problems += [p.replace(".subset.parquet", "") for p in tmp.problems]


def output_dir(pipeline_path, variables):
    folder = os.path.dirname(os.path.abspath(pipeline_path))
    pipeline = ref.load_pipeline(pipeline_path, variables)
    return os.path.normpath(os.path.join(folder, pipeline["output"]["dir"]))


def main(argv):
    if len(argv) >= 2 and argv[0] == "--cases":
        with open(argv[1]) as f:
            cases = json.load(f)
    else:
        variables = {}
        positional = []
        it = iter(argv)
        for a in it:
            if a == "--var":
                k, _, v = next(it).partition("=")
                variables[k] = v
            elif a.startswith("--var="):
                k, _, v = a[6:].partition("=")
                variables[k] = v
            else:
                positional.append(a)
        if len(positional) != 2:
            print(__doc__)
            return 64
        cases = [{"pipeline": positional[0], "out": positional[1], "vars": variables}]
    failed = 0
    for case in cases:
        variables = case.get("vars") or {}
        out = case.get("out") or output_dir(case["pipeline"], variables)
        try:
            report = check(case["pipeline"], out, variables)
        except Exception as e:  # a crash in the comparison is a failure, with its reason
            report = Report(case["pipeline"])
            report.add(f"check crashed: {type(e).__name__}: {e}")
        name = os.path.basename(case["pipeline"])
        if report.problems:
            failed += 1
            print(f"FAIL {name}")
            for p in report.problems:
                print(f"    {p}")
        else:
            print(f"ok   {name}")
    print(f"{len(cases) - failed} of {len(cases)} agree with the reference")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
