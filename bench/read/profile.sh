#!/usr/bin/env bash
# Profiles the read stage: builds bench/read in release, cuts a slice of a CSV log, and prints
# thread CPU times (a few runs) and callgrind instruction counts of the reader and the parser.
#
#   bench/read/profile.sh [CSV [SLICE_BYTES]]     default: /work/bench/logs10m.csv, 50000000
#
# Callgrind counts repeat exactly on a busy machine; compare builds with them. Valgrind 3.19
# cannot read the DWARF 5 that Swift 6 emits, so the binary is profiled with its debug info
# stripped (symbols stay).
set -euo pipefail
cd "$(dirname "$0")"
csv=${1:-/work/bench/logs10m.csv}
slice=${2:-50000000}
work=${TMPDIR:-/tmp}/tally-readbench
mkdir -p "$work"

swift build -c release >/dev/null
cp .build/release/readbench "$work/readbench"
strip -g "$work/readbench"

head -c "$slice" "$csv" | head -n -1 > "$work/slice.csv"
zstd -q -3 -f "$work/slice.csv" -o "$work/slice.csv.zst"
echo "slice: $(wc -l < "$work/slice.csv") lines, $(wc -c < "$work/slice.csv") bytes"

for _ in 1 2 3; do "$work/readbench" "$work/slice.csv.zst" --parse; done

valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" \
    "$work/readbench" "$work/slice.csv.zst" --parse >/dev/null 2>"$work/valgrind.log"
grep "refs" "$work/valgrind.log"
callgrind_annotate --inclusive=yes "$work/callgrind.out" 2>/dev/null \
    | grep -E "RecordReaderC4next|ZSTD_decompressStream|Cursor.*scan|CSVFieldParserC5parse|memchr|memcpy" \
    | sed 's/\$s5Tally//' | cut -c1-120
