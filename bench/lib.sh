# bench/lib.sh: helpers shared by the benchmark scripts (bench/*.sh).
#
# Process handling (free ports, starting redis-server / kvfleet-agent in a
# temp dir, killing everything on exit) comes from tests/e2e/lib.sh so the
# benches and the e2e tests start servers the same way; this file adds what
# only benchmarks need: running redis-benchmark and parsing its rates,
# reading memory figures, and formatting ratios; and a controller fleet at
# scale (fleet_* below: N Debian redis-servers under one kvfleetd, grouped
# into clusters of three, as bench/monitor.sh and bench/dashboard.sh use).
#
# Environment: KVFLEET_AGENT (binary to benchmark; default bin/kvfleet-agent,
# set it to redis-server to benchmark Redis against itself);
# KVFLEET_NODE_SERVER (data nodes of a fleet; default /usr/bin/redis-server).

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

# ---------------------------------------------------------------- fleets
#
# fleet_start_nodes, fleet_start_ctl, fleet_register and fleet_wait_healthy
# build CLUSTERS groups of three data nodes under one kvfleetd. Every process
# goes through spawn(), so lib_cleanup stops it by pid at exit; files live
# under $LIB_TMP. Results are left in FLEET_* variables.

: "${KVFLEET_NODE_SERVER:=/usr/bin/redis-server}"
FLEET_BASE=            # first data-node port (node i listens on FLEET_BASE + i)
FLEET_NODE_PIDS=()
FLEET_URL=             # http://127.0.0.1:<port> of kvfleetd
FLEET_CTL_PID=
FLEET_HEALTHY=0

# ports_in_range <ss-flags> <lo> <hi>: sockets (-Htan: any state, -Htln:
# listening) whose local port is in [lo, hi], with one ss call.
ports_in_range() {
    ss "$1" | awk -v lo="$2" -v hi="$3" '{ n = split($4, a, ":"); p = a[n] + 0; if (p >= lo && p <= hi) c++ } END { print c + 0 }'
}

# fleet_start_nodes <count>: data nodes on <count> consecutive loopback ports
# nobody uses (the reconciler sends REPLICAOF, so a stranger's server must
# never be adopted by accident), small footprints (no persistence, hz 1).
# Returns once every port listens and is held by the process started for it.
fleet_start_nodes() {
    local n="$1" b i p t up owner
    FLEET_BASE=
    FLEET_NODE_PIDS=()
    for t in $(seq 1 50); do
        b=$((20000 + RANDOM % 10000))
        if [ "$(ports_in_range -Htan "$b" $((b + n - 1)))" = 0 ]; then FLEET_BASE=$b; break; fi
    done
    [ -n "$FLEET_BASE" ] || { echo "no free range of $n ports found" >&2; return 1; }
    [ -x "$KVFLEET_NODE_SERVER" ] || { echo "no node server $KVFLEET_NODE_SERVER" >&2; return 1; }
    echo "# starting $n nodes ($KVFLEET_NODE_SERVER) on ports $FLEET_BASE..$((FLEET_BASE + n - 1))"
    for i in $(seq 0 $((n - 1))); do
        p=$((FLEET_BASE + i))
        spawn "$LIB_TMP/n$p" "$KVFLEET_NODE_SERVER" --port "$p" --bind 127.0.0.1 --save "" \
            --appendonly no --hz 1 --repl-diskless-sync-delay 0 --dir "$LIB_TMP/n$p" \
            --logfile "$LIB_TMP/n$p/log" || return 1
        FLEET_NODE_PIDS+=("$LAST_PID")
    done
    up=0
    for t in $(seq 1 300); do
        up="$(ports_in_range -Htln "$FLEET_BASE" $((FLEET_BASE + n - 1)))"
        [ "$up" = "$n" ] && break
        sleep 0.2
    done
    [ "$up" = "$n" ] || { echo "only $up of $n nodes came up" >&2; return 1; }
    ss -Htlnp >"$LIB_TMP/listen"
    for i in $(seq 0 $((n - 1))); do
        p=$((FLEET_BASE + i))
        owner="$(awk -v port=":$p" '$4 ~ port"$" { if (match($0, /pid=[0-9]+/)) print substr($0, RSTART + 4, RLENGTH - 4); exit }' "$LIB_TMP/listen")"
        if [ "$owner" != "${FLEET_NODE_PIDS[$i]}" ]; then
            echo "port $p is held by pid ${owner:-?}, not by our node ${FLEET_NODE_PIDS[$i]}; aborting" >&2
            return 1
        fi
    done
}

