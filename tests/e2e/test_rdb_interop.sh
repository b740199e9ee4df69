#!/usr/bin/env bash
# test_rdb_interop: RDB files move both ways between Debian's redis-server
# 7.0 and kvfleet-agent with nothing lost. A data set with small and large
# values of every type (so redis writes intset, listpack and quicklist
# encodings, and hashtable/skiplist ones), TTLs and several dbs is:
#   1. built in redis-server, SAVEd, loaded by the agent: full content equal;
#   2. SAVEd again by that agent: redis-check-rdb accepts it and a fresh
#      redis-server loads it with the full content equal;
#   3. built directly in an agent (our own containers), SAVEd, checked and
#      loaded by redis-server: full content equal.
# redis-server loads the agent's files with sanitize-dump-payload yes, so
# every listpack / intset blob we write passes its deep integrity checks.
# "Content" is tests/tools/kvdump's canonical dump: every key, type, value
# and absolute expiry, compared with diff (not sampled). Streams (which
# kvdump does not read) are compared through XRANGE and XINFO STREAM FULL,
# and the agent's DUMP of a stream built by the same XADDs must be the same
# bytes as redis-server's (same nodes, same listpacks).
source "$(dirname "$0")/lib.sh"
need_redis
need_tool kvdump
command -v redis-check-rdb >/dev/null 2>&1 || skip "redis-check-rdb not installed"
KVDUMP="$KVFLEET_TOOLS/kvdump"

# gen_data: redis-cli commands, one per line (the same on every call).
RND="$(head -c 3000 /dev/urandom | od -An -tx1 | tr -d ' \n')"
BIG="$(printf 'a%.0s' $(seq 1 20000))"
gen_data() {
    local i line big="$BIG" rnd="$RND"
    echo 'SELECT 0'
    for v in 0 -1 127 128 -129 32767 32768 2147483647 2147483648 -2147483649 \
             9223372036854775807 -9223372036854775808 007 -0 1.5 12345678901234; do
        echo "SET str:int:$v $v"
    done
    echo 'SET str:small hello'
    echo 'SET str:empty ""'
    echo 'SET str:bin "\x00\x01\xff\r\n bin"'
    echo "SET str:big $big"
    echo "SET str:rand $rnd"
    echo 'SET "key with spaces" "value with spaces"'
    echo 'SET "\xff\x00binkey" v'
    echo 'RPUSH list:small a b 1 -2 300 70000 -5000000000 "hello world" ""'
    for i in $(seq 0 39); do
        line="RPUSH list:big"
        for j in $(seq 0 499); do line="$line e$((i * 500 + j))"; done
        echo "$line"
    done
    for i in 1 2 3; do echo "RPUSH list:bigval $big$i"; done
    echo 'SADD set:int 1 2 3 -100 70000 9223372036854775807'
    line="SADD set:int:big"
    for i in $(seq 1 1000); do line="$line $((i * 7))"; done
    echo "$line"
    echo 'SADD set:str a b c 1 ""'
    line="SADD set:str:big"
    for i in $(seq 1 1000); do line="$line member:$i"; done
    echo "$line"
    echo 'HSET hash:small f1 v1 f2 2 f3 -3000 empty ""'
    line="HSET hash:big"
    for i in $(seq 1 1000); do line="$line field:$i value:$((i * 3))"; done
    echo "$line"
    echo "HSET hash:bigval a $big b short c $rnd"
    echo 'ZADD zset:small 1 a 2.5 b -3 c inf d -inf e 0 f 0.1 g'
    line="ZADD zset:big"
    for i in $(seq 1 500); do line="$line $i.25 m:$i"; done
    echo "$line"
    echo "ZADD zset:bigval 1 $big 2 x"
    echo 'SET ttl:str v EX 100000'
    echo 'RPUSH ttl:list a b'
    echo 'PEXPIRE ttl:list 5000000'
    echo 'HSET ttl:hash f v'
    echo 'EXPIREAT ttl:hash 4102444800'
    gen_streams
    echo 'SELECT 1'
    echo 'SET db1:a 1'
    echo 'SADD db1:set x y'
    echo 'SELECT 5'
    echo 'ZADD db5:z 1 one'
    echo 'SET db5:ttl x PX 9000000'
    echo 'SELECT 15'
    echo 'SET db15:last z'
}

