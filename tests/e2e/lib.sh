# lib.sh: shared helpers for the end-to-end test scripts (tests/e2e/test_*.sh).
#
# A test script sources this file, starts servers with start_agent /
# start_redis on ports from free_port, checks behaviour with check /
# expect_eq (TAP-like "ok - name" / "not ok - name" lines) and ends with
# `finish`. Every process started through these helpers lives in a per-script
# temp dir and is killed by the EXIT trap, so a failing or timed-out script
# never leaves servers behind.
#
# The helpers work under `set -u` and `set -e` alike.
#
# Environment (exported by tests/e2e/run.sh; defaults let a script run alone):
#   KVFLEET_BIN    absolute bin dir holding kvfleet-agent (and kvfleetd)
#   KVFLEET_TOOLS  absolute dir holding the tools built from tests/tools/*.c
#   KVFLEET_AGENT  binary start_agent runs; defaults to $KVFLEET_BIN/kvfleet-agent.
#                  Set it to /usr/bin/redis-server to check a test against
#                  real Redis (the suites describe Redis' behaviour).
#   KVFLEET_KEEP_TMP=1  keep the temp dir (logs, data) for inspection.

LIB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${KVFLEET_BIN:=$LIB_ROOT/bin}"
: "${KVFLEET_TOOLS:=$LIB_ROOT/build/tools}"
: "${KVFLEET_AGENT:=$KVFLEET_BIN/kvfleet-agent}"
: "${REDIS_SERVER:=redis-server}"
: "${REDIS_CLI:=redis-cli}"
export KVFLEET_BIN KVFLEET_TOOLS KVFLEET_AGENT

LIB_TMP="$(mktemp -d "${TMPDIR:-/tmp}/kvfleet-e2e.XXXXXX")" || exit 1
LIB_PIDS=()
LIB_PASS=0
LIB_FAIL=0
LAST_PID=
LAST_DIR=

# note <text...>: a diagnostic line that does not count as a result.
note() { printf '# %s\n' "$*"; }

# skip <reason>: the whole script does not apply here (run.sh counts 77).
skip() {
    note "SKIP: $*"
    exit 77
}

# ---------------------------------------------------------------- results

# pass/fail <name>: record one result.
pass() { LIB_PASS=$((LIB_PASS + 1)); printf 'ok - %s\n' "$1"; }
fail() { LIB_FAIL=$((LIB_FAIL + 1)); printf 'not ok - %s\n' "$1"; }

# check <name> <cmd...>: ok when the command exits 0. Output of the command
# is shown only when it fails, so logs stay readable.
check() {
    local name="$1" out
    shift
    if out="$("$@" 2>&1)"; then
        pass "$name"
    else
        fail "$name"
        if [ -n "$out" ]; then printf '%s\n' "$out" | sed 's/^/#   /' | head -40; fi
    fi
}

# check_not <name> <cmd...>: ok when the command fails.
check_not() {
    local name="$1"
    shift
    if "$@" >/dev/null 2>&1; then fail "$name"; else pass "$name"; fi
}

# expect_eq <name> <expected> <actual>
expect_eq() {
    if [ "$2" == "$3" ]; then
        pass "$1"
    else
        fail "$1"
        printf '#   expected: %q\n#   actual:   %q\n' "$2" "$3"
    fi
}

# expect_match <name> <extended-regex> <actual>
expect_match() {
    if [[ "$3" =~ $2 ]]; then
        pass "$1"
    else
        fail "$1"
        printf '#   expected to match: %s\n#   actual: %q\n' "$2" "$3"
    fi
}

# finish: print the tally; exit 1 if anything failed.
finish() {
    note "$LIB_PASS passed, $LIB_FAIL failed"
    [ "$LIB_FAIL" -eq 0 ] || exit 1
    exit 0
}

# ---------------------------------------------------------------- ports

