#!/usr/bin/env bash
# test_engine_functions.sh: what the functions compat script cannot show.
# - Replication: FUNCTION LOAD / DELETE reach an agent replica and a
#   redis-server replica as themselves, FCALL as the writes it made; a full
#   sync carries the libraries both ways (agent master -> redis-server
#   replica, redis-server master -> agent replica).
# - Persistence: the libraries are in dump.rdb (opcode FUNCTION2): an agent
#   and a redis-server started on the agent's file both have them; DEBUG
#   RELOAD keeps them.
# - FUNCTION DUMP / RESTORE interoperate with redis-server both ways.
# - A busy function: -BUSY names FUNCTION KILL, FUNCTION STATS shows it,
#   SCRIPT KILL does not stop it, FUNCTION KILL does.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/repl_lib.sh"
need_redis

LIB1='#!lua name=lib1
redis.register_function("setget", function(keys, args) redis.call("set", keys[1], args[1]) return redis.call("get", keys[1]) end)
redis.register_function{function_name="ro_get", callback=function(keys) return redis.call("get", keys[1]) end, flags={"no-writes"}}
redis.register_function("two_writes", function(keys) redis.call("incr", keys[1]) return redis.call("incr", keys[1]) end)'
LIB2='#!lua name=lib2
redis.register_function("spin", function() local i = 0 while true do i = i + 1 end end)
redis.register_function{function_name="spin_ro", callback=function() local i = 0 while true do i = i + 1 end end, flags={"no-writes"}}'
BUSY_FN="BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."

fcall_calls() { rcli "$1" info commandstats | tr -d '\r' | sed -n 's/^cmdstat_fcall:calls=\([0-9]*\).*/\1/p'; }
lib_names() { rcli "$1" function list | grep -A1 '^library_name$' | grep -v -e '^library_name$' -e '^--$' | sort | tr '\n' ' '; }

pm=$(free_port) || exit 1
start_agent "$pm" --save "" --appendonly no --busy-reply-threshold 200 --enable-debug-command yes || { fail "master agent starts"; finish; }
master_dir=$LAST_DIR
pa=$(free_port) || exit 1
start_agent "$pa" --save "" --appendonly no --enable-debug-command yes --replicaof 127.0.0.1 "$pm" || { fail "replica agent starts"; finish; }
pr=$(free_port) || exit 1
start_redis "$pr" --enable-debug-command yes --replicaof 127.0.0.1 "$pm" || { fail "replica redis-server starts"; finish; }
check "agent replica link up" wait_link_up "$pa"
check "redis-server replica link up" wait_link_up "$pr"

# ---- replication -----------------------------------------------------------
expect_eq "FUNCTION LOAD answers the library name" lib1 "$(rcli "$pm" function load "$LIB1")"
expect_eq "FCALL runs a function" v1 "$(rcli "$pm" fcall setget 1 k v1)"
rcli "$pm" fcall two_writes 1 counter >/dev/null
check "agent replica in sync" wait_sync "$pm" "$pa"
check "redis replica in sync" wait_sync "$pm" "$pr"
expect_eq "the library reached the agent replica" "lib1 " "$(lib_names "$pa")"
expect_eq "the library reached the redis-server replica" "lib1 " "$(lib_names "$pr")"
expect_eq "FCALL_RO of a no-writes function on the agent replica" v1 "$(rcli "$pa" fcall_ro ro_get 1 k)"
expect_eq "FCALL is propagated as its writes, not itself" "" "$(fcall_calls "$pr")"
expect_eq "the writes arrived (redis replica)" 2 "$(rcli "$pr" get counter)"
dm=$(rcli "$pm" debug digest)
expect_eq "agent replica has the master's digest" "$dm" "$(rcli "$pa" debug digest)"
expect_eq "redis replica has the master's digest" "$dm" "$(rcli "$pr" debug digest)"