# Streams with explicit IDs (the same bytes on every run): several nodes,
# entries with and without the master fields, tombstones, a trimmed and an
# empty stream, XSETID's fields, a consumer group with pending entries.
STREAM_KEYS="stream:small stream:big stream:empty stream:groups"
gen_streams() {
    local i
    echo 'XADD stream:small 1-1 a 1 b 2'
    echo 'XADD stream:small 1-2 a 3 b 4'
    echo 'XADD stream:small 2-0 c -5 d "x y" e ""'
    echo 'XADD stream:small 3-0 a 9223372036854775807 b 12345678901234567890'
    echo 'XDEL stream:small 1-2'
    for i in $(seq 1 1050); do
        if [ $((i % 7)) -eq 0 ]; then
            echo "XADD stream:big $((1000 + i / 3))-$i other $i"
        else
            echo "XADD stream:big $((1000 + i / 3))-$i field $i name value:$i"
        fi
    done
    echo 'XDEL stream:big 1001-3 1010-30 1200-600'
    echo 'XTRIM stream:big MAXLEN 1000'
    echo 'XTRIM stream:big MAXLEN ~ 900'
    echo 'XADD stream:empty MAXLEN 0 5-5 f v'
    echo 'XSETID stream:empty 7-0 ENTRIESADDED 3 MAXDELETEDID 6-0'
    echo 'XADD stream:groups 1-0 f 1'
    echo 'XADD stream:groups 2-0 f 2'
    echo 'XADD stream:groups 3-0 f 3'
    echo 'XGROUP CREATE stream:groups g1 0'
    echo 'XGROUP CREATE stream:groups g2 $'
    echo 'XREADGROUP GROUP g1 alice COUNT 2 STREAMS stream:groups >'
    echo 'XACK stream:groups g1 1-0'
}

# stream_view <port> <file>: every stream's entries and XINFO STREAM FULL.
stream_view() {
    local k
    for k in $STREAM_KEYS; do
        echo "== $k"
        rcli "$1" xrange "$k" - +
        rcli "$1" xinfo stream "$k" full
    done >"$2" 2>&1
}

# stream_dumps <port> <file>: DUMP of the group-less streams, uncompressed
# (the LZF output of two compressors may differ; the listpacks may not).
stream_dumps() {
    local k
    rcli "$1" config set rdbcompression no >/dev/null
    for k in stream:small stream:big stream:empty; do
        echo "== $k"
        redis-cli -p "$1" --no-raw dump "$k"
    done >"$2" 2>&1
    rcli "$1" config set rdbcompression yes >/dev/null
}

# load_data <port>: feed gen_data; fail on any error reply.
load_data() {
    local out
    out="$(gen_data | rcli "$1" 2>&1)"
    if printf '%s\n' "$out" | grep -q 'ERR'; then
        printf '%s\n' "$out" | grep 'ERR' | head -5 | sed 's/^/#   /'
        return 1
    fi
}

dump_of() { "$KVDUMP" -p "$1" >"$2"; }

same_dump() {
    if diff -q "$1" "$2" >/dev/null; then
        return 0
    fi
    diff "$1" "$2" | head -20 | cut -c1-200
    return 1
}

# start_with_file <kind> <port> <rdb> [args]: put <rdb> as dump.rdb in the
# server's directory, then start it.
start_with_file() {
    local kind="$1" port="$2" file="$3"
    shift 3
    mkdir -p "$LIB_TMP/$kind-$port"
    cp "$file" "$LIB_TMP/$kind-$port/dump.rdb"
    if [ "$kind" = agent ]; then
        start_agent "$port" --save "" "$@"
    else
        start_redis "$port" "$@"
    fi
}

# ---- 1. redis-server -> agent
p_r1=$(free_port)
start_redis "$p_r1" || { fail "redis-server starts"; finish; }
r1_dir="$LAST_DIR"
check "data set loads into redis-server" load_data "$p_r1"
expect_eq "redis SAVE" "OK" "$(rcli "$p_r1" save)"
dump_of "$p_r1" "$LIB_TMP/r1.txt"
stream_view "$p_r1" "$LIB_TMP/r1.streams"
stream_dumps "$p_r1" "$LIB_TMP/r1.dumps"
check "the stream view holds entries and groups" grep -q "^alice$" "$LIB_TMP/r1.streams"
expect_match "the stream dumps hold payloads" '"\\x13\\x01' "$(cat "$LIB_TMP/r1.dumps")"
expect_eq "redis holds the streams (~ trimmed whole nodes only)" "949" "$(rcli "$p_r1" xlen stream:big)"
note "redis dump: $(wc -l <"$LIB_TMP/r1.txt") lines, $(grep -c '^db' "$LIB_TMP/r1.txt") keys; rdb $(stat -c %s "$r1_dir/dump.rdb") bytes"
for enc in "list:small quicklist" "list:big quicklist" "set:int intset" "set:str:big hashtable" \
           "hash:small listpack" "hash:big hashtable" "zset:small listpack" "zset:big skiplist"; do
    set -- $enc
    expect_eq "redis encodes $1 as $2" "$2" "$(rcli "$p_r1" object encoding "$1")"