# fleet_start_ctl [kvfleetd args...]: kvfleetd on a free loopback port (no
# Sentinel port, no token), database and log under $LIB_TMP/ctl; waits
# until GET /api/v1/health answers.
fleet_start_ctl() {
    local port t
    port="$(free_port)" || return 1
    FLEET_URL="http://127.0.0.1:$port"
    spawn "$LIB_TMP/ctl" "$KVFLEET_BIN/kvfleetd" --http-bind "127.0.0.1:$port" --sentinel-bind no \
        --db-path "$LIB_TMP/ctl/ctl.db" --logfile "$LIB_TMP/ctl/ctl.log" "$@" || return 1
    FLEET_CTL_PID=$LAST_PID
    for t in $(seq 1 100); do
        curl -s -o /dev/null --max-time 1 "$FLEET_URL/api/v1/health" && return 0
        pid_alive "$FLEET_CTL_PID" || break
        sleep 0.1
    done
    echo "kvfleetd did not answer on $FLEET_URL; log:" >&2
    tail -n 20 "$LIB_TMP/ctl/ctl.log" "$LIB_TMP/ctl/stdout.log" >&2 2>/dev/null
    return 1
}

# fleet_register <clusters>: registers node i of cluster c as c<ccc>-n<i>
# (port FLEET_BASE + 3c + i) and creates cluster c<ccc> with n0 as master,
# through one curl process (process start-up would dominate otherwise).
fleet_register() {
    local clusters="$1" cfg="$LIB_TMP/register.curl" c r
    : >"$cfg"
    for c in $(seq 0 $((clusters - 1))); do
        for r in 0 1 2; do
            printf 'url = "%s/api/v1/nodes"\nrequest = "POST"\ndata = "{\\"host\\":\\"127.0.0.1\\",\\"port\\":%d,\\"name\\":\\"c%03d-n%d\\"}"\noutput = "/dev/null"\nnext\n' \
                "$FLEET_URL" $((FLEET_BASE + c * 3 + r)) "$c" "$r" >>"$cfg"
        done
        printf 'url = "%s/api/v1/clusters"\nrequest = "POST"\ndata = "{\\"name\\":\\"c%03d\\",\\"master\\":\\"c%03d-n0\\",\\"replicas\\":[\\"c%03d-n1\\",\\"c%03d-n2\\"]}"\noutput = "/dev/null"\nnext\n' \
            "$FLEET_URL" "$c" "$c" "$c" "$c" >>"$cfg"
    done
    sed -i '$ d' "$cfg"          # no "next" after the last request
    curl -s -K "$cfg" || return 1
    echo "# registered $(curl -s "$FLEET_URL/api/v1/nodes" | jq '.nodes | length') nodes in $(curl -s "$FLEET_URL/api/v1/clusters" | jq '.clusters | length') clusters"
}

# fleet_wait_healthy <clusters> [seconds]: waits (default 120 s) until every
# cluster is healthy (REPLICAOF issued by the reconciler, links up); leaves
# the count in FLEET_HEALTHY and fails when some are not.
fleet_wait_healthy() {
    local want="$1" secs="${2:-120}" t
    FLEET_HEALTHY=0
    for t in $(seq 1 $((secs * 2))); do
        FLEET_HEALTHY="$(curl -s --max-time 5 "$FLEET_URL/api/v1/clusters" | jq '[.clusters[] | select(.health == "healthy")] | length')"
        [ "$FLEET_HEALTHY" = "$want" ] && return 0
        sleep 0.5
    done
    return 1
}

# monitor_reset: restart the monitor's counters (inter-poll histogram).
monitor_reset() {
    curl -s -o /dev/null --max-time 5 -X POST "$FLEET_URL/api/v1/monitor/stats/reset"
}

# monitor_stats: the .monitor object of GET /api/v1/health, one JSON line.
monitor_stats() {
    curl -s --max-time 5 "$FLEET_URL/api/v1/health" | jq -c .monitor
}

# cpu_ticks <pid...>: utime + stime of the processes, in clock ticks
# (getconf CLK_TCK per second); a process that is gone counts 0.
cpu_ticks() {
    local p sum=0 t
    for p in "$@"; do
        t="$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null)"
        sum=$((sum + ${t:-0}))
    done
    echo "$sum"
}

# cpu_pct <ticks> <elapsed_ms>: share of one core, one decimal.
cpu_pct() {
    awk -v t="$1" -v e="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (e > 0) ? 100 * t * 1000 / hz / e : 0 }'
}

# descendants <pid>: the pid and every process below it (e.g. a browser's
# renderer and GPU processes under the node script that launched it).
descendants() {
    ps -e -o pid=,ppid= | awk -v root="$1" '{ kids[$2] = kids[$2] " " $1 }
        END { q[1] = root; n = 1; for (i = 1; i <= n; i++) { print q[i]; m = split(kids[q[i]], k, " "); for (j = 1; j <= m; j++) q[++n] = k[j] } }'
}

# percentile <p>: nearest-rank p-th percentile of the numbers on stdin.
percentile() {
    sort -g | awk -v p="$1" '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } i = int((p * NR + 99) / 100); if (i < 1) i = 1; if (i > NR) i = NR; print v[i] }'
}
