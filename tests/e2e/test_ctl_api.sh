#!/usr/bin/env bash
# test_ctl_api.sh - kvfleetd process and REST API end to end: configuration
# errors, loopback-only without a token, every endpoint, every error status
# (400 with line/column, 401, 404, 405, 409, 413, 422, 503), bearer auth,
# idempotent registration and events paging; GET /clusters?detail=full (with
# the last failover, after a switchover); the HTTP layer: Allow on 405,
# ETag / If-None-Match / 304, HEAD, the embedded dashboard (GET / is HTML,
# unknown files are JSON 404s), /metrics and metrics-auth. The reliability
# issue's defects: an escaped NUL or control character in a path is a JSON
# 400 and never runs another route; one server under two spellings of its
# address (or two addresses, same run id) is a 409 naming the node; '.' and
# '..' names are 422; `since` takes offsets and bare dates; next_cursor only
# when a next page exists; IPv6 default names in brackets; HTTP/1.1 without
# Host is a 400; oversize URL and headers are JSON 414 / 431. Data nodes are
# real Redis 7 (or KVFLEET_NODE_SERVER).
set -u
. "$(dirname "$0")/ctl_lib.sh"

# hget <METHOD> <path> [curl args...]: like api, also keeps the response
# headers in $CTL_TMP/headers (HDRS) for header checks.
hget() {
    local method="$1" path="$2"
    shift 2
    local args=(-s -o "$CTL_TMP/body" -D "$CTL_TMP/headers" -w '%{http_code}' --max-time 10)
    [ -n "$TOKEN" ] && args+=(-H "Authorization: Bearer $TOKEN")
    if [ "$method" = HEAD ]; then args+=(-I); else args+=(-X "$method"); fi
    : >"$CTL_TMP/body"               # curl writes nothing for a 304: no stale body
    STATUS="$(curl "${args[@]}" "$@" "$CTL_URL$path")"
    BODY="$(cat "$CTL_TMP/body" 2>/dev/null)"
    HDRS="$(tr -d '\r' <"$CTL_TMP/headers" 2>/dev/null)"
}
# header <name>: value of a header of the last hget (case-insensitive name).
header() { printf '%s\n' "$HDRS" | awk -v n="$1" 'BEGIN { n = tolower(n) ": " }
    index(tolower($0), n) == 1 { print substr($0, length(n) + 1); exit }'; }

# ---- process and configuration
cat >"$CTL_TMP/bad.conf" <<'CONF'
# a comment
http-bind 127.0.0.1:7480

monitor-interval-ms often
CONF
out="$("$KVFLEETD" "$CTL_TMP/bad.conf" 2>&1)"
rc=$?
expect_eq "bad config exits 1" 1 "$rc"
check "bad config names the file and line" grep -q "bad.conf, at line 4" <<<"$out"
check "bad config quotes the line and reason" grep -q "monitor-interval-ms often" <<<"$out"

out="$("$KVFLEETD" --http-bind 0.0.0.0:1 --db-path "$CTL_TMP/x.db" 2>&1)"
rc=$?
expect_eq "non-loopback bind without api-token refused" 1 "$rc"
check "refusal gives the reason" grep -q "api-token" <<<"$out"
check "refused start created no database" test ! -e "$CTL_TMP/x.db"

printf 'this is not a database at all, kvfleetd must not overwrite it\n%.0s' $(seq 1 200) >"$CTL_TMP/corrupt.db"
sum_before="$(md5sum <"$CTL_TMP/corrupt.db")"
alloc_port p
"$KVFLEETD" --http-bind "127.0.0.1:$p" --db-path "$CTL_TMP/corrupt.db" >"$CTL_TMP/corrupt.out" 2>&1
expect_eq "corrupt database refused (exit 1)" 1 "$?"
expect_eq "corrupt database left untouched" "$sum_before" "$(md5sum <"$CTL_TMP/corrupt.db")"

# ---- start the fleet: 4 nodes
alloc_port P1; alloc_port P2; alloc_port P3; alloc_port P4
for p in $P1 $P2 $P3 $P4; do start_node "$p" || { fail "node $p start"; finish; }; done
TOKEN_VALUE="e2e-$RANDOM-secret"
start_ctl --api-token "$TOKEN_VALUE" --monitor-interval-ms 100 || { fail "kvfleetd start"; finish; }
pass "kvfleetd started on 127.0.0.1:$CTL_PORT"

api GET /api/v1/health
expect_status "GET /health" 200
expect_eq "health reports database ok" ok "$(jbody .database.status)"
check "health has a version" test -n "$(jbody .version)"

# ---- auth
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$P1,\"name\":\"n1\"}"
expect_status "mutation without token" 401
expect_eq "401 error code" unauthorized "$(jbody .error.code)"
TOKEN=wrong
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$P1,\"name\":\"n1\"}"
expect_status "mutation with a wrong token" 401
TOKEN=
api GET /api/v1/nodes
expect_status "reads are open without api-auth-reads" 200
check "token never appears in responses or log" bash -c "! grep -q '$TOKEN_VALUE' '$CTL_TMP/ctl.log' '$CTL_TMP/body'"
TOKEN="$TOKEN_VALUE"

# ---- nodes
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$P1,\"name\":\"n1\",\"priority\":10,\"tags\":[\"ssd\"]}"
expect_status "register n1" 201
expect_eq "n1 tags" ssd "$(jbody '.tags[0]')"
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$P1,\"name\":\"n1\"}"
expect_status "register n1 again is idempotent" 200
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$P2,\"name\":\"n1\"}"
expect_status "name taken at another address" 409
expect_eq "409 error code" conflict "$(jbody .error.code)"
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$P2,\"name\":\"n2\"}"
expect_status "register n2" 201
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$P3,\"name\":\"n3\"}"
expect_status "register n3" 201
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$P4}"
expect_status "register without a name" 201
expect_eq "default name is host:port" "127.0.0.1:$P4" "$(jbody .name)"
api POST /api/v1/nodes '{"host":"127.0.0.1","port":70000}'
expect_status "port out of range" 422

