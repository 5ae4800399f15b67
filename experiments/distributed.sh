#!/usr/bin/env bash
# Spread an aqueduct sweep over many processes or machines: N deterministic shards
# (`aqueduct sweep --shard K/N`), then `aqueduct merge`, which writes exactly the files an
# unsharded sweep writes.
#
#   experiments/distributed.sh parallel EXPERIMENT N OUT   # GNU parallel: N shards, then merge
#   experiments/distributed.sh slurm    EXPERIMENT N OUT   # a Slurm job array + a merge job
#   experiments/distributed.sh shard    EXPERIMENT N OUT [K]  # one shard (K defaults to
#                                                          # $SLURM_ARRAY_TASK_ID)
#   experiments/distributed.sh merge    EXPERIMENT N OUT   # merge OUT/shards/* into OUT
#
# Shard K writes OUT/shards/K/ (runs.csv and sweep.json); the merge writes the report into
# OUT/. Every shard must see the same experiment and model files (a shared file system, or
# copies): the merge checks their fingerprint.
#
# Environment:
#   AQUEDUCT       the aqueduct binary (default: `aqueduct` on PATH, else target/release/aqueduct)
#   THREADS        threads per shard (default: every core of the machine running it)
#   PARALLEL_OPTS  extra options for GNU parallel, such as "--sshloginfile nodes.txt" to
#                  run the shards on other machines, or "--jobs 4"
#   SBATCH_OPTS    extra options for sbatch, such as "--partition=short --cpus-per-task=8"
#
# Examples:
#   experiments/distributed.sh parallel experiments/workers-load.toml 4 /tmp/wl
#   THREADS=8 SBATCH_OPTS="--cpus-per-task=8 --time=00:30:00" \
#       experiments/distributed.sh slurm experiments/workers-load.toml 16 "$PWD/reports/workers-load"
set -euo pipefail

usage() { sed -n '2,30p' "$0" >&2; exit 2; }
[[ $# -ge 4 ]] || usage
mode=$1 experiment=$2 n=$3 out=$4
[[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "N must be a positive whole number, not '$n'" >&2; exit 2; }

if [[ -z "${AQUEDUCT:-}" ]]; then
    if command -v aqueduct >/dev/null 2>&1; then
        AQUEDUCT=aqueduct
    else
        AQUEDUCT="$(cd "$(dirname "$0")/.." && pwd)/target/release/aqueduct"
    fi
fi
threads=()
[[ -n "${THREADS:-}" ]] && threads=(--threads "$THREADS")

run_shard() { # K
    "$AQUEDUCT" sweep "$experiment" --shard "$1/$n" --out "$out/shards/$1" --quiet ${threads[@]+"${threads[@]}"}
}

run_merge() {
    local dirs=()
    for ((k = 1; k <= n; k++)); do dirs+=("$out/shards/$k"); done
    "$AQUEDUCT" merge "${dirs[@]}" --out "$out"
}

case "$mode" in
    parallel)
        # One job per shard. A shard whose runs partly failed still wrote its rows (exit
        # code 1); a shard that could not start (exit code 2) wrote nothing, and the merge
        # then refuses the incomplete set.
        # shellcheck disable=SC2086
        # -q quotes the command's words, so paths may contain spaces.
        parallel -q ${PARALLEL_OPTS:-} \
            "$AQUEDUCT" sweep "$experiment" --shard "{}/$n" --out "$out/shards/{}" --quiet ${threads[@]+"${threads[@]}"} \
            ::: $(seq 1 "$n") || echo "some shards reported errors (see above); merging" >&2
        run_merge
        ;;
    slurm)
        # The array runs this script in `shard` mode once per K; the merge job starts when
        # every task of the array has ended (afterany: a task with failed runs exits 1 but
        # its rows are written; the merge itself refuses an incomplete set of shards).
        # shellcheck disable=SC2086
        job=$(sbatch --parsable --array="1-$n" --job-name="aqueduct-shard" ${SBATCH_OPTS:-} \
            "$0" shard "$experiment" "$n" "$out")
        job=${job%%;*}
        # shellcheck disable=SC2086
        sbatch --parsable --dependency="afterany:$job" --job-name="aqueduct-merge" ${SBATCH_OPTS:-} \
            "$0" merge "$experiment" "$n" "$out" >/dev/null
        echo "submitted shards as job $job (array 1-$n) and the merge after it; results in $out"
        ;;
    shard)
        k=${5:-${SLURM_ARRAY_TASK_ID:-}}
        [[ -n "$k" ]] || { echo "shard: give K or run inside a Slurm job array" >&2; exit 2; }
        run_shard "$k"
        ;;
    merge)
        run_merge
        ;;
    *)
        usage
        ;;
esac
