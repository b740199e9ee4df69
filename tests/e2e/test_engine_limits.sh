#!/usr/bin/env bash
# test_engine_limits.sh: no single client can exhaust kvfleet-agent. Each
# limit a client can run into is driven to its edge while the agent's RSS is
# read from /proc/PID/status before and after, and a second client must be
# served meanwhile and afterwards:
#   - a runaway reply (SRANDMEMBER s -9223372036854775807, which Redis 7.0
#     builds until the kernel kills it) stopped by client-output-buffer-limit
#     (hard and soft), maxmemory-clients and maxmemory, with the reason logged;
#   - slow readers (GETs of a big value, never read) under maxmemory-clients
#     and maxmemory (the plain output-buffer-limit case is in test_engine_net);
#   - multibulk counts 2^31 and 2^31-1, a bulk length past proto-max-bulk-len
#     and one at it, arguments streamed into an endless multibulk;
#   - maxclients reached: refusals counted, the clients in place served;
#   - maxmemory-clients: the biggest client goes, a CLIENT NO-EVICT one is
#     spared, INFO evicted_clients counts; CONFIG GET/SET and the config file.
# Where Redis 7.0 behaves the same (error texts, maxclients, client eviction,
# maxmemory-clients syntax) the same probe runs against Debian's redis-server.

. "$(dirname "$0")/lib.sh"
need_redis
need_tool respdiff
RESPDIFF="$KVFLEET_TOOLS/respdiff"

# Growth of RSS a limited client may cause, in kB. The limits below are 8 to
# 64 MB; without them the same probes grow the process by gigabytes.
RSS_BUDGET_KB=$((192 * 1024))

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# rss_bounded <name> <pid> <before-kB>: RSS grew by less than the budget.
# Not under a sanitizer (make test-asan sets ASAN_OPTIONS): ASan's
# quarantine and redzones keep hundreds of MB of freed blocks resident, so
# RSS says nothing about the agent there; make test runs this script on the
# plain build too, for these bounds.
rss_bounded() {
    local after grown
    after=$(rss_kb "$2")
    grown=$((after - $3))
    note "$1: RSS ${3} kB -> ${after} kB (grew $((grown / 1024)) MB)"
    if [ -n "${ASAN_OPTIONS:-}${TSAN_OPTIONS:-}" ]; then
        note "$1: RSS bound not checked under a sanitizer"
        return 0
    fi
    if [ "$grown" -lt "$RSS_BUDGET_KB" ]; then pass "$1: RSS stays bounded"; else fail "$1: RSS stays bounded"; fi
}

script_on() {
    local p="$1" text="$2"
    shift 2
    printf '%s\n' "$text" | "$RESPDIFF" -h 127.0.0.1 -p "$p" -t 3000 "$@" -
}

# log_since <dir> <line-count>: the agent log lines written after a mark.
log_lines() { wc -l <"$1/stdout.log"; }
log_since() { tail -n +"$(($2 + 1))" "$1/stdout.log"; }

info_field() { rcli "$1" info "$2" | tr -d '\r' | sed -n "s/^$3://p"; }

# send_until_closed <port> <seconds> <printf-format> [count]: open a
# connection, write the bytes (count times), never read what comes back but
# drain it to /dev/null once written; print "closed" when the server closes
# the connection within the time, "open" otherwise.
send_until_closed() {
    timeout $(($2 + 5)) bash -c '
        trap "" PIPE
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        for ((i = 0; i < $4; i++)); do printf "$3"; done >&3 2>/dev/null
        timeout "$2" cat <&3 >/dev/null 2>&1
        if [ $? -eq 124 ]; then echo open; else echo closed; fi
    ' probe "$1" "$2" "$3" "${4:-1}"
}