# One server, registered under another spelling of its address: a 409
# naming the node it already is (two clusters would fight over it).
api POST /api/v1/nodes "{\"host\":\"localhost\",\"port\":$P1,\"name\":\"n1-again\"}"
expect_status "the same server as localhost" 409
expect_eq "the 409 names the registered node" n1 "$(jbody .error.node)"
check "the 409 says why" grep -q "node 'n1'" <<<"$(jbody .error.message)"
api POST /api/v1/nodes "{\"host\":\"localhost\",\"port\":$P1}"
expect_status "the same server as localhost, no name" 409
api POST /api/v1/nodes "{\"host\":\"127.1\",\"port\":$P1,\"name\":\"n1-short\"}"
expect_status "the same server as 127.1" 409
api GET /api/v1/nodes
expect_eq "no second node for that server" 4 "$(jbody '.nodes | length')"
# Two addresses that resolve apart but reach one server (it listens on both):
# the run id the monitor has seen tells.
alloc_port P5
if start_redis "$P5" --bind "127.0.0.1 127.0.0.2"; then
    api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$P5,\"name\":\"twin\"}"
    expect_status "register twin" 201
    if wait_until 5 bash -c "curl -s '$CTL_URL/api/v1/nodes/twin' | jq -e '.status.run_id != null'"; then
        api POST /api/v1/nodes "{\"host\":\"127.0.0.2\",\"port\":$P5,\"name\":\"twin2\"}"
        expect_status "the same server at another address (same run id)" 409
        expect_eq "run id conflict names the node" twin "$(jbody .error.node)"
        check "run id conflict says so" grep -q "run id" <<<"$(jbody .error.message)"
    else
        fail "monitor sees twin's run id"
    fi
    api DELETE /api/v1/nodes/twin
    expect_status "delete twin" 200
else
    fail "redis-server on 127.0.0.1 and 127.0.0.2"