# A full sync carries the libraries: a redis-server replica started now.
pr2=$(free_port) || exit 1
start_redis "$pr2" --replicaof 127.0.0.1 "$pm" || fail "second redis-server replica starts"
check "late redis-server replica link up" wait_link_up "$pr2"
expect_eq "full sync gave the redis-server replica the library" "lib1 " "$(lib_names "$pr2")"
stop_pid "$LAST_PID"

# ---- persistence -------------------------------------------------------------
expect_eq "SAVE" OK "$(rcli "$pm" save)"
pa2=$(free_port) || exit 1
start_agent "$pa2" --save "" --appendonly no --dir "$master_dir" || fail "agent on the master's dump.rdb starts"
expect_eq "an agent loads the libraries from dump.rdb" "lib1 " "$(lib_names "$pa2")"
expect_eq "and can call them" v1 "$(rcli "$pa2" fcall ro_get 1 k)"
stop_pid "$LAST_PID"
pr3=$(free_port) || exit 1
start_redis "$pr3" --dir "$master_dir" --dbfilename dump.rdb || fail "redis-server on the agent's dump.rdb starts"
expect_eq "redis-server loads the agent's libraries" "lib1 " "$(lib_names "$pr3")"
expect_eq "and calls them" v1 "$(rcli "$pr3" fcall ro_get 1 k)"
expect_eq "DEBUG RELOAD" OK "$(rcli "$pm" debug reload)"
expect_eq "DEBUG RELOAD keeps the libraries" "lib1 " "$(lib_names "$pm")"

# ---- DUMP / RESTORE with redis-server ----------------------------------------------
rcli "$pr3" function flush >/dev/null
rcli "$pr3" function load "$LIB2" >/dev/null
# Payloads are binary: taken with --raw (one trailing newline dropped) and
# sent back as a RESP bulk by a few lines of Python (redis-cli -x would put
# the payload after the policy).
fdump() { rcli "$1" --raw function dump | head -c -1 >"$2"; }
frestore() {
    python3 - "$@" <<'PY'
import socket, sys
port, path, *policy = sys.argv[1:]
args = [b"FUNCTION", b"RESTORE", open(path, "rb").read()] + [p.encode() for p in policy]
req = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
s.sendall(req)
reply = b""
while not reply.endswith(b"\r\n"):
    chunk = s.recv(4096)
    if not chunk:
        break
    reply += chunk
print(reply.decode(errors="replace").strip().lstrip("+-"))
PY
}
fdump "$pr3" "$LIB_TMP/redis.fdump"
expect_eq "the agent restores redis-server's payload" OK "$(frestore "$pm" "$LIB_TMP/redis.fdump")"
expect_eq "both libraries are on the agent" "lib1 lib2 " "$(lib_names "$pm")"
expect_eq "APPEND refuses a library that exists" "ERR Library lib2 already exists" \
    "$(frestore "$pm" "$LIB_TMP/redis.fdump")"
expect_eq "REPLACE takes it" OK "$(frestore "$pm" "$LIB_TMP/redis.fdump" replace)"
# And the other way: the agent's payload into redis-server (FLUSH policy).
fdump "$pm" "$LIB_TMP/agent.fdump"
expect_eq "redis-server restores the agent's payload" OK "$(frestore "$pr3" "$LIB_TMP/agent.fdump" flush)"
expect_eq "redis-server has both libraries" "lib1 lib2 " "$(lib_names "$pr3")"
rcli "$pm" function delete lib2 >/dev/null
rcli "$pm" set marker 1 >/dev/null
check "agent replica in sync after DELETE" wait_sync "$pm" "$pa"
check "redis replica in sync after DELETE" wait_sync "$pm" "$pr"
expect_eq "FUNCTION DELETE reached the agent replica" "lib1 " "$(lib_names "$pa")"
expect_eq "FUNCTION DELETE reached the redis replica" "lib1 " "$(lib_names "$pr")"

