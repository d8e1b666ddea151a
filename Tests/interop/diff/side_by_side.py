"""The side-by-side example of docs/differentiable-counting.md: Tally against JAX on 8 rows.

    side_by_side.py --tally PATH/TO/tally [--doc DOC | --write-doc DOC]

Writes an 8-row log and four pipelines into a temporary folder, runs `tally run` on each, and
computes the same numbers with JAX the way a PyTorch/JAX user would write them — dense one-hot
matrices, softmax(one_hot/τ), an embedding lookup and a dense kernel matrix, with jax.grad and
jax.jacfwd for every gradient. Every number must agree to 1e-9 (relative). It prints the
Markdown block that the documentation shows; --doc checks that DOC holds exactly that block
(between the side-by-side markers), --write-doc puts it there.
Needs JAX (`pip install -r Tests/interop/requirements.txt`).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

try:
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import gammaln
except ImportError:  # pragma: no cover - the message is the point
    sys.exit("side_by_side.py needs JAX: pip install -r Tests/interop/requirements.txt")

jax.config.update("jax_enable_x64", True)

BEGIN, END = "<!-- side-by-side:begin -->", "<!-- side-by-side:end -->"
ORIGIN = 1_767_225_600  # 2026-01-01T00:00:00Z
# user, item, hours after ORIGIN, weight
ROWS = [("u1", "a", 2, 1.0), ("u1", "b", 5, 2.0), ("u2", "a", 20, 1.5), ("u2", "c", 26, 0.5),
        ("u3", "a", 31, 3.0), ("u3", "b", 47, 1.0), ("u1", "d", 50, 2.5), ("u2", "a", 70, 1.0)]
ITEMS = {"a": 1, "b": 2, "c": 3, "d": 4}      # frequency order; index 0 is the OOV bucket
USERS = {"u1": 1, "u2": 2, "u3": 3}           # u1 and u2 have 3 rows, u3 2
K = 5
TABLE = {"a": [0.5, -1.0], "b": [2.0, 0.25], "c": [-0.75, 1.5], "d": [1.0, 1.0]}
BAG_TARGET = {"u1": [3.0, -1.0], "u2": [1.0, 2.0]}
LOGITS = {"a": 1.0, "b": -0.5}

item = jnp.array([ITEMS[r[1]] for r in ROWS])
user = jnp.array([USERS[r[0]] for r in ROWS])
hours = np.array([r[2] for r in ROWS], dtype=float)
base = jnp.array([r[3] for r in ROWS])
age = jnp.array((hours.max() - hours) / 24.0)  # days before the latest row (reference: end)
LAM = float(np.log(2.0))                         # half-life 1 day


def fmt(x):
    return f"{x:.10g}"


def write_inputs(folder):
    with open(os.path.join(folder, "log.csv"), "w") as f:
        f.write("user_id,item_id,timestamp,weight\n")
        for u, i, h, w in ROWS:
            f.write(f"{u},{i},{ORIGIN + 3600 * h},{w}\n")
    pq.write_table(pa.table({"item_id": list(TABLE), "e0": [v[0] for v in TABLE.values()],
                             "e1": [v[1] for v in TABLE.values()]}), os.path.join(folder, "emb.parquet"), compression="zstd")
    pq.write_table(pa.table({"user_id": list(BAG_TARGET), "e0": [v[0] for v in BAG_TARGET.values()],
                             "e1": [v[1] for v in BAG_TARGET.values()]}), os.path.join(folder, "bag_target.parquet"), compression="zstd")
    pq.write_table(pa.table({"item_id": list(LOGITS), "logit": list(LOGITS.values())}),
                   os.path.join(folder, "logits.parquet"), compression="zstd")
    head = ("version: 1\nname: {name}\ninput:\n  paths: [log.csv]\n"
            "  columns: {{user: user_id, item: item_id, time: timestamp, weight: weight}}\n")
    pipelines = {
        "hard": """count:
  key: [item]
  weight: {column: weight}
  decay: {half_life: 1d}
loss: {kind: multinomial_nll, target: logits.parquet}
gradients: {parameters: [decay], per_event: true}
""",
        "smooth": """count:
  key: [item]
  weight: {column: weight}
  decay: {half_life: 1d}
  smoothing: {temperature: 0.5}
loss: {kind: kl, target: logits.parquet}
gradients: {parameters: [decay, temperature], per_event: true}
""",
        "bins": """count:
  key: [item, time]
  weight: {column: weight}
  time_bins: {width: 1d, origin: "2026-01-01T00:00:00Z", kernel: triangular, bandwidth: 0.75}
