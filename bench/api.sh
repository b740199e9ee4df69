#!/usr/bin/env bash
# bench/api.sh - REST API throughput of kvfleetd with wrk.
#
# Registers 100 clusters of 3 nodes, then runs wrk against
#   GET /api/v1/clusters/{name}   (one cluster, detailed: target >= 20,000 req/s, p99 < 5 ms)
#   GET /api/v1/clusters          (all 100, summary)
# and prints requests/s and p99 for each. The nodes point at closed loopback
# ports, so the monitor keeps polling (and failing) 300 nodes every interval
# in the background while the API is measured.
#
# Env: KVFLEET_BIN (default ./bin), DURATION (s, default 10), CONNECTIONS
# (default 50), THREADS (wrk threads, default 1), HTTP_THREADS (kvfleetd
# http-threads, default 1), INTERVAL (monitor-interval-ms, default 250).
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${KVFLEET_BIN:-$root/bin}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-50}"
# One core for the load generator and one for kvfleetd: on this 2-core
# machine two wrk threads plus two HTTP threads only fight for the CPUs
# and inflate the tail latency.
THREADS="${THREADS:-1}"
HTTP_THREADS="${HTTP_THREADS:-1}"
INTERVAL="${INTERVAL:-250}"

if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        echo "# installing wrk"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk </dev/null >/dev/null ||
            { echo "cannot install wrk"; exit 1; }
    else
        echo "wrk is missing: sudo apt-get install -y wrk"; exit 1
    fi
fi
command -v curl >/dev/null || { echo "curl is missing"; exit 1; }
[ -x "$BIN/kvfleetd" ] || { echo "no $BIN/kvfleetd (run make)"; exit 1; }

tmp="$(mktemp -d /tmp/kvfleet-bench-api.XXXXXX)"
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

port=$((20000 + RANDOM % 10000))
"$BIN/kvfleetd" --http-bind "127.0.0.1:$port" --sentinel-bind no --db-path "$tmp/bench.db" --logfile "$tmp/ctl.log" \
    --http-threads "$HTTP_THREADS" --monitor-interval-ms "$INTERVAL" --reconcile no --monitor-timeout-ms 1000 &
pid=$!
url="http://127.0.0.1:$port"
for i in $(seq 1 100); do
    curl -s -o /dev/null "$url/api/v1/health" && break
    sleep 0.1
done

echo "# registering 100 clusters of 3 nodes"
# One curl process for all 400 requests (process start-up dominates otherwise).
cfg="$tmp/curl.cfg"
: >"$cfg"
for c in $(seq 1 100); do
    for r in 0 1 2; do
        printf 'url = "%s/api/v1/nodes"\nrequest = "POST"\ndata = "{\\"host\\":\\"127.0.0.1\\",\\"port\\":%d,\\"name\\":\\"c%03d-n%d\\"}"\noutput = "/dev/null"\nnext\n' \
            "$url" $((40000 + c * 3 + r)) "$c" "$r" >>"$cfg"
    done
    printf 'url = "%s/api/v1/clusters"\nrequest = "POST"\ndata = "{\\"name\\":\\"c%03d\\",\\"master\\":\\"c%03d-n0\\",\\"replicas\\":[\\"c%03d-n1\\",\\"c%03d-n2\\"]}"\noutput = "/dev/null"\nnext\n' \
        "$url" "$c" "$c" "$c" "$c" >>"$cfg"
done
sed -i '$ d' "$cfg"
t0=$(date +%s%N)
curl -s -K "$cfg"
t1=$(date +%s%N)
n="$(curl -s "$url/api/v1/clusters" | grep -o '"name"' | wc -l)"
echo "# $n clusters registered in $(( (t1 - t0) / 1000000 )) ms (400 POSTs over one keep-alive connection)"
sleep 1

run() {
    local label="$1" path="$2" out rps p99
    out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url$path" 2>&1)"
    rps="$(awk '/^Requests\/sec/ {print $2}' <<<"$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    non2xx="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
    printf '%-34s %12s req/s   p99 %8s%s\n' "$label" "$rps" "$p99" "${non2xx:+   non-2xx: $non2xx}"
}

echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s; kvfleetd http-threads $HTTP_THREADS, monitor every $INTERVAL ms; $(nproc) cores"
run "GET /api/v1/clusters/c042" /api/v1/clusters/c042
run "GET /api/v1/clusters (100)" /api/v1/clusters
cpu="$(awk '{print $14 + $15}' "/proc/$pid/stat")"
echo "# kvfleetd CPU time during the run: $((cpu / $(getconf CLK_TCK))) s"
