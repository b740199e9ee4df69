#!/usr/bin/env bash
# test_rdb_persist: kvfleet-agent's persistence as an operator sees it.
# SAVE / restart / DEBUG RELOAD keep the full content (kvdump diff);
# SHUTDOWN SAVE and NOSAVE; keys expired while down are dropped at load;
# save points trigger a BGSAVE; a failed SAVE leaves the previous file
# intact; a failed BGSAVE shows in INFO and turns writes away with -MISCONF
# until a save succeeds; a truncated, corrupt or too-new file stops start-up
# with the offset in the message and is never overwritten; and a BGSAVE
# taken under a concurrent write load (redis-benchmark) holds every write
# acknowledged before it started while the server keeps serving.
source "$(dirname "$0")/lib.sh"
need_tool kvdump
KVDUMP="$KVFLEET_TOOLS/kvdump"

info_field() { rcli "$1" info persistence | tr -d '\r' | sed -n "s/^$2://p"; }

# wait_field <port> <field> <value> [seconds]
wait_field() {
    local i
    for i in $(seq 1 $(( ${4:-10} * 20 ))); do
        [ "$(info_field "$1" "$2")" = "$3" ] && return 0
        sleep 0.05
    done
    return 1
}

# wait_bgsave_done <port>: no child running any more.
wait_bgsave_done() { wait_field "$1" rdb_bgsave_in_progress 0 "${2:-60}"; }

same_dump() {
    diff "$1" "$2" >/dev/null && return 0
    diff "$1" "$2" | head -10
    return 1
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
        echo 'SELECT 3'
        echo 'SET in3 yes'
    } | rcli "$1" >/dev/null
}

# restart <port> <dir> [args]: start an agent again in the same directory.
restart() {
    local port="$1" dir="$2"
    shift 2
    spawn "$dir" "$KVFLEET_AGENT" --port "$port" --bind 127.0.0.1 "$@"
    wait_ready "$port" "$LAST_PID" 10
}

# ---------------------------------------------------------------- basics
p=$(free_port)
start_agent "$p" --save "" || { fail "agent starts"; finish; }
pid=$LAST_PID dir=$LAST_DIR
populate "$p"
"$KVDUMP" -p "$p" >"$LIB_TMP/before.txt"
expect_eq "changes counted before SAVE (as redis-server counts them)" "19" "$(info_field "$p" rdb_changes_since_last_save)"
expect_eq "SAVE" "OK" "$(rcli "$p" save)"
expect_eq "changes reset by SAVE" "0" "$(info_field "$p" rdb_changes_since_last_save)"
check "dump.rdb written" test -s "$dir/dump.rdb"
check "no temp file left" bash -c "! ls '$dir'/temp-*.rdb 2>/dev/null | grep -q ."
lastsave="$(rcli "$p" lastsave)"
expect_match "LASTSAVE is recent" "^[0-9]+$" "$lastsave"
check "LASTSAVE within 60 s of now" test $(( $(date +%s) - lastsave )) -lt 60
expect_eq "rdb_saves counts" "1" "$(info_field "$p" rdb_saves)"
expect_eq "BGSAVE with a bad argument" "ERR syntax error" "$(rcli "$p" bgsave foo)"
expect_eq "SAVE with an argument" "ERR wrong number of arguments for 'save' command" "$(rcli "$p" save 1)"

expect_eq "DEBUG RELOAD" "OK" "$(rcli "$p" debug reload)"
"$KVDUMP" -p "$p" >"$LIB_TMP/reload.txt"
check "DEBUG RELOAD keeps the content" same_dump "$LIB_TMP/before.txt" "$LIB_TMP/reload.txt"

