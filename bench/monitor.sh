#!/usr/bin/env bash
# bench/monitor.sh - monitor cost of kvfleetd at fleet scale.
#
# Starts CLUSTERS x 3 data nodes (default 100 x 3 = 300 Debian redis-server
# processes with small footprints; KVFLEET_NODE_SERVER switches to the
# kvfleet-agent), registers them as 100 replication groups, waits until every
# group is healthy (REPLICAOF issued by the reconciler, links up), resets the
# monitor counters and measures for DURATION seconds:
#   - kvfleetd CPU share (utime+stime from /proc/<pid>/stat), target < 50% of one core
#   - p99 time between two successful polls of the same node (the monitor's
#     own histogram, GET /api/v1/health .monitor.inter_poll_ms), target < 2 intervals
#
# Env: KVFLEET_BIN (default ./bin), KVFLEET_NODE_SERVER, CLUSTERS (100),
# INTERVAL (monitor-interval-ms, 250), DURATION (s, 30).
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${KVFLEET_BIN:-$root/bin}"
NODE_SERVER="${KVFLEET_NODE_SERVER:-/usr/bin/redis-server}"
CLUSTERS="${CLUSTERS:-100}"
INTERVAL="${INTERVAL:-250}"
DURATION="${DURATION:-30}"
NODES=$((CLUSTERS * 3))

for c in curl jq redis-cli; do command -v $c >/dev/null || { echo "$c is missing"; exit 1; }; done
[ -x "$BIN/kvfleetd" ] || { echo "no $BIN/kvfleetd (run make)"; exit 1; }
[ -x "$NODE_SERVER" ] || { echo "no node server $NODE_SERVER"; exit 1; }
ulimit -n 4096 2>/dev/null || true

