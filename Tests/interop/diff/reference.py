"""An independent NumPy reference for Tally's differentiable counter (DESIGN §3).

It reads the raw CSV rows itself (Python's csv module, zstd through pyarrow), builds the
vocabularies from the contract (DESIGN §4: frequency order, OOV bucket at index 0), and computes
every number Tally writes: values, d_value_d_<param>, the loss and ∂L/∂v, the target gradient,
summary.json's gradients, per-row gradients, embedding bags and the embedding-table gradient.
Nothing here is taken from Tally's Swift code; the formulas are DESIGN §3's.

Every double carries a *magnitude* next to its value: the sum of the absolute values of the
terms that made it (first-order propagated through the formulas). Two correct programs that add
the same terms in different orders may differ by a few ulps of that magnitude, not of the value,
so a comparison uses rtol · max(|value|, magnitude). Where nothing cancels the two are equal.

`python reference.py --self-check` proves the reference itself: closed forms against dense
one-hot / softmax / kernel-matrix versions, and every analytic gradient against central finite
differences.
"""
from __future__ import annotations

import csv
import datetime as _dt
import glob
import io
import math
import os
import re
import sys
from dataclasses import dataclass, field

import numpy as np

LN2 = math.log(2.0)
DAY = 86400.0

# ---------------------------------------------------------------------------------------------
# special functions


def digamma(x):
    """ψ(x) for x > 0, to ~1e-15: recurrence up to x ≥ 12, then the asymptotic series."""
    x = np.asarray(x, dtype=float).copy()
    out = np.zeros_like(x)
    small = x < 12.0
    while small.any():
        out[small] -= 1.0 / x[small]
        x[small] += 1.0
        small = x < 12.0
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132 - inv2 * 691 / 32760)))))
    return out + np.log(x) - 0.5 * inv - series


def lgamma(x):
    return np.array([math.lgamma(v) for v in np.ravel(x)], dtype=float).reshape(np.shape(x))


def logsumexp(x):
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return -math.inf
    m = float(np.max(x))
    return m + math.log(float(np.sum(np.exp(x - m))))


# ---------------------------------------------------------------------------------------------
# pipeline file


def substitute(node, variables):
    if isinstance(node, dict):
        return {k: substitute(v, variables) for k, v in node.items()}
    if isinstance(node, list):
        return [substitute(v, variables) for v in node]
    if isinstance(node, str):
        def repl(m):
            if m.group(1) not in variables:
                raise KeyError(f"unset variable {m.group(1)}")
            return variables[m.group(1)]
        return re.sub(r"\$\{([^}]*)\}", repl, node)
    return node


def load_pipeline(path, variables=None):
    import yaml
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    return substitute(doc, variables or {})


def duration_seconds(text):
    if isinstance(text, (int, float)):
        return float(text)
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([smhd])\s*", str(text))
    if not m:
        raise ValueError(f"bad duration {text!r}")
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def instant_seconds(text):
    if isinstance(text, (_dt.datetime, _dt.date)):
        value = text if isinstance(text, _dt.datetime) else _dt.datetime(text.year, text.month, text.day)
    else:
        s = str(text).strip().replace("Z", "+00:00")
        value = _dt.datetime.fromisoformat(s)
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.timestamp()


# ---------------------------------------------------------------------------------------------
# input rows


def read_bytes(path):
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"\x28\xb5\x2f\xfd":
        import pyarrow as pa
        with pa.input_stream(path, compression="zstd") as stream:
            return stream.read()
    with open(path, "rb") as f:
        return f.read()


def records(data, delimiter):
    """(line, fields) for each record, line = the physical line where the record starts."""
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    consumed = 0
    for fields in reader:
        start = consumed + 1
        consumed = reader.line_num
        if not fields:
            continue
        yield start, fields


@dataclass
class Rows:
    """Kept rows (after `where`), in input order, before the vocabulary."""
    file: list = field(default_factory=list)
    line: list = field(default_factory=list)
    item: list = field(default_factory=list)
    user: list = field(default_factory=list)
    time: list = field(default_factory=list)
    weight: list = field(default_factory=list)


def parse_time(text, fmt):
    if fmt == "unix_seconds":
        return float(text)
    if fmt == "unix_millis":
        return float(text) / 1000.0
    return instant_seconds(text)


def read_rows(pipeline, folder):
    inp = pipeline["input"]
    patterns = inp["paths"] if isinstance(inp["paths"], list) else [inp["paths"]]
    files = set()
    for p in patterns:
        files.update(os.path.normpath(x) for x in glob.glob(os.path.join(folder, p)))
    files = sorted(files, key=lambda p: p.encode())
    if not files:
        raise FileNotFoundError(f"no input matched {patterns}")
    header = inp.get("header", True)
    delimiter = inp.get("delimiter", ",")
    if delimiter == "\\t":
        delimiter = "\t"
    columns = inp["columns"]
    fmt = inp.get("time_format", "unix_seconds")
    where = inp.get("where") or {}
    weight_cfg = (pipeline.get("count") or {}).get("weight")
    rows = Rows()
    for path in files:
        rel = os.path.relpath(path, folder)
        it = records(read_bytes(path), delimiter)
        if header:
            _, names = next(it)
            pos = {n: i for i, n in enumerate(names)}
        else:
            pos = {str(i): i for i in range(10_000)}

        def col(name):
            return pos[str(name)]
        role_pos = {role: col(name) for role, name in columns.items()}
        where_pos = {col(c): set(map(str, vals)) for c, vals in where.items()}
        for line, fields in it:
            if any(fields[p] not in vals for p, vals in where_pos.items()):
                continue
            rows.file.append(rel)
            rows.line.append(line)
            rows.item.append(fields[role_pos["item"]])
            rows.user.append(fields[role_pos["user"]] if "user" in role_pos else None)
            rows.time.append(parse_time(fields[role_pos["time"]], fmt) if "time" in role_pos else math.nan)
            if weight_cfg is None:
                b = 1.0
            elif "column" in weight_cfg:
                b = float(fields[col(weight_cfg["column"])])
            else:
                ev = fields[role_pos["event"]]
                b = float(weight_cfg["events"].get(ev, weight_cfg.get("default", 1.0)))
            rows.weight.append(b)
    return rows


