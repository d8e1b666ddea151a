#!/usr/bin/env python3
"""Generated cross-checks: logs from tools/gen_interactions.py, one pipeline per case, checked.

    crosscheck.py --tally BIN [--case NAME]... [--data DIR] [--work DIR] [--keep]
    crosscheck.py --list

For each case (a key shape × a loss × target tables as Parquet, CSV and .csv.zst × vocabulary
options), writes a pipeline into a fresh folder, runs `tally run` on it, and checks the outputs
with check_run.py. The logs (three files, 50k rows, 3000 items, 400 users, plus a hand-written
file of awkward CSV) are generated once into --data and reused.
Exit status: 0 when every case passes, 1 otherwise.
"""
from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
import check_run  # noqa: E402

GEN = os.path.join(ROOT, "tools", "gen_interactions.py")
DATA_VERSION = "v6"
# (file name, rows, seed, start); 50k rows in all, one day each.
LOGS = [("day1.csv.zst", 20_000, 11, 1_732_000_000),
        ("day2.csv.zst", 20_000, 12, 1_732_086_400),
        ("day3.csv.zst", 10_000, 13, 1_732_172_800)]

# Awkward but valid CSV (BOM, CRLF, quotes, delimiters and line ends inside quotes, a blank line,
# spaces kept verbatim, no final line end) and bad rows: unparsable weight, too few fields, an
# empty id, a non-UTF-8 id. Lines are physical lines.
MESSY = (
    b"\xef\xbb\xbfuser_id,item_id,event,timestamp,weight\r\n"       # 1
    b'u0000001,"sku,comma",click,1732000000,1.5\r\n'                # 2
    b'u0000002,"sku ""quoted""",view,1732000001,2\r\n'              # 3
    b'u0000003,"multi\r\nline",cart,1732000002,3.25\r\n'            # 4-5
    b"\r\n"                                                         # 6 blank
    b"u0000004,sku-00000001,view,1732000003,n/a\r\n"                # 7 bad: weight
    b"u0000005,sku-00000002,view,1732000004\r\n"                    # 8 bad: 4 fields
    b"u0000006,,view,1732000005,1\r\n"                              # 9 bad: empty item id
    b"u0000007, sku-00000003 ,view,1732000006,4\r\n"                # 10 id with spaces
    b"u0000008,sku-00000003,purchase,1732000007,1e2\r\n"            # 11
    b'"u0000009",sku-00000004,view,1732000008,.5\r\n'               # 12
    b"u0000010,sku-\xff\xfe,view,1732000009,1\r\n"                  # 13 bad: not UTF-8
    b'u0000011,"sku-00000005",click,1732000010,0.25'                # 14, no line end
)
# Non-ASCII ids with tied counts (frequency order breaks ties by id bytes), a row of weight 0
# (under kl its key's grad is -inf), an event missing from the events table.
UNICODE = """user_id,item_id,event,timestamp,weight
u1,\u00e9,view,1,1
u2,z,click,2,2
u3,\u00c9,view,3,1
u4,e\u0301,cart,4,0
u5,Z,view,5,3
u1,z,purchase,6,1
u2,\u00e9,view,7,1
u3,\u00c9,refund,8,1
u6,\u65e5\u672c,view,9,1.5
u7,\U0001F600,view,10,0.5
u8,a b,view,11,1
""".encode()
# Bad rows that a filter removes first (only a wrong field count is bad whatever the filter).
WHERE_BAD = (b"user_id,item_id,event,timestamp,weight\n"
             b"u1,i1,view,1,1\n"
             b"u2,i2,click,1,n/a\n"       # filtered out before its weight is read
             b"u3,,click,1,1\n"           # filtered out before its id is checked
             b"u4,i4\n"                   # bad: two fields
             b"u5,i5,view,1,n/a\n"        # bad: kept by the filter, weight unparsable
             b"u6,i1,view,1,2\n")
# The same columns in another order (each file has its own header).
REORDERED = (b"weight,timestamp,event,item_id,user_id\n"
             b"2.5,1732000000,view,sku-00000001,u0000001\n"
             b"1,1732000001,click,sku-00000002,u0000002\n"
             b"4,1732000002,view,sku-00000001,u0000003\n")
