#!/usr/bin/env bash
# bench/rdb.sh: RDB save/load cost of kvfleet-agent against Debian's
# redis-server 7.0, in the same run on the same data.
#
# Data: KEYS keys (default 1,000,000), mixed types: 60% strings, 10% each
# lists, hashes, sets and sorted sets of ELEMS elements (default 4); every
# value / element is VALUE_SIZE (default 100) random alphanumeric bytes.
# Both servers receive the identical RESP stream (redis-cli --pipe).
#
# Measured for each server: SAVE wall time (best of RUNS, default 3), file
# size, and load-at-start time ("DB loaded from disk" as each server logs
# it; wall time until PING answers is shown too). Prints a table and the
# ratios agent/redis (plus the CPU time each used, which other load on the
# machine disturbs less than wall time), and checks them against the targets: save and load
# time ratios <= 1.0, size ratio <= 1.05. Exit 0 when all targets are met,
# 1 otherwise, 2 when the run itself failed.
#
# Env: KVFLEET_BIN (default bin/), KEYS, ELEMS, VALUE_SIZE, RUNS, BENCH_DIR
# (default a temp dir, removed at the end unless KEEP=1).
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
AGENT="${KVFLEET_BIN:-$root/bin}/kvfleet-agent"
KEYS="${KEYS:-1000000}"
ELEMS="${ELEMS:-4}"
VALUE_SIZE="${VALUE_SIZE:-100}"
RUNS="${RUNS:-3}"
WORK="${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/kvfleet-rdb-bench.XXXXXX")}"
mkdir -p "$WORK"
PIDS=()

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

die() { echo "rdb bench: $*" >&2; exit 2; }
[ -x "$AGENT" ] || die "agent binary $AGENT missing (run make)"
command -v redis-server >/dev/null || die "redis-server not installed"

free_port() {
    local p
    for _ in $(seq 1 100); do
        p=$((20000 + RANDOM % 30000))
        ss -Htan "( sport = :$p )" 2>/dev/null | grep -q . || { echo "$p"; return; }
    done
    die "no free port"
}

now_ns() { date +%s%N; }

# start <name> <port> <binary>: in $WORK/<name>, no save points.
start() {
    local name="$1" port="$2" bin="$3" i
    mkdir -p "$WORK/$name"
    (cd "$WORK/$name" && exec "$bin" --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$WORK/$name" >"$WORK/$name/log" 2>&1 </dev/null) &
    PIDS+=($!)
    START_PID=$!
    for i in $(seq 1 6000); do   # up to 600 s (a large load)
        [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && return 0
        kill -0 "$START_PID" 2>/dev/null || die "$name exited during start-up: $(tail -3 "$WORK/$name/log")"
        sleep 0.1
    done
    die "$name did not answer PING"
}

stop() {
    local pid="$1" port="$2"
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

# ------------------------------------------------------------ data set
echo "# generating $KEYS keys (60% strings, 40% list/hash/set/zset x $ELEMS), ${VALUE_SIZE}-byte values"
python3 - "$KEYS" "$ELEMS" "$VALUE_SIZE" >"$WORK/data.resp" <<'EOF' || die "data generation failed"
import os, random, sys
keys, elems, vsize = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(12345)
alpha = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
pool = bytes(rnd.choice(alpha) for _ in range(1 << 20))
out = sys.stdout.buffer
def val(i):
    o = (i * 7919) % (len(pool) - vsize)
    return pool[o:o + vsize]
def cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str): a = a.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)
buf = []
n = 0
for k in range(keys):
    kind = k % 10
    if kind < 6:
        buf.append(cmd("SET", "key:%d" % k, val(n))); n += 1
    elif kind == 6:
        buf.append(cmd("RPUSH", "list:%d" % k, *[val(n + j) for j in range(elems)])); n += elems
    elif kind == 7:
        a = ["HSET", "hash:%d" % k]
        for j in range(elems): a += ["f%d" % j, val(n + j)]
        buf.append(cmd(*a)); n += elems
    elif kind == 8:
        buf.append(cmd("SADD", "set:%d" % k, *[val(n + j) for j in range(elems)])); n += elems
    else:
        a = ["ZADD", "zset:%d" % k]
        for j in range(elems): a += ["%d" % (rnd.randrange(1000000)), val(n + j)]
        buf.append(cmd(*a)); n += elems
    if len(buf) >= 10000:
        out.write(b"".join(buf)); buf = []
out.write(b"".join(buf))
EOF
echo "# data: $(du -h "$WORK/data.resp" | cut -f1) of RESP"

# The two servers run side by side and every measurement alternates
# between them (redis, agent, redis, agent, ...), so background load on the
# machine hits both alike; the best of RUNS is kept for each.
declare -A PORT PID BIN DIR
BIN[redis]=redis-server
BIN[agent]="$AGENT"

min_of() { local best= v; for v in "$@"; do if [ -z "$best" ] || awk -v a="$v" -v b="$best" 'BEGIN{exit !(a < b)}'; then best=$v; fi; done; echo "$best"; }

for name in redis agent; do
    PORT[$name]=$(free_port)
    start "$name" "${PORT[$name]}" "${BIN[$name]}"
    PID[$name]=$START_PID
    redis-cli -p "${PORT[$name]}" --pipe <"$WORK/data.resp" >"$WORK/$name.pipe.log" 2>&1 ||
        die "$name: loading data failed: $(tail -2 "$WORK/$name.pipe.log")"
    n=$(redis-cli -p "${PORT[$name]}" dbsize)
    [ "$n" = "$KEYS" ] || die "$name: dbsize $n, expected $KEYS"
done

# CPU seconds (user+system) a process has used: less sensitive than wall
# time to other load on the machine, so it is reported alongside.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat"; }

declare -A SAVES LOADS READIES SAVECPU LOADCPU
for i in $(seq 1 "$RUNS"); do
    for name in redis agent; do
        c0=$(cpu_s "${PID[$name]}")
        t0=$(now_ns)
        [ "$(redis-cli -p "${PORT[$name]}" save)" = OK ] || die "$name: SAVE failed"
        t1=$(now_ns)
        c1=$(cpu_s "${PID[$name]}")
        SAVES[$name]="${SAVES[$name]:-} $(awk -v n="$((t1 - t0))" 'BEGIN{printf "%.3f", n/1e9}')"
        SAVECPU[$name]="${SAVECPU[$name]:-} $(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.3f", b - a}')"
    done