# ---------------------------------------------------------------------------------------------
# vocabularies


@dataclass
class Vocab:
    ids: list          # index → id (None for the OOV bucket)
    bucket: bool       # index 0 is the OOV bucket
    drop: bool         # rows with an OOV id leave the counts
    index: dict        # id → index (in-vocabulary ids only)


def build_vocab(values, settings):
    settings = settings or {}
    order = settings.get("order", "frequency")
    min_count = int(settings.get("min_count", 1))
    max_size = int(settings.get("max_size", 0))
    oov = settings.get("oov", "bucket")
    if settings.get("path") or settings.get("mode", "extend") != "extend":
        raise NotImplementedError("the reference builds vocabularies from scratch only")
    counts, first = {}, {}
    for n, v in enumerate(values):
        counts[v] = counts.get(v, 0) + 1
        first.setdefault(v, n)
    new = [v for v in counts if counts[v] >= min_count]
    if order == "frequency":
        new.sort(key=lambda v: (-counts[v], v.encode()))
    else:
        new.sort(key=lambda v: first[v])
    bucket = oov == "bucket"
    ids = [None] if bucket else []
    if max_size:
        new = sorted(new, key=lambda v: (-counts[v], v.encode()))[: max(0, max_size - len(ids))] \
            if order == "frequency" else [v for v in new if v in set(
                sorted(new, key=lambda v: (-counts[v], v.encode()))[: max(0, max_size - len(ids))])]
    ids += new
    return Vocab(ids=ids, bucket=bucket, drop=oov == "drop",
                 index={v: i for i, v in enumerate(ids) if v is not None})


# ---------------------------------------------------------------------------------------------
# events: the numeric input of the counter


@dataclass
class Events:
    file: list
    line: np.ndarray
    item: np.ndarray      # item index (int)
    user: np.ndarray      # user index (int), -1 when there is no user column
    time: np.ndarray      # seconds
    base: np.ndarray      # b_i
    item_vocab: Vocab
    user_vocab: Vocab | None
    end: float            # latest time among all kept rows (before OOV drops)


def make_events(pipeline, rows):
    vocab_cfg = pipeline.get("vocabulary") or {}
    count = pipeline.get("count") or {}
    key = count.get("key", ["item"])
    roles = set(k for k in key if k != "time")
    if count.get("embedding"):
        roles |= {"item", count["embedding"].get("group", "user")}
    roles |= set(vocab_cfg)
    item_vocab = build_vocab(rows.item, vocab_cfg.get("item")) if "item" in roles else None
    user_vocab = build_vocab(rows.user, vocab_cfg.get("user")) if "user" in roles else None
    keep, item_idx, user_idx = [], [], []
    for n in range(len(rows.item)):
        ok = True
        idx = {}
        for role, vocab, values in (("item", item_vocab, rows.item), ("user", user_vocab, rows.user)):
            if vocab is None:
                idx[role] = -1
                continue
            i = vocab.index.get(values[n])
            if i is None:
                if vocab.drop:
                    ok = False
                elif vocab.bucket:
                    i = 0
                else:
                    raise ValueError(f"out-of-vocabulary id {values[n]!r} under oov: fail")
            idx[role] = i
        if ok:
            keep.append(n)
            item_idx.append(idx["item"])
            user_idx.append(idx["user"])
    times = np.array(rows.time, dtype=float)
    end = float(np.max(times)) if len(times) and not np.all(np.isnan(times)) else math.nan
    keep = np.array(keep, dtype=int)
    return Events(file=[rows.file[i] for i in keep], line=np.array(rows.line, dtype=np.int64)[keep],
                  item=np.array(item_idx, dtype=np.int64), user=np.array(user_idx, dtype=np.int64),
                  time=times[keep], base=np.array(rows.weight, dtype=float)[keep],
                  item_vocab=item_vocab, user_vocab=user_vocab, end=end)


# ---------------------------------------------------------------------------------------------
# the counter


@dataclass
class Config:
    key: list
    decay_lambda: float | None = None       # 1/day
    reference: float | None = None         # seconds; None = end
    temperature: float | None = None
    bins: dict | None = None                # width, origin (seconds), kernel, bandwidth
    embedding: dict | None = None           # group, dim, table (item_id → vector)
    loss: str = "sum"
    target: dict | None = None              # id tuple → value (or → vector for embedding mse)
    parameters: list = field(default_factory=list)


