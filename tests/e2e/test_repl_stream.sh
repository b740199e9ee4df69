#!/usr/bin/env bash
# test_repl_stream: the replication stream, command by command, as
# redis-server 7.0 writes it. The same commands run on Debian's
# redis-server and on the agent while a raw SYNC reader
# (tests/e2e/py/replstream.py) records each master's stream; the two
# recordings must be identical once times relative to "now" are masked.
#   1. rewrites: SET ... EX/PX/EXAT/PXAT as SET k v PXAT <ms> (upper case),
#      SET ... GET without an expiry minus its GETs, SETEX / PSETEX, GETEX as
#      PEXPIREAT / PERSIST / DEL / UNLINK (lazyfree-lazy-expire) or nothing,
#      GETDEL as DEL / UNLINK (lazyfree-lazy-user-del), RESTORE (relative TTL
#      as absolute + ABSTTL; ABSTTL in the past: nothing stored, nothing
#      sent, DEL of a REPLACEd key), SORT ... STORE, lazy expiry as DEL /
#      UNLINK, MULTI/EXEC of reads, PUBLISH, a write plus reads, SCRIPT LOAD.
#   2. one command that propagates more than one thing (a lazy-expiry DEL
#      and its own write, or several lazy DELs): 7.0 wraps them in
#      MULTI/EXEC (cmd_call captures them).
#   3. streams: XADD with the ID it generated ('*', 'ms-*'), '~' trims
#      rewritten to '=' and the exact bound reached (LIMIT kept), XTRIM,
#      XDEL, XSETID, NOMKSTREAM on a missing key (nothing sent), failed
#      XADDs (nothing sent).
# Active expiry is switched off on both (DEBUG SET-ACTIVE-EXPIRE 0) so only
# the commands decide what expires.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/repl_lib.sh"
need_redis
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"

READER="$(cd "$(dirname "$0")" && pwd)/py/replstream.py"
MARKER="__stream_end__"

# A string value dumped by redis-server 7.0 (RDB 10): "hello".
PAYLOAD='"\x00\x05hello\n\x00cr\xdfve4 \n"'

# start_reader <port> <name>: attach a SYNC reader; wait until it skipped the
# RDB payload. Sets READER_PID and READER_LOG.
start_reader() {
    spawn "$LIB_TMP/stream-$2" python3 "$READER" "$1" "$MARKER" 30 || return 1
    READER_PID=$LAST_PID
    READER_LOG="$LAST_DIR/stdout.log"
    local i
    for i in $(seq 1 200); do
        grep -q '^READY' "$READER_LOG" 2>/dev/null && return 0
        pid_alive "$READER_PID" || break
        sleep 0.05
    done
    note "reader on port $1 did not start:"
    sed 's/^/#   /' "$READER_LOG" | head -5
    return 1
}

# mask_times: numbers that are "now" in unix ms (within two days) become <T>:
# relative expiries differ by the milliseconds between the two servers; so
# do the ms part of stream IDs generated now ("<T>-0").
mask_times() {
    local now_ms
    now_ms=$(($(date +%s) * 1000))
    awk -v now="$now_ms" '{
        for (i = 1; i <= NF; i++)
            if (length($i) == 13 && $i ~ /^[0-9]+$/ && $i + 0 > now - 172800000 && $i + 0 < now + 172800000)
                $i = "<T>"
            else if ($i ~ /^[0-9]+-[0-9]+$/) {
                ms = substr($i, 1, index($i, "-") - 1)
                if (length(ms) == 13 && ms + 0 > now - 172800000 && ms + 0 < now + 172800000)
                    $i = "<T>" substr($i, index($i, "-"))
            }
        print
    }'
}

# record <port> <name> <commands-file>: run the commands (redis-cli syntax,
# one per line); the stream they produced, times masked, goes to
# $LIB_TMP/stream-<name>.txt and the replies to $LIB_TMP/replies-<name>.txt.
record() {
    local port="$1" name="$2" file="$3"
    start_reader "$port" "$name" || return 1
    local reader_pid=$READER_PID reader_log=$READER_LOG
    rcli "$port" <"$file" >"$LIB_TMP/replies-$name.txt" 2>&1
    rcli "$port" set "$MARKER" 1 >/dev/null
    if ! wait_pid_exit "$reader_pid" 20; then
        note "reader on port $port did not see the end marker"
        return 1
    fi
    forget_pid "$reader_pid"
    grep -v '^READY' "$reader_log" | mask_times >"$LIB_TMP/stream-$name.txt"
}

