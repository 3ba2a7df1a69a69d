#!/usr/bin/env bash
# Regenerates the golden images in tests/data/golden/ on purpose, from the cases listed in
# tests/data/golden/cases.txt, with the current build/bin/headmap. Review the PNGs (git diff
# shows them as changed binaries) before committing: test_cli_golden compares every pixel.
set -euo pipefail
cd "$(dirname "$0")/.."
headmap=${HEADMAP_BIN:-build/bin/headmap}
[ -x "$headmap" ] || { echo "tools/regen_goldens.sh: $headmap not built (run tools/build.sh)" >&2; exit 2; }
while IFS=$'\t' read -r name args; do
  [[ -z $name || $name == \#* ]] && continue
  out="tests/data/golden/$name.png"
  eval "\"$headmap\" ${args//\{out\}/\"$out\"}"
  echo "$out"
done < tests/data/golden/cases.txt
