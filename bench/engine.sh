#!/usr/bin/env bash
# bench/engine.sh: kvfleet-agent against Debian's redis-server 7.0, side by
# side on loopback with no persistence.
#  1. throughput: redis-benchmark -q -n N -r 100000 -c 50 over
#     set,get,incr,lpush,rpop,sadd,hset,zadd,mset, once with -P 1 and once
#     with -P 16, against each server; a table of ops/s and kvfleet/redis.
#     This VM's speed drifts by tens of percent from minute to minute, so
#     the two servers are measured in alternation, BENCH_ROUNDS times each
#     (redis, kvfleet, redis, kvfleet, ...), and the table shows the median
#     of each plus how many rounds kvfleet won. With two or more CPUs the
#     servers share CPU 1 and redis-benchmark runs on CPU 0, so neither
#     server competes with the load generator for a core.
#  2. memory: 1,000,000 keys (key:000000..999999) of 100-byte values loaded
#     with redis-cli --pipe into each; RSS (VmRSS) and INFO used_memory with
#     the kvfleet/redis ratio. Before it, on the fresh servers, one list of
#     BENCH_LIST_N (default 1,000,000) 10-byte elements RPUSHed: used_memory
#     and RSS growth, and used_memory per element.
#  3. scripting: redis-benchmark -n BENCH_SCRIPT_N -P 16 of SCRIPT LOAD and of
#     EVALSHA of a small script (one SET), alternating rounds as above.
#  4. AOF: both servers restarted with appendonly yes (fresh directories),
#     SET at -P 1 and -P 16 with appendfsync everysec, then always.
#  5. streams: XADD s * f v throughput at -P 16 (BENCH_STREAM_N requests,
#     alternating rounds as above), then memory for BENCH_STREAM_ENTRIES
#     (default 1,000,000) entries "XADD s * field value" loaded with
#     redis-cli --pipe: used_memory growth and per entry, RSS growth.
# Env: BENCH_PARTS (comma list of throughput,memory,scripting,streams,aof;
# default all), BENCH_N (requests per test, default 1000000), BENCH_ROUNDS
# (default 3), BENCH_KEYS (keys for the memory test, default 1000000),
# BENCH_SCRIPT_N (default 200000), BENCH_STREAM_N (default 200000),
# BENCH_TESTS (the throughput tests, default set,get,incr,lpush,rpop,sadd,hset,zadd,mset),
# BENCH_AOF_N (default 200000), KVFLEET_AGENT
# (binary to compare; default bin/kvfleet-agent; use redis-server to compare
# two Redis instances).

. "$(dirname "$0")/lib.sh"

N="${BENCH_N:-1000000}"
ROUNDS="${BENCH_ROUNDS:-3}"
KEYS="${BENCH_KEYS:-1000000}"
TESTS="${BENCH_TESTS:-set,get,incr,lpush,rpop,sadd,hset,zadd,mset}"
PARTS="${BENCH_PARTS:-throughput,memory,scripting,streams,aof}"
SCRIPT_N="${BENCH_SCRIPT_N:-200000}"
AOF_N="${BENCH_AOF_N:-200000}"

# part <name>: whether BENCH_PARTS selects this part
part() {
    case ",$PARTS," in *",$1,"*) return 0 ;; esac
    return 1
}

command -v redis-benchmark >/dev/null || { echo "redis-benchmark is not installed" >&2; exit 1; }
need_redis

rport=$(free_port) && start_redis "$rport" || { echo "redis-server did not start" >&2; exit 1; }
rpid=$LAST_PID
aport=$(free_port) && start_agent "$aport" --save "" --appendonly no || {
    echo "kvfleet-agent ($KVFLEET_AGENT) did not start" >&2
    exit 1
}
apid=$LAST_PID
echo "redis-server   $(redis-server --version | awk '{print $3}') pid $rpid port $rport"
echo "kvfleet-agent  $KVFLEET_AGENT pid $apid port $aport"
echo "requests per test: $N, clients: 50, random keyspace: 100000"

