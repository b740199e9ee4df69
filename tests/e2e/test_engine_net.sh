#!/usr/bin/env bash
# test_engine_net.sh: network and process behaviour of kvfleet-agent that the
# command-level compat suite cannot see: pipelining, partial reads, big
# values, protocol errors isolated to one connection, inline commands, AUTH,
# protected mode, config file errors, daemonize/pidfile/logfile, output buffer
# limits, connection storms without fd leaks, SHUTDOWN and SIGTERM.
# Where Redis' exact text matters, the same probe runs against Debian's
# redis-server and the two answers must be identical.

. "$(dirname "$0")/lib.sh"
need_redis
need_tool respdiff
need_tool clientflood
RESPDIFF="$KVFLEET_TOOLS/respdiff"

# Raise the fd limit for the 10k-client storm (never above the hard limit).
hard=$(ulimit -Hn)
want=20000
[ "$hard" != unlimited ] && [ "$hard" -lt "$want" ] && want=$hard
ulimit -n "$want" 2>/dev/null || note "could not raise ulimit -n to $want"

port=$(free_port) || exit 1
start_agent "$port" --save "" --appendonly no --maxclients 10000 || { fail "agent starts"; finish; }
agent_pid=$LAST_PID
agent_dir=$LAST_DIR
pass "agent starts and answers PING"

rport=$(free_port) || exit 1
start_redis "$rport" || { fail "redis-server starts"; finish; }
redis_pid=$LAST_PID

# script_on <port> <text> [respdiff args]: run a respdiff script from a string.
script_on() {
    local p="$1" text="$2"
    shift 2
    printf '%s\n' "$text" | "$RESPDIFF" -h 127.0.0.1 -p "$p" -t 3000 "$@" -
}

# same_as_redis <name> <script text> [respdiff args]: agent output == redis output.
same_as_redis() {
    local name="$1" text="$2" a r
    shift 2
    a="$(script_on "$port" "$text" "$@" 2>&1)"
    r="$(script_on "$rport" "$text" "$@" 2>&1)"
    expect_eq "$name" "$r" "$a"
}

# ------------------------------------------------------------ pipelining
test_pipelining() {
    local i payload="" expected="" got n=5000
    for ((i = 1; i <= n; i++)); do
        payload+="*3\r\n\$3\r\nSET\r\n\$$((4 + ${#i}))\r\npipe$i\r\n\$$((1 + ${#i}))\r\nv$i\r\n"
        payload+="*2\r\n\$3\r\nGET\r\n\$$((4 + ${#i}))\r\npipe$i\r\n"
        expected+="+OK\r\n\$$((1 + ${#i}))\r\nv$i\r\n"
    done
    expected="$(printf "$expected")"
    got="$(
        exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
        printf "$payload" >&3
        timeout 10 head -c "${#expected}" <&3
    )"
    expect_eq "pipelining: 10000 commands in one write, replies in order" "$expected" "$got"
}

# ------------------------------------------------------------ partial reads
test_partial() {
    local out
    out="$(script_on "$port" '@slow 3 "*3\r\n$3\r\nSET\r\n$7\r\npartial\r\n$5\r\nhello\r\n"
@read
@slow 3 "*2\r\n$3\r\nGET\r\n$7\r\npartial\r\n"
@read
@slow 5 "ECHO slow-inline\r\n"
@read')"
    expect_eq "partial reads: command sent one byte at a time" \
        "$(printf '%s\n' '> @slow 3 "*3\r\n$3\r\nSET\r\n$7\r\npartial\r\n$5\r\nhello\r\n"' \
            '> @read' '+OK\r\n' '> @slow 3 "*2\r\n$3\r\nGET\r\n$7\r\npartial\r\n"' '> @read' \
            '$5\r\n' 'hello\r\n' '> @slow 5 "ECHO slow-inline\r\n"' '> @read' '$11\r\n' 'slow-inline\r\n')" \
        "$out"
}

