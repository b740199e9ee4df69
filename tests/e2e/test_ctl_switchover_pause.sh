#!/usr/bin/env bash
# test_ctl_switchover_pause.sh - planned switchover of masters that do not
# offer FAILOVER (Debian's redis-server with the command renamed away, as
# operators do, standing in for servers older than 6.2): kvfleetd pauses the
# master's writes, waits for the candidate to reach the paused master's
# offset, promotes it and demotes the old master while it is still paused.
#  - with a writer running: zero acknowledged writes lost, no full resync,
#    the old master follows and answers its writers READONLY, not paused;
#  - a candidate that cannot catch up (asleep): 409, writes resume on the
#    unchanged master at once, its heartbeat period restored.
set -u
. "$(dirname "$0")/ctl_lib.sh"
need python3 redis-server
PY="$(cd "$(dirname "$0")" && pwd)/py"

start_ctl --monitor-interval-ms 100 --monitor-timeout-ms 1000 || { fail "kvfleetd start"; finish; }
pass "kvfleetd started"

info_field() { redis-cli -p "$1" info "$2" 2>/dev/null | tr -d '\r' | sed -n "s/^$3://p"; }
master_of() { curl -s --max-time 5 "$CTL_URL/api/v1/clusters/$1/master" | jq -r .node; }
replica_linked_to() {
    [ "$(info_field "$1" replication master_port)" = "$2" ] &&
        [ "$(info_field "$1" replication master_link_status)" = up ]
}
# A write answered within a second (a paused master would block it).
write_answer() { timeout 1 redis-cli -p "$1" set "$2" 1 2>&1 | head -c 60; }

alloc_port PA; alloc_port PB; alloc_port PC
for p in "$PA" "$PB" "$PC"; do
    start_redis "$p" --enable-debug-command local --rename-command FAILOVER "FAILOVER-$RANDOM$RANDOM" || { fail "redis-server $p"; finish; }
done
check "FAILOVER is not available on the masters" \
    bash -c "redis-cli -p $PA failover abort 2>&1 | grep -q 'unknown command'"
n=0
for pair in "a:$PA" "b:$PB" "c:$PC"; do
    api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":${pair#*:},\"name\":\"${pair%%:*}\"}"
    [ "$STATUS" = 201 ] && n=$((n + 1))
done
expect_eq "three nodes registered" 3 "$n"
api POST /api/v1/clusters '{"name":"p1","master":"a","replicas":["b","c"]}'
expect_status "create p1" 201
if wait_until 20 cluster_is p1 .health healthy; then pass "p1 healthy"; else fail "p1 healthy"; note "$(cluster_field p1 .)"; fi

# ---- switchover with a writer
python3 "$PY/writer.py" 6 "$CTL_TMP/writer" --sentinel "$SENTINEL_PORT" p1 &
WPID=$!
CTL_PIDS+=("$WPID")
sleep 2
api POST /api/v1/clusters/p1/switchover '{"candidate":"b","timeout_ms":3000}'
expect_status "switchover to b" 200
expect_eq "switchover done" done "$(jbody .status)"
expect_eq "steps taken" "handoff pause catchup promote confirm topology repoint verify" \
    "$(jbody '[.steps[].step] | join(" ")')"
note "switchover steps: $(jbody '[.steps[] | "\(.step) \(.duration_ms)ms"] | join(", ")')"
wait "$WPID"
expect_eq "b is the master" b "$(master_of p1)"
if wait_until 10 replica_linked_to "$PA" "$PB"; then pass "old master a follows b"; else fail "old master a follows b"; fi
if wait_until 10 replica_linked_to "$PC" "$PB"; then pass "c follows b"; else fail "c follows b"; fi
writer_checks "$CTL_TMP/writer" "$PB"
expect_eq "no full resync on b (the old master rejoined partially)" 0 "$(info_field "$PB" stats sync_full)"
check "the old master answers writes READONLY at once" \
    bash -c "[ \"\$(timeout 1 redis-cli -p $PA set late 1 2>&1 | cut -c1-8)\" = READONLY ]"
expect_eq "the old master's heartbeat period restored" 1 \
    "$(redis-cli -p "$PA" config get repl-ping-replica-period | sed -n 2p)"

# ---- abort: c is asleep and cannot catch up
wait_until 10 cluster_is p1 .health healthy || note "p1: $(cluster_field p1 .reasons)"
redis-cli -p "$PC" debug sleep 2 >/dev/null &
sleep 0.05
redis-cli -p "$PB" set before-abort 1 >/dev/null
api POST /api/v1/clusters/p1/switchover '{"candidate":"c","timeout_ms":300}'
expect_status "switchover to a candidate that cannot catch up" 409
note "abort: $(jbody .error.message)"
check "the refusal says the candidate could not catch up" \
    bash -c "printf '%s' '$(printf '%s' "$BODY" | tr "'" ' ')' | jq -e '.error.message | test(\"could not catch up\")'"
expect_eq "b still the master" b "$(master_of p1)"
expect_eq "b takes writes again at once" OK "$(write_answer "$PB" after-abort)"
expect_eq "b's heartbeat period restored" 1 \
    "$(redis-cli -p "$PB" config get repl-ping-replica-period | sed -n 2p)"
if wait_until 10 cluster_is p1 .health healthy; then pass "p1 healthy after the abort"; else fail "p1 healthy after the abort"; note "$(cluster_field p1 .reasons)"; fi
finish