tmp="$(mktemp -d /tmp/kvfleet-bench-mon.XXXXXX)"
pids=()
ctl_pid=
cleanup() {
    local p
    [ -n "$ctl_pid" ] && kill "$ctl_pid" 2>/dev/null
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# used_in_range <lo> <hi>: sockets (any state) bound to a port in [lo, hi].
used_in_range() {
    ss -Htan | awk -v lo="$1" -v hi="$2" '{ n = split($4, a, ":"); p = a[n] + 0; if (p >= lo && p <= hi) c++ } END { print c + 0 }'
}
# Pick a port range nobody uses: the reconciler sends REPLICAOF, so we must
# never adopt someone else's server by accident.
base=
for try in $(seq 1 50); do
    b=$((20000 + RANDOM % 10000))
    if [ "$(used_in_range "$b" $((b + NODES - 1)))" = 0 ]; then base=$b; break; fi
done
[ -n "$base" ] || { echo "no free range of $NODES ports found"; exit 1; }
echo "# starting $NODES nodes ($NODE_SERVER) on ports $base..$((base + NODES - 1))"
for i in $(seq 0 $((NODES - 1))); do
    p=$((base + i))
    mkdir -p "$tmp/n$p"
    "$NODE_SERVER" --port "$p" --bind 127.0.0.1 --save "" --appendonly no --hz 1 \
        --repl-diskless-sync-delay 0 --dir "$tmp/n$p" --logfile "$tmp/n$p/log" >/dev/null 2>&1 &
    pids+=($!)
done
# Count listening sockets in our port range with one ss call per round.
up=0
for t in $(seq 1 300); do
    up="$(ss -Htln | awk -v lo="$base" -v hi=$((base + NODES - 1)) '{ n = split($4, a, ":"); p = a[n] + 0; if (p >= lo && p <= hi) c++ } END { print c + 0 }')"
    [ "$up" = "$NODES" ] && break
    sleep 0.2
done
[ "$up" = "$NODES" ] || { echo "only $up of $NODES nodes came up"; exit 1; }
# Every port must be held by the process we started (not a stranger that
# grabbed it meanwhile).
ss -Htlnp >"$tmp/listen"
for i in $(seq 0 $((NODES - 1))); do
    owner="$(awk -v port=":$((base + i))" '$4 ~ port"$" { if (match($0, /pid=[0-9]+/)) print substr($0, RSTART + 4, RLENGTH - 4); exit }' "$tmp/listen")"
    if [ "$owner" != "${pids[$i]}" ]; then
        echo "port $((base + i)) is held by pid ${owner:-?}, not by our node ${pids[$i]}; aborting"
        exit 1
    fi
done

port=$((26000 + RANDOM % 4000))
url="http://127.0.0.1:$port"
"$BIN/kvfleetd" --http-bind "127.0.0.1:$port" --sentinel-bind no --db-path "$tmp/ctl.db" --logfile "$tmp/ctl.log" \
    --monitor-interval-ms "$INTERVAL" --monitor-timeout-ms 1000 &
ctl_pid=$!
for t in $(seq 1 100); do curl -s -o /dev/null "$url/api/v1/health" && break; sleep 0.1; done

# One curl process for all registrations (process start-up dominates otherwise).
cfg="$tmp/curl.cfg"
: >"$cfg"
for c in $(seq 0 $((CLUSTERS - 1))); do
    for r in 0 1 2; do
        p=$((base + c * 3 + r))
        printf 'url = "%s/api/v1/nodes"\nrequest = "POST"\ndata = "{\\"host\\":\\"127.0.0.1\\",\\"port\\":%d,\\"name\\":\\"c%03d-n%d\\"}"\noutput = "/dev/null"\nnext\n' \
            "$url" "$p" "$c" "$r" >>"$cfg"
    done
    printf 'url = "%s/api/v1/clusters"\nrequest = "POST"\ndata = "{\\"name\\":\\"c%03d\\",\\"master\\":\\"c%03d-n0\\",\\"replicas\\":[\\"c%03d-n1\\",\\"c%03d-n2\\"]}"\noutput = "/dev/null"\nnext\n' \
        "$url" "$c" "$c" "$c" "$c" >>"$cfg"
done
sed -i '$ d' "$cfg"          # no "next" after the last request
curl -s -K "$cfg"
echo "# registered $(curl -s "$url/api/v1/nodes" | jq '.nodes | length') nodes in $(curl -s "$url/api/v1/clusters" | jq '.clusters | length') clusters"

healthy=0
for t in $(seq 1 240); do
    healthy="$(curl -s "$url/api/v1/clusters" | jq '[.clusters[] | select(.health == "healthy")] | length')"
    [ "$healthy" = "$CLUSTERS" ] && break
    sleep 0.5
done
echo "# $healthy of $CLUSTERS clusters healthy; measuring for ${DURATION}s at ${INTERVAL} ms"

curl -s -o /dev/null -X POST "$url/api/v1/monitor/stats/reset"
hz="$(getconf CLK_TCK)"
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$ctl_pid/stat")
t0=$(date +%s%N)
sleep "$DURATION"
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$ctl_pid/stat")
t1=$(date +%s%N)
stats="$(curl -s "$url/api/v1/health" | jq -c .monitor)"
elapsed_ms=$(( (t1 - t0) / 1000000 ))
cpu_ms=$(( (u1 + s1 - u0 - s0) * 1000 / hz ))
cpu_pct="$(awk -v c="$cpu_ms" -v e="$elapsed_ms" 'BEGIN { printf "%.1f", 100 * c / e }')"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
printf 'nodes monitored          %s\n' "$(jq .nodes <<<"$stats")"
printf 'polls ok / failed        %s / %s  (expected ~%d ok)\n' "$(jq .polls_ok <<<"$stats")" \
    "$(jq .polls_failed <<<"$stats")" $((NODES * elapsed_ms / INTERVAL))
printf 'kvfleetd CPU             %s%% of one core   (target < 50%%)\n' "$cpu_pct"
printf 'inter-poll p50/p99/max   %s / %s / %s ms   (target p99 < %d ms)\n' \
    "$(jq .inter_poll_ms.p50 <<<"$stats")" "$(jq .inter_poll_ms.p99 <<<"$stats")" \
    "$(jq '.inter_poll_ms.max | floor' <<<"$stats")" $((2 * INTERVAL))