done

p_a1=$(free_port)
if start_with_file agent "$p_a1" "$r1_dir/dump.rdb"; then
    a1_dir="$LAST_DIR"
    dump_of "$p_a1" "$LIB_TMP/a1.txt"
    check "agent loads redis' dump.rdb with identical content" same_dump "$LIB_TMP/r1.txt" "$LIB_TMP/a1.txt"
    stream_view "$p_a1" "$LIB_TMP/a1.streams"
    check "agent loads redis' streams (XRANGE, XINFO STREAM FULL equal)" same_dump "$LIB_TMP/r1.streams" "$LIB_TMP/a1.streams"
    expect_match "agent logs the load" "Done loading RDB, keys loaded: [0-9]+" "$(cat "$a1_dir/stdout.log")"

    # ---- 2. agent -> redis-server
    expect_eq "agent SAVE" "OK" "$(rcli "$p_a1" save)"
    check "redis-check-rdb accepts the agent's dump.rdb" redis-check-rdb "$a1_dir/dump.rdb"
    p_r2=$(free_port)
    if start_with_file redis "$p_r2" "$a1_dir/dump.rdb" --sanitize-dump-payload yes; then
        dump_of "$p_r2" "$LIB_TMP/r2.txt"
        check "redis-server loads the agent's dump.rdb with identical content" same_dump "$LIB_TMP/r1.txt" "$LIB_TMP/r2.txt"
        stream_view "$p_r2" "$LIB_TMP/r2.streams"
        check "redis-server loads the agent's streams (XRANGE, XINFO STREAM FULL equal)" same_dump "$LIB_TMP/r1.streams" "$LIB_TMP/r2.streams"
    else
        fail "redis-server starts on the agent's dump.rdb"
    fi
    note "agent rdb $(stat -c %s "$a1_dir/dump.rdb") bytes"
else
    fail "agent starts on redis' dump.rdb"
fi

# ---- 3. built in the agent -> redis-server
p_a2=$(free_port)
if start_agent "$p_a2" --save ""; then
    a2_dir="$LAST_DIR"
    check "data set loads into the agent" load_data "$p_a2"
    dump_of "$p_a2" "$LIB_TMP/a2.txt"
    # TTLs differ in absolute time between the two runs; compare the rest.
    check "agent holds the same data as redis" same_dump \
        <(sed 's/ ttl=abs:[0-9]*/ ttl=set/' "$LIB_TMP/r1.txt") <(sed 's/ ttl=abs:[0-9]*/ ttl=set/' "$LIB_TMP/a2.txt")
    stream_dumps "$p_a2" "$LIB_TMP/a2.dumps"
    check "agent's DUMP of streams built by the same XADDs is redis' bytes" same_dump "$LIB_TMP/r1.dumps" "$LIB_TMP/a2.dumps"
    stream_view "$p_a2" "$LIB_TMP/a2.streams"
    expect_eq "agent SAVE (own data)" "OK" "$(rcli "$p_a2" save)"
    check "redis-check-rdb accepts it" redis-check-rdb "$a2_dir/dump.rdb"
    p_r3=$(free_port)
    if start_with_file redis "$p_r3" "$a2_dir/dump.rdb" --sanitize-dump-payload yes; then
        dump_of "$p_r3" "$LIB_TMP/r3.txt"
        check "redis-server loads it with identical content" same_dump "$LIB_TMP/a2.txt" "$LIB_TMP/r3.txt"
        stream_view "$p_r3" "$LIB_TMP/r3.streams"
        check "redis-server loads the agent's own streams" same_dump "$LIB_TMP/a2.streams" "$LIB_TMP/r3.streams"
    else
        fail "redis-server starts on the agent's own dump.rdb"
    fi
    # rdbcompression no / rdbchecksum no files are read by redis too.
    rcli "$p_a2" config set rdbcompression no >/dev/null
    rcli "$p_a2" config set rdbchecksum no >/dev/null
    expect_eq "agent SAVE (no compression, no checksum)" "OK" "$(rcli "$p_a2" save)"
    p_r4=$(free_port)
    if start_with_file redis "$p_r4" "$a2_dir/dump.rdb"; then
        dump_of "$p_r4" "$LIB_TMP/r4.txt"
        check "redis-server loads the uncompressed, unchecksummed file" same_dump "$LIB_TMP/a2.txt" "$LIB_TMP/r4.txt"
    else
        fail "redis-server starts on the uncompressed file"
    fi
else
    fail "agent starts"
fi
finish
