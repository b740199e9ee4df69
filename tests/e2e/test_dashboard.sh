#!/usr/bin/env bash
# test_dashboard.sh - the web dashboard (web/) in a real browser: headless
# Chromium driven by playwright-core (tests/browser/dashboard.test.mjs)
# against a live fleet of kvfleetd and three kvfleet-agents on loopback.
# The browser test checks the roles in the cards, a switchover clicked in the
# page (with the token asked for on the 401), a master killed with kill -9
# (card turns red/"down", then the new master), readable API errors,
# maintenance on/off, add/remove replica, the 1 s polling with 304s, and the
# 390 px phone view without horizontal scrolling.
# Screenshots: $E2E_LOG_DIR/dashboard/ (default build/browser/); the final
# 1280 px one is also saved as docs/dashboard.png when
# UPDATE_DOCS_SCREENSHOT=1.
# Skips (77) only when node or chromium is missing; playwright-core is
# installed from tests/browser/package-lock.json unless node_modules exists.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BROWSER_DIR="$ROOT/tests/browser"
. "$HERE/ctl_lib.sh"
: "${CHROMIUM:=/usr/bin/chromium}"
command -v node >/dev/null 2>&1 || skip "node is not installed (the browser test runs on node)"
[ -x "$CHROMIUM" ] || skip "no chromium at $CHROMIUM (apt-get install chromium)"

if [ -f "$BROWSER_DIR/node_modules/playwright-core/package.json" ]; then
    note "playwright-core already installed in tests/browser/node_modules"
else
    # npm ci installs exactly the locked version; --prefer-offline uses the
    # npm cache when it has it.
    if (cd "$BROWSER_DIR" && npm ci --prefer-offline --no-audit --no-fund) >"$CTL_TMP/npm.log" 2>&1; then
        pass "npm ci (playwright-core)"
    else
        fail "npm ci in tests/browser"
        tail -n 20 "$CTL_TMP/npm.log" | sed 's/^/#   /'
        finish
    fi
fi

SHOTS="${E2E_LOG_DIR:+$E2E_LOG_DIR/dashboard}"
: "${SHOTS:=$ROOT/build/browser}"
mkdir -p "$SHOTS" || { fail "screenshot dir $SHOTS"; finish; }

# ---- the fleet: kvfleetd with a token, three agents registering themselves
TOKEN_VALUE="dash-$RANDOM-secret"
start_ctl --api-token "$TOKEN_VALUE" --monitor-interval-ms 100 --monitor-timeout-ms 500 ||
    { fail "kvfleetd start"; finish; }
pass "kvfleetd started on $CTL_URL"

alloc_port PA; alloc_port PB; alloc_port PC
NODES=
for spec in "a:$PA" "b:$PB" "c:$PC"; do
    n="${spec%%:*}" p="${spec#*:}"
    start_node "$p" --controller "$CTL_URL" --node-name "$n" --controller-token "$TOKEN_VALUE" ||
        { fail "agent $n start"; finish; }
    NODES="$NODES $n:$p:$LAST_PID"
    # How the browser test restarts a node it killed: same arguments as
    # start_node; it records the new pid in restarted.pids for the cleanup.
    cat >"$CTL_TMP/restart-$n.sh" <<SH
exec "$KVFLEET_NODE_SERVER" --port $p --bind 127.0.0.1 --save "" --appendonly no \
    --repl-diskless-sync-delay 0 --dir "$CTL_TMP/node-$p" --logfile "$CTL_TMP/node-$p/node.log" \
    --controller "$CTL_URL" --node-name $n --controller-token "$TOKEN_VALUE"
SH
done
for n in a b c; do wait_until 15 node_is "$n" .name "$n" || { fail "agent $n registered"; finish; }; done
pass "agents a, b, c registered"

TOKEN="$TOKEN_VALUE"
# A short cooldown: the kill -9 comes seconds after the switchover.
api POST /api/v1/clusters '{"name":"dash","master":"a","replicas":["b","c"],"settings":{"failover_cooldown_ms":1000}}'
expect_status "create cluster dash" 201
if wait_until 20 cluster_is dash .health healthy; then pass "dash healthy"; else
    fail "dash healthy"; note "$(cluster_field dash .)"; finish; fi

# ---- the browser test
# docs/dashboard.png is refreshed only on request (UPDATE_DOCS_SCREENSHOT=1),
# so a test run never leaves the checkout modified.
doc_shot=
[ "${UPDATE_DOCS_SCREENSHOT:-0}" = 1 ] && doc_shot="$ROOT/docs/dashboard.png"
export DASH_CTL_URL="$CTL_URL" DASH_TOKEN="$TOKEN_VALUE" DASH_NODES="${NODES# }" DASH_CLUSTER=dash \
    DASH_TMP="$CTL_TMP" DASH_SHOTS="$SHOTS" DASH_DOC_SHOT="$doc_shot" CHROMIUM
(cd "$BROWSER_DIR" && timeout -k 5 200 node dashboard.test.mjs)
rc=$?
# Nodes the browser test restarted are ours to stop.
if [ -f "$CTL_TMP/restarted.pids" ]; then
    while read -r p; do [ -n "$p" ] && CTL_PIDS+=("$p"); done <"$CTL_TMP/restarted.pids"
fi
if [ "$rc" = 0 ]; then pass "browser test"; else fail "browser test (exit $rc)"; fi
note "screenshots in $SHOTS"
finish