def make_config(pipeline, folder):
    count = pipeline.get("count") or {}
    cfg = Config(key=list(count.get("key", ["item"])))
    if count.get("decay"):
        d = count["decay"]
        cfg.decay_lambda = LN2 * DAY / duration_seconds(d["half_life"])
        ref = d.get("reference", "end")
        cfg.reference = None if ref == "end" else instant_seconds(ref)
    if count.get("smoothing") is not None:
        cfg.temperature = float((count["smoothing"] or {}).get("temperature", 1.0))
    if count.get("time_bins"):
        b = count["time_bins"]
        cfg.bins = dict(width=duration_seconds(b["width"]),
                        origin=instant_seconds(b["origin"]) if "origin" in b else 0.0,
                        kernel=b.get("kernel", "hard"), bandwidth=float(b.get("bandwidth", 1.0)))
    loss = pipeline.get("loss") or {}
    cfg.loss = loss.get("kind", "sum")
    if count.get("embedding"):
        e = count["embedding"]
        table = None
        if e.get("table"):
            table = read_vectors(os.path.join(folder, e["table"]), "item_id", int(e["dim"]))
        cfg.embedding = dict(group=e.get("group", "user"), dim=int(e["dim"]), table=table)
        if loss.get("target"):
            cfg.target = read_vectors(os.path.join(folder, loss["target"]), f"{cfg.embedding['group']}_id",
                                      int(e["dim"]))
    elif loss.get("target"):
        cfg.target = read_target(os.path.join(folder, loss["target"]), cfg.key,
                                 loss.get("target_column", default_target_column(cfg.loss)))
    cfg.parameters = list((pipeline.get("gradients") or {}).get("parameters", []))
    return cfg


def default_target_column(kind):
    return {"poisson_nll": "log_rate", "mse": "target"}.get(kind, "logit")


def read_table(path):
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq
        return pq.read_table(path).to_pydict()
    text = read_bytes(path).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return {name: [r[i] for r in rows[1:]] for i, name in enumerate(rows[0])}


def read_vectors(path, id_column, dim):
    t = read_table(path)
    return {t[id_column][r]: np.array([float(t[f"e{d}"][r]) for d in range(dim)])
            for r in range(len(t[id_column]))}


def read_target(path, key, column):
    """id tuple → target; for [item, time] the tuple is (item_id, time_bin)."""
    t = read_table(path)
    roles = [r for r in ("user", "item") if r in key]
    out = {}
    for r in range(len(t[column])):
        ids = tuple(t[f"{role}_id"][r] for role in roles)
        if "time" in key:
            ids += (int(t["time_bin"][r]),)
        out[ids] = float(t[column][r])
    return out


class V:
    """Arrays of values with their magnitudes (Σ|terms|)."""
    __slots__ = ("v", "m")

    def __init__(self, v, m=None):
        self.v = np.asarray(v, dtype=float)
        self.m = np.abs(self.v) if m is None else np.asarray(m, dtype=float)


def segment(index, size, terms, mags=None):
    terms = np.asarray(terms, dtype=float)
    mags = np.abs(terms) if mags is None else mags
    return V(np.bincount(index, weights=terms, minlength=size) if len(index) else np.zeros(size),
             np.bincount(index, weights=mags, minlength=size) if len(index) else np.zeros(size))


def kernel_weights(x, kernel, h):
    """(rows, bins, κ, ∂κ/∂h, hard_bin): the normalised kernel weights of each row, flattened."""
    n = len(x)
    hard = np.floor(x).astype(np.int64)
    if kernel == "hard" or n == 0:
        r = np.arange(n)
        return r, hard, np.ones(n), np.zeros(n), hard
    reach = h if kernel in ("triangular", "epanechnikov") else 4.0 * h
    m = int(math.ceil(reach)) + 1
    offsets = np.arange(-m, m + 1)
    bins = hard[:, None] + offsets[None, :]
    u = (x[:, None] - (bins + 0.5)) / h
    if kernel == "triangular":
        inside = np.abs(u) < 1.0
        phi = np.where(inside, 1.0 - np.abs(u), 0.0)
        dphi = np.where(inside, np.abs(u) / h, 0.0)
    elif kernel == "epanechnikov":
        inside = np.abs(u) < 1.0
        phi = np.where(inside, 1.0 - u * u, 0.0)
        dphi = np.where(inside, 2.0 * u * u / h, 0.0)
    elif kernel == "gaussian":
        inside = np.abs(u) <= 4.0
        phi = np.where(inside, np.exp(-0.5 * u * u), 0.0)
        dphi = np.where(inside, u * u * phi / h, 0.0)
    else:
        raise ValueError(kernel)
    s = phi.sum(axis=1, keepdims=True)
    ds = dphi.sum(axis=1, keepdims=True)
    kappa = phi / s
    dkappa = (dphi - kappa * ds) / s
    r, c = np.nonzero(phi > 0)
    return r, bins[r, c], kappa[r, c], dkappa[r, c], hard


@dataclass
class Result:
    keys: list            # tuples of key indices of the output rows, sorted
    count: np.ndarray
    value: V
    d: dict               # param → V (∂value/∂param) per key
    loss: V
    grad: V | None        # ∂L/∂v per key (None with embedding)
    target_keys: list = None   # id tuples, sorted (null first)
    target_grad: V = None
    gradients: dict = None     # param → V (scalar)
    weight: np.ndarray = None  # w_i per event
    event_grad: V = None       # ∂L/∂b_i
    event_key: list = None     # per event, key index tuple (hard bin for time)
    bags: dict = None          # group → (bag V, G V)
    embedding_grad: dict = None  # item index → V
    missing_table: bool = False


