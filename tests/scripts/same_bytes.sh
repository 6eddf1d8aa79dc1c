#!/usr/bin/env bash
# Same seeds => same bytes: runs a fixed set of mpcdiff commands with fixed seeds and writes a
# digest of every output file (paths of the output folder replaced by OUT), so that two builds
# can be compared:
#
#   tests/scripts/same_bytes.sh target/release/mpcdiff /tmp/before > before.txt
#   tests/scripts/same_bytes.sh target/release/mpcdiff /tmp/after  > after.txt
#   diff before.txt after.txt
#
# Used to check that a refactor or an optimisation changes no result (issues 12, 14). Needs
# MNIST in ../shared/data (the default; or $MPCDIFF_DATA). Takes a few minutes on two cores.
set -euo pipefail
BIN="$(realpath "$1")"
OUT="$2"
DATA="${MPCDIFF_DATA:-$(dirname "$0")/../../../shared/data}"
DATA="$(realpath "$DATA")"
rm -rf "$OUT"
mkdir -p "$OUT"
cd "$OUT"
run() { # name, command...
    local name="$1"
    shift
    "$BIN" "$@" >"$name.stdout" 2>"$name.stderr" || echo "exit $?" >>"$name.stdout"
}
run demo demo --json
run fuzz fuzz --model lenet --data "$DATA" --seeds 30 --mutations 600 --out camp --threads 2 --json
run localize localize --campaign camp --json
run repair repair --campaign camp --json
run report report --campaign camp --json
run fuzz-grad fuzz --model lenet --data "$DATA" --seeds 10 --mutations 200 --mutator gradient --out grad --json
run fuzz-ideal fuzz --model lenet --data "$DATA" --seeds 10 --mutations 200 --engine ideal --out ideal --json
run eval eval --model lenet --data "$DATA" --limit 300 --json
run eval-ideal eval --model lenet --data "$DATA" --limit 300 --engine ideal --json
run eval-credit eval --model credit-mlp --data "$DATA" --limit 300 --json
run eval-bank eval --model bank-mlp --data "$DATA" --limit 300 --json
python3 -c "print(' '.join(str((i * 37) % 256 / 255) for i in range(784)))" >digit.txt
run predict predict --model lenet --input digit.txt --json
run predict-ideal predict --model lenet --input digit.txt --engine ideal --level low --json
run slice slice --model lenet --synthetic-seed 3 --out slice.svg --json
run approx approx --fn sigmoid --json
run mul mul --json
run sweep sweep --campaign camp --check 100 --from 12 --to 20 --step 4 --json
find . -type f ! -name '*.tmp*' | LC_ALL=C sort | while read -r f; do
    printf '%s  %s\n' "$(sed "s#$OUT#OUT#g; s#$DATA#DATA#g" "$f" | grep -v '"elapsed\|"seconds\|"time\|per_second\|/s\b' | sha256sum | cut -c1-16)" "$f"
done
