#!/usr/bin/env bash
# test_ctl_failover.sh - automatic failover end to end on real processes:
#  1. kill -9 of the master while a writer (SET + WAIT 1 500, master found
#     through the Sentinel port) runs: a replica is promoted, writes resume,
#     no acknowledged write is lost, the other replica continues with a
#     partial resync, the old master rejoins as a replica when restarted;
#  2. anti-flap and empty restart: the new master is killed and restarted
#     at once with an empty dataset; the cooldown blocks a second automatic
#     failover (the restarted node stays fenced, no replica loses data);
#     acknowledging the first failover lets the second one happen;
#  3. SIGSTOP of the master, SIGCONT later: failover, then the old master is
#     demoted; a checker asking every node every 10 ms never finds two
#     writable masters;
#  4. the controller cut off from a healthy master (a proxy that drops only
#     the controller's connections): no failover;
#  5. a priority-0 replica and a lagging replica are never promoted.
# Data nodes are kvfleet-agents with `controller` set (fenced at start);
# the lagging replica is Debian's redis-server (CLIENT PAUSE stalls it).
set -u
. "$(dirname "$0")/ctl_lib.sh"
need python3
PY="$(cd "$(dirname "$0")" && pwd)/py"

start_ctl --monitor-interval-ms 100 --monitor-timeout-ms 500 || { fail "kvfleetd start"; finish; }
pass "kvfleetd started"

# agent <name> <port> [args...]: a fenced-at-start agent that registers itself.
agent() {
    local name="$1" port="$2"
    shift 2
    start_node "$port" --controller "$CTL_URL" --node-name "$name" "$@"
}
master_of() { curl -s --max-time 5 "$CTL_URL/api/v1/clusters/$1/master" | jq -r .node; }
master_is() { [ "$(master_of "$1")" = "$2" ]; }
master_not() { local m; m="$(master_of "$1")"; [ -n "$m" ] && [ "$m" != null ] && [ "$m" != "$2" ]; }
port_of() { curl -s --max-time 5 "$CTL_URL/api/v1/nodes/$1" | jq -r .port; }
role_of() { redis-cli -p "$1" role 2>/dev/null | head -1; }
info_field() { redis-cli -p "$1" info "$2" 2>/dev/null | tr -d '\r' | sed -n "s/^$3://p"; }
replica_linked_to() {   # replica_linked_to <replica-port> <master-port>
    [ "$(info_field "$1" replication master_port)" = "$2" ] &&
        [ "$(info_field "$1" replication master_link_status)" = up ]
}
last_failover() { curl -s --max-time 5 "$CTL_URL/api/v1/clusters/$1/failovers?limit=1" | jq -r ".failovers[0]$2"; }
failover_count() { curl -s --max-time 5 "$CTL_URL/api/v1/clusters/$1/failovers" | jq '[.failovers[] | select(.status == "done")] | length'; }

# ---- 1. kill -9 with a writer --------------------------------------------------
alloc_port PA; alloc_port PB; alloc_port PC
agent a "$PA" || { fail "agent a"; finish; }
agent b "$PB" || { fail "agent b"; finish; }
agent c "$PC" || { fail "agent c"; finish; }
for n in a b c; do wait_until 15 node_is "$n" .name "$n" || fail "agent $n registered"; done
api POST /api/v1/clusters '{"name":"c1","master":"a","replicas":["b","c"]}'
expect_status "create c1" 201
if wait_until 20 cluster_is c1 .health healthy; then pass "c1 healthy (a confirmed, b and c linked)"; else
    fail "c1 healthy"; note "$(cluster_field c1 .)"; fi
check "a accepts writes once confirmed" test "$(redis-cli -p "$PA" set seed 1)" = OK

