#!/usr/bin/env bash
# bench/dashboard.sh - the web dashboard and /metrics at fleet scale (a
# benchmark, not a test: it prints figures beside their targets).
#
# Starts CLUSTERS x 3 Debian redis-servers (default 100 x 3 = 300) under one
# kvfleetd (fleet_* helpers of bench/lib.sh, as bench/monitor.sh), waits until
# every cluster is healthy, then measures:
#   a. page render: headless Chromium loads / LOADS times (default 10), each in
#      a fresh context (empty cache); time from navigation start until every
#      card is in the DOM with its nodes' roles and states (p50 / max; target
#      < 1 s), bytes transferred by the first load, and per 1 s poll after it
#      (bench/dashboard.mjs, playwright-core from tests/browser/node_modules,
#      installed there with npm ci when missing);
#   b. GET /metrics scraped SCRAPES times (default 50) with curl: p50 / p99
#      time and size (target < 50 ms);
#   c. the monitor's inter-poll p99 (GET /api/v1/health .monitor.inter_poll_ms
#      after POST /api/v1/monitor/stats/reset) and kvfleetd's CPU share over
#      WINDOW seconds (default 30) idle, then over WINDOW seconds with the
#      dashboard open in Chromium (polling every second) and a curl of
#      /metrics every second (target: p99 unchanged).
# Everything runs on loopback; every process is stopped by pid at exit.
#
# Env: KVFLEET_BIN (default ./bin), KVFLEET_NODE_SERVER, CLUSTERS (100),
# INTERVAL (monitor-interval-ms, 250), LOADS (10), SCRAPES (50), WINDOW (30),
# CHROMIUM (/usr/bin/chromium).
set -u
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
. "$BENCH_DIR/lib.sh"
CLUSTERS="${CLUSTERS:-100}"
INTERVAL="${INTERVAL:-250}"
LOADS="${LOADS:-10}"
SCRAPES="${SCRAPES:-50}"
WINDOW="${WINDOW:-30}"
: "${CHROMIUM:=/usr/bin/chromium}"
export CHROMIUM
NODES=$((CLUSTERS * 3))
BROWSER_DIR="$LIB_ROOT/tests/browser"

for c in curl jq redis-cli ss node; do command -v $c >/dev/null || { echo "$c is missing"; exit 1; }; done
[ -x "$CHROMIUM" ] || { echo "no chromium at $CHROMIUM (apt-get install chromium)"; exit 1; }
[ -x "$KVFLEET_BIN/kvfleetd" ] || { echo "no $KVFLEET_BIN/kvfleetd (run make)"; exit 1; }
if [ ! -f "$BROWSER_DIR/node_modules/playwright-core/package.json" ]; then
    echo "# installing playwright-core in tests/browser (npm ci)"
    (cd "$BROWSER_DIR" && npm ci --prefer-offline --no-audit --no-fund) >"$LIB_TMP/npm.log" 2>&1 ||
        { tail -n 20 "$LIB_TMP/npm.log"; echo "npm ci failed"; exit 1; }
fi
ulimit -n 4096 2>/dev/null || true

fleet_start_nodes "$NODES" || exit 1
fleet_start_ctl --monitor-interval-ms "$INTERVAL" --monitor-timeout-ms 1000 || exit 1
fleet_register "$CLUSTERS" || exit 1
if ! fleet_wait_healthy "$CLUSTERS" 240; then
    echo "only $FLEET_HEALTHY of $CLUSTERS clusters became healthy; the page would never show them all"
    exit 1
fi
echo "# $CLUSTERS clusters healthy ($NODES nodes, monitor every $INTERVAL ms); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
URL="$FLEET_URL/"

# ---- b. /metrics: time and size of a scrape (sequential, nothing else running)
: >"$LIB_TMP/scrapes"
for i in $(seq 1 "$SCRAPES"); do
    curl -s -o /dev/null --max-time 5 -w '%{time_total} %{size_download} %{http_code}\n' \
        "$FLEET_URL/metrics" >>"$LIB_TMP/scrapes"
done
bad="$(awk '$3 != 200' "$LIB_TMP/scrapes" | wc -l)"
[ "$bad" = 0 ] || echo "# $bad of $SCRAPES scrapes did not answer 200"
ms_col() { awk '{ printf "%.1f\n", $1 * 1000 }' "$1"; }
scrape_p50="$(ms_col "$LIB_TMP/scrapes" | percentile 50)"
scrape_p99="$(ms_col "$LIB_TMP/scrapes" | percentile 99)"
scrape_bytes="$(awk '{ print $2 }' "$LIB_TMP/scrapes" | percentile 50)"
scrape_series="$(curl -s "$FLEET_URL/metrics" | grep -cv '^#')"
echo "# /metrics: p50 $scrape_p50 ms, p99 $scrape_p99 ms, $scrape_bytes bytes, $scrape_series series"

