#!/usr/bin/env bash
# shellcheck disable=SC2154  # PORT_node1..3 come from the sourced demo.env
# test_demo.sh - the demo of `make demo` / `make demo-failover` /
# `make demo-stop` (tests/demo.sh) against the built binaries, in a temp
# DEMO_DIR on free ports (DEMO_HTTP_PORT, DEMO_SENTINEL_PORT, DEMO_PORTS), so
# it never touches 6379, 7480 or 26379:
#  - a node port held by another process is skipped, and the script says so;
#  - start: the printed dashboard URL answers 200 text/html, the metrics URL
#    has redis_up, the Sentinel lookup names the master, the printed curl
#    commands work, the demo keys are on a replica, every listener is on
#    127.0.0.1;
#  - a second start while it runs starts nothing and prints the URLs again;
#  - failover: the master is SIGKILLed, a new master is reported, the killed
#    node is restarted and rejoins as a replica;
#  - stop: every process (by the pids it recorded) is gone, pid files
#    removed; a second stop is harmless.
set -u
. "$(dirname "$0")/lib.sh"

for t in curl jq redis-cli python3 ss; do
    command -v "$t" >/dev/null 2>&1 || skip "missing $t"
done
for b in kvfleetd kvfleet-agent; do
    [ -x "$KVFLEET_BIN/$b" ] || skip "no $KVFLEET_BIN/$b (run make)"
done

DEMO_SH="$LIB_ROOT/tests/demo.sh"
export DEMO_DIR="$LIB_TMP/demo"
HTTP="$(free_port)" && SENT="$(free_port)" && P1="$(free_port)" && P2="$(free_port)" && P3="$(free_port)" ||
    { fail "free ports"; finish; }
export DEMO_HTTP_PORT="$HTTP" DEMO_SENTINEL_PORT="$SENT" DEMO_PORTS="$P1 $P2 $P3"
note "ports: http $HTTP sentinel $SENT nodes $P1 $P2 $P3; DEMO_DIR $DEMO_DIR"

demo() { bash "$DEMO_SH" "$@"; }

# Whatever happens, the demo is stopped (by its own pid files) before
# lib.sh removes the temp dir.
demo_cleanup() {
    [ -d "$DEMO_DIR" ] && demo stop >/dev/null 2>&1
    lib_cleanup
}
trap demo_cleanup EXIT

# demo_procs: pids of live processes whose command line names DEMO_DIR.
demo_procs() {
    local f pid
    for f in /proc/[0-9]*/cmdline; do
        pid="${f#/proc/}"
        pid="${pid%/cmdline}"
        tr '\0' ' ' <"$f" 2>/dev/null | grep -qF "$DEMO_DIR/" && pid_alive "$pid" && echo "$pid"
    done
}

# ---- a port the demo wants is taken: it moves on and says so
python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
time.sleep(300)
' "$P2" &
BLOCKER=$!
LIB_PIDS+=("$BLOCKER")
wait_until_listening() { local _; for _ in $(seq 1 50); do port_listening "$1" && return 0; sleep 0.1; done; return 1; }
wait_until_listening "$P2" || { fail "blocker listens on $P2"; finish; }

# ---- start
OUT="$LIB_TMP/start.out"
demo start >"$OUT" 2>&1
rc=$?
expect_eq "demo start exits 0" 0 "$rc"
if [ "$rc" != 0 ]; then
    sed 's/^/#   /' "$OUT"
    tail -n 20 "$DEMO_DIR/kvfleetd.log" 2>/dev/null | sed 's/^/#   /'
    finish
fi
sed 's/^/#   | /' "$OUT"
check "says that port $P2 is taken and moves on" grep -q "port $P2 (node2) is taken" "$OUT"
# demo.env: HTTP_PORT, SENTINEL_PORT, PORT_node1..3 as the script chose them.
# shellcheck disable=SC1091
. "$DEMO_DIR/demo.env"
check "node2 got another port than $P2" test "$PORT_node2" != "$P2"
check "node2 port said aloud" grep -q "using port $PORT_node2 for node2 (instead of $P2)" "$OUT"
expect_eq "node1 on its wanted port" "$P1" "$PORT_node1"
expect_eq "kvfleetd on its wanted port" "$HTTP" "$HTTP_PORT"
stop_pid "$BLOCKER"

DASH="$(sed -n 's/^ *Dashboard: *//p' "$OUT" | head -n 1)"
METRICS="$(sed -n 's/^ *Metrics: *//p' "$OUT" | head -n 1)"
expect_eq "dashboard URL printed" "http://127.0.0.1:$HTTP/" "$DASH"
expect_eq "metrics URL printed" "http://127.0.0.1:$HTTP/metrics" "$METRICS"
ans="$(curl -s -o "$LIB_TMP/dash.html" -w '%{http_code} %{content_type}' --max-time 5 "$DASH")"
expect_match "dashboard answers 200 text/html" '^200 text/html' "$ans"
check "dashboard page is HTML" grep -qi '<html' "$LIB_TMP/dash.html"
curl -s --max-time 5 "$METRICS" >"$LIB_TMP/metrics"
check "metrics have redis_up for the demo nodes" grep -q '^redis_up{.*cluster="demo".*} 1' "$LIB_TMP/metrics"