rcli "$p" shutdown >/dev/null 2>&1
wait_pid_exit "$pid" 10
forget_pid "$pid"
if restart "$p" "$dir" --save ""; then
    pid=$LAST_PID
    "$KVDUMP" -p "$p" >"$LIB_TMP/after.txt"
    check "restart loads the full content" same_dump "$LIB_TMP/before.txt" "$LIB_TMP/after.txt"
    expect_eq "rdb_last_load_keys_loaded" "8" "$(info_field "$p" rdb_last_load_keys_loaded)"
    expect_match "load is logged" "Done loading RDB, keys loaded: 8, keys expired: 0" "$(cat "$dir/stdout.log")"

    # SHUTDOWN SAVE saves even without save points; NOSAVE does not.
    rcli "$p" set saved-on-shutdown 1 >/dev/null
    rcli "$p" shutdown save >/dev/null 2>&1
    wait_pid_exit "$pid" 10
    forget_pid "$pid"
    restart "$p" "$dir" --save "" && pid=$LAST_PID
    expect_eq "SHUTDOWN SAVE kept the last write" "1" "$(rcli "$p" get saved-on-shutdown)"
    rcli "$p" set lost-on-nosave 1 >/dev/null
    rcli "$p" shutdown nosave >/dev/null 2>&1
    wait_pid_exit "$pid" 10
    forget_pid "$pid"
    restart "$p" "$dir" --save "" && pid=$LAST_PID
    expect_eq "SHUTDOWN NOSAVE did not save" "0" "$(rcli "$p" exists lost-on-nosave)"

    # A key that expires while the server is down is dropped at load.
    rcli "$p" set short v px 300 >/dev/null
    rcli "$p" save >/dev/null
    rcli "$p" shutdown nosave >/dev/null 2>&1
    wait_pid_exit "$pid" 10
    forget_pid "$pid"
    sleep 0.5
    restart "$p" "$dir" --save "" && pid=$LAST_PID
    expect_eq "expired key dropped at load" "0" "$(rcli "$p" exists short)"
    expect_eq "rdb_last_load_keys_expired" "1" "$(info_field "$p" rdb_last_load_keys_expired)"
    expect_eq "TTL kept across restart" "1" "$(rcli "$p" exists t)"
    check "TTL still set" test "$(rcli "$p" ttl t)" -gt 99000
else
    fail "agent restarts on its own dump.rdb"
fi

# ------------------------------------------------- failed SAVE keeps the file
cp "$dir/dump.rdb" "$LIB_TMP/good.rdb"
rcli "$p" set more data >/dev/null
mkdir "$dir/temp-$pid.rdb"
expect_eq "SAVE fails when the temp file cannot be created" "ERR" "$(rcli "$p" save)"
check "previous dump.rdb intact after a failed SAVE" cmp "$LIB_TMP/good.rdb" "$dir/dump.rdb"
expect_match "failure logged" "Failed opening the temp RDB file temp-$pid.rdb" "$(cat "$dir/stdout.log")"
rmdir "$dir/temp-$pid.rdb"
expect_eq "SAVE works again" "OK" "$(rcli "$p" save)"
stop_pid "$pid"

# ------------------------------------------------------------- save points
p2=$(free_port)
if start_agent "$p2" --save "1 1"; then
    d2=$LAST_DIR
    rcli "$p2" set a 1 >/dev/null
    check "a save point triggers a BGSAVE" wait_field "$p2" rdb_changes_since_last_save 0 8
    wait_bgsave_done "$p2"
    expect_match "save point logged" "changes in 1 seconds. Saving..." "$(cat "$d2/stdout.log")"
    expect_match "BGSAVE success logged" "Background saving terminated with success" "$(cat "$d2/stdout.log")"
    check "save point wrote dump.rdb" test -s "$d2/dump.rdb"
    expect_eq "status ok" "ok" "$(info_field "$p2" rdb_last_bgsave_status)"

    # -------------------------------------------- failed BGSAVE -> MISCONF
    rm -f "$d2/dump.rdb"
    mkdir "$d2/dump.rdb"    # rename() onto a directory fails
    rcli "$p2" config set save "3600 1" >/dev/null
    expect_eq "BGSAVE starts" "Background saving started" "$(rcli "$p2" bgsave)"
    wait_bgsave_done "$p2"
    expect_eq "failed BGSAVE shows in INFO" "err" "$(info_field "$p2" rdb_last_bgsave_status)"
    expect_match "failed BGSAVE logged" "Background saving error" "$(cat "$d2/stdout.log")"
    expect_match "writes refused with MISCONF" "^MISCONF Redis is configured to save RDB snapshots" "$(rcli "$p2" set b 2)"
    expect_eq "reads still served" "1" "$(rcli "$p2" get a)"
    rmdir "$d2/dump.rdb"
    expect_eq "BGSAVE again" "Background saving started" "$(rcli "$p2" bgsave)"
    wait_bgsave_done "$p2"
    expect_eq "status ok after a good BGSAVE" "ok" "$(info_field "$p2" rdb_last_bgsave_status)"
    expect_eq "writes accepted again" "OK" "$(rcli "$p2" set b 2)"
    stop_pid "$LAST_PID"