# port_in_use <port>: true when any TCP socket uses <port> locally, in any
# state: an outgoing connection's ephemeral port blocks a bind as well.
port_in_use() {
    if command -v ss >/dev/null 2>&1; then
        [ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

# port_listening <port>: true when a server listens on <port>.
port_listening() {
    [ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ]
}

# free_port: print a random unused port in 20000-60000. free_port runs in a
# $(...) subshell, so ports already handed out (whose server may not listen
# yet) are remembered in a file rather than a variable.
free_port() {
    local p i
    for i in $(seq 1 200); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        grep -qx "$p" "$LIB_TMP/ports" 2>/dev/null && continue
        # Redis cluster bus would use p+10000; keep that free as well.
        if ! port_in_use "$p" && ! port_in_use $((p + 10000)); then
            echo "$p" >>"$LIB_TMP/ports"
            echo "$p"
            return 0
        fi
    done
    echo "free_port: no free port found" >&2
    return 1
}

# ---------------------------------------------------------------- processes

# rcli <port> <args...>: redis-cli against a loopback port.
rcli() {
    local p="$1"
    shift
    "$REDIS_CLI" -h 127.0.0.1 -p "$p" "$@"
}

# wait_ready <port> <pid> [seconds]: wait until the server answers PING
# (PONG, or NOAUTH when it has a password). Fails early if the pid died.
wait_ready() {
    local port="$1" pid="$2" secs="${3:-10}" out i
    for i in $(seq 1 $((secs * 20))); do
        out="$(timeout 2 "$REDIS_CLI" -h 127.0.0.1 -p "$port" ping 2>&1)" || true
        case "$out" in
            PONG | NOAUTH* | *"-NOAUTH"*) return 0 ;;
        esac
        if [ -n "$pid" ] && ! pid_alive "$pid"; then
            echo "server pid $pid on port $port exited before answering" >&2
            return 1
        fi
        sleep 0.05
    done
    echo "server on port $port did not answer PING within ${secs}s" >&2
    return 1
}

# spawn <dir> <cmd...>: start a command in the background in <dir>, stdout
# and stderr to <dir>/stdout.log; sets LAST_PID and LAST_DIR.
spawn() {
    local dir="$1"
    shift
    mkdir -p "$dir" || return 1
    (cd "$dir" && exec "$@" >"$dir/stdout.log" 2>&1 </dev/null) &
    LAST_PID=$!
    LAST_DIR="$dir"
    LIB_PIDS+=("$LAST_PID")
}

# start_server_common <kind> <port> <cmd...>: spawn and wait for PING.
start_server_common() {
    local kind="$1" port="$2"
    shift 2
    spawn "$LIB_TMP/$kind-$port" "$@" || return 1
    if ! wait_ready "$port" "$LAST_PID" 10; then
        note "$kind on port $port failed to start; last log lines:"
        tail -n 20 "$LAST_DIR/stdout.log" 2>/dev/null | sed 's/^/#   /'
        return 1
    fi
}

# start_agent <port> [args...]: kvfleet-agent on 127.0.0.1:<port> in its own
# temp dir; sets LAST_PID / LAST_DIR; returns non-zero if it does not answer.
start_agent() {
    local port="$1"
    shift
    if [ ! -x "$KVFLEET_AGENT" ]; then
        note "agent binary $KVFLEET_AGENT is missing (run make)"
        return 1
    fi
    start_server_common agent "$port" "$KVFLEET_AGENT" --port "$port" --bind 127.0.0.1 "$@"
}

# start_redis <port> [args...]: Debian's redis-server, no persistence.
start_redis() {
    local port="$1"
    shift
    start_server_common redis "$port" "$REDIS_SERVER" --port "$port" --bind 127.0.0.1 \
        --save "" --appendonly no --daemonize no "$@"
}

# need_redis: skip the script when Debian's redis-server is not installed.
need_redis() {
    command -v "$REDIS_SERVER" >/dev/null 2>&1 || skip "redis-server not installed"
}

# need_tool <name>: skip when a tests/tools binary was not built.
need_tool() {
    [ -x "$KVFLEET_TOOLS/$1" ] || skip "tool $KVFLEET_TOOLS/$1 not built (run make all)"
}

# pid_alive <pid>: true while the process runs (a zombie, i.e. an exited
# child not yet reaped, counts as gone).
pid_alive() {
    local st
    kill -0 "$1" 2>/dev/null || return 1
    st="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)"
    [ "$st" != Z ]
}

# wait_pid_exit <pid> [seconds]: true once the pid is gone; a child's exit
# status is left in LIB_EXIT_STATUS.
LIB_EXIT_STATUS=
wait_pid_exit() {
    local pid="$1" secs="${2:-10}" i
    for i in $(seq 1 $((secs * 20))); do
        if ! pid_alive "$pid"; then
            LIB_EXIT_STATUS=0
            wait "$pid" 2>/dev/null || LIB_EXIT_STATUS=$?
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# forget_pid <pid>: drop a pid from the cleanup list (it exited on its own).
forget_pid() {
    local keep=() p
    for p in "${LIB_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    LIB_PIDS=("${keep[@]}")
}

# stop_pid <pid>: SIGTERM, wait up to 10 s, then SIGKILL.
stop_pid() {
    local pid="$1"
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_pid_exit "$pid" 10; then
        kill -KILL "$pid" 2>/dev/null || true
        wait_pid_exit "$pid" 2 || true
    fi
    forget_pid "$pid"
}

# Kill everything this script started, then remove its temp dir.
lib_cleanup() {
    local p
    for p in "${LIB_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${LIB_PIDS[@]}"; do
        wait_pid_exit "$p" 5 || { kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; } || true
    done
    LIB_PIDS=()
    if [ "${KVFLEET_KEEP_TMP:-0}" = 1 ]; then
        note "kept $LIB_TMP"
    else
        rm -rf "$LIB_TMP"
    fi
}
trap lib_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