# ------------------------------------------------------------ throughput
BENCH_PIN=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    taskset -pc 1 "$rpid" >/dev/null && taskset -pc 1 "$apid" >/dev/null && BENCH_PIN=(taskset -c 0)
fi
echo "rounds: $ROUNDS (alternating), pinned: $([ ${#BENCH_PIN[@]} -gt 0 ] && echo 'servers on CPU 1, redis-benchmark on CPU 0' || echo no)"

# median of the numbers on stdin
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A rate
for pipe in 1 16; do
    part throughput || break
    for round in $(seq 1 "$ROUNDS"); do
        for side in redis agent; do
            port=$rport
            [ "$side" = agent ] && port=$aport
            rcli "$port" flushall >/dev/null
            echo "-P $pipe round $round/$ROUNDS: $side..." >&2
            while read -r name ops; do
                rate["$side,$pipe,$name"]+="$ops "
            done < <(BENCH_RUN_PREFIX="${BENCH_PIN[*]}" bench_rates "$port" "$pipe" "$N" "$TESTS")
        done
    done
done

# cell <side> <pipe> <test>: the median rate over the rounds
cell() {
    tr ' ' '\n' <<<"${rate["$1,$2,$3"]:-}" | grep . | median
}

# wins <pipe> <test>: rounds in which kvfleet beat the redis run just before it
wins() {
    local -a r=(${rate["redis,$1,$2"]:-}) a=(${rate["agent,$1,$2"]:-})
    local i w=0
    for i in "${!a[@]}"; do
        awk -v a="${a[$i]}" -v r="${r[$i]:-0}" 'BEGIN { exit !(a > r) }' && w=$((w + 1))
    done
    echo "$w/${#a[@]}"
}

if part throughput; then
echo
echo "ops/s, median of $ROUNDS alternating rounds; wins = rounds in which kvfleet was faster"
printf '%-14s %11s %11s %6s %5s   %11s %11s %6s %5s\n' "test" "redis -P1" "kvfleet" "ratio" "wins" "redis -P16" "kvfleet" "ratio" "wins"
for name in SET GET INCR LPUSH RPOP SADD HSET ZADD "MSET(10keys)"; do
    r1=$(cell redis 1 "$name") a1=$(cell agent 1 "$name")
    r16=$(cell redis 16 "$name") a16=$(cell agent 16 "$name")
    printf '%-14s %11s %11s %6s %5s   %11s %11s %6s %5s\n' "$name" "${r1:--}" "${a1:--}" "$(ratio "$a1" "$r1")" "$(wins 1 "$name")" \
        "${r16:--}" "${a16:--}" "$(ratio "$a16" "$r16")" "$(wins 16 "$name")"
done
fi

# ------------------------------------------------------------ memory
# mem_row <label> <field>: one memory table row, redis beside kvfleet.
mem_row() {
    printf '%-28s %14s %14s %7s\n' "$1" "${mem[redis,$2]}" "${mem[agent,$2]}" "$(ratio "${mem[agent,$2]}" "${mem[redis,$2]}")"
}
if part memory; then
declare -A mem
# The list row, first, on fresh servers so RSS growth means something:
# one list of LIST_N elements of 10 bytes (e000000000..,
# not integers, so neither side stores them as numbers), RPUSHed 100 per
# command; used_memory and RSS growth over the empty server, per element.
LIST_N="${BENCH_LIST_N:-1000000}"
load_list() {
    local port="$1" count="$2"
    awk -v n="$count" 'BEGIN {
        for (i = 0; i < n; i += 100) {
            m = (n - i < 100) ? n - i : 100
            printf "*%d\r\n$5\r\nRPUSH\r\n$6\r\nmylist\r\n", m + 2
            for (j = 0; j < m; j++)
                printf "$10\r\ne%09d\r\n", i + j
        }
    }' | redis-cli -h 127.0.0.1 -p "$port" --pipe >/dev/null
}
echo "loading one list of $LIST_N elements of 10 bytes into each server..." >&2
for side in redis agent; do
    port=$rport pid=$rpid
    [ "$side" = agent ] && port=$aport pid=$apid
    rcli "$port" flushall >/dev/null
    mem["$side,lused0"]=$(used_memory "$port")
    mem["$side,lrss0"]=$(rss_kb "$pid")
    load_list "$port" "$LIST_N"
    mem["$side,llen"]=$(rcli "$port" llen mylist)
    mem["$side,lused"]=$(( $(used_memory "$port") - ${mem["$side,lused0"]} ))
    mem["$side,lrss"]=$(( ($(rss_kb "$pid") - ${mem["$side,lrss0"]}) * 1024 ))
    mem["$side,lper"]=$(awk -v b="${mem["$side,lused"]}" -v n="$LIST_N" 'BEGIN { printf "%.2f", b / n }')
