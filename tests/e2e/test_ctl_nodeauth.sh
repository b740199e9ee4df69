#!/usr/bin/env bash
# test_ctl_nodeauth.sh - kvfleetd with node-auth against password-protected
# nodes: the monitor authenticates, the reconciler sets masterauth on the
# replicas (CONFIG SET) so they can sync, and the password never shows up in
# the API or the log. Then the same with ACL users (node-user): agents and a
# redis-server whose only users are "default off" and the least-privilege
# kvfleetd user the README documents: monitoring, replication through
# masteruser (agent and redis-server masters), adding and removing a
# replica, discovery, a switchover and a failover all work, and a command
# outside the user's list is refused (-NOPERM).
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
stop_ctl

# ---- ACL users ------------------------------------------------------------------
# The README's least-privilege user, word for word.
KV_RULES='on >%s -@all +ping +info +role +replicaof +config|set +client|pause +client|unpause +failover +auth +psync +replconf'
PW2="acl-$RANDOM-$RANDOM"
ACLF="$CTL_TMP/users.acl"
{ echo "user default off"; printf "user kvfleetd $KV_RULES\n" "$PW2"; } > "$ACLF"
rcli() { local p="$1"; shift; redis-cli --no-auth-warning --user kvfleetd --pass "$PW2" -p "$p" "$@"; }
info_field() { rcli "$1" info "$2" 2>/dev/null | tr -d '\r' | sed -n "s/^$3://p"; }
linked_to() { [ "$(info_field "$1" replication master_port)" = "$2" ] &&
    [ "$(info_field "$1" replication master_link_status)" = up ]; }
role_is() { [ "$(info_field "$1" replication role)" = "$2" ]; }
master_of() { curl -s --max-time 5 "$CTL_URL/api/v1/clusters/$1/master" | jq -r .node; }
master_not() { local m; m="$(master_of "$1")"; [ -n "$m" ] && [ "$m" != null ] && [ "$m" != "$2" ]; }
port_of() { node_field "$1" .port; }

alloc_port PA; alloc_port PB; alloc_port PC; alloc_port PD; alloc_port PE
for p in $PA $PB $PC $PE; do start_node "$p" --aclfile "$ACLF" || { fail "agent $p start"; finish; }; done
start_redis "$PD" --aclfile "$ACLF" || { fail "redis-server start"; finish; }
check "default user is off on the agent" bash -c "redis-cli -p $PA ping | grep -q NOAUTH"
check "a command outside the kvfleetd user's list is refused" bash -c \
    "redis-cli --no-auth-warning --user kvfleetd --pass '$PW2' -p $PA set k v | grep -q \"NOPERM this user has no permissions to run the 'set' command\""
check "CONFIG GET is outside the list too" bash -c \
    "redis-cli --no-auth-warning --user kvfleetd --pass '$PW2' -p $PA config get maxmemory | grep -q NOPERM"
start_ctl --monitor-interval-ms 100 --monitor-timeout-ms 1000 --node-user kvfleetd --node-auth "$PW2" ||
    { fail "kvfleetd start with node-user"; finish; }
for n in a:$PA b:$PB c:$PC d:$PD e:$PE; do
    api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":${n#*:},\"name\":\"${n%%:*}\"}"
    expect_status "register ${n%%:*} (ACL user)" 201
done
if wait_until 10 node_is a .status.state up && wait_until 10 node_is d .status.state up; then
    pass "monitoring as the kvfleetd user: nodes up"; else fail "monitoring as the kvfleetd user: nodes up"; fi
api POST /api/v1/clusters '{"name":"u1","master":"a","replicas":["b"]}'
expect_status "create u1 (agent master)" 201
api POST /api/v1/clusters/u1/replicas '{"node":"c"}'
expect_status "add replica c to u1" 200
api POST /api/v1/clusters '{"name":"u2","master":"d","replicas":["e"]}'
expect_status "create u2 (redis-server master)" 201
# With "default off" a replica can only sync by authenticating as kvfleetd:
# kvfleetd set masteruser along with masterauth.
if wait_until 20 cluster_is u1 .health healthy; then pass "agent replicas sync from an agent master via masteruser"; else
    fail "agent replicas sync from an agent master via masteruser"; note "$(cluster_field u1 .)"; fi
if wait_until 20 cluster_is u2 .health healthy; then pass "agent replica syncs from a redis-server master via masteruser"; else
    fail "agent replica syncs from a redis-server master via masteruser"; note "$(cluster_field u2 .)"; fi
check "replica b linked to a" linked_to "$PB" "$PA"
check "replica e linked to d" linked_to "$PE" "$PD"
check "added replica c linked to a" linked_to "$PC" "$PA"

# Removing a replica: kvfleetd detaches it (REPLICAOF NO ONE as kvfleetd).
api DELETE /api/v1/clusters/u2/replicas/e
expect_status "remove replica e from u2" 200
expect_eq "e detached as the kvfleetd user" true "$(jbody .detached)"
if wait_until 5 role_is "$PE" master; then pass "e is a master again"; else fail "e is a master again"; fi

# Discovery crawls a hand-built group as the kvfleetd user.
alloc_port PF; alloc_port PG
for p in $PF $PG; do start_node "$p" --aclfile "$ACLF" || { fail "agent $p start"; finish; }; done
rcli "$PG" config set masteruser kvfleetd >/dev/null
rcli "$PG" config set masterauth "$PW2" >/dev/null
rcli "$PG" replicaof 127.0.0.1 "$PF" >/dev/null
wait_until 10 linked_to "$PG" "$PF" || note "g has not synced from f yet"
api POST /api/v1/discover "{\"host\":\"127.0.0.1\",\"port\":$PG,\"name\":\"u3\"}"
expect_status "discover as the kvfleetd user" 201
expect_eq "discovered master" "127.0.0.1:$PF" "$(jbody .master.node)"

api POST /api/v1/clusters/u1/switchover '{"candidate":"b","timeout_ms":3000}'
expect_status "switchover to b as the kvfleetd user" 200
expect_eq "switchover done" done "$(jbody .status)"
if wait_until 10 linked_to "$PA" "$PB"; then pass "old master a follows b (FAILOVER, masteruser)"; else
    fail "old master a follows b"; note "$(info_field "$PA" replication master_link_status)"; fi
if wait_until 20 cluster_is u1 .health healthy; then pass "u1 healthy after the switchover"; else
    fail "u1 healthy after the switchover"; note "$(cluster_field u1 .)"; fi

kill -9 "$(node_pid "$PB")"
note "killed b (port $PB), the master"
if wait_until 15 master_not u1 b; then pass "failover as the kvfleetd user: a replica promoted"; else
    fail "failover as the kvfleetd user: a replica promoted"; note "$(cluster_field u1 .)"; fi
NEW="$(master_of u1)"; NEWP="$(port_of "$NEW")"; OTHERP=$PA; [ "$NEW" = a ] && OTHERP=$PC
if wait_until 15 linked_to "$OTHERP" "$NEWP"; then pass "the other replica follows $NEW"; else
    fail "the other replica follows $NEW"; fi
check "no AUTH failure logged for the ACL nodes" bash -c "! grep -Eq 'AUTH to 127.0.0.1:($PA|$PB|$PC|$PD|$PE) failed' '$CTL_TMP/ctl.log'"
check "no NOPERM logged by kvfleetd" bash -c "! grep -q NOPERM '$CTL_TMP/ctl.log'"
check "the ACL user's password absent from the log" bash -c "! grep -q '$PW2' '$CTL_TMP/ctl.log'"
finish
