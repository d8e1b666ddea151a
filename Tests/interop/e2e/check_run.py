#!/usr/bin/env python3
"""Check a finished `tally run` against an independent recomputation.

    check_run.py PIPELINE OUTPUT_DIR [--var NAME=VALUE]... [--vocab-before ROLE=PATH|none]...

The checker shares no code with Tally. It parses the pipeline file itself (PyYAML), splits the
input CSV records itself (and cross-checks its splitter against DuckDB's `read_csv` on clean
files), counts with DuckDB SQL, computes losses and gradients with NumPy/SciPy from DESIGN §3,
and reads every output table with pyarrow, DuckDB and Polars, which must agree with each other
and with the expectation: integers and strings exactly, doubles to a relative 1e-9.

`--vocab-before ROLE=PATH` names a copy of a persistent vocabulary taken before the run (or
`none` when the file did not exist); it is needed for `mode: extend` vocabularies whose file the
run has rewritten. A frozen vocabulary is read from its path.

Exit status: 0 when everything matches, 1 with a list of differences, 2 when the check itself
cannot be made (bad arguments, a pipeline this checker does not model).
"""
from __future__ import annotations

import argparse
import datetime
import glob
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from scipy.special import digamma

RTOL = 1e-9
BOM = b"\xef\xbb\xbf"


class Unsupported(Exception):
    """The pipeline uses something this checker does not model; exit 2."""


# ---------------------------------------------------------------------------------------------
# The pipeline file (DESIGN §2), read with every scalar as a string (BaseLoader) so that header
# names and `where` values are compared as the text the user wrote.

@dataclass
class VocabSpec:
    role: str
    path: str | None = None
    mode: str = "extend"
    order: str = "frequency"
    min_count: int = 1
    max_size: int = 0
    oov: str = "bucket"


@dataclass
class Spec:
    path: str
    folder: str
    name: str
    inputs: list[str]
    header: bool
    delimiter: bytes
    columns: dict  # role -> header name (str) or 0-based number (int)
    where: list  # [(column ref, set of values)]
    bad_policy: str
    bad_max: int | None
    key: list[str]
    weight: tuple  # ("one",) | ("column", ref) | ("events", {value: weight}, default)
    vocab: dict[str, VocabSpec]
    loss_kind: str
    target: str | None
    target_column: str | None
    parameters: list[str]
    out_dir: str
    compression: str
    row_group_rows: int
    time_format: str = "unix_seconds"
    decay: tuple | None = None       # (λ per day, reference: "end" or seconds since the epoch)
    temperature: float | None = None  # smoothing
    variables_used: dict = field(default_factory=dict)
    per_event: bool = False


def substitute(node, variables, where="pipeline"):
    """Replace `${name}` in every string value (not in keys), after parsing."""
    if isinstance(node, dict):
        return {k: substitute(v, variables, f"{where}.{k}") for k, v in node.items()}
    if isinstance(node, list):
        return [substitute(v, variables, where) for v in node]
    if isinstance(node, str):
        def one(m):
            if m.group(1) not in variables:
                raise Unsupported(f"{where}: variable ${{{m.group(1)}}} is not set (use --var)")
            return variables[m.group(1)]
        return re.sub(r"\$\{([^}]*)\}", one, node)
    return node


def as_bool(text, default):
    if text is None:
        return default
    return {"true": True, "false": False}[str(text).lower()]


def as_int(text, default):
    return default if text is None else int(text)


def load_pipeline(path: str, variables: dict) -> Spec:
    with open(path, "rb") as f:
        raw = yaml.load(f, Loader=yaml.BaseLoader)
    doc = substitute(raw, variables)
    folder = os.path.dirname(os.path.abspath(path))

    def rel(p):
        return os.path.normpath(os.path.join(folder, p))

    count = doc.get("count", {})
    for unsupported in ("time_bins", "embedding"):
        if unsupported in count:
            raise Unsupported(f"count.{unsupported} is not modelled by this checker")
    decay = None
    if "decay" in count:
        m = re.fullmatch(r"([0-9.]+)([smhd])", count["decay"]["half_life"])
        half_life_days = float(m.group(1)) * {"s": 1 / 86400, "m": 1 / 1440, "h": 1 / 24, "d": 1}[m.group(2)]
        ref = count["decay"].get("reference", "end")
        decay = (math.log(2) / half_life_days, "end" if ref == "end" else parse_iso(ref))
    temperature = float(count["smoothing"].get("temperature", 1.0)) if "smoothing" in count else None
    grads = doc.get("gradients", {}) or {}
    if as_bool(grads.get("embedding_table"), False):
        raise Unsupported("embedding_table gradients are not modelled")

    inp = doc["input"]
    header = as_bool(inp.get("header"), True)

    def colref(text):
        return int(text) if not header else text

    columns = {role: colref(name) for role, name in (inp.get("columns") or {}).items()}
    delimiter = inp.get("delimiter", ",")
    delimiter = {"\\t": "\t"}.get(delimiter, delimiter).encode()
    where = [(colref(c), set(vals)) for c, vals in (inp.get("where") or {}).items()]
    bad = inp.get("bad_rows") or {}
    policy = bad.get("policy", "fail")
    bad_max = as_int(bad.get("max"), 0 if policy == "fail" else None)

    w = count.get("weight")
    if not w:
        weight = ("one",)
    elif "column" in w:
        weight = ("column", colref(w["column"]))
    else:
        weight = ("events", {k: float(v) for k, v in w["events"].items()}, float(w.get("default", 1)))

    key = list(count["key"])
    if "time" in key:
        raise Unsupported("time keys are not modelled by this checker")
    vocab = {}
    for role in key:
        v = (doc.get("vocabulary") or {}).get(role) or {}
        vocab[role] = VocabSpec(
            role=role,
            path=rel(v["path"]) if v.get("path") else None,
            mode=v.get("mode", "extend"),
            order=v.get("order", "frequency"),
            min_count=as_int(v.get("min_count"), 1),
            max_size=as_int(v.get("max_size"), 0),
            oov=v.get("oov", "bucket"),
        )
    loss = doc.get("loss") or {}
    out = doc["output"]
    return Spec(
        path=os.path.abspath(path), folder=folder, name=doc["name"],
        inputs=[rel(p) for p in inp["paths"]], header=header, delimiter=delimiter,
        columns=columns, where=where, bad_policy=policy, bad_max=bad_max, key=key,
        weight=weight, vocab=vocab, loss_kind=loss.get("kind", "sum"),
        target=rel(loss["target"]) if loss.get("target") else None,
        target_column=loss.get("target_column"),
        parameters=list(grads.get("parameters") or []),
        out_dir=rel(out["dir"]), compression=out.get("compression", "zstd"),
        row_group_rows=as_int(out.get("row_group_rows"), 1048576),
        time_format=inp.get("time_format", "unix_seconds"), decay=decay, temperature=temperature,
        per_event=as_bool(grads.get("per_event"), False),
        variables_used={n: variables[n] for n in sorted(set(re.findall(r"\$\{([^}]*)\}", yaml_values_text(raw))))},
    )


