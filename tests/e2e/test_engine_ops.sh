#!/usr/bin/env bash
# test_engine_ops.sh: operations commands the compat scripts cannot show
# byte for byte (times, durations, children), run the same way against
# redis-server 7.0 and kvfleet-agent:
#  - INFO with several section names: the same sections, in the same order;
#  - LATENCY: DEBUG SLEEP spikes above latency-monitor-threshold become
#    "command" samples (one per second), LATEST / HISTORY / RESET read them;
#    LATENCY HISTOGRAM's cumulative buckets;
#  - DEBUG SET-ACTIVE-EXPIRE 0 stops the cron's expiry; a long expiry
#    cycle is an "expire-cycle" latency event;
#  - rdb-key-save-delay makes a BGSAVE slow enough to be seen running and
#    killed; the setting is hidden from CONFIG GET patterns;
#  - key-load-delay slows DEBUG RELOAD down.

. "$(dirname "$0")/lib.sh"
need_redis

aport=$(free_port) && start_agent "$aport" --save "" --appendonly no || { fail "agent starts"; finish; }
apid=$LAST_PID
rport=$(free_port) && start_redis "$rport" --enable-debug-command yes || { fail "redis-server starts"; finish; }
rpid=$LAST_PID

now_ms() { date +%s%3N; }
field() { rcli "$1" info "$2" | tr -d '\r' | sed -n "s/^$3://p"; }

# ---- INFO with several sections
for args in "clients server" "CLIENTS foo" "foo" "default commandstats" "all" "everything" \
            "keyspace keyspace" "server default" "Persistence REPLICATION latencystats"; do
    # shellcheck disable=SC2086
    want=$(rcli "$rport" info $args | tr -d '\r' | grep '^#' | tr '\n' ' ')
    # shellcheck disable=SC2086
    got=$(rcli "$aport" info $args | tr -d '\r' | grep '^#' | tr '\n' ' ')
    expect_eq "INFO $args: sections as redis-server" "$want" "$got"
done

# ---- LATENCY events
for side in redis agent; do
    if [ "$side" = redis ]; then p=$rport; else p=$aport; fi
    rcli "$p" config set latency-monitor-threshold 50 >/dev/null
    rcli "$p" latency reset >/dev/null
    rcli "$p" debug sleep 0.1 >/dev/null
    sleep 1.1
    rcli "$p" debug sleep 0.2 >/dev/null
    latest=$(rcli "$p" latency latest | tr '\n' ' ')
    expect_match "$side: LATENCY LATEST shows the command event" '^command [0-9]+ (19[0-9]|2[0-9][0-9]) (19[0-9]|2[0-9][0-9]) $' "$latest"
    hist=$(rcli "$p" latency history command | tr '\n' ' ')
    expect_match "$side: LATENCY HISTORY holds both spikes, oldest first" '^[0-9]+ (9[0-9]|1[0-9][0-9]) [0-9]+ (19[0-9]|2[0-9][0-9]) $' "$hist"
    doctor=$(rcli "$p" latency doctor)
    expect_match "$side: LATENCY DOCTOR reports the spikes" 'command: 2 latency spikes' "$doctor"
    graph=$(rcli "$p" latency graph command | head -1)
    expect_match "$side: LATENCY GRAPH header" '^command - high [0-9]+ ms, low [0-9]+ ms \(all time high [0-9]+ ms\)' "$graph"
    expect_eq "$side: LATENCY RESET counts the events" "1" "$(rcli "$p" latency reset)"
    expect_eq "$side: nothing left after RESET" "" "$(rcli "$p" latency latest)"
    rcli "$p" config set latency-monitor-threshold 0 >/dev/null
    rcli "$p" debug sleep 0.1 >/dev/null
    expect_eq "$side: threshold 0 records nothing" "" "$(rcli "$p" latency latest)"

    rcli "$p" config resetstat >/dev/null
    for i in $(seq 1 200); do echo "SET k$i v"; done | rcli "$p" >/dev/null
    h=$(rcli "$p" latency histogram set | tr '\n' ' ')
    expect_match "$side: LATENCY HISTOGRAM set counts the calls" '^set calls 200 histogram_usec ' "$h"
    # Buckets are powers of two (HDR labels) and the last cumulative count
    # is every call.
    buckets=$(echo "$h" | sed 's/.*histogram_usec //' | awk '{for (i = 1; i < NF; i += 2) printf "%s ", $i}')
    last=$(echo "$h" | awk '{print $NF}')
    expect_match "$side: histogram bucket labels" '^((1|2|4|8|16|33|66|132|264|528|1056|2113|4227|8454) )+$' "$buckets"
    expect_eq "$side: histogram ends with every call" "200" "$last"
