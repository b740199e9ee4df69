#!/usr/bin/env bash
# test_ctl_metrics.sh - GET /metrics on a live fleet, checked by Debian's
# promtool and by value:
#  - the exposition passes `promtool check metrics` (before and after a
#    failover), served as text/plain version 0.0.4;
#  - per-node series as redis_exporter names them (redis_up, role in
#    redis_instance_info, link, offsets, keys written, clients, memory);
#  - per-cluster verdicts (one master, master up, health, candidates);
#  - counters move: HTTP requests by route, a kill -9 failover counted with
#    its duration, the dead node's redis_up 0;
#  - metrics-auth yes: 401 without the bearer token, 200 with it.
set -u
. "$(dirname "$0")/ctl_lib.sh"
need promtool

start_ctl --monitor-interval-ms 100 --monitor-timeout-ms 500 || { fail "kvfleetd start"; finish; }
pass "kvfleetd started"

scrape() { curl -s --max-time 5 "$CTL_URL/metrics" > "$CTL_TMP/metrics.txt"; }
# value <series with labels, exactly as exposed>: its value, or "absent".
value() {
    local v
    v="$(awk -v s="$1" 'index($0, s " ") == 1 { print $NF }' "$CTL_TMP/metrics.txt")"
    echo "${v:-absent}"
}
value_is() { scrape; [ "$(value "$1")" = "$2" ]; }
promtool_ok() {
    if promtool check metrics < "$CTL_TMP/metrics.txt" > "$CTL_TMP/promtool.out" 2>&1; then
        pass "$1"
    else
        fail "$1"; sed 's/^/#   /' "$CTL_TMP/promtool.out" | head -20
    fi
}

agent() { start_node "$2" --controller "$CTL_URL" --node-name "$1"; }
alloc_port PA; alloc_port PB; alloc_port PC
agent a "$PA" && agent b "$PB" && agent c "$PC" || { fail "agents start"; finish; }
for n in a b c; do wait_until 15 node_is "$n" .name "$n" || fail "agent $n registered"; done
api POST /api/v1/clusters '{"name":"m1","master":"a","replicas":["b","c"]}'
expect_status "create m1" 201
if wait_until 20 cluster_is m1 .health healthy; then pass "m1 healthy"; else fail "m1 healthy"; fi
for i in 1 2 3 4 5; do redis-cli -p "$PA" set "k$i" v >/dev/null; done

ct="$(curl -s -o /dev/null -w '%{content_type}' --max-time 5 "$CTL_URL/metrics")"
expect_eq "content type" "text/plain; version=0.0.4; charset=utf-8" "$ct"
scrape
promtool_ok "promtool check metrics on a live scrape"
note "scrape: $(wc -c < "$CTL_TMP/metrics.txt") bytes, $(grep -vc '^#' "$CTL_TMP/metrics.txt") samples"

for n in a b c; do expect_eq "redis_up for $n" 1 "$(value "redis_up{cluster=\"m1\",node=\"$n\"}")"; done
check "a is master in redis_instance_info" grep -q '^redis_instance_info{cluster="m1",node="a",role="master",redis_version="[0-9.]*",run_id="[0-9a-f]*"} 1$' "$CTL_TMP/metrics.txt"
check "b is slave in redis_instance_info" grep -q '^redis_instance_info{cluster="m1",node="b",role="slave"' "$CTL_TMP/metrics.txt"
expect_eq "b's link up" 1 "$(value 'redis_master_link_up{cluster="m1",node="b"}')"
expect_eq "a has two replicas" 2 "$(value 'redis_connected_slaves{cluster="m1",node="a"}')"
check "a lists its replicas' offsets" grep -q "^redis_connected_slave_offset_bytes{cluster=\"m1\",node=\"a\",slave_ip=\"127.0.0.1\",slave_port=\"$PB\",slave_state=\"online\"} [0-9]" "$CTL_TMP/metrics.txt"
if wait_until 8 value_is 'redis_db_keys{cluster="m1",node="c",db="db0"}' 5; then
    pass "keys written on a counted on replica c (stats polled every 5 s)"
