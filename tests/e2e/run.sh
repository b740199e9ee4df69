#!/usr/bin/env bash
# run.sh: runs every tests/e2e/test_*.sh (sorted), each under a timeout, and
# prints one line per script plus the summary line `e2e: N passed, N failed`
# (`, N skipped` when any). A script passes with exit 0, is skipped with 77,
# and fails otherwise (including a timeout). The output of a failing script is
# printed in full; every script's output is kept in $E2E_LOG_DIR.
#
# Usage: tests/e2e/run.sh [name-filter...]   e.g. run.sh engine_net compat
# Env:   KVFLEET_BIN, KVFLEET_TOOLS (absolute; defaults: bin/, build/tools/),
#        E2E_TIMEOUT (seconds per script, default 300),
#        E2E_LOG_DIR (default build/e2e-logs),
#        KVFLEET_AGENT (binary the engine tests start; e.g. /usr/bin/redis-server
#        to check that the suites describe Redis' behaviour),
#        E2E_EXCLUDE (space-separated name parts: matching scripts are left out;
#        make test splits the suite between builds this way).

set -u
root="$(cd "$(dirname "$0")/../.." && pwd)"
export KVFLEET_BIN="$(cd "${KVFLEET_BIN:-$root/bin}" 2>/dev/null && pwd || echo "${KVFLEET_BIN:-$root/bin}")"
export KVFLEET_TOOLS="$(cd "${KVFLEET_TOOLS:-$root/build/tools}" 2>/dev/null && pwd || echo "${KVFLEET_TOOLS:-$root/build/tools}")"
timeout_s="${E2E_TIMEOUT:-300}"
log_dir="${E2E_LOG_DIR:-$root/build/e2e-logs}"
mkdir -p "$log_dir" || exit 1

# selected <script>: true when no filter was given or the name matches one.
selected() {
    local f
    for f in ${E2E_EXCLUDE:-}; do
        case "$(basename "$1")" in *"$f"*) return 1 ;; esac
    done
    [ $# -gt 1 ] || return 0
    for f in "${@:2}"; do
        case "$(basename "$1")" in *"$f"*) return 0 ;; esac
    done
    return 1
}

now_ms() { date +%s%3N; }

passed=0 failed=0 skipped=0
suite_start=$(now_ms)
for script in $(ls "$root"/tests/e2e/test_*.sh 2>/dev/null | LC_ALL=C sort); do
    selected "$script" "$@" || continue
    name="$(basename "$script" .sh)"
    log="$log_dir/$name.log"
    start=$(now_ms)
    timeout -k 10 "$timeout_s" bash "$script" >"$log" 2>&1 </dev/null
    rc=$?
    ms=$(($(now_ms) - start))
    dur="$((ms / 1000)).$(printf '%01d' $(((ms % 1000) / 100)))s"
    case $rc in
        0) passed=$((passed + 1)); printf 'PASS  %-40s %8s\n' "$name" "$dur" ;;
        77) skipped=$((skipped + 1))
            printf 'SKIP  %-40s %8s  %s\n' "$name" "$dur" "$(grep -m1 '^# SKIP' "$log" | sed 's/^# SKIP: //')" ;;
        *) failed=$((failed + 1))
           why="exit $rc"
           [ $rc -eq 124 ] || [ $rc -eq 137 ] && why="timeout after ${timeout_s}s"
           printf 'FAIL  %-40s %8s  (%s)\n' "$name" "$dur" "$why"
           sed 's/^/    | /' "$log" ;;
    esac
done
total_ms=$(($(now_ms) - suite_start))
echo "# e2e total time $((total_ms / 1000))s, logs in $log_dir"
summary="e2e: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
