#!/usr/bin/env bash
# test_ctl_api_limits.sh - kvfleetd's HTTP API under hostile clients (README
# "API limits"): slow-loris connections that trickle header bytes forever are
# capped per client address and closed at the request deadline while a normal
# request is still answered at once; connections from many addresses stop at
# http-max-connections with memory bounded by the per-connection pool; a
# flood of 2000 requests leaves RSS bounded and the monitor polling; a 10 MB
# body is a JSON 413 before it is read (Content-Length, Expect: 100-continue)
# or after it is drained (chunked), a chunked body past 16 MiB is cut; past
# 16 MiB of bodies in progress in all, bodies are drained and a JSON 503; 64 KiB
# of headers is a JSON 431; out-of-range http-* directives are refused.
# Hostile clients come from 127.0.0.2-6 so that the per-address cap does not
# hit the probes from 127.0.0.1. The figures (RSS, latency) are printed as
# '#' lines.
set -u
. "$(dirname "$0")/ctl_lib.sh"
need python3 awk
ABUSE="$(cd "$(dirname "$0")" && pwd)/py/http_abuse.py"

DEADLINE_MS=2000        # --http-timeout-ms: short, so the test stays short
# A sanitizer build reads the 40 x 1 MB bodies below slowly enough that the
# first ones reach a 2 s deadline before the last is sent (TSan run: 6 of
# them closed): its requests get more time.
[ -n "${TSAN_OPTIONS:-}${ASAN_OPTIONS:-}" ] && DEADLINE_MS=5000
MAX_CONNS=256           # the defaults, restated for the bounds below
PER_IP=64
POOL_KB=128             # HTTP_CONN_MEMORY in api/http.c

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$CTL_PID/status" 2>/dev/null; }
open_fds() { ls "/proc/$CTL_PID/fd" 2>/dev/null | wc -l; }
alive() { kill -0 "$CTL_PID" 2>/dev/null; }
# check_rss <what> <cmd...>: a memory bound, checked on a plain build only:
# under a sanitizer (make tsan sets TSAN_OPTIONS, make asan ASAN_OPTIONS) the
# sanitizer's own shadow memory and quarantine swamp the figures.
check_rss() {
    if [ -n "${TSAN_OPTIONS:-}${ASAN_OPTIONS:-}" ]; then
        note "not checked under a sanitizer: $1"
        return 0
    fi
    check "$@"
}

