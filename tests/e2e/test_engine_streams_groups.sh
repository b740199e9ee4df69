#!/usr/bin/env bash
# test_engine_streams_groups: stream consumer groups between kvfleet-agent
# and Debian's redis-server 7.0, both directions, compared on what clients
# see (XINFO GROUPS, XINFO CONSUMERS, XPENDING, XINFO STREAM FULL).
#   1. agent replica of redis: groups with pending entries, consumers with
#      and without entries, a deleted pending entry and an ENTRIESREAD
#      group are in the RDB of the full sync (redis' RDB read by the agent);
#      then XREADGROUP (NOACK too), XAUTOCLAIM, XCLAIM of a deleted entry,
#      DELCONSUMER, SETID, MKSTREAM arrive through the replication stream
#      (the XCLAIM / SETID / CREATECONSUMER forms). The replica holds the
#      groups byte for byte: DUMP of the stream equals redis' DUMP.
#   2. redis replica of the agent: the same, the agent writing the RDB and
#      the stream, redis reading them.
#   3. RDB files both ways: SAVE on one, load on the other (DEBUG RELOAD on
#      the agent) and compare.
# Consumers' seen times are set at the moment a replica creates them, and
# idle times depend on "now": those values are masked; delivery times
# travel exactly (XCLAIM ... TIME) and are compared.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/repl_lib.sh"
need_redis

# Commands run before the replica attaches (they reach it in the RDB).
before_sync() {
    rcli "$1" >/dev/null <<'EOF'
XADD s 1-1 a 1
XADD s 2-1 b 2
XADD s 3-1 c 3
XADD s 4-1 d 4
XADD s 5-1 e 5
XADD s 6-1 f 6
XGROUP CREATE s g1 0
XGROUP CREATE s g2 $
XGROUP CREATE s g3 0 ENTRIESREAD 2
XREADGROUP GROUP g1 alice COUNT 3 STREAMS s >
XREADGROUP GROUP g1 bob STREAMS s >
XGROUP CREATECONSUMER s g1 idle
XACK s g1 2-1
XCLAIM s g1 carol 0 3-1 RETRYCOUNT 9 TIME 1700000000000
XDEL s 4-1
XGROUP CREATE other grp $ MKSTREAM
EOF
}

# Commands run while the replica is attached (they reach it as commands).
after_sync() {
    rcli "$1" >/dev/null <<'EOF'
XADD s 7-1 g 7
XREADGROUP GROUP g2 dave NOACK STREAMS s >
XREADGROUP GROUP g1 erin STREAMS s >
XAUTOCLAIM s g1 frank 0 0 COUNT 2
XCLAIM s g1 alice 0 4-1
XGROUP DELCONSUMER s g1 bob
XGROUP CREATE s g4 $ MKSTREAM
XGROUP SETID s g3 5-1 ENTRIESREAD 4
XCLAIM s g1 gina 0 6-1 LASTID 8-0
XGROUP DESTROY other grp
EOF
}

# view <port>: what clients see of the groups, with seen and idle times
# masked (the value after "seen-time" / "idle", every XPENDING idle).
view() {
    local p="$1"
    {
        echo "== groups"
        rcli "$p" xinfo groups s
        for g in g1 g2 g3 g4; do
            echo "== consumers $g"
            rcli "$p" xinfo consumers s "$g"
            echo "== pending $g"
            rcli "$p" xpending s "$g"
            rcli "$p" xpending s "$g" - + 100 | awk 'NR % 4 == 3 { $0 = "<idle>" } { print }'
        done
        echo "== full"
        rcli "$p" xinfo stream s full count 0
        echo "== other"
        rcli "$p" xinfo groups other
    } 2>&1 | awk 'mask { $0 = "<masked>"; mask = 0 } /^(seen-time|idle)$/ { mask = 1 } { print }'
}

same_view() {
    local a b
    a="$(view "$1")"
    b="$(view "$2")"
    if [ -n "$a" ] && [ "$a" = "$b" ]; then
        return 0
    fi
    diff <(echo "$a") <(echo "$b") | head -30 | sed 's/^/#   /'
    return 1
}

# same_dump <port-a> <port-b>: DUMP of the stream byte for byte, without
# LZF (so the group part is compared, not two compressors' choices).
same_dump() {
    local a b
    rcli "$1" config set rdbcompression no >/dev/null
    rcli "$2" config set rdbcompression no >/dev/null
    a="$(rcli "$1" --no-raw dump s)"
    b="$(rcli "$2" --no-raw dump s)"
    [ -n "$a" ] && [ "$a" = "$b" ] && return 0
    note "dump $1: ${a:0:200}"
    note "dump $2: ${b:0:200}"
    diff <(echo "$a" | fold -w 60) <(echo "$b" | fold -w 60) | head -10 | sed 's/^/#   /'
    return 1
}

