#!/usr/bin/env bash
# test_ctl_sentinel.sh - kvfleetd's Sentinel-compatible port end to end:
# three kvfleet-agents in cluster c1 (one master, two replicas) created over
# REST; redis-cli's SENTINEL commands, INFO and SUBSCRIBE on the port; Debian's
# python3-redis Sentinel client finding the master and a replica and using
# them; a replica killed shows as s_down and is no longer offered; protocol
# errors answered and the connection closed; after the master dies and
# kvfleetd fails over, the port names the new master and the client writes
# there. Then, for reference, Debian's
# own redis-sentinel on loopback monitoring a redis-server: the field names
# of SENTINEL MASTER and REPLICAS, the INFO sentinel lines and the SUBSCRIBE
# reply must have the same shape as ours.
set -u
. "$(dirname "$0")/ctl_lib.sh"

PY=/usr/bin/python3
"$PY" -c 'import redis.sentinel' 2>/dev/null || skip "Debian's python3-redis is not installed"

alloc_port PA; alloc_port PB; alloc_port PC
for p in $PA $PB $PC; do start_node "$p" || { fail "node $p start"; finish; }; done
start_ctl --monitor-interval-ms 100 --monitor-timeout-ms 300 || { fail "kvfleetd start"; finish; }
pass "kvfleetd (Sentinel port $SENTINEL_PORT) and 3 nodes started"
grep -q "Sentinel-compatible port listening on 127.0.0.1:$SENTINEL_PORT" "$CTL_TMP/ctl.log" &&
    pass "start-up log names the Sentinel address" || fail "start-up log names the Sentinel address"

for n in a:$PA b:$PB c:$PC; do
    api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":${n#*:},\"name\":\"${n%%:*}\"}"
    [ "$STATUS" = 201 ] || fail "register ${n%%:*} ($STATUS)"
done
api POST /api/v1/clusters '{"name":"c1","master":"a","replicas":["b","c"]}'
expect_status "create c1 (a; b, c)" 201
if wait_until 20 cluster_is c1 .health healthy; then pass "c1 healthy"; else fail "c1 healthy"; note "$(cluster_field c1 .)"; fi

sen() { redis-cli -p "$SENTINEL_PORT" "$@" 2>&1; }
words_sorted() { printf '%s\n' "$@" | sort | paste -sd' '; }
BC="$(words_sorted "127.0.0.1:$PB" "127.0.0.1:$PC")"

# ---- the commands clients use
expect_eq "PING" "PONG" "$(sen PING)"
expect_eq "get-master-addr-by-name c1 is the master" "127.0.0.1 $PA" \
    "$(sen SENTINEL get-master-addr-by-name c1 | paste -sd' ')"
expect_eq "get-master-addr-by-name of an unknown name is nil" "" "$(sen SENTINEL get-master-addr-by-name nope)"
expect_eq "SENTINEL master of an unknown name" "ERR No such master with that name" "$(sen SENTINEL master nope)"