fi
# '.' and '..' cannot be managed (clients normalise them out of URLs).
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$P4,\"name\":\".\"}"
expect_status "node named '.'" 422
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$P4,\"name\":\"..\"}"
expect_status "node named '..'" 422
api POST /api/v1/clusters '{"name":"..","master":"n1"}'
expect_status "cluster named '..'" 422
api POST /api/v1/clusters '{"name":".","master":"n1"}'
expect_status "cluster named '.'" 422
# An IPv6 node's default name has its address in brackets.
alloc_port P6
api POST /api/v1/nodes "{\"host\":\"::1\",\"port\":$P6}"
expect_status "register an IPv6 node without a name" 201
expect_eq "IPv6 default name in brackets" "[::1]:$P6" "$(jbody .name)"
api GET "/api/v1/nodes/%5B::1%5D:$P6"
expect_status "the bracketed name is an address a client can use" 200
api GET "/api/v1/events?node=%5B::1%5D:$P6"
expect_eq "events print it in brackets" "node registered at [::1]:$P6" "$(jbody '.events[-1].message')"
api DELETE "/api/v1/nodes/%5B::1%5D:$P6"
expect_status "delete the IPv6 node" 200
api POST /api/v1/nodes '{"host":"127.0.0.1",
  "port": 1,,}'
expect_status "malformed JSON" 400
check "400 names line and column" grep -q "line 2, column" <<<"$(jbody .error.message)"
api POST /api/v1/nodes '{"host":"127.0.0.1","port":1,"colour":"red"}'
expect_status "unknown field" 400
check "unknown field is named" grep -q colour <<<"$(jbody .error.message)"
head -c 1100000 /dev/zero | tr '\0' ' ' >"$CTL_TMP/big.json"
STATUS="$(curl -s -o "$CTL_TMP/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
          -H 'Content-Type: application/json' --data-binary @"$CTL_TMP/big.json" "$CTL_URL/api/v1/nodes")"
BODY="$(cat "$CTL_TMP/body")"
expect_status "body over 1 MiB" 413
api GET /api/v1/nodes/ghost
expect_status "unknown node" 404
api PUT /api/v1/nodes
expect_status "wrong method" 405
api GET /api/v1/nothing-here
expect_status "unknown endpoint" 404
api PATCH /api/v1/nodes/n3 '{"priority":50,"maintenance":true}'
expect_status "PATCH node" 200
expect_eq "maintenance set" true "$(jbody .maintenance)"
api PATCH /api/v1/nodes/n3 '{"maintenance":"yes"}'
expect_status "PATCH with a wrong type" 422
api PATCH /api/v1/nodes/n3 '{"maintenance":false}'
expect_status "PATCH maintenance off" 200
if wait_until 5 node_is n1 .status.state up; then pass "monitor sees n1 up"; else fail "monitor sees n1 up"; fi