# The Sentinel lookup, exactly as printed.
SCMD="$(grep -m1 'SENTINEL get-master-addr-by-name demo' "$OUT" | sed 's/^ *//')"
expect_eq "Sentinel command printed with the port" "redis-cli -p $SENT SENTINEL get-master-addr-by-name demo" "$SCMD"
expect_eq "Sentinel port names the master node1" "127.0.0.1 $P1" "$(bash -c "$SCMD" | tr '\n' ' ' | sed 's/ $//')"

# The printed curl commands work as pasted.
CCMD="$(grep -m1 "curl -s http://127.0.0.1:$HTTP/api/v1/clusters/demo |" "$OUT" | sed 's/^ *//')"
expect_eq "cluster status command: healthy, master node1" "healthy node1" \
    "$(bash -c "$CCMD" | jq -r '"\(.health) \(.master)"')"
ECMD="$(grep -m1 "/api/v1/events?cluster=demo" "$OUT" | sed 's/^ *//')"
check "events command lists replica.added" bash -c "$ECMD | grep -q replica.added"
check "switchover command printed" grep -q "curl -s -X POST http://127.0.0.1:$HTTP/api/v1/clusters/demo/switchover" "$OUT"
check "failover and stop commands printed" bash -c "grep -q 'demo.sh failover' '$OUT' && grep -q 'demo.sh stop' '$OUT'"
expect_eq "demo keys replicated to node3" "hello from kvfleet" "$(rcli "$PORT_node3" get greeting)"

declare -A PID
for n in kvfleetd node1 node2 node3; do PID[$n]="$(cat "$DEMO_DIR/$n.pid" 2>/dev/null)"; done
for n in kvfleetd node1 node2 node3; do
    check "$n runs (pid ${PID[$n]})" pid_alive "${PID[$n]}"
done
nonlocal="$(ss -Hltnp 2>/dev/null | grep -E "pid=(${PID[kvfleetd]}|${PID[node1]}|${PID[node2]}|${PID[node3]})," | awk '{print $4}' | grep -v '^127\.0\.0\.1:')"
expect_eq "every demo listener is on 127.0.0.1" "" "$nonlocal"
expect_eq "four demo processes" 4 "$(demo_procs | wc -l)"

# ---- a second start while it runs
OUT2="$LIB_TMP/start2.out"
demo start >"$OUT2" 2>&1
expect_eq "second start exits 0" 0 "$?"
check "second start says it already runs" grep -q "already running" "$OUT2"
check "second start prints the dashboard URL again" grep -q "Dashboard: *http://127.0.0.1:$HTTP/" "$OUT2"
expect_eq "still four demo processes" 4 "$(demo_procs | wc -l)"
expect_eq "same kvfleetd pid" "${PID[kvfleetd]}" "$(cat "$DEMO_DIR/kvfleetd.pid")"

# ---- failover
OUT3="$LIB_TMP/failover.out"
demo failover >"$OUT3" 2>&1
rc=$?
sed 's/^/#   | /' "$OUT3"
expect_eq "demo failover exits 0" 0 "$rc"
check "says which master it kills" grep -q "node1 (127.0.0.1:$P1, pid ${PID[node1]}): killing it with SIGKILL" "$OUT3"
check_not "old master pid ${PID[node1]} is gone" pid_alive "${PID[node1]}"
NEW="$(curl -s --max-time 5 "http://127.0.0.1:$HTTP/api/v1/clusters/demo/master" | jq -r .node)"
expect_match "a new master is reported" '^node[23]$' "$NEW"
check "failover prints the new master and the time" grep -Eq "^new master: $NEW \(127.0.0.1:[0-9]+\), [0-9]+\.[0-9]{3} s after the kill" "$OUT3"
expect_eq "Sentinel port names the new master" "127.0.0.1 $(eval "echo \$PORT_$NEW")" \
    "$(redis-cli -p "$SENT" SENTINEL get-master-addr-by-name demo | tr '\n' ' ' | sed 's/ $//')"
check "node1 restarted and rejoined as a replica" grep -q "node1 rejoined as a replica of $NEW" "$OUT3"
R1="$(cat "$DEMO_DIR/node1.pid")"
check "restarted node1 (pid $R1) runs" pid_alive "$R1"
expect_eq "restarted node1 has the demo keys" "hello from kvfleet" "$(rcli "$P1" get greeting)"

out="$(demo status 2>&1)"
check "status names the new master" grep -q "master of demo: $NEW" <<<"$out"

# ---- stop
OUT4="$LIB_TMP/stop.out"
demo stop >"$OUT4" 2>&1
expect_eq "demo stop exits 0" 0 "$?"
sed 's/^/#   | /' "$OUT4"
for p in "${PID[kvfleetd]}" "${PID[node2]}" "${PID[node3]}" "$R1"; do
    check_not "pid $p stopped" pid_alive "$p"
done
expect_eq "no demo process left" 0 "$(demo_procs | wc -l)"
expect_eq "pid files removed" "" "$(ls "$DEMO_DIR"/*.pid 2>/dev/null)"
for p in "$HTTP" "$SENT" "$PORT_node1" "$PORT_node2" "$PORT_node3"; do
    check_not "port $p no longer listening" port_listening "$p"
done
out="$(demo stop 2>&1)"
expect_eq "second stop exits 0" 0 "$?"
check "second stop: nothing was running" grep -q "no demo process was running" <<<"$out"
check "logs kept" test -s "$DEMO_DIR/kvfleetd.log"

finish
