#!/usr/bin/env bash
# test_repl_topology: replication between kvfleet-agents on loopback ports.
#   - the seed topology: one master, two replicas (REPLICAOF), both shown by
#     INFO replication, writes to a replica refused, data on both;
#   - a write load (redis-benchmark) with both attached: equal DEBUG DIGESTs;
#   - partial resync after CLIENT KILL TYPE master while writes go on;
#   - a link cut longer than the backlog: full resync;
#   - WAIT, min-replicas-to-write, disk and diskless full syncs;
#   - promotion (REPLICAOF NO ONE) with the other replica and the old master
#     re-pointed: both continue partially;
#   - a replica restarted from its RDB resumes partially;
#   - chained replication and masterauth against requirepass.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/repl_lib.sh"
need_tool kvdump
command -v redis-benchmark >/dev/null 2>&1 || skip "redis-benchmark not installed"

PA=$(free_port) && PB=$(free_port) && PC=$(free_port) && PD=$(free_port) || exit 1
COMMON=(--save "" --repl-diskless-sync-delay 0)
start_agent "$PA" "${COMMON[@]}" || exit 1
PID_A=$LAST_PID
start_agent "$PB" "${COMMON[@]}" || exit 1
PID_B=$LAST_PID
start_agent "$PC" "${COMMON[@]}" || exit 1
PID_C=$LAST_PID
DIR_C=$LAST_DIR

rcli "$PA" mset a 1 b 2 >/dev/null
rcli "$PA" -n 3 rpush list x y z >/dev/null
rcli "$PA" debug populate 2000 >/dev/null
# B syncs diskless (the default), C from a disk snapshot.
expect_eq "replicaof B" OK "$(rcli "$PB" replicaof 127.0.0.1 "$PA")"
check "B link up" wait_link_up "$PB"
rcli "$PA" config set repl-diskless-sync no >/dev/null
expect_eq "slaveof C" OK "$(rcli "$PC" slaveof 127.0.0.1 "$PA")"
check "C link up" wait_link_up "$PC"
expect_eq "master has two replicas" 2 "$(info_field "$PA" replication connected_slaves)"
expect_match "slave0 line" "^ip=127.0.0.1,port=[0-9]+,state=online,offset=[0-9]+,lag=[0-9]+$" \
    "$(info_field "$PA" replication slave0)"
expect_eq "role of B" slave "$(info_field "$PB" replication role)"
expect_match "write to replica refused" "READONLY You can't write against a read only replica." \
    "$(rcli "$PB" set k v 2>&1)"
rcli "$PA" set k v >/dev/null
rcli "$PA" -n 5 hset h f v >/dev/null
rcli "$PA" set ttl v ex 100 >/dev/null
check "B in sync" wait_sync "$PA" "$PB"
check "C in sync" wait_sync "$PA" "$PC"
expect_eq "data on B" v "$(rcli "$PB" get k)"
expect_eq "data on C (db 5)" v "$(rcli "$PC" -n 5 hget h f)"
expect_eq "list (db 3) on C" "x y z" "$(rcli "$PC" -n 3 lrange list 0 -1 | tr '\n' ' ' | sed 's/ $//')"
expect_eq "TTL replicated" 1 "$([ "$(rcli "$PB" ttl ttl)" -gt 90 ] && echo 1)"
expect_eq "role reply" "slave 127.0.0.1 $PA connected" "$(rcli "$PB" role | head -4 | tr '\n' ' ' | sed 's/ $//')"

# ---- write load with both replicas attached
redis-benchmark -p "$PA" -q -n 10000 -c 20 -P 16 -r 5000 -t set,incr,lpush,sadd,hset,zadd >/dev/null 2>&1
rcli "$PA" multi >/dev/null
check "B in sync after load" wait_sync "$PA" "$PB" 30
check "C in sync after load" wait_sync "$PA" "$PC" 30
DA="$(digest "$PA")"
expect_eq "digest B = master" "$DA" "$(digest "$PB")"
expect_eq "digest C = master" "$DA" "$(digest "$PC")"