def yaml_values_text(node) -> str:
    """All string values of a parsed YAML document (not keys), joined: where `${…}` may occur."""
    if isinstance(node, dict):
        return "\n".join(yaml_values_text(v) for v in node.values())
    if isinstance(node, list):
        return "\n".join(yaml_values_text(v) for v in node)
    return node if isinstance(node, str) else ""


def parse_iso(text: str) -> float:
    """ISO-8601 instant → seconds since the epoch; no zone means UTC."""
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    return t.timestamp()


def parse_time(b: bytes, fmt: str):
    if fmt == "iso8601":
        try:
            return parse_iso(b.decode())
        except (ValueError, UnicodeDecodeError):
            return None
    x = parse_number(b)
    return None if x is None else (x / 1000 if fmt == "unix_millis" else x)


def expand_inputs(patterns):
    """Globs expanded, then the union sorted by path."""
    found = set()
    for p in patterns:
        found.update(os.path.normpath(m) for m in glob.glob(p))
    return sorted(found, key=os.fsencode)


# ---------------------------------------------------------------------------------------------
# Records: RFC 4180, physical line numbers, byte offsets into the decompressed stream.

@dataclass
class Record:
    line: int          # physical line where the record starts, 1-based
    offset: int        # byte offset of the record's first byte
    raw: bytes         # the record's bytes without its line end
    fields: list       # list of bytes
    error: str | None  # a quote error, if any


def decompressed(path: str) -> bytes:
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dcq", path], check=True, capture_output=True).stdout
    with open(path, "rb") as f:
        return f.read()


def split_records(data: bytes, delim: bytes):
    """Yields every non-blank record. Quoted fields may hold delimiters, "" and newlines."""
    d = delim[0]
    n = len(data)
    pos = 3 if data.startswith(BOM) else 0
    line = 0
    while pos < n:
        line += 1
        nl = data.find(b"\n", pos)
        end = n if nl < 0 else nl
        if data.find(b'"', pos, end) < 0:               # fast path: no quote on this line
            raw = data[pos:end]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            start, pos = pos, end + 1
            if raw:
                yield Record(line, start, raw, raw.split(delim), None)
            continue
        start, start_line = pos, line
        fields, cur, i, state, error = [], bytearray(), pos, "start", None
        # states: start (of a field), plain, quoted, after (a closing quote)
        while True:
            if i >= n:
                if state == "quoted":
                    error = error or "quote error: unterminated quoted field"
                break
            c = data[i]
            if state == "quoted":
                if c == 0x22:
                    if i + 1 < n and data[i + 1] == 0x22:
                        cur.append(0x22)
                        i += 2
                        continue
                    state = "after"
                else:
                    if c == 0x0A:
                        line += 1
                    cur.append(c)
                i += 1
                continue
            if c == 0x0A:
                break
            if c == 0x0D and (i + 1 == n or data[i + 1] == 0x0A):
                i += 1
                continue
            if c == d:
                fields.append(bytes(cur))
                cur, state = bytearray(), "start"
            elif c == 0x22:
                if state == "start":
                    state = "quoted"
                else:
                    error = error or "quote error: quote inside an unquoted field"
                    cur.append(c)
            else:
                if state == "after":
                    error = error or "quote error: text after a closing quote"
                cur.append(c)
                state = "plain" if state != "after" else "after"
            i += 1
        fields.append(bytes(cur))
        end = i
        raw = data[start:end]
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        pos = end + 1
        yield Record(start_line, start, raw, fields, error)