python3 "$PY/writer.py" 9 "$CTL_TMP/writer1" --sentinel "$SENTINEL_PORT" c1 &
WPID=$!
CTL_PIDS+=("$WPID")
sleep 2
kill -9 "$(node_pid "$PA")"
note "killed a (port $PA)"
if wait_until 10 master_not c1 a; then pass "a replica was promoted"; else fail "a replica was promoted"; fi
NEW="$(master_of c1)"; NEWP="$(port_of "$NEW")"; OTHER=b; [ "$NEW" = b ] && OTHER=c
OTHERP="$(port_of "$OTHER")"
note "new master $NEW ($NEWP), other replica $OTHER"
check "new master reports role master" test "$(role_of "$NEWP")" = master
if wait_until 10 replica_linked_to "$OTHERP" "$NEWP"; then pass "$OTHER follows $NEW"; else fail "$OTHER follows $NEW"; fi
check "Sentinel port names the new master" test "$(redis-cli -p "$SENTINEL_PORT" sentinel get-master-addr-by-name c1 | tail -1)" = "$NEWP"
wait "$WPID"
note "writer: $(tail -1 "$CTL_TMP/writer1")"
writer_checks "$CTL_TMP/writer1" "$NEWP"
check "writes resumed within 5 s" test "$WRITE_PAUSE_MS" -ge 0 -a "$WRITE_PAUSE_MS" -lt 5000
expect_eq "failover recorded as done" done "$(last_failover c1 .status)"
expect_eq "failover was automatic" automatic "$(last_failover c1 .kind)"
expect_eq "other replica resynced partially" partial "$(last_failover c1 " | .replicas[] | select(.node == \"$OTHER\") | .resync")"
expect_eq "no full resync on the new master" 0 "$(info_field "$NEWP" stats sync_full)"
check "journal has master.failed and failover.done" bash -c "curl -s '$CTL_URL/api/v1/events?cluster=c1&limit=200' | jq -e '[.events[].kind] | index(\"master.failed\") and index(\"failover.done\") and index(\"cluster.master\")'"
# a comes back (empty, fenced at start) and is made a replica of the new master.
agent a "$PA" || fail "a restarted"
if wait_until 15 replica_linked_to "$PA" "$NEWP"; then pass "old master rejoined as a replica"; else
    fail "old master rejoined as a replica"; note "$(redis-cli -p "$PA" info replication | tr -d '\r' | head -8)"; fi
if wait_until 10 cluster_is c1 .health healthy; then pass "c1 healthy again"; else fail "c1 healthy again"; note "$(cluster_field c1 .reasons)"; fi

# ---- 2. anti-flap and empty restart --------------------------------------------
FIRST_ID="$(last_failover c1 .id)"
for i in $(seq 1 50); do echo "SET keep:$i v$i"; done | redis-cli -p "$NEWP" >/dev/null
if wait_until 10 bash -c "[ \"\$(redis-cli -p $PA dbsize)\" = \"\$(redis-cli -p $NEWP dbsize)\" ]"; then
    pass "replicas caught up before the restart"; else fail "replicas caught up before the restart"; fi
KEYS_BEFORE="$(redis-cli -p "$NEWP" dbsize)"
kill -9 "$(node_pid "$NEWP")"
agent "$NEW" "$NEWP" || fail "$NEW restarted"
note "$NEW killed and restarted empty at once"
if wait_until 10 events_have failover.blocked; then pass "cooldown blocks a second automatic failover"; else
    fail "cooldown blocks a second automatic failover"; fi
check "verdict names the restart or the failure and the cooldown" bash -c "curl -s '$CTL_URL/api/v1/events?cluster=c1&limit=50' | jq -e '[.events[] | select(.kind == \"failover.blocked\") | .message][0] | test(\"cooldown\")'"
check "restarted master stays fenced (writes refused)" bash -c "redis-cli -p $NEWP set x 1 | grep -q READONLY"
for p in $PA $OTHERP; do
    check "replica on $p kept its data ($KEYS_BEFORE keys)" test "$(redis-cli -p "$p" dbsize)" = "$KEYS_BEFORE"
done
api POST "/api/v1/failovers/$FIRST_ID/ack" '{"comment":"seen, go on"}'
expect_status "acknowledge the first failover" 200
if wait_until 10 master_not c1 "$NEW"; then pass "failover after the acknowledgement"; else fail "failover after the acknowledgement"; fi
M2="$(master_of c1)"; M2P="$(port_of "$M2")"
if wait_until 15 replica_linked_to "$NEWP" "$M2P"; then pass "empty restarted node became a replica"; else fail "empty restarted node became a replica"; fi
check "no data lost across the empty restart" test "$(redis-cli -p "$M2P" dbsize)" -ge "$KEYS_BEFORE"
two_done() { [ "$(failover_count c1)" = 2 ]; }
if wait_until 10 two_done; then pass "two automatic failovers done"; else fail "two automatic failovers done"; fi

# ---- 3. SIGSTOP / SIGCONT and the two-writable-masters checker -------------------
api PATCH /api/v1/clusters/c1 '{"settings":{"failover_cooldown_ms":0}}'
expect_status "cooldown off for c1" 200
wait_until 10 cluster_is c1 .health healthy || note "c1 not healthy before SIGSTOP: $(cluster_field c1 .reasons)"
python3 "$PY/writable_check.py" 12 "$PA" "$PB" "$PC" > "$CTL_TMP/check" 2>&1 &
CPID=$!
CTL_PIDS+=("$CPID")
sleep 1
kill -STOP "$(node_pid "$M2P")"
note "SIGSTOP $M2 (port $M2P)"
if wait_until 10 master_not c1 "$M2"; then pass "failover of a stopped master"; else fail "failover of a stopped master"; fi
M3P="$(port_of "$(master_of c1)")"
sleep 1
kill -CONT "$(node_pid "$M2P")"
note "SIGCONT $M2"
if wait_until 10 replica_linked_to "$M2P" "$M3P"; then pass "resumed old master demoted to replica"; else
    fail "resumed old master demoted to replica"; note "$(redis-cli -p "$M2P" role | tr '\n' ' ')"; fi