# ---- HTTP layer: 405 + Allow, HEAD, ETag / 304, dashboard files, /metrics
hget DELETE /api/v1/nodes
expect_status "405 on a known path" 405
expect_eq "405 lists the methods in Allow" "GET, HEAD, POST" "$(header Allow)"
check "405 lists the methods in the JSON body" grep -q "GET, HEAD, POST" <<<"$(jbody .error.message)"
hget FROB /api/v1/nodes/n1
expect_status "an unknown method is a JSON 405" 405
expect_eq "unknown method: Allow" "GET, HEAD, PATCH, DELETE" "$(header Allow)"
expect_eq "unknown method: JSON error" method_not_allowed "$(jbody .error.code)"
# (no cluster yet: the list does not change between these calls, unlike a
# node, whose last_poll_age_ms moves every millisecond)
hget GET /api/v1/clusters
expect_status "GET clusters" 200
etag="$(header ETag)"
len="$(header Content-Length)"
check "JSON GET has an ETag" test -n "$etag"
expect_eq "JSON GET is revalidated each time" no-cache "$(header Cache-Control)"
hget GET /api/v1/clusters -H "If-None-Match: $etag"
expect_status "If-None-Match with the current ETag" 304
expect_eq "304 has no body" "" "$BODY"
expect_eq "304 repeats the ETag" "$etag" "$(header ETag)"
hget GET /api/v1/clusters -H 'If-None-Match: "0000000000000000"'
expect_status "If-None-Match with another ETag" 200
hget HEAD /api/v1/clusters
expect_status "HEAD on a GET route" 200
check "HEAD: no body" bash -c "! grep -q '{' '$CTL_TMP/body'"
expect_eq "HEAD: Content-Length of the GET" "$len" "$(header Content-Length)"
expect_eq "HEAD: same ETag" "$etag" "$(header ETag)"
hget GET /
expect_status "GET / serves the dashboard" 200
check "GET / is text/html" grep -q '^text/html' <<<"$(header Content-Type)"
check "GET / is the dashboard's index.html" cmp -s "$CTL_TMP/body" "$CTL_ROOT/web/index.html"
check "dashboard file has an ETag" test -n "$(header ETag)"
expect_eq "dashboard file: Cache-Control" no-cache "$(header Cache-Control)"
hget GET / -H "If-None-Match: $(header ETag)"
expect_status "dashboard file revalidated" 304
hget GET /nope.js
expect_status "unknown dashboard file" 404
expect_eq "unknown file: JSON error" not_found "$(jbody .error.code)"
check "unknown file: JSON content type" grep -q '^application/json' <<<"$(header Content-Type)"
hget GET /js/../index.html --path-as-is
expect_status "dot segments refused" 400
hget GET /api/v1/index.html
expect_status "API paths never fall back to files" 404
check "unknown API path: JSON error" grep -q "no such endpoint" <<<"$(jbody .error.message)"
hget POST /
expect_status "POST on a dashboard file" 405
expect_eq "dashboard files: Allow" "GET, HEAD" "$(header Allow)"

# ---- request hygiene: escapes, Host, sizes; every answer JSON
for bad in "n3%00anything" "n3%01" "n3%0d%0aX:1" "%ff" "n3%zz"; do
    hget GET "/api/v1/nodes/$bad"
    expect_status "GET /nodes/$bad" 400
    check "GET /nodes/$bad: JSON error" grep -q '^application/json' <<<"$(header Content-Type)"
done
api PATCH /api/v1/nodes/n3%00anything '{"maintenance":true}'
expect_status "PATCH a name with an escaped NUL" 400
expect_eq "...which did not reach n3" false "$(node_field n3 .maintenance)"
api DELETE /api/v1/nodes/n3%00anything
expect_status "DELETE a name with an escaped NUL" 400
api GET /api/v1/nodes/n3
expect_status "...and n3 is still registered" 200
api GET "/api/v1/nodes?cluster=c1%00x"
expect_status "an escaped NUL in the query string" 400
hget GET /api/v1/health -H 'Host:'
expect_status "HTTP/1.1 without Host" 400
expect_eq "HTTP/1.1 without Host: JSON" bad_request "$(jbody .error.code)"
hget GET /api/v1/health -H 'Host:' --http1.0
expect_status "HTTP/1.0 without Host is fine" 200
long="$(head -c 9000 /dev/zero | tr '\0' a)"
hget GET "/api/v1/nodes/$long"
expect_status "URL over 8 KiB" 414
expect_eq "414 is JSON" uri_too_long "$(jbody .error.code)"
hget GET /api/v1/health -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)"
expect_status "headers over 16 KiB" 431
expect_eq "431 is JSON" headers_too_large "$(jbody .error.code)"
TOKEN=
hget GET /metrics
expect_status "/metrics is open by default" 200
check "/metrics content type" grep -q '^text/plain; version=0.0.4' <<<"$(header Content-Type)"
TOKEN="$TOKEN_VALUE"