loss: {kind: poisson_nll}
gradients: {parameters: [bandwidth], per_event: true}
""",
        "bags": """count:
  key: [item]
  weight: {column: weight}
  decay: {half_life: 1d}
  embedding: {group: user, dim: 2, table: emb.parquet, seed: 1}
loss: {kind: mse, target: bag_target.parquet}
gradients: {parameters: [decay], per_event: true, embedding_table: true}
""",
    }
    for name, body in pipelines.items():
        with open(os.path.join(folder, f"{name}.yaml"), "w") as f:
            f.write(head.format(name=name) + body + f"output: {{dir: out/{name}}}\n")
    return pipelines


def run_tally(tally, folder, name):
    p = subprocess.run([tally, "run", os.path.join(folder, f"{name}.yaml"), "--quiet"], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"tally run {name} failed ({p.returncode}):\n{p.stderr}")
    out = os.path.join(folder, "out", name)
    tables = {f[:-8]: pq.read_table(os.path.join(out, f)).to_pydict() for f in os.listdir(out) if f.endswith(".parquet")}
    with open(os.path.join(out, "summary.json")) as f:
        tables["summary"] = json.load(f)
    return tables


# ---- the JAX side: the seed recipes, dense, with autodiff


def weights(b, lam):
    return b * jnp.exp(-lam * age)


def hard(b, lam):
    """Recipe A: one_hot(item).sum(0), weighted and decayed."""
    return (jax.nn.one_hot(item, K) * weights(b, lam)[:, None]).sum(0)


def multinomial(v, keys):
    theta = jnp.array([LOGITS.get(k, 0.0) for k in keys])
    logq = theta - jax.scipy.special.logsumexp(theta)
    return -(v * logq).sum()


def smooth(b, lam, tau):
    """Recipe C: softmax(one_hot(item)/τ).sum(0), weighted and decayed."""
    return (jax.nn.softmax(jax.nn.one_hot(item, K) / tau, axis=1) * weights(b, lam)[:, None]).sum(0)


def kl(v, keys):
    theta = jnp.array([LOGITS.get(k, 0.0) for k in keys])
    logq = theta - jax.scipy.special.logsumexp(theta)
    p = v / v.sum()
    return (p * (jnp.log(p) - logq)).sum()


BINS = jnp.arange(-2, 6)  # bins of 1 day around the data (days 0..2)
x = jnp.array(hours / 24.0)


def binned(b, h):
    """A dense soft histogram: kernel matrix (rows × bins), normalised per row, summed per item."""
    u = (x[:, None] - (BINS[None, :] + 0.5)) / h
    phi = jnp.maximum(0.0, 1.0 - jnp.abs(u))
    kappa = phi / phi.sum(1, keepdims=True)
    return jax.nn.one_hot(item, K).T @ (kappa * b[:, None])   # K × bins


def poisson(v):
    return (1.0 - 0.0 * v + gammaln(v + 1.0)).sum()  # log-rate θ = 0 for every key


E0 = jnp.array([[0.0, 0.0]] + [TABLE[k] for k in "abcd"])


def bags(b, lam, E):
    """Recipe B: Embedding(item) · w, summed per user (segment_sum)."""
    return jax.ops.segment_sum(weights(b, lam)[:, None] * E[item], user, num_segments=4)


Y = jnp.array([[0.0, 0.0]] + [BAG_TARGET.get(u, [0.0, 0.0]) for u in ("u1", "u2", "u3")])


def bag_mse(bg):
    return 0.5 * ((bg[1:] - Y[1:]) ** 2).sum()


# ---- comparison and the Markdown block


def numpy(results):
    return [np.asarray(x) for x in results]


class Block:
    def __init__(self):
        self.lines = []
        self.failures = []
        self.count = 0

    def section(self, title, text):
        self.lines += [f"**{title}** {text}", "", "| quantity | Tally | JAX |", "|---|---|---|"]

    def row(self, name, tally, jax_value):
        tally, jax_value = float(tally), float(jax_value)
        ok = abs(tally - jax_value) <= 1e-9 * max(abs(tally), abs(jax_value)) + 1e-12
        if not ok:
            self.failures.append(f"{name}: Tally {tally!r}, JAX {jax_value!r}")
        self.lines.append(f"| {name} | {fmt(tally)} | {fmt(jax_value)} |")
        self.count += 1

    def end(self):
        self.lines.append("")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tally", required=True)
    ap.add_argument("--doc")
    ap.add_argument("--write-doc")
    a = ap.parse_args()
    blk = Block()
    with tempfile.TemporaryDirectory() as folder:
        write_inputs(folder)
        out = {name: run_tally(a.tally, folder, name) for name in ("hard", "smooth", "bins", "bags")}

    ids = [None, "a", "b", "c", "d"]
    # A: hard counts
    t = out["hard"]
    keys = ["a", "b", "c", "d"]
    obs = jnp.array([1, 2, 3, 4])

    @jax.jit  # one compiled program per example: op-by-op dispatch would compile hundreds
    def example(b, lam):
        loss = lambda b, lam: multinomial(hard(b, lam)[obs], keys)
        v = hard(b, lam)
        return (v, jax.jacfwd(hard, argnums=1)(b, lam), jax.grad(lambda vv: multinomial(vv[obs], keys))(v),
                loss(b, lam), jax.grad(loss, argnums=1)(b, lam), jax.grad(loss)(b, lam))
    v, dv, g, L, dlam, gb = numpy(example(base, LAM))
    blk.section("Hard counts", "— `(one_hot(item, K) * w[:, None]).sum(0)`, w = b·e^(−λ·age), "
                "half-life 1 day; `multinomial_nll` against logits a = 1, b = −0.5 (others 0).")
    for r, k in enumerate(t["counts"]["item"]):
        blk.row(f"v[{ids[k]}]", t["counts"]["value"][r], v[k])
    for r, k in enumerate(t["counts"]["item"]):
        blk.row(f"∂L/∂v[{ids[k]}]", t["counts"]["grad"][r], g[k])
    for r, k in enumerate(t["counts"]["item"]):
        blk.row(f"∂v[{ids[k]}]/∂λ", t["counts"]["d_value_d_decay"][r], dv[k])
    blk.row("L", t["summary"]["loss"], L)
    blk.row("∂L/∂λ", t["summary"]["gradients"]["decay"], dlam)
    for r in range(8):
        blk.row(f"∂L/∂b{r + 1}", t["event_grads"]["grad"][r], gb[r])
    blk.end()

    # C: smoothing
    t = out["smooth"]
    keys = [None, "a", "b", "c", "d"]
    tau = 0.5

    @jax.jit
    def example(b, lam, tt):
        loss = lambda b, lam, tt: kl(smooth(b, lam, tt), keys)
        v = smooth(b, lam, tt)
        return (v, jax.grad(lambda vv: kl(vv, keys))(v), jax.jacfwd(smooth, argnums=2)(b, lam, tt), loss(b, lam, tt),
                jax.grad(loss, argnums=1)(b, lam, tt), jax.grad(loss, argnums=2)(b, lam, tt), jax.grad(loss)(b, lam, tt))
    v, g, dtau, L, dlam, dt, gb = numpy(example(base, LAM, tau))
    blk.section("Smoothing", "— `(softmax(one_hot(item, K) / τ) * w[:, None]).sum(0)`, τ = 0.5, "
                "K = 5 (the OOV bucket included), decay as above; `kl` against the same logits.")
    for r, k in enumerate(t["counts"]["item"]):
        blk.row(f"ṽ[{ids[k] or 'OOV'}]", t["counts"]["value"][r], v[k])
    for r, k in enumerate(t["counts"]["item"]):
        blk.row(f"∂ṽ[{ids[k] or 'OOV'}]/∂τ", t["counts"]["d_value_d_temperature"][r], dtau[k])
    for r, k in enumerate(t["counts"]["item"]):
        blk.row(f"∂L/∂ṽ[{ids[k] or 'OOV'}]", t["counts"]["grad"][r], g[k])
    blk.row("L", t["summary"]["loss"], L)
    blk.row("∂L/∂λ", t["summary"]["gradients"]["decay"], dlam)
    blk.row("∂L/∂τ", t["summary"]["gradients"]["temperature"], dt)
    for r in range(8):
        blk.row(f"∂L/∂b{r + 1}", t["event_grads"]["grad"][r], gb[r])
    blk.end()

    # Time bins
    t = out["bins"]
    h = 0.75
    counts = t["counts"]
    sel = [(k, int(j) - int(BINS[0])) for k, j in zip(counts["item"], counts["time_bin"])]
    ki = jnp.array([s[0] for s in sel])
    ji = jnp.array([s[1] for s in sel])

    @jax.jit
    def example(b, hh, ki, ji):
        loss = lambda b, hh: poisson(binned(b, hh)[ki, ji])   # the keys Tally lists: value ≠ 0 or count > 0
        dense = binned(b, hh)
        return (dense, jax.jacfwd(binned, argnums=1)(b, hh), jax.grad(poisson)(dense[ki, ji]), loss(b, hh),
                jax.grad(loss, argnums=1)(b, hh))
    dense, dh, g, L, dhh = numpy(example(base, h, ki, ji))
    blk.section("Soft time bins", "— a dense kernel matrix: triangular kernel, bandwidth 0.75 bins of 1 day, "
                "each row normalised over the bins; `poisson_nll` with log-rate 0 (the 13 ∂L/∂v are checked too, not shown).")
    for r, (k, j) in enumerate(sel):
        blk.row(f"v[{ids[k]}, day {int(BINS[0]) + j}]", counts["value"][r], dense[k, j])
    for r, (k, j) in enumerate(sel):
        blk.row(f"∂v[{ids[k]}, day {int(BINS[0]) + j}]/∂h", counts["d_value_d_bandwidth"][r], dh[k, j])
    for r, (k, j) in enumerate(sel):
        ok = abs(counts["grad"][r] - float(g[r])) <= 1e-9 * abs(float(g[r])) + 1e-12
        if not ok:  # checked, not shown: the page is long enough
            blk.failures.append(f"∂L/∂v[{ids[k]}, day {int(BINS[0]) + j}]: Tally {counts['grad'][r]!r}, JAX {float(g[r])!r}")
    blk.row("L", t["summary"]["loss"], L)
    blk.row("∂L/∂h", t["summary"]["gradients"]["bandwidth"], dhh)
    blk.end()

    # B: embedding bags
    t = out["bags"]

    @jax.jit
    def example(b, lam, E):
        loss = lambda b, lam, E: bag_mse(bags(b, lam, E))
        bg = bags(b, lam, E)
        return (bg, jax.grad(bag_mse)(bg), jax.grad(loss, argnums=2)(b, lam, E), loss(b, lam, E),
                jax.grad(loss, argnums=1)(b, lam, E), jax.grad(loss)(b, lam, E))
    bg, G, dE, L, dlam, gb = numpy(example(base, LAM, E0))
    blk.section("Embedding bags", "— `segment_sum(w[:, None] * E[item], user)` (an `nn.Embedding` lookup "
                "summed per user), a 2-d table for a–d, decay as above; `mse` against bag targets for u1, u2.")
    uid = [None, "u1", "u2", "u3"]
    for r, u in enumerate(t["bags"]["user"]):
        for c in range(2):
            blk.row(f"bag[{uid[u]}][{c}]", t["bags"][f"e{c}"][r], bg[u, c])
    for r, u in enumerate(t["bags"]["user"]):
        for c in range(2):
            blk.row(f"∂L/∂bag[{uid[u]}][{c}]", t["bags"][f"g{c}"][r], G[u, c])
    for r, k in enumerate(t["embedding_grad"]["item"]):
        for c in range(2):
            blk.row(f"∂L/∂E[{ids[k]}][{c}]", t["embedding_grad"][f"g{c}"][r], dE[k, c])
    blk.row("L", t["summary"]["loss"], L)
    blk.row("∂L/∂λ", t["summary"]["gradients"]["decay"], dlam)
    for r in range(8):
        blk.row(f"∂L/∂b{r + 1}", t["event_grads"]["grad"][r], gb[r])
    blk.end()

    text = "\n".join(blk.lines)
    status = 0
    if blk.failures:
        print("Tally and JAX disagree:\n  " + "\n  ".join(blk.failures))
        status = 1
    if a.write_doc:
        doc = open(a.write_doc, encoding="utf-8").read()
        pre, _, rest = doc.partition(BEGIN)
        _, _, post = rest.partition(END)
        with open(a.write_doc, "w", encoding="utf-8") as f:
            f.write(pre + BEGIN + "\n" + text + "\n" + END + post)
    elif a.doc:
        doc = open(a.doc, encoding="utf-8").read()
        if BEGIN not in doc or END not in doc:
            print(f"{a.doc}: no {BEGIN} … {END} block")
            status = 1
        else:
            shown = doc.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n")
            if shown != text.strip("\n"):
                print(f"{a.doc}: the side-by-side block is out of date; run side_by_side.py --write-doc {a.doc}")
                for old, new in zip(shown.splitlines(), text.splitlines()):
                    if old != new:
                        print(f"  doc: {old}\n  now: {new}")
                        break
                status = 1
    else:
        print(text)
    if status == 0:
        print(f"Tally and JAX agree on {blk.count} numbers shown and {len(sel)} more checked")
    return status


if __name__ == "__main__":
    sys.exit(main())
