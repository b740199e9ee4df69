#!/usr/bin/env bash
# bench/replication.sh: replication cost of kvfleet-agent against Debian's
# redis-server 7.0, side by side in the same run, each replicating to its
# own kind (agent -> agent, redis -> redis), with the same settings.
#
#   1. Full sync: a master holding KEYS keys (default 1,000,000) of
#      VALUE_SIZE-byte values (default 100); time from REPLICAOF on a fresh
#      replica to master_link_status:up, for disk-based and diskless
#      (repl-diskless-sync-delay 0) transfers.
#   2. Throughput: redis-benchmark SET -P 16 against the master with no
#      replica, then with two replicas attached; the fraction kept.
#   3. Lag during that load: master_repl_offset minus the replica's offset,
#      sampled every 10 ms over two persistent connections; p50, p99, max.
#
# Targets: full-sync time ratio agent/redis <= 1.0; throughput fraction
# >= redis'; lag p99 <= redis'. Exit 0 when all are met, 1 otherwise, 2 when
# the run failed. Env: KVFLEET_BIN, KEYS, VALUE_SIZE, REQUESTS (SET load,
# default 2,000,000), KEEP_TMP=1 keeps logs.
set -u
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
need_redis
command -v python3 >/dev/null 2>&1 || { echo "python3 is needed for the lag sampler"; exit 2; }
KEYS="${KEYS:-1000000}"
VALUE_SIZE="${VALUE_SIZE:-100}"
REQUESTS="${REQUESTS:-2000000}"

# link_up_after <replica-port> <master-port>: seconds from REPLICAOF to
# master_link_status:up, polled on one connection every 10 ms.
link_up_after() {
    local r="$1" m="$2" t0 t1
    t0=$(date +%s%N)
    rcli "$r" replicaof 127.0.0.1 "$m" >/dev/null
    timeout 600 redis-cli -h 127.0.0.1 -p "$r" -r 100000000 -i 0.01 info replication 2>/dev/null |
        grep -m1 -q 'master_link_status:up'
    t1=$(date +%s%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", (b - a) / 1e9 }'
}

# set_rate <port>: SET -P 16 requests per second.
set_rate() {
    redis-benchmark -h 127.0.0.1 -p "$1" -q -n "$REQUESTS" -r 1000000 -c 50 -P 16 -d "$VALUE_SIZE" -t set 2>/dev/null |
        tr '\r' '\n' | grep 'requests per second' | sed -E 's/^[^:]+: ([0-9.]+) requests.*/\1/' | tail -1
}

# cpu_ticks <pid>: user+system clock ticks used so far. The load machine
# may be shared, so CPU per operation is shown next to the rates.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
cpu_us_per_op() {
    awk -v t="$1" -v n="$REQUESTS" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f\n", t / hz * 1e6 / n }'
}

# The lag sampler: INFO replication from master then replica, every 10 ms,
# until the stop file appears; prints "p50 p99 max" in bytes.
SAMPLER='
import socket, sys, time, os
def conn(port):
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(5); return [s, b""]
def info(c):
    c[0].sendall(b"*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n")
    while True:
        if c[1].startswith(b"$") and b"\r\n" in c[1]:
            hdr, rest = c[1].split(b"\r\n", 1); n = int(hdr[1:])
            if len(rest) >= n + 2:
                c[1] = rest[n + 2:]; return rest[:n].decode()
        c[1] += c[0].recv(65536)
def field(text, name):
    for line in text.split("\r\n"):
        if line.startswith(name + ":"): return int(line.split(":", 1)[1])
    return None
m, r = conn(int(sys.argv[1])), conn(int(sys.argv[2])); stop = sys.argv[3]; lags = []
while not os.path.exists(stop):
    mo = field(info(m), "master_repl_offset"); ro = field(info(r), "master_repl_offset")
    if mo is not None and ro is not None: lags.append(max(0, mo - ro))
    time.sleep(0.01)
lags.sort()
if not lags: print("0 0 0"); sys.exit(0)
pick = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))]
print(pick(0.50), pick(0.99), lags[-1], len(lags))
'