def compute(ev: Events, cfg: Config, params=None, base=None, table=None):
    """Runs the counter, the loss and every gradient. `params`/`base`/`table` override the
    pipeline's λ, τ, h, the base weights and the embedding table (for finite differences)."""
    params = dict(params or {})
    lam = params.get("decay", cfg.decay_lambda or 0.0)
    tau = params.get("temperature", cfg.temperature)
    b = ev.base if base is None else base
    n = len(b)
    if cfg.decay_lambda is not None:
        ref = ev.end if cfg.reference is None else cfg.reference
        age = (ref - ev.time) / DAY
        fac = np.exp(-lam * age)
    else:
        age = np.zeros(n)
        fac = np.ones(n)
    w = b * fac
    dw = -age * w  # ∂w/∂λ
    derivs = [p for p in cfg.parameters]

    key = cfg.key
    res_kw = {}
    if cfg.bins is not None:
        h = params.get("bandwidth", cfg.bins["bandwidth"])
        x = (ev.time - cfg.bins["origin"]) / cfg.bins["width"]
        r, j, kap, dkap, hard = kernel_weights(x, cfg.bins["kernel"], h)
        pairs = sorted(set(zip(ev.item[r].tolist(), j.tolist())) | set(zip(ev.item.tolist(), hard.tolist())))
        pos = {p: i for i, p in enumerate(pairs)}
        kidx = np.array([pos[p] for p in zip(ev.item[r].tolist(), j.tolist())], dtype=np.int64)
        hidx = np.array([pos[p] for p in zip(ev.item.tolist(), hard.tolist())], dtype=np.int64)
        size = len(pairs)
        value = segment(kidx, size, w[r] * kap)
        d = {}
        if "decay" in derivs:
            d["decay"] = segment(kidx, size, dw[r] * kap)
        if "bandwidth" in derivs:
            d["bandwidth"] = segment(kidx, size, w[r] * dkap)
        cnt = np.bincount(hidx, minlength=size).astype(np.int64)
        keys = pairs
        event_key = [(int(a), int(c)) for a, c in zip(ev.item, hard)]
        spread = (r, kidx, kap)
    else:
        if key == ["item"]:
            idx, size = ev.item, len(ev.item_vocab.ids)
            keys = [(k,) for k in range(size)]
        elif key == ["user"]:
            idx, size = ev.user, len(ev.user_vocab.ids)
            keys = [(k,) for k in range(size)]
        else:
            nu, ni = len(ev.user_vocab.ids), len(ev.item_vocab.ids)
            pairs = sorted(set(zip(ev.user.tolist(), ev.item.tolist())))
            pos = {p: i for i, p in enumerate(pairs)}
            idx = np.array([pos[p] for p in zip(ev.user.tolist(), ev.item.tolist())], dtype=np.int64)
            size, keys = len(pairs), pairs
        idx = np.asarray(idx, dtype=np.int64)
        cnt = np.bincount(idx, minlength=size).astype(np.int64)
        value = segment(idx, size, w)
        d = {}
        if "decay" in derivs or tau is not None:
            d["decay"] = segment(idx, size, dw)
        event_key = [keys[i] for i in idx]
        spread = None
        if tau is not None:
            K = size
            rr = math.exp(-1.0 / tau)
            D = 1.0 + (K - 1) * rr
            a_, b_ = 1.0 / D, rr / D
            W = V(float(np.sum(w)), float(np.sum(np.abs(w))))
            dW = V(float(np.sum(dw)), float(np.sum(np.abs(dw))))
            hard_value = value
            value = V(b_ * W.v + (a_ - b_) * hard_value.v, b_ * W.m + abs(a_ - b_) * hard_value.m)
            dtau = V(rr * (W.v - K * hard_value.v) / (tau * tau * D * D),
                     rr * (W.m + K * hard_value.m) / (tau * tau * D * D))
            dl = d["decay"]
            d["decay"] = V(b_ * dW.v + (a_ - b_) * dl.v, b_ * dW.m + abs(a_ - b_) * dl.m)
            d["temperature"] = dtau
            res_kw["smooth"] = (a_, b_)
        if "decay" not in derivs:
            d.pop("decay", None)
    # rows: count > 0 or value ≠ 0
    present = np.nonzero((cnt > 0) | (value.v != 0))[0]

    def sub(x):
        return V(x.v[present], x.m[present])
    out_keys = [keys[i] for i in present]
    res = Result(keys=out_keys, count=cnt[present], value=sub(value),
                 d={p: sub(d[p]) for p in cfg.parameters if p in d}, loss=None, grad=None,
                 weight=w, event_key=event_key)

    if cfg.embedding is not None:
        return embedding_part(ev, cfg, res, w, dw, fac, table)

    # the loss over observed keys ∪ target keys
    id_keys = [ids_of(ev, cfg, k) for k in out_keys]
    target = cfg.target or {}
    observed = set(id_keys)
    extra = sorted((k for k in target if k not in observed), key=id_sort_key)
    vals = V(np.concatenate([res.value.v, np.zeros(len(extra))]),
             np.concatenate([res.value.m, np.zeros(len(extra))]))
    theta = np.array([target.get(k, 0.0) for k in id_keys + extra], dtype=float)
    counts_all = np.concatenate([res.count, np.zeros(len(extra), dtype=np.int64)])
    L, g, tg = loss_and_grads(cfg.loss, vals, theta, counts_all)
    nobs = len(out_keys)
    res.loss = L
    res.grad = V(g.v[:nobs], g.m[:nobs])
    if tg is not None:
        allk = id_keys + extra
        order = sorted(range(len(allk)), key=lambda i: id_sort_key(allk[i]))
        res.target_keys = [allk[i] for i in order]
        res.target_grad = V(tg.v[order], tg.m[order])
    # scalar parameters, forward mode: ∂L/∂θ = Σ_k g_k ∂v_k/∂θ
    res.gradients = {}
    for p in cfg.parameters:
        dv = res.d[p]
        nz = dv.v != 0  # 0·(−∞) = 0: a kl key with rows of weight 0 has v and ∂v/∂θ both 0
        with np.errstate(invalid="ignore"):
            terms = np.where(nz, res.grad.v * np.where(nz, dv.v, 1.0), 0.0)
            mags = np.where(nz, np.abs(res.grad.v) * dv.m + res.grad.m * np.abs(dv.v), 0.0)
        res.gradients[p] = V(float(np.sum(terms)), float(np.sum(mags)))
    # per-row gradients: ∂L/∂b_i
    gfull = np.zeros(len(value.v))
    gfull_m = np.zeros(len(value.v))
    gfull[present] = res.grad.v
    gfull_m[present] = res.grad.m
    if spread is not None:
        r, kidx, kap = spread
        with np.errstate(invalid="ignore"):
            eg = segment(r, n, kap * gfull[kidx], kap * (np.abs(gfull[kidx]) + gfull_m[kidx]))
        res.event_grad = V(fac * eg.v, fac * eg.m)
    elif "smooth" in res_kw:
        a_, b_ = res_kw["smooth"]
        sg = float(np.sum(gfull))
        sgm = float(np.sum(np.abs(gfull) + gfull_m))
        gi = gfull[idx]
        res.event_grad = V(fac * (b_ * sg + (a_ - b_) * gi), fac * (b_ * sgm + abs(a_ - b_) * (np.abs(gi) + gfull_m[idx])))
    else:
        res.event_grad = V(fac * gfull[idx], fac * (np.abs(gfull[idx]) + gfull_m[idx]))
    return res


