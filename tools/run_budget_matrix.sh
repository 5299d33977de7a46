#!/usr/bin/env bash
# Run benchmarks/matrices/synthmix-budget.yaml (issue 27) so that paired seeds finish early:
# two 1-thread workers, worker 1 takes the even seeds and worker 2 the odd ones, each running all
# four cells of its seed (BRN and RCDNet, baseline and CoIC) before the next. Every call is
# `zoo bench ... --resume-cells` on a one-seed copy of the matrix with the same name and settings, so the
# cells, run folders and store rows are exactly the full matrix's; killed, it resumes where it was.
#
#   nice -n 19 bash tools/run_budget_matrix.sh            # seeds 0-4 (the matrix's)
#   nice -n 19 bash tools/run_budget_matrix.sh 0 9        # seeds 0-9, when the power budget asks
#   BACKBONES=brn nice -n 19 bash tools/run_budget_matrix.sh 0 3   # one backbone's pairs first
#   METHODS=coic BACKBONES=brn nice -n 19 bash tools/run_budget_matrix.sh 4 4   # one cell per call, to balance workers by hand
# BACKBONES and METHODS (comma-separated) narrow the copies to those backbones and methods: their cells
# are still the full matrix's, so a later run without them only adds the cells left. Never run two calls
# that share a cell at once: both would train it into the same run folder.
set -euo pipefail
cd "$(dirname "$0")/.."
first=${1:-0}
last=${2:-4}
zoo=${ZOO:-.venv/bin/zoo}
backbones=${BACKBONES:-}
methods=${METHODS:-}
matrix=benchmarks/matrices/synthmix-budget.yaml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

worker() {
  local parity=$1
  for seed in $(seq "$first" "$last"); do
    [ $((seed % 2)) -eq "$parity" ] || continue
    sed "s/^seeds: .*/seeds: [$seed]/" "$matrix" > "$work/seed-$seed.yaml"
    [ -z "$backbones" ] || sed -i "s/^backbones: .*/backbones: [$backbones]/" "$work/seed-$seed.yaml"
    [ -z "$methods" ] || sed -i "s/^methods: .*/methods: [$methods]/" "$work/seed-$seed.yaml"
    OMP_NUM_THREADS=1 "$zoo" bench "$work/seed-$seed.yaml" --store leaderboards/budget \
      --runs runs/synthmix-budget --resume-cells || echo "seed $seed: zoo bench exited $?" >&2
  done
}
worker 0 & worker 1 & wait
