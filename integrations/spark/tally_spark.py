"""Run a Tally pipeline on Apache Spark: one task per shard, then the reduce.

    spark-submit integrations/spark/tally_spark.py \
        --tally /shared/bin/tally --shards 64 --partials /shared/partials/exp42 \
        /shared/pipelines/exp42.yaml [--var date=2024-11-19 ...]

Steps (see integrations/spark/README.md):

1. ``tally plan`` on the driver: how many shards, where the output goes, whether the pipeline
   wants per-row gradients.
2. The map: the binary is shipped to the executors with ``SparkContext.addFile`` and every
   shard runs as one task (``mapPartitions`` over ``range(shards)``), through ``subprocess``
   — not ``RDD.pipe``, which ignores exit codes and clears the environment.
   A task that fails for a reason that may pass (I/O error, lost node, signal) raises, so Spark
   retries it; retrying is harmless because partials are written atomically and a retried map
   skips the files whose partials are already there. A task that finds bad input, a missing
   input or an invalid pipeline (exit 65, 66, 78, 64) does not raise: the same input would
   fail the same way again, so the driver stops the job with that exit code and publishes
   nothing.
3. ``tally reduce`` on the driver folds the partials and publishes the output, byte for byte
   what ``tally run`` on one machine writes.
4. With ``gradients.per_event``, a second map (``--gradients-from OUTPUT``) and a second
   reduce add ``event_grads.parquet``.

The pipeline file, the inputs and the partials folder must be on storage every node sees at
the same path (NFS, a FUSE mount of an object store, a Databricks volume): each task reads its
files and writes its partials there, and the reduce reads them back.
"""

import argparse
import json
import os
import subprocess
import sys

#: Exit codes that say the input or the pipeline is wrong: the same task would fail again.
FINAL_EXIT_CODES = {64: "usage", 65: "bad input", 66: "no input", 78: "invalid pipeline"}


def tally_command(binary, subcommand, pipeline, variables, *extra):
    command = [binary, subcommand, pipeline]
    for assignment in variables:
        command += ["--var", assignment]
    return command + list(extra)


def run_shards(sc, binary_name, pipeline, variables, shards, partials, workers, gradients_from=None):
    """One Spark task per shard; returns [(shard, exit code, message)] for the shards that
    failed for good (bad input and the like). Failures that may pass raise in the task, so
    Spark retries them (up to spark.task.maxFailures)."""

    def run_partition(indices):
        from pyspark import SparkFiles, TaskContext

        binary = SparkFiles.get(binary_name)
        if not os.access(binary, os.X_OK):
            os.chmod(binary, 0o755)
        for index in indices:
            extra = ["--shard", f"{index}/{shards}", "--partials", partials, "--quiet", "--log-format", "json"]
            if workers:
                extra += ["--workers", str(workers)]
            if gradients_from:
                extra += ["--gradients-from", gradients_from]
            command = tally_command(binary, "run", pipeline, variables, *extra)
            result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            if result.returncode == 0:
                continue
            message = last_error(result.stderr) or f"exit {result.returncode}"
            if result.returncode in FINAL_EXIT_CODES:
                yield (index, result.returncode, message)
            else:
                attempt = TaskContext.get().attemptNumber()
                raise RuntimeError(f"tally shard {index}/{shards} (attempt {attempt + 1}) failed with exit "
                                   f"{result.returncode}: {message}")

    return (sc.parallelize(range(shards), shards)
            .mapPartitions(run_partition)
            .collect())


def last_error(stderr):
    """The message of tally's JSON `finish` event, else the last line it wrote."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "finish":
            return event.get("message")
    return lines[-1] if lines else ""


def run_local(binary, subcommand, pipeline, variables, *extra):
    """Runs tally on the driver; exits with its code when it fails."""
    result = subprocess.run(tally_command(binary, subcommand, pipeline, variables, *extra), stdin=subprocess.DEVNULL,
                            capture_output=True, text=True)
    if result.returncode != 0:
        print(f"tally {subcommand} failed (exit {result.returncode}):\n{result.stderr}", file=sys.stderr)
        sys.exit(result.returncode)
    return result.stdout


def stop_on_final_failures(failures, stage, published):
    """Reports the shards that failed for good and exits with the first one's code."""
    if not failures:
        return
    for index, code, message in sorted(failures):
        print(f"tally {stage}: shard {index} failed with exit {code} ({FINAL_EXIT_CODES[code]}), "
              f"not retried: {message}", file=sys.stderr)
    print(published, file=sys.stderr)
    sys.exit(sorted(failures)[0][1])


def run(sc, binary, pipeline, shards, partials, variables=(), workers=None, log=print):
    """The whole sharded run on the SparkContext `sc`; returns the plan (a dict). Exits the
    process with tally's exit code when a shard fails for good or the reduce fails."""
    binary, pipeline, partials = (os.path.abspath(path) for path in (binary, pipeline, partials))
    variables = list(variables)
    plan = json.loads(run_local(binary, "plan", pipeline, variables, "--shards", str(shards)))
    log(f"tally: {plan['files']} files, {plan['bytes']} bytes in {shards} shards")
    sc.addFile(binary)
    name = os.path.basename(binary)

    stop_on_final_failures(run_shards(sc, name, pipeline, variables, shards, partials, workers), "map",
                           "nothing was published")
    log(run_local(binary, "reduce", pipeline, variables, "--partials", partials, "--quiet"), end="")
    if plan["per_event_gradients"]:
        failures = run_shards(sc, name, pipeline, variables, shards, partials, workers, gradients_from=plan["output"])
        stop_on_final_failures(failures, "gradient map",
                               f"{plan['output']} holds the reduce without event_grads.parquet")
        run_local(binary, "reduce", pipeline, variables, "--partials", partials, "--quiet")
    log(f"tally: published {plan['output']}")
    return plan


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run a Tally pipeline on Spark, one task per shard.")
    parser.add_argument("pipeline", help="the pipeline file, on storage every node sees")
    parser.add_argument("--tally", required=True, help="the tally binary to ship (a --static-swift-stdlib build)")
    parser.add_argument("--shards", type=int, required=True, help="number of shards (Spark tasks)")
    parser.add_argument("--partials", required=True, help="the folder of partials, on storage every node sees")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="sets ${NAME} in the pipeline")
    parser.add_argument("--workers", type=int, help="worker queues per task (default: the executor's cores)")
    parser.add_argument("--master", help="the Spark master, when not given to spark-submit (e.g. local[2,3])")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(f"tally {os.path.basename(args.pipeline)}")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    try:
        run(spark.sparkContext, args.tally, args.pipeline, args.shards, args.partials, args.var, args.workers)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
