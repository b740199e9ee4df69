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
# The fleet is built by the fleet_* helpers of bench/lib.sh (shared with
# bench/dashboard.sh); every process is stopped by pid at exit.
#
# Env: KVFLEET_BIN (default ./bin), KVFLEET_NODE_SERVER, CLUSTERS (100),
# INTERVAL (monitor-interval-ms, 250), DURATION (s, 30).
set -u
. "$(dirname "$0")/lib.sh"
CLUSTERS="${CLUSTERS:-100}"
INTERVAL="${INTERVAL:-250}"
DURATION="${DURATION:-30}"
NODES=$((CLUSTERS * 3))

for c in curl jq redis-cli ss; do command -v $c >/dev/null || { echo "$c is missing"; exit 1; }; done
[ -x "$KVFLEET_BIN/kvfleetd" ] || { echo "no $KVFLEET_BIN/kvfleetd (run make)"; exit 1; }
ulimit -n 4096 2>/dev/null || true

fleet_start_nodes "$NODES" || exit 1
fleet_start_ctl --monitor-interval-ms "$INTERVAL" --monitor-timeout-ms 1000 || exit 1
fleet_register "$CLUSTERS" || exit 1
fleet_wait_healthy "$CLUSTERS" 120
echo "# $FLEET_HEALTHY of $CLUSTERS clusters healthy; measuring for ${DURATION}s at ${INTERVAL} ms"

monitor_reset
c0="$(cpu_ticks "$FLEET_CTL_PID")"
t0=$(date +%s%N)
sleep "$DURATION"
c1="$(cpu_ticks "$FLEET_CTL_PID")"
t1=$(date +%s%N)
stats="$(monitor_stats)"
elapsed_ms=$(( (t1 - t0) / 1000000 ))
cpu="$(cpu_pct $((c1 - c0)) "$elapsed_ms")"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
printf 'nodes monitored          %s\n' "$(jq .nodes <<<"$stats")"
printf 'polls ok / failed        %s / %s  (expected ~%d ok)\n' "$(jq .polls_ok <<<"$stats")" \
    "$(jq .polls_failed <<<"$stats")" $((NODES * elapsed_ms / INTERVAL))
printf 'kvfleetd CPU             %s%% of one core   (target < 50%%)\n' "$cpu"
printf 'inter-poll p50/p99/max   %s / %s / %s ms   (target p99 < %d ms)\n' \
    "$(jq .inter_poll_ms.p50 <<<"$stats")" "$(jq .inter_poll_ms.p99 <<<"$stats")" \
    "$(jq '.inter_poll_ms.max | floor' <<<"$stats")" $((2 * INTERVAL))
