#!/bin/bash
# Runs the map Job, waits for it, then the reduce Job (kubectl's current context and namespace).
#
#   integrations/kubernetes/run.sh
#
# For a pipeline with gradients.per_event, run the map again with
# `--gradients-from OUTPUT` added to its args (name it tally-map-gradients), then the reduce again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kubectl delete job tally-map tally-reduce --ignore-not-found
kubectl apply -f "$here/map-job.yaml"
# Wait until the Job is complete, or stop when it failed (bad input fails it at once).
until [[ $(kubectl get job tally-map -o jsonpath='{.status.conditions[?(@.status=="True")].type}') == *Complete* ]]; do
    if [[ $(kubectl get job tally-map -o jsonpath='{.status.conditions[?(@.status=="True")].type}') == *Failed* ]]; then
        echo "tally-map failed; see: kubectl logs -l job-name=tally-map" >&2
        exit 1
    fi
    sleep 10
done
kubectl apply -f "$here/reduce-job.yaml"
kubectl wait --for=condition=complete --timeout=24h job/tally-reduce