# ---- clusters
api POST /api/v1/clusters '{"name":"c1","master":"n1","replicas":["n2","ghost"]}'
expect_status "cluster with an unregistered node" 422
api GET /api/v1/clusters/c1
expect_status "failed create left nothing behind" 404
api POST /api/v1/clusters '{"name":"c1","master":"n1","replicas":["n2","n3"],"settings":{"lag_threshold_bytes":100000}}'
expect_status "create cluster c1" 201
expect_eq "c1 master" n1 "$(jbody .master.node)"
api POST /api/v1/clusters '{"name":"c1","master":"127.0.0.1:'"$P4"'"}'
expect_status "duplicate cluster" 409
api POST /api/v1/clusters '{"name":"c2","master":"127.0.0.1:'"$P4"'","replicas":["n2"]}'
expect_status "node in two clusters" 422
api POST /api/v1/clusters '{"name":"c2","master":"127.0.0.1:'"$P4"'","settings":{"nope":1}}'
expect_status "unknown settings field" 400
if wait_until 20 cluster_is c1 .health healthy; then pass "c1 becomes healthy (REPLICAOF issued)"; else
    fail "c1 becomes healthy"; note "$(cluster_field c1 .)"; fi
expect_eq "replica n2 replicates from n1" "127.0.0.1:$P1" "$(cluster_field c1 '.replicas[] | select(.node=="n2") | .replicating_from')"
expect_eq "replica link up" up "$(cluster_field c1 '.replicas[0].link')"
# The reliability issue: a %00 cut the path, so this deleted cluster c1.
api DELETE /api/v1/clusters/c1%00/replicas/n3
expect_status "DELETE /clusters/c1%00/replicas/n3" 400
api GET /api/v1/clusters/c1
expect_status "...and cluster c1 still exists" 200
expect_eq "...with n3 still a replica" 2 "$(jbody '.replicas | length')"
api DELETE /api/v1/clusters/c1%2Freplicas%2Fn3
expect_status "an escaped '/' is part of the name, not a route" 404
check "lag in bytes reported" test "$(cluster_field c1 '.replicas[0].lag_bytes')" != null
check "lag in seconds reported" test "$(cluster_field c1 '.replicas[0].lag_seconds')" != null
check "redis agrees: n2 is a replica" bash -c "redis-cli -p $P2 info replication | grep -q role:slave"

api GET /api/v1/clusters
expect_status "list clusters" 200
expect_eq "one cluster listed" 1 "$(jbody '.clusters | length')"
# detail=full: every cluster's detailed view and its last failover, in one
# request (what the dashboard polls)
hget GET "/api/v1/clusters?detail=full"
expect_status "list clusters with detail=full" 200
check "detail=full has an ETag" test -n "$(header ETag)"
expect_eq "detail=full: master object" n1 "$(jbody '.clusters[0].master.node')"
expect_eq "detail=full: replicas with their link" "up up" "$(jbody '[.clusters[0].replicas[].link] | join(" ")')"
expect_eq "detail=full: no failover yet is null" null "$(jbody '.clusters[0].last_failover')"
full_keys="$(jbody '.clusters[0] | del(.last_failover) | keys | join(",")')"
api GET /api/v1/clusters/c1
expect_eq "detail=full: the keys of GET /clusters/{name}" "$(jbody 'keys | join(",")')" "$full_keys"
api GET "/api/v1/clusters?detail=fulll"
expect_status "detail: unknown value" 400
expect_eq "detail: unknown value is a JSON bad_request" bad_request "$(jbody .error.code)"
api GET "/api/v1/clusters?detail=summary"
expect_eq "detail=summary: the master's name" n1 "$(jbody '.clusters[0].master')"
api GET /api/v1/clusters/c1/master
expect_status "master lookup" 200
expect_eq "master lookup port" "$P1" "$(jbody .port)"
expect_eq "master lookup host" 127.0.0.1 "$(jbody .host)"
api GET "/api/v1/nodes?cluster=c1&role=replica"
expect_status "filter nodes" 200
expect_eq "two replicas in c1" 2 "$(jbody '.nodes | length')"
api GET "/api/v1/nodes?state=sideways"
expect_status "bad filter value" 400
api PATCH /api/v1/clusters/c1 '{"settings":{"min_replicas_to_write":1}}'
expect_status "PATCH cluster settings" 200
expect_eq "settings kept" 100000 "$(jbody .settings.lag_threshold_bytes)"
api PATCH /api/v1/clusters/c1 '{"settings":{"min_replicas_to_write":-3}}'
expect_status "negative setting" 422
api POST /api/v1/clusters/c1/replicas "{\"node\":\"127.0.0.1:$P4\"}"
expect_status "add replica" 200
api POST /api/v1/clusters/c1/replicas "{\"node\":\"127.0.0.1:$P4\"}"
expect_status "add the same replica again (idempotent)" 200
api POST /api/v1/clusters/c1/replicas '{"node":"n1"}'
expect_status "add the master as a replica" 422
if wait_until 15 bash -c "redis-cli -p $P4 info replication | grep -q master_port:$P1"; then
    pass "added replica follows the master"; else fail "added replica follows the master"; fi
