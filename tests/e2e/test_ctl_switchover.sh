#!/usr/bin/env bash
# test_ctl_switchover.sh - planned switchover and operator actions end to end:
#  - switchover with a writer running: zero acknowledged writes lost, the
#    old master follows the new one, clients told by +switch-master on the
#    Sentinel port, the on-failover command and the webhook fired;
#  - switchover abort: a candidate that cannot catch up in time (asleep):
#    409, writes resume on the unchanged master;
#  - scheduled switchover (runs at its time) and cancellation;
#  - operator failover: refused while the master is up, forced otherwise;
#  - load-balancer checks /nodes/{name}/primary and /replica;
#  - kvfleetd killed in the middle of a failover: the step recorded before
#    the crash is taken after the restart and the failover completes.
set -u
. "$(dirname "$0")/ctl_lib.sh"
need python3 sqlite3
PY="$(cd "$(dirname "$0")" && pwd)/py"

alloc_port WP
python3 "$PY/webhook_sink.py" "$WP" "$CTL_TMP/webhook.log" 1 &
CTL_PIDS+=("$!")
start_ctl --monitor-interval-ms 100 --monitor-timeout-ms 1000 \
    --on-failover "env | grep ^KVFLEET_ | sort > $CTL_TMP/hook.env" \
    --failover-webhook "http://127.0.0.1:$WP/hook" --failover-webhook-retries 2 ||
    { fail "kvfleetd start"; finish; }
pass "kvfleetd started with hooks"

agent() {
    local name="$1" port="$2"
    shift 2
    start_node "$port" --controller "$CTL_URL" --node-name "$name" "$@"
}
master_of() { curl -s --max-time 5 "$CTL_URL/api/v1/clusters/$1/master" | jq -r .node; }
master_is() { [ "$(master_of "$1")" = "$2" ]; }
info_field() { redis-cli -p "$1" info "$2" 2>/dev/null | tr -d '\r' | sed -n "s/^$3://p"; }
replica_linked_to() {
    [ "$(info_field "$1" replication master_port)" = "$2" ] &&
        [ "$(info_field "$1" replication master_link_status)" = up ]
}

alloc_port PA; alloc_port PB; alloc_port PC
agent a "$PA" && agent b "$PB" && agent c "$PC" || { fail "agents start"; finish; }
for n in a b c; do wait_until 15 node_is "$n" .name "$n" || fail "agent $n registered"; done
api POST /api/v1/clusters '{"name":"s1","master":"a","replicas":["b","c"]}'
expect_status "create s1" 201
if wait_until 20 cluster_is s1 .health healthy; then pass "s1 healthy"; else fail "s1 healthy"; note "$(cluster_field s1 .)"; fi

# ---- load-balancer checks
lb() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$CTL_URL/api/v1/nodes/$1"; }
expect_eq "primary check: master a is 200" 200 "$(lb a/primary)"
expect_eq "primary check: replica b is 503" 503 "$(lb b/primary)"
expect_eq "replica check: b is 200" 200 "$(lb b/replica)"
expect_eq "replica check with max_lag_bytes: b is 200" 200 "$(lb 'b/replica?max_lag_bytes=1000000')"
expect_eq "replica check: master a is 503" 503 "$(lb a/replica)"
expect_eq "replica check: bad max_lag_bytes is 400" 400 "$(lb 'b/replica?max_lag_bytes=x')"
expect_eq "unknown node is 404" 404 "$(lb nosuch/primary)"

# ---- switchover with a writer
redis-cli -p "$SENTINEL_PORT" subscribe +switch-master > "$CTL_TMP/sub.out" 2>&1 &
CTL_PIDS+=("$!")
python3 "$PY/writer.py" 6 "$CTL_TMP/writer" --sentinel "$SENTINEL_PORT" s1 &
WPID=$!
CTL_PIDS+=("$WPID")
sleep 2
api POST /api/v1/clusters/s1/switchover '{"candidate":"b","timeout_ms":3000}'
expect_status "switchover to b" 200
expect_eq "switchover done" done "$(jbody .status)"
expect_eq "switchover kind" switchover "$(jbody .kind)"
note "switchover steps: $(jbody '[.steps[] | "\(.step) \(.duration_ms)ms"] | join(", ")')"
wait "$WPID"
expect_eq "b is the master" b "$(master_of s1)"
if wait_until 10 replica_linked_to "$PA" "$PB"; then pass "old master a follows b"; else fail "old master a follows b"; fi
if wait_until 10 replica_linked_to "$PC" "$PB"; then pass "c follows b"; else fail "c follows b"; fi
writer_checks "$CTL_TMP/writer" "$PB"
expect_eq "no full resync on b" 0 "$(info_field "$PB" stats sync_full)"
if wait_until 5 grep -q "s1 127.0.0.1 $PA 127.0.0.1 $PB" "$CTL_TMP/sub.out"; then
    pass "+switch-master published"; else fail "+switch-master published"; note "$(cat "$CTL_TMP/sub.out")"; fi
if wait_until 10 grep -q KVFLEET_NEW_MASTER=b "$CTL_TMP/hook.env"; then pass "on-failover command ran"; else fail "on-failover command ran"; fi
check "hook saw the kind and the old master" bash -c "grep -q KVFLEET_KIND=switchover $CTL_TMP/hook.env && grep -q KVFLEET_OLD_MASTER=a $CTL_TMP/hook.env && grep -q KVFLEET_CLUSTER=s1 $CTL_TMP/hook.env"
if wait_until 10 bash -c "[ \$(grep -c . $CTL_TMP/webhook.log 2>/dev/null) -ge 2 ]"; then pass "webhook retried after a 500"; else fail "webhook retried after a 500"; fi
check "webhook body is JSON about the failover" bash -c "tail -1 $CTL_TMP/webhook.log | cut -f2 | jq -e '.event == \"failover\" and .cluster == \"s1\" and .new_master.name == \"b\"'"
check "webhook content type" bash -c "tail -1 $CTL_TMP/webhook.log | grep -q '^application/json'"
if wait_until 10 events_have hook.webhook; then pass "hook outcome journalled"; else fail "hook outcome journalled"; fi