# field <name> on a flat key/value listing read from stdin
field() { awk -v k="$1" 'NR % 2 == 1 && $0 == k { getline; print; exit }'; }
keys() { awk 'NR % 2 == 1'; }
# entry_of <name>: the entry of that name in a list of key/value arrays
# (redis-cli prints them flat, keys on odd lines).
entry_of() { awk -v n="$1" 'NR % 2 == 1 { key = $0; next } key == "name" { cur = ($0 == n) }
    cur { print key; print }'; }
masters="$(sen SENTINEL masters)"
expect_eq "SENTINEL masters: name" c1 "$(printf '%s\n' "$masters" | field name)"
expect_eq "SENTINEL masters: port" "$PA" "$(printf '%s\n' "$masters" | field port)"
expect_eq "SENTINEL masters: flags" master "$(printf '%s\n' "$masters" | field flags)"
expect_eq "SENTINEL masters: num-slaves" 2 "$(printf '%s\n' "$masters" | field num-slaves)"
expect_eq "SENTINEL masters: quorum" 1 "$(printf '%s\n' "$masters" | field quorum)"
runid="$(redis-cli -p "$PA" info server | tr -d '\r' | sed -n 's/^run_id://p')"
expect_eq "SENTINEL masters: runid is the master's" "$runid" "$(printf '%s\n' "$masters" | field runid)"

replicas_ok() {
    local r
    r="$(sen SENTINEL replicas c1)"
    [ "$(printf '%s\n' "$r" | grep -cx 'master-link-status')" = 2 ] &&
        [ "$(printf '%s\n' "$r" | grep -A1 -x 'master-link-status' | grep -cx ok)" = 2 ]
}
if wait_until 10 replicas_ok; then pass "SENTINEL replicas c1: two, links ok"; else
    fail "SENTINEL replicas c1: two, links ok"; note "$(sen SENTINEL replicas c1 | paste -sd' ')"; fi
replicas="$(sen SENTINEL replicas c1)"
expect_eq "replica names are ip:port" "$BC" \
    "$(printf '%s\n' "$replicas" | grep -A1 -x name | grep -v -x -e name -e -- | sort | paste -sd' ')"
expect_eq "replicas replicate from the master" "$PA $PA" \
    "$(printf '%s\n' "$replicas" | grep -A1 -x master-port | grep -v -x -e master-port -e -- | paste -sd' ')"
# (the ages in ms move between two calls: compare fields and names)
expect_eq "SENTINEL slaves is SENTINEL replicas" "$(printf '%s\n' "$replicas" | keys | paste -sd' ')" \
    "$(sen SENTINEL slaves c1 | keys | paste -sd' ')"
expect_eq "SENTINEL sentinels c1 is empty" "" "$(sen SENTINEL sentinels c1)"
info_sentinel="$(sen INFO sentinel | tr -d '\r')"   # also compared with redis-sentinel's below
expect_eq "INFO sentinel master line" "master0:name=c1,status=ok,address=127.0.0.1:$PA,slaves=2,sentinels=1" \
    "$(printf '%s\n' "$info_sentinel" | grep '^master0:')"
expect_eq "ROLE" "sentinel c1" "$(sen ROLE | paste -sd' ')"

# ---- pub/sub: the subscribe reply, then the connection stays open
sub="$(timeout 2 redis-cli -p "$SENTINEL_PORT" SUBSCRIBE +switch-master 2>&1 | head -3 | paste -sd' ')"
expect_eq "SUBSCRIBE +switch-master reply" "subscribe +switch-master 1" "$sub"

# ---- Debian's python3-redis Sentinel client, unchanged
cat >"$CTL_TMP/client.py" <<'EOF'
import sys, time
from redis.sentinel import Sentinel
port = int(sys.argv[1])
s = Sentinel([('127.0.0.1', port)], socket_timeout=2)
print('master', '%s:%d' % s.discover_master('c1'))
print('slaves', ' '.join(sorted('%s:%d' % a for a in s.discover_slaves('c1'))))
m = s.master_for('c1', socket_timeout=2)
m.set('sentinel-key', 'through-kvfleetd')
print('get', m.get('sentinel-key').decode())
r = s.slave_for('c1', socket_timeout=2)
for _ in range(50):
    v = r.get('sentinel-key')
    if v is not None:
        break
    time.sleep(0.1)
print('replica-get', v.decode() if v else None)
print('replica-role', r.execute_command('ROLE')[0].decode())
EOF
out="$("$PY" "$CTL_TMP/client.py" "$SENTINEL_PORT" 2>&1)"
expect_eq "python: discover_master" "master 127.0.0.1:$PA" "$(printf '%s\n' "$out" | grep '^master ')"
expect_eq "python: discover_slaves" "slaves $BC" "$(printf '%s\n' "$out" | grep '^slaves ')"
expect_eq "python: master_for SET/GET" "get through-kvfleetd" "$(printf '%s\n' "$out" | grep '^get ')"
expect_eq "python: slave_for reads the replicated key" "replica-get through-kvfleetd" \
    "$(printf '%s\n' "$out" | grep '^replica-get ')"
expect_eq "python: slave_for is a replica" "replica-role slave" "$(printf '%s\n' "$out" | grep '^replica-role ')"

# ---- a replica down: s_down, and clients stop being offered it
kill "$(node_pid "$PC")"
c_flags() { sen SENTINEL replicas c1 | entry_of "127.0.0.1:$PC" | field flags; }
c_down() { case "$(c_flags)" in s_down,slave*) return 0 ;; esac; return 1; }
if wait_until 10 c_down; then pass "killed replica c flagged $(c_flags)"; else fail "killed replica c flagged s_down (got $(c_flags))"; fi
slaves="$("$PY" -c "
from redis.sentinel import Sentinel
print(' '.join('%s:%d' % a for a in Sentinel([('127.0.0.1', $SENTINEL_PORT)]).discover_slaves('c1')))")"
expect_eq "python no longer offers the dead replica" "127.0.0.1:$PB" "$slaves"

# ---- protocol errors: Redis' text, then the connection is closed
proto() {
    exec 3<>"/dev/tcp/127.0.0.1/$SENTINEL_PORT" || return 1
    printf '%b' "$1" >&3
    timeout 2 cat <&3 | tr -d '\r'
    exec 3<&-
}
expect_eq "bad multibulk length" "-ERR Protocol error: invalid multibulk length" "$(proto '*x\r\n')"
expect_eq "unbalanced quotes" "-ERR Protocol error: unbalanced quotes in request" "$(proto '"abc\r\n')"
expect_eq "unknown command" "ERR unknown command 'GET', with args beginning with: 'k' " "$(sen GET k)"
check "kvfleetd still serves" test "$(sen PING)" = PONG

