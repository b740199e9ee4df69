#!/usr/bin/env bash
# test_engine_script.sh: what a compat script cannot show about Lua scripts.
# - Effects replication: a script's writes reach an agent replica and a
#   redis-server replica (one write as itself, several wrapped in
#   MULTI/EXEC), EVAL itself never; both replicas end with the master's
#   DEBUG DIGEST, including after non-deterministic scripts.
# - Busy scripts: past busy-reply-threshold other clients get -BUSY, SCRIPT
#   KILL stops a read-only script, a script that wrote is UNKILLABLE, and
#   SHUTDOWN NOSAVE stops the server.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/repl_lib.sh"
need_redis

BUSY_ERR="BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."

pm=$(free_port) || exit 1
start_agent "$pm" --save "" --appendonly no --busy-reply-threshold 200 --enable-debug-command yes || { fail "master agent starts"; finish; }
master_pid=$LAST_PID
pa=$(free_port) || exit 1
start_agent "$pa" --save "" --appendonly no --enable-debug-command yes --replicaof 127.0.0.1 "$pm" || { fail "replica agent starts"; finish; }
pr=$(free_port) || exit 1
start_redis "$pr" --enable-debug-command yes --replicaof 127.0.0.1 "$pm" || { fail "replica redis-server starts"; finish; }
check "agent replica link up" wait_link_up "$pa"
check "redis-server replica link up" wait_link_up "$pr"

exec_calls() { rcli "$1" info commandstats | tr -d '\r' | sed -n 's/^cmdstat_exec:calls=\([0-9]*\).*/\1/p'; }
eval_calls() { rcli "$1" info commandstats | tr -d '\r' | sed -n 's/^cmdstat_eval:calls=\([0-9]*\).*/\1/p'; }

# ---- effects replication -------------------------------------------------
rcli "$pm" eval "return redis.call('set','single','1')" 0 >/dev/null
check "redis replica in sync after a one-write script" wait_sync "$pm" "$pr"
expect_eq "one write is not wrapped in MULTI/EXEC" "" "$(exec_calls "$pr")"
rcli "$pm" eval "redis.call('set','a','1') redis.call('incr','c') redis.call('rpush','l','x','y') return 1" 0 >/dev/null
check "redis replica in sync after a three-write script" wait_sync "$pm" "$pr"
expect_eq "several writes arrive as one MULTI/EXEC" 1 "$(exec_calls "$pr")"
expect_eq "EVAL itself is not propagated" "" "$(eval_calls "$pr")"
rcli "$pm" eval "return redis.call('get','a')" 0 >/dev/null
rcli "$pm" eval "redis.call('select', 3) redis.call('set','in3','x') redis.call('select', 0) return redis.call('set','in0','y')" 0 >/dev/null
# Non-deterministic scripts: replicas get the values, not the script.
rcli "$pm" eval "return redis.call('set','t', redis.call('time')[1] .. redis.call('time')[2])" 0 >/dev/null
rcli "$pm" eval "local k = redis.call('randomkey') return redis.call('set','rk', k or 'none')" 0 >/dev/null
sha=$(rcli "$pm" script load "return redis.call('incrby', KEYS[1], ARGV[1])")
rcli "$pm" evalsha "$sha" 1 cnt 5 >/dev/null
expect_eq "SCRIPT LOAD is not propagated (agent replica)" 0 "$(rcli "$pa" script exists "$sha")"
expect_eq "SCRIPT LOAD is not propagated (redis replica)" 0 "$(rcli "$pr" script exists "$sha")"
# redis.set_repl(REPL_NONE): the write stays on the master only.
rcli "$pm" eval "redis.set_repl(redis.REPL_NONE) return redis.call('set','local_only','1')" 0 >/dev/null
rcli "$pm" set marker 1 >/dev/null
check "agent replica in sync" wait_sync "$pm" "$pa"
check "redis replica in sync" wait_sync "$pm" "$pr"
expect_eq "REPL_NONE write not on the agent replica" 0 "$(rcli "$pa" exists local_only)"
expect_eq "REPL_NONE write not on the redis replica" 0 "$(rcli "$pr" exists local_only)"
rcli "$pm" del local_only >/dev/null
# A script inside MULTI is part of the transaction's own MULTI/EXEC.
execs_before=$(exec_calls "$pr")
printf 'MULTI\nEVAL "redis.call(\x27set\x27,\x27m1\x27,\x271\x27) return redis.call(\x27set\x27,\x27m2\x27,\x272\x27)" 0\nSET m3 3\nEXEC\n' | rcli "$pm" >/dev/null
rcli "$pm" set marker 2 >/dev/null
check "agent replica in sync after MULTI" wait_sync "$pm" "$pa"
check "redis replica in sync after MULTI" wait_sync "$pm" "$pr"
expect_eq "a script inside MULTI adds one EXEC, not a nested one" $((execs_before + 1)) "$(exec_calls "$pr")"
dm=$(rcli "$pm" debug digest)
expect_eq "agent replica has the master's digest" "$dm" "$(rcli "$pa" debug digest)"
expect_eq "redis replica has the master's digest" "$dm" "$(rcli "$pr" debug digest)"
expect_eq "the key a script wrote in db 3 is there" x "$(rcli -n 3 -p "$pr" get in3 2>/dev/null || rcli "$pr" -n 3 get in3)"
expect_eq "writes refused on the read-only agent replica" \
    "READONLY You can't write against a read only replica. script: $(rcli "$pm" eval "return redis.sha1hex(\"return redis.call('set','x','1')\")" 0), on @user_script:1." \
    "$(rcli "$pa" eval "return redis.call('set','x','1')" 0)"
