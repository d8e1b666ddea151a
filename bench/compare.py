"""Tally against DuckDB and Polars on the same files, in the same run (BENCHMARKS.md protocol).

Builds the release binary, generates the synthetic log if missing, then runs every job for every
tool interleaved (A B C A B C …) after one warm-up round, and prints the medians of wall time
and of peak resident memory (from /usr/bin/time), with Tally's ratios to the peers and to the
`zstd -dc` floor. Then, for the flat-memory target, Tally's peak memory on logs of 1M and 10M
rows drawn from one fixed vocabulary. The tables are also written to bench/results.md.
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
TALLY = ROOT / ".build" / "release" / "tally"
PYTHON = ROOT / ".venv" / "bin" / "python"


def sh(*args, **kwargs):
    return subprocess.run(args, check=True, **kwargs)


def prepare(rows: int) -> dict:
    """The inputs: the synthetic log as one zstd frame and as pzstd frames, and MovieLens ratings."""
    DATA.mkdir(parents=True, exist_ok=True)
    csv = DATA / f"logs{rows}.csv"
    single, multi = DATA / f"logs{rows}.csv.zst", DATA / f"logs{rows}.pzstd.csv.zst"
    if not single.exists() or not multi.exists():
        if not csv.exists():
            print(f"generating {csv.name} ({rows} rows)…", file=sys.stderr)
            sh(sys.executable, str(ROOT / "tools" / "gen_interactions.py"), "--rows", str(rows), "--seed", "7",
               "--out", str(csv))
        sh("zstd", "-q", "-3", "-f", str(csv), "-o", str(single))
        sh("pzstd", "-q", "-p", "2", "-3", "-f", str(csv), "-o", str(multi))
        csv.unlink()
    synthetic = {"user": "user_id", "item": "item_id", "time": "timestamp", "weight": "weight"}
    return {
        f"{rows // 1_000_000}M rows, one frame": (single, synthetic),
        f"{rows // 1_000_000}M rows, pzstd frames": (multi, synthetic),
        "MovieLens ratings": (ROOT / "sample-data" / "movielens-small" / "ratings.csv.zst",
                              {"user": "userId", "item": "movieId", "time": "timestamp", "weight": "rating"}),
    }


def fixed_vocabulary_logs() -> dict:
    """Logs of 1M and 10M rows over the same 20k items and 20k users: their vocabularies are the
    same, so Tally's peak memory should not grow with the rows."""
    logs = {}
    for rows in (1_000_000, 10_000_000):
        path = DATA / f"fixed{rows}.csv.zst"
        if not path.exists():
            print(f"generating {path.name}…", file=sys.stderr)
            generate = subprocess.Popen([sys.executable, str(ROOT / "tools" / "gen_interactions.py"), "--rows", str(rows),
                                         "--seed", "7", "--items", "20000", "--users", "20000", "--out", "-"],
                                        stdout=subprocess.PIPE)
            sh("zstd", "-q", "-3", "-f", "-o", str(path), stdin=generate.stdout)
            if generate.wait() != 0:
                raise SystemExit("generating the fixed-vocabulary log failed")
        logs[rows] = path
    return logs


def measure(command: list, tool: str):
    """Wall seconds and peak resident MiB of one run; None when a peer cannot do the job (Polars
    does not read pzstd's skippable frames, for example). Tally failing stops the benchmark."""
    result = subprocess.run(["/usr/bin/time", "-f", "%e %M", *command], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        message = f"failed ({result.returncode}): {' '.join(map(str, command))}\n{result.stderr[-2000:]}"
        if tool == "Tally":
            raise SystemExit(message)
        print(message, file=sys.stderr)
        return None
    seconds, kilobytes = result.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kilobytes) / 1024