done
echo
printf '%-28s %14s %14s %7s\n' "memory, list of $LIST_N x 10 B" "redis" "kvfleet" "ratio"
mem_row "LLEN" llen
mem_row "used_memory growth (bytes)" lused
mem_row "used_memory per element" lper
mem_row "RSS growth (bytes)" lrss
[ "${mem[redis,llen]}" = "$LIST_N" ] && [ "${mem[agent,llen]}" = "$LIST_N" ] || {
    echo "warning: LLEN differs from $LIST_N elements pushed" >&2
    exit 1
}

echo
echo "loading $KEYS keys of 100 bytes into each server..." >&2
for side in redis agent; do
    port=$rport pid=$rpid
    [ "$side" = agent ] && port=$aport pid=$apid
    rcli "$port" flushall >/dev/null
    mem["$side,rss0"]=$(rss_kb "$pid")
    load_keys "$port" "$KEYS" 100
    mem["$side,keys"]=$(rcli "$port" dbsize)
    mem["$side,rss"]=$(rss_kb "$pid")
    mem["$side,used"]=$(used_memory "$port")
done
printf '%-28s %14s %14s %7s\n' "memory, $KEYS keys x 100 B" "redis" "kvfleet" "ratio"
mem_row "DBSIZE" keys
mem_row "RSS before load (kB)" rss0
mem_row "RSS after load (kB)" rss
mem_row "used_memory (bytes)" used
[ "${mem[redis,keys]}" = "$KEYS" ] && [ "${mem[agent,keys]}" = "$KEYS" ] || {
    echo "warning: DBSIZE differs from $KEYS keys loaded" >&2
    exit 1
}

fi

# ------------------------------------------------------------ scripting
# cmd_rate <port> <pipe> <requests> <command...>: ops/s of one command
# given to redis-benchmark (the same for every request).
cmd_rate() {
    local port="$1" pipe="$2" n="$3"
    shift 3
    ${BENCH_RUN_PREFIX:-} redis-benchmark -h 127.0.0.1 -p "$port" -q -n "$n" -r 100000 -c 50 -P "$pipe" "$@" 2>/dev/null |
        tr '\r' '\n' | grep 'requests per second' | tail -n 1 |
        sed -E 's/^.*: ([0-9.]+) requests per second.*/\1/'
}

# alternate <label> <pipe> <n> <command...>: ROUNDS alternating runs of one
# command on both servers; prints one table row.
alternate() {
    local label="$1" pipe="$2" n="$3" round side port r a rs="" as="" w=0
    shift 3
    for round in $(seq 1 "$ROUNDS"); do
        r=$(cmd_rate "$rport" "$pipe" "$n" "$@")
        a=$(cmd_rate "$aport" "$pipe" "$n" "$@")
        rs+="$r " as+="$a "
        awk -v a="${a:-0}" -v r="${r:-0}" 'BEGIN { exit !(a > r) }' && w=$((w + 1))
    done
    r=$(tr ' ' '\n' <<<"$rs" | grep . | median) a=$(tr ' ' '\n' <<<"$as" | grep . | median)
    printf '%-34s %11s %11s %6s %5s\n' "$label" "${r:--}" "${a:--}" "$(ratio "$a" "$r")" "$w/$ROUNDS"
}

if part scripting; then
    script="redis.call('set','foo','bar')"
    sha=$(rcli "$rport" script load "$script")
    asha=$(rcli "$aport" script load "$script")
    echo
    if [ "$sha" != "$asha" ]; then
        echo "scripting: SCRIPT LOAD differs (redis $sha, kvfleet $asha); skipped"
    else
        echo "scripting, -P 16, $SCRIPT_N requests, median of $ROUNDS alternating rounds"
        printf '%-34s %11s %11s %6s %5s\n' "command" "redis" "kvfleet" "ratio" "wins"
        alternate "SCRIPT LOAD" 16 "$SCRIPT_N" script load "$script"
        alternate "EVALSHA (one SET)" 16 "$SCRIPT_N" evalsha "$sha" 0
    fi
