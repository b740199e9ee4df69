#!/usr/bin/env bash
# check_repros.sh: replays each minimal reproduction (compat-script syntax,
# tests/e2e/compat/README.md) against Debian's redis-server 7.0 and
# kvfleet-agent with respdiff and prints, per file, "differs" (with the
# diff) or "same". A fixed finding reads "same": remove its allowlist entry.
#
# Usage: tests/difffuzz/check_repros.sh [DIR|FILE...]   (default tests/difffuzz/repros)
# Env:   KVFLEET_AGENT (e.g. /usr/bin/redis-server to check that a script
#        prints the same on two Redis processes), KVFLEET_TOOLS, KVFLEET_BIN.
. "$(dirname "$0")/../e2e/lib.sh"
need_redis
need_tool respdiff
[ $# -gt 0 ] || set -- "$LIB_ROOT/tests/difffuzz/repros"
files=()
for a in "$@"; do
    if [ -d "$a" ]; then files+=("$a"/*.txt); else files+=("$a"); fi
done
same=0 differ=0
for f in "${files[@]}"; do
    args="$(sed -n '1,10s/^# server-args: *//p' "$f" | head -n1)"
    rp=$(free_port) && ap=$(free_port) || exit 1
    # shellcheck disable=SC2086
    start_redis "$rp" $args >/dev/null || { echo "$(basename "$f"): redis did not start"; continue; }
    r_pid=$LAST_PID
    # shellcheck disable=SC2086
    start_agent "$ap" --save "" --appendonly no $args >/dev/null || { echo "$(basename "$f"): agent did not start"; stop_pid "$r_pid"; continue; }
    a_pid=$LAST_PID
    "$KVFLEET_TOOLS/respdiff" -p "$rp" -t 3000 "$f" >"$LIB_TMP/r.out" 2>&1
    "$KVFLEET_TOOLS/respdiff" -p "$ap" -t 3000 "$f" >"$LIB_TMP/a.out" 2>&1
    if diff -q "$LIB_TMP/r.out" "$LIB_TMP/a.out" >/dev/null; then
        same=$((same + 1)); echo "same     $(basename "$f")"
    else
        differ=$((differ + 1)); echo "differs  $(basename "$f")"
        diff -u --label redis-server --label kvfleet-agent "$LIB_TMP/r.out" "$LIB_TMP/a.out" | sed -n '3,$p' | head -n 40 | sed 's/^/    /'
    fi
    stop_pid "$a_pid"
    stop_pid "$r_pid"
done
echo "check_repros: $differ differ, $same same"
