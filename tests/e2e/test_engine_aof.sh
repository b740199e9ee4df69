#!/usr/bin/env bash
# test_engine_aof: kvfleet-agent's multi-part AOF against redis-server 7.0.
# - the directory layout, manifest and incr bytes redis-server writes, and
#   redis-check-aof accepting the agent's manifest and files;
# - restart keeps the content (kvdump diff), with an RDB and an AOF base;
# - interop both ways: a redis-server AOF dir loads in the agent (same
#   DEBUG DIGEST, same dump) and the agent's dir loads in redis-server;
# - crash safety: with appendfsync always, INCRs acknowledged before a
#   SIGKILL are all there after restart;
# - BGREWRITEAOF while writing loses nothing; its replies;
# - a truncated tail (aof-load-truncated yes: cut and loaded; no: refused,
#   file untouched), a MULTI without EXEC at the end, corruption elsewhere
#   refused with the file untouched;
# - CONFIG SET appendonly yes/no at run time; a replica with appendonly yes.
source "$(dirname "$0")/lib.sh"
need_redis
need_tool kvdump
command -v redis-check-aof >/dev/null 2>&1 || skip "redis-check-aof not installed"
KVDUMP="$KVFLEET_TOOLS/kvdump"
AOFDIR=appendonlydir

info_field() { rcli "$1" info persistence | tr -d '\r' | sed -n "s/^$2://p"; }
wait_field() {
    local i
    for i in $(seq 1 $(( ${4:-10} * 20 ))); do
        [ "$(info_field "$1" "$2")" = "$3" ] && return 0
        sleep 0.05
    done
    return 1
}
# wait_rewrite <port>: the rewrite child (if any) is done and nothing is scheduled.
wait_rewrite() {
    wait_field "$1" aof_rewrite_in_progress 0 30 && wait_field "$1" aof_rewrite_scheduled 0 30
}
populate() {
    {
        echo 'SET s hello'
        echo 'SET n 12345'
        echo 'RPUSH l a b c 1 2 3'
        echo 'HSET h f1 v1 f2 v2'
        echo 'SADD st 1 2 3 x'
        echo 'ZADD z 1 a 2 b 3.5 c'
        echo 'SET t v EX 100000'
        echo 'INCRBYFLOAT f 1.5'
        echo 'SELECT 3'
        echo 'SET in3 yes'
        echo 'MULTI'
        echo 'INCR ctr'
        echo 'LPUSH l3 x y'
        echo 'EXEC'
    } | rcli "$1" >/dev/null
}
same_dump() {
    diff "$1" "$2" >/dev/null && return 0
    diff "$1" "$2" | head -10
    return 1
}
# start_in <kind> <port> <dir> <args...>: agent or redis-server in dir.
start_in() {
    local kind="$1" port="$2" dir="$3" bin="$KVFLEET_AGENT"
    shift 3
    [ "$kind" = redis ] && bin="$REDIS_SERVER"
    spawn "$dir" "$bin" --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" "$@"
    wait_ready "$port" "$LAST_PID" 10
}
# start_fails <dir> <args...>: the agent must exit non-zero without serving.
start_fails() {
    local dir="$1" port
    shift
    port=$(free_port)
    spawn "$dir" "$KVFLEET_AGENT" --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" "$@"
    local pid=$LAST_PID
    if ! wait_pid_exit "$pid" 10; then
        stop_pid "$pid"
        echo "agent kept running"
        return 1
    fi
    forget_pid "$pid"
    [ "$LIB_EXIT_STATUS" != 0 ] || { echo "exit status 0"; return 1; }
}
last_incr() { ls "$1/$AOFDIR"/*.incr.aof | sort -t. -k3 -n | tail -1; }

# ------------------------------------------------------------ layout, restart
d="$LIB_TMP/basic"
mkdir -p "$d"
p=$(free_port)
start_in agent "$p" "$d" --appendonly yes --appendfsync always || { fail "agent starts with appendonly yes"; finish; }
pid=$LAST_PID
pass "agent starts with appendonly yes"
populate "$p"
expect_eq "manifest as redis-server writes it" \
    "$(printf 'file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i')" \
    "$(cat "$d/$AOFDIR/appendonly.aof.manifest")"
# The incr file: SELECT 0 first, MULTI/EXEC wrapping the transaction once.
check "incr file starts with SELECT 0" grep -q "^SELECT" "$d/$AOFDIR/appendonly.aof.1.incr.aof"
expect_eq "one MULTI, one EXEC in the incr file" "1 1" \
    "$(tr -d '\r' <"$d/$AOFDIR/appendonly.aof.1.incr.aof" | grep -cx MULTI) $(tr -d '\r' <"$d/$AOFDIR/appendonly.aof.1.incr.aof" | grep -cx EXEC)"
expect_eq "INFO aof_enabled" 1 "$(info_field "$p" aof_enabled)"
check "INFO has aof_current_size" test -n "$(info_field "$p" aof_current_size)"
check "redis-check-aof accepts the agent's manifest" redis-check-aof "$d/$AOFDIR/appendonly.aof.manifest"
"$KVDUMP" -p "$p" >"$LIB_TMP/basic1.txt"
stop_pid "$pid"
start_in agent "$p" "$d" --appendonly yes || { fail "agent restarts"; finish; }
pid=$LAST_PID
"$KVDUMP" -p "$p" >"$LIB_TMP/basic2.txt"
check "restart loads the AOF (same dump)" same_dump "$LIB_TMP/basic1.txt" "$LIB_TMP/basic2.txt"

# ------------------------------------------------------------ DEBUG LOADAOF
# A trimming XADD with ~ and LIMIT goes to the AOF as `=` with the LIMIT
# kept (as 7.0 writes it); the replay must obey it, as redis-server does.
rcli "$p" config set stream-node-max-entries 10 >/dev/null
for i in $(seq 1 100); do echo "XADD ls * f v"; done | rcli "$p" >/dev/null
rcli "$p" xadd ls MAXLEN '~' 55 LIMIT 30 '*' f v >/dev/null
check "XADD MAXLEN ~ 55 LIMIT 30 removes three nodes" test "$(rcli "$p" xlen ls)" = 71
rcli "$p" set before-loadaof 1 >/dev/null
"$KVDUMP" -p "$p" >"$LIB_TMP/la1.txt"
check "DEBUG LOADAOF answers OK" test "$(rcli "$p" debug loadaof)" = OK
"$KVDUMP" -p "$p" >"$LIB_TMP/la2.txt"
check "DEBUG LOADAOF loads back the same data" same_dump "$LIB_TMP/la1.txt" "$LIB_TMP/la2.txt"
check "DEBUG LOADAOF is logged" grep -q "Append Only File loaded by DEBUG LOADAOF" "$d/stdout.log"
rcli "$p" config set stream-node-max-entries 100 >/dev/null
rcli "$p" del ls before-loadaof >/dev/null

# ------------------------------------------------------------ BGREWRITEAOF
expect_eq "BGREWRITEAOF reply" "Background append only file rewriting started" "$(rcli "$p" bgrewriteaof)"
rcli "$p" set after-rewrite 1 >/dev/null
check "rewrite finishes" wait_rewrite "$p"
expect_eq "manifest after a rewrite" \
    "$(printf 'file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i')" \
    "$(cat "$d/$AOFDIR/appendonly.aof.manifest")"
check "history files deleted" test ! -e "$d/$AOFDIR/appendonly.aof.1.incr.aof"
expect_eq "aof_rewrites" 1 "$(info_field "$p" aof_rewrites)"
"$KVDUMP" -p "$p" >"$LIB_TMP/rw1.txt"
stop_pid "$pid"
check "redis-check-aof accepts the rewritten dir" redis-check-aof "$d/$AOFDIR/appendonly.aof.manifest"

# ------------------------------------------------------------ agent -> redis
rp=$(free_port)
start_in redis "$rp" "$d" --appendonly yes --enable-debug-command yes || { fail "redis-server loads the agent's dir"; finish; }
rpid=$LAST_PID
"$KVDUMP" -p "$rp" >"$LIB_TMP/rw2.txt"
check "redis-server loads the agent's AOF (same dump)" same_dump "$LIB_TMP/rw1.txt" "$LIB_TMP/rw2.txt"
stop_pid "$rpid"

# ------------------------------------------------------------ redis -> agent
rd="$LIB_TMP/fromredis"
mkdir -p "$rd"
start_in redis "$rp" "$rd" --appendonly yes --enable-debug-command yes || { fail "redis-server starts"; finish; }
rpid=$LAST_PID
populate "$rp"
rcli "$rp" bgrewriteaof >/dev/null
wait_rewrite "$rp"
populate "$rp"
rcli "$rp" -n 5 set in5 v >/dev/null
rdig="$(rcli "$rp" debug digest)"
"$KVDUMP" -p "$rp" >"$LIB_TMP/r1.txt"
stop_pid "$rpid"
start_in agent "$p" "$rd" --appendonly yes || { fail "agent loads redis-server's AOF dir"; finish; }
pid=$LAST_PID
"$KVDUMP" -p "$p" >"$LIB_TMP/r2.txt"
check "agent loads redis-server's AOF (same dump)" same_dump "$LIB_TMP/r1.txt" "$LIB_TMP/r2.txt"
expect_eq "same DEBUG DIGEST as redis-server" "$rdig" "$(rcli "$p" debug digest)"
stop_pid "$pid"

# ------------------------------------------------------------ base as commands
cd_="$LIB_TMP/cmdbase"
mkdir -p "$cd_"
start_in agent "$p" "$cd_" --appendonly yes --aof-use-rdb-preamble no || { fail "agent starts (preamble no)"; finish; }
pid=$LAST_PID
populate "$p"
rcli "$p" bgrewriteaof >/dev/null
wait_rewrite "$p"
check "base written as commands" test -e "$cd_/$AOFDIR/appendonly.aof.2.base.aof"
"$KVDUMP" -p "$p" >"$LIB_TMP/c1.txt"
stop_pid "$pid"
check "redis-check-aof accepts the command base" redis-check-aof "$cd_/$AOFDIR/appendonly.aof.manifest"
start_in redis "$rp" "$cd_" --appendonly yes --aof-use-rdb-preamble no || { fail "redis-server loads the command base"; finish; }
rpid=$LAST_PID
"$KVDUMP" -p "$rp" >"$LIB_TMP/c2.txt"
check "redis-server loads the agent's command base (same dump)" same_dump "$LIB_TMP/c1.txt" "$LIB_TMP/c2.txt"
stop_pid "$rpid"

# ------------------------------------------------------------ old single-file AOF
od="$LIB_TMP/oldstyle"
mkdir -p "$od"
start_in agent "$p" "$od" || { fail "agent starts (old style)"; finish; }
pid=$LAST_PID
populate "$p"
rcli "$p" save >/dev/null
stop_pid "$pid"
# RDB preamble + command tail: what Redis 4-6 wrote into appendonly.aof.
{ cat "$od/dump.rdb"; printf '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$4\r\ntail\r\n$1\r\n1\r\n'; } \
    >"$od/appendonly.aof"
rm -f "$od/dump.rdb"
start_in agent "$p" "$od" --appendonly yes || { fail "agent migrates an old-style AOF"; finish; }
pid=$LAST_PID
expect_eq "preamble and tail loaded" "hello 1" "$(rcli "$p" get s | tr -d '\n') $(rcli "$p" get tail)"
check "old file moved into the directory" test -e "$od/$AOFDIR/appendonly.aof" -a ! -e "$od/appendonly.aof"
stop_pid "$pid"
check "redis-check-aof accepts the migrated dir" redis-check-aof "$od/$AOFDIR/appendonly.aof.manifest"

# ------------------------------------------------------------ crash safety
cr="$LIB_TMP/crash"
mkdir -p "$cr"
start_in agent "$p" "$cr" --appendonly yes --appendfsync always || { fail "agent starts (crash)"; finish; }
pid=$LAST_PID
# Writers 1-2 pipeline 16 INCRs at a time, 3 sends one at a time; each
# records the highest value acknowledged. A pipelined batch may be partly
# applied when the kill lands, so up to DEPTH more than acknowledged is fine.
PY="$(dirname "$0")/py/incr_pipeline.py"
python3 "$PY" "$p" ctr1 16 20 "$LIB_TMP/acks1" &
wpid1=$!
python3 "$PY" "$p" ctr2 16 20 "$LIB_TMP/acks2" &
wpid2=$!
python3 "$PY" "$p" ctr3 1 20 "$LIB_TMP/acks3" &
wpid3=$!
sleep 1.5
kill -KILL "$pid"
wait_pid_exit "$pid" 5
forget_pid "$pid"
wait "$wpid1" "$wpid2" "$wpid3" 2>/dev/null
start_in agent "$p" "$cr" --appendonly yes --appendfsync always || { fail "agent restarts after SIGKILL"; finish; }
pid=$LAST_PID
for w in 1 2 3; do
    depth=16
    [ "$w" = 3 ] && depth=1
    acked=$(cat "$LIB_TMP/acks$w")
    got=$(rcli "$p" get "ctr$w")
    if [ -n "$acked" ] && [ "$acked" -gt 0 ] && [ "${got:-0}" -ge "$acked" ] && [ "$got" -le $((acked + depth)) ]; then
        pass "writer $w (depth $depth): every acknowledged INCR survived SIGKILL ($acked acked, $got stored)"
    else
        fail "writer $w (depth $depth): acknowledged $acked, stored $got"
    fi
done
stop_pid "$pid"

# ------------------------------------------------------------ rewrite under load
ld="$LIB_TMP/load"
mkdir -p "$ld"
start_in agent "$p" "$ld" --appendonly yes || { fail "agent starts (load)"; finish; }
pid=$LAST_PID
redis-benchmark -h 127.0.0.1 -p "$p" -n 60000 -P 8 -r 5000 -t set,lpush,incr -q >/dev/null 2>&1 &
bpid=$!
sleep 0.3
# Pipelined, so the second arrives before the child can have been reaped.
expect_eq "BGREWRITEAOF under load, a second one refused" \
    "$(printf 'Background append only file rewriting started\nERR Background append only file rewriting already in progress')" \
    "$(printf 'BGREWRITEAOF\r\nBGREWRITEAOF\r\n' | rcli "$p" 2>&1)"
wait_rewrite "$p"
expect_eq "BGSAVE during a rewrite refused, BGREWRITEAOF during a BGSAVE scheduled" \
    "$(printf 'Background append only file rewriting started\nERR Another child process is active (AOF?): can'"'"'t BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.')" \
    "$(printf 'BGREWRITEAOF\r\nBGSAVE\r\n' | rcli "$p" 2>&1)"
wait_rewrite "$p"
expect_eq "BGREWRITEAOF while a BGSAVE runs is scheduled" \
    "$(printf 'Background saving started\nBackground append only file rewriting scheduled')" \
    "$(printf 'BGSAVE\r\nBGREWRITEAOF\r\n' | rcli "$p" 2>&1)"
check "the scheduled rewrite runs after the BGSAVE" wait_rewrite "$p"
wait "$bpid"
wait_rewrite "$p"
"$KVDUMP" -p "$p" >"$LIB_TMP/l1.txt"
stop_pid "$pid"
start_in agent "$p" "$ld" --appendonly yes || { fail "agent restarts (load)"; finish; }
pid=$LAST_PID
"$KVDUMP" -p "$p" >"$LIB_TMP/l2.txt"
check "rewrites during writes lose nothing" same_dump "$LIB_TMP/l1.txt" "$LIB_TMP/l2.txt"
stop_pid "$pid"

# ------------------------------------------------------------ truncated tail
incr="$(last_incr "$ld")"
printf '*3\r\n$3\r\nset\r\n$5\r\ntrunc\r\n$10\r\nabc' >>"$incr"
sum_before=$(md5sum <"$incr")
check "aof-load-truncated no refuses a truncated tail" start_fails "$ld" --appendonly yes --aof-load-truncated no
check "refusal names the cause" grep -q "Unexpected end of file reading the append only file" "$ld/stdout.log"
expect_eq "refused file untouched" "$sum_before" "$(md5sum <"$incr")"
start_in agent "$p" "$ld" --appendonly yes --aof-load-truncated yes || { fail "aof-load-truncated yes loads"; finish; }
pid=$LAST_PID
"$KVDUMP" -p "$p" >"$LIB_TMP/l3.txt"
check "truncated tail cut, rest loaded" same_dump "$LIB_TMP/l1.txt" "$LIB_TMP/l3.txt"
check "warning logged" grep -q "Truncating the AOF" "$ld/stdout.log"
stop_pid "$pid"
check "redis-check-aof accepts the cut file" redis-check-aof "$ld/$AOFDIR/appendonly.aof.manifest"

# MULTI without EXEC at the end counts as truncated.
incr="$(last_incr "$ld")"
printf '*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nset\r\n$5\r\nhalfm\r\n$1\r\n1\r\n' >>"$incr"
start_in agent "$p" "$ld" --appendonly yes || { fail "open MULTI at the end loads"; finish; }
pid=$LAST_PID
expect_eq "open MULTI reverted" "0" "$(rcli "$p" exists halfm)"
stop_pid "$pid"

# Corruption elsewhere: refused, untouched, even with aof-load-truncated yes.
co="$LIB_TMP/corrupt"
cp -r "$ld" "$co"
incr="$(last_incr "$co")"
printf 'xx3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\nb\r\n*1\r\n$4\r\nPING\r\n' >>"$incr"
sum_before=$(md5sum <"$incr")
check "corrupt AOF refused" start_fails "$co" --appendonly yes --aof-load-truncated yes
check "refusal says bad format" grep -q "Bad file format reading the append only file" "$co/stdout.log"
expect_eq "corrupt file untouched" "$sum_before" "$(md5sum <"$incr")"
printf 'file x seq 1 type z\n' >"$co/$AOFDIR/appendonly.aof.manifest"
check "bad manifest refused" start_fails "$co" --appendonly yes
check "refusal says unknown type" grep -q "Unknown AOF file type" "$co/stdout.log"
printf 'file missing.1.base.rdb seq 1 type b\n' >"$co/$AOFDIR/appendonly.aof.manifest"
check "missing base file refused" start_fails "$co" --appendonly yes

# ------------------------------------------------------------ automatic rewrite
ar="$LIB_TMP/auto"
mkdir -p "$ar"
start_in agent "$p" "$ar" --appendonly yes --auto-aof-rewrite-min-size 4096 --auto-aof-rewrite-percentage 100 ||
    { fail "agent starts (auto rewrite)"; finish; }
pid=$LAST_PID
redis-benchmark -h 127.0.0.1 -p "$p" -n 2000 -r 100 -t set -q >/dev/null 2>&1
rewrote() {
    local i
    for i in $(seq 1 200); do
        [ "$(info_field "$1" aof_rewrites)" -ge 1 ] && return 0
        sleep 0.05
    done
    return 1
}
check "automatic rewrite on growth" rewrote "$p"
wait_rewrite "$p"
check "logged as Redis logs it" grep -q "Starting automatic rewriting of AOF on" "$ar/stdout.log"
stop_pid "$pid"

# ------------------------------------------------------------ CONFIG SET
cs="$LIB_TMP/cfgset"
mkdir -p "$cs"
start_in agent "$p" "$cs" || { fail "agent starts (config set)"; finish; }
pid=$LAST_PID
populate "$p"
expect_eq "INFO aof_enabled 0" 0 "$(info_field "$p" aof_enabled)"
expect_eq "CONFIG SET appendonly yes" OK "$(rcli "$p" config set appendonly yes)"
check "enabling rewrite completes" wait_field "$p" aof_rewrite_in_progress 0 30
check "aof_enabled 1" wait_field "$p" aof_enabled 1 10
rcli "$p" set after-enable 1 >/dev/null
expect_eq "CONFIG SET appendfsync always" OK "$(rcli "$p" config set appendfsync always)"
rcli "$p" set after-always 1 >/dev/null
"$KVDUMP" -p "$p" >"$LIB_TMP/cs1.txt"
expect_eq "CONFIG SET appendonly no" OK "$(rcli "$p" config set appendonly no)"
expect_eq "aof_enabled 0 after no" 0 "$(info_field "$p" aof_enabled)"
size_before=$(stat -c %s "$(last_incr "$cs")")
rcli "$p" set after-disable 1 >/dev/null
expect_eq "no appends once disabled" "$size_before" "$(stat -c %s "$(last_incr "$cs")")"
stop_pid "$pid"
start_in agent "$p" "$cs" --appendonly yes || { fail "agent restarts on the run-time AOF"; finish; }
pid=$LAST_PID
"$KVDUMP" -p "$p" >"$LIB_TMP/cs2.txt"
check "AOF enabled at run time reloads" same_dump "$LIB_TMP/cs1.txt" "$LIB_TMP/cs2.txt"
stop_pid "$pid"

# ------------------------------------------------------------ replica
md="$LIB_TMP/master" rd2="$LIB_TMP/replica"
mkdir -p "$md" "$rd2"
mp=$(free_port)
start_in agent "$mp" "$md" || { fail "master starts"; finish; }
mpid=$LAST_PID
populate "$mp"
start_in agent "$p" "$rd2" --appendonly yes --replicaof 127.0.0.1 "$mp" || { fail "replica starts"; finish; }
pid=$LAST_PID
for i in $(seq 1 100); do
    [ "$(rcli "$p" dbsize)" = "$(rcli "$mp" dbsize)" ] && [ "$(rcli "$p" -n 3 dbsize)" = "$(rcli "$mp" -n 3 dbsize)" ] && break
    sleep 0.1
done
rcli "$mp" incr streamed >/dev/null
rcli "$mp" wait 1 2000 >/dev/null
wait_rewrite "$p"
"$KVDUMP" -p "$mp" >"$LIB_TMP/m1.txt"
stop_pid "$pid"
start_in agent "$p" "$rd2" --appendonly yes || { fail "replica restarts from its AOF"; finish; }
pid=$LAST_PID
"$KVDUMP" -p "$p" >"$LIB_TMP/m2.txt"
check "replica's AOF holds the synced data and the stream" same_dump "$LIB_TMP/m1.txt" "$LIB_TMP/m2.txt"
stop_pid "$pid"
# Restarted as a replica: its data comes from the AOF, so it must not
# resume the stream from the offset of an older dump.rdb (7.0 ignores the
# RDB's replication info with appendonly yes): no write applied twice.
rcli "$mp" incrby ctr-again 5 >/dev/null
start_in agent "$p" "$rd2" --appendonly yes --replicaof 127.0.0.1 "$mp" || { fail "replica restarts"; finish; }
pid=$LAST_PID
rcli "$mp" incr ctr-again >/dev/null
rcli "$mp" wait 1 10000 >/dev/null
for i in $(seq 1 100); do
    [ "$(rcli "$p" get ctr-again)" = "$(rcli "$mp" get ctr-again)" ] && break
    sleep 0.1
done
"$KVDUMP" -p "$mp" >"$LIB_TMP/m3.txt"
"$KVDUMP" -p "$p" >"$LIB_TMP/m4.txt"
check "restarted replica with AOF matches its master" same_dump "$LIB_TMP/m3.txt" "$LIB_TMP/m4.txt"
stop_pid "$pid"
stop_pid "$mpid"

finish
