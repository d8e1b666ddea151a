"""Identities between Tally's own outputs for the cases gen_cases.py wrote (after `tally run`).

    identities.py FOLDER

- smoothing: Σ_k ṽ_k = W = Σ_i w_i (counts.parquet value vs event_grads.parquet weight);
- time bins: every item's values over its bins add up to its rows' weights (mass conservation);
- embedding sum: ∂E[k] = v_k·1 (embedding_grad.parquet vs counts.parquet, and vs a plain count run);
- decay with a half-life of 1e12 days equals no decay (values, grads, loss, per-row gradients);
- edge cases: no NaN anywhere, no infinity except the −∞ that `kl` gives a key with rows but v = 0.
Exit 0 when all hold.
"""
from __future__ import annotations

import json
import math
import os
import sys
from collections import defaultdict

import numpy as np
import pyarrow.parquet as pq

problems = []


def expect(ok, text):
    print(f"  {'ok ' if ok else 'BAD'} {text}")
    if not ok:
        problems.append(text)


def table(folder, case, name):
    path = os.path.join(folder, "out", case, name)
    return pq.read_table(path).to_pydict() if os.path.exists(path) else None


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        return math.inf
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300)))


def main(folder):
    with open(os.path.join(folder, "cases.json")) as f:
        cases = json.load(f)
    names = {c["name"] for c in cases}
    print("smoothing: Σ ṽ = W")
    for c in cases:
        n = c["name"]
        if "smooth" not in n:
            continue
        counts, events = table(folder, n, "counts.parquet"), table(folder, n, "event_grads.parquet")
        if counts is None or events is None:
            expect(False, f"{n}: outputs missing")
            continue
        total, w = math.fsum(counts["value"]), math.fsum(events["weight"])
        scale = math.fsum(abs(x) for x in events["weight"])
        expect(abs(total - w) <= 1e-12 * max(scale, 1.0), f"{n}: Σ ṽ = {total!r}, W = {w!r}")
    print("time bins: mass conservation per item")
    for c in cases:
        n = c["name"]
        if "bins" not in n and "origin" not in n and "bandwidth-bound" not in n and "gaussian" not in n:
            continue
        counts, events = table(folder, n, "counts.parquet"), table(folder, n, "event_grads.parquet")
        if counts is None or events is None:
            if counts is not None and events is None and n == "bins-gaussian-kl":
                continue  # no per_event there
            expect(False, f"{n}: outputs missing")
            continue
        by_item, by_rows = defaultdict(list), defaultdict(list)
        for i, v in zip(counts["item"], counts["value"]):
            by_item[i].append(v)
        for i, w in zip(events["item"], events["weight"]):
            by_rows[i].append(w)
        # relative to Σ|w| (weights may be negative and cancel)
        err = max((abs(math.fsum(by_item[i]) - math.fsum(by_rows[i])) / math.fsum(abs(w) for w in by_rows[i])
                   if any(by_rows[i]) else abs(math.fsum(by_item[i]))) for i in by_rows)
        expect(err <= 1e-12 and set(by_item) == set(by_rows), f"{n}: max relative difference per item {err:.1e}")
    print("embedding sum: ∂E = weighted counts")
    for n in ("emb-notable-sum", "emb-sum-item", "edge-zeros-emb"):
        if n not in names:
            continue
        grad, counts = table(folder, n, "embedding_grad.parquet"), table(folder, n, "counts.parquet")
        if grad is None or counts is None:
            expect(False, f"{n}: outputs missing")
            continue
        value = dict(zip(counts["item"], counts["value"]))
        cols = sorted((k for k in grad if k.startswith("g")), key=lambda k: int(k[1:]))
        err = max((rel([grad[c][r] for c in cols], [value.get(grad["item"][r], math.nan)] * len(cols))
                   for r in range(len(grad["item"]))), default=0.0)
        expect(err <= 1e-12 and len(grad["item"]) == sum(1 for x in counts["count"] if x > 0),
               f"{n}: ∂E[k] = v_k·1, max relative difference {err:.1e}")
    plain, notable = table(folder, "id-emb-notable-sum-items", "counts.parquet"), table(folder, "emb-notable-sum", "embedding_grad.parquet")
    if plain is not None and notable is not None:
        expect(plain["item"] == notable["item"] and rel(plain["value"], notable["g0"]) <= 1e-12,
               "emb-notable-sum ∂E equals the plain weighted count run")
    print("embedding init: bag_u = E[k(u)] for one row of weight 1, N(0, 1/d), a function of (seed, index) only")
    tables = {}
    for n in ("id-emb-init-a", "id-emb-init-b", "id-emb-init-c"):
        bags, counts = table(folder, n, "bags.parquet"), table(folder, n, "counts.parquet")
        if bags is None or counts is None:
            expect(False, f"{n}: outputs missing")
            continue
        item_of = dict(zip(counts["user"], counts["item"]))
        cols = sorted((k for k in bags if k.startswith("e")), key=lambda k: int(k[1:]))
        tables[n] = {item_of[u]: np.array([bags[c][r] for c in cols]) for r, u in enumerate(bags["user"])}
    if len(tables) == 3:
        a, b, c = tables["id-emb-init-a"], tables["id-emb-init-b"], tables["id-emb-init-c"]
        e = np.array([a[k] for k in sorted(a)])
        d = e.shape[1]
        mean, var = float(e.mean()), float(e.var())
        expect(abs(mean) < 5 * math.sqrt(1 / d / e.size), f"mean of the init {mean:.4f} is about 0 ({e.size} numbers)")
        expect(abs(var * d - 1) < 0.15, f"variance of the init × d = {var * d:.4f} is about 1")
        err = max(rel(a[k], b[k]) for k in a)
        expect(set(a) == set(b) and err < 1e-12, f"same seed, other rows: same vector per item index (max rel diff {err:.1e})")
        expect(all(rel(a[k], c[k]) > 1e-3 for k in a), "another seed gives another table")
        expect(len({tuple(v) for v in a.values()}) == len(a), "no two items share a vector")
        lag = float(np.corrcoef(e[:, :-1].ravel(), e[:, 1:].ravel())[0, 1])
        expect(abs(lag) < 0.1, f"neighbouring coordinates are uncorrelated (r = {lag:.3f})")
    partial = table(folder, "id-emb-init-partial", "bags.parquet")
    pcounts = table(folder, "id-emb-init-partial", "counts.parquet")
    if partial is None or pcounts is None or "id-emb-init-a" not in tables:
        expect(False, "id-emb-init-partial: outputs missing")
    else:
        import pyarrow.parquet as _pq
        ht = _pq.read_table(os.path.join(folder, "tables", "half-emb.parquet")).to_pydict()
        hv = {ht["item_id"][r]: np.array([ht[f"e{c}"][r] for c in range(8)]) for r in range(len(ht["item_id"]))}
        vocab = table(folder, "id-emb-init-partial", "vocab_item.parquet")
        item_id = dict(zip(vocab["index"], vocab["id"]))
        item_of = dict(zip(pcounts["user"], pcounts["item"]))
        from_table = from_init = 0
        bad = []
        for r, u in enumerate(partial["user"]):
            k = item_of[u]
            got = np.array([partial[f"e{c}"][r] for c in range(8)])
            want = hv.get(item_id[k])
            if want is None:
                want = tables["id-emb-init-a"][k]
                from_init += 1
            else:
                from_table += 1
            if not np.array_equal(got, want):
                bad.append(item_id[k])
        expect(not bad and from_table and from_init,
               f"partial table: {from_table} items from the table, {from_init} from the seeded init (by index)"
               + (f"; wrong for {bad[:5]}" if bad else ""))
    print("half-life → ∞ equals no decay")
    a, b = table(folder, "id-nodecay", "counts.parquet"), table(folder, "id-longdecay", "counts.parquet")
    ea, eb = table(folder, "id-nodecay", "event_grads.parquet"), table(folder, "id-longdecay", "event_grads.parquet")
    if a is None or b is None or ea is None or eb is None:
        expect(False, "id-nodecay / id-longdecay: outputs missing")
    else:
        expect(a["item"] == b["item"] and a["count"] == b["count"], "same keys and counts")
        for col in ("value", "grad"):
            expect(rel(a[col], b[col]) <= 1e-9, f"{col}: max relative difference {rel(a[col], b[col]):.1e}")
        expect(rel(ea["grad"], eb["grad"]) <= 1e-9, f"per-row grad: max relative difference {rel(ea['grad'], eb['grad']):.1e}")
        with open(os.path.join(folder, "out", "id-nodecay", "summary.json")) as f:
            la = json.load(f)["loss"]
        with open(os.path.join(folder, "out", "id-longdecay", "summary.json")) as f:
            lb = json.load(f)["loss"]
        expect(rel(la, lb) <= 1e-9, f"loss {la!r} vs {lb!r}")
    print("edge cases: finite everywhere (−∞ only for kl grads of keys with rows and v = 0)")
    for c in cases:
        n = c["name"]
        if c["group"] != "edge" and not n.startswith("kl-"):
            continue
        out = os.path.join(folder, "out", n)
        if not os.path.isdir(out):
            expect(False, f"{n}: no output")
            continue
        bad = []
        for fname in sorted(os.listdir(out)):
            if not fname.endswith(".parquet"):
                continue
            t = pq.read_table(os.path.join(out, fname)).to_pydict()
            for col, values in t.items():
                for r, x in enumerate(values):
                    if isinstance(x, float) and not math.isfinite(x):
                        allowed = x == -math.inf and col == "grad" and "kl" in n
                        if not allowed:
                            bad.append(f"{fname}.{col} row {r} = {x}")
        with open(os.path.join(out, "summary.json")) as f:
            s = json.load(f)
        for k, v in [("loss", s.get("loss"))] + list((s.get("gradients") or {}).items()):
            if not isinstance(v, (int, float)) or not math.isfinite(v):
                bad.append(f"summary.json {k} = {v!r}")
        expect(not bad, f"{n}: " + ("finite" if not bad else "; ".join(bad[:4])))
    print(f"{len(problems)} identities failed" if problems else "all identities hold")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