# served_meanwhile <port> <name> <cmd...>: run cmd in the background while
# a connection opened before it sends PINGs; the PINGs must be answered.
served_meanwhile() {
    local p="$1" name="$2" got
    shift 2
    exec {bystander}<>"/dev/tcp/127.0.0.1/$p" || { fail "$name: bystander connects"; return; }
    "$@" >"$LIB_TMP/meanwhile.out" &
    local job=$!
    sleep 0.1
    printf 'PING\r\n' >&"$bystander"
    got=""
    IFS= read -r -t 10 -u "$bystander" got || true
    expect_eq "$name: another client served meanwhile" $'+PONG\r' "$got"
    # Watchdog: an agent that does not stop the client would grow until the
    # kernel kills it (or something else on this machine): fail and kill it
    # once it has grown by half a gigabyte.
    local start_rss
    start_rss=$(rss_kb "$WATCH_PID")
    while kill -0 "$job" 2>/dev/null; do
        if [ $(($(rss_kb "$WATCH_PID") - start_rss)) -gt $((512 * 1024)) ]; then
            fail "$name: agent grew by 512 MB, killed"
            kill -KILL "$WATCH_PID" 2>/dev/null
            break
        fi
        sleep 0.1
    done
    wait "$job"
    exec {bystander}>&-
    expect_eq "$name: the limited client is disconnected" closed "$(cat "$LIB_TMP/meanwhile.out")"
    expect_eq "$name: other clients served afterwards" PONG "$(rcli "$p" ping)"
}

port=$(free_port) || exit 1
start_agent "$port" --save "" --appendonly no || { fail "agent starts"; finish; }
agent_pid=$LAST_PID
agent_dir=$LAST_DIR
WATCH_PID=$agent_pid
rport=$(free_port) || exit 1
start_redis "$rport" || { fail "redis-server starts"; finish; }
redis_pid=$LAST_PID

SRAND='*3\r\n$11\r\nSRANDMEMBER\r\n$1\r\ns\r\n$20\r\n-9223372036854775807\r\n'

# ------------------------------------------------------------ runaway reply
# runaway_reply <name> <log-regex> <config-name> <config-value> <reset-value>
runaway_reply() {
    local name="$1" logre="$2" key="$3" val="$4" reset="$5" before mark
    expect_eq "$name: CONFIG SET $key $val" OK "$(rcli "$port" config set "$key" "$val")"
    rcli "$port" sadd s a b c >/dev/null
    before=$(rss_kb "$agent_pid")
    mark=$(log_lines "$agent_dir")
    served_meanwhile "$port" "$name" send_until_closed "$port" 30 "$SRAND"
    rss_bounded "$name" "$agent_pid" "$before"
    sleep 0.2
    expect_match "$name: the reason is logged" "$logre" "$(log_since "$agent_dir" "$mark")"
    rcli "$port" config set "$key" "$reset" >/dev/null
}

test_runaway_reply() {
    local evicted
    runaway_reply "SRANDMEMBER -2^63+1, output-buffer hard limit 8mb" \
        "scheduled to be closed ASAP for overcoming of output buffer limits" \
        client-output-buffer-limit "normal 8mb 0 0" "normal 0 0 0"
    # The soft limit is timed while the reply runs, not only between commands.
    runaway_reply "SRANDMEMBER -2^63+1, output-buffer soft limit 8mb for 1s" \
        "scheduled to be closed ASAP for overcoming of output buffer limits" \
        client-output-buffer-limit "normal 0 8mb 1" "normal 0 0 0"
    evicted=$(info_field "$port" stats evicted_clients)
    runaway_reply "SRANDMEMBER -2^63+1, maxmemory-clients 16mb" "Evicting client: id=" \
        maxmemory-clients 16mb 0
    expect_eq "INFO evicted_clients counts the eviction" "$((evicted + 1))" \
        "$(info_field "$port" stats evicted_clients)"
    runaway_reply "SRANDMEMBER -2^63+1, maxmemory 64mb" "past maxmemory" maxmemory 64mb 0
    # Normal replies are unchanged under all three limits at once.
    rcli "$port" config set client-output-buffer-limit "normal 8mb 4mb 10" >/dev/null
    rcli "$port" config set maxmemory-clients 16mb >/dev/null
    rcli "$port" config set maxmemory 64mb >/dev/null
    expect_eq "under all three limits: SRANDMEMBER s -5 still answers 5 members" 5 \
        "$(rcli "$port" srandmember s -5 | wc -l)"
    expect_eq "under all three limits: SRANDMEMBER s -100000 (about 1 MB) answered whole" 100000 \
        "$(rcli "$port" srandmember s -100000 | wc -l)"
    rcli "$port" config set client-output-buffer-limit "normal 0 0 0" >/dev/null
    rcli "$port" config set maxmemory-clients 0 >/dev/null
    rcli "$port" config set maxmemory 0 >/dev/null
    rcli "$port" del s >/dev/null
}