api DELETE /api/v1/clusters/c1/replicas/n1
expect_status "removing the master as a replica" 422
api DELETE "/api/v1/clusters/c1/replicas/127.0.0.1:$P4"
expect_status "remove replica" 200
expect_eq "removed replica detached" true "$(jbody .detached)"
check "redis agrees: removed node is a master" bash -c "redis-cli -p $P4 info replication | grep -q role:master"
api DELETE /api/v1/nodes/n2
expect_status "delete a node still in a cluster" 409
api DELETE "/api/v1/nodes/127.0.0.1:$P4"
expect_status "delete a free node" 200
api GET "/api/v1/nodes/127.0.0.1:$P4"
expect_status "deleted node is gone" 404

# ---- events
api GET "/api/v1/events?cluster=c1&limit=3"
expect_status "events page 1" 200
expect_eq "page size" 3 "$(jbody '.events | length')"
cursor="$(jbody .next_cursor)"
first_id="$(jbody '.events[0].id')"
api GET "/api/v1/events?cluster=c1&limit=3&cursor=$cursor"
expect_status "events page 2" 200
check "page 2 is older" test "$(jbody '.events[0].id')" -lt "$first_id"
api GET "/api/v1/events?limit=1000"
check "cluster.created recorded with actor api" test "$(jbody '[.events[] | select(.kind=="cluster.created" and .actor=="api")] | length')" = 1
check "REPLICAOF recorded by the reconciler" test "$(jbody '[.events[] | select(.kind=="reconcile.replicaof")] | length')" -ge 2
api GET "/api/v1/events?since=2999-01-01T00:00:00Z"
expect_eq "since filter" 0 "$(jbody '.events | length')"
for since in 2999-01-01 "2999-01-01T00:00:00%2B02:00" "2999-01-01T00:00:00+02:00" "2999-01-01T00:00:00-0530"; do
    api GET "/api/v1/events?since=$since"
    expect_status "since=$since" 200
    expect_eq "since=$since filters" 0 "$(jbody '.events | length')"
done
api GET "/api/v1/events?since=2001-01-01T00:00:00-05:30"
check "since with an offset in the past keeps events" test "$(jbody '.events | length')" -gt 0
api GET "/api/v1/events?since=2026-13-01"
expect_status "since: no 13th month" 400
# next_cursor only when a next page exists: the deleted node's events no
# longer change.
gone="127.0.0.1:$P4"
api GET "/api/v1/events?node=$gone&limit=1000"
k="$(jbody '.events | length')"
check "the deleted node has events ($k)" test "$k" -ge 2
api GET "/api/v1/events?node=$gone&limit=$k"
expect_eq "a page exactly full with nothing after: no next_cursor" null "$(jbody .next_cursor)"
api GET "/api/v1/events?node=$gone&limit=$((k - 1))"
cursor="$(jbody .next_cursor)"
check "one short of all: next_cursor" test "$cursor" != null
api GET "/api/v1/events?node=$gone&limit=$((k - 1))&cursor=$cursor"
expect_eq "the last page holds the rest" 1 "$(jbody '.events | length')"
expect_eq "the last page has no next_cursor" null "$(jbody .next_cursor)"
api GET "/api/v1/events?limit=abc"
expect_status "bad limit" 400

