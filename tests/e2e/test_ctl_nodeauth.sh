#!/usr/bin/env bash
# test_ctl_nodeauth.sh - kvfleetd with node-auth against password-protected
# nodes: the monitor authenticates, the reconciler sets masterauth on the
# replicas (CONFIG SET) so they can sync, and the password never shows up in
# the API or the log.
set -u
. "$(dirname "$0")/ctl_lib.sh"

PW="pw-$RANDOM-$RANDOM"
alloc_port P1; alloc_port P2
for p in $P1 $P2; do start_node "$p" --requirepass "$PW" || { fail "node $p start"; finish; }; done
start_ctl --monitor-interval-ms 100 --node-auth "$PW" || { fail "kvfleetd start"; finish; }
pass "kvfleetd with node-auth and 2 password-protected nodes"

api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$P1,\"name\":\"m\"}"
expect_status "register m" 201
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$P2,\"name\":\"r\"}"
expect_status "register r" 201
if wait_until 5 node_is m .status.state up; then pass "AUTH accepted: m is up"; else fail "AUTH accepted: m is up"; fi
api POST /api/v1/clusters '{"name":"sec","master":"m","replicas":["r"]}'
expect_status "create cluster" 201
if wait_until 20 cluster_is sec .health healthy; then pass "replica synced through masterauth"; else
    fail "replica synced through masterauth"; note "$(cluster_field sec .)"; fi
check "masterauth set on the replica" bash -c "[ \"\$(redis-cli --no-auth-warning -a '$PW' -p $P2 config get masterauth | tail -1)\" = '$PW' ]"
api GET /api/v1/nodes
check "password absent from the API" bash -c "! grep -q '$PW' '$CTL_TMP/body'"
check "password absent from the log" bash -c "! grep -q '$PW' '$CTL_TMP/ctl.log'"

# A wrong password: nodes are reported down with the reason in the log.
stop_ctl
start_ctl --monitor-interval-ms 100 --node-auth "not-$PW" || { fail "restart"; finish; }
if wait_until 5 node_is m .status.state down; then pass "wrong node-auth: node down"; else fail "wrong node-auth: node down"; fi
check "AUTH failure logged" grep -q "AUTH to 127.0.0.1:$P1 failed" "$CTL_TMP/ctl.log"
finish
