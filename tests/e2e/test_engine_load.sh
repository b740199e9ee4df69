#!/usr/bin/env bash
# test_engine_load.sh: kvfleet-agent under concurrent, pipelined load keeps
# every write (counters and list lengths add up exactly), expires keys
# actively without being asked, and gives memory back after FLUSHALL.

. "$(dirname "$0")/lib.sh"
command -v redis-benchmark >/dev/null || skip "redis-benchmark not installed"

port=$(free_port) || exit 1
start_agent "$port" --save "" --appendonly no || { fail "agent starts"; finish; }
agent_pid=$LAST_PID

info_field() { rcli "$port" info "$1" | tr -d '\r' | sed -n "s/^$2://p"; }

# redis-benchmark without -r always hits the same key, so the totals are exact.
# N stays small enough for the suite's time budget on 2 cores.
N=50000
bench() { redis-benchmark -h 127.0.0.1 -p "$port" -q -n "$N" -c 50 "$@" >/dev/null 2>&1; }

used0=$(info_field memory used_memory)

check "50 clients, -P 16: INCR/LPUSH/SADD/HSET/ZADD run" bench -P 16 -t incr,lpush,sadd,hset,zadd
expect_eq "INCR from 50 pipelined clients: counter exact" "$N" "$(rcli "$port" get counter:__rand_int__)"
expect_eq "LPUSH from 50 pipelined clients: list length exact" "$N" "$(rcli "$port" llen mylist)"
expect_eq "SADD of one member: SCARD 1" 1 "$(rcli "$port" scard myset)"
expect_eq "HSET of one field: HLEN 1" 1 "$(rcli "$port" hlen myhash)"
check "50 clients, no pipelining: INCR and RPOP" bench -P 1 -t incr,rpop -n 20000
expect_eq "INCR total after a second round" "$((N + 20000))" "$(rcli "$port" get counter:__rand_int__)"
expect_eq "RPOP removed exactly 20000 elements" "$((N - 20000))" "$(rcli "$port" llen mylist)"
check "random keyspace: SET/GET/MSET with -r" bench -P 16 -r 50000 -t set,get,mset
dbsize=$(rcli "$port" dbsize)
expect_match "random keyspace: DBSIZE within the key range" '^[0-9]+$' "$dbsize"
[ "${dbsize:-0}" -le 50010 ] && [ "${dbsize:-0}" -gt 1000 ] && pass "DBSIZE plausible ($dbsize)" || fail "DBSIZE plausible ($dbsize)"

# Active expiry: 20000 keys with a 100 ms TTL vanish without being read.
rcli "$port" flushdb >/dev/null # drop the benchmark keys
expired0=$(info_field stats expired_keys)
awk 'BEGIN { for (i = 0; i < 20000; i++) { k = "exp:" i; printf "*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n$2\r\nPX\r\n$3\r\n100\r\n", length(k), k } }' |
    rcli "$port" --pipe >/dev/null 2>&1
left=
for i in $(seq 1 100); do
    left=$(rcli "$port" dbsize)
    [ "$left" = 0 ] && break
    sleep 0.1
done
expect_eq "active expiry: 20000 keys with PX 100 gone within 10 s, unread" 0 "$left"
expect_eq "active expiry: expired_keys counts them" 20000 "$(($(info_field stats expired_keys) - expired0))"
expect_eq "active expiry: keyspace section empty" "# Keyspace" "$(rcli "$port" info keyspace | tr -d '\r' | sed '/^$/d')"

# Memory comes back after FLUSHALL (allocator slack allowed: 4 MB).
awk 'BEGIN { for (i = 0; i < 100000; i++) { k = "mem:" i; printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$100\r\n%0100d\r\n", length(k), k, i } }' |
    rcli "$port" --pipe >/dev/null 2>&1
used1=$(info_field memory used_memory)
rcli "$port" flushall >/dev/null
sleep 0.2
used2=$(info_field memory used_memory)
note "used_memory: start $used0, after 100k keys $used1, after FLUSHALL $used2"
[ "${used1:-0}" -gt $((used0 + 10000000)) ] && pass "used_memory grows with 100k keys" || fail "used_memory grows with 100k keys"
[ "${used2:-999999999999}" -lt $((used0 + 4000000)) ] && pass "used_memory back to baseline after FLUSHALL" ||
    fail "used_memory back to baseline after FLUSHALL"
check "agent still alive" kill -0 "$agent_pid"
finish