# ------------------------------------------------------------ big value
test_big_value() {
    local f="$LIB_TMP/big.bin" got
    head -c 7864320 /dev/urandom | base64 -w0 >"$f" # 10 MiB of printable bytes
    expect_eq "big value: SET of 10 MiB" OK "$(rcli "$port" -x set bigval <"$f")"
    expect_eq "big value: STRLEN" "$(stat -c %s "$f")" "$(rcli "$port" strlen bigval)"
    redis-cli -h 127.0.0.1 -p "$port" --raw get bigval | head -c "$(stat -c %s "$f")" >"$f.back"
    check "big value: GET round trip is byte-identical" cmp -s "$f" "$f.back"
    got="$(rcli "$port" getrange bigval 5000000 5000009)"
    expect_eq "big value: GETRANGE in the middle" "$(dd if="$f" bs=1 skip=5000000 count=10 2>/dev/null)" "$got"
    rcli "$port" del bigval >/dev/null
    rm -f "$f" "$f.back"
}

# ------------------------------------------------------------ protocol errors
test_protocol_error() {
    local text='@conn 1
SET survivor alive
@conn 2
@raw "*1\r\n$x\r\n"
@eof
@conn 1
GET survivor
@conn 3
@raw "*x\r\n"
@eof
@conn 4
@inline ECHO "unbalanced
@eof
@conn 5
@raw "*1\r\nfoo\r\n"
@eof
@conn 1
PING'
    same_as_redis "malformed frames: error text, only that connection closed" "$text"
    local out
    out="$(script_on "$port" "$text")"
    expect_match "malformed frame answered with -ERR Protocol error" 'ERR Protocol error: invalid bulk length' "$out"
    expect_eq "other client still served after protocol errors" "PONG" "$(rcli "$port" ping)"
}

# ------------------------------------------------------------ inline commands
# raw_exchange <port> <bytes> <reply-length>: send bytes, read that many back.
raw_exchange() {
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "$2" >&3
        timeout 5 head -c "$3" <&3
    ) | od -An -c | tr -s ' \n' ' '
}

test_inline() {
    expect_eq "inline PING" "$(printf '+PONG\r\n' | od -An -c | tr -s ' \n' ' ')" \
        "$(raw_exchange "$port" 'PING\r\n' 7)"
    expect_eq "inline SET with quotes then multibulk GET" \
        "$(printf '+OK\r\n$5\r\na b c\r\n' | od -An -c | tr -s ' \n' ' ')" \
        "$(raw_exchange "$port" 'SET inl "a b c"\r\n*2\r\n$3\r\nGET\r\n$3\r\ninl\r\n' 16)"
    expect_eq "inline with bare LF" "$(printf '$2\r\nhi\r\n' | od -An -c | tr -s ' \n' ' ')" \
        "$(raw_exchange "$port" 'ECHO hi\n' 8)"
    same_as_redis "inline commands answer like redis-server" '@inline PING
@inline ECHO   "x y"   z
@inline NOSUCH a b
@rawsend "\r\n"
@inline PING'
}

# ------------------------------------------------------------ AUTH
test_auth() {
    local ap rp text
    ap=$(free_port) && start_agent "$ap" --save "" --requirepass s3cret || { fail "agent with requirepass starts"; return; }
    local apid=$LAST_PID
    rp=$(free_port) && start_redis "$rp" --requirepass s3cret || { fail "redis with requirepass starts"; return; }
    local rpid=$LAST_PID
    text='GET k
AUTH wrong
AUTH default wrong
AUTH s3cret
SET k v
GET k'
    local a r
    a="$(script_on "$ap" "$text")"
    r="$(script_on "$rp" "$text")"
    expect_eq "requirepass: NOAUTH / WRONGPASS / OK like redis-server" "$r" "$a"
    expect_match "NOAUTH text" '-NOAUTH Authentication required\.\\r\\n' "$a"
    expect_match "WRONGPASS text" '-WRONGPASS invalid username-password pair or user is disabled\.\\r\\n' "$a"
    expect_eq "redis-cli -a works" "PONG" "$(rcli "$ap" -a s3cret --no-auth-warning ping)"
    stop_pid "$apid"
    stop_pid "$rpid"
}