wait "$CPID"; crc=$?
note "checker: $(tail -1 "$CTL_TMP/check")"
expect_eq "never two writable masters" 0 "$crc"
check "checker saw a writable master" grep -q 'max_writable=1' "$CTL_TMP/check"

# ---- 4. controller cut off from a healthy master ---------------------------------
alloc_port QA; alloc_port QB; alloc_port QC; alloc_port QP
start_node "$QA" || fail "node qa"
start_node "$QB" || fail "node qb"
start_node "$QC" || fail "node qc"
echo open > "$CTL_TMP/proxyctl"
python3 "$PY/ctlproxy.py" "$QP" "$QA" "$CTL_TMP/proxyctl" &
CTL_PIDS+=("$!")
wait_until 5 redis-cli -p "$QP" ping || fail "proxy up"
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$QP,\"name\":\"qa\"}"
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$QB,\"name\":\"qb\"}"
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$QC,\"name\":\"qc\"}"
api POST /api/v1/clusters '{"name":"c4","master":"qa","replicas":["qb","qc"]}'
expect_status "create c4 behind the proxy" 201
if wait_until 20 cluster_is c4 .health healthy; then pass "c4 healthy"; else fail "c4 healthy"; note "$(cluster_field c4 .reasons)"; fi
echo cut > "$CTL_TMP/proxyctl"
note "controller cut off from qa; replicas keep their links"
if wait_until 10 node_is qa .status.state down; then pass "controller sees qa down"; else fail "controller sees qa down"; fi
sleep 2
expect_eq "no failover of a healthy master" qa "$(master_of c4)"
expect_eq "no failover recorded" 0 "$(curl -s "$CTL_URL/api/v1/clusters/c4/failovers" | jq '.failovers | length')"
check "plan says the controller is cut off" bash -c "curl -s $CTL_URL/api/v1/clusters/c4/failover/plan | jq -e '.master_verdict == \"unconfirmed\" and (.verdict | test(\"cut off\"))'"
check "qa still takes writes" test "$(redis-cli -p "$QA" set cutoff 1)" = OK
echo open > "$CTL_TMP/proxyctl"
if wait_until 10 cluster_is c4 .health healthy; then pass "c4 healthy after the cut"; else fail "c4 healthy after the cut"; fi

# ---- 5. priority 0 and lagging replicas are never promoted ------------------------
alloc_port RA; alloc_port RB; alloc_port RC
start_node "$RA" || fail "node ra"
start_node "$RB" || fail "node rb"
start_redis "$RC" || fail "redis rc"
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$RA,\"name\":\"ra\"}"
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$RB,\"name\":\"rb\",\"priority\":0}"
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$RC,\"name\":\"rc\"}"
api POST /api/v1/clusters '{"name":"c5","master":"ra","replicas":["rb","rc"],"settings":{"max_lag_on_failover":100}}'
expect_status "create c5 (rb priority 0, max lag 100 bytes)" 201
if wait_until 20 cluster_is c5 .health healthy; then pass "c5 healthy"; else fail "c5 healthy"; fi
redis-cli -p "$RC" client pause 20000 write >/dev/null
for i in $(seq 1 100); do echo "SET lag:$i some-value-$i"; done | redis-cli -p "$RA" >/dev/null
lags() { [ "$(cluster_field c5 '.replicas[] | select(.node=="rc") | .lag_bytes')" -gt 100 ] 2>/dev/null; }
if wait_until 5 lags; then pass "rc lags"; else note "rc did not lag (redis-server did not stall)"; fi
check "plan excludes rb for priority 0" bash -c "curl -s $CTL_URL/api/v1/clusters/c5/failover/plan | jq -e '.candidates[] | select(.node==\"rb\") | (.eligible | not) and (.reason | test(\"priority 0\"))'"
check "plan excludes rc for its lag" bash -c "curl -s $CTL_URL/api/v1/clusters/c5/failover/plan | jq -e '.candidates[] | select(.node==\"rc\") | (.eligible | not) and (.reason | test(\"lags\"))'"
kill -9 "$(node_pid "$RA")"
if wait_until 8 node_is ra .status.state down; then pass "ra down"; else fail "ra down"; fi
sleep 2
expect_eq "neither rb nor rc promoted" ra "$(master_of c5)"
check "rb still a replica" test "$(role_of "$RB")" = slave
redis-cli -p "$RC" client unpause >/dev/null
finish
