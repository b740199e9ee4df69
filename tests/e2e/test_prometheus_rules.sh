#!/usr/bin/env bash
# test_prometheus_rules.sh - the shipped Prometheus files are valid and the
# alerts do what they say: `promtool check config` on
# deploy/prometheus/prometheus.yml (which also loads alerts.yml, relative to
# the config file), `promtool check rules` on deploy/prometheus/alerts.yml,
# every alert of alerts.yml covered by tests/prometheus/alerts_test.yml, and
# `promtool test rules` on that file (each alert fires on the bad series with
# its labels and annotations, and stays quiet on healthy ones). Needs no
# kvfleetd; skipped when promtool (Debian's prometheus package) is absent.
set -u
. "$(dirname "$0")/lib.sh"

PROMTOOL="${PROMTOOL:-promtool}"
command -v "$PROMTOOL" >/dev/null 2>&1 || skip "promtool is not installed (apt-get install prometheus)"
note "$("$PROMTOOL" --version 2>&1 | head -1)"

CONFIG="$LIB_ROOT/deploy/prometheus/prometheus.yml"
RULES="$LIB_ROOT/deploy/prometheus/alerts.yml"
TESTS="$LIB_ROOT/tests/prometheus/alerts_test.yml"

# promtool_ok <name> <args...>: ok when promtool exits 0; its output is
# always shown (as notes), so the log says what was checked.
promtool_ok() {
    local name="$1" out rc
    shift
    out="$("$PROMTOOL" "$@" 2>&1)"
    rc=$?
    printf '%s\n' "$out" | sed 's/^/#   /'
    if [ $rc -eq 0 ]; then pass "$name"; else fail "$name (promtool exit $rc)"; fi
}

promtool_ok "promtool check config deploy/prometheus/prometheus.yml" check config "$CONFIG"
promtool_ok "promtool check rules deploy/prometheus/alerts.yml" check rules "$RULES"

# Every alert has test cases: at least two evaluations naming it (the unit
# tests pair a firing case with a quiet one).
alerts="$(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\).*/\1/p' "$RULES")"
[ -n "$alerts" ] || fail "alerts.yml names no alert"
for a in $alerts; do
    n="$(grep -c "alertname: *$a *\$" "$TESTS")"
    if [ "$n" -ge 2 ]; then pass "$a has unit tests ($n evaluations)"
    else fail "$a has unit tests (found $n evaluations, want >= 2)"; fi
done

promtool_ok "promtool test rules tests/prometheus/alerts_test.yml" test rules "$TESTS"

finish