# ---- the master dies: after kvfleetd's failover, the port names the new
# master (b, the only replica left) and the unchanged client writes there
kill "$(node_pid "$PA")"
new_master() { [ "$(sen SENTINEL get-master-addr-by-name c1 | paste -sd' ')" = "127.0.0.1 $PB" ]; }
if wait_until 20 new_master; then pass "after failover get-master-addr-by-name is b"; else
    fail "after failover get-master-addr-by-name is b"; note "$(sen SENTINEL get-master-addr-by-name c1 | paste -sd' ')"; fi
out="$("$PY" -c "
from redis.sentinel import Sentinel
m = Sentinel([('127.0.0.1', $SENTINEL_PORT)], socket_timeout=2).master_for('c1', socket_timeout=2)
m.set('after', 'failover'); print(m.get('after').decode(), m.execute_command('ROLE')[0].decode())" 2>&1)"
expect_eq "python writes to the new master" "failover master" "$out"
expect_eq "the new master is b" failover "$(redis-cli -p "$PB" get after)"

# ---- reference: the same questions to Debian's redis-sentinel, compared
# with what kvfleetd answered while c1 was healthy ($masters, $replicas,
# $info_sentinel above)
if ! command -v redis-sentinel >/dev/null 2>&1; then
    note "no redis-sentinel: reference comparison skipped"
    finish
fi
alloc_port RM; alloc_port RR; alloc_port RS
start_redis "$RM" || { fail "reference redis master"; finish; }
start_redis "$RR" --replicaof 127.0.0.1 "$RM" || { fail "reference redis replica"; finish; }
ref_linked() { redis-cli -p "$RR" info replication | tr -d '\r' | grep -qx 'master_link_status:up'; }
wait_until 10 ref_linked || fail "reference replica linked"
mkdir -p "$CTL_TMP/refsentinel"
printf 'port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor c1 127.0.0.1 %s 1\nsentinel down-after-milliseconds c1 5000\n' \
    "$RS" "$CTL_TMP/refsentinel" "$RM" >"$CTL_TMP/refsentinel/sentinel.conf"
redis-sentinel "$CTL_TMP/refsentinel/sentinel.conf" --logfile "$CTL_TMP/refsentinel/log" >/dev/null 2>&1 &
CTL_PIDS+=("$!")
ref() { redis-cli -p "$RS" "$@" 2>&1; }
ref_replica() { ref SENTINEL replicas c1 | grep -qx replica-announced; }
if wait_until 15 ref_replica; then pass "reference redis-sentinel sees its replica"; else fail "reference redis-sentinel sees its replica"; finish; fi

expect_eq "SENTINEL MASTER: same field names, same order" "$(ref SENTINEL master c1 | keys | paste -sd' ')" \
    "$(printf '%s\n' "$masters" | keys | paste -sd' ')"
expect_eq "SENTINEL REPLICAS: same field names, same order" \
    "$(ref SENTINEL replicas c1 | entry_of "127.0.0.1:$RR" | keys | paste -sd' ')" \
    "$(printf '%s\n' "$replicas" | entry_of "127.0.0.1:$PB" | keys | paste -sd' ')"
expect_eq "get-master-addr-by-name: same shape" "$(ref SENTINEL get-master-addr-by-name c1 | wc -l)" \
    "$(sen SENTINEL get-master-addr-by-name c1 | wc -l)"
expect_eq "unknown master: same nil" "$(ref SENTINEL get-master-addr-by-name nope | od -c)" \
    "$(sen SENTINEL get-master-addr-by-name nope | od -c)"
info_keys() { tr -d '\r' | sed -n 's/^\([a-z_0-9]*\):.*/\1/p' | sed 's/^master[0-9]*$/masterN/' | paste -sd' '; }
expect_eq "INFO sentinel: same keys" "$(ref INFO sentinel | info_keys)" "$(printf '%s\n' "$info_sentinel" | info_keys)"
expect_eq "INFO sentinel: same master line shape" \
    "$(ref INFO sentinel | tr -d '\r' | grep '^master0:' | sed "s/$RM/PORT/")" \
    "$(printf '%s\n' "$info_sentinel" | grep '^master0:' | sed "s/$PA/PORT/; s/slaves=2/slaves=1/")"
expect_eq "SUBSCRIBE: same reply" \
    "$(timeout 2 redis-cli -p "$RS" SUBSCRIBE +switch-master 2>&1 | head -3 | paste -sd' ')" "$sub"
for c in "PING a b" "SENTINEL bogus" "SENTINEL master" "CLIENT bogus" "GET k" "AUTH x" "HELLO 4"; do
    # shellcheck disable=SC2086
    expect_eq "same error: $c" "$(ref $c)" "$(sen $c)"
done

finish