NUMBER = re.compile(rb"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def parse_number(b: bytes):
    """A finite decimal number, or None (unparsable or non-finite weights are bad rows)."""
    if not NUMBER.fullmatch(b):
        return None
    x = float(b)
    return x if math.isfinite(x) else None


# ---------------------------------------------------------------------------------------------
# Expected results

@dataclass
class FileStats:
    path: str
    bytes: int
    rows: int = 0
    kept: int = 0
    bad: int = 0
    filtered: int = 0


@dataclass
class Expected:
    files: list = field(default_factory=list)
    ids: dict = field(default_factory=dict)      # role -> list of id (str) per kept row
    weights: list = field(default_factory=list)  # float per kept row
    times: list = field(default_factory=list)    # seconds per kept row, with decay
    places: list = field(default_factory=list)   # (file, line) per kept row
    quarantine: list = field(default_factory=list)  # (file, line, offset, raw)
    gradients: dict = field(default_factory=dict)   # parameter → ∂L/∂θ
    must_fail: str | None = None


def duckdb_rows(path: str, spec: Spec):
    """The file's records as DuckDB's CSV reader sees them (all VARCHAR), for cross-checking."""
    con = duckdb.connect()
    compression = "zstd" if path.endswith(".zst") else "none"
    rel = con.execute(
        "SELECT * FROM read_csv(?, compression=?, all_varchar=true, header=?, quote='\"', "
        "escape='\"', delim=?, strict_mode=true, null_padding=false)",
        [path, compression, spec.header, spec.delimiter.decode()])
    return [tuple("" if v is None else v for v in r) for r in rel.fetchall()]


def read_inputs(spec: Spec, files: list[str]) -> Expected:
    exp = Expected()
    for r in spec.key:
        exp.ids[r] = []
    bad_total = 0
    for path in files:
        st = FileStats(path, os.path.getsize(path))
        exp.files.append(st)
        data = decompressed(path)
        records = split_records(data, spec.delimiter)
        if spec.header:
            try:
                head = next(records)
            except StopIteration:
                raise Unsupported(f"{path}: empty file")
            names = [f.decode() for f in head.fields]
            width = len(names)

            def index_of(ref):
                if ref not in names:
                    raise Unsupported(f"{path}: missing column {ref!r} (tally should fail with 65)")
                return names.index(ref)
        else:
            width = None   # without a header a record needs at least the fields the pipeline uses

            def index_of(ref):
                return ref
        key_cols = {r: index_of(spec.columns[r]) for r in spec.key}
        filters = [(index_of(c), {v.encode() for v in vals}) for c, vals in spec.where]
        tcol = index_of(spec.columns["time"]) if spec.decay else None
        if spec.weight[0] == "column":
            wcol = index_of(spec.weight[1])
        elif spec.weight[0] == "events":
            ecol = index_of(spec.columns["event"])
            table = {k.encode(): v for k, v in spec.weight[1].items()}
            default = spec.weight[2]
        used = list(key_cols.values()) + [c for c, _ in filters] + ([tcol] if tcol is not None else [])
        if spec.weight[0] == "column":
            used.append(wcol)
        elif spec.weight[0] == "events":
            used.append(ecol)
        max_used = max(used) if width is None else 0
        clean = True
        seen = []
        for rec in records:
            st.rows += 1
            reason = rec.error
            if reason is None and width is not None and len(rec.fields) != width:
                reason = f"expected {width} fields, found {len(rec.fields)}"
            if reason is None and width is None and len(rec.fields) <= max_used:
                reason = f"expected at least {max_used + 1} fields, found {len(rec.fields)}"
            if reason is None and any(rec.fields[c] not in vals for c, vals in filters):
                # DESIGN leaves the order open; Tally filters before it validates ids and
                # numbers, so a filtered-out row is never bad for an unparsable weight.
                seen.append(tuple(f.decode("utf-8", "replace") for f in rec.fields))
                st.filtered += 1
                continue
            ids = {}
            if reason is None:
                for role, c in key_cols.items():
                    b = rec.fields[c]
                    if not b:
                        reason = f"empty {role} id"
                        break
                    try:
                        ids[role] = b.decode("utf-8")
                    except UnicodeDecodeError:
                        reason = f"{role} id is not UTF-8"
                        break
            w = 1.0
            if reason is None:
                if spec.weight[0] == "column":
                    w = parse_number(rec.fields[wcol])
                    if w is None:
                        reason = "unparsable weight"
                elif spec.weight[0] == "events":
                    w = table.get(rec.fields[ecol], default)
            t = None
            if reason is None and tcol is not None:
                t = parse_time(rec.fields[tcol], spec.time_format)
                if t is None:
                    reason = "unparsable time"
            if reason is not None:
                clean = False
                st.bad += 1
                bad_total += 1
                if exp.must_fail is None and (spec.bad_policy == "fail" or
                                              (spec.bad_max is not None and bad_total > spec.bad_max)):
                    exp.must_fail = f"{path}:{rec.line}: bad row ({reason})"
                if spec.bad_policy == "quarantine":
                    exp.quarantine.append((path, rec.line, rec.offset, rec.raw))
                continue
            seen.append(tuple(f.decode("utf-8", "replace") for f in rec.fields))
            st.kept += 1
            for role, v in ids.items():
                exp.ids[role].append(v)
            exp.weights.append(w)
            exp.times.append(t)
            exp.places.append((path, rec.line))
        if clean and spec.header:
            theirs = duckdb_rows(path, spec)
            if theirs != seen:
                first = next((i for i, (a, b) in enumerate(zip(seen, theirs)) if a != b), min(len(seen), len(theirs)))
                raise Unsupported(f"{path}: this checker's CSV splitter and DuckDB disagree at record {first + 1}: "
                                  f"{seen[first:first + 1]} vs {theirs[first:first + 1]}")
    return exp


@dataclass
class Vocabulary:
    role: str
    ids: list          # index -> id (None for the OOV bucket)
    counts: list       # index -> rows seen in this run
    lookup: dict       # id -> index
    bucket: bool


def load_vocab_file(path):
    t = pq.read_table(path).to_pydict()
    order = np.argsort(t["index"], kind="stable")
    return [t["index"][i] for i in order], [t["id"][i] for i in order]


def build_vocabulary(spec: VocabSpec, ids: list[str], before: str | None, con) -> tuple[Vocabulary, str | None]:
    """DESIGN §2 and §4: loaded ids keep their index; new ids follow, by frequency or first seen."""
    loaded = []
    if before is not None:
        idx, loaded = load_vocab_file(before)
        if idx != list(range(len(idx))):
            raise Unsupported(f"{before}: indices are not 0..n-1")
    bucket = spec.oov == "bucket"
    if bucket:
        if loaded and loaded[0] is not None:
            raise Unsupported(f"{before}: no OOV bucket at index 0, but oov: bucket")
        if not loaded:
            loaded = [None]
    elif loaded and loaded[0] is None:
        raise Unsupported(f"{before}: has an OOV bucket, but oov: {spec.oov}")
    lookup = {v: i for i, v in enumerate(loaded) if v is not None}
    con.register("role_ids", pa.table({"id": pa.array(ids, pa.string()),
                                       "seq": pa.array(np.arange(len(ids), dtype=np.int64))}))
    stats = con.execute("SELECT id, count(*) AS n, min(seq) AS first FROM role_ids GROUP BY id").fetchall()
    con.unregister("role_ids")
    seen = {i: (n, first) for i, n, first in stats}
    new = []
    if spec.mode == "extend":
        new = [(i, n, first) for i, (n, first) in seen.items() if i not in lookup and n >= spec.min_count]
        if spec.max_size > 0:
            room = max(0, spec.max_size - len(loaded))
            new.sort(key=lambda t: (-t[1], t[0].encode()))
            new = new[:room]
        if spec.order == "frequency":
            new.sort(key=lambda t: (-t[1], t[0].encode()))
        else:
            new.sort(key=lambda t: t[2])
    vocab_ids = loaded + [t[0] for t in new]
    lookup.update({v: len(loaded) + j for j, (v, _, _) in enumerate(new)})
    counts = [0] * len(vocab_ids)
    must_fail = None
    for i, (n, _) in seen.items():
        if i in lookup:
            counts[lookup[i]] += n
        elif bucket:
            counts[0] += n
        elif spec.oov == "fail":
            must_fail = f"id {i!r} of role {spec.role} is out of vocabulary under oov: fail"
    return Vocabulary(spec.role, vocab_ids, counts, lookup, bucket), must_fail


def counts_table(spec: Spec, exp: Expected, vocabs: dict, con):
    """Per key: count, value and ∂value/∂θ (DESIGN §3), summed by DuckDB; sorted by key indices."""
    b = np.array(exp.weights, dtype=np.float64)
    w, dw = b, np.zeros_like(b)
    if spec.decay:
        lam, ref = spec.decay
        t = np.array(exp.times, dtype=np.float64)
        if ref == "end":
            ref = float(t.max()) if len(t) else 0.0
        age = (ref - t) / 86400.0
        w = b * np.exp(-lam * age)
        dw = -age * w
    cols = {"w": pa.array(w), "dw": pa.array(dw)}
    per_row = {"w": w, "factor": np.exp(-spec.decay[0] * age) if spec.decay else np.ones_like(b)}
    for role in spec.key:
        v = vocabs[role]
        idx = [v.lookup.get(i, 0 if v.bucket else -1) for i in exp.ids[role]]
        cols[role] = pa.array(idx, pa.int32())
        per_row[role] = idx
    con.register("kept", pa.table(cols))
    keys = ", ".join(f'"{r}"' for r in spec.key)
    drop = " OR ".join(f'"{r}" < 0' for r in spec.key)
    dropped = con.execute(f"SELECT count(*) FROM kept WHERE {drop}").fetchone()[0]
    rows = con.execute(
        f"SELECT {keys}, count(*) AS count, sum(w) AS value, sum(dw) AS d_decay FROM kept WHERE NOT ({drop}) "
        f"GROUP BY {keys} ORDER BY {keys}").fetchall()
    con.unregister("kept")
    n = len(spec.key)
    table = {r: [row[j] for row in rows] for j, r in enumerate(spec.key)}
    table["count"] = [row[n] for row in rows]
    table["value"] = [float(row[n + 1]) for row in rows]
    derivatives = {"decay": [float(row[n + 2]) for row in rows]}
    if spec.temperature is not None:
        table, derivatives, per_row["smoothing"] = smoothed(spec, vocabs, table, derivatives)
    for role in spec.key:
        table[f"{role}_id"] = [vocabs[role].ids[i] for i in table[role]]
    return table, derivatives, dropped, per_row


def smoothed(spec: Spec, vocabs: dict, table: dict, derivatives: dict):
    """Softmax over the one-hot row in closed form, over all K keys of the vocabulary:
    ṽ = b·W + (a − b)·v, ∂ṽ/∂τ = E·(W − K·v)/(τ² Z²), ∂ṽ/∂λ = b·∂W/∂λ + (a − b)·∂v/∂λ."""
    if len(spec.key) != 1:
        raise Unsupported("smoothing applies to single-role keys")
    role = spec.key[0]
    K = len(vocabs[role].ids)
    v = np.zeros(K)
    dv = np.zeros(K)
    count = np.zeros(K, dtype=np.int64)
    v[table[role]] = table["value"]
    dv[table[role]] = derivatives["decay"]
    count[table[role]] = table["count"]
    tau = spec.temperature
    E = math.exp(1 / tau)
    Z = E + K - 1
    a, b = E / Z, 1 / Z
    W, dW = math.fsum(table["value"]), math.fsum(derivatives["decay"])
    sv = b * W + (a - b) * v
    keep = [k for k in range(K) if count[k] > 0 or sv[k] != 0]
    out = {role: keep, "count": [int(count[k]) for k in keep], "value": [float(sv[k]) for k in keep]}
    d = {"decay": [float(b * dW + (a - b) * dv[k]) for k in keep],
         "temperature": [float(E * (W - K * v[k]) / (tau ** 2 * Z ** 2)) for k in keep]}
    return out, d, (a, b)


def read_target(spec: Spec):
    """Target table: id columns + target column, CSV (plain or .zst) or Parquet → {key tuple: θ}."""
    if spec.target is None:
        return {}
    id_cols = [f"{r}_id" for r in spec.key]
    col = spec.target_column
    if spec.target.endswith(".parquet"):
        t = pq.read_table(spec.target).to_pydict()
    else:
        recs = split_records(decompressed(spec.target), b",")
        names = [f.decode() for f in next(recs).fields]
        t = {n: [] for n in names}
        for r in recs:
            for n, f in zip(names, r.fields):
                t[n].append(f.decode())
    out = {}
    for j in range(len(t[col])):
        k = tuple(str(t[c][j]) for c in id_cols)
        if k in out:
            raise Unsupported(f"{spec.target}: duplicate key {k}")
        out[k] = float(t[col][j])
    return out


def logsumexp(x):
    m = np.max(x)
    return m + math.log(np.sum(np.exp(x - m)))


def losses(spec: Spec, counts: dict, target: dict):
    """DESIGN §3 over target keys ∪ observed keys. Returns loss, grad per counts row, target_grad."""
    id_cols = [f"{r}_id" for r in spec.key]
    observed = list(zip(*[counts[c] for c in id_cols])) if counts["count"] else []
    keys = list(observed)
    seen = set(observed)
    keys += [k for k in target if k not in seen]
    n_obs = len(observed)
    v = np.zeros(len(keys))
    v[:n_obs] = counts["value"]
    theta = np.array([target.get(k, 0.0) for k in keys])
    kind = spec.loss_kind
    tgrad = None
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "sum":
            loss, grad = float(np.sum(v)), np.ones(len(keys))
        elif kind == "mse":
            loss, grad = float(0.5 * np.sum((v - theta) ** 2)), v - theta
        elif kind == "poisson_nll":
            lg = np.array([math.lgamma(x + 1) for x in v])
            loss = float(np.sum(np.exp(theta) - v * theta + lg))
            grad = -theta + digamma(v + 1)
            tgrad = np.exp(theta) - v
        elif kind in ("multinomial_nll", "kl"):
            logq = theta - logsumexp(theta)
            q = np.exp(logq)
            V = float(np.sum(v))
            if kind == "multinomial_nll":
                loss = float(-np.sum(v * logq))
                grad = -logq
                tgrad = V * q - v
            else:
                p = v / V
                logp = np.log(p)
                terms = np.where(v > 0, p * (logp - logq), 0.0)
                loss = float(np.sum(terms))
                grad = (logp - logq - loss) / V
                tgrad = q - p
        else:
            raise Unsupported(f"loss kind {kind}")
    tg = None
    if tgrad is not None:
        def sort_key(i):
            return tuple((0, b"") if x is None else (1, x.encode()) for x in keys[i])
        order = sorted(range(len(keys)), key=sort_key)
        tg = {c: [keys[i][j] for i in order] for j, c in enumerate(id_cols)}
        tg["grad"] = [float(tgrad[i]) for i in order]
    return loss, [float(g) for g in grad[:n_obs]], tg


# ---------------------------------------------------------------------------------------------
# Reading the outputs three ways

PHYSICAL = {"int32": ("INT32", None), "int64": ("INT64", None), "double": ("DOUBLE", None),
            "string": ("BYTE_ARRAY", "String"), "binary": ("BYTE_ARRAY", "None")}
POLARS = {"int32": pl.Int32, "int64": pl.Int64, "double": pl.Float64, "string": pl.String, "binary": pl.Binary}
DUCK = {"int32": "INTEGER", "int64": "BIGINT", "double": "DOUBLE", "string": "VARCHAR", "binary": "BLOB"}


class Report:
    def __init__(self):
        self.problems = []
        self.checks = 0

    def fail(self, text):
        self.problems.append(text)

    def ok(self, n=1):
        self.checks += n


def same(a, b):
    """Exact sameness, as three readers of one file must agree: NaN equals NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def read_three_ways(path: str, schema: list, spec: Spec, rep: Report):
    """Reads with pyarrow, DuckDB and Polars; checks types, codec and that all three agree."""
    name = os.path.basename(path)
    pf = pq.ParquetFile(path)
    names = [pf.schema.column(i).name for i in range(len(pf.schema))]
    want = [c for c, _ in schema]
    if names != want:
        rep.fail(f"{name}: columns {names}, expected {want}")
        return None
    for i, (c, t) in enumerate(schema):
        col = pf.schema.column(i)
        phys, logical = PHYSICAL[t]
        if col.physical_type != phys or (logical and str(col.logical_type) != logical):
            rep.fail(f"{name}: column {c} is {col.physical_type}/{col.logical_type}, expected {phys}/{logical}")
    codec = "ZSTD" if spec.compression == "zstd" else "UNCOMPRESSED"
    for g in range(pf.metadata.num_row_groups):
        rg = pf.metadata.row_group(g)
        if rg.num_rows > spec.row_group_rows:
            rep.fail(f"{name}: row group {g} has {rg.num_rows} rows > row_group_rows {spec.row_group_rows}")
        for c in range(rg.num_columns):
            if rg.column(c).compression != codec:
                rep.fail(f"{name}: row group {g} column {c} is {rg.column(c).compression}, expected {codec}")
    a = pq.read_table(path).to_pydict()
    con = duckdb.connect()
    res = con.execute("SELECT * FROM read_parquet(?)", [path])
    duck_types = [d[1] for d in res.description]
    drows = res.fetchall()
    d = {c: [r[j] for r in drows] for j, c in enumerate(want)}
    for (c, t), dt in zip(schema, duck_types):
        if str(dt) != DUCK[t]:
            rep.fail(f"{name}: DuckDB reads column {c} as {dt}, expected {DUCK[t]}")
    pdf = pl.read_parquet(path)
    for c, t in schema:
        if pdf.schema[c] != POLARS[t]:
            rep.fail(f"{name}: Polars reads column {c} as {pdf.schema[c]}, expected {POLARS[t]}")
    p = pdf.to_dict(as_series=False)
    for c, _ in schema:
        for reader, other in (("DuckDB", d), ("Polars", p)):
            if len(other[c]) != len(a[c]):
                rep.fail(f"{name}: {reader} reads {len(other[c])} rows, pyarrow {len(a[c])}")
                return None
            for j, (x, y) in enumerate(zip(a[c], other[c])):
                if not same(x, y):
                    rep.fail(f"{name}: row {j} column {c}: pyarrow {x!r}, {reader} {y!r}")
                    break
    rep.ok()
    return a


def close(x, y, atol):
    if x is None or y is None:
        return x is None and y is None
    if math.isinf(x) or math.isinf(y) or math.isnan(x) or math.isnan(y):
        return x == y or (math.isnan(x) and math.isnan(y))
    return abs(x - y) <= RTOL * max(abs(x), abs(y)) + atol


def compare_table(name, got, expected, schema, rep: Report, key_cols, limit=12):
    if got is None:
        return
    n_exp = len(expected[schema[0][0]])
    n_got = len(got[schema[0][0]])
    if n_got != n_exp:
        rep.fail(f"{name}: {n_got} rows, expected {n_exp}")
        exp_keys = set(zip(*[expected[c] for c in key_cols]))
        got_keys = set(zip(*[got[c] for c in key_cols]))
        extra, missing = sorted(got_keys - exp_keys, key=repr)[:5], sorted(exp_keys - got_keys, key=repr)[:5]
        rep.fail(f"{name}: keys {key_cols}: unexpected {extra}, missing {missing}")
        return
    shown = 0
    for c, t in schema:
        e_col, g_col = expected[c], got[c]
        if t == "double":
            finite = [abs(x) for x in e_col if x is not None and math.isfinite(x)]
            # Cancellation (V·q − v near 0) needs an absolute floor, scaled to the column.
            atol = 1e-12 * max(finite, default=1.0)
            bad = [j for j in range(n_exp) if not close(e_col[j], g_col[j], atol)]
        else:
            bad = [j for j in range(n_exp) if e_col[j] != g_col[j]]
        for j in bad:
            if shown < limit:
                where = ", ".join(f"{k}={expected[k][j]!r}" for k in key_cols)
                rep.fail(f"{name}: row {j} ({where}): {c} expected {e_col[j]!r}, got {g_col[j]!r}")
            shown += 1
        if not bad:
            rep.ok()
    if shown > limit:
        rep.fail(f"{name}: … {shown - limit} more differences")


# ---------------------------------------------------------------------------------------------

def expected_outputs(spec: Spec, before_arg: dict):
    """Everything the run should produce: {file: (schema, table)}, and what summary.json says."""
    files = expand_inputs(spec.inputs)
    if not files:
        raise Unsupported("no input file matched (tally should fail with 66)")
    exp = read_inputs(spec, files)
    con = duckdb.connect()
    vocabs = {}
    for role, vs in spec.vocab.items():
        before = before_arg.get(role)
        if before == "none":
            before = None
        elif before is None and vs.path and os.path.exists(vs.path):
            if vs.mode == "extend":
                raise Unsupported(f"vocabulary.{role}.path exists and mode is extend: "
                                  f"pass --vocab-before {role}=COPY_TAKEN_BEFORE_THE_RUN (or =none)")
            before = vs.path
        vocabs[role], fail = build_vocabulary(vs, exp.ids[role], before, con)
        exp.must_fail = exp.must_fail or fail
    if exp.must_fail:
        return exp, None, None, None
    counts, derivatives, dropped, per_row = counts_table(spec, exp, vocabs, con)
    target = read_target(spec)
    loss, grad, tgrad = losses(spec, counts, target)
    counts["grad"] = grad
    exp.gradients = {}
    for param in spec.parameters:
        if param not in derivatives:
            raise Unsupported(f"gradients.parameters: {param} is not modelled by this checker")
        counts[f"d_value_d_{param}"] = derivatives[param]
        exp.gradients[param] = math.fsum(g * d for g, d in zip(grad, derivatives[param]))
    tables = {}
    tables["counts.parquet"] = (
        [(r, "int32") for r in spec.key] + [(f"{r}_id", "string") for r in spec.key] +
        [("count", "int64"), ("value", "double"), ("grad", "double")] +
        [(f"d_value_d_{p}", "double") for p in spec.parameters], counts,
        list(spec.key) + [f"{r}_id" for r in spec.key])
    for role, v in vocabs.items():
        tables[f"vocab_{role}.parquet"] = (
            [("index", "int32"), ("id", "string"), ("count", "int64")],
            {"index": list(range(len(v.ids))), "id": v.ids, "count": v.counts}, ["index", "id"])
    if tgrad is not None:
        tables["target_grad.parquet"] = (
            [(f"{r}_id", "string") for r in spec.key] + [("grad", "double")], tgrad,
            [f"{r}_id" for r in spec.key])
    if spec.per_event:
        tables["event_grads.parquet"] = event_grads(spec, exp, counts, per_row)
    if spec.bad_policy == "quarantine":
        q = exp.quarantine
        tables["quarantine.parquet"] = (
            [("file", "string"), ("line", "int64"), ("byte_offset", "int64"), ("reason", "string"),
             ("raw", "binary")],
            {"file": [r[0] for r in q], "line": [r[1] for r in q], "byte_offset": [r[2] for r in q],
             "reason": ["bad row"] * len(q), "raw": [r[3] for r in q]}, ["file", "line"])
    return exp, tables, loss, dropped


def event_grads(spec: Spec, exp: Expected, counts: dict, per_row: dict):
    """DESIGN §3 per-row gradients ∂L/∂b_i, in input order, for rows that reach the counts:
    e^(−λ a_i)·g_k(i); with smoothing e^(−λ a_i)·(b·Σ_k g_k + (a − b)·g_k(i))."""
    grad_of = {tuple(counts[r][j] for r in spec.key): counts["grad"][j] for j in range(len(counts["grad"]))}
    rows = [j for j in range(len(exp.places)) if all(per_row[r][j] >= 0 for r in spec.key)]
    g = np.array([grad_of[tuple(per_row[r][j] for r in spec.key)] for j in rows])
    if "smoothing" in per_row:
        a, b = per_row["smoothing"]
        g = b * math.fsum(counts["grad"]) + (a - b) * g
    table = {"file": [exp.places[j][0] for j in rows], "line": [exp.places[j][1] for j in rows]}
    for r in spec.key:
        table[r] = [per_row[r][j] for j in rows]
    table["weight"] = [float(per_row["w"][j]) for j in rows]
    table["grad"] = [float(x) for x in per_row["factor"][rows] * g] if rows else []
    schema = ([("file", "string"), ("line", "int64")] + [(r, "int32") for r in spec.key] +
              [("weight", "double"), ("grad", "double")])
    return schema, table, ["file", "line"]


def write_expected(out: str, spec: Spec, exp: Expected, tables: dict, loss, dropped):
    """Writes the expectation as a run would (pyarrow, zstd): a self-test of the comparison."""
    os.makedirs(out, exist_ok=True)
    for fname, (schema, table, _) in tables.items():
        t = pa.table({c: pa.array(table[c], {"int32": pa.int32(), "int64": pa.int64(), "double": pa.float64(),
                                               "string": pa.string(), "binary": pa.binary()}[ty])
                      for c, ty in schema})
        pq.write_table(t, os.path.join(out, fname), compression=spec.compression)
    summary = {
        "pipeline": {"name": spec.name, "path": spec.path, "hash": hashlib.sha256(open(spec.path, "rb").read() + b"".join(
            b"\0" + f"{k}={v}".encode() for k, v in spec.variables_used.items())).hexdigest()}, "version": "check_run",
        "inputs": [{"path": f.path, "bytes": f.bytes, "rows": f.rows, "kept": f.kept, "bad": f.bad,
                    "reused": False} for f in exp.files],
        "rows": {"read": sum(f.rows for f in exp.files), "kept": sum(f.kept for f in exp.files),
                 "bad": sum(f.bad for f in exp.files), "filtered": sum(f.filtered for f in exp.files),
                 "oov_dropped": dropped},
        "loss": loss, "loss_kind": spec.loss_kind, "gradients": exp.gradients,
        "outputs": {f: len(t[1][t[0][0][0]]) for f, t in tables.items()}, "seconds": {},
    }
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    for role, vs in spec.vocab.items():
        if vs.path and vs.mode == "extend":
            os.makedirs(os.path.dirname(vs.path), exist_ok=True)
            shutil.copyfile(os.path.join(out, f"vocab_{role}.parquet"), vs.path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pipeline")
    ap.add_argument("output_dir")
    ap.add_argument("--var", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--vocab-before", action="append", default=[], metavar="ROLE=PATH|none")
    ap.add_argument("--write-expected", action="store_true",
                    help="write the expected outputs into OUTPUT_DIR instead of checking (self-test)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    variables = dict(v.split("=", 1) for v in args.var)
    before_arg = dict(v.split("=", 1) for v in args.vocab_before)
    rep = Report()
    out = os.path.abspath(args.output_dir)
    try:
        spec = load_pipeline(args.pipeline, variables)
        exp, tables, loss, dropped = expected_outputs(spec, before_arg)
    except Unsupported as e:
        print(f"check_run: cannot check: {e}", file=sys.stderr)
        return 2
    if exp.must_fail:
        rep.fail(f"the run should have failed (exit 65): {exp.must_fail}")
        return finish(rep, args)
    if args.write_expected:
        write_expected(out, spec, exp, tables, loss, dropped)
        return 0
    if os.path.normpath(out) != spec.out_dir:
        print(f"note: checking {out}, the pipeline's output.dir is {spec.out_dir}", file=sys.stderr)
    expected_files = {}
    for fname, (schema, table, key_cols) in tables.items():
        expected_files[fname] = len(table[schema[0][0]])
        got = read_output(out, fname, schema, spec, rep)
        if fname == "quarantine.parquet":
            if got is not None:
                check_quarantine(got, exp.quarantine, rep)
        elif fname == "event_grads.parquet" and got is not None and len(got["file"]) == len(table["file"]):
            wrong = [j for j, (g, e) in enumerate(zip(got["file"], table["file"])) if not same_file(g, e)]
            if wrong:
                rep.fail(f"{fname}: row {wrong[0]}: file {got['file'][wrong[0]]!r}, expected {table['file'][wrong[0]]}")
            compare_table(fname, got, table, schema[1:], rep, key_cols)
        else:
            compare_table(fname, got, table, schema, rep, key_cols)
        role = fname[len("vocab_"):-len(".parquet")] if fname.startswith("vocab_") else None
        if role and spec.vocab[role].path and spec.vocab[role].mode == "extend":
            vpath = spec.vocab[role].path
            if not os.path.exists(vpath):
                rep.fail(f"vocabulary.{role}.path {vpath} was not written back")
            else:
                back = read_three_ways(vpath, schema, spec, rep)
                compare_table(f"{vpath} (written back)", back, table, schema, rep, key_cols)
    check_summary(out, spec, exp, loss, dropped, expected_files, rep)
    present = {f for f in os.listdir(out) if f != "summary.json"} if os.path.isdir(out) else set()
    for extra in sorted(present - set(expected_files)):
        rep.fail(f"{extra}: not an expected output of this pipeline")
    return finish(rep, args)


def read_output(out, fname, schema, spec, rep):
    path = os.path.join(out, fname)
    if not os.path.exists(path):
        rep.fail(f"{fname}: missing")
        return None
    return read_three_ways(path, schema, spec, rep)


def same_file(shown: str, actual: str) -> bool:
    """A path as Tally shows it (maybe relative to its working directory) names `actual`."""
    return os.path.basename(shown) == os.path.basename(actual) and (
        os.path.isabs(shown) and os.path.normpath(shown) == actual or actual.endswith(os.path.normpath(shown).lstrip("./")))


def check_quarantine(got, rows, rep):
    if len(got["line"]) != len(rows):
        rep.fail(f"quarantine.parquet: {len(got['line'])} rows, expected {len(rows)}: "
                 f"{[(os.path.basename(p), l) for p, l, _, _ in rows[:10]]}")
        return
    for j, (path, line, offset, raw) in enumerate(rows):
        g = {c: got[c][j] for c in got}
        if not same_file(g["file"], path):
            rep.fail(f"quarantine.parquet row {j}: file {g['file']!r}, expected {path}")
        for c, e in (("line", line), ("byte_offset", offset), ("raw", raw)):
            if g[c] != e:
                rep.fail(f"quarantine.parquet row {j} ({os.path.basename(path)}:{line}): {c} expected {e!r}, got {g[c]!r}")
        if not g["reason"]:
            rep.fail(f"quarantine.parquet row {j}: empty reason")
    rep.ok()


def check_summary(out, spec, exp: Expected, loss, dropped, expected_files, rep: Report):
    path = os.path.join(out, "summary.json")
    if not os.path.exists(path):
        rep.fail("summary.json: missing")
        return
    with open(path) as f:
        s = json.load(f)
    for k in ("pipeline", "version", "inputs", "rows", "loss", "loss_kind", "gradients", "outputs", "seconds"):
        if k not in s:
            rep.fail(f"summary.json: no key {k!r}")
    p = s.get("pipeline", {})
    if p.get("name") != spec.name:
        rep.fail(f"summary.json: pipeline.name {p.get('name')!r}, expected {spec.name!r}")
    if not isinstance(p.get("hash"), str) or not p.get("hash"):
        rep.fail(f"summary.json: pipeline.hash {p.get('hash')!r} is not a non-empty string")
    if s.get("loss_kind") != spec.loss_kind:
        rep.fail(f"summary.json: loss_kind {s.get('loss_kind')!r}, expected {spec.loss_kind!r}")
    got_loss = s.get("loss")
    if not isinstance(got_loss, (int, float)) or not close(float(got_loss), loss, 0.0):
        rep.fail(f"summary.json: loss expected {loss!r}, got {got_loss!r}")
    got_grads = s.get("gradients")
    if not isinstance(got_grads, dict) or set(got_grads) != set(exp.gradients):
        rep.fail(f"summary.json: gradients {got_grads!r}, expected keys {sorted(exp.gradients)}")
    else:
        for k, v in exp.gradients.items():
            if not isinstance(got_grads[k], (int, float)) or not close(float(got_grads[k]), v, 0.0):
                rep.fail(f"summary.json: gradients.{k} expected {v!r}, got {got_grads[k]!r}")
    want_hash = hashlib.sha256(open(spec.path, "rb").read() + b"".join(
        b"\0" + f"{k}={v}".encode() for k, v in spec.variables_used.items())).hexdigest()
    if p.get("hash") != want_hash:
        rep.fail(f"summary.json: pipeline.hash {p.get('hash')!r}, expected {want_hash} (docs/pipeline-file.md)")
    rows = s.get("rows", {})
    want = {"read": sum(f.rows for f in exp.files), "kept": sum(f.kept for f in exp.files),
            "bad": sum(f.bad for f in exp.files), "filtered": sum(f.filtered for f in exp.files),
            "oov_dropped": dropped}
    for k, v in want.items():
        if rows.get(k) != v:
            rep.fail(f"summary.json: rows.{k} expected {v}, got {rows.get(k)!r}")
    inputs = s.get("inputs", [])
    if len(inputs) != len(exp.files):
        rep.fail(f"summary.json: {len(inputs)} inputs, expected {len(exp.files)} "
                 f"({[os.path.basename(f.path) for f in exp.files]})")
    else:
        for g, e in zip(inputs, exp.files):
            if not same_file(str(g.get("path")), e.path):
                rep.fail(f"summary.json: input path {g.get('path')!r}, expected {e.path} (in sorted order)")
            for k in ("bytes", "rows", "kept", "bad"):
                if g.get(k) != getattr(e, k):
                    rep.fail(f"summary.json: input {os.path.basename(e.path)} {k} expected {getattr(e, k)}, got {g.get(k)!r}")
            if g.get("reused") is not False:
                rep.fail(f"summary.json: input {os.path.basename(e.path)} reused {g.get('reused')!r}, expected false")
    outs = s.get("outputs", {})
    if outs != expected_files:
        rep.fail(f"summary.json: outputs {outs!r}, expected {expected_files!r}")
    rep.ok()


def finish(rep: Report, args) -> int:
    if rep.problems:
        print(f"check_run: {args.pipeline}: {len(rep.problems)} difference(s):", file=sys.stderr)
        for p in rep.problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"check_run: {args.pipeline}: OK ({rep.checks} checks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
