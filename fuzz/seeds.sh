#!/usr/bin/env bash
# The fuzzer's seeds in one folder for `cargo afl fuzz -i`: the inputs of
# fuzz/seeds/ (those the corpus lacks: a shipped-style profile, a minimal
# one, one with `--set` arguments) and every profile of the bad-input
# corpus, tests/kgen/corpus/*.yaml and the folder cases' app.yaml, as they
# are now (no copies to keep in step).
#
#   fuzz/seeds.sh [DIR]    # copies into DIR (default: fuzz/target/seeds), prints it
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/target/seeds}"
mkdir -p "$out"
cp "$here"/seeds/* "$out"/
cp "$here"/../tests/kgen/corpus/*.yaml "$out"/
for profile in "$here"/../tests/kgen/corpus/*/app.yaml; do
  cp "$profile" "$out/$(basename "$(dirname "$profile")").yaml"
done
echo "$out"
