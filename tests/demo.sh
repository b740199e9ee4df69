#!/usr/bin/env bash
# demo.sh: start or stop a local kvfleet demo fleet.
#
#   tests/demo.sh start   kvfleetd on 127.0.0.1:7480 (when bin/kvfleetd exists)
#                         and three kvfleet-agents: 6379 (master), 6380 and
#                         6381 (replicas of 6379); registers them with the
#                         controller and prints the dashboard URL and examples
#   tests/demo.sh stop    stops what `start` started, by the recorded pids
#   tests/demo.sh status  shows what is running
#
# Everything lives under ./demo/ of the repository: one working dir per
# agent (data, log), kvfleetd.log, kvfleet.db and a .pid file per process.
# `start` refuses to run when one of the ports is already taken.
# Env: KVFLEET_BIN (default: bin/ of the repository).

set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${KVFLEET_BIN:-$root/bin}"
DEMO="$root/demo"
MASTER=6379
REPLICAS=(6380 6381)
HTTP=127.0.0.1:7480
URL="http://$HTTP"

say() { printf '%s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

listening() { [ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ]; }

# ours <pidfile>: print the pid if it is alive and is one of our binaries.
ours() {
    local pid
    pid="$(cat "$1" 2>/dev/null)" || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kvfleet' || return 1
    echo "$pid"
}

# wait_up <what> <cmd...>: poll a readiness command for up to 10 s.
wait_up() {
    local what="$1" i
    shift
    for i in $(seq 1 100); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    say "demo: $what did not come up; see its log under $DEMO/" >&2
    return 1
}

agent_up() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]; }

start_agent() {
    local port="$1"
    shift
    local dir="$DEMO/agent-$port"
    mkdir -p "$dir" || die "cannot create $dir"
    nohup "$BIN/kvfleet-agent" --port "$port" --bind 127.0.0.1 --dir "$dir" \
        --logfile "$dir/agent.log" "$@" >"$dir/stdout.log" 2>&1 </dev/null &
    echo $! >"$DEMO/agent-$port.pid"
    wait_up "kvfleet-agent on port $port" agent_up "$port"
}

start_controller() {
    nohup "$BIN/kvfleetd" --http-bind "$HTTP" --db-path "$DEMO/kvfleet.db" \
        >"$DEMO/kvfleetd.log" 2>&1 </dev/null &
    echo $! >"$DEMO/kvfleetd.pid"
    wait_up "kvfleetd on $HTTP" curl -sf "$URL/api/v1/health"
}

# api <method> <path> <json>: best-effort call; prints the HTTP status.
api() {
    curl -s -o /dev/null -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
        --data-binary "$3" "$URL$2" 2>/dev/null
}

register_fleet() {
    local s n=1 port names=()
    for port in "$MASTER" "${REPLICAS[@]}"; do
        s="$(api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$port,\"name\":\"node$n\"}")"
        say "  register node$n (127.0.0.1:$port): HTTP $s"
        names+=("\"node$n\"")
        n=$((n + 1))
    done
    s="$(api POST /api/v1/clusters "{\"name\":\"demo\",\"master\":\"node1\",\"replicas\":[${names[1]},${names[2]}]}")"
    say "  register cluster demo (master node1): HTTP $s"
}

cmd_start() {
    local port p
    [ -x "$BIN/kvfleet-agent" ] || die "$BIN/kvfleet-agent not found; run 'make' first"
    command -v redis-cli >/dev/null || die "redis-cli is required (apt-get install redis-tools)"
    for p in "$DEMO"/*.pid; do
        [ -e "$p" ] && ours "$p" >/dev/null && die "a demo is already running ($p); run 'tests/demo.sh stop' first"
    done
    local ports=("$MASTER" "${REPLICAS[@]}")
    [ -x "$BIN/kvfleetd" ] && ports+=("${HTTP##*:}" 26379)
    for port in "${ports[@]}"; do
        if listening "$port"; then
            die "port $port is already in use ($(ss -Hltnp "( sport = :$port )" 2>/dev/null | grep -o 'users:.*' | head -n1)); stop whatever uses it and retry"
        fi
    done
    mkdir -p "$DEMO" || die "cannot create $DEMO"
    rm -f "$DEMO"/*.pid

    say "starting kvfleet-agent master on $MASTER"
    # No diskless-sync delay: replicas get their first copy at once.
    start_agent "$MASTER" --repl-diskless-sync-delay 0 || { cmd_stop; exit 1; }
    for port in "${REPLICAS[@]}"; do
        say "starting kvfleet-agent replica on $port (replicaof 127.0.0.1 $MASTER)"
        start_agent "$port" --replicaof 127.0.0.1 "$MASTER" || { cmd_stop; exit 1; }
    done
    if [ -x "$BIN/kvfleetd" ]; then
        say "starting kvfleetd on $HTTP (db $DEMO/kvfleet.db)"
        start_controller || { cmd_stop; exit 1; }
        register_fleet
    else
        say "note: $BIN/kvfleetd not built; starting the agents only"
    fi
    cat <<EOF

kvfleet demo is running (files under $DEMO/).
  Dashboard:   $URL/   (the web dashboard is not built yet; the JSON API below is live)
  API:         curl -s $URL/api/v1/health
               curl -s $URL/api/v1/nodes
               curl -s $URL/api/v1/clusters
               curl -s $URL/api/v1/events
  Master:      redis-cli -p $MASTER set greeting hello
  Replicas:    redis-cli -p ${REPLICAS[0]} get greeting
               redis-cli -p ${REPLICAS[1]} info replication
  Sentinel:    redis-cli -p 26379 sentinel get-master-addr-by-name demo
  Failover:    curl -s $URL/api/v1/clusters/demo/failover/plan      (dry run: why, and who)
               kill -9 \$(cat $DEMO/agent-$MASTER.pid)              (then, about a second later:)
               curl -s $URL/api/v1/clusters/demo/master
               curl -s $URL/api/v1/clusters/demo/failovers
  Switchover:  curl -s -X POST $URL/api/v1/clusters/demo/switchover -d '{"candidate":"node2"}'
  Stop:        make demo-stop   (or tests/demo.sh stop)
EOF
}

cmd_stop() {
    local p pid i stopped=0
    # The controller goes first so it does not react to agents going away.
    for p in "$DEMO"/kvfleetd.pid "$DEMO"/agent-*.pid; do
        [ -e "$p" ] || continue
        if pid="$(ours "$p")"; then
            kill -TERM "$pid" 2>/dev/null
            for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
            say "stopped $(basename "$p" .pid) (pid $pid)"
            stopped=$((stopped + 1))
        fi
        rm -f "$p"
    done
    [ "$stopped" -gt 0 ] || say "no demo process was running"
}

cmd_status() {
    local p pid any=0
    for p in "$DEMO"/*.pid; do
        [ -e "$p" ] || continue
        any=1
        if pid="$(ours "$p")"; then
            say "$(basename "$p" .pid): running (pid $pid)"
        else
            say "$(basename "$p" .pid): not running"
        fi
    done
    [ "$any" = 1 ] || say "no demo started"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) die "usage: tests/demo.sh start|stop|status" ;;
esac