# ---- redis-server master -> agent replica ------------------------------------------
pa3=$(free_port) || exit 1
start_agent "$pa3" --save "" --appendonly no --replicaof 127.0.0.1 "$pr3" || fail "agent replica of redis-server starts"
check "agent replica of redis-server link up" wait_link_up "$pa3"
expect_eq "full sync from redis-server gave the agent its libraries" "lib1 lib2 " "$(lib_names "$pa3")"
rcli "$pr3" function load "#!lua name=lib3
redis.register_function{function_name='f3', callback=function() return 3 end, flags={'no-writes'}}" >/dev/null
rcli "$pr3" set marker 1 >/dev/null
check "agent replica of redis-server in sync" wait_sync "$pr3" "$pa3"
expect_eq "a FUNCTION LOAD streamed from redis-server" "lib1 lib2 lib3 " "$(lib_names "$pa3")"
expect_eq "FCALL_RO on it" 3 "$(rcli "$pa3" fcall_ro f3 0)"

# ---- AOF -------------------------------------------------------------------------------
# The libraries survive a restart from the AOF: loaded into the incremental
# file, then kept by a rewrite, with an RDB preamble and as commands.
rewrite_done() {
    [ "$(info_field "$1" persistence aof_rewrite_in_progress)" = 0 ] &&
        [ "$(info_field "$1" persistence aof_rewrite_scheduled)" = 0 ]
}
for preamble in yes no; do
    pf=$(free_port) || exit 1
    start_agent "$pf" --save "" --appendonly yes --aof-use-rdb-preamble "$preamble" || fail "AOF agent starts (preamble $preamble)"
    aof_pid=$LAST_PID aof_dir=$LAST_DIR
    check "initial rewrite done (preamble $preamble)" wait_for 30 rewrite_done "$pf"
    rcli "$pf" function load "$LIB1" >/dev/null
    rcli "$pf" fcall setget 1 k "v-$preamble" >/dev/null
    stop_pid "$aof_pid"
    pf2=$(free_port) || exit 1
    start_agent "$pf2" --save "" --appendonly yes --aof-use-rdb-preamble "$preamble" --dir "$aof_dir" || fail "AOF agent restarts"
    expect_eq "library back from the incremental AOF (preamble $preamble)" "lib1 " "$(lib_names "$pf2")"
    expect_eq "BGREWRITEAOF (preamble $preamble)" "Background append only file rewriting started" "$(rcli "$pf2" bgrewriteaof)"
    check "rewrite done (preamble $preamble)" wait_for 30 rewrite_done "$pf2"
    stop_pid "$LAST_PID"
    pf3=$(free_port) || exit 1
    start_agent "$pf3" --save "" --appendonly yes --aof-use-rdb-preamble "$preamble" --dir "$aof_dir" || fail "AOF agent restarts after the rewrite"
    expect_eq "library back from the rewritten base (preamble $preamble)" "lib1 " "$(lib_names "$pf3")"
    expect_eq "data back too (preamble $preamble)" "v-$preamble" "$(rcli "$pf3" fcall ro_get 1 k)"
    stop_pid "$LAST_PID"
done

# ---- busy functions -------------------------------------------------------------------
rcli "$pm" function load "$LIB2" >/dev/null
is_busy_fn() { [ "$(rcli "$1" ping 2>&1)" = "$BUSY_FN" ]; }
rcli "$pm" fcall spin_ro 0 >"$LIB_TMP/spin.out" 2>&1 &
caller=$!
check "a looping function makes the server busy" wait_for 10 is_busy_fn "$pm"
expect_match "FUNCTION STATS names the running function" 'spin_ro' "$(rcli "$pm" function stats | tr '\n' ' ')"
# 7.0 answers the wrong KILL with the -BUSY naming the right one.
expect_eq "SCRIPT KILL does not stop a function" "$BUSY_FN" "$(rcli "$pm" script kill)"
expect_eq "FUNCTION KILL stops it" OK "$(rcli "$pm" function kill)"
wait "$caller"
expect_match "the caller gets the kill error" "Script killed by user" "$(cat "$LIB_TMP/spin.out")"
expect_eq "the server answers again" PONG "$(rcli "$pm" ping)"
expect_eq "FUNCTION STATS: nothing running" "" \
    "$(rcli "$pm" function stats | sed -n '2p')"
finish
