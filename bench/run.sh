#!/usr/bin/env bash
# Side-by-side benchmark of S-Data against the peers in shared/bench (see docs/performance.md).
#
#   bench/run.sh [ROWS...]          default: 1m       (100k, 1m and 10m are known sizes)
#   REPS=5 bench/run.sh 100k 1m
#
# Builds sdata in release mode, generates the inputs with shared/bench (seed 42), then for each size runs S-Data and
# the peers alternately, REPS times each, timing every run with GNU time (wall clock and peak RSS), checks that every
# output is byte-identical to the reference implementation's, and prints medians and ratios. With 1m and 10m it also
# times one 10M run against ten 1M runs back to back (scaling under the same load). Then the XML read:
# sdata on the 1M-row XML against `xmllint --stream --noout`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
SHARED="${SHARED:-$ROOT/../shared}/bench"
export BENCH_WORK="${BENCH_WORK:-/tmp/sdata-bench}"
REPS="${REPS:-3}"
SIZES=("${@:-1m}")
PEERS="${PEERS:-peer_polars peer_pandas ref_stdlib}"

[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
# The build needs the C libraries' development files (libxml2's, SQLite's): installed when missing.
scripts/setup.sh
echo "bench: building sdata (release, Swift libraries linked statically, as docs/operations.md installs it)"
build_log="$(mktemp)"
if ! swift build -c release --product sdata --static-swift-stdlib --build-path "$ROOT/.build/static" > "$build_log" 2>&1; then
    grep -E "error" "$build_log" | head -20 >&2
    echo "bench: the release build failed (full log: $build_log)" >&2
    exit 2
fi
rm -f "$build_log"
export SDATA="$ROOT/.build/static/release/sdata"
"$SHARED/setup.sh" > /dev/null
PY="$BENCH_WORK/.venv/bin/python"
export SDATA_BENCH_CATALOGS="$BENCH_WORK/catalogs.txt"
: > "$SDATA_BENCH_CATALOGS"

rows_for() { case "$1" in 100k) echo 100000 ;; 1m) echo 1000000 ;; 10m) echo 10000000 ;; *) echo "$1" ;; esac; }
median() { sort -g | awk '{a[NR]=$1} END{ if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2 }'; }
seconds() { awk -F: '{ s=0; for (i=1;i<=NF;i++) s=s*60+$i; printf "%.3f\n", s }'; }

# run NAME LOG CMD...: time one run, append "wall rss_mb" to LOG
run() {
    local log="$1"; shift
    local out; out="$(mktemp)"
    /usr/bin/time -v "$@" 2> "$out" > /dev/null || { cat "$out" >&2; exit 2; }
    printf '%s %s\n' "$(grep 'Elapsed (wall clock)' "$out" | awk '{print $NF}' | seconds)" \
        "$(grep 'Maximum resident set size' "$out" | awk '{printf "%.0f", $NF/1024}')" >> "$log"
    rm -f "$out"
}

