# bench/lib.sh: helpers shared by the benchmark scripts (bench/*.sh).
#
# Process handling (free ports, starting redis-server / kvfleet-agent in a
# temp dir, killing everything on exit) comes from tests/e2e/lib.sh so the
# benches and the e2e tests start servers the same way; this file adds what
# only benchmarks need: running redis-benchmark and parsing its rates,
# reading memory figures, and formatting ratios.
#
# Environment: KVFLEET_AGENT (binary to benchmark; default bin/kvfleet-agent,
# set it to redis-server to benchmark Redis against itself).

. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/e2e/lib.sh"

# bench_rates <port> <pipeline> <requests> <tests>: run redis-benchmark and
# print one "TEST ops_per_sec" line per test (TEST without spaces, e.g.
# MSET(10keys)). redis-benchmark -q rewrites its progress line with \r, so
# only the final "requests per second" lines are kept.
bench_rates() {
    local port="$1" pipe="$2" n="$3" tests="$4"
    # BENCH_RUN_PREFIX: e.g. "taskset -c 0" to pin the load generator
    ${BENCH_RUN_PREFIX:-} redis-benchmark -h 127.0.0.1 -p "$port" -q -n "$n" -r 100000 -c 50 -P "$pipe" -t "$tests" 2>/dev/null |
        tr '\r' '\n' | grep 'requests per second' |
        sed -E 's/^ *([^:]+): ([0-9.]+) requests per second.*/\1 \2/' |
        awk '{ rate = $NF; $NF = ""; name = $0; gsub(/ /, "", name); print name, rate }'
}

# rss_kb <pid>: resident set size in kB from /proc.
rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# used_memory <port>: INFO memory used_memory in bytes.
used_memory() {
    rcli "$1" info memory 2>/dev/null | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }'
}

# ratio <a> <b>: a/b with two decimals, "-" when b is zero or missing.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "") print "-"; else printf "%.2f\n", a / b }'
}

# load_keys <port> <count> <value_bytes>: SET key:000000.. to a fixed value
# through redis-cli --pipe (one pass, no per-command round trip).
load_keys() {
    local port="$1" count="$2" size="$3"
    awk -v n="$count" -v size="$size" 'BEGIN {
        v = sprintf("%*s", size, ""); gsub(/ /, "x", v)
        for (i = 0; i < n; i++) {
            k = sprintf("key:%06d", i)
            printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, size, v
        }
    }' | redis-cli -h 127.0.0.1 -p "$port" --pipe >/dev/null
}