# ------------------------------------------------------------ protected mode
test_protected_mode() {
    # Redis treats only 127.0.0.1 and ::1 as local: a client coming from
    # 127.0.0.2 is refused with -DENIED when no password is set.
    local text='PING
@eof'
    local a r
    a="$(script_on "$port" "$text" -s 127.0.0.2 2>&1)"
    r="$(script_on "$rport" "$text" -s 127.0.0.2 2>&1)"
    expect_match "protected mode: redis-server itself denies 127.0.0.2" '-DENIED Redis is running in protected mode' "$r"
    expect_eq "protected mode: same -DENIED text and close as redis-server" "$r" "$a"
    expect_eq "protected mode: 127.0.0.1 still accepted" "PONG" "$(rcli "$port" ping)"
    # With protected-mode off, 127.0.0.2 is served.
    local np
    np=$(free_port) && start_agent "$np" --save "" --protected-mode no || { fail "agent with protected-mode no starts"; return; }
    local npid=$LAST_PID
    expect_eq "protected-mode no: 127.0.0.2 gets PONG" "$(printf '> PING\n+PONG\\r\\n')" \
        "$(script_on "$np" PING -s 127.0.0.2)"
    stop_pid "$npid"
    # With a password, 127.0.0.2 gets NOAUTH instead of DENIED.
    np=$(free_port) && start_agent "$np" --save "" --requirepass pw || { fail "agent with requirepass starts"; return; }
    npid=$LAST_PID
    expect_eq "protected mode with password: NOAUTH for 127.0.0.2" \
        "$(printf '> PING\n-NOAUTH Authentication required.\\r\\n')" "$(script_on "$np" PING -s 127.0.0.2)"
    stop_pid "$npid"
}

# ------------------------------------------------------------ config errors
# conf_shape <message>: a config error message without blank lines and with
# "configuration file <path>, at line" reduced to "configuration file, at line".
conf_shape() {
    printf '%s\n' "$1" | sed -e '/^$/d' -e 's/configuration file [^,]*, at line/configuration file, at line/'
}

test_config_errors() {
    local d="$LIB_TMP/conf" i conf line ae re arc rrc
    mkdir -p "$d"
    local -a bad=("nosuchdirective yes" "maxmemory abc" "databases" "appendonly maybe" "port 99999999")
    for i in "${!bad[@]}"; do
        conf="$d/bad$i.conf"
        printf 'loglevel notice\n%s\n' "${bad[$i]}" >"$conf"
        ae="$(cd "$d" && timeout 10 "$KVFLEET_AGENT" "$conf" 2>&1 >/dev/null)"
        arc=$?
        re="$(cd "$d" && timeout 10 redis-server "$conf" 2>&1 >/dev/null)"
        rrc=$?
        expect_eq "config error '${bad[$i]}': exit status $rrc like redis-server" "$rrc" "$arc"
        expect_match "config error '${bad[$i]}': message names line 2" "line 2" "$ae"
        expect_match "config error '${bad[$i]}': message quotes the line" ">>> '${bad[$i]}'" "$ae"
        # Same shape as redis-server's message once the file name (which
        # redis-server leaves out) and blank lines are dropped.
        expect_eq "config error '${bad[$i]}': same message shape as redis-server" \
            "$(conf_shape "$re")" "$(conf_shape "$ae")"
    done
    ae="$(timeout 10 "$KVFLEET_AGENT" "$d/does-not-exist.conf" 2>&1)"
    expect_eq "missing config file: exit status 1" 1 "$?"
    expect_match "missing config file: message names the file" "does-not-exist.conf" "$ae"
    ae="$(timeout 10 "$KVFLEET_AGENT" --port abc 2>&1)"
    expect_eq "bad --port on the command line: exit status 1" 1 "$?"
    expect_match "bad --port: message quotes it" "port" "$ae"
}

