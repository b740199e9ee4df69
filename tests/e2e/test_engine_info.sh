#!/usr/bin/env bash
# test_engine_info.sh: INFO as monitoring tools (and kvfleetd) read it. After
# the same commands on redis-server 7.0 and kvfleet-agent, every section
# header and every field name Redis prints must be present in the agent's
# INFO (extra agent fields are allowed), sections in the same order; the
# fields whose values are deterministic must have the same values.

. "$(dirname "$0")/lib.sh"
need_redis

aport=$(free_port) && start_agent "$aport" --save "" --appendonly no || { fail "agent starts"; finish; }
rport=$(free_port) && start_redis "$rport" || { fail "redis-server starts"; finish; }

# The same small workload on both so per-command sections are populated;
# the key with a TTL gets avg_ttl estimated by active expiry (100 ms hz).
for p in "$aport" "$rport"; do
    rcli "$p" set k v >/dev/null
    rcli "$p" set e v ex 1000 >/dev/null
    rcli "$p" rpush l a b c >/dev/null
    rcli "$p" get k >/dev/null
    rcli "$p" incr k >/dev/null 2>&1
    rcli "$p" -n 3 set k3 v >/dev/null
done
sleep 0.5

# names <port> <section>: section headers and field names, one per line;
# per-command and per-db lines collapse to one placeholder each.
names() {
    rcli "$1" info "$2" | tr -d '\r' | sed '/^$/d' | sed 's/:.*//' |
        sed -E 's/^cmdstat_.*/cmdstat_<cmd>/; s/^errorstat_.*/errorstat_<err>/;
                s/^latency_percentiles_usec_.*/latency_percentiles_usec_<cmd>/; s/^db[0-9]+$/db<n>/' | uniq
}

# value <port> <field>: one field's value from INFO everything (fetched once
# per server); avg_ttl is an estimate sampled by active expiry, so only
# zero / non-zero is kept.
declare -A INFO_ALL
INFO_ALL[$aport]="$(rcli "$aport" info everything | tr -d '\r')"
INFO_ALL[$rport]="$(rcli "$rport" info everything | tr -d '\r')"
value() {
    printf '%s\n' "${INFO_ALL[$1]}" | sed -n "s/^$2://p" |
        sed -E 's/avg_ttl=0$/avg_ttl=zero/; s/avg_ttl=[1-9][0-9]*$/avg_ttl=nonzero/'
}

for section in server clients memory persistence stats replication cpu modules errorstats keyspace; do
    missing="$(comm -23 <(names "$rport" "$section" | sort) <(names "$aport" "$section" | sort))"
    if [ -z "$missing" ]; then
        pass "INFO $section: every redis-server field present"
    else
        fail "INFO $section: every redis-server field present"
        printf '%s\n' "$missing" | sed 's/^/#   missing: /'
    fi
done
for section in commandstats latencystats; do
    missing="$(comm -23 <(names "$rport" "$section" | sort) <(names "$aport" "$section" | sort))"
    [ -z "$missing" ] && pass "INFO $section: present" || { fail "INFO $section: present"; printf '%s\n' "$missing" | sed 's/^/#   missing: /'; }
done

expect_eq "INFO default: same section headers in the same order" \
    "$(rcli "$rport" info | tr -d '\r' | grep '^#')" "$(rcli "$aport" info | tr -d '\r' | grep '^#')"
expect_eq "INFO everything: same section headers in the same order" \
    "$(rcli "$rport" info everything | tr -d '\r' | grep '^#')" "$(rcli "$aport" info everything | tr -d '\r' | grep '^#')"

for f in redis_version redis_mode role connected_slaves master_repl_offset loading rdb_bgsave_in_progress \
    aof_enabled maxmemory maxmemory_policy cluster_enabled db0 db3 connected_clients blocked_clients \
    mem_allocator arch_bits; do
    # Sanitizer builds (make asan) run on libc malloc, not jemalloc.
    if [ "$f" = mem_allocator ] && [ "$(value "$aport" "$f")" = libc ]; then
        note "mem_allocator: libc (sanitizer build), not compared"
        continue
    fi
    expect_eq "INFO field $f has redis-server's value" "$(value "$rport" "$f")" "$(value "$aport" "$f")"
done
keyspace() { rcli "$1" info keyspace | sed -E 's/avg_ttl=0\r?$/avg_ttl=zero/; s/avg_ttl=[1-9][0-9]*\r?$/avg_ttl=nonzero/'; }
expect_eq "INFO keyspace identical (avg_ttl as zero/non-zero)" "$(keyspace "$rport")" "$(keyspace "$aport")"

# CLIENT INFO / CLIENT LIST: same fields in the same order (values differ).
client_fields() { rcli "$1" client "$2" | head -n1 | tr ' ' '\n' | sed 's/=.*//' | tr '\n' ' '; }
expect_eq "CLIENT INFO: same field names in the same order" "$(client_fields "$rport" info)" "$(client_fields "$aport" info)"
expect_eq "CLIENT LIST: same field names in the same order" "$(client_fields "$rport" list)" "$(client_fields "$aport" list)"
finish