# ---- expiry on the master reaches the replicas as DEL
rcli "$PA" set shortlived v px 100 >/dev/null
sleep 0.3
rcli "$PA" get shortlived >/dev/null
check "expired key deleted on B" wait_for 5 reply_is 0 "$PB" exists shortlived

# ---- partial resync after a link kill while writes continue
FULL0="$(stat_of "$PA" sync_full)"
PART0="$(stat_of "$PA" sync_partial_ok)"
slow_incr "$PA" counter 300 &
WRITER=$!
sleep 0.2
rcli "$PB" client kill type master >/dev/null
wait "$WRITER"
check "B link back" wait_link_up "$PB"
check "B in sync after kill" wait_sync "$PA" "$PB"
expect_eq "partial resync counted" $((PART0 + 1)) "$(stat_of "$PA" sync_partial_ok)"
expect_eq "no new full sync" "$FULL0" "$(stat_of "$PA" sync_full)"
expect_eq "counter on B" 300 "$(rcli "$PB" get counter)"

# ---- backlog overflow: the replica is stopped while more than the backlog
# is written, then its link is cut: it must come back with a full sync.
rcli "$PA" config set repl-backlog-size 16kb >/dev/null
sleep 0.3
LADDR="$(master_laddr "$PC")"
kill -STOP "$PID_C"
# ~20 MB: more than the stopped replica's socket buffers hold, so most of
# it is still queued on the master when the link is cut.
redis-benchmark -p "$PA" -q -n 200 -c 4 -d 100000 -r 50 -t set >/dev/null 2>&1
rcli "$PA" client kill addr "$LADDR" >/dev/null
kill -CONT "$PID_C"
check "C back after overflow" wait_for 20 in_sync "$PA" "$PC"
expect_eq "overflow forced a full sync" $((FULL0 + 1)) "$(stat_of "$PA" sync_full)"
expect_eq "digest C after full resync" "$(digest "$PA")" "$(digest "$PC")"
rcli "$PA" config set repl-backlog-size 1mb >/dev/null

# ---- WAIT and min-replicas-to-write
rcli "$PA" set w 1 >/dev/null
expect_eq "WAIT 2" 2 "$(rcli "$PA" wait 2 2000)"
T0=$(date +%s%N)
expect_eq "WAIT 3 times out with 2" 2 "$(rcli "$PA" wait 3 300)"
T1=$(date +%s%N)
expect_eq "WAIT waited its timeout" 1 "$([ $(((T1 - T0) / 1000000)) -ge 250 ] && echo 1)"
expect_match "WAIT on a replica" "^ERR WAIT cannot be used with replica instances" "$(rcli "$PB" wait 1 0 2>&1)"
rcli "$PA" config set min-replicas-to-write 3 >/dev/null
expect_eq "NOREPLICAS" "NOREPLICAS Not enough good replicas to write." "$(rcli "$PA" set x 1 2>&1)"
expect_eq "reads still served" v "$(rcli "$PA" get k)"
rcli "$PA" config set min-replicas-to-write 2 >/dev/null
expect_eq "writes accepted with 2 good replicas" OK "$(rcli "$PA" set x 1)"
rcli "$PA" config set min-replicas-to-write 0 >/dev/null

# ---- promotion: B becomes master; C and the old master A follow it
check "B in sync before promotion" wait_sync "$PA" "$PB"
check "C in sync before promotion" wait_sync "$PA" "$PC"
FULLB="$(stat_of "$PB" sync_full)"
expect_eq "promote B" OK "$(rcli "$PB" replicaof no one)"
expect_eq "B is master" master "$(info_field "$PB" replication role)"
rcli "$PB" set promoted yes >/dev/null
rcli "$PC" replicaof 127.0.0.1 "$PB" >/dev/null
rcli "$PA" replicaof 127.0.0.1 "$PB" >/dev/null
check "C follows B" wait_link_up "$PC"
check "A follows B" wait_link_up "$PA"
check "A in sync with B" wait_sync "$PB" "$PA"
check "C in sync with B" wait_sync "$PB" "$PC"
expect_eq "both continued partially" 2 "$(stat_of "$PB" sync_partial_ok)"
expect_eq "no full sync on the new master" "$FULLB" "$(stat_of "$PB" sync_full)"
expect_eq "write after promotion on A" yes "$(rcli "$PA" get promoted)"
DB="$(digest "$PB")"
expect_eq "digest A = new master" "$DB" "$(digest "$PA")"
expect_eq "digest C = new master" "$DB" "$(digest "$PC")"

