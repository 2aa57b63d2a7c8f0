#!/usr/bin/env bash
# Adds up what `make test` ran, from the logs of Vitest and cargo test, and prints one closing
# line: "tests: N passed, M failed". Usage: scripts/test-summary.sh UI_LOG RUST_LOG
set -euo pipefail
strip() { sed -e 's/\x1b\[[0-9;]*m//g' "$1"; }
ui=$(strip "$1" | awk '/^ *Tests +/ { for (i = 1; i <= NF; i++) { if ($(i+1) == "passed") p += $i; if ($(i+1) == "failed") f += $i } } END { print p+0, f+0 }')
rust=$(strip "$2" | awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } } END { print p+0, f+0 }')
read -r up uf <<<"$ui"
read -r rp rf <<<"$rust"
echo "Vitest: $up passed, $uf failed; cargo test: $rp passed, $rf failed."
echo "tests: $((up + rp)) passed, $((uf + rf)) failed"