# ---- 1. agent replica of redis
PR=$(free_port) && PA=$(free_port) || exit 1
start_redis "$PR" --repl-diskless-sync no || exit 1
before_sync "$PR"
start_agent "$PA" --save "" || exit 1
expect_eq "agent replicaof redis" OK "$(rcli "$PA" replicaof 127.0.0.1 "$PR")"
check "agent link up" wait_link_up "$PA"
check "agent in sync" wait_sync "$PR" "$PA"
check "groups after full sync from redis (redis' RDB)" same_view "$PR" "$PA"
check "DUMP of the stream after full sync equals redis'" same_dump "$PR" "$PA"
after_sync "$PR"
check "agent in sync after group commands" wait_sync "$PR" "$PA"
check "groups after the replication stream from redis" same_view "$PR" "$PA"

# ---- 2. redis replica of the agent
PM=$(free_port) && PS=$(free_port) || exit 1
start_agent "$PM" --save "" --repl-diskless-sync no || exit 1
before_sync "$PM"
start_redis "$PS" --replicaof 127.0.0.1 "$PM" || exit 1
check "redis link up" wait_link_up "$PS"
check "redis in sync" wait_sync "$PM" "$PS"
check "groups after full sync from the agent (agent's RDB)" same_view "$PM" "$PS"
check "DUMP of the stream after full sync equals the agent's" same_dump "$PM" "$PS"
after_sync "$PM"
check "redis in sync after group commands" wait_sync "$PM" "$PS"
check "groups after the replication stream from the agent" same_view "$PM" "$PS"

# ---- 3. RDB files: redis' file loaded by the agent, the agent's by redis
D1="$LIB_TMP/rdb-redis" D2="$LIB_TMP/rdb-agent"
mkdir -p "$D1" "$D2"
P1=$(free_port) && P2=$(free_port) && P3=$(free_port) || exit 1
start_redis "$P1" --dir "$D1" --dbfilename dump.rdb || exit 1
before_sync "$P1"
after_sync "$P1"
expect_eq "redis SAVE" OK "$(rcli "$P1" save)"
cp "$D1/dump.rdb" "$D2/dump.rdb" || exit 1
start_agent "$P2" --save "" --enable-debug-command yes --dir "$D2" --dbfilename dump.rdb || exit 1
check "agent loads redis' RDB with groups" same_view "$P1" "$P2"
check "DUMP after loading redis' RDB" same_dump "$P1" "$P2"
expect_eq "agent SAVE" OK "$(rcli "$P2" save)"
start_redis "$P3" --dir "$D2" --dbfilename dump.rdb || exit 1
check "redis loads the agent's RDB with groups" same_view "$P2" "$P3"
check "the agent's RDB is byte-identical to redis' for the stream" same_dump "$P1" "$P3"
expect_eq "agent DEBUG RELOAD" OK "$(rcli "$P2" debug reload)"
check "groups after DEBUG RELOAD" same_view "$P1" "$P2"

# ---- 4. a blocked XREADGROUP that ends in an error counts as a failed call
# (calls=1 from the blocking call, failed_calls=1 from the re-run), as in
# redis-server: the counters of both servers are compared.
xrg_failed_stats() {
    local p="$1" bpid
    rcli "$p" config resetstat >/dev/null
    rcli "$p" del fs >/dev/null
    rcli "$p" xgroup create fs g '$' mkstream >/dev/null
    rcli "$p" xreadgroup group g c block 0 streams fs '>' >/dev/null 2>&1 &
    bpid=$!
    for i in $(seq 1 100); do
        [ "$(rcli "$p" info clients | tr -d '\r' | sed -n 's/^blocked_clients://p')" = 1 ] && break
        sleep 0.02
    done
    rcli "$p" xgroup destroy fs g >/dev/null
    wait "$bpid"
    rcli "$p" info commandstats | tr -d '\r' | sed -n 's/^cmdstat_xreadgroup:calls=\([0-9]*\),.*rejected_calls=\([0-9]*\),failed_calls=\([0-9]*\)/calls=\1 rejected=\2 failed=\3/p'
}
expect_eq "blocked XREADGROUP unblocked by XGROUP DESTROY: calls and failed_calls as redis-server" \
    "$(xrg_failed_stats "$P1")" "$(xrg_failed_stats "$P2")"
expect_eq "... which are calls=1 failed=1" "calls=1 rejected=0 failed=1" "$(xrg_failed_stats "$P2")"

finish
