#!/usr/bin/env bash
# Two release binaries side by side in one run: the token and session benches, interleaved
# (before, after, before, after), so that drift of the machine falls on both alike.
#
#   BEFORE=path/to/old/hallpass AFTER=target/release/hallpass bench/run-before-after.sh
#
# Environment: BEFORE, AFTER (required), ROUNDS (2 interleaved pairs), DURATION (6s), WARMUP
# (2s), RESULTS_DIR (bench/results/before-after); each run's report lands under it.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BEFORE:?set BEFORE to the old release binary}" "${AFTER:?set AFTER to the new release binary}"
ROUNDS=${ROUNDS:-2}
OUT=${RESULTS_DIR:-bench/results/before-after}
for bench in token session; do
	for round in $(seq 1 "$ROUNDS"); do
		for side in before after; do
			bin=$BEFORE
			[[ $side == after ]] && bin=$AFTER
			echo "=== $bench round $round $side ($bin)"
			HALLPASS_BIN=$bin ROUNDS=1 DURATION=${DURATION:-6s} WARMUP=${WARMUP:-2s} \
				RESULTS_DIR="$OUT/$bench-$side-$round" "bench/run-$bench-bench.sh"
		done
	done
done
