#!/usr/bin/env bash
# Run libFuzzer targets and print their figures.
#
#   bash tests/fuzz/run.sh SECONDS TARGET...
#
# Each target first replays its regression inputs (tests/fuzz/regress/
# <target>/, every crash found so far, minimized), then runs SECONDS (-max_total_time) from its seeds in
# tests/fuzz/corpus/<target>/ plus what earlier runs found in
# $FUZZ_DIR/corpus/<target>/ (where new inputs are written), with its
# dictionary tests/fuzz/<target>.dict when there is one. Crashes, leaks,
# timeouts and out-of-memory inputs go to $FUZZ_DIR/artifacts/<target>/ and
# fail the target; the whole log is $FUZZ_DIR/logs/<target>.log.
#
# Environment:
#   FUZZ_DIR   build/fuzz: corpus/, artifacts/, logs/, summary.txt
#   FUZZ_BIN_DIR  where fuzz_<target> are (default $FUZZ_DIR/bin)
#   FUZZ_JOBS  targets run at once (default 1)
#   FUZZ_FORK  N > 0: libFuzzer's -fork=N with -ignore_crashes, so a long
#              run goes on after a crash and collects every distinct one
#              (still counted and still failing the target)
#
# The last lines are a table: target, seconds, executions, exec/s, cov
# (edges, libFuzzer's cov:), ft (features), crashes; also written to
# $FUZZ_DIR/summary.txt.
set -u

secs=${1:?seconds}
shift
FUZZ_DIR=${FUZZ_DIR:-build/fuzz}
FUZZ_BIN_DIR=${FUZZ_BIN_DIR:-$FUZZ_DIR/bin}
FUZZ_JOBS=${FUZZ_JOBS:-1}
FUZZ_FORK=${FUZZ_FORK:-0}
here=${FUZZ_HERE:-$(cd "$(dirname "$0")" && pwd)}

max_len_of() {
    case $1 in
    rdb) echo 65536 ;;
    resp) echo 16384 ;;
    api_routes) echo 10000 ;;
    dump | repl_stream | info) echo 8192 ;;
    *) echo 4096 ;;
    esac
}

run_one() {
    local t=$1
    local bin=$FUZZ_BIN_DIR/fuzz_$t
    local work=$FUZZ_DIR/corpus/$t art=$FUZZ_DIR/artifacts/$t log=$FUZZ_DIR/logs/$t.log
    local res=$FUZZ_DIR/logs/$t.result
    mkdir -p "$work" "$art" "$FUZZ_DIR/logs"
    local before
    before=$(ls "$art" | grep -cE '^(crash|leak|timeout|oom|slow-unit)-' || true)
    local opts=(-max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=25
                -print_final_stats=1 -max_len="$(max_len_of "$t")" -artifact_prefix="$art/")
    [ -f "$here/$t.dict" ] && opts+=(-dict="$here/$t.dict")
    if [ "$FUZZ_FORK" -gt 0 ]; then
        opts+=(-fork="$FUZZ_FORK" -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
    fi
    # Every crash found so far (minimized, tests/fuzz/regress/<target>/)
    # is replayed first: one that still crashes fails the target.
    local replay=0 f
    for f in "$here/regress/$t"/*; do
        [ -f "$f" ] || continue
        if ! "$bin" -runs=1 "$f" >"$FUZZ_DIR/logs/$t.replay.log" 2>&1 </dev/null; then
            echo "fuzz_$t: regression input $f still crashes:"
            grep -m2 -E 'ERROR: |runtime error|SUMMARY|fuzz_[a-z_]+: ' "$FUZZ_DIR/logs/$t.replay.log" | sed 's/^/  /'
            replay=$((replay + 1))
        fi
    done
    local start end rc
    start=$(date +%s)
    "$bin" "${opts[@]}" "$work" "$here/corpus/$t" >"$log" 2>&1 </dev/null
    rc=$?
    end=$(date +%s)
    local after
    after=$(ls "$art" | grep -cE '^(crash|leak|timeout|oom|slow-unit)-' || true)
    local found=$((after - before))
    [ "$rc" -ne 0 ] && [ "$found" -eq 0 ] && found=1
    found=$((found + replay))
    # Executions: the final stats, or (fork mode) the last status line's #N.
    local execs
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -z "$execs" ] && execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    execs=${execs:-0}
    local cov ft
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
    ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | awk '{print $2}')
    local took=$((end - start))
    [ "$took" -lt 1 ] && took=1
    printf '%s %s %s %s %s %s %s\n' "$t" "$took" "$execs" "$((execs / took))" "${cov:-0}" "${ft:-0}" "$found" >"$res"
    if [ "$found" -gt 0 ]; then
        echo "fuzz_$t: FAILED ($found new artifact(s) in $art, log $log)"
        grep -m3 -E 'ERROR: |runtime error|SUMMARY|fuzz_[a-z_]+: ' "$log" | sed 's/^/  /'
    else
        echo "fuzz_$t: ok ($execs executions in ${took}s)"
    fi
}

running=0
for t in "$@"; do
    if [ ! -x "$FUZZ_BIN_DIR/fuzz_$t" ]; then
        echo "fuzz_$t: not built ($FUZZ_BIN_DIR/fuzz_$t)" >&2
        exit 2
    fi
    rm -f "$FUZZ_DIR/logs/$t.result"
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$FUZZ_JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

fail=0
{
    printf '%-13s %8s %12s %8s %6s %7s %7s\n' target seconds executions exec/s cov ft crashes
    for t in "$@"; do
        if [ -f "$FUZZ_DIR/logs/$t.result" ]; then
            read -r name took execs rate cov ft found <"$FUZZ_DIR/logs/$t.result"
        else
            name=$t took=0 execs=0 rate=0 cov=0 ft=0 found=1
        fi
        printf '%-13s %8s %12s %8s %6s %7s %7s\n' "$name" "$took" "$execs" "$rate" "$cov" "$ft" "$found"
        [ "$found" -gt 0 ] && fail=1
    done
} | tee "$FUZZ_DIR/summary.txt"
grep -qE ' [1-9][0-9]*$' "$FUZZ_DIR/summary.txt" && fail=1
if [ "$fail" -ne 0 ]; then
    echo "fuzz: FAILED (artifacts under $FUZZ_DIR/artifacts/)"
    exit 1
fi
echo "fuzz: all targets clean"