done

# ---- active expiry: DEBUG SET-ACTIVE-EXPIRE, the expire-cycle event
for side in redis agent; do
    if [ "$side" = redis ]; then p=$rport; else p=$aport; fi
    rcli "$p" flushall >/dev/null
    rcli "$p" debug set-active-expire 0 >/dev/null
    rcli "$p" set volatile v px 50 >/dev/null
    sleep 0.4
    expect_eq "$side: SET-ACTIVE-EXPIRE 0 leaves an expired key in place" "1" "$(rcli "$p" dbsize)"
    rcli "$p" debug set-active-expire 1 >/dev/null
    for _ in $(seq 1 40); do [ "$(rcli "$p" dbsize)" = 0 ] && break; sleep 0.05; done
    expect_eq "$side: SET-ACTIVE-EXPIRE 1 expires it again" "0" "$(rcli "$p" dbsize)"
    # Deleting a 300k-member set in the cron takes tens of ms.
    rcli "$p" config set latency-monitor-threshold 5 >/dev/null
    rcli "$p" latency reset >/dev/null
    for i in $(seq 1 300); do
        printf 'SADD bigset'; for j in $(seq 1 1000); do printf ' m%d.%d' "$i" "$j"; done; printf '\n'
    done | rcli "$p" >/dev/null
    rcli "$p" pexpire bigset 50 >/dev/null
    # DBSIZE, not EXISTS: a lookup would expire the key itself.
    for _ in $(seq 1 60); do sleep 0.05; [ "$(rcli "$p" dbsize)" = 0 ] && break; done
    expect_match "$side: the expire-cycle event" 'expire-cycle' "$(rcli "$p" latency latest | tr '\n' ' ')"
    rcli "$p" config set latency-monitor-threshold 0 >/dev/null
done

# ---- rdb-key-save-delay: a slow, killable BGSAVE
for side in redis agent; do
    if [ "$side" = redis ]; then p=$rport; pid=$rpid; else p=$aport; pid=$apid; fi
    rcli "$p" flushall >/dev/null
    rcli "$p" debug populate 2000 >/dev/null
    expect_eq "$side: CONFIG SET rdb-key-save-delay" "OK" "$(rcli "$p" config set rdb-key-save-delay 2000)"
    expect_eq "$side: CONFIG GET rdb-key-save-delay" "rdb-key-save-delay 2000" "$(rcli "$p" config get rdb-key-save-delay | tr '\n' ' ' | sed 's/ $//')"
    expect_eq "$side: hidden from CONFIG GET patterns" "" "$(rcli "$p" config get '*save-delay*')"
    rcli "$p" bgsave >/dev/null
    sleep 0.3
    expect_eq "$side: BGSAVE still running after 300 ms" "1" "$(field "$p" persistence rdb_bgsave_in_progress)"
    child=$(pgrep -P "$pid" | head -1)
    if [ -n "$child" ]; then
        kill -KILL "$child" 2>/dev/null
        for _ in $(seq 1 100); do
            [ "$(field "$p" persistence rdb_bgsave_in_progress)" = 0 ] && break
            sleep 0.05
        done
        expect_eq "$side: killed BGSAVE child noticed" "0" "$(field "$p" persistence rdb_bgsave_in_progress)"
        expect_eq "$side: killed BGSAVE is a failure" "err" "$(field "$p" persistence rdb_last_bgsave_status)"
    else
        fail "$side: BGSAVE child process found"
    fi
    rcli "$p" config set rdb-key-save-delay 0 >/dev/null
    rcli "$p" flushall >/dev/null
done

# ---- key-load-delay: DEBUG RELOAD slowed down (agent only: the same
# setting on redis-server needs a save point-free reload path as well)
rcli "$aport" debug populate 1000 >/dev/null
t0=$(now_ms); rcli "$aport" debug reload >/dev/null; fast=$(( $(now_ms) - t0 ))
rcli "$aport" config set key-load-delay 500 >/dev/null
t0=$(now_ms); rcli "$aport" debug reload >/dev/null; slow=$(( $(now_ms) - t0 ))
rcli "$aport" config set key-load-delay 0 >/dev/null
note "DEBUG RELOAD of 1000 keys: ${fast} ms, with key-load-delay 500: ${slow} ms"
expect_match "agent: key-load-delay 500 us x 1000 keys takes at least 0.5 s" '^([5-9][0-9]{2}|[0-9]{4,})$' "$slow"
expect_eq "agent: keys all back after the slow reload" "1000" "$(rcli "$aport" dbsize)"

stop_pid "$apid"
stop_pid "$rpid"
finish