# ---- 503: another process holds the database write lock
( printf 'BEGIN IMMEDIATE;\nINSERT INTO events(ts,kind,message,actor) VALUES(0,%s,%s,%s);\n' \
      "'lock'" "'e2e lock'" "'e2e'"; sleep 5; printf 'ROLLBACK;\n' ) | sqlite3 "$CTL_TMP/ctl.db" &
LOCK_PID=$!
CTL_PIDS+=("$LOCK_PID")
sleep 0.5
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$P4,\"name\":\"late\"}"
expect_status "database cannot be written" 503
expect_eq "503 error code" unavailable "$(jbody .error.code)"
api GET /api/v1/nodes/n1
expect_status "reads still served while the database is locked" 200
age="$(jbody .status.last_poll_age_ms)"
check "monitor kept polling during the lock (last poll ${age} ms ago)" test "$age" -lt 400
wait "$LOCK_PID" 2>/dev/null
api GET /api/v1/nodes/late
expect_status "failed registration changed nothing" 404
api POST /api/v1/nodes "{\"host\":\"127.0.0.1\",\"port\":$P4,\"name\":\"late\"}"
expect_status "writes work again once the lock is gone" 201
# late is in no cluster, n1..n3 are in c1: cluster= (empty) lists late only.
api GET "/api/v1/nodes?cluster="
expect_status "nodes outside any cluster" 200
expect_eq "cluster= lists the nodes outside any cluster" late "$(jbody '[.nodes[].name] | join(",")')"

# ---- api-auth-reads
stop_ctl
expect_eq "SIGTERM: clean exit" 0 "$?"
start_ctl --api-token "$TOKEN_VALUE" --api-auth-reads yes --metrics-auth yes || { fail "restart"; finish; }
TOKEN=
api GET /api/v1/clusters
expect_status "reads need the token with api-auth-reads" 401
hget GET /
expect_status "dashboard files need no token" 200
hget GET /metrics
expect_status "/metrics needs the token with metrics-auth" 401
expect_eq "/metrics 401 is JSON" unauthorized "$(jbody .error.code)"
expect_eq "401 asks for a bearer token" Bearer "$(header WWW-Authenticate)"
TOKEN="$TOKEN_VALUE"
api GET /api/v1/clusters
expect_status "reads with the token" 200
hget GET /metrics
expect_status "/metrics with the token" 200

# ---- a switchover shows up as the cluster's last failover in detail=full
# (reads need the token now, which cluster_is does not send)
c1_health() { curl -s --max-time 5 -H "Authorization: Bearer $TOKEN" "$CTL_URL/api/v1/clusters/c1" | jq -r .health; }
c1_healthy() { [ "$(c1_health)" = healthy ]; }
if wait_until 20 c1_healthy; then pass "c1 healthy again after the restart"; else
    fail "c1 healthy again after the restart"; note "$(c1_health)"; fi
api POST /api/v1/clusters/c1/switchover '{"candidate":"n2"}'
expect_status "switchover c1 to n2" 200
fo_id="$(jbody .id)"
api GET "/api/v1/clusters?detail=full"
expect_status "detail=full after the switchover" 200
expect_eq "last_failover is the switchover" "$fo_id switchover done n1 n2" \
    "$(jbody '.clusters[0].last_failover | "\(.id) \(.kind) \(.status) \(.old_master) \(.new_master)"')"
check "last_failover has its duration" test "$(jbody '.clusters[0].last_failover.duration_ms')" -ge 0
check "last_failover leaves the steps out" test "$(jbody '.clusters[0].last_failover | has("steps")')" = false
api GET "/api/v1/clusters/c1/failovers?limit=1"
expect_eq "the same row as failovers?limit=1" "$fo_id" "$(jbody '.failovers[0].id')"
expect_eq "the only failover: no next_cursor" null "$(jbody .next_cursor)"

# ---- delete cluster
api DELETE /api/v1/clusters/c1
expect_status "delete cluster" 200
api GET /api/v1/clusters/c1
expect_status "deleted cluster is gone" 404
api GET /api/v1/nodes/n2
expect_eq "its nodes stay registered" null "$(jbody .cluster)"

finish
