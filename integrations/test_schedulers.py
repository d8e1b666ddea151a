"""The Slurm and Kubernetes examples, run as their schedulers would run them, against `tally run`.

    python integrations/test_schedulers.py PATH/TO/tally

- Slurm: integrations/slurm/submit.sh with a stand-in `sbatch` on PATH that runs each script at
  once, once per array index with SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT set, the way
  the array and its `afterok` dependencies would; then failed indices resubmitted alone.
- Kubernetes: the container command of map-job.yaml once per completion index, with
  $(JOB_COMPLETION_INDEX) expanded as the Job controller does and /data mapped to a folder,
  then that of reduce-job.yaml; and the Job's settings a shard run relies on (Indexed,
  completions equal to the N of --shard, exit 65 failing the Job without retries).
Both outputs must equal the one-machine run, byte for byte. Run by the Swift test suite.
"""

import os
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from example_logs import PIPELINE, same_tables, write_logs  # noqa: E402

# Runs a batch script now instead of queueing it; prints a job id like `sbatch --parsable`.
FAKE_SBATCH = """\
#!/usr/bin/env python3
import os, subprocess, sys
arguments = sys.argv[1:]
indices = [None]
while arguments and arguments[0].startswith("--"):
    option = arguments.pop(0)
    if option.startswith("--array="):
        indices = []
        for part in option.split("=")[1].split(","):
            first, _, last = part.partition("-")
            indices += range(int(first), int(last or first) + 1)
for index in indices:
    environment = dict(os.environ, SLURM_CPUS_PER_TASK="1", SLURM_JOB_ID="1")
    if index is not None:
        environment.update(SLURM_ARRAY_TASK_ID=str(index), SLURM_ARRAY_TASK_COUNT=str(len(indices)))
    if subprocess.run(["bash"] + arguments, env=environment).returncode != 0:
        sys.exit(1)
print(abs(hash(tuple(sys.argv))) % 100000)
"""


def fail(message):
    print(f"test_schedulers.py: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def workspace(tally):
    """A folder with the logs, the pipeline, and the one-machine output in `expected`."""
    folder = tempfile.mkdtemp(prefix="tally-schedulers-")
    write_logs(folder, count=7, seed=11)
    with open(os.path.join(folder, "pipeline.yaml"), "w") as file:
        file.write(PIPELINE)
    subprocess.run([tally, "run", "pipeline.yaml", "--quiet"], cwd=folder, check=True)
    os.rename(os.path.join(folder, "out"), os.path.join(folder, "expected"))
    return folder


def check_slurm(tally):
    folder = workspace(tally)
    try:
        bin_folder = os.path.join(folder, "bin")
        os.makedirs(bin_folder)
        with open(os.path.join(bin_folder, "sbatch"), "w") as file:
            file.write(FAKE_SBATCH)
        os.chmod(os.path.join(bin_folder, "sbatch"), 0o755)
        environment = dict(os.environ, TALLY=tally, PATH=bin_folder + os.pathsep + os.environ["PATH"])
        result = subprocess.run(["bash", os.path.join(HERE, "slurm", "submit.sh"), "pipeline.yaml", "partials", "3"],
                                cwd=folder, env=environment, capture_output=True, text=True)
        if result.returncode != 0:
            fail(f"slurm/submit.sh failed:\n{result.stdout}\n{result.stderr}")
        differ = same_tables(os.path.join(folder, "expected"), os.path.join(folder, "out"))
        if differ:
            fail(f"slurm: these differ from the one-machine run: {differ}")
        # Shards "failed": their partials are gone, and they are resubmitted by index — 0 and 2
        # first (the reduce then misses shard 1's files), then 1.
        def submit_shards(indices):
            result = subprocess.run(["sbatch", "--parsable", f"--array={indices}", os.path.join(HERE, "slurm", "map.sbatch"),
                                     "pipeline.yaml", "partials", "3"], cwd=folder, env=environment, capture_output=True, text=True)
            if result.returncode != 0:
                fail(f"slurm: resubmitting shards {indices} of 3 failed:\n{result.stderr}")

        def reduce():
            return subprocess.run(["bash", os.path.join(HERE, "slurm", "reduce.sbatch"), "pipeline.yaml", "partials", "--quiet"],
                                  cwd=folder, env=environment, capture_output=True, text=True)

        shutil.rmtree(os.path.join(folder, "partials"))
        submit_shards("0,2")
        if reduce().returncode != 65:
            fail("slurm: the reduce did not notice that shard 1 of 3 had not run")
        submit_shards("1")
        result = reduce()
        if result.returncode != 0:
            fail(f"slurm: the reduce after resubmitting failed:\n{result.stderr}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def container_command(job, data, tally, index=None):
    """The Job's container command with /data at `data`, `tally` as the binary and the
    completion index expanded."""
    container = job["spec"]["template"]["spec"]["containers"][0]
    command = [tally] + container["args"]
    if index is not None:
        command = [part.replace("$(JOB_COMPLETION_INDEX)", str(index)) for part in command]
    return [part.replace("/data", data) for part in command]


def check_kubernetes(tally):
    folder = workspace(tally)
    try:
        with open(os.path.join(HERE, "kubernetes", "map-job.yaml")) as file:
            map_job = yaml.safe_load(file)
        with open(os.path.join(HERE, "kubernetes", "reduce-job.yaml")) as file:
            reduce_job = yaml.safe_load(file)
        spec = map_job["spec"]
        args = spec["template"]["spec"]["containers"][0]["args"]
        shard = args[args.index("--shard") + 1]
        if spec["completionMode"] != "Indexed" or shard != f"$(JOB_COMPLETION_INDEX)/{spec['completions']}":
            fail(f"map-job.yaml: completions {spec['completions']} and --shard {shard} do not match")
        for job in (map_job, reduce_job):
            rule = job["spec"]["podFailurePolicy"]["rules"][0]
            if rule["action"] != "FailJob" or 65 not in rule["onExitCodes"]["values"]:
                fail(f"{job['metadata']['name']}: bad input (exit 65) must fail the Job without retries")
            if job["spec"]["template"]["spec"]["restartPolicy"] != "Never":
                fail(f"{job['metadata']['name']}: restartPolicy must be Never for podFailurePolicy")
        for index in range(spec["completions"]):
            subprocess.run(container_command(map_job, folder, tally, index) + ["--quiet"], check=True)
        subprocess.run(container_command(reduce_job, folder, tally) + ["--quiet"], check=True)
        # Per-row gradients: the map again with --gradients-from, then the reduce again.
        for index in range(spec["completions"]):
            gradients = container_command(map_job, folder, tally, index) + ["--gradients-from", os.path.join(folder, "out")]
            subprocess.run(gradients + ["--quiet"], check=True)
        subprocess.run(container_command(reduce_job, folder, tally) + ["--quiet"], check=True)
        differ = same_tables(os.path.join(folder, "expected"), os.path.join(folder, "out"))
        if differ:
            fail(f"kubernetes: these differ from the one-machine run: {differ}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main():
    tally = os.path.abspath(sys.argv[1])
    check_slurm(tally)
    check_kubernetes(tally)
    print("test_schedulers.py: ok (Slurm job arrays and Kubernetes Indexed Jobs match the one-machine run)")


if __name__ == "__main__":
    main()