# ---- switchover abort: c is asleep and cannot catch up
wait_until 10 cluster_is s1 .health healthy || note "s1: $(cluster_field s1 .reasons)"
redis-cli -p "$PC" debug sleep 2 >/dev/null &
sleep 0.05
redis-cli -p "$PB" set before-abort 1 >/dev/null
api POST /api/v1/clusters/s1/switchover '{"candidate":"c","timeout_ms":300}'
expect_status "switchover to a candidate that cannot catch up" 409
note "abort: $(jbody .error.message)"
expect_eq "failover row says aborted" aborted "$(jbody .failover.status)"
expect_eq "b still the master" b "$(master_of s1)"
check "b takes writes again" test "$(redis-cli -p "$PB" set after-abort 1)" = OK
wait_until 10 cluster_is s1 .health healthy || note "s1 after abort: $(cluster_field s1 .reasons)"

# ---- scheduled switchover and cancellation
at="$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%S.%3NZ)"
api POST /api/v1/clusters/s1/switchover "{\"candidate\":\"c\",\"scheduled_at\":\"$at\"}"
expect_status "schedule a switchover to c" 202
SID="$(jbody .id)"
expect_eq "scheduled row" scheduled "$(jbody .status)"
sched_done() { api GET "/api/v1/failovers/$SID"; [ "$(jbody .status)" = done ]; }
if wait_until 15 sched_done; then pass "scheduled switchover ran"; else fail "scheduled switchover ran"; note "$BODY"; fi
expect_eq "c is the master" c "$(master_of s1)"
at="$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)"
api POST /api/v1/clusters/s1/switchover "{\"scheduled_at\":\"$at\"}"
expect_status "schedule another one in an hour" 202
api DELETE /api/v1/clusters/s1/switchover
expect_status "cancel it" 200
expect_eq "cancelled" cancelled "$(jbody .status)"
api DELETE /api/v1/clusters/s1/switchover
expect_status "nothing left to cancel" 404
api POST /api/v1/clusters/s1/switchover '{"scheduled_at":"tomorrow"}'
expect_status "bad scheduled_at" 422
api POST /api/v1/clusters/nosuch/switchover '{}'
expect_status "switchover of an unknown cluster" 404

# ---- operator failover
wait_until 10 cluster_is s1 .health healthy || note "s1: $(cluster_field s1 .reasons)"
api POST /api/v1/clusters/s1/failover '{}'
expect_status "failover refused while the master is up" 409
check "the refusal says why" bash -c "printf '%s' '$(printf '%s' "$BODY" | tr "'" ' ')' | jq -e '.error.message | test(\"has not failed\")'"
api POST /api/v1/clusters/s1/failover '{"candidate":"a","force":true}'
expect_status "forced failover to a" 200
expect_eq "manual kind" manual "$(jbody .kind)"
expect_eq "a is the master" a "$(master_of s1)"
if wait_until 10 replica_linked_to "$PC" "$PA"; then pass "old master c demoted and follows a"; else fail "old master c demoted and follows a"; fi
api GET /api/v1/clusters/s1/failovers
check "history lists every operation" test "$(jbody '.failovers | length')" -ge 5
api GET /api/v1/failovers/999999
expect_status "unknown failover" 404

# ---- kvfleetd killed in the middle of a failover
wait_until 10 cluster_is s1 .health healthy || note "s1: $(cluster_field s1 .reasons)"
stop_ctl
kill -9 "$(node_pid "$PA")"
now="$(date +%s%3N)"
sqlite3 "$CTL_TMP/ctl.db" "INSERT INTO failovers(cluster, kind, status, step, reason, old_master, new_master, steps, requested_by, created_at, started_at) VALUES ('s1', 'automatic', 'running', 'promote', 'master a is down (recorded before the crash)', 'a', 'b', '[{\"step\":\"promote\",\"started_at\":$now}]', 'planner', $now, $now)"
RID="$(sqlite3 "$CTL_TMP/ctl.db" "SELECT max(id) FROM failovers")"
note "recorded failover #$RID at step promote, then kvfleetd restarts"
start_ctl --monitor-interval-ms 100 --monitor-timeout-ms 1000 || { fail "kvfleetd restart"; finish; }
row_done() { api GET "/api/v1/failovers/$RID"; [ "$(jbody .status)" = done ]; }
if wait_until 15 row_done; then pass "interrupted failover completed after the restart"; else fail "interrupted failover completed after the restart"; note "$BODY"; fi
expect_eq "b is the master after recovery" b "$(master_of s1)"
check "resumption journalled" bash -c "curl -s '$CTL_URL/api/v1/events?cluster=s1&limit=100' | jq -e '[.events[] | select(.message | test(\"resumed after a kvfleetd restart\"))] | length > 0'"
if wait_until 10 replica_linked_to "$PC" "$PB"; then pass "c follows b"; else fail "c follows b"; fi
api GET /api/v1/clusters/s1/failovers?status=running
expect_eq "no operation left running" 0 "$(jbody '.failovers | length')"
finish
