#!/bin/bash
# Submits a sharded Tally run to Slurm: the map as a job array, the reduce after it, and with
# gradients.per_event the gradient maps and a second reduce, each step after the last.
#
#   integrations/slurm/submit.sh PIPELINE PARTIALS SHARDS [--var NAME=VALUE …]
#
# PIPELINE, its inputs and PARTIALS must be on a filesystem every node mounts at the same path.
# TALLY names the binary (default: tally on PATH; build it with scripts/release).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pipeline=$(readlink -f "$1") partials=$(readlink -m "$2") shards=$3
shift 3
tally=${TALLY:-tally}
export TALLY=$tally
plan=$("$tally" plan "$pipeline" --shards "$shards" "$@")
field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$plan" "$1"; }

map=$(sbatch --parsable --array=0-$((shards - 1)) "$here/map.sbatch" "$pipeline" "$partials" "$shards" "$@")
last=$(sbatch --parsable --dependency=afterok:"$map" "$here/reduce.sbatch" "$pipeline" "$partials" "$@")
if [[ $(field per_event_gradients) == True ]]; then
    gradients=$(sbatch --parsable --dependency=afterok:"$last" --array=0-$((shards - 1)) \
        "$here/map.sbatch" "$pipeline" "$partials" "$shards" --gradients-from "$(field output)" "$@")
    last=$(sbatch --parsable --dependency=afterok:"$gradients" "$here/reduce.sbatch" "$pipeline" "$partials" "$@")
fi
echo "submitted: map $map, last step $last; the output goes to $(field output)"