def embedding_part(ev, cfg, res, w, dw, fac, table):
    emb = cfg.embedding
    dim = emb["dim"]
    group = ev.user if emb["group"] == "user" else ev.item
    gvocab = ev.user_vocab if emb["group"] == "user" else ev.item_vocab
    nitems = len(ev.item_vocab.ids)
    E = np.zeros((nitems, dim))
    known = np.zeros(nitems, dtype=bool)
    if table is not None:
        E, known = table, np.ones(nitems, dtype=bool)
    elif emb["table"] is not None:
        for k, i in ev.item_vocab.index.items():
            if k in emb["table"]:
                E[i] = emb["table"][k]
                known[i] = True
    res.missing_table = not bool(np.all(known[ev.item])) if len(ev.item) else False
    groups = sorted(set(group.tolist()))
    gpos = {g: n for n, g in enumerate(groups)}
    gi = np.array([gpos[g] for g in group.tolist()], dtype=np.int64)
    ng = len(groups)
    rowsE = E[ev.item]
    bag = np.zeros((ng, dim))
    bag_m = np.zeros((ng, dim))
    dbag = np.zeros((ng, dim))
    dbag_m = np.zeros((ng, dim))
    for c in range(dim):
        bag[:, c] = np.bincount(gi, weights=w * rowsE[:, c], minlength=ng)
        bag_m[:, c] = np.bincount(gi, weights=np.abs(w * rowsE[:, c]), minlength=ng)
        dbag[:, c] = np.bincount(gi, weights=dw * rowsE[:, c], minlength=ng)
        dbag_m[:, c] = np.bincount(gi, weights=np.abs(dw * rowsE[:, c]), minlength=ng)
    if cfg.loss == "sum":
        L = V(float(np.sum(bag)), float(np.sum(bag_m)))
        G, G_m = np.ones((ng, dim)), np.zeros((ng, dim))
    elif cfg.loss == "mse":
        target = cfg.target or {}
        y = np.array([target.get(gvocab.ids[g], np.zeros(dim)) for g in groups]).reshape(ng, dim)
        G = bag - y
        G_m = bag_m + np.abs(y)
        # groups only in the target have bag 0: they add ½‖y‖² (the loss is over both, like every loss)
        present = {gvocab.ids[g] for g in groups}
        extra = [np.asarray(v, dtype=float) for k, v in target.items() if k not in present]
        extra_l = float(sum(0.5 * np.sum(v * v) for v in extra))
        L = V(float(0.5 * np.sum(G * G)) + extra_l, float(np.sum(0.5 * G * G + np.abs(G) * bag_m)) + extra_l)
    else:
        raise ValueError(f"loss {cfg.loss} with embedding")
    res.loss = L
    res.bags = {g: (V(bag[n], bag_m[n]), V(G[n], G_m[n])) for n, g in enumerate(groups)}
    res.gradients = {}
    if "decay" in cfg.parameters:
        res.gradients["decay"] = V(float(np.sum(G * dbag)), float(np.sum(np.abs(G) * dbag_m + G_m * np.abs(dbag))))
    # ∂E[k] = Σ_i w_i G_{g(i)} over rows of item k
    touched = sorted(set(ev.item.tolist()))
    tpos = {k: n for n, k in enumerate(touched)}
    ti = np.array([tpos[k] for k in ev.item.tolist()], dtype=np.int64)
    Gi = G[gi]
    dE = np.zeros((len(touched), dim))
    dE_m = np.zeros((len(touched), dim))
    for c in range(dim):
        dE[:, c] = np.bincount(ti, weights=w * Gi[:, c], minlength=len(touched))
        dE_m[:, c] = np.bincount(ti, weights=np.abs(w) * (np.abs(Gi[:, c]) + G_m[gi, c]), minlength=len(touched))
    res.embedding_grad = {k: V(dE[n], dE_m[n]) for n, k in enumerate(touched)}
    res.event_grad = V(fac * np.sum(Gi * rowsE, axis=1), fac * np.sum((np.abs(Gi) + G_m[gi]) * np.abs(rowsE), axis=1))
    return res


def ids_of(ev, cfg, key):
    out = []
    for role, k in zip(cfg.key, key):
        if role == "item":
            out.append(ev.item_vocab.ids[k])
        elif role == "user":
            out.append(ev.user_vocab.ids[k])
        else:
            out.append(k)
    return tuple(out)


