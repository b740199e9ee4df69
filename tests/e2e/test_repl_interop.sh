#!/usr/bin/env bash
# test_repl_interop: replication between kvfleet-agent and Debian's
# redis-server 7.0, both ways, compared on the full content (kvdump).
#   1. agent replica of redis (disk-based, then diskless): a data set with
#      intset / listpack / quicklist and big encodings, several dbs and
#      TTLs; the stream; a partial resync after CLIENT KILL TYPE master.
#   2. redis replicas of an agent (one disk, one diskless): full sync, the
#      stream under redis-benchmark load, a partial resync after a link cut.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/repl_lib.sh"
need_redis
need_tool kvdump
command -v redis-benchmark >/dev/null 2>&1 || skip "redis-benchmark not installed"

same_content() {
    local a b
    a="$("$KVFLEET_TOOLS/kvdump" -p "$1")" || return 1
    b="$("$KVFLEET_TOOLS/kvdump" -p "$2")" || return 1
    [ "$a" = "$b" ] && [ -n "$a" ] && return 0
    diff <(echo "$a") <(echo "$b") | head -20
    return 1
}

# load_data <port>: every encoding redis-server 7.0 writes for the five types.
load_data() {
    local p="$1" i line
    {
        echo "SELECT 0"
        echo "SET str:small hello"
        echo "SET str:int 12345"
        echo "SET str:ttl v PX 500000"
        echo "RPUSH list:small a b 1 -2 300 70000"
        line="RPUSH list:big"
        for i in $(seq 1 3000); do line="$line e$i"; done
        echo "$line"
        echo "SADD set:int 1 2 3 -100 70000"
        line="SADD set:big"
        for i in $(seq 1 600); do line="$line m$i"; done
        echo "$line"
        echo "SADD set:str a b c"
        echo "HSET hash:small f1 v1 f2 2"
        line="HSET hash:big"
        for i in $(seq 1 300); do line="$line f$i v$i"; done
        echo "$line"
        echo "ZADD zset:small 1 a 2.5 b -3 c"
        line="ZADD zset:big"
        for i in $(seq 1 300); do line="$line $i.5 m$i"; done
        echo "$line"
        echo "SELECT 4"
        echo "SET other db"
        echo "EXPIRE other 100000"
    } | rcli "$p" >/dev/null
    rcli "$p" debug populate 5000 key 50 >/dev/null
}

# ---- 1. kvfleet-agent as a replica of redis-server
PR=$(free_port) && PX=$(free_port) && PY=$(free_port) || exit 1
start_redis "$PR" --repl-diskless-sync no || exit 1
load_data "$PR"
start_agent "$PX" --save "" || exit 1
expect_eq "agent replicaof redis" OK "$(rcli "$PX" replicaof 127.0.0.1 "$PR")"
check "agent link up (disk)" wait_link_up "$PX"
check "agent in sync" wait_sync "$PR" "$PX"
check "content after full sync from redis" same_content "$PR" "$PX"
rcli "$PR" lpush list:small new >/dev/null
rcli "$PR" -n 4 incrby counter 5 >/dev/null
rcli "$PR" sadd set:int 5000000000 >/dev/null
rcli "$PR" hset hash:small f3 v3 >/dev/null
rcli "$PR" zincrby zset:small 10 a >/dev/null
rcli "$PR" del str:small >/dev/null
check "agent in sync after writes" wait_sync "$PR" "$PX"
check "content after the stream" same_content "$PR" "$PX"
PART0="$(stat_of "$PR" sync_partial_ok)"
FULL0="$(stat_of "$PR" sync_full)"
slow_incr "$PR" during-cut 200 &
W=$!
sleep 0.1
rcli "$PX" client kill type master >/dev/null
wait "$W"
check "agent link back" wait_link_up "$PX"
check "agent in sync after the cut" wait_sync "$PR" "$PX"
expect_eq "redis accepted a partial resync" $((PART0 + 1)) "$(stat_of "$PR" sync_partial_ok)"
expect_eq "no new full sync" "$FULL0" "$(stat_of "$PR" sync_full)"
check "content after the partial resync" same_content "$PR" "$PX"

rcli "$PR" config set repl-diskless-sync yes >/dev/null
rcli "$PR" config set repl-diskless-sync-delay 0 >/dev/null
start_agent "$PY" --save "" --replicaof 127.0.0.1 "$PR" || exit 1
check "agent link up (diskless from redis)" wait_link_up "$PY"
rcli "$PR" set after-diskless 1 >/dev/null
check "diskless agent in sync" wait_sync "$PR" "$PY"
check "content after diskless sync from redis" same_content "$PR" "$PY"

