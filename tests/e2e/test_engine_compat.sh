#!/usr/bin/env bash
# test_engine_compat.sh: the byte-for-byte compatibility suite. Starts
# Debian's redis-server 7.0 and kvfleet-agent side by side, replays every
# tests/e2e/compat/*.txt script against both with tests/tools/respdiff and
# diffs the two outputs: any difference is a failure and the diff is printed.
#
# A script whose first lines contain `# server-args: ARGS...` gets its own
# pair of servers started with those extra arguments (e.g. requirepass);
# the others share one pair and start from an empty dataset (FLUSHALL).
# A script with `# status: todo` in its first lines covers a family the
# agent is not required to have yet: its differences are printed as
# "not ok ... # TODO" and do not fail the test.
# If the agent dies during a script it is restarted, so one crash costs one
# script, not the suite.
#
# Every script is replayed twice: as written (RESP2), then with respdiff -3,
# where each connection starts with HELLO 3, so every command's RESP3 reply
# is compared too (reported as "compat <name> [resp3]"). RESP3_SKIP lists the
# few scripts whose RESP3 replay cannot compare (reasons there);
# COMPAT_PROTOS="2" or "3" runs one pass only.
#
# Usage: test_engine_compat.sh [name-filter...]   (e.g. strings lists)

. "$(dirname "$0")/lib.sh"
need_redis
need_tool respdiff

COMPAT_DIR="$(cd "$(dirname "$0")/compat" && pwd)"
RESPDIFF="$KVFLEET_TOOLS/respdiff"
MAX_DIFF_LINES="${COMPAT_MAX_DIFF_LINES:-400}"
COMPAT_PROTOS="${COMPAT_PROTOS:-2 3}"

# Scripts not replayed in RESP3, each for a reason that is not a difference
# between the servers:
#   auth:      connections start unauthenticated, so the HELLO 3 that opens
#              them is refused (NOAUTH) and they would replay in RESP2 again.
#   monitor:   the HELLO 3 of each connection opened later shows up in the
#              MONITOR feed, so the script's @readmon lines read other lines.
#   resp3:     already switches protocols itself (HELLO 3 / HELLO 2).
RESP3_SKIP="auth monitor resp3"

resp3_skipped() {
    local s
    for s in $RESP3_SKIP; do [ "$s" = "$1" ] && return 0; done
    return 1
}

redis_port= redis_pid= agent_port= agent_pid=

# start_pair [args...]: fresh redis + agent with the given extra args.
start_pair() {
    redis_port=$(free_port) || return 1
    start_redis "$redis_port" "$@" || return 1
    redis_pid=$LAST_PID
    agent_port=$(free_port) || return 1
    # The agent gets the same no-persistence settings as redis-server.
    start_agent "$agent_port" --save "" --appendonly no "$@" || { agent_pid=; return 1; }
    agent_pid=$LAST_PID
}

stop_pair() {
    stop_pid "$redis_pid"
    [ -n "$agent_pid" ] && stop_pid "$agent_pid"
    redis_pid= agent_pid=
}

# server_args <file>: the extra server arguments a script asks for, if any.
server_args() {
    sed -n '1,10s/^# server-args: *//p' "$1" | head -n1
}

# replay <port> <script> <out> [respdiff-options]: run a script; the output
# ends with a line giving respdiff's exit status when it is not 0.
replay() {
    # Options word-split on purpose (empty or "-3").
    # shellcheck disable=SC2086
    timeout 120 "$RESPDIFF" -h 127.0.0.1 -p "$1" -t 3000 -m 5 ${4:-} "$2" >"$3" 2>&1
    local rc=$?
    [ $rc -eq 0 ] || echo "<respdiff exit status $rc>" >>"$3"
}

# reset_server <port> [password]: empty every db before a shared-pair script.
reset_server() {
    if [ -n "${2:-}" ]; then
        rcli "$1" -a "$2" --no-auth-warning flushall >/dev/null 2>&1
    else
        rcli "$1" flushall >/dev/null 2>&1
    fi
}