# ---- a. page render, fresh context each time
echo "# page render: $LOADS loads of $URL"
node "$BENCH_DIR/dashboard.mjs" render "$URL" "$CLUSTERS" "$LOADS" >"$LIB_TMP/render.json" ||
    { echo "the render measurement failed"; exit 1; }
R="$(tail -n 1 "$LIB_TMP/render.json")"
render_p50="$(jq -r '.runs[].dom_ms' <<<"$R" | percentile 50 | xargs printf '%.0f')"
render_max="$(jq -r '.runs[].dom_ms' <<<"$R" | percentile 100 | xargs printf '%.0f')"
paint_p50="$(jq -r '.runs[].paint_ms' <<<"$R" | percentile 50 | xargs printf '%.0f')"
api_p50="$(jq -r '.runs[].api_end_ms' <<<"$R" | percentile 50 | xargs printf '%.0f')"
first_bytes="$(jq .first_load.bytes <<<"$R")"
first_reqs="$(jq .first_load.requests <<<"$R")"
first_static="$(jq .first_load.static_bytes <<<"$R")"
first_api="$(jq .first_load.api_bytes <<<"$R")"

# ---- c. inter-poll p99 and CPU: idle, then dashboard + 1 s scrapes
# window <label>: reset the monitor counters, sample for WINDOW seconds;
# sets W_P50 W_P99 W_MAX W_OK W_FAIL W_CPU W_MS.
window() {
    local c0 c1 t0 t1 s
    monitor_reset
    c0="$(cpu_ticks "$FLEET_CTL_PID")"
    t0=$(date +%s%N)
    sleep "$WINDOW"
    c1="$(cpu_ticks "$FLEET_CTL_PID")"
    t1=$(date +%s%N)
    s="$(monitor_stats)"
    W_MS=$(((t1 - t0) / 1000000))
    W_CPU="$(cpu_pct $((c1 - c0)) "$W_MS")"
    W_P50="$(jq .inter_poll_ms.p50 <<<"$s")"
    W_P99="$(jq .inter_poll_ms.p99 <<<"$s")"
    W_MAX="$(jq '.inter_poll_ms.max | floor' <<<"$s")"
    W_OK="$(jq .polls_ok <<<"$s")"
    W_FAIL="$(jq .polls_failed <<<"$s")"
    echo "# $1: inter-poll p50 $W_P50 p99 $W_P99 max $W_MAX ms, polls ok $W_OK failed $W_FAIL, kvfleetd ${W_CPU}% of a core, load $(cut -d' ' -f1-3 /proc/loadavg)"
}

echo "# idle window: ${WINDOW}s"
window idle
idle_p50=$W_P50 idle_p99=$W_P99 idle_max=$W_MAX idle_cpu=$W_CPU idle_fail=$W_FAIL

echo "# loaded window: dashboard open in Chromium + /metrics every 1 s, ${WINDOW}s"
ready="$LIB_TMP/open.ready" stop="$LIB_TMP/open.stop"
node "$BENCH_DIR/dashboard.mjs" open "$URL" "$CLUSTERS" "$ready" "$stop" >"$LIB_TMP/open.json" 2>"$LIB_TMP/open.log" &
open_pid=$!
LIB_PIDS+=("$open_pid")
for t in $(seq 1 600); do
    [ -f "$ready" ] && break
    pid_alive "$open_pid" || break
    sleep 0.1