scaling=()
for size in "${SIZES[@]}"; do
    rows="$(rows_for "$size")"
    input="$BENCH_WORK/data/t$size.csv"
    [ -s "$input" ] || python3 "$SHARED/gen_tracing.py" --rows "$rows" --seed 42 --format csv --out "$input"
    cat "$input" > /dev/null
    outdir="$BENCH_WORK/out/$size"; mkdir -p "$outdir"; rm -f "$outdir"/*.times
    echo
    echo "== tracing-publish, $size rows ($(stat -c %s "$input") bytes), $REPS runs each, alternating"
    for ((r = 1; r <= REPS; r++)); do
        run "$outdir/sdata.times" "$ROOT/bench/sdata-tracing-publish" "$input" "$outdir/sdata.csv"
        for peer in $PEERS; do
            [ "$peer" = ref_stdlib ] && [ "$r" -gt 1 ] && [ "$rows" -ge 10000000 ] && continue
            run "$outdir/$peer.times" "$PY" "$SHARED/$peer.py" "$input" "$outdir/$peer.csv"
        done
    done
    reference="$outdir/ref_stdlib.csv"
    [ -s "$reference" ] || reference="$outdir/peer_polars.csv"
    printf '%-12s %9s %9s %10s  %s\n' impl wall_med wall_min rss_MB identical
    declare -A wall=()
    for impl in sdata $PEERS; do
        [ -s "$outdir/$impl.times" ] || continue
        wall[$impl]="$(cut -d' ' -f1 "$outdir/$impl.times" | median)"
        same=no; cmp -s "$outdir/$impl.csv" "$reference" && same=yes
        printf '%-12s %9s %9s %10s  %s\n' "$impl" "${wall[$impl]}" "$(cut -d' ' -f1 "$outdir/$impl.times" | sort -g | head -1)" \
            "$(cut -d' ' -f2 "$outdir/$impl.times" | median)" "$same"
    done
    if [ -n "${wall[peer_polars]:-}" ]; then
        awk -v s="${wall[sdata]}" -v p="${wall[peer_polars]}" 'BEGIN { printf "sdata / polars wall time: %.2f (target <= 0.50)\n", s / p }'
    fi
    scaling+=("$size ${wall[sdata]} $(cut -d' ' -f2 "$outdir/sdata.times" | median)")
    unset wall
done

# Scaling: time per row and peak memory of S-Data across the sizes run (10m/1m time target: at most 11x).
if [ "${#scaling[@]}" -gt 1 ]; then
    echo
    echo "== scaling (S-Data medians)"
    printf '%s\n' "${scaling[@]}" | while read -r size wall rss; do
        printf '%-6s %9ss %6s MB  %7.2f us/row\n' "$size" "$wall" "$rss" "$(awk -v w="$wall" -v r="$(rows_for "$size")" 'BEGIN { print w / r * 1e6 }')"
    done
    one="$(printf '%s\n' "${scaling[@]}" | awk '$1 == "1m" { print $2 }')"
    ten="$(printf '%s\n' "${scaling[@]}" | awk '$1 == "10m" { print $2 }')"
    if [ -n "$one" ] && [ -n "$ten" ]; then
        awk -v a="$one" -v b="$ten" 'BEGIN { printf "10m / 1m wall time: %.2f (target <= 11)\n", b / a }'
        # A lone 1M run lasts about a second, a 10M run over ten: on a shared virtual machine the longer run also
        # meets the host's sustained-load speed, which the ratio above then counts as engine work. Ten 1M runs back
        # to back last as long as one 10M run, so this ratio compares the same work under the same load (it still
        # counts ten start-ups and publications against one, so it leans a little towards 10M).
        echo
        echo "== scaling under the same load: one 10m run against ten 1m runs back to back, $REPS times each, alternating"
        rm -f "$BENCH_WORK"/out/load-*.times
        for ((r = 1; r <= REPS; r++)); do
            run "$BENCH_WORK/out/load-10m.times" "$ROOT/bench/sdata-tracing-publish" "$BENCH_WORK/data/t10m.csv" "$BENCH_WORK/out/10m/sdata.csv"
            run "$BENCH_WORK/out/load-1m.times" bash -c 'for i in 1 2 3 4 5 6 7 8 9 10; do "$0" "$1" "$2" || exit 1; done' \
                "$ROOT/bench/sdata-tracing-publish" "$BENCH_WORK/data/t1m.csv" "$BENCH_WORK/out/1m/sdata.csv"
        done
        tens="$(cut -d' ' -f1 "$BENCH_WORK/out/load-10m.times" | median)"
        ones="$(cut -d' ' -f1 "$BENCH_WORK/out/load-1m.times" | median)"
        awk -v a="$ones" -v b="$tens" \
            'BEGIN { printf "10m: %.3fs, ten 1m runs: %.3fs; 10m / (1m run under the same load): %.2f (target <= 11)\n", b, a, b / (a / 10) }'
    fi
fi

xml="$BENCH_WORK/data/t1m.xml"
if [ -s "$xml" ]; then
    echo
    echo "== XML read, 1m rows ($(stat -c %s "$xml") bytes), $REPS runs each, alternating"
    rm -f "$BENCH_WORK"/out/xml-*.times
    for ((r = 1; r <= REPS; r++)); do
        catalog="$(mktemp -d)"; echo "$catalog" >> "$SDATA_BENCH_CATALOGS"
        run "$BENCH_WORK/out/xml-sdata.times" env XML_INPUT="$xml" "$SDATA" run "$ROOT/bench/xml-read.yaml" --catalog "$catalog" --log-level error
        run "$BENCH_WORK/out/xml-xmllint.times" xmllint --stream --noout "$xml"
    done
    for impl in sdata xmllint; do
        med="$(cut -d' ' -f1 "$BENCH_WORK/out/xml-$impl.times" | median)"
        printf '%-8s %8ss %6s MB  %6.0f MB/s\n' "$impl" "$med" "$(cut -d' ' -f2 "$BENCH_WORK/out/xml-$impl.times" | median)" \
            "$(awk -v b="$(stat -c %s "$xml")" -v t="$med" 'BEGIN { print b / 1e6 / t }')"
    done
fi
xargs -r rm -rf < "$SDATA_BENCH_CATALOGS"