# ensure_agent [args...]: restart the agent if a previous script killed it.
ensure_agent() {
    if [ -z "$agent_pid" ] || ! kill -0 "$agent_pid" 2>/dev/null; then
        [ -n "$agent_pid" ] && note "agent died; last log lines:" &&
            tail -n 15 "$LIB_TMP/agent-$agent_port/stdout.log" 2>/dev/null | sed 's/^/#   /'
        forget_pid "$agent_pid"
        agent_port=$(free_port) || return 1
        start_agent "$agent_port" --save "" --appendonly no "$@" || { agent_pid=; return 1; }
        agent_pid=$LAST_PID
    fi
}

# compare <name> <script> [proto]: replay on both servers and diff.
compare() {
    local name="$1" script="$2" opts="" out_r out_a
    if [ "${3:-2}" = 3 ]; then
        opts="-3"
        name="$name [resp3]"
    fi
    out_r="$LIB_TMP/$1.resp${3:-2}.redis" out_a="$LIB_TMP/$1.resp${3:-2}.agent"
    replay "$redis_port" "$script" "$out_r" "$opts"
    if [ -n "$agent_pid" ]; then
        replay "$agent_port" "$script" "$out_a" "$opts"
    else
        echo "<agent not running>" >"$out_a"
    fi
    if grep -q '^<respdiff exit status' "$out_r"; then
        fail "compat $name (redis-server itself: $(tail -n1 "$out_r"))"
        tail -n 5 "$out_r" | sed 's/^/#   /'
        return
    fi
    if diff -q "$out_r" "$out_a" >/dev/null; then
        pass "compat $name ($(grep -c '^> ' "$out_r") lines)"
    elif sed -n '1,10p' "$script" | grep -q '^# status: todo'; then
        printf 'not ok - compat %s # TODO (family not required yet; %s differing lines)\n' "$name" \
            "$(diff "$out_r" "$out_a" | grep -c '^[<>]')"
    else
        fail "compat $name"
        diff -u --label "redis-server/$name" --label "kvfleet-agent/$name" "$out_r" "$out_a" |
            head -n "$MAX_DIFF_LINES" | sed 's/^/#   /'
    fi
}

selected() {
    local f
    [ $# -gt 1 ] || return 0
    for f in "${@:2}"; do
        case "$1" in *"$f"*) return 0 ;; esac
    done
    return 1
}

shared_started=0
for proto in $COMPAT_PROTOS; do
for script in $(ls "$COMPAT_DIR"/*.txt | LC_ALL=C sort); do
    name="$(basename "$script" .txt)"
    selected "$name" "$@" || continue
    if [ "$proto" = 3 ] && resp3_skipped "$name"; then
        note "compat $name [resp3] skipped (RESP3_SKIP)"
        continue
    fi
    args="$(server_args "$script")"
    if [ -n "$args" ]; then
        # Dedicated pair for this script, started over the shared pair's
        # variables: keep those, so the shared servers are neither stopped
        # here nor lost for the scripts after this one.
        shared="$redis_port $redis_pid $agent_port $agent_pid"
        # Word splitting of args is intended.
        # shellcheck disable=SC2086
        if start_pair $args; then
            compare "$name" "$script" "$proto"
        else
            fail "compat $name (servers did not start)"
        fi
        stop_pair
        [ "$shared_started" = 1 ] && read -r redis_port redis_pid agent_port agent_pid <<<"$shared"
        continue
    fi
    if [ "$shared_started" = 0 ]; then
        start_pair || { fail "compat: servers did not start"; finish; }
        shared_started=1
    fi
    ensure_agent || { fail "compat $name (agent did not restart)"; continue; }
    reset_server "$redis_port"
    reset_server "$agent_port"
    compare "$name" "$script" "$proto"
done
done
finish
