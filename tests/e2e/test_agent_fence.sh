#!/usr/bin/env bash
# test_agent_fence: a master that may have been failed over never takes
# writes until the controller confirms it (agent/fence.h).
#   a. `controller` set, started as a master: fenced. SET gets -READONLY,
#      reads work, a redis-server replica and an agent replica get
#      -NOMASTERLINK and never finish a sync; REPLICAOF NO ONE lifts the
#      fence: SET works, both replicas sync. An agent started as a replica
#      is not fenced.
#   b. SIGSTOP 1.5 s / SIGCONT of a confirmed master: a SET sent while it
#      was stopped and the next ones are refused; attached replicas keep
#      their links; REPLICAOF NO ONE again. With no client at all, the cron
#      fences on its own.
#   c. the same stop without `controller`: nothing changes.
#   d. a CPU-bound command longer than the threshold does not fence.
#   e. a stop in the middle of a pipeline (during a long command): the SET
#      queued behind it is refused, although no timer can run in between.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/repl_lib.sh"
need_redis

CTL=(--controller http://127.0.0.1:1)   # nothing listens there
FENCED_WRITE="READONLY You can't write against a fenced master: kvfleet is waiting for its controller to confirm this node as master"
STOPPED_PIDS=()

# A stopped process ignores SIGTERM: resume whatever we stopped before
# lib.sh's cleanup stops it.
fence_cleanup() {
    local p
    for p in "${STOPPED_PIDS[@]}"; do kill -CONT "$p" 2>/dev/null || true; done
    lib_cleanup
}
trap fence_cleanup EXIT

fenced_is() { [ "$(info_field "$1" replication kvfleet_fenced)" = "$2" ]; }
link_down() { [ "$(info_field "$1" replication master_link_status)" = down ]; }

# stop_for <pid> <seconds>: SIGSTOP, sleep, SIGCONT.
stop_for() {
    STOPPED_PIDS+=("$1")
    kill -STOP "$1" || return 1
    sleep "$2"
    kill -CONT "$1"
}

# set_while_stopped <port> <pid> <key>: open a connection, stop the server
# 1.5 s, send SET while it is stopped, resume it, and print the reply's
# first line.
set_while_stopped() {
    local port="$1" pid="$2" key="$3" line=""
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf 'PING\r\n' >&3
    read -r -t 5 line <&3 || true
    [ "${line%$'\r'}" = +PONG ] || { exec 3>&-; echo "no PONG before the stop: $line"; return 1; }
    STOPPED_PIDS+=("$pid")
    kill -STOP "$pid" || { exec 3>&-; return 1; }
    sleep 1.5
    printf 'SET %s after-stop\r\n' "$key" >&3
    kill -CONT "$pid"
    line=""
    read -r -t 5 line <&3 || true
    exec 3>&-
    printf '%s\n' "${line%$'\r'}"
}

# ---------------------------------------------------------------- a. start
M=$(free_port)
start_agent "$M" --save "" "${CTL[@]}" || { fail "fenced master starts"; finish; }
MPID=$LAST_PID MLOG="$LAST_DIR/stdout.log"
expect_eq "a: INFO kvfleet_fenced:1 at start" 1 "$(info_field "$M" replication kvfleet_fenced)"
expect_eq "a: INFO kvfleet_fence_reason:start" start "$(info_field "$M" replication kvfleet_fence_reason)"
expect_eq "a: fenced master refuses SET with READONLY" "$FENCED_WRITE" "$(rcli "$M" set k v)"
expect_eq "a: MULTI/SET/EXEC fails" "EXECABORT Transaction discarded because of previous errors." \
    "$(printf 'MULTI\nSET k v\nEXEC\n' | rcli "$M" | sed '/^$/d' | tail -n 1)"
expect_eq "a: reads work while fenced" "" "$(rcli "$M" get k)"
expect_eq "a: CONFIG GET fence-on-start" "fence-on-start yes" "$(rcli "$M" config get fence-on-start | paste -sd' ')"
check "a: the fence is logged" grep -q "Fenced, reason: start" "$MLOG"

R=$(free_port)
start_redis "$R" --replicaof 127.0.0.1 "$M" || fail "redis-server replica starts"
RLOG="$LAST_DIR/stdout.log"
A=$(free_port)
start_agent "$A" --save "" "${CTL[@]}" --replicaof 127.0.0.1 "$M" || fail "agent replica starts"
expect_eq "a: an agent started as a replica is not fenced" 0 "$(info_field "$A" replication kvfleet_fenced)"
check "a: redis-server replica was told NOMASTERLINK" wait_for 10 grep -q "NOMASTERLINK Can't SYNC while fenced" "$RLOG"
sleep 1.5   # several retries by both replicas
check "a: redis-server replica has no link while fenced" link_down "$R"
check "a: agent replica has no link while fenced" link_down "$A"
expect_eq "a: no replica attached while fenced" 0 "$(info_field "$M" replication connected_slaves)"
expect_eq "a: no full sync served while fenced" 0 "$(stat_of "$M" sync_full)"

expect_eq "a: REPLICAOF NO ONE confirms" OK "$(rcli "$M" replicaof no one)"
expect_eq "a: INFO kvfleet_fenced:0 once confirmed" 0 "$(info_field "$M" replication kvfleet_fenced)"
expect_eq "a: INFO kvfleet_fence_reason:none once confirmed" none "$(info_field "$M" replication kvfleet_fence_reason)"
expect_eq "a: SET works once confirmed" OK "$(rcli "$M" set k v)"
check "a: the unfence is logged" grep -q "Fence lifted (was: start), reason: confirmed as master by REPLICAOF NO ONE" "$MLOG"
check "a: redis-server replica syncs once confirmed" wait_sync "$M" "$R" 30
check "a: agent replica syncs once confirmed" wait_sync "$M" "$A" 30
expect_eq "a: the write reached the redis-server replica" v "$(rcli "$R" get k)"
expect_eq "a: the write reached the agent replica" v "$(rcli "$A" get k)"

# ---------------------------------------------------------------- b. stall
expect_eq "b: the first SET after a stop is refused" "-$FENCED_WRITE" "$(set_while_stopped "$M" "$MPID" k)"
expect_eq "b: INFO kvfleet_fence_reason:stall" stall "$(info_field "$M" replication kvfleet_fence_reason)"
expect_eq "b: later SETs are refused too" "$FENCED_WRITE" "$(rcli "$M" set k v2)"
expect_eq "b: the refused SET changed nothing" v "$(rcli "$M" get k)"
check "b: the stall is logged" grep -Eq "Fenced, reason: stall of [0-9]+ ms" "$MLOG"
check "b: attached redis-server replica keeps its link" link_is_up "$R"
check "b: attached agent replica keeps its link" link_is_up "$A"
expect_eq "b: both replicas still attached" 2 "$(info_field "$M" replication connected_slaves)"
expect_eq "b: REPLICAOF NO ONE confirms again" OK "$(rcli "$M" replicaof no one)"
expect_eq "b: SET works again" OK "$(rcli "$M" set k v3)"
check "b: replicas follow" wait_sync "$M" "$R" 20
stop_for "$MPID" 1.5
expect_eq "b: a new connection's first SET after a stop is refused" "$FENCED_WRITE" "$(rcli "$M" set k v4)"
rcli "$M" replicaof no one >/dev/null

# ---------------------------------------------------------------- c. no controller
N=$(free_port)
start_agent "$N" --save "" || fail "agent without controller starts"
NPID=$LAST_PID
expect_eq "c: no controller: SET works at start" OK "$(rcli "$N" set k v)"
expect_eq "c: no controller: SET after a stop works" "+OK" "$(set_while_stopped "$N" "$NPID" k)"
expect_eq "c: no controller: no kvfleet fields in INFO" "" "$(rcli "$N" info replication | grep kvfleet_)"
expect_eq "c: no controller: INFO replication ends as redis-server's" "repl_backlog_histlen:0" \
    "$(rcli "$N" info replication | tr -d '\r' | grep -v '^$' | tail -n 1)"

# ---------------------------------------------------------------- d. busy
# DEBUG DIGEST hashes every key: CPU-bound, read-only, and its duration
# grows with the key count. Grow the data set until it runs >= 900 ms.
D=$(free_port)
start_agent "$D" --save "" "${CTL[@]}" || fail "busy agent starts"
DPID=$LAST_PID DLOG="$LAST_DIR/stdout.log"
rcli "$D" replicaof no one >/dev/null
# No replica (whose ACKs are commands) and no client: only the cron can
# notice this stop, and it logs the fence without any command arriving.
stop_for "$DPID" 1.5
check "b: the cron fences a stopped master with no client activity" \
    wait_for 5 grep -q "Fenced, reason: stall" "$DLOG"
rcli "$D" replicaof no one >/dev/null
keys=250000 took=0
while [ "$keys" -le 4000000 ]; do
    rcli "$D" debug populate "$keys" >/dev/null
    t0=$(date +%s%N)
    rcli "$D" debug digest >/dev/null
    took=$((($(date +%s%N) - t0) / 1000000))
    [ "$took" -ge 900 ] && break
    keys=$((keys * 2))
done
if [ "$took" -ge 900 ]; then
    note "DEBUG DIGEST over $keys keys took ${took} ms"
    expect_eq "d: a CPU-bound command of ${took} ms does not fence" 0 "$(info_field "$D" replication kvfleet_fenced)"
    expect_eq "d: SET works after it" OK "$(rcli "$D" set k v)"
else
    note "d and e skipped: DEBUG DIGEST never took 900 ms (${took} ms over $keys keys)"
fi

# ---------------------------------------------------------------- e. mid-pipeline
# DEBUG DIGEST and SET arrive in one read; the stop lands during the digest.
# When it ends, the SET runs in the same I/O callback, before any timer: only
# the per-command check can refuse it.
if [ "$took" -ge 900 ]; then
    exec 3<>"/dev/tcp/127.0.0.1/$D"
    printf 'DEBUG DIGEST\r\nSET k during-stop\r\n' >&3
    sleep 0.2
    stop_for "$DPID" 3
    r1="" r2=""
    read -r -t 20 r1 <&3 || true
    read -r -t 20 r2 <&3 || true
    exec 3>&-
    expect_match "e: the long command before the stop completes" '^\+[0-9a-f]{40}' "$r1"
    expect_eq "e: the SET behind it in the pipeline is refused" "-$FENCED_WRITE" "${r2%$'\r'}"
    expect_eq "e: INFO kvfleet_fence_reason:stall" stall "$(info_field "$D" replication kvfleet_fence_reason)"
    expect_eq "e: the refused SET changed nothing" v "$(rcli "$D" get k)"
fi

finish