done
[ -f "$ready" ] || { echo "the dashboard did not show every card"; cat "$LIB_TMP/open.log"; exit 1; }
# Prometheus' side: one scrape a second, each timed, until the stop file.
(
    while [ ! -f "$stop" ]; do
        curl -s -o /dev/null --max-time 5 -w '%{time_total} %{size_download} %{http_code}\n' "$FLEET_URL/metrics"
        sleep 1
    done
) >"$LIB_TMP/scrapes.loaded" &
scrape_pid=$!
LIB_PIDS+=("$scrape_pid")
sleep 2                                   # both running before the counters restart
b0="$(cpu_ticks $(descendants "$open_pid"))"
bt0=$(date +%s%N)
window loaded
b1="$(cpu_ticks $(descendants "$open_pid"))"
bt1=$(date +%s%N)
load_p50=$W_P50 load_p99=$W_P99 load_max=$W_MAX load_cpu=$W_CPU load_fail=$W_FAIL
browser_cpu="$(cpu_pct $((b1 - b0)) $(((bt1 - bt0) / 1000000)))"
touch "$stop"
wait_pid_exit "$open_pid" 30 || echo "# the browser did not stop by itself (killed at exit)"
wait_pid_exit "$scrape_pid" 10 || true
O="$(tail -n 1 "$LIB_TMP/open.json")"
jq -e . >/dev/null 2>&1 <<<"$O" || { echo "no result from the open page"; cat "$LIB_TMP/open.log"; exit 1; }
poll_reqs="$(jq '.requests_per_poll * 10 | round / 10' <<<"$O")"
poll_bytes="$(jq .bytes_per_poll <<<"$O")"
polls="$(jq .polls <<<"$O")"
poll_secs="$(jq '.seconds | floor' <<<"$O")"
poll_main="$(jq .main_thread_ms_per_poll <<<"$O")"
poll_304="$(jq .s304 <<<"$O")"
poll_api="$(jq .api_requests <<<"$O")"
# bytes of one poll by request: "clusters 121 KiB, nodes 98 KiB, events 310 B (304)"
poll_split="$(jq -r --argjson n "$polls" '.by_path | to_entries | map((.value.bytes / ([$n, 1] | max)) as $b | "\(.key | sub("^/api/v1/"; "")) \(if $b < 10240 then "\($b | round) B" else "\($b / 1024 | round) KiB" end)\(if .value.s304 == .value.requests then " (304)" else "" end)") | join(", ")' <<<"$O")"
lscrape_p50="$(ms_col "$LIB_TMP/scrapes.loaded" | percentile 50)"
lscrape_p99="$(ms_col "$LIB_TMP/scrapes.loaded" | percentile 99)"

kib() { awk -v b="$1" 'BEGIN { printf "%.0f KiB", b / 1024 }'; }
echo
echo "# kvfleet dashboard bench: $CLUSTERS clusters x 3 = $NODES redis-server nodes, monitor every $INTERVAL ms, $(nproc) cores"
printf '%-48s %-34s %s\n' metric result target
printf '%-48s %-34s %s\n' "page render, all $CLUSTERS cards (p50 / max of $LOADS)" \
    "$render_p50 / $render_max ms" "< 1000 ms"
printf '%-48s %-34s %s\n' "  painted / first /clusters answer (p50)" "$paint_p50 ms; $api_p50 ms" ""
printf '%-48s %-34s %s\n' "first load: bytes (requests)" "$(kib "$first_bytes") ($first_reqs): static $(kib "$first_static"), API $(kib "$first_api")" ""
printf '%-48s %-34s %s\n' "per 1 s poll: requests, bytes" "$poll_reqs, $(kib "$poll_bytes")" "~3 requests"
printf '%-48s %-34s %s\n' "  per poll, by request" "$poll_split" ""
printf '%-48s %-34s %s\n' "  polls / 304s / page main thread per poll" "$polls in ${poll_secs}s / $poll_304 of $poll_api / $poll_main ms" ""
printf '%-48s %-34s %s\n' "/metrics scrape p50 / p99 ($NODES nodes, $SCRAPES)" "$scrape_p50 / $scrape_p99 ms" "< 50 ms"
printf '%-48s %-34s %s\n' "/metrics size" "$(kib "$scrape_bytes") ($scrape_series series)" ""
printf '%-48s %-34s %s\n' "/metrics p50 / p99 with the dashboard open" "$lscrape_p50 / $lscrape_p99 ms" "< 50 ms"
printf '%-48s %-34s %s\n' "inter-poll p50 / p99 / max, idle" "$idle_p50 / $idle_p99 / $idle_max ms ($idle_fail failed)" ""
printf '%-48s %-34s %s\n' "inter-poll p50 / p99 / max, dashboard + scrape" "$load_p50 / $load_p99 / $load_max ms ($load_fail failed)" "p99 unchanged"
printf '%-48s %-34s %s\n' "kvfleetd CPU, idle / dashboard + scrape" "$idle_cpu% / $load_cpu% of a core" ""
printf '%-48s %-34s %s\n' "Chromium CPU (all processes), dashboard open" "$browser_cpu% of a core" ""
