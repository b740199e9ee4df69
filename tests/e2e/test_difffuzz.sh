#!/usr/bin/env bash
# test_difffuzz.sh: the differential command fuzzer's smoke run. A fixed seed
# and command count (tests/difffuzz/README.md): every reply of the agent is
# compared with Debian's redis-server 7.0 and the keyspaces are read back
# after each batch. Any difference that tests/difffuzz/allowlist.txt does not
# accept, any agent crash or hang fails the test; the fuzzer's report names
# the seed, the command and a replay file (copied to build/difffuzz/smoke/).
#
# Env: DIFFFUZZ_SEED, DIFFFUZZ_SEED2, DIFFFUZZ_N override the fixed runs.

. "$(dirname "$0")/lib.sh"
need_redis
need_tool difffuzz
[ -x "$KVFLEET_AGENT" ] || { fail "agent binary $KVFLEET_AGENT is missing (run make)"; finish; }

n="${DIFFFUZZ_N:-50000}"
keep="$LIB_ROOT/build/difffuzz/smoke"
redis_bin="$(command -v "$REDIS_SERVER")"

# run_fuzz <name> <seed> [options...]: one run of n commands. The fuzzer
# starts both servers itself on free loopback ports, in directories under
# its --out directory, and stops them by pid (they also die with it).
run_fuzz() {
    local name="$1" seed="$2" out="$LIB_TMP/difffuzz-$1" rc=0 sent summary
    shift 2
    "$KVFLEET_TOOLS/difffuzz" --agent-bin "$KVFLEET_AGENT" --redis-bin "$redis_bin" \
        --seed "$seed" -n "$n" --allowlist "$LIB_ROOT/tests/difffuzz/allowlist.txt" \
        --out "$out" --max-findings 1 --quiet --quiet --time-limit 100 "$@" >"$out.log" 2>&1 || rc=$?
    sed 's/^/# /' "$out.log" | tail -n 40
    summary="$(grep -m1 '^difffuzz: seed .* commands in' "$out.log" || true)"
    sent="$(sed -n 's/^difffuzz: seed [0-9]*: \([0-9]*\) commands in.*/\1/p' "$out.log" | head -n1)"
    if [ "$rc" -eq 0 ] && [ "${sent:-0}" -ge "$n" ]; then
        pass "difffuzz $name (seed $seed): $n commands, no difference outside the allowlist"
    else
        fail "difffuzz $name (seed $seed): exit $rc, ${sent:-0} of $n commands (${summary:-no summary})"
        if ls "$out"/replay-*.txt >/dev/null 2>&1; then
            mkdir -p "$keep" && cp "$out"/replay-*.txt "$keep"/ &&
                note "replay files copied to $keep (build/tools/difffuzz --replay FILE, or --minimize FILE -o OUT)"
        fi
    fi
}

# 1. Every command, the allowlisted differences included: an entry that no
#    longer matches what the agent answers shows up here.
run_fuzz all "${DIFFFUZZ_SEED:-20260705}"
# 2. Without the commands whose every reply differs (COMMAND DOCS, GETKEYS...),
#    so that more batches end clean and get their keyspace read back.
run_fuzz deep "${DIFFFUZZ_SEED2:-4242}" --avoid-allowed

# The run starts and stops its own servers: none may be left behind (a pid
# file stays only while its server may run).
left=""
for f in "$LIB_TMP"/difffuzz-*/servers/*/server.pid; do
    [ -f "$f" ] || continue
    pid="$(cat "$f")"
    if pid_alive "$pid"; then left="$left $pid"; kill -KILL "$pid" 2>/dev/null || true; fi
done
expect_eq "no server left running" "" "$left"
finish
