# ctl_lib.sh - helpers for the controller (kvfleetd) end-to-end tests,
# tests/e2e/test_ctl_*.sh. Self-contained: free loopback ports, node and
# controller start-up, a curl wrapper, bounded waits, "ok - name" /
# "not ok - name" result lines, and an EXIT trap that kills every process it
# started (by pid, SIGCONT first in case a test stopped it) and removes the
# temp dir.
#
# Environment:
#   KVFLEET_BIN          dir holding kvfleetd (default: <repo>/bin)
#   KVFLEET_NODE_SERVER  binary used for data nodes (default
#                        /usr/bin/redis-server; set to the kvfleet-agent once
#                        it replicates)
#   KVFLEET_KEEP_TMP=1   keep the temp dir (logs, database) for inspection

CTL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${KVFLEET_BIN:=$CTL_ROOT/bin}"
# Data nodes are kvfleet-agents by default (the issue: "kvfleetd plus three
# kvfleet-agents and one Debian redis-server"); node d is always redis-server.
: "${KVFLEET_NODE_SERVER:=$KVFLEET_BIN/kvfleet-agent}"
KVFLEETD="$KVFLEET_BIN/kvfleetd"

CTL_TMP="$(mktemp -d "${TMPDIR:-/tmp}/kvfleet-ctl.XXXXXX")" || exit 1
CTL_PIDS=()
CTL_PORTS=()
CTL_PASS=0
CTL_FAIL=0
CTL_PID=
CTL_PORT=
CTL_URL=
SENTINEL_PORT=
TOKEN=
STATUS=
BODY=

note() { printf '# %s\n' "$*"; }
pass() { CTL_PASS=$((CTL_PASS + 1)); printf 'ok - %s\n' "$1"; }
fail() { CTL_FAIL=$((CTL_FAIL + 1)); printf 'not ok - %s\n' "$1"; }
skip() { note "SKIP: $*"; exit 77; }

ctl_cleanup() {
    local p
    for p in "${CTL_PIDS[@]}"; do
        kill -CONT "$p" 2>/dev/null
        kill "$p" 2>/dev/null
    done
    for p in "${CTL_PIDS[@]}"; do
        # bounded wait: 50 x 0.1 s, then SIGKILL
        local i
        for i in $(seq 1 50); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null
    done
    wait 2>/dev/null
    if [ "${KVFLEET_KEEP_TMP:-0}" = 1 ]; then
        note "kept $CTL_TMP"
    else
        rm -rf "$CTL_TMP"
    fi
}
trap ctl_cleanup EXIT

# finish: summary line and exit status.
finish() {
    printf '# %d passed, %d failed\n' "$CTL_PASS" "$CTL_FAIL"
    if [ "$CTL_FAIL" -ne 0 ]; then
        if [ -f "$CTL_TMP/ctl.log" ]; then
            note "last lines of kvfleetd log:"
            tail -n 30 "$CTL_TMP/ctl.log" | sed 's/^/#   /'
        fi
        exit 1
    fi
    exit 0
}

need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || skip "missing $c"
    done
}
need curl jq redis-cli ss
[ -x "$KVFLEETD" ] || skip "no $KVFLEETD (run make)"
[ -x "$KVFLEET_NODE_SERVER" ] || skip "no node server $KVFLEET_NODE_SERVER"

# alloc_port <VAR>: set VAR to a loopback TCP port nobody listens on and
# that this script has not handed out yet (no subshell, so the list of ports
# handed out stays accurate).
alloc_port() {
    local _ap_p _ap_i _ap_u _ap_used
    for _ap_i in $(seq 1 200); do
        _ap_p=$((20000 + RANDOM % 12000))   # below the ephemeral range
        _ap_used=0
        for _ap_u in "${CTL_PORTS[@]}"; do [ "$_ap_u" = "$_ap_p" ] && _ap_used=1; done
        [ "$_ap_used" = 1 ] && continue
        if [ -z "$(ss -Htan "sport = :$_ap_p" 2>/dev/null)" ]; then
            CTL_PORTS+=("$_ap_p")
            printf -v "$1" '%s' "$_ap_p"
            return 0
        fi
    done
    echo "alloc_port: no free port found" >&2
    return 1
}