# compare <name> <commands-file>: record both servers and diff.
compare() {
    local name="$1" file="$2" want got
    record "$PR" "redis-$name" "$file" || { fail "$name: redis stream"; return; }
    record "$PA" "agent-$name" "$file" || { fail "$name: agent stream"; return; }
    want="$(cat "$LIB_TMP/stream-redis-$name.txt")"
    got="$(cat "$LIB_TMP/stream-agent-$name.txt")"
    if [ -n "$want" ] && [ "$want" = "$got" ]; then
        pass "$name: stream as redis-server 7.0 writes it"
    else
        fail "$name: stream as redis-server 7.0 writes it"
        diff <(echo "$want") <(echo "$got") | head -40 | sed 's/^/#   /'
    fi
    # The replies must match too (the masked times aside).
    if diff <(mask_times <"$LIB_TMP/replies-redis-$name.txt") \
            <(mask_times <"$LIB_TMP/replies-agent-$name.txt") >/dev/null; then
        pass "$name: replies"
    else
        fail "$name: replies"
        diff "$LIB_TMP/replies-redis-$name.txt" "$LIB_TMP/replies-agent-$name.txt" | head -20 | sed 's/^/#   /'
    fi
}

PR=$(free_port) && PA=$(free_port) || exit 1
start_redis "$PR" --enable-debug-command yes || exit 1
start_agent "$PA" --save "" --enable-debug-command yes || exit 1
for p in "$PR" "$PA"; do
    expect_eq "active expiry off on $p" OK "$(rcli "$p" debug set-active-expire 0)"
done

# ---- 1. rewrites and what is (not) propagated
cat >"$LIB_TMP/rewrites.txt" <<EOF
flushall
set k v EX 100
set k v px 100000
set k v exat 2000000000
set k v pxat 2000000000000
set k v PXAT 2000000000000
set k v keepttl
set k v2 get
set k v2 GET xx
set k v nx
set k v xx ex 100 get
set k2 v nx ex 100
set k3 v ex 100 nx get
set k4 v nx get
set k4 v xx get
set k5 v xx
set k v keepttl get
set k v exat 1
exists k
setex k 100 v
psetex k 100000 v
setex k 0 v
set k v
getex k ex 100
getex k px 100000
getex k exat 2000000000
getex k pxat 2000000000000
getex k persist
getex k persist
getex k
getex nokey ex 100
getex k ex 0
getex k exat 1
set k v
config set lazyfree-lazy-expire yes
getex k pxat 1
set k v px 1
debug sleep 0.01
get k
config set lazyfree-lazy-expire no
set k v px 1
debug sleep 0.01
get k
set k v
getdel k
getdel k
config set lazyfree-lazy-user-del yes
set k v
getdel k
set k v
del k
config set lazyfree-lazy-user-del no
set k v
unlink k
set src hello
restore r1 1 $PAYLOAD absttl
exists r1
restore r2 -1 $PAYLOAD
restore r3 0 $PAYLOAD absttl
restore r4 100000 $PAYLOAD
restore r5 2000000000000 $PAYLOAD absttl
restore r5 1 $PAYLOAD absttl replace
exists r5
restore r6 0 $PAYLOAD idletime 10
set r7 x
restore r7 1 $PAYLOAD absttl
rpush l 3 1 2
sort l store dst
sort l limit 0 0 store dst2
sort nolist store dst
sort_ro l
multi
get a
exec
multi
publish ch m
exec
multi
set a 1
get a
exec
multi
set a 1
get a
set b 2
exec
multi
exec
multi
script load "return 1"
set c 1
exec
multi
select 1
set d 1
select 0
exec
multi
del nokey
exec
EOF
compare rewrites "$LIB_TMP/rewrites.txt"

