"""Small logs and a pipeline for the tests of the scale-out examples (Spark, Slurm, Kubernetes):
pairs with decay and per-row gradients, so every step of a sharded run is exercised."""

import os
import random

PIPELINE = """\
version: 1
name: scale-out-example
input:
  paths: ["logs/*.csv"]
  columns: {user: user_id, item: item_id, time: timestamp, weight: weight}
  bad_rows: {policy: fail}
vocabulary:
  item: {order: frequency, min_count: 2}
count:
  key: [user, item]
  weight: {column: weight}
  decay: {half_life: 1d}
loss: {kind: poisson_nll}
gradients: {parameters: [decay], per_event: true}
output: {dir: out}
"""


def write_logs(folder, count=12, seed=5):
    """`count` daily logs of 50 to 400 rows in folder/logs, the same for the same seed."""
    generator = random.Random(seed)
    os.makedirs(os.path.join(folder, "logs"))
    for day in range(count):
        rows = ["user_id,item_id,event,timestamp,weight"]
        for i in range(generator.randint(50, 400)):
            rows.append(f"u{generator.randint(1, 60):04d},sku-{generator.randint(1, 90):05d},view,"
                        f"{1732000000 + day * 86400 + i * 37},{generator.randint(1, 9) / 4}")
        with open(os.path.join(folder, "logs", f"day-{day:02d}.csv"), "w") as file:
            file.write("\n".join(rows) + "\n")


def same_tables(expected, actual):
    """The names of the files that differ between two output folders (summary.json aside,
    whose timings always differ), or of those only in one."""
    names = set(os.listdir(expected)) | set(os.listdir(actual))
    differ = []
    for name in sorted(names - {"summary.json"}):
        paths = [os.path.join(folder, name) for folder in (expected, actual)]
        if not all(os.path.exists(path) for path in paths):
            differ.append(name)
            continue
        with open(paths[0], "rb") as first, open(paths[1], "rb") as second:
            if first.read() != second.read():
                differ.append(name)
    return differ
