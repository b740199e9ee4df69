#!/usr/bin/env bash
# test_ctl_dblock.sh - the controller's database belongs to one kvfleetd, and
# other processes that use it do not stall the API:
#   - a second kvfleetd on the same db-path (absolute or relative) exits
#     non-zero at once, naming the lock file and the running one's pid, and
#     leaves that one's pidfile alone; after kill -9 of the first (the lock
#     dies with it) a new start succeeds, with the data;
#   - while another process holds the write lock (python3 sqlite3 with
#     BEGIN IMMEDIATE for 3 s, as `sqlite3 kvfleet.db` would) and the journal
#     writer and an API write wait for it, GET /api/v1/events and
#     GET /api/v1/health answer 200 in < 300 ms each, and nothing is lost;
#   - a long online backup (python3 sqlite3 backup, one page at a time)
#     stalls neither reads nor writes.
set -u
. "$(dirname "$0")/ctl_lib.sh"
need python3 sqlite3
python3 -c 'import sqlite3' 2>/dev/null || skip "python3 has no sqlite3 module"

DB="$CTL_TMP/ctl.db"
now_ms() { date +%s%3N; }

# timed_get <path>: GET without auth; sets STATUS and MS (whole request).
timed_get() {
    local out
    out="$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 "$CTL_URL$1")"
    STATUS="${out% *}"
    MS="$(awk -v s="${out#* }" 'BEGIN { printf "%d", s * 1000 }')"
}

# reads_stay_prompt <name> <rounds>: GET /events and /health <rounds> times,
# 0.15 s apart; every answer must be 200 within 300 ms.
reads_stay_prompt() {
    local name="$1" rounds="$2" i p worst_ev=0 worst_h=0 bad=""
    for i in $(seq 1 "$rounds"); do
        for p in "/api/v1/events?limit=50" /api/v1/health; do
            timed_get "$p"
            [ "$STATUS" = 200 ] || bad="$bad $p:$STATUS"
            case "$p" in
                /api/v1/health) [ "$MS" -gt "$worst_h" ] && worst_h=$MS ;;
                *) [ "$MS" -gt "$worst_ev" ] && worst_ev=$MS ;;
            esac
        done
        sleep 0.15
    done
    note "$name: slowest GET /events ${worst_ev} ms, GET /health ${worst_h} ms"
    expect_eq "$name: every GET /events and /health answered 200" "" "$bad"
    check "$name: GET /events always < 300 ms (slowest $worst_ev ms)" test "$worst_ev" -lt 300
    check "$name: GET /health always < 300 ms (slowest $worst_h ms)" test "$worst_h" -lt 300
}

# ---- one kvfleetd per database
alloc_port P1
alloc_port P2
start_node "$P1" || { fail "node $P1 start"; finish; }
start_node "$P2" || { fail "node $P2 start"; finish; }
start_ctl --monitor-interval-ms 100 --pidfile "$CTL_TMP/ctl.pid" || { fail "kvfleetd start"; finish; }
FIRST=$CTL_PID
pass "first kvfleetd started (pid $FIRST)"
expect_eq "lock file next to the database holds its pid" "$FIRST" "$(cat "$DB.lock" 2>/dev/null)"
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$P1,\"name\":\"n1\"}"
expect_status "register n1" 201

alloc_port HP2
alloc_port SP2
t0=$(now_ms)
out="$(timeout 20 "$KVFLEETD" --http-bind "127.0.0.1:$HP2" --sentinel-bind "127.0.0.1:$SP2" \
    --db-path "$DB" --pidfile "$CTL_TMP/ctl.pid" 2>&1)"
rc=$?
ms=$(($(now_ms) - t0))
note "second kvfleetd said: $out"
check "second kvfleetd on the same db-path exits non-zero (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "it exits quickly ($ms ms)" test "$ms" -lt 3000
check "its message names the lock file" grep -qF "$DB.lock" <<<"$out"
check "its message names the running kvfleetd's pid" grep -qF "pid $FIRST" <<<"$out"
check "its HTTP port never listened" test -z "$(ss -Htln "sport = :$HP2")"
expect_eq "the running one's pidfile is left alone" "$FIRST" "$(cat "$CTL_TMP/ctl.pid" 2>/dev/null)"
expect_eq "the running one still owns the lock" "$FIRST" "$(cat "$DB.lock" 2>/dev/null)"

# The same file through a relative path, with a logfile (stderr says it too).
out="$(cd "$CTL_TMP" && timeout 20 "$KVFLEETD" --http-bind "127.0.0.1:$HP2" \
    --sentinel-bind "127.0.0.1:$SP2" --db-path ctl.db --logfile "$CTL_TMP/ctl2.log" 2>&1)"