# ---- 2. several things propagated by one command
cat >"$LIB_TMP/wrapped.txt" <<EOF
flushall
set e1 v px 1
set e2 v px 1
set e3 v px 1
debug sleep 0.01
mget e1 e2
set e1 v px 1
debug sleep 0.01
set e1 v px 100000
set e1 v px 1
debug sleep 0.01
set e1 v get
set e1 v px 1
set e2 v px 1
debug sleep 0.01
del e1 e2 e3
set e1 v px 1
set e2 v px 1
debug sleep 0.01
mset e1 1 e2 2
set e1 v px 1
debug sleep 0.01
multi
get e1
set x 1
exec
EOF
compare wrapped "$LIB_TMP/wrapped.txt"

# ---- 3. streams
# One XADD with '*' only: two in a row may share a millisecond on one
# server and not on the other, and their sequence numbers then differ.
cat >"$LIB_TMP/streams.txt" <<EOF
flushall
config set stream-node-max-entries 3
xadd s 1-1 a 1
xadd s 1-* a 2
xadd s 2-* a 3
xadd s * a 4
xadd s 1-0 a 0
xadd s nomkstream 99999999999999-0 a 6
xadd nokey nomkstream * a 1
xadd s maxlen 100 99999999999999-1 a 7
xadd s maxlen = 6 99999999999999-2 a 8
xadd s maxlen ~ 2 99999999999999-3 a 9
xadd s maxlen ~ 1 limit 3 99999999999999-4 a 10
xadd s minid ~ 99999999999999-3 99999999999999-5 a 11
xadd s minid 99999999999999-4 * a 12
xlen s
xdel s 99999999999999-5 1-1
xdel s 1-1
xtrim s maxlen 5
xtrim s maxlen 5
xadd s 99999999999999-9 a 13
xadd s 99999999999999-10 a 14
xadd s 99999999999999-11 a 15
xtrim s maxlen ~ 1
xtrim s minid ~ 99999999999999-11 limit 1
xtrim s minid = 99999999999999-11
xsetid s 99999999999999-20 entriesadded 100 maxdeletedid 99999999999999-6
xsetid s 1-0
xread count 1 streams s 0
xrange s - +
multi
xadd m 1-0 f v
xadd m * f v
exec
config set stream-node-max-entries 100
EOF
compare streams "$LIB_TMP/streams.txt"

# ---- 3b. consumer groups: XREADGROUP as XCLAIM ... LASTID per entry (one
# MULTI/EXEC when several), NOACK as XGROUP CREATECONSUMER / SETID, XCLAIM
# and XAUTOCLAIM as XCLAIMs (a deleted entry's too) or a SETID for LASTID
# alone, history reads and failed commands as nothing.
cat >"$LIB_TMP/groups.txt" <<EOF
flushall
xadd g 1-1 a 1
xadd g 2-1 b 2
xadd g 3-1 c 3
xadd g 4-1 d 4
xgroup create g grp 0
xgroup create g grp2 \$ entriesread 4
xgroup create g grp 0
xgroup create nokey grp \$ mkstream
xgroup createconsumer g grp zed
xgroup createconsumer g grp zed
xreadgroup group grp alice count 2 streams g >
xreadgroup group grp bob streams g >
xreadgroup group grp bob streams g >
xreadgroup group grp alice streams g 0
xreadgroup group grp2 carol noack streams g >
xadd g 5-1 e 5
xreadgroup group grp2 carol noack streams g >
xreadgroup group grp2 carol noack streams g >
xack g grp 1-1 9-9
xclaim g grp bob 0 2-1
xclaim g grp bob 0 2-1 justid retrycount 5 time 1000
xclaim g grp bob 0 9-9 force
xdel g 3-1
xclaim g grp dan 0 3-1
xclaim g grp dan 0 4-1 lastid 9-0
xclaim g grp dan 0 1-1 lastid 10-0
xautoclaim g grp erin 0 0 count 1
xadd g 6-1 f 6
xreadgroup group grp alice streams g >
xdel g 6-1
xautoclaim g grp erin 0 0 justid
xgroup setid g grp 0 entriesread 0
xgroup delconsumer g grp erin
xgroup destroy g grp2
xgroup destroy g grp2
EOF
compare groups "$LIB_TMP/groups.txt"