else
    fail "agent with save points starts"
fi

# ------------------------------------------------ corrupt files are refused
# refused <name> <file>: the agent must exit non-zero, say where, and leave
# the file as it was.
refused() {
    local name="$1" file="$2" d port
    port=$(free_port)
    d="$LIB_TMP/refuse-$name"
    mkdir -p "$d"
    cp "$file" "$d/dump.rdb"
    cp "$file" "$d/orig.rdb"
    spawn "$d" "$KVFLEET_AGENT" --port "$port" --bind 127.0.0.1 --save "1 1"
    local apid=$LAST_PID
    if wait_pid_exit "$apid" 10; then
        forget_pid "$apid"
        check "$name: start-up refused (non-zero exit)" test "$LIB_EXIT_STATUS" -ne 0
    else
        fail "$name: start-up refused"
        stop_pid "$apid"
    fi
    expect_match "$name: message names the offset" "offset [0-9]+" "$(cat "$d/stdout.log")"
    check "$name: file untouched" cmp "$d/orig.rdb" "$d/dump.rdb"
}
good="$LIB_TMP/good.rdb"
size=$(stat -c %s "$good")
head -c $((size / 2)) "$good" >"$LIB_TMP/trunc.rdb"
refused truncated "$LIB_TMP/trunc.rdb"
cp "$good" "$LIB_TMP/flip.rdb"
printf '\x5a' | dd of="$LIB_TMP/flip.rdb" bs=1 seek=$((size - 20)) conv=notrunc 2>/dev/null
refused corrupt "$LIB_TMP/flip.rdb"
{ printf 'REDIS0011'; tail -c +10 "$good"; } >"$LIB_TMP/newer.rdb"
refused newer-version "$LIB_TMP/newer.rdb"
expect_match "newer version explained" "Can't handle RDB format version 11" "$(cat "$LIB_TMP/refuse-newer-version/stdout.log")"

# --------------------------------------------------- BGSAVE under write load
p3=$(free_port)
if command -v redis-benchmark >/dev/null 2>&1 && start_agent "$p3" --save ""; then
    d3=$LAST_DIR apid=$LAST_PID
    # Fill some data so the fork has something to copy.
    rcli "$p3" debug populate 200000 fill 100 >/dev/null
    timeout 120 redis-benchmark -h 127.0.0.1 -p "$p3" -t set,lpush,hset -n 20000000 -r 1000000 -c 8 -P 8 -q \
        >"$LIB_TMP/bench.log" 2>&1 &
    bpid=$!
    LIB_PIDS+=("$bpid")
    sleep 1
    # Writes acknowledged one by one before the BGSAVE.
    seq 1 3000 | sed 's/.*/SET ack:& &/' | rcli "$p3" >/dev/null
    before=$(rcli "$p3" info stats | tr -d '\r' | sed -n 's/^total_commands_processed://p')
    expect_eq "BGSAVE under load" "Background saving started" "$(rcli "$p3" bgsave)"
    check "BGSAVE finishes" wait_bgsave_done "$p3" 90
    after=$(rcli "$p3" info stats | tr -d '\r' | sed -n 's/^total_commands_processed://p')
    kill "$bpid" 2>/dev/null
    wait "$bpid" 2>/dev/null
    forget_pid "$bpid"
    note "commands served during the BGSAVE: $((after - before))"
    check "the parent kept serving during the BGSAVE" test $((after - before)) -gt 1000
    expect_eq "BGSAVE status" "ok" "$(info_field "$p3" rdb_last_bgsave_status)"
    stop_pid "$apid"
    p4=$(free_port)
    mkdir -p "$LIB_TMP/agent-$p4"
    cp "$d3/dump.rdb" "$LIB_TMP/agent-$p4/dump.rdb"
    if start_agent "$p4" --save ""; then
        n=$(rcli "$p4" --scan --pattern 'ack:*' | wc -l)
        expect_eq "every acknowledged write is in the snapshot" "3000" "$n"
        expect_eq "last acknowledged value" "3000" "$(rcli "$p4" get ack:3000)"
        stop_pid "$LAST_PID"
    else
        fail "agent starts on the BGSAVE snapshot"
    fi
else
    note "redis-benchmark missing or agent did not start: load test not run"
    fail "BGSAVE under load"
fi
finish