# ------------------------------------------------------------ daemonize
test_daemonize() {
    local p d pid i
    p=$(free_port) || return
    d="$LIB_TMP/daemon"
    mkdir -p "$d"
    (cd "$d" && timeout 10 "$KVFLEET_AGENT" --port "$p" --bind 127.0.0.1 --save "" --daemonize yes \
        --pidfile "$d/agent.pid" --logfile "$d/agent.log")
    expect_eq "daemonize yes: foreground process exits 0" 0 "$?"
    for i in $(seq 1 100); do [ -s "$d/agent.pid" ] && break; sleep 0.05; done
    pid="$(cat "$d/agent.pid" 2>/dev/null)"
    if [ -z "$pid" ]; then
        fail "daemonize yes: pidfile written"
        return
    fi
    LIB_PIDS+=("$pid")
    pass "daemonize yes: pidfile written"
    check "daemonize yes: pidfile holds a live pid" kill -0 "$pid"
    check "daemonize yes: answers PING" wait_ready "$p" "$pid" 10
    check "daemonize yes: logfile written" test -s "$d/agent.log"
    rcli "$p" shutdown nosave >/dev/null 2>&1
    check "daemonize yes: SHUTDOWN stops it" wait_pid_exit "$pid" 10
    forget_pid "$pid"
    check_not "daemonize yes: pidfile removed on SHUTDOWN" test -e "$d/agent.pid"
}

# ------------------------------------------------------------ output buffer limit
test_obuf_limit() {
    local p="$port" big closed before
    expect_eq "CONFIG SET client-output-buffer-limit" OK \
        "$(rcli "$p" config set client-output-buffer-limit "normal 1mb 0 0")"
    big="$(head -c 1000000 /dev/zero | tr '\0' x)"
    printf '%s' "$big" | rcli "$p" -x set obuf-big >/dev/null
    before="$(wc -l <"$agent_dir/stdout.log")"
    # 50 GETs of 1 MB, never reading: the reply backlog passes 1 MB. The
    # writer ignores SIGPIPE (the server closes mid-stream) and the whole
    # probe is bounded in case the server stops reading instead.
    closed="$(timeout 30 bash -c '
        trap "" PIPE
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        for i in $(seq 1 50); do printf "*2\r\n\$3\r\nGET\r\n\$8\r\nobuf-big\r\n"; done >&3 2>/dev/null
        sleep 1
        # The server must close the connection (EOF or reset); if it keeps
        # it open the drain times out (124).
        timeout 10 cat <&3 >/dev/null 2>&1
        if [ $? -eq 124 ]; then echo open; else echo closed; fi
    ' obuf "$p")"
    expect_eq "output buffer limit: slow reader disconnected" closed "$closed"
    sleep 0.2
    expect_match "output buffer limit: disconnection logged" "output buffer limit" \
        "$(tail -n +"$((before + 1))" "$agent_dir/stdout.log")"
    expect_eq "output buffer limit: server still serves others" PONG "$(rcli "$p" ping)"
    rcli "$p" del obuf-big >/dev/null
    rcli "$p" config set client-output-buffer-limit "normal 0 0 0" >/dev/null
}

# ------------------------------------------------------------ connection storm
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

test_client_flood() {
    local before after out i
    before=$(fd_count "$agent_pid")
    out="$("$KVFLEET_TOOLS/clientflood" -h 127.0.0.1 -p "$port" -n 10000 -b 1000 -t 20000 2>&1)"
    if [ "$out" != "connected 10000, pong 10000, failed 0" ]; then
        # Seen once in ~20 runs on a loaded 2-core VM: one connect of a
        # 1000-SYN burst failed on the client side. Say so, and run the storm
        # again: the second storm must be perfect.
        note "first storm: $out; running it once more"
        out="$("$KVFLEET_TOOLS/clientflood" -h 127.0.0.1 -p "$port" -n 10000 -b 1000 -t 20000 2>&1)"
    fi
    expect_eq "10k clients in batches of 1000: all got PONG" "connected 10000, pong 10000, failed 0" "$out"
    # The server closes its side asynchronously: give it a moment.
    for i in $(seq 1 100); do
        after=$(fd_count "$agent_pid")
        [ "$after" -le "$before" ] && break
        sleep 0.1
    done
    [ "$after" -le "$before" ] || note "open fds of the agent: $(ls -l "/proc/$agent_pid/fd" 2>/dev/null | tail -n +2 | awk '{print $NF}' | tr '\n' ' ')"
    expect_eq "no fd leak after 10k connections (fds before/after)" "$before" "$after"
    expect_eq "connected_clients back to 1" "connected_clients:1" \
        "$(rcli "$port" info clients | tr -d '\r' | grep '^connected_clients:')"
}

