#!/usr/bin/env bash
# kvfleet-agent registers itself with kvfleetd (directives controller,
# controller-token, node-name, cluster): it serves clients while the
# controller is still down, retries with backoff, registers once the
# controller is up, creates its cluster as master when the cluster does not
# exist, and joins it as a replica when it does.
set -u
. "$(dirname "$0")/ctl_lib.sh"
AGENT="$KVFLEET_BIN/kvfleet-agent"
[ -x "$AGENT" ] || skip "no $AGENT"
need curl redis-cli

TOKEN=reg-secret-token
alloc_port CTL_PORT
alloc_port P1
alloc_port P2
alloc_port P3

start_agent_reg() {
    local port="$1" name="$2"
    shift 2
    "$AGENT" --port "$port" --bind 127.0.0.1 --save "" --dir "$CTL_TMP" \
        --logfile "$CTL_TMP/agent-$name.log" --loglevel verbose \
        --controller "http://127.0.0.1:$CTL_PORT" --controller-token "$TOKEN" \
        --node-name "$name" "$@" >/dev/null 2>&1 &
    CTL_PIDS+=("$!")
    wait_until 10 redis-cli -p "$port" ping
}

node_registered() {
    api GET "/api/v1/nodes/$1"
    [ "$STATUS" = 200 ]
}

# 1. The controller is down: the agent still answers its clients at once.
# It started fenced (fence-on-start yes): reads are served, writes wait for
# the controller to confirm it as master.
start_agent_reg "$P1" agent-a || { fail "agent a starts"; finish; }
t0=$(date +%s%N)
if [ "$(redis-cli -p "$P1" get k)" = "" ] && redis-cli -p "$P1" set k v | grep -q '^READONLY.*fenced'; then
    pass "agent serves clients while the controller is down (reads; writes fenced)"
else
    fail "agent serves clients while the controller is down (reads; writes fenced)"
fi
t1=$(date +%s%N)
[ $(((t1 - t0) / 1000000)) -lt 1000 ] && pass "no client waited on registration" || fail "no client waited on registration"

# 2. The controller comes up: the agent's retry registers it.
sleep 1.5
start_ctl --api-token "$TOKEN" || { fail "kvfleetd starts"; finish; }
if wait_until 20 node_registered agent-a; then pass "agent registered after the controller came up"; else fail "agent registered after the controller came up"; fi
writable() { [ "$(redis-cli -p "$1" set k v)" = OK ]; }
if wait_until 10 writable "$P1"; then pass "the controller confirmed the stand-alone agent: writes accepted"; else fail "the controller confirmed the stand-alone agent: writes accepted"; fi
api GET /api/v1/nodes/agent-a
case "$BODY" in *"\"port\":$P1"*|*"\"port\": $P1"*) pass "registered with its port" ;; *) fail "registered with its port: $BODY" ;; esac
grep -q "Registered with controller" "$CTL_TMP/agent-agent-a.log" && pass "agent logged the registration" || fail "agent logged the registration"
grep -q "$TOKEN" "$CTL_TMP/agent-agent-a.log" && fail "token leaked into the agent log" || pass "token not in the agent log"

# 3. A named cluster that does not exist is created with the agent as master.
start_agent_reg "$P2" agent-b --cluster orders || fail "agent b starts"
cluster_has() {
    api GET /api/v1/clusters/orders
    [ "$STATUS" = 200 ] && case "$BODY" in *"$1"*) return 0 ;; esac
    return 1
}
if wait_until 20 cluster_has agent-b; then pass "cluster created with the agent as master"; else fail "cluster created with the agent as master: $BODY"; fi
api GET /api/v1/clusters/orders/master
case "$BODY" in *agent-b*) pass "master lookup names agent-b" ;; *) fail "master lookup names agent-b: $BODY" ;; esac

# 4. A second agent of the same cluster joins it as a replica.
start_agent_reg "$P3" agent-c --cluster orders || fail "agent c starts"
if wait_until 20 cluster_has agent-c; then pass "second agent joined the cluster"; else fail "second agent joined the cluster: $BODY"; fi

# 5. A wrong token never registers (401), and the agent keeps serving.
alloc_port P4
"$AGENT" --port "$P4" --bind 127.0.0.1 --save "" --dir "$CTL_TMP" --logfile "$CTL_TMP/agent-bad.log" \
    --controller "http://127.0.0.1:$CTL_PORT" --controller-token wrong --node-name agent-bad >/dev/null 2>&1 &
CTL_PIDS+=("$!")
wait_until 10 redis-cli -p "$P4" ping || fail "agent with a bad token starts"
sleep 2
node_registered agent-bad && fail "a bad token must not register" || pass "a bad token does not register"
[ "$(redis-cli -p "$P4" ping)" = PONG ] && pass "agent with a bad token keeps serving" || fail "agent with a bad token keeps serving"

finish