# ------------------------------------------------------------ slow readers
# slow_reader <name> <log-regex> <config-name> <config-value> <reset-value>:
# 200 GETs of a 1 MB value, never read: 200 MB of replies to hold.
slow_reader() {
    local name="$1" logre="$2" key="$3" val="$4" reset="$5" before mark get
    get='*2\r\n$3\r\nGET\r\n$7\r\nbig-val\r\n'
    expect_eq "$name: CONFIG SET $key $val" OK "$(rcli "$port" config set "$key" "$val")"
    before=$(rss_kb "$agent_pid")
    mark=$(log_lines "$agent_dir")
    served_meanwhile "$port" "$name" send_until_closed "$port" 30 "$get" 200
    rss_bounded "$name" "$agent_pid" "$before"
    sleep 0.2
    expect_match "$name: the reason is logged" "$logre" "$(log_since "$agent_dir" "$mark")"
    rcli "$port" config set "$key" "$reset" >/dev/null
}

test_slow_reader() {
    head -c 1048576 /dev/zero | tr '\0' v | rcli "$port" -x set big-val >/dev/null
    slow_reader "slow reader, maxmemory-clients 16mb" "Evicting client: id=" maxmemory-clients 16mb 0
    slow_reader "slow reader, maxmemory 48mb" "past maxmemory" maxmemory 48mb 0
    expect_eq "after the slow readers: GET big-val still served whole" 1048576 \
        "$(rcli "$port" --raw get big-val | head -c 1048576 | wc -c)"
    rcli "$port" del big-val >/dev/null
}

# ------------------------------------------------------------ multibulk and bulk lengths
same_as_redis() {
    local name="$1" text="$2" a r
    a="$(script_on "$port" "$text" 2>&1)"
    r="$(script_on "$rport" "$text" 2>&1)"
    expect_eq "$name" "$r" "$a"
}

test_protocol_lengths() {
    local before out
    before=$(rss_kb "$agent_pid")
    same_as_redis "multibulk *2147483648: invalid multibulk length, closed, like redis-server" \
        '@raw "*2147483648\r\n"
@eof'
    out="$(script_on "$port" '@raw "*2147483648\r\n"')"
    expect_match "multibulk *2147483648: error text" 'ERR Protocol error: invalid multibulk length' "$out"
    same_as_redis "multibulk *2147483647: accepted and waited on, like redis-server" \
        '@rawsend "*2147483647\r\n$4\r\nPING\r\n$1\r\nx\r\n"
@noreply 300
@conn 1
PING'
    same_as_redis "bulk length 2^31 under a 2^31-1 multibulk: invalid bulk length" \
        '@raw "*2147483647\r\n$2147483648\r\n"
@eof'
    same_as_redis "bulk length one past proto-max-bulk-len (512mb): invalid bulk length" \
        '@raw "*2\r\n$4\r\nECHO\r\n$536870913\r\n"
@eof'
    rss_bounded "announced lengths" "$agent_pid" "$before"

    # Arguments streamed into a multibulk that announced 2^31-1 of them: the
    # parser's arrays count with the query buffer, so the connection is cut
    # at client-query-buffer-limit instead of growing to gigabytes.
    # At 64mb, arrays not counted would reach 64/7*32 = 290 MB, past the budget.
    rcli "$port" config set client-query-buffer-limit 64mb >/dev/null
    before=$(rss_kb "$agent_pid")
    local mark
    mark=$(log_lines "$agent_dir")
    served_meanwhile "$port" "*2147483647 then endless 1-byte arguments" timeout 60 bash -c '
        trap "" PIPE
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf -v chunk "\$1\r\na\r\n%.0s" $(seq 1 2000)
        { printf "*2147483647\r\n"; for ((i = 0; i < 20000; i++)); do printf "%s" "$chunk" || break; done; } >&3 2>/dev/null
        timeout 5 cat <&3 >/dev/null 2>&1
        if [ $? -eq 124 ]; then echo open; else echo closed; fi
    ' probe "$port"
    rss_bounded "*2147483647 then endless arguments" "$agent_pid" "$before"
    sleep 0.2
    expect_match "*2147483647 then endless arguments: reason logged" "max query buffer length" \
        "$(log_since "$agent_dir" "$mark")"
    rcli "$port" config set client-query-buffer-limit 1gb >/dev/null

    # A bulk announced at the limit reserves its whole length in advance (as
    # Redis does): maxmemory-clients bounds what such clients may reserve.
    rcli "$port" config set maxmemory-clients 64mb >/dev/null
    before=$(rss_kb "$agent_pid")
    local evicted
    evicted=$(info_field "$port" stats evicted_clients)
    served_meanwhile "$port" "bulk of 512mb announced, maxmemory-clients 64mb" timeout 20 bash -c '
        trap "" PIPE
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "*2\r\n\$4\r\nECHO\r\n\$536870912\r\n" >&3
        sleep 0.3
        head -c 100000 /dev/zero >&3 2>/dev/null
        timeout 5 cat <&3 >/dev/null 2>&1
        if [ $? -eq 124 ]; then echo open; else echo closed; fi
    ' probe "$port"
    rss_bounded "bulk of 512mb announced" "$agent_pid" "$before"
    expect_eq "bulk of 512mb announced: counted in evicted_clients" "$((evicted + 1))" \
        "$(info_field "$port" stats evicted_clients)"
    rcli "$port" config set maxmemory-clients 0 >/dev/null
}