rc=$?
check "relative db-path to the same file refused too (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "refusal on stderr despite the logfile" grep -qF "pid $FIRST" <<<"$out"
check "refusal in its logfile" grep -q "FATAL: database ctl.db is in use by another kvfleetd" "$CTL_TMP/ctl2.log"
api GET /api/v1/health
expect_status "the first kvfleetd is unaffected" 200

kill -KILL "$FIRST"
wait "$FIRST" 2>/dev/null
check "kill -9 leaves a stale lock file" test -e "$DB.lock"
CTL_PORT=
SENTINEL_PORT=
if start_ctl --monitor-interval-ms 100; then
    pass "after kill -9 of the first, a new kvfleetd starts on the same database"
else
    fail "after kill -9 of the first, a new kvfleetd starts on the same database"
    finish
fi
expect_eq "it took over the lock" "$CTL_PID" "$(cat "$DB.lock" 2>/dev/null)"
api GET /api/v1/nodes/n1
expect_status "it has the first one's data (n1)" 200
wait_until 10 node_is n1 .status.state up || true

# ---- reads while another process holds the write lock
# The holder: what `sqlite3 ctl.db` + `BEGIN IMMEDIATE;` does, for 3 s.
rm -f "$CTL_TMP/holder.ready"
python3 - "$DB" 3 "$CTL_TMP/holder.ready" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)
c.execute('BEGIN IMMEDIATE')
open(sys.argv[3], 'w').close()
time.sleep(float(sys.argv[2]))
c.execute('ROLLBACK')
c.close()
PY
HOLDER=$!
CTL_PIDS+=("$HOLDER")
if ! wait_until 10 test -e "$CTL_TMP/holder.ready"; then
    fail "python3 took the write lock"
    finish
fi
t_lock=$(now_ms)
# Make the controller write while the lock is held: n1 goes down (the journal
# writer waits for the lock with node.suspect/node.down) and an API write
# waits too (503 after the busy timeout).
N1_PID="$(node_pid "$P1")"
kill -KILL "$N1_PID"
wait "$N1_PID" 2>/dev/null
curl -s -o "$CTL_TMP/post.body" -w '%{http_code}' --max-time 10 -X POST \
    -H 'Content-Type: application/json' \
    --data-binary "{\"host\":\"127.0.0.1\",\"port\":$P2,\"name\":\"n2\"}" \
    "$CTL_URL/api/v1/nodes" >"$CTL_TMP/post.code" &
POST=$!
sleep 0.2
reads_stay_prompt "write lock held by python3" 10
check "all of it while the lock was held" test $(($(now_ms) - t_lock)) -lt 3000
wait "$HOLDER"
wait "$POST"
note "POST /nodes during the lock: HTTP $(cat "$CTL_TMP/post.code") $(head -c 200 "$CTL_TMP/post.body")"
# It held the store's write side for the whole busy timeout (2 s), during
# the reads above: what used to make them wait.
expect_eq "the API write during the lock waited for it, then 503" 503 "$(cat "$CTL_TMP/post.code")"
check "node.suspect of n1 journalled after the lock, nothing lost" wait_until 10 events_have node.suspect n1
check "node.down of n1 journalled after the lock, nothing lost" wait_until 10 events_have node.down n1

# ---- a long online backup: one page at a time, 50 ms apart
python3 - "$DB" "$CTL_TMP/backup.db" <<'PY' >"$CTL_TMP/backup.out" 2>&1 &
import sqlite3, sys, time
src = sqlite3.connect(sys.argv[1])
dst = sqlite3.connect(sys.argv[2])
src.backup(dst, pages=1, progress=lambda status, remaining, total: time.sleep(0.05))
dst.close()
src.close()
print("backup done")
PY
BACKUP=$!
CTL_PIDS+=("$BACKUP")
sleep 0.2
check "the backup is still running" kill -0 "$BACKUP"
reads_stay_prompt "during a long backup" 6
t0=$(now_ms)
api PATCH /api/v1/nodes/n1 '{"priority": 50}'
ms=$(($(now_ms) - t0))
expect_status "a write during the backup succeeds" 200
check "without waiting for it ($ms ms)" test "$ms" -lt 1000
wait "$BACKUP"
check "the backup completed" grep -q "backup done" "$CTL_TMP/backup.out"
expect_eq "the backup is a sound database" ok "$(sqlite3 "$CTL_TMP/backup.db" 'PRAGMA integrity_check' 2>&1)"

if stop_ctl; then pass "kvfleetd stops cleanly"; else fail "kvfleetd stops cleanly"; fi
check "a clean stop removes the lock file" test ! -e "$DB.lock"
finish