# ---- 4. the counters and clocks the suite reads back
# same <name> <redis-value> <agent-value>
same() {
    if [ -n "$2" ] && [ "$2" = "$3" ]; then
        pass "$1 ($2)"
    else
        fail "$1"
        printf '#   redis: %q\n#   agent: %q\n' "$2" "$3"
    fi
}

# counters <port>: lazy expiry, reads that count as hits / misses and lazy
# freeing, from a clean slate; prints
# "expired_keys keyspace_hits keyspace_misses lazyfreed_objects".
counters() {
    local p="$1" i members=""
    for i in $(seq 1 100); do members="$members m$i"; done
    rcli "$p" flushall >/dev/null
    rcli "$p" config resetstat >/dev/null
    {
        echo "set e1 v px 1"
        echo "set e2 v px 1"
        echo "sadd bigexp $members"
        echo "pexpire bigexp 1"
        echo "debug sleep 0.01"
        echo "get e1"
        echo "exists e2"
        echo "config set lazyfree-lazy-expire yes"
        echo "scard bigexp"
        echo "config set lazyfree-lazy-expire no"
        echo "sadd big $members"
        echo "sadd small a b c"
        echo "unlink big small"
        echo "config set lazyfree-lazy-user-del yes"
        echo "sadd big $members"
        echo "del big"
        echo "config set lazyfree-lazy-user-del no"
        echo "sadd big $members"
        echo "del big"
        echo "mset a 1 b 2 c 3"
        echo "flushall async"
        echo "mset a 1 b 2"
        echo "flushdb"
        echo "config set lazyfree-lazy-user-flush yes"
        echo "mset a 1 b 2"
        echo "flushdb"
        echo "config set lazyfree-lazy-user-flush no"
        echo "set d 1"
        echo "set x 1 px 1"
        echo "debug sleep 0.01"
        echo "set x 2 get"
        echo "set d 2 get"
        echo "set nokey v get"
        echo "object encoding d"
        echo "object idletime nokey2"
        echo "copy d d3"
        echo "copy nokey3 d4"
    } | rcli "$p" >/dev/null
    echo "$(stat_of "$p" expired_keys) $(stat_of "$p" keyspace_hits) $(stat_of "$p" keyspace_misses)" \
         "$(info_field "$p" memory lazyfreed_objects)"
}
read -r -a want <<<"$(counters "$PR")"
read -r -a got <<<"$(counters "$PA")"
same "lazy expiry counts expired_keys" "${want[0]:-}" "${got[0]:-}"
same "keyspace_hits (SET GET, OBJECT, COPY, lazy expiry)" "${want[1]:-}" "${got[1]:-}"
same "keyspace_misses (SET GET, OBJECT, COPY, lazy expiry)" "${want[2]:-}" "${got[2]:-}"
same "lazyfreed_objects after UNLINK / lazy DEL / lazy expiry / FLUSH* ASYNC" \
    "${want[3]:-}" "${got[3]:-}"
for f in expired_stale_perc expired_time_cap_reached_count; do
    expect_match "INFO stats has $f" '^[0-9.]+$' "$(stat_of "$PA" "$f")"
done

# TTL, TYPE and EXISTS leave the access clock alone; TOUCH and GET do not.
idle_after() {
    local p="$1"
    rcli "$p" mset idle1 v idle2 v >/dev/null
    sleep 2.2
    { echo "ttl idle1"; echo "pttl idle1"; echo "type idle1"; echo "exists idle1"; echo "touch idle2"; } |
        rcli "$p" >/dev/null
    echo "$(rcli "$p" object idletime idle1) $(rcli "$p" object idletime idle2)"
}
# Both at once (2 s each); waited for by pid, as the servers are children too.
idle_pids=()
for p in "$PR" "$PA"; do
    idle_after "$p" >"$LIB_TMP/idle-$p.txt" &
    idle_pids+=($!)
done
wait "${idle_pids[@]}"
for p in "$PR" "$PA"; do
    read -r untouched touched <"$LIB_TMP/idle-$p.txt"
    check "TTL/TYPE/EXISTS keep OBJECT IDLETIME on $p ($untouched)" test "${untouched:-0}" -ge 2
    check "TOUCH resets OBJECT IDLETIME on $p ($touched)" test "${touched:-9}" -lt 2
done

finish
