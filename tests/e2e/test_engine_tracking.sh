#!/usr/bin/env bash
# test_engine_tracking.sh: CLIENT TRACKING with REDIRECT against redis-server
# 7.0. The compat scripts cannot pass one connection's client id to another
# (tests/e2e/compat/tracking.txt covers everything else), so
# tests/e2e/py/tracking_redirect.py replays the redirect scenarios on each
# server, naming ids by connection, and the two transcripts must be equal
# byte for byte: RESP2 __redis__:invalidate messages, RESP3 pushes to the
# redirect client, tracking-redir-broken, BCAST batches, flushes,
# tracking-table-max-keys, CLIENT LIST flags and the INFO tracking fields.

. "$(dirname "$0")/lib.sh"
need_redis
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
PY="$(cd "$(dirname "$0")" && pwd)/py/tracking_redirect.py"

rport=$(free_port) && start_redis "$rport" || { fail "redis-server starts"; finish; }
rpid=$LAST_PID
aport=$(free_port) && start_agent "$aport" --save "" --appendonly no || { fail "agent starts"; finish; }
apid=$LAST_PID

timeout 60 python3 "$PY" "$rport" >"$LIB_TMP/tracking.redis" 2>&1
rrc=$?
timeout 60 python3 "$PY" "$aport" >"$LIB_TMP/tracking.agent" 2>&1
arc=$?
expect_eq "redirect scenarios ran on redis-server" 0 "$rrc"
expect_eq "redirect scenarios ran on the agent" 0 "$arc"
if diff -u "$LIB_TMP/tracking.redis" "$LIB_TMP/tracking.agent" >"$LIB_TMP/tracking.diff"; then
    pass "tracking redirect transcript identical ($(wc -l <"$LIB_TMP/tracking.redis") lines)"
else
    fail "tracking redirect transcript differs from redis-server's"
    head -n 80 "$LIB_TMP/tracking.diff" | sed 's/^/#   /'
fi
# The transcript must hold the deliveries themselves, not only timeouts.
check "invalidation messages delivered" grep -q 'message.*__redis__:invalidate.*\*1' "$LIB_TMP/tracking.agent"
check "tracking-redir-broken delivered" grep -qF 'tracking-redir-broken\r\n:<id:R>' "$LIB_TMP/tracking.agent"
check_not "no reply timed out" grep -q '<timeout>' "$LIB_TMP/tracking.agent"

stop_pid "$apid"
stop_pid "$rpid"
finish