# wait_until <seconds> <cmd...>: poll every 0.1 s, bounded in time and count.
wait_until() {
    local secs="$1" i n
    shift
    n=$((secs * 10))
    for i in $(seq 1 "$n"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# start_node <port> [extra args...]: a data node on 127.0.0.1 (Redis 7 or a
# kvfleet-agent through KVFLEET_NODE_SERVER). Sets LAST_PID.
start_node() { start_server_bin "$KVFLEET_NODE_SERVER" "$@"; }
# start_redis <port> [extra args...]: always Debian's redis-server.
start_redis() { start_server_bin /usr/bin/redis-server "$@"; }

start_server_bin() {
    local bin="$1" port="$2"
    shift 2
    local dir="$CTL_TMP/node-$port"
    mkdir -p "$dir"
    "$bin" --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        --repl-diskless-sync-delay 0 --dir "$dir" --logfile "$dir/node.log" "$@" \
        >"$dir/stdout" 2>&1 &
    LAST_PID=$!
    CTL_PIDS+=("$LAST_PID")
    eval "NODE_PID_$port=$LAST_PID"
    local i ok=0
    for i in $(seq 1 100); do
        kill -0 "$LAST_PID" 2>/dev/null || break
        if redis-cli -p "$port" ping >/dev/null 2>&1; then ok=1; break; fi
        sleep 0.1
    done
    # The port must be ours: the reconciler sends REPLICAOF, never let it
    # adopt a stranger's server that happened to hold the port.
    if [ "$ok" = 1 ]; then
        local owner
        owner="$(ss -Htlnp "sport = :$port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)"
        if [ "$owner" != "$LAST_PID" ]; then
            note "port $port is held by pid ${owner:-?}, not by our node $LAST_PID"
            ok=0
        fi
    fi
    if [ "$ok" != 1 ]; then
        note "node on port $port did not start:"
        tail -n 5 "$dir/node.log" "$dir/stdout" 2>/dev/null | sed 's/^/#   /'
        return 1
    fi
}

node_pid() { eval "echo \${NODE_PID_$1}"; }

# start_ctl [directives...]: kvfleetd on a fresh (or the existing) database
# in $CTL_TMP; waits for /api/v1/health.
start_ctl() {
    [ -n "$CTL_PORT" ] || alloc_port CTL_PORT
    [ -n "$SENTINEL_PORT" ] || alloc_port SENTINEL_PORT
    CTL_URL="http://127.0.0.1:$CTL_PORT"
    "$KVFLEETD" --http-bind "127.0.0.1:$CTL_PORT" --sentinel-bind "127.0.0.1:$SENTINEL_PORT" \
        --db-path "$CTL_TMP/ctl.db" \
        --logfile "$CTL_TMP/ctl.log" --loglevel verbose "$@" >>"$CTL_TMP/ctl.stdout" 2>&1 &
    CTL_PID=$!
    CTL_PIDS+=("$CTL_PID")
    local i ok=0 code
    for i in $(seq 1 100); do
        kill -0 "$CTL_PID" 2>/dev/null || break
        # any HTTP answer (even 401 with api-auth-reads) means it is up
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$CTL_URL/api/v1/health")"
        if [ "$code" != 000 ]; then ok=1; break; fi
        sleep 0.1
    done
    if [ "$ok" != 1 ]; then
        note "kvfleetd did not start:"
        tail -n 20 "$CTL_TMP/ctl.log" "$CTL_TMP/ctl.stdout" 2>/dev/null | sed 's/^/#   /'
        return 1
    fi
}

# stop_ctl: SIGTERM and wait (bounded) for a clean exit; returns its status.
stop_ctl() {
    local i
    kill -TERM "$CTL_PID" 2>/dev/null
    for i in $(seq 1 100); do
        kill -0 "$CTL_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$CTL_PID" 2>/dev/null; then
        kill -KILL "$CTL_PID"
        wait "$CTL_PID" 2>/dev/null
        return 124
    fi
    wait "$CTL_PID"
}

# api <METHOD> <path> [json-body]: sets STATUS and BODY. Sends the bearer
# token when TOKEN is set.
api() {
    local method="$1" path="$2" data="${3-}"
    local args=(-s -o "$CTL_TMP/body" -w '%{http_code}' -X "$method" --max-time 10)
    [ -n "$TOKEN" ] && args+=(-H "Authorization: Bearer $TOKEN")
    if [ $# -ge 3 ]; then
        args+=(-H 'Content-Type: application/json' --data-binary "$data")
    fi
    STATUS="$(curl "${args[@]}" "$CTL_URL$path")"
    BODY="$(cat "$CTL_TMP/body" 2>/dev/null)"
}

# jbody <jq-filter>: evaluate a filter on the last BODY (raw output).
jbody() { printf '%s' "$BODY" | jq -r "$1" 2>/dev/null; }

# expect_status <name> <code>: check the last api call's status.
expect_status() {
    if [ "$STATUS" = "$2" ]; then
        pass "$1 ($2)"
    else
        fail "$1: expected HTTP $2, got $STATUS"
        printf '#   body: %s\n' "$(printf '%s' "$BODY" | head -c 400)"
    fi
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

# check <name> <cmd...>: ok when the command succeeds.
check() {
    local name="$1"
    shift
    if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name"; fi
}

# Wait helpers built on the API.
cluster_field() {   # cluster_field <cluster> <jq-filter>
    curl -s --max-time 5 "$CTL_URL/api/v1/clusters/$1" | jq -r "$2" 2>/dev/null
}
cluster_is() {      # cluster_is <cluster> <jq-filter> <expected>
    [ "$(cluster_field "$1" "$2")" = "$3" ]
}
node_field() {      # node_field <node> <jq-filter>
    curl -s --max-time 5 "$CTL_URL/api/v1/nodes/$1" | jq -r "$2" 2>/dev/null
}
node_is() {
    [ "$(node_field "$1" "$2")" = "$3" ]
}
events_have() {     # events_have <kind> [node]
    local q="limit=1000"
    [ -n "${2-}" ] && q="$q&node=$2"
    curl -s --max-time 5 "$CTL_URL/api/v1/events?$q" |
        jq -e --arg k "$1" '[.events[] | select(.kind == $k)] | length > 0' >/dev/null 2>&1
}

# writer_checks <writer-output> <port of the master now>: what
# tests/e2e/py/writer.py acknowledged must all be on that master. Passes or
# fails "writer had acknowledged writes" and "zero acknowledged writes lost";
# sets WRITE_PAUSE_MS (first failed write to the next success, -1: none).
writer_checks() {
    local out="$1" port="$2" k ff fo
    for k in $(awk '/^ack/ {print $2}' "$out"); do echo "EXISTS w:$k"; done |
        redis-cli -p "$port" > "$out.exists"
    check "writer had acknowledged writes" test "$(grep -c '^ack' "$out")" -gt 10
    expect_eq "zero acknowledged writes lost" 0 "$(grep -c '^0' "$out.exists")"
    ff="$(sed -n 's/^first_fail_ms //p' "$out")"
    fo="$(sed -n 's/^first_ok_after_fail_ms //p' "$out")"
    WRITE_PAUSE_MS=-1
    [ "${ff:--1}" -ge 0 ] && [ "${fo:--1}" -ge 0 ] && WRITE_PAUSE_MS=$((fo - ff))
    note "write pause seen by the writer: $([ "$WRITE_PAUSE_MS" -ge 0 ] && echo "$WRITE_PAUSE_MS ms" || echo none)"
}
