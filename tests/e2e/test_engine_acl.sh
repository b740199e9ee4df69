#!/usr/bin/env bash
# test_engine_acl.sh: the ACL features that need files or more than one
# server, each probe run against Debian's redis-server 7.0 and the agent and
# compared (tests/e2e/compat/acl.txt covers the commands themselves):
#   - `user` directives in the config file: the users they make, and the
#     startup errors of a bad rule and of a duplicate user;
#   - the aclfile: users loaded at startup, ACL SAVE's file, ACL LOAD of a
#     changed file, of a file with bad lines (every error listed, nothing
#     changed) and of a missing file;
#   - ACL LOG entries of refused commands, keys, channels and AUTH (fields
#     but the age and the client line, which differ between processes);
#   - a replica authenticating to its master with masteruser/masterauth as a
#     user allowed only what replication needs, and refused with a user that
#     may not PSYNC.

. "$(dirname "$0")/lib.sh"
need_redis

AGENT="$KVFLEET_AGENT"

# run_both <fn>: run a probe function against redis-server then the agent,
# each printing to stdout; compare the two.
compare() {
    local name="$1" fn="$2" want got
    want="$(KIND=redis BINARY="$REDIS_SERVER" "$fn" 2>&1)"
    got="$(KIND=agent BINARY="$AGENT" "$fn" 2>&1)"
    expect_eq "$name" "$want" "$got"
}

# start <dir> <port> [args...]: the server under test with a config file.
start() {
    local dir="$1" port="$2"
    shift 2
    spawn "$dir" "$BINARY" "$@"
    wait_ready "$port" "$LAST_PID" 10
}

probe_user_directives() {
    local port dir
    port="$(free_port)"
    dir="$LIB_TMP/$KIND-users"
    mkdir -p "$dir"
    cat >"$dir/s.conf" <<EOF
port $port
bind 127.0.0.1
save ""
user alice on >apw ~cache:* &news +@hash +get
user bob off nopass %R~r* +@read
user default on nopass ~* &* +@all -flushall
EOF
    start "$dir" "$port" "$dir/s.conf" || return 1
    rcli "$port" ACL LIST
    rcli "$port" --user alice --pass apw --no-auth-warning HGET cache:1 f
    rcli "$port" --user alice --pass apw --no-auth-warning SET cache:1 v
    rcli "$port" FLUSHALL
    stop_pid "$LAST_PID"
}

probe_bad_directives() {
    local port dir
    port="$(free_port)"
    dir="$LIB_TMP/$KIND-badusers"
    mkdir -p "$dir"
    printf 'port %s\nuser alice on foo\n' "$port" >"$dir/bad1.conf"
    printf 'port %s\nuser alice on\nuser alice off\n' "$port" >"$dir/bad2.conf"
    for f in bad1 bad2; do
        # The agent names the file in "Reading the configuration file".
        timeout 10 "$BINARY" "$dir/$f.conf" 2>&1 | grep -E "^(>>>|Error|Reading)" | sed 's/file .*, at/file, at/' || true
    done
}

# An unknown command in a user directive: Redis exits once it builds the
# users, the agent refuses the line while reading the file; both refuse to
# start.
bad_command_refused() {
    local port dir
    port="$(free_port)"
    dir="$LIB_TMP/$KIND-badcmd"
    mkdir -p "$dir"
    printf 'port %s\nbind 127.0.0.1\nsave ""\nuser alice on +nosuch\n' "$port" >"$dir/s.conf"
    ! timeout 10 "$BINARY" "$dir/s.conf" >"$dir/out.log" 2>&1
}