done
R_SIZE=$(stat -c %s "$WORK/redis/dump.rdb")
A_SIZE=$(stat -c %s "$WORK/agent/dump.rdb")

for i in $(seq 1 "$RUNS"); do
    for name in redis agent; do
        stop "${PID[$name]}" "${PORT[$name]}"
        : >"$WORK/$name/log"
        t0=$(now_ns)
        start "$name" "${PORT[$name]}" "${BIN[$name]}"
        t1=$(now_ns)
        PID[$name]=$START_PID
        LOADCPU[$name]="${LOADCPU[$name]:-} $(cpu_s "$START_PID")"
        READIES[$name]="${READIES[$name]:-} $(awk -v n="$((t1 - t0))" 'BEGIN{printf "%.3f", n/1e9}')"
        l=$(sed -n 's/.*DB loaded from disk: \([0-9.]*\) seconds.*/\1/p' "$WORK/$name/log" | tail -1)
        [ -n "$l" ] || die "$name: no 'DB loaded from disk' line in its log"
        LOADS[$name]="${LOADS[$name]:-} $l"
        n=$(redis-cli -p "${PORT[$name]}" dbsize)
        [ "$n" = "$KEYS" ] || die "$name: $n keys after reload, expected $KEYS"
    done
done
echo "# SAVE runs (s):  redis${SAVES[redis]}   agent${SAVES[agent]}"
echo "# load runs (s):  redis${LOADS[redis]}   agent${LOADS[agent]}"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cpus"
R_SAVE=$(min_of ${SAVES[redis]}) A_SAVE=$(min_of ${SAVES[agent]})
R_LOAD=$(min_of ${LOADS[redis]}) A_LOAD=$(min_of ${LOADS[agent]})
R_READY=$(min_of ${READIES[redis]}) A_READY=$(min_of ${READIES[agent]})
R_SCPU=$(min_of ${SAVECPU[redis]}) A_SCPU=$(min_of ${SAVECPU[agent]})
R_LCPU=$(min_of ${LOADCPU[redis]}) A_LCPU=$(min_of ${LOADCPU[agent]})

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b == 0) print "inf"; else printf "%.3f", a/b }'; }
SAVE_R=$(ratio "$A_SAVE" "$R_SAVE")
LOAD_R=$(ratio "$A_LOAD" "$R_LOAD")
SIZE_R=$(ratio "$A_SIZE" "$R_SIZE")

printf '\n%-28s %14s %14s %8s %8s\n' "metric ($KEYS keys)" "redis-server" "kvfleet-agent" "ratio" "target"
printf '%-28s %14s %14s %8s %8s\n' "SAVE time (s, best of $RUNS)" "$R_SAVE" "$A_SAVE" "$SAVE_R" "<=1.0"
printf '%-28s %14s %14s %8s %8s\n' "load at start (s, logged, best)" "$R_LOAD" "$A_LOAD" "$LOAD_R" "<=1.0"
printf '%-28s %14s %14s %8s %8s\n' "start to PING (s, wall)" "$R_READY" "$A_READY" "$(ratio "$A_READY" "$R_READY")" "-"
printf '%-28s %14s %14s %8s %8s\n' "SAVE cpu (s, best)" "$R_SCPU" "$A_SCPU" "$(ratio "$A_SCPU" "$R_SCPU")" "-"
printf '%-28s %14s %14s %8s %8s\n' "start-up cpu (s, best)" "$R_LCPU" "$A_LCPU" "$(ratio "$A_LCPU" "$R_LCPU")" "-"
printf '%-28s %14s %14s %8s %8s\n' "file size (bytes)" "$R_SIZE" "$A_SIZE" "$SIZE_R" "<=1.05"

ok=1
awk -v r="$SAVE_R" 'BEGIN{exit !(r <= 1.0)}' || { echo "MISSED: save time ratio $SAVE_R > 1.0"; ok=0; }
awk -v r="$LOAD_R" 'BEGIN{exit !(r <= 1.0)}' || { echo "MISSED: load time ratio $LOAD_R > 1.0"; ok=0; }
awk -v r="$SIZE_R" 'BEGIN{exit !(r <= 1.05)}' || { echo "MISSED: size ratio $SIZE_R > 1.05"; ok=0; }
[ $ok = 1 ] && echo "all targets met"
[ $ok = 1 ]