# ---- restart a replica: it resumes from the offset in its RDB
rcli "$PB" set before-restart 1 >/dev/null
check "C in sync before restart" wait_sync "$PB" "$PC"
rcli "$PC" shutdown save >/dev/null 2>&1
wait_pid_exit "$PID_C" 10
forget_pid "$PID_C"
rcli "$PB" set while-down 1 >/dev/null
PARTB="$(stat_of "$PB" sync_partial_ok)"
spawn "$DIR_C" "$KVFLEET_AGENT" --port "$PC" --bind 127.0.0.1 "${COMMON[@]}" --replicaof 127.0.0.1 "$PB"
PID_C=$LAST_PID
check "restarted C answers" wait_ready "$PC" "$PID_C" 10
check "restarted C link up" wait_link_up "$PC"
check "restarted C in sync" wait_sync "$PB" "$PC"
expect_eq "restart resumed partially" $((PARTB + 1)) "$(stat_of "$PB" sync_partial_ok)"
expect_eq "no full sync for the restart" "$FULLB" "$(stat_of "$PB" sync_full)"
expect_eq "write made while C was down" 1 "$(rcli "$PC" get while-down)"

# ---- chained: D replicates C, which replicates B
start_agent "$PD" "${COMMON[@]}" --replicaof 127.0.0.1 "$PC" || exit 1
check "D link up" wait_link_up "$PD"
rcli "$PB" -n 2 sadd chained a b c >/dev/null
check "D in sync with the top master" wait_sync "$PB" "$PD"
expect_eq "chained data" 3 "$(rcli "$PD" -n 2 scard chained)"
expect_eq "digest D = top master" "$(digest "$PB")" "$(digest "$PD")"

# ---- masterauth against requirepass
PE=$(free_port) && PF=$(free_port) || exit 1
start_agent "$PE" "${COMMON[@]}" --requirepass s3cret || exit 1
start_agent "$PF" "${COMMON[@]}" --masterauth s3cret --replicaof 127.0.0.1 "$PE" || exit 1
rcli "$PE" -a s3cret --no-auth-warning set secured 1 >/dev/null
check "auth link up" wait_link_up "$PF"
check "auth data" wait_for 5 reply_is 1 "$PF" get secured

# ---- FAILOVER: E (requirepass) hands over to its replica F
export REDISCLI_AUTH=s3cret   # E's password, for the next few calls
expect_eq "FAILOVER requires a known replica" "ERR FAILOVER target HOST and PORT is not a replica." \
    "$(rcli "$PE" failover to 127.0.0.1 1 2>&1)"
expect_eq "FAILOVER FORCE needs TO and TIMEOUT" \
    "ERR FAILOVER with force option requires both a timeout and target HOST and IP." \
    "$(rcli "$PE" failover force 2>&1)"
expect_eq "FAILOVER ABORT without failover" "ERR No failover in progress." "$(rcli "$PE" failover abort 2>&1)"
expect_eq "FAILOVER to F" OK "$(rcli "$PE" failover to 127.0.0.1 "$PF")"
unset REDISCLI_AUTH
check "F became master" wait_for 10 role_is "$PF" master
check "E follows F" wait_for 10 env REDISCLI_AUTH=s3cret bash -c "redis-cli -p $PE info replication | grep -q role:slave"
expect_eq "F served E partially" 1 "$(stat_of "$PF" sync_partial_ok)"
rcli "$PF" set after-failover 1 >/dev/null
check "write reached the old master" wait_for 5 env REDISCLI_AUTH=s3cret bash -c "[ \"\$(redis-cli -p $PE get after-failover)\" = 1 ]"

finish
