#!/usr/bin/env bash
# test_engine_lfu.sh: maxmemory-policy allkeys-lfu evicts the least
# frequently used keys, on redis-server 7.0 and on kvfleet-agent alike.
# 50 hot keys are read 30 times each, then (a second later, so that an LRU
# policy would see them as the oldest) 200 cold keys are read once; then the
# memory limit is set just above what is used and 150 new keys are written.
# Under LFU the hot keys survive (counters ~8-10 against 5-6); under LRU
# they would be the first to go. The same assertions run on both servers.

. "$(dirname "$0")/lib.sh"
need_redis

aport=$(free_port) && start_agent "$aport" --save "" --appendonly no || { fail "agent starts"; finish; }
apid=$LAST_PID
rport=$(free_port) && start_redis "$rport" || { fail "redis-server starts"; finish; }
rpid=$LAST_PID

val=$(printf 'v%.0s' $(seq 1 1000))
cmds="$LIB_TMP/lfu.cmds"

# run_phase <port> <file>: pipe commands, replies discarded.
run_phase() { rcli "$1" <"$2" >/dev/null; }

lfu_run() {
    local p="$1" used
    rcli "$p" config set maxmemory-policy allkeys-lfu >/dev/null
    rcli "$p" config set maxmemory 0 >/dev/null
    {
        for i in $(seq 0 49); do echo "SET hot:$i $val"; done
        for i in $(seq 0 199); do echo "SET cold:$i $val"; done
        for r in $(seq 1 30); do for i in $(seq 0 49); do echo "GET hot:$i"; done; done
    } >"$cmds"
    run_phase "$p" "$cmds"
    sleep 1.1
    for i in $(seq 0 199); do echo "GET cold:$i"; done >"$cmds"
    run_phase "$p" "$cmds"
    used=$(rcli "$p" info memory | tr -d '\r' | sed -n 's/^used_memory://p')
    rcli "$p" config set maxmemory $((used + 20000)) >/dev/null
    for i in $(seq 0 149); do echo "SET new:$i $val"; done >"$cmds"
    run_phase "$p" "$cmds"
    rcli "$p" config set maxmemory 0 >/dev/null
}

# survivors <port> <prefix> <count>: how many of prefix:0..count-1 exist.
survivors() {
    local p="$1" n=0 i
    for i in $(seq 0 $(($3 - 1))); do echo "EXISTS $2:$i"; done >"$cmds"
    n=$(rcli "$p" <"$cmds" | grep -c '^1$')
    echo "$n"
}

for side in redis agent; do
    if [ "$side" = redis ]; then p=$rport; else p=$aport; fi
    lfu_run "$p"
    evicted=$(rcli "$p" info stats | tr -d '\r' | sed -n 's/^evicted_keys://p')
    hot=$(survivors "$p" hot 50)
    cold=$(survivors "$p" cold 200)
    note "$side: evicted $evicted, hot left $hot/50, cold left $cold/200"
    expect_match "$side: allkeys-lfu evicted keys" '^[1-9][0-9]*$' "$evicted"
    # Sampled eviction may take a hot key when a sample holds only hot
    # ones (Redis itself kept 47-50 in runs); under LRU 3-8 survive.
    check "$side: hot keys survive ($hot/50)" test "$hot" -ge 40
    check "$side: cold keys went first ($cold/200)" test "$cold" -lt 200
    freq=$(rcli "$p" object freq hot:0)
    check "$side: OBJECT FREQ of a hot key above the initial 5 ($freq)" test "$freq" -gt 5
done

stop_pid "$apid"
stop_pid "$rpid"
finish
