#!/usr/bin/env bash
# test_engine_digest.sh: DEBUG DIGEST proves two agents hold the same data.
# Two processes (each with its own random hash seed) fed the same writes in
# different orders print the same digest; any difference changes it. The
# digest is Redis 7.0's, so a redis-server holding the data agrees.

. "$(dirname "$0")/lib.sh"

p1=$(free_port) || exit 1
start_agent "$p1" --save "" --appendonly no || { fail "agent 1 starts"; finish; }
p2=$(free_port) || exit 1
start_agent "$p2" --save "" --appendonly no || { fail "agent 2 starts"; finish; }

expect_eq "empty dataset digest is all zeros" 0000000000000000000000000000000000000000 "$(rcli "$p1" debug digest)"

feed() {
    local port="$1" order="$2" i
    for i in $(seq 1 200 | sort $order); do
        printf 'SET s:%d v%d\nHSET h f%d %d\nSADD st m%d\nZADD z %d zm%d\nRPUSH l %d\n' "$i" "$i" "$i" "$i" "$i" "$i" "$i" "$i"
    done | rcli "$port" >/dev/null
}
feed "$p1" ""
# Lists keep order, so feed the list in the same order on both sides.
for i in $(seq 1 200 | sort -r); do
    printf 'SET s:%d v%d\nHSET h f%d %d\nSADD st m%d\nZADD z %d zm%d\n' "$i" "$i" "$i" "$i" "$i" "$i" "$i"
done | rcli "$p2" >/dev/null
for i in $(seq 1 200 | sort); do printf 'RPUSH l %d\n' "$i"; done | rcli "$p2" >/dev/null
rcli "$p1" pexpireat s:7 4102444800000 >/dev/null
rcli "$p2" pexpireat s:7 4102444800000 >/dev/null

d1=$(rcli "$p1" debug digest)
d2=$(rcli "$p2" debug digest)
expect_match "digest is 40 hex characters" '^[0-9a-f]{40}$' "$d1"
expect_eq "same data, different order and seed: same digest" "$d1" "$d2"
rcli "$p2" hset h f1 changed >/dev/null
expect_eq "one changed field changes the digest" 1 "$([ "$(rcli "$p2" debug digest)" != "$d1" ] && echo 1 || echo 0)"
rcli "$p2" hset h f1 1 >/dev/null
expect_eq "restoring the field restores the digest" "$d1" "$(rcli "$p2" debug digest)"
rcli "$p2" persist s:7 >/dev/null
expect_eq "a TTL is part of the digest" 1 "$([ "$(rcli "$p2" debug digest)" != "$d1" ] && echo 1 || echo 0)"
rcli "$p2" pexpireat s:7 4102444800123 >/dev/null
expect_eq "a TTL's value is not (only its presence, as Redis)" "$d1" "$(rcli "$p2" debug digest)"

# The digest is Redis 7.0's: a redis-server fed the same writes agrees.
if command -v "$REDIS_SERVER" >/dev/null 2>&1; then
    p3=$(free_port) || exit 1
    if start_redis "$p3" --enable-debug-command yes; then
        r_pid=$LAST_PID
        feed "$p3" ""
        rcli "$p3" pexpireat s:7 4102444800000 >/dev/null
        expect_eq "redis-server prints the same digest" "$d1" "$(rcli "$p3" debug digest)"
        expect_eq "and the same DIGEST-VALUE for every type" \
            "$(rcli "$p1" debug digest-value s:7 h st z l nosuchkey | tr '\n' ' ')" \
            "$(rcli "$p3" debug digest-value s:7 h st z l nosuchkey | tr '\n' ' ')"
        stop_pid "$r_pid"
    else
        fail "redis-server starts"
    fi
fi

finish