# ---- 2. redis-server replicas of a kvfleet-agent
PM=$(free_port) && PS1=$(free_port) && PS2=$(free_port) || exit 1
start_agent "$PM" --save "" --repl-diskless-sync no || exit 1
load_data "$PM"
start_redis "$PS1" --replicaof 127.0.0.1 "$PM" || exit 1
check "redis link up (disk)" wait_link_up "$PS1"
rcli "$PM" config set repl-diskless-sync yes >/dev/null
rcli "$PM" config set repl-diskless-sync-delay 0 >/dev/null
start_redis "$PS2" --replicaof 127.0.0.1 "$PM" || exit 1
check "redis link up (diskless)" wait_link_up "$PS2"
check "redis 1 in sync" wait_sync "$PM" "$PS1"
check "redis 2 in sync" wait_sync "$PM" "$PS2"
check "redis (disk) content = agent" same_content "$PM" "$PS1"
check "redis (diskless) content = agent" same_content "$PM" "$PS2"
expect_eq "agent lists two replicas" 2 "$(info_field "$PM" replication connected_slaves)"
redis-benchmark -p "$PM" -q -n 10000 -c 20 -P 16 -r 3000 -t set,incr,lpush,rpop,sadd,hset,spop,zadd >/dev/null 2>&1
rcli "$PM" -n 2 set expiring v px 50 >/dev/null
sleep 0.2
rcli "$PM" -n 2 get expiring >/dev/null
check "redis 1 in sync after load" wait_sync "$PM" "$PS1" 30
check "redis 2 in sync after load" wait_sync "$PM" "$PS2" 30
check "redis 1 content after load" same_content "$PM" "$PS1"
check "redis 2 content after load" same_content "$PM" "$PS2"
expect_eq "expired key deleted on redis replica" 0 "$(rcli "$PS1" -n 2 exists expiring)"
PART0="$(stat_of "$PM" sync_partial_ok)"
FULL0="$(stat_of "$PM" sync_full)"
slow_incr "$PM" during-cut 200 &
W=$!
sleep 0.1
rcli "$PS1" client kill type master >/dev/null
wait "$W"
check "redis link back" wait_link_up "$PS1"
check "redis in sync after the cut" wait_sync "$PM" "$PS1"
expect_eq "agent accepted a partial resync" $((PART0 + 1)) "$(stat_of "$PM" sync_partial_ok)"
expect_eq "agent: no new full sync" "$FULL0" "$(stat_of "$PM" sync_full)"
check "redis content after partial resync" same_content "$PM" "$PS1"
expect_eq "WAIT with redis replicas" 2 "$(rcli "$PM" wait 2 2000)"

# ---- 3. FAILOVER both ways: the agent hands over to a redis replica, and a
# redis master hands over to an agent replica; both continue partially.
rcli "$PM" set before-failover 1 >/dev/null
PART0="$(stat_of "$PS1" sync_partial_ok)"
expect_eq "FAILOVER agent -> redis" OK "$(rcli "$PM" failover to 127.0.0.1 "$PS1" timeout 5000)"
check "redis target became master" wait_for 10 role_is "$PS1" master
check "agent follows the redis target" wait_link_up "$PM"
rcli "$PS1" set after-failover 1 >/dev/null
check "agent in sync with the new redis master" wait_sync "$PS1" "$PM"
expect_eq "old master resynced partially" $((PART0 + 1)) "$(stat_of "$PS1" sync_partial_ok)"
check "content after failover to redis" same_content "$PS1" "$PM"
expect_eq "failover state cleared" no-failover "$(info_field "$PM" replication master_failover_state)"

check "agent PX in sync before failover" wait_sync "$PR" "$PX"
PART0="$(stat_of "$PX" sync_partial_ok)"
expect_eq "FAILOVER redis -> agent" OK "$(rcli "$PR" failover to 127.0.0.1 "$PX" timeout 5000)"
check "agent target became master" wait_for 10 role_is "$PX" master
check "redis follows the agent target" wait_link_up "$PR"
rcli "$PX" set after-failover 2 >/dev/null
check "redis in sync with the new agent master" wait_sync "$PX" "$PR"
expect_eq "redis resynced partially with the agent" $((PART0 + 1)) "$(stat_of "$PX" sync_partial_ok)"
check "content after failover to the agent" same_content "$PX" "$PR"
expect_eq "FAILOVER without replicas" "ERR FAILOVER requires connected replicas." "$(rcli "$PY" replicaof no one >/dev/null; rcli "$PY" failover 2>&1)"

finish