def commands(job: str, source: Path, columns: dict, out: Path, workers: int) -> dict:
    variables = [f"--var=input={source}", f"--var=out={out}/tally"] + [
        f"--var={role}_col={name}" for role, name in columns.items()]
    peer_args = [str(source), columns["user"], columns["item"], columns["time"], columns["weight"]]
    tools = {
        "Tally": [str(TALLY), "run", str(ROOT / "bench" / "pipelines" / f"{job}.yaml"), "--quiet",
                  f"--workers={workers}", *variables],
        "Polars": [str(PYTHON), str(ROOT / "bench" / "peers.py"), "polars", job, peer_args[0], str(out / "polars.parquet"),
                   *peer_args[1:]],
        "zstd -dc": ["sh", "-c", f"zstd -dcq '{source}' > /dev/null"],
    }
    if job != "b3":
        tools["DuckDB"] = [str(PYTHON), str(ROOT / "bench" / "peers.py"), "duckdb", job, peer_args[0],
                           str(out / "duckdb.parquet"), *peer_args[1:]]
    return tools


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5, help="paired runs after the warm-up (median reported)")
    parser.add_argument("--jobs", default="b1,b2,b3")
    parser.add_argument("--inputs", default="all", help="'all', or a comma-separated subset of: single, multi, movielens")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--no-build", action="store_true")
    a = parser.parse_args()

    if not a.no_build:
        sh("swift", "build", "-c", "release", "--product", "tally", cwd=ROOT, stdout=subprocess.DEVNULL)
    sh(str(ROOT / "scripts" / "setup"), "--python")
    inputs = prepare(a.rows)
    if a.inputs != "all":
        keep = {"single": "one frame", "multi": "pzstd", "movielens": "MovieLens"}
        inputs = {k: v for k, v in inputs.items() if any(keep[s] in k for s in a.inputs.split(","))}

    rows = []
    with tempfile.TemporaryDirectory(prefix="tally-bench-") as scratch:
        for name, (source, columns) in inputs.items():
            for job in a.jobs.split(","):
                tools = commands(job, source, columns, Path(scratch), a.workers)
                samples = {tool: [] for tool in tools}
                failed = set()
                for run in range(a.runs + 1):
                    for tool, command in tools.items():
                        if tool in failed:
                            continue
                        sample = measure(command, tool)
                        if sample is None:
                            failed.add(tool)
                        elif run > 0:
                            samples[tool].append(sample)
                medians = {tool: (statistics.median(s for s, _ in v), statistics.median(m for _, m in v))
                           for tool, v in samples.items() if tool not in failed}
                medians.update({tool: None for tool in failed})
                rows.append((name, job, medians))
                print(f"{name} {job}: " + ", ".join(f"{t} {v[0]:.2f} s {v[1]:.0f} MiB" for t, v in medians.items() if v),
                      file=sys.stderr)

    def cell(medians, tool):
        if tool in medians and medians[tool] is None:
            return "cannot read it"
        return f"{medians[tool][0]:.2f} s, {medians[tool][1]:.0f} MiB" if tool in medians else "—"

    def ratio(medians, tool):
        if tool not in medians or medians[tool] is None or medians[tool][0] == 0:
            return "—"
        return f"{medians['Tally'][0] / medians[tool][0]:.2f}×"

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
    lines = [
        f"Machine: {os.cpu_count()} cores ({cpu}), {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB; "
        f"Tally --workers {a.workers}; medians of {a.runs} paired runs after a warm-up.",
        "",
        "| input | job | Tally | DuckDB | Polars | zstd -dc | Tally / Polars | Tally / DuckDB | Tally / zstd -dc |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, job, m in rows:
        lines.append(f"| {name} | {job.upper()} | {cell(m, 'Tally')} | {cell(m, 'DuckDB')} | {cell(m, 'Polars')} | "
                     f"{m['zstd -dc'][0]:.2f} s | {ratio(m, 'Polars')} | {ratio(m, 'DuckDB')} | {ratio(m, 'zstd -dc')} |")
    columns = {"user": "user_id", "item": "item_id", "time": "timestamp", "weight": "weight"}
    flat = {}
    with tempfile.TemporaryDirectory(prefix="tally-bench-") as scratch:
        for rows_count, path in fixed_vocabulary_logs().items():
            for job in ("b1", "b3"):
                command = commands(job, path, columns, Path(scratch), a.workers)["Tally"]
                samples = [measure(command, "Tally") for _ in range(3)]
                flat[(job, rows_count)] = (statistics.median(s for s, _ in samples), statistics.median(m for _, m in samples))
    lines += [
        "",
        "Peak memory as rows grow over a fixed vocabulary (20k items, 20k users; medians of 3 runs):",
        "",
        "| job | 1M rows | 10M rows | growth |",
        "|---|---|---|---|",
    ]
    for job in ("b1", "b3"):
        small, large = flat[(job, 1_000_000)], flat[(job, 10_000_000)]
        lines.append(f"| {job.upper()} | {small[0]:.2f} s, {small[1]:.0f} MiB | {large[0]:.2f} s, {large[1]:.0f} MiB | "
                     f"{large[1] / small[1]:.2f}× |")
    table = "\n".join(lines) + "\n"
    (ROOT / "bench" / "results.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