else fail "keys on c: $(value 'redis_db_keys{cluster="m1",node="c",db="db0"}')"; fi
check "memory used is reported" bash -c "[ \"\$(awk '/^redis_memory_used_bytes\\{cluster=\"m1\",node=\"a\"\\}/ {print \$2}' $CTL_TMP/metrics.txt)\" -gt 0 ]"
check "commands processed is reported" grep -q '^redis_commands_processed_total{cluster="m1",node="a"} [1-9]' "$CTL_TMP/metrics.txt"
expect_eq "one master in m1" 1 "$(value 'kvfleet_cluster_masters{cluster="m1"}')"
expect_eq "m1's master up" 1 "$(value 'kvfleet_cluster_master_up{cluster="m1"}')"
expect_eq "m1 healthy (state set)" 1 "$(value 'kvfleet_cluster_health{cluster="m1",health="healthy"}')"
expect_eq "m1 not failing (state set)" 0 "$(value 'kvfleet_cluster_health{cluster="m1",health="failing"}')"
expect_eq "two failover candidates" 2 "$(value 'kvfleet_failover_candidates{cluster="m1"}')"
expect_eq "failover counter starts at 0" 0 "$(value 'kvfleet_failovers_total{cluster="m1",kind="automatic",result="done"}')"
check "build info" grep -q '^kvfleet_build_info{version="[0-9.]*"} 1$' "$CTL_TMP/metrics.txt"
check "poll durations counted" grep -q '^kvfleet_poll_duration_seconds_count [1-9]' "$CTL_TMP/metrics.txt"

# HTTP requests are counted by route pattern, not by path.
before="$(value 'kvfleet_http_requests_total{route="/api/v1/clusters/{}",method="GET",status="200"}')"
[ "$before" = absent ] && before=0
for i in 1 2 3; do api GET /api/v1/clusters/m1; done
scrape
after="$(value 'kvfleet_http_requests_total{route="/api/v1/clusters/{}",method="GET",status="200"}')"
expect_eq "three GETs of a cluster counted" "$((before + 3))" "$after"
check "request durations by route" grep -q '^kvfleet_http_request_duration_seconds_count{route="/api/v1/clusters/{}",method="GET"} [1-9]' "$CTL_TMP/metrics.txt"

# ---- a failover moves the counters
kill -9 "$(node_pid "$PA")"
if wait_until 20 value_is 'kvfleet_failovers_total{cluster="m1",kind="automatic",result="done"}' 1; then
    pass "automatic failover counted"; else fail "automatic failover counted"; fi
expect_eq "the dead master's redis_up" 0 "$(value 'redis_up{cluster="m1",node="a"}')"
expect_eq "failover duration observed" 1 "$(value 'kvfleet_failover_duration_seconds_count{kind="automatic"}')"
if wait_until 10 value_is 'kvfleet_cluster_master_up{cluster="m1"}' 1; then pass "the new master is up"; else fail "the new master is up"; fi
expect_eq "still one master" 1 "$(value 'kvfleet_cluster_masters{cluster="m1"}')"
check "the dead node has no stale figures" bash -c "! grep -q 'redis_instance_info{cluster=\"m1\",node=\"a\"' $CTL_TMP/metrics.txt"
check "poll errors counted" bash -c "grep -E '^kvfleet_poll_errors_total\\{kind=\"(refused|timeout)\"\\} [1-9]' $CTL_TMP/metrics.txt"
promtool_ok "promtool check metrics after the failover"

# ---- metrics-auth
stop_ctl
start_ctl --api-token s3cret --metrics-auth yes || { fail "kvfleetd restart with metrics-auth"; finish; }
expect_eq "no token: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$CTL_URL/metrics")"
expect_eq "bearer token: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Authorization: Bearer s3cret' "$CTL_URL/metrics")"
finish