def id_sort_key(ids):
    return tuple((0, b"") if x is None else (1, x.encode()) if isinstance(x, str) else (1, x) for x in ids)


def loss_and_grads(kind, vals: V, theta, counts):
    """L, ∂L/∂v (per key), ∂L/∂θ (per key or None), over the given keys."""
    v, vm = vals.v, vals.m
    if kind == "sum":
        return V(float(np.sum(v)), float(np.sum(vm))), V(np.ones_like(v), np.zeros_like(v)), None
    if kind == "mse":
        r = v - theta
        L = V(float(0.5 * np.sum(r * r)), float(np.sum(0.5 * r * r + np.abs(r) * vm)))
        return L, V(r, vm + np.abs(theta)), None
    if kind == "poisson_nll":
        rate = np.exp(theta)
        lg = lgamma(v + 1.0)
        psi = digamma(v + 1.0)
        L = V(float(np.sum(rate - v * theta + lg)),
              float(np.sum(rate + np.abs(v * theta) + np.abs(lg) + np.abs(psi - theta) * vm)))
        tri = 1.0 / (v + 1.0) + 1.0 / (v + 1.0) ** 2
        g = V(-theta + psi, np.abs(theta) + np.abs(psi) + tri * vm)
        return L, g, V(rate - v, rate + vm)
    lse = logsumexp(theta)
    logq = theta - lse
    q = np.exp(logq)
    V_ = float(np.sum(v))
    Vm = float(np.sum(vm))
    if kind == "multinomial_nll":
        terms = np.where(v == 0, 0.0, -v * logq)
        L = V(float(np.sum(terms)), float(np.sum((np.abs(v) + vm) * (np.abs(logq) + np.abs(theta) + abs(lse)))))
        g = V(-logq, np.abs(theta) + abs(lse) + np.abs(logq))
        return L, g, V(V_ * q - v, Vm * q + vm + np.abs(v))
    if kind == "kl":
        p = v / V_
        with np.errstate(divide="ignore", invalid="ignore"):
            logp = np.where(v > 0, np.log(np.where(v > 0, p, 1.0)), -np.inf)
            terms = np.where(p == 0, 0.0, p * (logp - logq))
        Lv = float(np.sum(terms))
        finite_logp = np.where(np.isfinite(logp), np.abs(logp), 0.0)
        L = V(Lv, float(np.sum(p * (finite_logp + np.abs(logq) + np.abs(theta) + abs(lse) + 1.0))))
        with np.errstate(invalid="ignore"):
            gv = (logp - logq - Lv) / V_
        gv = np.where((v == 0) & (counts > 0), -np.inf, gv)
        gm = (finite_logp + np.abs(logq) + np.abs(theta) + abs(lse) + L.m + 1.0) / V_
        return L, V(gv, gm), V(q - p, q + p)
    raise ValueError(kind)


def run_reference(pipeline_path, variables=None):
    folder = os.path.dirname(os.path.abspath(pipeline_path))
    pipeline = load_pipeline(pipeline_path, variables)
    rows = read_rows(pipeline, folder)
    ev = make_events(pipeline, rows)
    cfg = make_config(pipeline, folder)
    return pipeline, ev, cfg, compute(ev, cfg)


# ---------------------------------------------------------------------------------------------
# self-check: the reference against dense versions and finite differences


def _events(rng, n, n_items, n_users, days=10.0):
    iv = Vocab(ids=[None] + [f"i{k}" for k in range(n_items)], bucket=True, drop=False, index={})
    iv.index = {x: k for k, x in enumerate(iv.ids) if x is not None}
    uv = Vocab(ids=[None] + [f"u{k}" for k in range(n_users)], bucket=True, drop=False, index={})
    uv.index = {x: k for k, x in enumerate(uv.ids) if x is not None}
    t = np.sort(rng.uniform(0, days * DAY, n)) + 1.7e9
    return Events(file=["f"] * n, line=np.arange(2, n + 2), item=rng.integers(1, n_items + 1, n),
                  user=rng.integers(1, n_users + 1, n), time=t, base=rng.uniform(0.1, 3.0, n),
                  item_vocab=iv, user_vocab=uv, end=float(t.max()))


def _fd(f, x, h, smooth=True):
    """Five-point central difference (truncation error O(h⁴)). For smooth scalar losses h is
    raised to 1e-4·max(1, |x|) so that round-off (ε·|f|/h) stays small; per-bin kernel values
    have kinks (support edges, truncation) and keep the small step."""
    if not smooth:
        return (f(x + h) - f(x - h)) / (2 * h)
    h = max(h, 1e-4 * max(1.0, abs(x)))
    return (f(x - 2 * h) - 8 * f(x - h) + 8 * f(x + h) - f(x + 2 * h)) / (12 * h)


def _close(a, b, tol, what, failures):
    a, b = np.asarray(a, float), np.asarray(b, float)
    err = np.max(np.abs(a - b) / np.maximum(1e-12, np.maximum(np.abs(a), np.abs(b)))) if a.size else 0.0
    ok = bool(err <= tol)
    print(f"  {'ok ' if ok else 'BAD'} {what}: max rel err {err:.2e}")
    if not ok:
        failures.append(what)