# ------------------------------------------------------------ limits
test_limits() {
    local text
    # maxclients: the extra client gets the error and is closed.
    local ap rp apid rpid
    ap=$(free_port) && start_agent "$ap" --save "" --maxclients 3 || { fail "agent with maxclients 3 starts"; return; }
    apid=$LAST_PID
    rp=$(free_port) && start_redis "$rp" --maxclients 3 || { fail "redis with maxclients 3 starts"; return; }
    rpid=$LAST_PID
    text='@conn 0
PING
@conn 1
PING
@conn 2
PING
@conn 3
PING
@eof
@conn 0
PING'
    local a r
    a="$(script_on "$ap" "$text")"
    r="$(script_on "$rp" "$text")"
    expect_eq "maxclients: extra client refused like redis-server" "$r" "$a"
    expect_match "maxclients: error text" 'ERR max number of clients reached' "$a"
    stop_pid "$apid"
    stop_pid "$rpid"

    # Idle timeout: a client idle for longer than `timeout` is closed.
    rcli "$port" config set timeout 1 >/dev/null
    expect_eq "timeout 1: idle client closed" "$(printf '> PING\n+PONG\\r\\n\n> @sleep 2000\n> @eof\n<closed>')" \
        "$(script_on "$port" 'PING
@sleep 2000
@eof')"
    rcli "$port" config set timeout 0 >/dev/null

    # Bulk longer than proto-max-bulk-len, inline request over 64 KiB.
    same_as_redis "bulk over proto-max-bulk-len: invalid bulk length" '@raw "*2\r\n$4\r\nECHO\r\n$600000000\r\n"
@eof'
    same_as_redis "inline request over the query buffer limit: too big inline request" \
        "$(printf '@rawsend "'; head -c 1100000 /dev/zero | tr '\0' a; printf '"\n@eof')"
    expect_eq "server still serves after the limit checks" PONG "$(rcli "$port" ping)"
}

# ------------------------------------------------------------ shutdown paths
test_shutdown() {
    local p pid rc
    p=$(free_port) && start_agent "$p" --save "" || { fail "agent for SHUTDOWN starts"; return; }
    pid=$LAST_PID
    rcli "$p" shutdown nosave >/dev/null 2>&1
    check "SHUTDOWN NOSAVE stops the process" wait_pid_exit "$pid" 10
    forget_pid "$pid"
    check_not "SHUTDOWN NOSAVE: port no longer listening" port_listening "$p"

    p=$(free_port) && start_agent "$p" --save "" || { fail "agent for SIGTERM starts"; return; }
    pid=$LAST_PID
    kill -TERM "$pid"
    if wait_pid_exit "$pid" 10; then
        rc=$LIB_EXIT_STATUS
        pass "SIGTERM stops the process"
        expect_eq "SIGTERM: exit status 0" 0 "$rc"
    else
        fail "SIGTERM stops the process"
    fi
    forget_pid "$pid"
}

test_pipelining
test_partial
test_big_value
test_protocol_error
test_inline
test_auth
test_protected_mode
test_config_errors
test_daemonize
test_obuf_limit
test_client_flood
test_limits
test_shutdown
check "agent still alive after the whole suite" kill -0 "$agent_pid"
finish