# probe_ms <path>: one request from 127.0.0.1; sets STATUS and PROBE_MS.
probe_ms() {
    local out
    out="$(curl -s -o "$CTL_TMP/probe" -w '%{http_code} %{time_total}' --max-time 5 "$CTL_URL$1")"
    STATUS="${out%% *}"
    PROBE_MS="$(awk -v t="${out##* }" 'BEGIN { printf "%d", t * 1000 }')"
    PROBE_MS_TEXT="$(awk -v t="${out##* }" 'BEGIN { printf "%.2f", t * 1000 }')"
    BODY="$(cat "$CTL_TMP/probe" 2>/dev/null)"
}

# slowloris <count per source> <sources> <head KiB> <max seconds> <out>:
# run http_abuse.py slowloris in the background, wait until its
# connections are open; SL_PID is the helper.
slowloris() {
    rm -f "$CTL_TMP/sl.ready"
    python3 "$ABUSE" slowloris "$CTL_PORT" "$1" "$2" "$3" "$CTL_TMP/sl.ready" "$4" >"$5" &
    SL_PID=$!
    CTL_PIDS+=("$SL_PID")
    wait_until 20 test -s "$CTL_TMP/sl.ready"
}
sl_field() { jq -r "$2" "$1" 2>/dev/null; }

# ---- the directives refuse what makes no sense
out="$(timeout 5 "$KVFLEETD" --http-timeout-ms 5 --db-path "$CTL_TMP/x.db" 2>&1)"
expect_eq "http-timeout-ms 5 refused (exit 1)" 1 "$?"
check "the refusal names the range" grep -q "http-timeout-ms: expected an integer between 100" <<<"$out"
out="$(timeout 5 "$KVFLEETD" --http-max-connections 0 --db-path "$CTL_TMP/x.db" 2>&1)"
expect_eq "http-max-connections 0 refused (exit 1)" 1 "$?"

# ---- start: one Redis node under monitoring, so "the monitor keeps polling"
# can be checked after the flood.
alloc_port P1
start_redis "$P1" || { fail "redis-server start"; finish; }
start_ctl --http-timeout-ms "$DEADLINE_MS" --monitor-interval-ms 100 || { fail "kvfleetd start"; finish; }
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$P1,\"name\":\"n1\"}"
expect_status "node registered" 201
check "node polled" wait_until 10 node_is n1 .status.state up
RSS0="$(rss_kb)"
FDS0="$(open_fds)"
note "baseline: RSS ${RSS0} kB, ${FDS0} open descriptors"

# ---- slow-loris from one address: capped at the per-address limit, a normal
# request answered at once, every connection closed at the deadline though
# each sends a header line every 0.5 s (an idle timeout never fires).
slowloris 200 127.0.0.2 0 $((4 * DEADLINE_MS / 1000)) "$CTL_TMP/sl1.json" ||
    fail "slow-loris connections opened"
worst=0 bad=0 times=
for i in 1 2 3 4 5; do
    probe_ms /api/v1/health
    [ "$STATUS" = 200 ] || bad=$((bad + 1))
    [ "$PROBE_MS" -gt "$worst" ] && worst=$PROBE_MS
    times="$times $PROBE_MS_TEXT"
done
note "GET /api/v1/health with 200 slow-loris connections open, 5 tries (ms):$times"
expect_eq "health answered 200 while slow-loris connections are open" 0 "$bad"
check "health answered within 1 s under slow-loris" test "$worst" -lt 1000
held=$(($(open_fds) - FDS0))
note "slow-loris connections kvfleetd holds: $held"
check "one address holds at most $PER_IP connections" test "$held" -le "$PER_IP"
wait "$SL_PID"
note "slow-loris result: $(cat "$CTL_TMP/sl1.json")"
expect_eq "all 200 slow-loris connections opened" 200 "$(sl_field "$CTL_TMP/sl1.json" .opened)"
expect_eq "past the per-address cap: refused at once" $((200 - PER_IP)) \
    "$(sl_field "$CTL_TMP/sl1.json" .refused)"
expect_eq "the $PER_IP held ones closed by kvfleetd" "$PER_IP" "$(sl_field "$CTL_TMP/sl1.json" .closed)"
expect_eq "no slow-loris connection outlived the test" 0 "$(sl_field "$CTL_TMP/sl1.json" .still_open)"
first="$(sl_field "$CTL_TMP/sl1.json" '.close_after_s.min * 1000 | floor')"
last="$(sl_field "$CTL_TMP/sl1.json" '.close_after_s.max * 1000 | floor')"
check "not closed before the ${DEADLINE_MS} ms deadline (${first:-?} ms)" \
    test "${first:-0}" -ge $((DEADLINE_MS * 9 / 10))
check "closed within 1 s of the deadline (${last:-?} ms)" \
    test "${last:-999999}" -le $((DEADLINE_MS + 1000))

# ---- slow-loris from 5 addresses with ~100 KiB heads each: kvfleetd holds
# at most http-max-connections and its memory stays within one pool per
# connection; once the deadline cuts them the backlog is served and closed.
slowloris "$PER_IP" 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6 100 \
    $((5 * DEADLINE_MS / 1000)) "$CTL_TMP/sl2.json" || fail "fat slow-loris connections opened"
sleep 1
held=$(($(open_fds) - FDS0))
RSS1="$(rss_kb)"
note "5 x $PER_IP fat slow-loris: kvfleetd holds $held connections, RSS ${RSS1} kB"
check "at most $MAX_CONNS connections held ($held)" test "$held" -le "$MAX_CONNS"
bound=$((RSS0 + MAX_CONNS * POOL_KB + 8192))
check_rss "RSS within baseline + $MAX_CONNS x $POOL_KB KiB + 8 MiB ($RSS1 <= $bound kB)" \
    test "$RSS1" -le "$bound"
wait "$SL_PID"
note "fat slow-loris result: $(cat "$CTL_TMP/sl2.json")"
expect_eq "fat slow-loris: none left open" 0 "$(sl_field "$CTL_TMP/sl2.json" .still_open)"
check "connections released" wait_until 5 test "$(($(open_fds) - FDS0))" -le 2
probe_ms /api/v1/health
expect_status "health answered after the slow-loris" 200

# ---- flood: 2000 requests from 8 threads, then 1000 of /metrics.
polls_before="$(curl -s --max-time 5 "$CTL_URL/api/v1/health" | jq -r .monitor.polls_ok)"
RSS2="$(rss_kb)"
python3 "$ABUSE" flood "$CTL_PORT" 2000 8 /api/v1/health >"$CTL_TMP/flood.json"
python3 "$ABUSE" flood "$CTL_PORT" 1000 8 /metrics >"$CTL_TMP/flood2.json"
RSS3="$(rss_kb)"
note "flood /api/v1/health: $(cat "$CTL_TMP/flood.json")"
note "flood /metrics: $(cat "$CTL_TMP/flood2.json")"
note "RSS before the flood ${RSS2} kB, after ${RSS3} kB"
check "kvfleetd alive after the flood" alive
expect_eq "flood: 2000 health answers 200" 2000 "$(jq -r '.status["200"] // 0' "$CTL_TMP/flood.json")"
expect_eq "flood: 1000 metrics answers 200" 1000 "$(jq -r '.status["200"] // 0' "$CTL_TMP/flood2.json")"
check_rss "RSS after the flood within 8 MiB of before (${RSS2} -> ${RSS3} kB)" \
    test "$RSS3" -le $((RSS2 + 8192))
sleep 0.5
polls_after="$(curl -s --max-time 5 "$CTL_URL/api/v1/health" | jq -r .monitor.polls_ok)"
note "monitor polls_ok: $polls_before before the flood, $polls_after after"
check "the monitor kept polling" test "${polls_after:-0}" -gt "${polls_before:-0}"
check "node still up after the flood" node_is n1 .status.state up

# ---- bodies: refused before they are read, JSON either way.
head -c 10000000 /dev/zero | tr '\0' 'a' >"$CTL_TMP/big.body"
RSS4="$(rss_kb)"
# post_big <name> <extra curl header...>: POST the 10 MB body to /nodes.
post_big() {
    local name="$1" out
    shift
    out="$(curl -s -o "$CTL_TMP/body" -w '%{http_code} %{time_total} %{size_upload}' --max-time 10 \
        -X POST -H 'Content-Type: application/json' "$@" --data-binary @"$CTL_TMP/big.body" \
        "$CTL_URL/api/v1/nodes")"
    read -r STATUS secs UPLOADED <<<"$out"
    BODY="$(cat "$CTL_TMP/body")"
    PROBE_MS="$(awk -v t="$secs" 'BEGIN { printf "%d", t * 1000 }')"
    note "$name: HTTP $STATUS in $PROBE_MS ms, $UPLOADED bytes sent"
    expect_status "$name" 413
    expect_eq "$name: JSON error" payload_too_large "$(jbody .error.code)"
    check "$name: answered within 1 s" test "$PROBE_MS" -lt 1000
}
post_big "10 MB body, Content-Length, Expect: 100-continue" -H 'Expect: 100-continue'
expect_eq "no byte of the body sent before the 413" 0 "$UPLOADED"
post_big "10 MB body, Content-Length, no Expect" -H 'Expect:'
post_big "10 MB body, chunked" -H 'Transfer-Encoding: chunked'
head -c 20000000 /dev/zero >"$CTL_TMP/huge.body"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST -H 'Expect:' \
    -H 'Transfer-Encoding: chunked' --data-binary @"$CTL_TMP/huge.body" "$CTL_URL/api/v1/nodes")"
check "a 20 MB chunked body is cut, not read to the end (got '$code')" test "$code" = 000
RSS5="$(rss_kb)"
note "RSS before the bodies ${RSS4} kB, after ${RSS5} kB"
check_rss "bodies were not buffered (RSS grew by less than 4 MiB)" test "$RSS5" -le $((RSS4 + 4096))

# ---- 40 bodies of 1 MB in progress at once (each under the 1 MiB limit):
# at most 16 MiB of them is kept, the others are drained and answered 503.
RSS6="$(rss_kb)"
rm -f "$CTL_TMP/bodies.ready"
# Under a sanitizer kvfleetd drains the refused bodies much more slowly:
# the client waits longer for it (the answers are still all checked).
abuse_wait=5
[ -n "${TSAN_OPTIONS:-}${ASAN_OPTIONS:-}" ] && abuse_wait=30
ABUSE_WAIT_S=$abuse_wait python3 "$ABUSE" bodies "$CTL_PORT" 40 1000000 127.0.0.7 "$CTL_TMP/bodies.ready" 1 \
    >"$CTL_TMP/bodies.json" &
B_PID=$!
CTL_PIDS+=("$B_PID")
wait_until $((20 + abuse_wait * 2)) test -s "$CTL_TMP/bodies.ready" || fail "bodies sent"
sleep 0.3
RSS7="$(rss_kb)"
wait "$B_PID"
note "40 x 1 MB bodies held open: RSS ${RSS6} -> ${RSS7} kB; $(cat "$CTL_TMP/bodies.json")"
bound=$((RSS6 + 16384 + 40 * POOL_KB + 8192))
check_rss "bodies in progress within the 16 MiB budget (RSS $RSS7 <= $bound kB)" test "$RSS7" -le "$bound"
expect_eq "every body answered" 0 "$(jq -r .errors "$CTL_TMP/bodies.json")"
check "bodies past the budget answered 503 in JSON" \
    test "$(jq -r '.codes.unavailable // 0' "$CTL_TMP/bodies.json")" -ge 20
# Once answered, the budget is whole again: 10 more bodies all kept.
rm -f "$CTL_TMP/bodies.ready"
python3 "$ABUSE" bodies "$CTL_PORT" 10 1000000 127.0.0.7 "$CTL_TMP/bodies.ready" 0 \
    >"$CTL_TMP/bodies2.json"
expect_eq "the budget is given back once answered (10 bodies read, none 503)" 10 \
    "$(jq -r '.codes.bad_json // 0' "$CTL_TMP/bodies2.json")"

# ---- headers: 64 KiB of them is a JSON 431.
hdrs=()
for i in $(seq 1 64); do hdrs+=(-H "X-Pad-$i: $(printf 'h%.0s' $(seq 1 1000))"); done
STATUS="$(curl -s -o "$CTL_TMP/body" -w '%{http_code}' --max-time 5 "${hdrs[@]}" "$CTL_URL/api/v1/health")"
BODY="$(cat "$CTL_TMP/body")"
expect_status "64 KiB of headers" 431
expect_eq "64 KiB of headers: JSON error" headers_too_large "$(jbody .error.code)"

check "kvfleetd alive at the end" alive
probe_ms /api/v1/health
expect_status "health at the end" 200
finish