def self_check():
    rng = np.random.default_rng(3)
    failures = []
    ev = _events(rng, 300, 12, 7)
    n = len(ev.base)
    print("dense equivalents")
    # hard counts = one_hot(...).sum(0)
    K = len(ev.item_vocab.ids)
    onehot = np.eye(K)[ev.item]
    cfg = Config(key=["item"], decay_lambda=0.2, parameters=["decay"])
    res = compute(ev, cfg)
    w = res.weight
    dense = (onehot * w[:, None]).sum(0)
    _close(res.value.v, dense[[k[0] for k in res.keys]], 1e-12, "weighted counts = (one_hot·w).sum(0)", failures)
    # smoothing = softmax(one_hot/τ)·w summed
    for tau in (0.3, 1.0, 7.0):
        cfg = Config(key=["item"], decay_lambda=0.2, temperature=tau, parameters=["decay", "temperature"])
        res = compute(ev, cfg)

        def dense_smooth(t):
            z = onehot / t
            s = np.exp(z - z.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            return (s * w[:, None]).sum(0)
        _close(res.value.v, dense_smooth(tau), 1e-12, f"smoothing τ={tau} = (softmax(one_hot/τ)·w).sum(0)", failures)
        _close(res.d["temperature"].v, _fd(dense_smooth, tau, 1e-5 * tau), 1e-6, f"∂ṽ/∂τ τ={tau} vs finite differences", failures)
        _close(res.value.v.sum(), w.sum(), 1e-12, f"Σ ṽ = W, τ={tau}", failures)
    # extreme temperatures stay finite
    for tau in (1e-3, 1e3):
        res = compute(ev, Config(key=["item"], temperature=tau, parameters=["temperature"], loss="multinomial_nll"))
        ok = all(np.all(np.isfinite(x)) for x in (res.value.v, res.d["temperature"].v, res.grad.v, res.event_grad.v))
        print(f"  {'ok ' if ok else 'BAD'} τ={tau}: finite values and gradients")
        if not ok:
            failures.append(f"finite at tau {tau}")
    # time bins against a dense kernel matrix; mass conservation
    for kernel, h in (("triangular", 0.8), ("epanechnikov", 1.7), ("gaussian", 0.6), ("gaussian", 0.13), ("triangular", 0.5001)):
        bins = dict(width=DAY / 2, origin=1.7e9 + 3 * DAY, kernel=kernel, bandwidth=h)
        cfg = Config(key=["item", "time"], decay_lambda=0.1, bins=bins, parameters=["decay", "bandwidth"])
        res = compute(ev, cfg)
        x = (ev.time - bins["origin"]) / bins["width"]
        lo, hi = int(np.floor(x.min())) - 40, int(np.floor(x.max())) + 40
        centres = np.arange(lo, hi) + 0.5

        def dense_bins(hh):
            u = (x[:, None] - centres[None, :]) / hh
            if kernel == "triangular":
                phi = np.maximum(0, 1 - np.abs(u))
            elif kernel == "epanechnikov":
                phi = np.maximum(0, 1 - u * u)
            else:
                phi = np.where(np.abs(u) <= 4, np.exp(-u * u / 2), 0)
            kap = phi / phi.sum(1, keepdims=True)
            out = np.zeros((K, len(centres)))
            np.add.at(out, ev.item, kap * res.weight[:, None])
            return out
        d0 = dense_bins(h)
        got = np.array([d0[k, j - lo] for k, j in res.keys])
        _close(res.value.v, got, 1e-12, f"{kernel} h={h}: values = dense kernel matrix", failures)
        ok = np.count_nonzero(d0) == np.count_nonzero(res.value.v)
        print(f"  {'ok ' if ok else 'BAD'} {kernel} h={h}: same touched bins as the dense matrix")
        if not ok:
            failures.append(f"{kernel} touched bins")
        fd = _fd(dense_bins, h, 1e-6, smooth=False)
        _close(res.d["bandwidth"].v, np.array([fd[k, j - lo] for k, j in res.keys]), 2e-5,
               f"{kernel} h={h}: ∂v/∂h vs finite differences", failures)
        per_item = np.bincount([k for k, _ in res.keys], weights=res.value.v, minlength=K)
        _close(per_item, np.bincount(ev.item, weights=res.weight, minlength=K), 1e-12,
               f"{kernel} h={h}: mass conservation per item", failures)
    print("scalar gradients against finite differences of L")
    cases = [
        (Config(key=["item"], decay_lambda=0.3, parameters=["decay"], loss=l), "decay", l) for l in
        ("sum", "mse", "poisson_nll", "multinomial_nll", "kl")] + [
        (Config(key=["user", "item"], decay_lambda=0.3, parameters=["decay"], loss="poisson_nll"), "decay", "pair poisson"),
        (Config(key=["item"], decay_lambda=0.3, temperature=0.7, parameters=["decay", "temperature"], loss="kl"), "temperature", "smooth kl"),
        (Config(key=["user"], decay_lambda=0.3, temperature=2.0, parameters=["decay", "temperature"], loss="multinomial_nll"), "decay", "smooth user multinomial"),
        (Config(key=["item", "time"], decay_lambda=0.3, bins=dict(width=DAY, origin=1.7e9, kernel="gaussian", bandwidth=0.9),
                parameters=["decay", "bandwidth"], loss="poisson_nll"), "bandwidth", "gaussian poisson"),
        (Config(key=["item", "time"], decay_lambda=0.3, bins=dict(width=DAY, origin=1.7e9, kernel="epanechnikov", bandwidth=1.3),
                parameters=["decay", "bandwidth"], loss="multinomial_nll"), "decay", "epanechnikov multinomial"),
    ]
    for cfg, param, name in cases:
        tgt_rng = np.random.default_rng(5)
        if cfg.loss in ("mse", "poisson_nll", "multinomial_nll", "kl"):
            base = compute(ev, cfg)
            cfg.target = {ids_of(ev, cfg, k): float(tgt_rng.normal()) for k in base.keys[::2]}
            if cfg.loss == "mse":
                cfg.target = {k: abs(x) * 20 for k, x in cfg.target.items()}
        res = compute(ev, cfg)
        for p in cfg.parameters:
            x0 = {"decay": cfg.decay_lambda, "temperature": cfg.temperature,
                  "bandwidth": (cfg.bins or {}).get("bandwidth")}[p]
            fd = _fd(lambda x: compute(ev, cfg, params={p: x}).loss.v, x0, 1e-6 * x0)
            _close(res.gradients[p].v, fd, 1e-6, f"{name}: ∂L/∂{p}", failures)
        # per-row gradients on a few rows
        rows = [0, n // 3, n - 1]

        def lb(i, x):
            bb = ev.base.copy()
            bb[i] = x
            return compute(ev, cfg, base=bb).loss.v
        fd = [_fd(lambda x: lb(i, x), ev.base[i], 1e-6) for i in rows]
        _close(res.event_grad.v[rows], fd, 1e-6, f"{name}: ∂L/∂b_i", failures)
        # ∂L/∂v and the target gradient, by perturbing v and θ directly in the loss
        keys = res.keys
        idk = [ids_of(ev, cfg, k) for k in keys]
        tgt = cfg.target or {}
        extra = [k for k in sorted(tgt, key=id_sort_key) if k not in set(idk)]
        vals = np.concatenate([res.value.v, np.zeros(len(extra))])
        theta = np.array([tgt.get(k, 0.0) for k in idk + extra])
        cnts = np.concatenate([res.count, np.zeros(len(extra), dtype=np.int64)])
        pick = [0, len(keys) // 2, len(keys) - 1]
        fdv = []
        for k in pick:
            def lv(x):
                vv = vals.copy()
                vv[k] = x
                return loss_and_grads(cfg.loss, V(vv), theta, cnts)[0].v
            fdv.append(_fd(lv, vals[k], 1e-6 * max(1.0, vals[k])))
        _close(res.grad.v[pick], fdv, 1e-6, f"{name}: ∂L/∂v", failures)
        if res.target_grad is not None:
            _, _, tg = loss_and_grads(cfg.loss, V(vals), theta, cnts)
            fdt = []
            for k in pick:
                def lt(x):
                    th = theta.copy()
                    th[k] = x
                    return loss_and_grads(cfg.loss, V(vals), th, cnts)[0].v
                fdt.append(_fd(lt, theta[k], 1e-6))
            _close(tg.v[pick], fdt, 1e-6, f"{name}: ∂L/∂θ", failures)
    print("embedding bags")
    dim = 4
    table = rng.normal(0, 0.5, (K, dim))
    for loss in ("sum", "mse"):
        for key in (["item"], ["user", "item"]):
            cfg = Config(key=key, decay_lambda=0.25, parameters=["decay"], loss=loss,
                         embedding=dict(group="user", dim=dim, table=None))
            if loss == "mse":
                cfg.target = {f"u{u}": rng.normal(0, 3, dim) for u in range(0, 7, 2)}
            res = compute(ev, cfg, table=table)
            # dense: one_hot(user)ᵀ · (w · E[item])
            nu = len(ev.user_vocab.ids)
            dense = np.eye(nu)[ev.user].T @ (res.weight[:, None] * table[ev.item])
            _close(np.array([res.bags[g][0].v for g in sorted(res.bags)]), dense[sorted(res.bags)], 1e-12,
                   f"{loss} {key}: bags = one_hot(user)ᵀ·(w·E[item])", failures)
            fd = _fd(lambda x: compute(ev, cfg, params={"decay": x}, table=table).loss.v, 0.25, 1e-7)
            _close(res.gradients["decay"].v, fd, 1e-6, f"{loss} {key}: ∂L/∂λ", failures)
            some = sorted(res.embedding_grad)[:3]
            got, fds = [], []
            for k in some:
                for c in (0, dim - 1):
                    def le(x):
                        t2 = table.copy()
                        t2[k, c] = x
                        return compute(ev, cfg, table=t2).loss.v
                    got.append(res.embedding_grad[k].v[c])
                    fds.append(_fd(le, table[k, c], 1e-6))
            _close(got, fds, 1e-6, f"{loss} {key}: ∂L/∂E", failures)
            rows = [0, n // 2, n - 1]

            def lb(i, x):
                bb = ev.base.copy()
                bb[i] = x
                return compute(ev, cfg, base=bb, table=table).loss.v
            _close(res.event_grad.v[rows], [_fd(lambda x: lb(i, x), ev.base[i], 1e-6) for i in rows], 1e-6,
                   f"{loss} {key}: ∂L/∂b_i", failures)
            if loss == "sum":
                counts = np.bincount(ev.item, weights=res.weight, minlength=K)
                _close(np.array([res.embedding_grad[k].v for k in sorted(res.embedding_grad)]),
                       np.repeat(counts[sorted(res.embedding_grad)][:, None], dim, axis=1), 1e-12,
                       f"{key}: ∂E = weighted counts for loss sum", failures)
    print("special functions")
    xs = np.array([1.0, 1.5, 2.0, 10.0, 123.4, 5000.0])
    _close(digamma(xs), [_fd(lambda x: math.lgamma(x), x, 1e-5 * x) for x in xs], 1e-8, "digamma = d lgamma", failures)
    _close(digamma(np.array([1.0])), [-0.5772156649015329], 1e-15, "ψ(1) = −γ", failures)
    _close(logsumexp(np.array([1000.0, 1001.0, 999.0])), 1001.4076059644443, 1e-15, "log-sum-exp", failures)
    if failures:
        print(f"{len(failures)} self-check failures: {failures}")
        return 1
    print("reference self-check passed")
    return 0


if __name__ == "__main__":
    if "--self-check" in sys.argv:
        sys.exit(self_check())
    print(__doc__)
