#!/usr/bin/env bash
# test_engine_migrate: MIGRATE from kvfleet-agent against MIGRATE from
# redis-server 7.0, to a redis-server and to an agent target: the replies
# (OK, NOKEY, the target's errors, syntax and option errors, IOERR for a
# refused port), what lands where (db, TTL, values) and the connection
# cache; the command replicated as DEL of the moved keys; AUTH redacted in
# the slow log.
source "$(dirname "$0")/lib.sh"
need_redis

# scenario <src port> <dst port>: the same sequence on any pair.
scenario() {
    local src="$1" dst="$2" cached
    cached=$(rcli "$src" info stats | tr -d '\r' | sed -n 's/^migrate_cached_sockets://p')
    rcli "$dst" flushall >/dev/null
    rcli "$src" flushall >/dev/null
    rcli "$src" set k1 v1 >/dev/null
    rcli "$src" rpush l a b c >/dev/null
    rcli "$src" set t v ex 100 >/dev/null
    rcli "$src" hset h f v >/dev/null
    rcli "$src" xadd s 1-1 f v >/dev/null
    echo "one key: $(rcli "$src" migrate 127.0.0.1 "$dst" k1 0 1000)"
    echo "missing key: $(rcli "$src" migrate 127.0.0.1 "$dst" nosuch 0 1000)"
    echo "COPY KEYS: $(rcli "$src" migrate 127.0.0.1 "$dst" '' 3 1000 COPY KEYS l t h s nosuch)"
    echo "existing at target: $(rcli "$src" migrate 127.0.0.1 "$dst" '' 3 1000 KEYS l)"
    echo "REPLACE: $(rcli "$src" migrate 127.0.0.1 "$dst" '' 3 1000 REPLACE KEYS l t s)"
    echo "KEYS with a key: $(rcli "$src" migrate 127.0.0.1 "$dst" k1 0 1000 KEYS l)"
    echo "unknown option: $(rcli "$src" migrate 127.0.0.1 "$dst" h 0 1000 FOO)"
    echo "AUTH without password: $(rcli "$src" migrate 127.0.0.1 "$dst" h 0 1000 AUTH)"
    echo "bad timeout: $(rcli "$src" migrate 127.0.0.1 "$dst" h 0 abc)"
    echo "bad db: $(rcli "$src" migrate 127.0.0.1 "$dst" h x 1000)"
    echo "refused port: $(rcli "$src" migrate 127.0.0.1 1 h 0 200)"
    echo "AUTH to a target without password: $(rcli "$src" migrate 127.0.0.1 "$dst" h 0 1000 AUTH pw)"
    echo "db out of range at target: $(rcli "$src" migrate 127.0.0.1 "$dst" h 99 1000)"
    echo "source keys: $(rcli "$src" keys '*' | sort | tr '\n' ' ')"
    echo "target db0: $(rcli "$dst" keys '*' | sort | tr '\n' ' ')"
    echo "target db3: $(rcli "$dst" -n 3 keys '*' | sort | tr '\n' ' ')"
    echo "TTL kept: $(rcli "$dst" -n 3 ttl t)"
    echo "list: $(rcli "$dst" -n 3 lrange l 0 -1 | tr '\n' ' ') stream: $(rcli "$dst" -n 3 xlen s)"
    echo "connections cached since: $(( $(rcli "$src" info stats | tr -d '\r' | sed -n 's/^migrate_cached_sockets://p') - cached ))"
}

PR=$(free_port) && start_redis "$PR" || exit 1
PT=$(free_port) && start_redis "$PT" || exit 1
PA=$(free_port) && start_agent "$PA" --save "" || exit 1
PB=$(free_port) && start_agent "$PB" --save "" || exit 1

want="$(scenario "$PR" "$PT")"
expect_eq "agent -> redis-server as redis-server -> redis-server" "$want" "$(scenario "$PA" "$PT")"
expect_eq "agent -> agent as redis-server -> redis-server" "$want" "$(scenario "$PA" "$PB")"
expect_eq "redis-server -> agent as redis-server -> redis-server" "$want" "$(scenario "$PR" "$PB")"

# Replication: a moved key is deleted on the source's replica too.
PS=$(free_port) && start_agent "$PS" --save "" --replicaof 127.0.0.1 "$PA" || exit 1
rcli "$PA" set moved v >/dev/null
rcli "$PA" set kept v >/dev/null
for i in $(seq 1 100); do [ "$(rcli "$PS" get kept)" = v ] && break; sleep 0.05; done
expect_eq "MIGRATE answers OK" OK "$(rcli "$PA" migrate 127.0.0.1 "$PB" moved 0 1000 REPLACE)"
rcli "$PA" set marker 1 >/dev/null
for i in $(seq 1 100); do [ "$(rcli "$PS" get marker)" = 1 ] && break; sleep 0.05; done
expect_eq "the replica lost the moved key (DEL propagated)" 0 "$(rcli "$PS" exists moved)"
expect_eq "the replica kept the other key" 1 "$(rcli "$PS" exists kept)"

# The slow log keeps the password out.
rcli "$PA" config set slowlog-log-slower-than 0 >/dev/null
rcli "$PA" slowlog reset >/dev/null
rcli "$PA" migrate 127.0.0.1 "$PB" kept 0 1000 AUTH2 user secret >/dev/null
rcli "$PA" config set slowlog-log-slower-than 10000 >/dev/null
check_not "AUTH2's user and password redacted in SLOWLOG" sh -c "redis-cli -p $PA slowlog get | grep -q secret"

finish