fi

# ------------------------------------------------------------ streams
# load_stream <port> <count>: XADD s * field value, 100 per pipe chunk.
load_stream() {
    awk -v n="$2" 'BEGIN {
        for (i = 0; i < n; i++)
            printf "*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$5\r\nfield\r\n$5\r\nvalue\r\n"
    }' | redis-cli -h 127.0.0.1 -p "$1" --pipe >/dev/null
}

if part streams; then
    STREAM_N="${BENCH_STREAM_N:-200000}"
    STREAM_ENTRIES="${BENCH_STREAM_ENTRIES:-1000000}"
    echo
    echo "streams, -P 16, $STREAM_N requests, median of $ROUNDS alternating rounds"
    printf '%-34s %11s %11s %6s %5s\n' "command" "redis" "kvfleet" "ratio" "wins"
    rcli "$rport" del s >/dev/null
    rcli "$aport" del s >/dev/null
    alternate "XADD s * f v" 16 "$STREAM_N" xadd s '*' f v
    declare -A mem
    echo "loading a stream of $STREAM_ENTRIES entries into each server..." >&2
    for side in redis agent; do
        port=$rport pid=$rpid
        [ "$side" = agent ] && port=$aport pid=$apid
        rcli "$port" flushall >/dev/null
        mem["$side,sused0"]=$(used_memory "$port")
        mem["$side,srss0"]=$(rss_kb "$pid")
        load_stream "$port" "$STREAM_ENTRIES"
        mem["$side,slen"]=$(rcli "$port" xlen s)
        mem["$side,sused"]=$(( $(used_memory "$port") - ${mem["$side,sused0"]} ))
        mem["$side,srss"]=$(( ($(rss_kb "$pid") - ${mem["$side,srss0"]}) * 1024 ))
        mem["$side,sper"]=$(awk -v b="${mem["$side,sused"]}" -v n="$STREAM_ENTRIES" 'BEGIN { printf "%.2f", b / n }')
    done
    echo
    printf '%-28s %14s %14s %7s\n' "memory, stream of $STREAM_ENTRIES" "redis" "kvfleet" "ratio"
    mem_row "XLEN" slen
    mem_row "used_memory growth (bytes)" sused
    mem_row "used_memory per entry" sper
    mem_row "RSS growth (bytes)" srss
    [ "${mem[redis,slen]}" = "$STREAM_ENTRIES" ] && [ "${mem[agent,slen]}" = "$STREAM_ENTRIES" ] ||
        echo "warning: XLEN differs from $STREAM_ENTRIES entries added" >&2
fi

# ------------------------------------------------------------ AOF
# restart_pair <args...>: both servers restarted in fresh directories with
# the given extra arguments (rport/aport/rpid/apid updated).
restart_pair() {
    stop_pid "$rpid"
    stop_pid "$apid"
    rport=$(free_port) && start_redis "$rport" "$@" || { echo "redis-server did not start" >&2; exit 1; }
    rpid=$LAST_PID
    aport=$(free_port) && start_agent "$aport" --save "" "$@" || { echo "kvfleet-agent did not start" >&2; exit 1; }
    apid=$LAST_PID
    if [ ${#BENCH_PIN[@]} -gt 0 ]; then
        taskset -pc 1 "$rpid" >/dev/null
        taskset -pc 1 "$apid" >/dev/null
    fi
}

if part aof; then
    echo
    echo "AOF: SET, $AOF_N requests, random keyspace 100000, median of $ROUNDS alternating rounds"
    printf '%-34s %11s %11s %6s %5s\n' "appendfsync / pipeline" "redis" "kvfleet" "ratio" "wins"
    for fsync in everysec always; do
        restart_pair --appendonly yes --appendfsync "$fsync"
        for pipe in 1 16; do
            alternate "SET $fsync -P $pipe" "$pipe" "$AOF_N" set "key:__rand_int__" "xxxxxxxxxxxxxxxxxxxx"
        done
    done
fi