probe_aclfile() {
    local port dir
    port="$(free_port)"
    dir="$LIB_TMP/$KIND-aclfile"
    mkdir -p "$dir"
    printf 'user default on nopass ~* &* +@all\nuser carol on #%s ~k* resetchannels -@all +get\n' \
        "$(printf 'cpw' | sha256sum | cut -d' ' -f1)" >"$dir/users.acl"
    start "$dir" "$port" --port "$port" --bind 127.0.0.1 --save "" --aclfile "$dir/users.acl" || return 1
    rcli "$port" ACL LIST
    rcli "$port" --user carol --pass cpw --no-auth-warning GET k1
    rcli "$port" ACL SETUSER dave on '>dpw' '%W~w*' '+set'
    rcli "$port" ACL SAVE
    echo "-- saved file"
    cat "$dir/users.acl"
    printf 'user default on nopass ~* &* +@all\nuser erin on nopass +ping\n' >"$dir/users.acl"
    rcli "$port" ACL LOAD
    rcli "$port" ACL USERS
    printf 'user default on nopass ~* &* +@all\nfoo bar\nuser bob on baz\nuser bob off\n# c\nuser\n   user x on   \nuser y "on"\n' >"$dir/users.acl"
    rcli "$port" ACL LOAD | sed "s#$dir#DIR#g"
    rcli "$port" ACL USERS
    rm -f "$dir/users.acl"
    rcli "$port" ACL LOAD | sed "s#$dir#DIR#g"
    stop_pid "$LAST_PID"
}

# ACL LOG without age-seconds and client-info (times and ports differ).
log_fields() {
    rcli "$1" ACL LOG | awk '/^(age-seconds|client-info)$/ {skip = 1; next} skip {skip = 0; next} {print}'
}

probe_log() {
    local port dir
    port="$(free_port)"
    dir="$LIB_TMP/$KIND-log"
    start "$dir" "$port" --port "$port" --bind 127.0.0.1 --save "" || return 1
    rcli "$port" ACL SETUSER frank on '>fpw' '~a*' '&c*' '+get' '+publish' >/dev/null
    local u=(--user frank --pass fpw --no-auth-warning)
    rcli "$port" "${u[@]}" GET b
    rcli "$port" "${u[@]}" SET a 1
    rcli "$port" "${u[@]}" SET a 1
    rcli "$port" "${u[@]}" PUBLISH d m
    rcli "$port" AUTH frank wrong
    rcli "$port" HELLO 2 AUTH nobody x
    log_fields "$port"
    echo "-- count 2"
    rcli "$port" ACL LOG 2 | grep -c '^count$'
    rcli "$port" ACL LOG RESET
    rcli "$port" ACL LOG
    stop_pid "$LAST_PID"
}

probe_masteruser() {
    local mport rport dir i out
    mport="$(free_port)"
    dir="$LIB_TMP/$KIND-repl"
    mkdir -p "$dir/m"
    printf 'port %s\nbind 127.0.0.1\nsave ""\nuser repl on >rpw +psync +replconf +ping\nuser noperm on >npw +ping +replconf\n' \
        "$mport" >"$dir/m/s.conf"
    start "$dir/m" "$mport" "$dir/m/s.conf" || return 1
    local mpid="$LAST_PID"
    rport="$(free_port)"
    start "$dir/r" "$rport" --port "$rport" --bind 127.0.0.1 --save "" \
        --replicaof 127.0.0.1 "$mport" --masteruser repl --masterauth rpw || return 1
    local rpid="$LAST_PID"
    rcli "$mport" SET replicated yes >/dev/null
    out=""
    for i in $(seq 1 100); do
        out="$(rcli "$rport" GET replicated)"
        [ "$out" = "yes" ] && break
        sleep 0.1
    done
    echo "replica read: $out"
    # A user that may not PSYNC: the link stays down.
    rcli "$rport" CONFIG SET masteruser noperm >/dev/null
    rcli "$rport" CONFIG SET masterauth npw >/dev/null
    rcli "$rport" CLIENT KILL TYPE master >/dev/null
    sleep 1
    rcli "$rport" INFO replication | tr -d '\r' | grep '^master_link_status'
    # The object is psync, or sync where a Redis replica falls back to it.
    rcli "$mport" ACL LOG 1 | awk '/^(reason|username)$/ {getline v; print $0 "=" v}'
    stop_pid "$rpid"
    stop_pid "$mpid"
}

compare "user directives: ACL LIST, AUTH and -NOPERM" probe_user_directives
compare "user directives: startup errors" probe_bad_directives
KIND=redis BINARY="$REDIS_SERVER" check "user directives: redis-server refuses an unknown command" bad_command_refused
KIND=agent BINARY="$AGENT" check "user directives: the agent refuses an unknown command" bad_command_refused
compare "aclfile: load, SAVE, LOAD and its errors" probe_aclfile
compare "ACL LOG entries" probe_log
compare "replica AUTH with masteruser" probe_masteruser
finish