# No header: records need only the fields the pipeline uses (0 and 1 here); one has too few.
RAGGED = (b"u1,a\n"
          b"u2,b,extra,fields,here,6\n"
          b"u3,a,x\n"
          b"u4\n"
          b"u5,c\n")
# A target whose ids need quoting, with a BOM and CRLF line ends, for the messy file's ids.
MESSY_TARGET = (b'\xef\xbb\xbfitem_id,logit\r\n"sku,comma",1.5\r\n"sku ""quoted""",-1\r\n'
                b'"multi\r\nline",0.5\r\nsku-00000003,2\r\n')
UNICODE_TARGET = "item_id,logit\n\u00e9,1.5\nZ,-2\n\U0001F600,0.25\nnever-seen,3\n".encode()
# A quote error: text after a closing quote (line 3).
QUOTE_ERROR = (
    b"user_id,item_id,event,timestamp,weight\n"
    b"u0000001,sku-00000001,view,1732000000,1\n"
    b'u0000002,"sku-00000002"x,view,1732000001,2\n'
    b"u0000003,sku-00000003,view,1732000002,3\n"
)


def write_quoted_big(path: str) -> None:
    """60k generated rows rewritten with CRLF line ends, a BOM and quoted item ids that hold
    delimiters, doubled quotes and line ends; compressed as three zstd frames split at byte
    offsets that fall inside records, so records cross both frame and batch boundaries."""
    gen = subprocess.run([sys.executable, GEN, "--rows", "60000", "--items", "3000", "--users", "400",
                          "--days", "1", "--start", "1732259200", "--seed", "14", "--out", "-"],
                         check=True, capture_output=True).stdout
    lines = gen.rstrip(b"\n").split(b"\n")
    out = [b"\xef\xbb\xbf" + lines[0]]
    for j, line in enumerate(lines[1:]):
        user, item, rest = line.split(b",", 2)
        item = [b'"%s"' % item, b'"%s,x"' % item, b'"%s ""q"""' % item, b'"%s\r\nnl"' % item,
                b'"%s\nlf"' % item, item, item][j % 7]
        out.append(b",".join([user, item, rest]))
    data = b"\r\n".join(out) + b"\r\n"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cuts = [0, len(data) // 3 + 17, 2 * len(data) // 3 + 5, len(data)]
    with open(path, "wb") as f:
        for a, b in zip(cuts, cuts[1:]):
            f.write(subprocess.run(["zstd", "-q", "-3", "-c"], input=data[a:b], check=True,
                                   capture_output=True).stdout)


def write_big_bad(path: str) -> None:
    """60k generated rows with a bad row every 2999 rows (five kinds in turn) and a quoted,
    two-line item id every 13 rows, in one zstd frame: bad rows land in every batch, and physical
    line numbers drift from record numbers."""
    gen = subprocess.run([sys.executable, GEN, "--rows", "60000", "--items", "3000", "--users", "400",
                          "--days", "1", "--start", "1732345600", "--seed", "15", "--out", "-"],
                         check=True, capture_output=True).stdout
    lines = gen.rstrip(b"\n").split(b"\n")
    out = [lines[0]]
    bad = [lambda u, i, r: b"%s,%s,%s" % (u, i, r.rsplit(b",", 1)[0] + b",n/a"),
           lambda u, i, r: b"%s,%s" % (u, i),
           lambda u, i, r: b"%s,,%s" % (u, r),
           lambda u, i, r: b'%s,%s"x,%s' % (u, i, r),
           lambda u, i, r: b"%s,%s\xff,%s" % (u, i, r)]
    for j, line in enumerate(lines[1:]):
        user, item, rest = line.split(b",", 2)
        if j % 2999 == 2998:
            out.append(bad[(j // 2999) % len(bad)](user, item, rest))
        elif j % 13 == 0:
            out.append(b'%s,"%s\nsecond line",%s' % (user, item, rest))
        else:
            out.append(line)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(subprocess.run(["zstd", "-q", "-3", "-c"], input=b"\n".join(out) + b"\n", check=True,
                               capture_output=True).stdout)


def generate_data(data: str) -> None:
    """Writes the logs into `data` once; concurrent callers wait on a lock, and the folder
    appears by an atomic rename only when complete."""
    if os.path.exists(os.path.join(data, "ok")):
        return
    os.makedirs(os.path.dirname(data) or ".", exist_ok=True)
    with open(data + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(os.path.join(data, "ok")):
            _generate_data(data)


def _generate_data(data: str) -> None:
    tmp = tempfile.mkdtemp(prefix=".gen-", dir=os.path.dirname(data) or ".")
    os.mkdir(os.path.join(tmp, "logs"))
    for name, rows, seed, start in LOGS:
        gen = subprocess.run([sys.executable, GEN, "--rows", str(rows), "--items", "3000", "--users", "400",
                              "--days", "1", "--start", str(start), "--seed", str(seed), "--out", "-"],
                             check=True, capture_output=True).stdout
        subprocess.run(["zstd", "-q", "-3", "-o", os.path.join(tmp, "logs", name)], input=gen, check=True)
        if name == "day1.csv.zst":
            # The same day as a headerless tab-separated plain file, for column numbers.
            body = gen.split(b"\n", 1)[1].replace(b",", b"\t")
            with open(os.path.join(tmp, "day1.tsv"), "wb") as f:
                f.write(body)
    write_quoted_big(os.path.join(tmp, "quoted", "quoted-big.csv.zst"))
    write_big_bad(os.path.join(tmp, "bigbad", "big-bad.csv.zst"))
    os.mkdir(os.path.join(tmp, "messy"))
    with open(os.path.join(tmp, "messy", "messy.csv"), "wb") as f:
        f.write(MESSY)
    os.mkdir(os.path.join(tmp, "edge"))
    with open(os.path.join(tmp, "edge", "unicode.csv"), "wb") as f:
        f.write(UNICODE)
    with open(os.path.join(tmp, "edge", "where-bad.csv"), "wb") as f:
        f.write(WHERE_BAD)
    with open(os.path.join(tmp, "edge", "reordered.csv"), "wb") as f:
        f.write(REORDERED)
    os.mkdir(os.path.join(tmp, "ragged"))
    with open(os.path.join(tmp, "ragged", "ragged.csv"), "wb") as f:
        f.write(RAGGED)
    os.mkdir(os.path.join(tmp, "quote"))
    with open(os.path.join(tmp, "quote", "quote-error.csv"), "wb") as f:
        f.write(QUOTE_ERROR)
    open(os.path.join(tmp, "ok"), "w").close()
    try:
        os.rename(tmp, data)
    except OSError:
        shutil.rmtree(tmp)   # another process won
        if not os.path.exists(os.path.join(data, "ok")):
            raise


# ---------------------------------------------------------------------------------------------
# Target tables, seeded. Ids are drawn from the generator's id space, so some are observed and
# some never are; a few ids that cannot occur are added.

def target_ids(role: str, rng, n: int):
    if role == "item":
        ids = [f"sku-{i:08x}" for i in rng.choice(3000, n, replace=False)]
        return ids + ["sku-not-in-logs", "zz-never"]
    ids = [f"u{u:07d}" for u in rng.choice(400, n, replace=False)]
    return ids + ["u-not-in-logs"]


def write_target(path: str, key: list, column: str, kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    if key == ["user", "item"]:
        pairs = {(f"u{u:07d}", f"sku-{i:08x}") for u, i in zip(rng.integers(0, 400, 3000), rng.zipf(1.15, 3000) % 3000)}
        pairs = sorted(pairs) + [("u-not-in-logs", "sku-00000000")]
        cols = {"user_id": [p[0] for p in pairs], "item_id": [p[1] for p in pairs]}
        n = len(pairs)
    else:
        ids = target_ids(key[0], rng, 1500 if key == ["item"] else 250)
        cols = {f"{key[0]}_id": ids}
        n = len(ids)
    if kind == "mse":
        vals = np.round(rng.uniform(0, 200, n), 3)
    elif kind == "poisson_nll":
        vals = rng.normal(2.0, 1.5, n)
    else:
        vals = rng.normal(0.0, 2.0, n)
    cols[column] = vals.tolist()
    if path.endswith(".parquet"):
        # The target column first and a column Tally must ignore: columns are found by name.
        table = {column: cols[column], **{c: v for c, v in cols.items() if c != column},
                 "note": [f"row {j}" for j in range(n)]}
        pq.write_table(pa.table(table), path, compression="zstd")
        return
    names = list(cols)
    text = ",".join(names) + "\n" + "".join(
        ",".join(repr(cols[c][j]) if c == column else cols[c][j] for c in names) + "\n" for j in range(n))
    if path.endswith(".zst"):
        subprocess.run(["zstd", "-q", "-o", path], input=text.encode(), check=True)
    else:
        with open(path, "w") as f:
            f.write(text)


# ---------------------------------------------------------------------------------------------
# Cases. Each is a function of (data folder) → list of steps; a step is (pipeline text, {extra
# files to write}). Steps run in order in one folder (for persistent vocabularies).

def pipeline(name, key, *, paths='["data/logs/*.csv.zst"]', columns=None, weight="column: weight",
             vocab=None, loss="kind: sum", where=None, bad_rows=None, header=None, out="out", output=None,
             count=None, gradients=None, per_event=False):
    """A pipeline file's text. `vocab`, `where`, `bad_rows`, `header` are YAML lines (no indent)."""
    cols = columns or {"user": "user_id", "item": "item_id", "event": "event", "weight": "weight"}
    lines = ["version: 1", f"name: {name}", f"description: generated cross-check {name}",
             "input:", f"  paths: {paths}"]
    lines += [f"  {x}" for x in header or []]
    lines += ["  columns:"] + [f"    {k}: {v}" for k, v in cols.items()]
    if where:
        lines += ["  where:"] + [f"    {x}" for x in where]
    if bad_rows:
        lines += ["  bad_rows:"] + [f"    {x}" for x in bad_rows]
    lines += ["vocabulary:"] + [f"  {x}" for x in (vocab or [f"{key[-1]}: {{}}"])]
    lines += ["count:", f"  key: [{', '.join(key)}]"]
    if weight:
        lines += ["  weight:"] + [f"    {x}" for x in weight.split("\n")]
    lines += [f"  {x}" for x in count or []]
    lines += ["loss:"] + [f"  {x}" for x in loss.split("\n")]
    if gradients or per_event:
        lines += ["gradients:"] + ([f"  parameters: [{', '.join(gradients)}]"] if gradients else [])
        lines += ["  per_event: true"] if per_event else []
    lines += ["output:", f"  dir: {out}"] + [f"  {x}" for x in output or []]
    return "\n".join(lines) + "\n"


def vocab_block(**roles):
    lines = []
    for role, opts in roles.items():
        lines.append(f"{role}:" + (" {}" if not opts else ""))
        lines += [f"  {k}: {v}" for k, v in opts.items()]
    return lines


TIMED = {"user": "user_id", "item": "item_id", "event": "event", "weight": "weight", "time": "timestamp"}
EVENTS = "events: {view: 1, click: 3, purchase: 10}\ndefault: 0.5"   # cart takes the default

CASES = {
    # [item]
    "item-sum": lambda: [(pipeline("item-sum", ["item"]), {})],
    "item-mse-parquet-target": lambda: [(pipeline(
        "item-mse-parquet-target", ["item"], loss="kind: mse\ntarget: target.parquet\ntarget_column: y"),
        {"target.parquet": (["item"], "y", "mse", 1)})],
    "item-poisson-csv-target-min-count": lambda: [(pipeline(
        "item-poisson-csv-target-min-count", ["item"], vocab=vocab_block(item={"min_count": 3}),
        loss="kind: poisson_nll\ntarget: target.csv\ntarget_column: lograte"),
        {"target.csv": (["item"], "lograte", "poisson_nll", 2)})],
    "item-multinomial-zst-target-max-size": lambda: [(pipeline(
        "item-multinomial-zst-target-max-size", ["item"], vocab=vocab_block(item={"max_size": 500, "oov": "bucket"}),
        loss="kind: multinomial_nll\ntarget: target.csv.zst\ntarget_column: logit"),
        {"target.csv.zst": (["item"], "logit", "multinomial_nll", 3)})],
    "item-kl-parquet-target-first-seen-drop": lambda: [(pipeline(
        "item-kl-parquet-target-first-seen-drop", ["item"],
        vocab=vocab_block(item={"order": "first_seen", "min_count": 2, "oov": "drop"}),
        loss="kind: kl\ntarget: target.parquet\ntarget_column: logit"),
        {"target.parquet": (["item"], "logit", "kl", 4)})],
    "item-events-where-tsv-no-header": lambda: [(pipeline(
        "item-events-where-tsv-no-header", ["item"], paths='["data/day1.tsv"]',
        header=["header: false", 'delimiter: "\\t"'],
        columns={"user": 0, "item": 1, "event": 2}, weight=EVENTS,
        where=["2: [click, cart, purchase, nothing]"], loss="kind: multinomial_nll"), {})],
    # [user]
    "user-sum-events": lambda: [(pipeline("user-sum-events", ["user"], weight=EVENTS), {})],
    "user-multinomial-max-size-drop": lambda: [(pipeline(
        "user-multinomial-max-size-drop", ["user"], vocab=vocab_block(user={"max_size": 200, "oov": "drop"}),
        loss="kind: multinomial_nll"), {})],
    "user-poisson-parquet-target-where": lambda: [(pipeline(
        "user-poisson-parquet-target-where", ["user"], where=["event: [cart, purchase]"],
        loss="kind: poisson_nll\ntarget: t.parquet\ntarget_column: lograte"),
        {"t.parquet": (["user"], "lograte", "poisson_nll", 5)})],
    "user-kl-first-seen": lambda: [(pipeline(
        "user-kl-first-seen", ["user"], vocab=vocab_block(user={"order": "first_seen"}), loss="kind: kl"), {})],
    # [user, item]
    "pair-sum": lambda: [(pipeline("pair-sum", ["user", "item"], vocab=vocab_block(user={}, item={})), {})],
    "pair-mse-csv-target": lambda: [(pipeline(
        "pair-mse-csv-target", ["user", "item"], vocab=vocab_block(user={}, item={"min_count": 4}),
        loss="kind: mse\ntarget: pairs.csv\ntarget_column: y"),
        {"pairs.csv": (["user", "item"], "y", "mse", 6)})],
    "pair-multinomial-parquet-target": lambda: [(pipeline(
        "pair-multinomial-parquet-target", ["user", "item"],
        vocab=vocab_block(user={"order": "first_seen"}, item={"min_count": 5, "oov": "bucket"}),
        loss="kind: multinomial_nll\ntarget: pairs.parquet\ntarget_column: logit"),
        {"pairs.parquet": (["user", "item"], "logit", "multinomial_nll", 7)})],
    "pair-kl-max-size-drop": lambda: [(pipeline(
        "pair-kl-max-size-drop", ["user", "item"], weight=EVENTS,
        vocab=vocab_block(user={"max_size": 300, "oov": "drop"}, item={"max_size": 300, "oov": "drop"}),
        loss="kind: kl"), {})],
    "pair-poisson-zst-target-where": lambda: [(pipeline(
        "pair-poisson-zst-target-where", ["user", "item"], where=["event: [view, cart]"],
        vocab=vocab_block(user={}, item={"min_count": 2}),
        loss="kind: poisson_nll\ntarget: pairs.csv.zst\ntarget_column: lograte"),
        {"pairs.csv.zst": (["user", "item"], "lograte", "poisson_nll", 8)})],
    # Awkward CSV and bad rows
    "messy-skip": lambda: [(pipeline(
        "messy-skip", ["item"], paths='["data/messy/*.csv", "data/logs/day3.csv.zst"]',
        bad_rows=["policy: skip", "max: 10"], loss="kind: multinomial_nll"), {})],
    "messy-quarantine-pairs": lambda: [(pipeline(
        "messy-quarantine-pairs", ["user", "item"], paths='["data/messy/messy.csv"]',
        vocab=vocab_block(user={}, item={}),
        bad_rows=["policy: quarantine"], loss="kind: kl"), {})],
    "quote-error-quarantine": lambda: [(pipeline(
        "quote-error-quarantine", ["item"], paths='["data/quote/quote-error.csv"]',
        bad_rows=["policy: quarantine", "max: 1"]), {})],
    # Quoted fields across zstd frames and batches, with one and four workers
    "quoted-multiframe-workers": lambda: [
        (pipeline("quoted-multiframe-workers", ["user", "item"], paths='["data/quoted/*.csv.zst"]',
                  vocab=vocab_block(user={}, item={"min_count": 2}), loss="kind: multinomial_nll", out="out1"),
         {}, ["--workers", "1"]),
        (pipeline("quoted-multiframe-workers", ["user", "item"], paths='["data/quoted/*.csv.zst"]',
                  vocab=vocab_block(user={}, item={"min_count": 2}), loss="kind: multinomial_nll", out="out4"),
         {}, ["--workers", "4"])],
    # Edge cases
    "unicode-ties-kl-zero-weight": lambda: [(pipeline(
        "unicode-ties-kl-zero-weight", ["item"], paths='["data/edge/unicode.csv"]', loss="kind: kl"), {})],
    "unicode-events-first-seen-csv-target": lambda: [(pipeline(
        "unicode-events-first-seen-csv-target", ["item"], paths='["data/edge/unicode.csv"]',
        weight="events: {view: 1, click: 3, purchase: 10}\ndefault: 2.5",
        vocab=vocab_block(item={"order": "first_seen"}),
        loss="kind: multinomial_nll\ntarget: target.csv\ntarget_column: logit"), {"target.csv": UNICODE_TARGET})],
    "where-on-columns-without-roles": lambda: [(pipeline(
        "where-on-columns-without-roles", ["item"], columns={"item": "item_id", "weight": "weight"},
        where=["event: [click, purchase]", "user_id: [" + ", ".join(f"u{u:07d}" for u in range(0, 400, 3)) + "]"],
        loss="kind: poisson_nll"), {})],
    "uncompressed-small-row-groups": lambda: [(pipeline(
        "uncompressed-small-row-groups", ["user", "item"], vocab=vocab_block(user={}, item={}),
        loss="kind: multinomial_nll", output=["compression: none", "row_group_rows: 1000"]), {})],
    "filter-before-validation": lambda: [(pipeline(
        "filter-before-validation", ["item"], paths='["data/edge/where-bad.csv"]', where=["event: [view]"],
        bad_rows=["policy: quarantine"]), {})],
    "everything-filtered-out": lambda: [(pipeline(
        "everything-filtered-out", ["item"], where=["event: [no-such-event]"],
        loss="kind: multinomial_nll\ntarget: target.parquet\ntarget_column: logit"),
        {"target.parquet": (["item"], "logit", "multinomial_nll", 9)})],
    # Bad rows in every batch, quarantined, with one and three workers
    "bad-rows-in-every-batch-workers": lambda: [
        (pipeline("bad-rows-in-every-batch-workers", ["user", "item"], paths='["data/bigbad/*.csv.zst"]',
                  vocab=vocab_block(user={}, item={}), bad_rows=["policy: quarantine"],
                  loss="kind: poisson_nll", out=f"out{w}"), {}, ["--workers", str(w)]) for w in (1, 3)],
    # Decay and smoothing (DESIGN §3), with their scalar gradients
    "item-decay-multinomial-parquet-target": lambda: [(pipeline(
        "item-decay-multinomial-parquet-target", ["item"], columns=TIMED,
        count=["decay: {half_life: 1d, reference: end}"], gradients=["decay"],
        loss="kind: multinomial_nll\ntarget: target.parquet\ntarget_column: logit"),
        {"target.parquet": (["item"], "logit", "multinomial_nll", 10)})],
    "user-decay-instant-poisson": lambda: [(pipeline(
        "user-decay-instant-poisson", ["user"], columns=TIMED, weight=EVENTS,
        count=['decay: {half_life: 12h, reference: "2024-11-23T00:00:00Z"}'], gradients=["decay"],
        loss="kind: poisson_nll"), {})],
    "pair-decay-sum": lambda: [(pipeline(
        "pair-decay-sum", ["user", "item"], columns=TIMED, vocab=vocab_block(user={}, item={}),
        count=["decay: {half_life: 90m}"], gradients=["decay"]), {})],
    "item-smoothing-kl": lambda: [(pipeline(
        "item-smoothing-kl", ["item"], vocab=vocab_block(item={"min_count": 3}),
        count=["smoothing: {temperature: 0.7}"], gradients=["temperature"], loss="kind: kl"), {})],
    "user-smoothing-decay-mse-csv-target": lambda: [(pipeline(
        "user-smoothing-decay-mse-csv-target", ["user"], columns=TIMED, vocab=vocab_block(user={"oov": "drop"}),
        count=["decay: {half_life: 2d}", "smoothing: {temperature: 2.5}"], gradients=["decay", "temperature"],
        loss="kind: mse\ntarget: t.csv\ntarget_column: y"), {"t.csv": (["user"], "y", "mse", 11)})],
    # Per-row gradients (a second pass), in input order
    "item-per-event-multinomial-target": lambda: [(pipeline(
        "item-per-event-multinomial-target", ["item"], per_event=True,
        loss="kind: multinomial_nll\ntarget: target.parquet\ntarget_column: logit"),
        {"target.parquet": (["item"], "logit", "multinomial_nll", 15)})],
    "pair-per-event-decay-bucket": lambda: [(pipeline(
        "pair-per-event-decay-bucket", ["user", "item"], columns=TIMED, per_event=True,
        vocab=vocab_block(user={}, item={"min_count": 3}), count=["decay: {half_life: 6h}"], gradients=["decay"],
        loss="kind: poisson_nll"), {})],
    "user-per-event-smoothing-mse": lambda: [(pipeline(
        "user-per-event-smoothing-mse", ["user"], per_event=True, weight=EVENTS,
        count=["smoothing: {temperature: 1.5}"], gradients=["temperature"],
        loss="kind: mse\ntarget: t.parquet\ntarget_column: y"), {"t.parquet": (["user"], "y", "mse", 16)})],
    "messy-per-event-skip": lambda: [(pipeline(
        "messy-per-event-skip", ["item"], paths='["data/messy/*.csv", "data/logs/day3.csv.zst"]', per_event=True,
        bad_rows=["policy: skip"], loss="kind: multinomial_nll"), {})],
    # Readers: headers in another order per file, ragged headerless records, quoted target ids
    "columns-reordered-across-files": lambda: [(pipeline(
        "columns-reordered-across-files", ["user", "item"], paths='["data/edge/reordered.csv", "data/logs/day3.csv.zst"]',
        vocab=vocab_block(user={}, item={}), loss="kind: multinomial_nll"), {})],
    "no-header-ragged-records": lambda: [(pipeline(
        "no-header-ragged-records", ["item"], paths='["data/ragged/*.csv"]', header=["header: false"],
        columns={"user": 0, "item": 1}, weight=None, bad_rows=["policy: quarantine"]), {})],
    "messy-quoted-target-ids": lambda: [(pipeline(
        "messy-quoted-target-ids", ["item"], paths='["data/messy/messy.csv"]', bad_rows=["policy: skip"],
        loss="kind: multinomial_nll\ntarget: target.csv\ntarget_column: logit"), {"target.csv": MESSY_TARGET})],
    # Vocabularies written by pyarrow, frozen and extended
    "frozen-vocabulary-from-pyarrow": lambda: [(pipeline(
        "frozen-vocabulary-from-pyarrow", ["user", "item"],
        vocab=vocab_block(user={"path": "v/users.parquet", "mode": "frozen", "oov": "drop"},
                          item={"path": "v/items.parquet", "mode": "frozen"}), loss="kind: poisson_nll"),
        {"v/users.parquet": ("vocabulary", "user", 250, False, 12),
         "v/items.parquet": ("vocabulary", "item", 1200, True, 13)})],
    "extend-vocabulary-from-pyarrow": lambda: [(pipeline(
        "extend-vocabulary-from-pyarrow", ["item"],
        vocab=vocab_block(item={"path": "v/items.parquet", "min_count": 4, "order": "first_seen"}),
        loss="kind: kl"), {"v/items.parquet": ("vocabulary", "item", 800, True, 14)})],
    # Persistent vocabularies
    "vocab-extend-twice": lambda: [
        (pipeline("vocab-extend-twice", ["item"], paths='["data/logs/day1.csv.zst"]', out="out1",
                  vocab=vocab_block(item={"path": "vocab/items.parquet", "mode": "extend", "min_count": 2})), {}),
        (pipeline("vocab-extend-twice", ["item"], paths='["data/logs/day2.csv.zst"]', out="out2",
                  vocab=vocab_block(item={"path": "vocab/items.parquet", "mode": "extend", "min_count": 2,
                                          "order": "first_seen"}),
                  loss="kind: multinomial_nll"), {})],
    "vocab-extend-then-frozen-pairs": lambda: [
        (pipeline("vocab-extend-then-frozen-pairs", ["user", "item"], paths='["data/logs/day1.csv.zst"]', out="out1",
                  vocab=vocab_block(user={"path": "vocab/users.parquet", "max_size": 150},
                                    item={"path": "vocab/items.parquet", "min_count": 3})), {}),
        (pipeline("vocab-extend-then-frozen-pairs", ["user", "item"], out="out2",
                  vocab=vocab_block(user={"path": "vocab/users.parquet", "mode": "frozen", "oov": "bucket"},
                                    item={"path": "vocab/items.parquet", "mode": "frozen"}),
                  loss="kind: poisson_nll"), {})],
}


def write_vocabulary(path: str, role: str, n: int, bucket: bool, seed: int) -> None:
    """A vocabulary file as a user would write it with pyarrow (dictionary pages, statistics)."""
    rng = np.random.default_rng(seed)
    ids = target_ids(role, rng, n)[:n]
    ids = ([None] if bucket else []) + ids
    pq.write_table(pa.table({"index": pa.array(range(len(ids)), pa.int32()), "id": pa.array(ids, pa.string()),
                             "count": pa.array([0] * len(ids), pa.int64())}), path, compression="zstd")


def run_case(name: str, tally: str, data: str, work: str, log) -> bool:
    folder = os.path.join(work, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    os.symlink(data, os.path.join(folder, "data"))
    ok = True
    for step, (text, extras, *tally_args) in enumerate(CASES[name]()):
        path = os.path.join(folder, f"step{step + 1}.yaml")
        with open(path, "w") as f:
            f.write(text)
        for fname, content in extras.items():
            if content[0] == "vocabulary":
                os.makedirs(os.path.dirname(os.path.join(folder, fname)), exist_ok=True)
                write_vocabulary(os.path.join(folder, fname), *content[1:])
            elif isinstance(content, bytes):
                with open(os.path.join(folder, fname), "wb") as f:
                    f.write(content)
            else:
                write_target(os.path.join(folder, fname), *content)
        spec = check_run.load_pipeline(path, {})
        before = []
        for role, vs in spec.vocab.items():
            if vs.path and vs.mode == "extend":
                if os.path.exists(vs.path):
                    copy = os.path.join(folder, f"before-step{step + 1}-{role}.parquet")
                    shutil.copyfile(vs.path, copy)
                    before += ["--vocab-before", f"{role}={copy}"]
                else:
                    before += ["--vocab-before", f"{role}=none"]
        res = subprocess.run([tally, "run", path] + (tally_args[0] if tally_args else []),
                             cwd=folder, capture_output=True, text=True)
        if res.returncode != 0:
            log(f"FAIL {name} step {step + 1}: tally exited {res.returncode}\n{res.stderr.strip()}\n"
                f"--- {path}\n{text}")
            return False
        code = check_run.main([path, spec.out_dir, "--quiet"] + before)
        if code != 0:
            log(f"FAIL {name} step {step + 1}: check_run exited {code} (pipeline {path})")
            ok = False
    if ok:
        log(f"ok   {name}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tally")
    ap.add_argument("--case", action="append", default=[])
    ap.add_argument("--data", default=os.path.join(ROOT, ".build", "e2e-data", DATA_VERSION))
    ap.add_argument("--work", help="folder for the cases (default: a temporary folder, removed on success)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    if args.list:
        print("\n".join(CASES))
        return 0
    if not args.tally:
        ap.error("--tally is required")
    unknown = [c for c in args.case if c not in CASES]
    if unknown:
        ap.error(f"unknown case(s) {unknown}; --list shows them")
    data = os.path.abspath(args.data)
    generate_data(data)
    work = os.path.abspath(args.work) if args.work else tempfile.mkdtemp(prefix="tally-crosscheck-")
    tally = os.path.abspath(args.tally)
    results = [run_case(c, tally, data, work, lambda s: print(s, flush=True)) for c in (args.case or CASES)]
    if all(results) and not args.keep and not args.work:
        shutil.rmtree(work)
    elif not all(results):
        print(f"work folder kept: {work}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