# run_kind <agent|redis>: prints "disk_s diskless_s rate0 rate2 fraction p50 p99 max".
run_kind() {
    local kind="$1" start pm pr1 pr2 pr3 d1 d2 r0 r2 lag stop
    if [ "$kind" = agent ]; then start=start_agent; else start=start_redis; fi
    pm=$(free_port) && pr1=$(free_port) && pr2=$(free_port) && pr3=$(free_port) || return 1
    local opts=(--save "" --repl-diskless-sync no --repl-diskless-sync-delay 0 --appendonly no)
    "$start" "$pm" "${opts[@]}" >/dev/null || return 1
    local pid_m=$LAST_PID
    load_keys "$pm" "$KEYS" "$VALUE_SIZE"
    "$start" "$pr1" "${opts[@]}" >/dev/null || return 1
    d1=$(link_up_after "$pr1" "$pm")
    rcli "$pm" config set repl-diskless-sync yes >/dev/null
    "$start" "$pr2" "${opts[@]}" >/dev/null || return 1
    d2=$(link_up_after "$pr2" "$pm")
    # throughput with no replica: a fresh master of the same kind
    "$start" "$pr3" "${opts[@]}" >/dev/null || return 1
    local pid_3=$LAST_PID c0 c1 c2 c3
    c0=$(cpu_ticks "$pid_3")
    r0=$(set_rate "$pr3")
    c1=$(cpu_ticks "$pid_3")
    stop="$LIB_TMP/stop-$kind"
    python3 -c "$SAMPLER" "$pm" "$pr1" "$stop" >"$LIB_TMP/lag-$kind" &
    local sp=$!
    c2=$(cpu_ticks "$pid_m")
    r2=$(set_rate "$pm")
    c3=$(cpu_ticks "$pid_m")
    touch "$stop"
    wait "$sp"
    lag="$(cat "$LIB_TMP/lag-$kind")"
    echo "$d1 $d2 $r0 $r2 $(ratio "$r2" "$r0") $(cpu_us_per_op $((c1 - c0))) $(cpu_us_per_op $((c3 - c2))) $lag"
    # run_kind runs in a $( ) subshell, whose pids the parent's EXIT trap
    # never learns: stop this run's servers here, by pid.
    local p
    for p in "${LIB_PIDS[@]}"; do stop_pid "$p"; done
}

echo "# keys=$KEYS value=${VALUE_SIZE}B load=SET -P 16 x $REQUESTS"
A="$(run_kind agent)" || { echo "agent run failed"; exit 2; }
R="$(run_kind redis)" || { echo "redis run failed"; exit 2; }
read -r ad1 ad2 ar0 ar2 afr acpu0 acpu2 ap50 ap99 amax an <<<"$A"
read -r rd1 rd2 rr0 rr2 rfr rcpu0 rcpu2 rp50 rp99 rmax rn <<<"$R"
printf '%-34s %14s %14s %8s\n' metric kvfleet redis ratio
printf '%-34s %14s %14s %8s\n' "full sync, disk (s)" "$ad1" "$rd1" "$(ratio "$ad1" "$rd1")"
printf '%-34s %14s %14s %8s\n' "full sync, diskless (s)" "$ad2" "$rd2" "$(ratio "$ad2" "$rd2")"
printf '%-34s %14s %14s %8s\n' "SET -P16 rps, no replica" "$ar0" "$rr0" "$(ratio "$ar0" "$rr0")"
printf '%-34s %14s %14s %8s\n' "SET -P16 rps, 2 replicas" "$ar2" "$rr2" "$(ratio "$ar2" "$rr2")"
printf '%-34s %14s %14s\n' "throughput fraction kept" "$afr" "$rfr"
printf '%-34s %14s %14s %8s\n' "master CPU us/SET, no replica" "$acpu0" "$rcpu0" "$(ratio "$acpu0" "$rcpu0")"
printf '%-34s %14s %14s %8s\n' "master CPU us/SET, 2 replicas" "$acpu2" "$rcpu2" "$(ratio "$acpu2" "$rcpu2")"
printf '%-34s %14s %14s\n' "lag p50 (bytes)" "$ap50" "$rp50"
printf '%-34s %14s %14s\n' "lag p99 (bytes)" "$ap99" "$rp99"
printf '%-34s %14s %14s\n' "lag max (bytes)" "$amax" "$rmax"
printf '%-34s %14s %14s\n' "lag samples" "$an" "$rn"
ok=1
awk -v a="$ad1" -v b="$rd1" 'BEGIN { exit !(a <= b) }' || { echo "MISS: disk full-sync time ratio > 1.0"; ok=0; }
awk -v a="$ad2" -v b="$rd2" 'BEGIN { exit !(a <= b) }' || { echo "MISS: diskless full-sync time ratio > 1.0"; ok=0; }
awk -v a="$afr" -v b="$rfr" 'BEGIN { exit !(a >= b) }' || { echo "MISS: throughput fraction below redis'"; ok=0; }
awk -v a="$ap99" -v b="$rp99" 'BEGIN { exit !(a <= b) }' || { echo "MISS: lag p99 above redis'"; ok=0; }
[ "$ok" = 1 ] && echo "all targets met"
[ "$ok" = 1 ]