expect_eq "reads allowed on the agent replica" 1 "$(rcli "$pa" eval "return redis.call('get','a')" 0)"

# ---- busy scripts -------------------------------------------------------
# busy_wait <port>: until a PING is answered -BUSY (bounded).
is_busy() { [ "$(rcli "$1" ping 2>&1)" = "$BUSY_ERR" ]; }

loop_script="local i = 0 while true do i = i + 1 end"
loop_sha=$(rcli "$pm" eval "return redis.sha1hex(ARGV[1])" 0 "$loop_script")
rcli "$pm" eval "$loop_script" 0 >"$LIB_TMP/killed.out" 2>&1 &
caller=$!
check "a looping script makes the server busy" wait_for 10 is_busy "$pm"
expect_eq "other commands get -BUSY" "$BUSY_ERR" "$(rcli "$pm" get a)"
expect_eq "SCRIPT LOAD gets -BUSY" "$BUSY_ERR" "$(rcli "$pm" script load "return 1")"
expect_eq "SHUTDOWN without NOSAVE gets -BUSY" "$BUSY_ERR" "$(rcli "$pm" shutdown)"
expect_eq "MULTI is allowed while busy" OK "$(rcli "$pm" multi)"
# 7.0 answers the wrong KILL with the -BUSY naming the right one.
expect_eq "FUNCTION KILL does not stop a script" "$BUSY_ERR" "$(rcli "$pm" function kill)"
expect_eq "SCRIPT KILL stops a read-only script" OK "$(rcli "$pm" script kill)"
wait "$caller"
expect_eq "the killed script's caller gets 7.0's error" \
    "ERR Script killed by user with SCRIPT KILL... script: $loop_sha, on @user_script:1." \
    "$(cat "$LIB_TMP/killed.out")"
expect_eq "the server answers again" PONG "$(rcli "$pm" ping)"
expect_eq "SCRIPT KILL with nothing running" "NOTBUSY No scripts in execution right now." "$(rcli "$pm" script kill)"
# Commands pipelined behind a busy EVAL wait for it (the caller's input is
# not read while the script serves others), then run in order.
pipelined=$(python3 - "$pm" <<'PY'
import socket, sys, time
def enc(*a):
    return b"".join([b"*%d\r\n" % len(a)] + [b"$%d\r\n%s\r\n" % (len(x), x) for x in (y.encode() for y in a)])
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port))
s.sendall(enc("EVAL", "while true do end", "0") + enc("PING", "after") + enc("SET", "p", "1"))
k = socket.create_connection(("127.0.0.1", port))
k.settimeout(5)
for _ in range(100):
    k.sendall(enc("SCRIPT", "KILL"))
    if k.recv(1000) == b"+OK\r\n":
        break
    time.sleep(0.05)
s.settimeout(5)
data = b""
while data.count(b"\r\n") < 3:
    d = s.recv(1000)
    if not d:
        break
    data += d
print(repr(data.split(b"\r\n")[1:3]))
PY
)
expect_eq "pipelined commands run after the killed script, in order" "[b'\$5', b'after']" "$pipelined"
expect_eq "and the last of them too" 1 "$(rcli "$pm" get p)"
rcli "$pm" del p >/dev/null

# A script catching the kill with pcall is stopped anyway.
rcli "$pm" eval "while true do pcall(function() while true do end end) end" 0 >"$LIB_TMP/killed2.out" 2>&1 &
caller=$!
check "a pcall-protected loop makes the server busy" wait_for 10 is_busy "$pm"
expect_eq "SCRIPT KILL accepted" OK "$(rcli "$pm" script kill)"
wait "$caller"
expect_match "and the script stops" "^ERR Script killed by user with SCRIPT KILL" "$(cat "$LIB_TMP/killed2.out")"
expect_eq "data intact after the kills" "$dm" "$(rcli "$pm" debug digest)"

# A script that wrote cannot be killed; SHUTDOWN NOSAVE stops the server.
rcli "$pm" eval "redis.call('set','w','1') while true do end" 0 >/dev/null 2>&1 &
caller=$!
check "a writing script makes the server busy" wait_for 10 is_busy "$pm"
expect_eq "SCRIPT KILL refused once it wrote" \
    "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command." \
    "$(rcli "$pm" script kill)"
rcli "$pm" shutdown nosave >/dev/null 2>&1 || true
check "SHUTDOWN NOSAVE stops the busy server" wait_pid_exit "$master_pid" 10
forget_pid "$master_pid"
wait "$caller" 2>/dev/null || true
finish
