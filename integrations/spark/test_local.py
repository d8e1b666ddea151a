"""The Spark driver in local[2] mode against `tally run` on one machine.

    python integrations/spark/test_local.py PATH/TO/tally

Twelve small logs in four shards, with decay and per-row gradients:
- one shard's task fails once (exit 74, as a lost disk would): Spark retries it and the output
  equals the one-machine run, byte for byte;
- a shard that hits bad input (exit 65) fails the job at once, without retries, and nothing is
  published.
Exits non-zero with a message on the first difference. Run by the Swift test suite (SparkTests).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from example_logs import PIPELINE, same_tables, write_logs  # noqa: E402

# Stands in for the binary: logs every call, and fails the first attempt of one shard.
FLAKY = """\
#!/bin/sh
echo "$*" >> {calls}
case "$*" in
  *"--shard {flaky} "*) if [ ! -e {marker} ]; then touch {marker}; echo "simulated lost disk" >&2; exit 74; fi ;;
esac
exec {tally} "$@"
"""


def fail(message):
    print(f"test_local.py: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def driver(folder, flaky, *arguments):
    environment = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    # local[2,3]: two task threads; a failed task is tried up to three times (local mode does
    # not retry at all unless the master says so).
    command = [sys.executable, os.path.join(HERE, "tally_spark.py"), "pipeline.yaml", "--tally", flaky,
               "--shards", "4", "--partials", "partials", "--workers", "1", "--master", "local[2,3]", *arguments]
    return subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True, timeout=600)


def calls_of(path, shard):
    with open(path) as file:
        return [line for line in file if f"--shard {shard} " in line]


def main():
    tally = os.path.abspath(sys.argv[1])
    folder = tempfile.mkdtemp(prefix="tally-spark-")
    try:
        write_logs(folder)
        with open(os.path.join(folder, "pipeline.yaml"), "w") as file:
            file.write(PIPELINE)
        single = subprocess.run([tally, "run", "pipeline.yaml", "--quiet"], cwd=folder, capture_output=True, text=True)
        if single.returncode != 0:
            fail(f"tally run: {single.stderr}")
        os.rename(os.path.join(folder, "out"), os.path.join(folder, "out-single"))

        flaky_shard = "2/4"
        calls, marker = os.path.join(folder, "calls.txt"), os.path.join(folder, "failed-once")
        flaky = os.path.join(folder, "tally")
        with open(flaky, "w") as file:
            file.write(FLAKY.format(calls=calls, flaky=flaky_shard, marker=marker, tally=tally))
        os.chmod(flaky, 0o755)

        # 1. A task fails once; Spark retries it; the output equals the one-machine run.
        result = driver(folder, flaky)
        if result.returncode != 0:
            fail(f"the Spark run failed (exit {result.returncode}):\n{result.stderr[-4000:]}")
        if len(calls_of(calls, flaky_shard)) != 3 or len(calls_of(calls, "1/4")) != 2:
            fail(f"expected shard {flaky_shard} to run twice in the map (one retry) and once in the gradient map; "
                 f"calls:\n{open(calls).read()}")
        if "event_grads.parquet" not in os.listdir(os.path.join(folder, "out")):
            fail("the Spark run wrote no event_grads.parquet")
        differ = same_tables(os.path.join(folder, "out-single"), os.path.join(folder, "out"))
        if differ:
            fail(f"these differ between tally run and the Spark run: {differ}")
        summaries = [json.load(open(os.path.join(folder, out, "summary.json"))) for out in ("out-single", "out")]
        if summaries[0]["loss"] != summaries[1]["loss"] or summaries[0]["rows"] != summaries[1]["rows"]:
            fail("summary.json: other loss or rows")

        # 2. Bad input in one shard: exit 65 at once, no retry, nothing published.
        shutil.rmtree(os.path.join(folder, "out"))
        shutil.rmtree(os.path.join(folder, "partials"))
        os.remove(calls)
        with open(os.path.join(folder, "logs", "day-07.csv"), "a") as file:
            file.write("u0001,sku-00001,view,not-a-time,1\n")
        plan = json.loads(subprocess.run([tally, "plan", "pipeline.yaml", "--shards", "4"], cwd=folder,
                                         capture_output=True, text=True, check=True).stdout)
        bad_shard = next(assignment["shard"] for assignment in plan["assignments"]
                         if "logs/day-07.csv" in assignment["paths"])
        result = driver(folder, flaky)
        if result.returncode != 65:
            fail(f"expected exit 65 for bad input, got {result.returncode}:\n{result.stderr[-4000:]}")
        if "day-07.csv" not in result.stderr or "not retried" not in result.stderr:
            fail(f"the driver did not name the bad file:\n{result.stderr[-4000:]}")
        for shard in (assignment["shard"] for assignment in plan["assignments"]):
            if len(calls_of(calls, shard)) != 1:
                fail(f"shard {shard} ran {len(calls_of(calls, shard))} times (bad input is in {bad_shard}, "
                     f"which must not be retried):\n{open(calls).read()}")
        if os.path.exists(os.path.join(folder, "out")):
            fail("a failed job published an output")
        print("test_local.py: ok (retried a failed task; byte-identical output; bad input failed once, nothing published)")
    finally:
        if "TALLY_KEEP_TEMP" not in os.environ:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