# ------------------------------------------------------------ maxclients
# refusals <port>: open 12 connections to a server with maxclients 5 (the
# first 5 stay open); print how many got the refusal, then PING on the first.
refusals() {
    local n=0 i fd line pong fds=()
    for i in $(seq 1 12); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$1" || continue
        fds+=("$fd")
        line=""
        IFS= read -r -t 0.5 -u "$fd" line || true
        [ "$line" = $'-ERR max number of clients reached\r' ] && n=$((n + 1))
    done
    printf 'PING\r\n' >&"${fds[0]}"
    pong=""
    IFS= read -r -t 5 -u "${fds[0]}" pong || true
    for fd in "${fds[@]}"; do exec {fd}>&-; done
    echo "refused=$n first=${pong%$'\r'}"
}

test_maxclients() {
    local ap rp apid rpid a r
    ap=$(free_port) && start_agent "$ap" --save "" --maxclients 5 || { fail "agent with maxclients 5 starts"; return; }
    apid=$LAST_PID
    rp=$(free_port) && start_redis "$rp" --maxclients 5 || { fail "redis with maxclients 5 starts"; return; }
    rpid=$LAST_PID
    local before
    before=$(rss_kb "$apid")
    a="$(refusals "$ap")"
    r="$(refusals "$rp")"
    expect_eq "maxclients 5, 12 connections: 7 refused, the first served" "refused=7 first=+PONG" "$a"
    expect_eq "maxclients: same refusals as redis-server" "$r" "$a"
    sleep 0.2
    expect_eq "maxclients: INFO rejected_connections like redis-server" \
        "$(info_field "$rp" stats rejected_connections)" "$(info_field "$ap" stats rejected_connections)"
    rss_bounded "maxclients" "$apid" "$before"
    stop_pid "$apid"
    stop_pid "$rpid"
}

# ------------------------------------------------------------ client eviction
# eviction_scenario <port>: clients A (NO-EVICT), B, C, E hold query buffers
# of 7, 3, 0.9 and 2 MB (a bulk announced and partly sent reserves its
# whole length, in Redis and in the agent alike); maxmemory-clients 12mb
# (12.58 MB): B, the biggest evictable, must go once E arrives.
# Prints the names left connected and the evicted_clients count.
eviction_scenario() {
    local p="$1" n fd
    rcli "$p" config set maxmemory-clients 12mb >/dev/null
    declare -A fds
    for n in A B C E; do
        exec {fd}<>"/dev/tcp/127.0.0.1/$p" || return 1
        fds[$n]=$fd
        printf 'CLIENT SETNAME %s\r\n' "$n" >&"$fd"
        IFS= read -r -t 5 -u "$fd" _
    done
    printf 'CLIENT NO-EVICT on\r\n' >&"${fds[A]}"
    IFS= read -r -t 5 -u "${fds[A]}" _
    # grow <name> <announced length>: header first, then a few bytes, so the
    # second read finds the announced length and reserves it.
    grow() {
        printf '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%s\r\n' "$2" >&"${fds[$1]}"
        sleep 0.3
        printf 'xxxxxxxxxx' >&"${fds[$1]}"
        sleep 0.3
    }
    grow A 7000000
    grow B 3000000
    grow C 900000
    grow E 2000000
    sleep 0.3
    rcli "$p" client list | tr -d '\r' | sed -n 's/.* name=\([A-Z]\) .*/\1/p' | sort | tr -d '\n'
    printf ' evicted=%s' "$(info_field "$p" stats evicted_clients)"
    for n in A B C E; do exec {fds[$n]}>&-; done
    rcli "$p" config set maxmemory-clients 0 >/dev/null
}

test_client_eviction() {
    local ap apid adir a r mark
    ap=$(free_port) && start_agent "$ap" --save "" || { fail "agent for client eviction starts"; return; }
    apid=$LAST_PID
    adir=$LAST_DIR
    mark=$(log_lines "$adir")
    a="$(eviction_scenario "$ap")"
    r="$(eviction_scenario "$rport")"
    expect_eq "maxmemory-clients: the biggest evictable client (B) goes, NO-EVICT A spared" \
        "ACE evicted=1" "$a"
    expect_eq "maxmemory-clients: same survivors and count as redis-server" "$r" "$a"
    sleep 0.2
    expect_match "maxmemory-clients: eviction logged with the client's name" "Evicting client: id=[0-9]+ .*name=B" \
        "$(log_since "$adir" "$mark")"
    expect_match "CLIENT NO-EVICT on: flag e in CLIENT INFO" "flags=e " \
        "$(printf 'CLIENT NO-EVICT on\r\nCLIENT INFO\r\n' | timeout 5 redis-cli -h 127.0.0.1 -p "$ap" 2>&1)"
    stop_pid "$apid"
}

# ------------------------------------------------------------ configuration
test_config() {
    same_as_redis "maxmemory-clients CONFIG SET/GET: bytes, percentages, errors like redis-server" \
        'CONFIG GET maxmemory-clients
CONFIG SET maxmemory-clients 10%
CONFIG GET maxmemory-clients
CONFIG SET maxmemory-clients 100%
CONFIG SET maxmemory-clients 101%
CONFIG SET maxmemory-clients -1
CONFIG SET maxmemory-clients abc
CONFIG SET maxmemory-clients 5mb
CONFIG GET maxmemory-clients
CONFIG SET maxmemory-clients 0%
CONFIG GET maxmemory-clients
CONFIG SET maxmemory-clients 0
CLIENT NO-EVICT on
CLIENT NO-EVICT OFF
CLIENT NO-EVICT maybe
CLIENT NO-EVICT
CLIENT NO-EVICT on off'
    local cp cpid
    cp=$(free_port) && start_agent "$cp" --save "" --maxmemory 100mb --maxmemory-clients 10% ||
        { fail "agent starts with --maxmemory-clients 10%"; return; }
    cpid=$LAST_PID
    expect_eq "config file / command line: maxmemory-clients 10%" "maxmemory-clients 10%" \
        "$(rcli "$cp" config get maxmemory-clients | tr '\n' ' ' | sed 's/ $//')"
    stop_pid "$cpid"
}

test_config
test_runaway_reply
test_slow_reader
test_protocol_lengths
test_maxclients
test_client_eviction
check "agent still alive after the whole suite" kill -0 "$agent_pid"
check "redis-server still alive after the whole suite" kill -0 "$redis_pid"
finish
