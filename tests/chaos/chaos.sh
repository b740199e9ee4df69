#!/usr/bin/env bash
# chaos.sh - the fault-injection run (issue 13): three kvfleet-agents (one
# master, two replicas) and kvfleetd, each in its own network namespace, on a
# bridge; a writer (SET key-N + WAIT 1 500, master found through kvfleetd's
# Sentinel port) and a checker (every node, every 10 ms: does it take a
# write?) run throughout, while faults drawn from a seeded schedule hit the
# cluster. After each fault it measures the time from the fault's end to
# convergence (one unfenced master, every replica linked to it and caught
# up, read from the nodes themselves). At the end: every write WAIT
# confirmed is on the final master, no checker round saw two writable
# masters, no process crashed (exit statuses, ASan/UBSan logs).
#
# Network: the bridge <prefix>br lives in the root namespace with
# 10.213.<n>.1/24, so the writer, the checker and redis-cli run there
# unchanged; namespace <prefix>c holds kvfleetd (.10), <prefix>n1..n3 the
# agents (.11-.13), each behind a veth pair <prefix>h<i> (bridge side) /
# eth0. Everything binds its namespace's own address. The prefix is kvc<pid>
# (CHAOS_PREFIX overrides); a trap removes namespaces, veths, the bridge,
# the tmpfs mounts and the processes on any exit, and a run refuses to start
# while leftovers of its prefix exist.
#
# Fault kinds (CHAOS_KINDS narrows the list):
#   kill9_master            kill -9 the master; once a replica is promoted,
#                           restart it (empty, fenced) - restore = restart
#   stop_master             SIGSTOP the master for 0.5-4 s, then SIGCONT
#   link_cut_master         the master's veth down for 0.5-4 s, then up
#   ctl_cut_master          a blackhole route to the master in kvfleetd's
#                           namespace for 1-4 s (no failover expected)
#   ctl_kill_mid_failover   kill -9 the master, kill -9 kvfleetd as soon as
#                           the failover row exists (+0-40 ms), restart it
#                           on the same database, then restart the agent
#   replica_restart         SIGTERM or SIGKILL a replica, restart it
#   backlog_overflow        cut a replica's link, write a 2 MB burst (the
#                           backlog is 256 KB, the replica output limit 1 MB)
#                           so its link drops and PSYNC cannot continue,
#                           restore the link
#   disk_full_bgsave        fill a node's tmpfs dir, BGSAVE must fail and
#                           the node keep serving, then free the space
#
# Env: CHAOS_FAULTS (10), CHAOS_SEED (time-based), CHAOS_OUT (build/chaos),
#      KVFLEET_BIN (build/asan/bin), CHAOS_BUDGET_MS (5000),
#      CHAOS_BUDGET_FATAL (1: a fault over budget fails the run),
#      CHAOS_KINDS (all), CHAOS_PREFIX (kvc<pid>).
# Convergence is waited for 15 s at most; a replica still stuck behind then
# is restarted ("heal"), and the next fault waits until kvfleetd runs no
# failover, so faults never overlap.
# Output in $CHAOS_OUT: faults.log (one line per fault), summary.txt (the
# per-kind table and the end checks), run/ (process logs, writer and checker
# records). Exit 0 when every check holds, 1 otherwise, 77 when this
# machine cannot run it (not root, no ip netns).
set -u

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${KVFLEET_BIN:-$ROOT/build/asan/bin}"
FAULTS="${CHAOS_FAULTS:-10}"
SEED="${CHAOS_SEED:-$(( $(date +%s) % 100000 ))}"
OUT="${CHAOS_OUT:-$ROOT/build/chaos}"
BUDGET_MS="${CHAOS_BUDGET_MS:-5000}"
BUDGET_FATAL="${CHAOS_BUDGET_FATAL:-1}"
ALL_KINDS="kill9_master stop_master link_cut_master ctl_cut_master ctl_kill_mid_failover replica_restart backlog_overflow disk_full_bgsave"
read -r -a KINDS <<< "${CHAOS_KINDS:-$ALL_KINDS}"
P="${CHAOS_PREFIX:-kvc$$}"
# A /24 of 10.213.0.0/16 that no other run (no address in the root
# namespace) uses, starting from one derived from the pid.
pick_subnet() {
    local n=$(( $$ % 200 + 20 )) k
    for k in $(seq 1 200); do
        ip -4 -o addr show | grep -q " 10\.213\.$n\." || { echo "10.213.$n"; return 0; }
        n=$(( (n - 19) % 200 + 20 ))
    done
    return 1
}
RUN="$OUT/run"
CLIENT="$ROOT/tests/chaos/chaos_client.py"
TOKEN="chaos-$$-$RANDOM"
CONVERGE_TIMEOUT_S=15

say() { printf '# %s\n' "$*"; }
skip() { say "SKIP: $*"; exit 77; }
now_ms() { date +%s%3N; }

[ "$(id -u)" = 0 ] || skip "needs root for ip netns"
for c in ip python3 redis-cli curl jq mount; do
    command -v "$c" >/dev/null 2>&1 || skip "missing $c"
done
[ -x "$BIN/kvfleet-agent" ] && [ -x "$BIN/kvfleetd" ] || skip "no binaries in $BIN (make chaos builds them)"
[ "${#P}" -le 10 ] || { say "prefix $P too long (interface names hold 15 bytes)"; exit 1; }

# Leftovers of this prefix mean an earlier run's cleanup did not finish:
# refuse rather than share or destroy them.
if ip netns list | grep -q "^$P" || ip link show "${P}br" >/dev/null 2>&1; then
    say "leftovers of prefix $P exist (ip netns list / ip link): remove them first"
    exit 1
fi

SUB="$(pick_subnet)" || { say "no free 10.213.x.0/24 subnet"; exit 1; }
CTL_ADDR="$SUB.10"
API="http://$CTL_ADDR:7480"

mkdir -p "$OUT" || exit 1
rm -rf "$RUN" && mkdir -p "$RUN/san" || exit 1
FLOG="$OUT/faults.log"
SUMMARY="$OUT/summary.txt"
: > "$FLOG"

# ---- processes and cleanup -----------------------------------------------------
# PID[0] is kvfleetd, PID[1..3] the agents; WRITER_PID and CHECKER_PID the
# clients. DEAD[i]=1 while a fault holds process i down on purpose.
PID=(0 0 0 0)
DEAD=(0 0 0 0)
WRITER_PID=0
CHECKER_PID=0
CRASHES=0
MOUNTS=()

cleanup() {
    local p i
    for p in "${PID[@]}" "$WRITER_PID" "$CHECKER_PID"; do
        [ "$p" -gt 0 ] 2>/dev/null || continue
        kill -CONT "$p" 2>/dev/null
        kill -KILL "$p" 2>/dev/null
    done
    wait 2>/dev/null
    for i in 0 1 2 3; do ip netns delete "${P}$(ns_suffix $i)" 2>/dev/null; done
    for i in 0 1 2 3; do ip link delete "${P}h$i" 2>/dev/null; done
    ip link delete "${P}br" 2>/dev/null
    for p in "${MOUNTS[@]}"; do umount "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ns_suffix() { if [ "$1" = 0 ]; then echo c; else echo "n$1"; fi; }
ns_of() { echo "${P}$(ns_suffix "$1")"; }
addr_of() { if [ "$1" = 0 ]; then echo "$CTL_ADDR"; else echo "$SUB.1$1"; fi; }
node_hp() { echo "$(addr_of "$1"):6379"; }
cli() { local i="$1"; shift; timeout 5 redis-cli -h "$(addr_of "$i")" -p 6379 "$@"; }

san_env() {
    echo "ASAN_OPTIONS=log_path=$RUN/san/asan:detect_leaks=1" \
         "UBSAN_OPTIONS=log_path=$RUN/san/ubsan:print_stacktrace=1"
}

# ---- network -------------------------------------------------------------------
net_up() {
    ip link add "${P}br" type bridge || return 1
    ip addr add "$SUB.1/24" dev "${P}br" || return 1
    ip link set "${P}br" up || return 1
    local i ns
    for i in 0 1 2 3; do
        ns="$(ns_of $i)"
        ip netns add "$ns" || return 1
        ip link add "${P}h$i" type veth peer name eth0 netns "$ns" || return 1
        ip link set "${P}h$i" master "${P}br" up || return 1
        ip -n "$ns" link set lo up || return 1
        ip -n "$ns" addr add "$(addr_of $i)/24" dev eth0 || return 1
        ip -n "$ns" link set eth0 up || return 1
    done
}

# Each agent's dir is a small tmpfs of its own, for disk_full_bgsave.
dirs_up() {
    local i d
    mkdir -p "$RUN/ctl" || return 1
    for i in 1 2 3; do
        d="$RUN/n$i/data"
        mkdir -p "$d" || return 1
        mount -t tmpfs -o size=32m "${P}n$i" "$d" || return 1
        MOUNTS+=("$d")
    done
}

# ---- starting processes ----------------------------------------------------------
# start_agent <i>: node n<i> in its namespace. It registers itself with
# kvfleetd and, started as a master, stays fenced until kvfleetd confirms it.
# min-replicas-to-write 1 / max-lag 1: a master cut off from its replicas
# stops taking writes within about a second, before a failover can finish.
start_agent() {
    local i="$1" d="$RUN/n$1"
    # shellcheck disable=SC2046
    ip netns exec "$(ns_of "$i")" env $(san_env) "$BIN/kvfleet-agent" \
        --port 6379 --bind "$(addr_of "$i")" --protected-mode no \
        --save "" --appendonly no --dir "$d/data" --logfile "$d/agent.log" \
        --repl-diskless-sync-delay 0 --repl-backlog-size 256kb \
        --client-output-buffer-limit "replica 1mb 256kb 1" \
        --min-replicas-to-write 1 --min-replicas-max-lag 1 --repl-timeout 5 \
        --controller "$API" --controller-token "$TOKEN" --node-name "n$i" \
        >>"$d/stdout" 2>&1 &
    PID[$i]=$!
    DEAD[$i]=0
    local k
    for k in $(seq 1 100); do
        kill -0 "${PID[$i]}" 2>/dev/null || break
        [ "$(cli "$i" ping 2>/dev/null)" = PONG ] && return 0
        sleep 0.1
    done
    say "agent n$i did not start"; tail -n 5 "$d/agent.log" "$d/stdout" 2>/dev/null | sed 's/^/#   /'
    return 1
}

start_ctl() {
    # shellcheck disable=SC2046
    ip netns exec "$(ns_of 0)" env $(san_env) "$BIN/kvfleetd" \
        --http-bind "$CTL_ADDR:7480" --sentinel-bind "$CTL_ADDR:26379" \
        --api-token "$TOKEN" --db-path "$RUN/ctl/ctl.db" \
        --logfile "$RUN/ctl/ctl.log" --loglevel verbose \
        --monitor-interval-ms 100 --monitor-timeout-ms 500 >>"$RUN/ctl/stdout" 2>&1 &
    PID[0]=$!
    DEAD[0]=0
    local k
    for k in $(seq 1 100); do
        kill -0 "${PID[0]}" 2>/dev/null || break
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$API/api/v1/health")" != 000 ] && return 0
        sleep 0.1
    done
    say "kvfleetd did not start"; tail -n 20 "$RUN/ctl/ctl.log" "$RUN/ctl/stdout" 2>/dev/null | sed 's/^/#   /'
    return 1
}

api() {   # api <METHOD> <path> [json]: prints the body
    local args=(-s --max-time 5 -X "$1" -H "Authorization: Bearer $TOKEN")
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
    curl "${args[@]}" "$API$2"
}
api_master() { api GET /api/v1/clusters/c1/master | jq -r '.node // empty' 2>/dev/null; }
last_failover_id() { api GET '/api/v1/clusters/c1/failovers?limit=1' | jq -r '.failovers[0].id // 0' 2>/dev/null; }
failover_total() { api GET '/api/v1/clusters/c1/failovers?limit=1000' | jq -r '.failovers | length' 2>/dev/null; }

# ---- convergence and crash checks -----------------------------------------------
CUR_MASTER=1
CONV_MS=-1
CONV_WHY=
# converge_from <restore-ms>: waits for convergence and sets CONV_MS (time
# from the restore) or -1 with CONV_WHY; remembers the master.
converge_from() {
    local restore="$1" out m
    out="$(python3 "$CLIENT" converge "$CONVERGE_TIMEOUT_S" "$(node_hp 1)" "$(node_hp 2)" "$(node_hp 3)")"
    if [ "${out%% *}" = converged ]; then
        CONV_MS=$(( $(now_ms) - restore ))
        m="${out##* }"; m="${m%:6379}"
        CUR_MASTER="${m##*.1}"
        CONV_WHY=
    else
        CONV_MS=-1
        CONV_WHY="${out#timeout * }"
    fi
}

# check_alive: every process not held down by a fault must still run; one
# that exited is a crash (its status is logged) and is started again.
check_alive() {
    local i rc
    for i in 0 1 2 3; do
        [ "${DEAD[$i]}" = 1 ] && continue
        kill -0 "${PID[$i]}" 2>/dev/null && continue
        wait "${PID[$i]}" 2>/dev/null; rc=$?
        CRASHES=$((CRASHES + 1))
        say "CRASH: $(ns_suffix "$i") (pid ${PID[$i]}) exited with status $rc"
        echo "crash proc=$(ns_suffix "$i") pid=${PID[$i]} status=$rc" >> "$FLOG"
        if [ "$i" = 0 ]; then start_ctl; else start_agent "$i"; fi
    done
}

# node_states: role, offsets and, after a burst, how many burst keys miss
# the last burst's value, for the log of a fault that did not converge (a
# replica that skipped a command shows it there).
node_states() {
    local i
    for i in 1 2 3; do
        printf 'n%s:%s/%s/%s/%s ' "$i" \
            "$(cli "$i" info replication 2>/dev/null | tr -d '\r' | sed -n 's/^role://p')" \
            "$(cli "$i" info replication 2>/dev/null | tr -d '\r' | sed -n 's/^master_repl_offset://p')" \
            "$(cli "$i" info replication 2>/dev/null | tr -d '\r' | sed -n 's/^slave_repl_offset://p')" \
            "$([ -n "$LAST_BURST_TAG" ] && python3 "$CLIENT" burstcheck "$(node_hp "$i")" 2000 "$LAST_BURST_TAG" 2>/dev/null)"
    done
}

# wait_ctl_idle: until the newest failover is not running (10 s at most;
# a longer wait is logged).
wait_ctl_idle() {
    local k st t0
    t0=$(now_ms)
    for k in $(seq 1 200); do
        st="$(api GET '/api/v1/clusters/c1/failovers?limit=1' | jq -r '.failovers[0].status // "none"' 2>/dev/null)"
        [ "$st" != running ] && [ -n "$st" ] && return 0
        sleep 0.05
    done
    echo "ctl_busy failover still running after $(( $(now_ms) - t0 )) ms" >> "$FLOG"
}

# heal: restart every replica that is linked to the master but behind it,
# then wait for convergence again (logged as a "heal" line).
heal() {
    local i moff soff
    moff="$(cli "$CUR_MASTER" info replication 2>/dev/null | tr -d '\r' | sed -n 's/^master_repl_offset://p')"
    for i in 1 2 3; do
        [ "$i" = "$CUR_MASTER" ] && continue
        soff="$(cli "$i" info replication 2>/dev/null | tr -d '\r' | sed -n 's/^slave_repl_offset://p')"
        [ -n "$soff" ] && [ -n "$moff" ] && [ "$soff" -lt "$moff" ] || continue
        DEAD[$i]=1
        kill -TERM "${PID[$i]}"; wait "${PID[$i]}" 2>/dev/null
        start_agent "$i"
        echo "heal restarted=n$i offset=$soff master_offset=$moff" >> "$FLOG"
        say "heal: restarted n$i (offset $soff, master $moff)"
    done
    converge_from "$(now_ms)"
    echo "heal converge_ms=$CONV_MS" >> "$FLOG"
}

# rand_between <lo> <hi>: from the seeded $RANDOM.
rand_between() { echo $(( $1 + RANDOM % ($2 - $1 + 1) )); }
other_node() {   # other_node <not-this>: a seeded pick among the other two
    local a b
    case "$1" in 1) a=2 b=3 ;; 2) a=1 b=3 ;; *) a=1 b=2 ;; esac
    if [ $((RANDOM % 2)) = 0 ]; then echo "$a"; else echo "$b"; fi
}

# wait_new_master <old-name> <seconds>: until the API names another master.
wait_new_master() {
    local old="$1" k m
    for k in $(seq 1 $(($2 * 20))); do
        m="$(api_master)"
        [ -n "$m" ] && [ "$m" != "$old" ] && return 0
        sleep 0.05
    done
    return 1
}

# ---- faults: each sets RESTORE (ms) and NOTE ---------------------------------------
RESTORE=0
NOTE=
LAST_BURST_TAG=

fault_kill9_master() {
    local m="$CUR_MASTER" t0
    t0=$(now_ms)
    kill -KILL "${PID[$m]}"; wait "${PID[$m]}" 2>/dev/null; DEAD[$m]=1
    if wait_new_master "n$m" 15; then NOTE="failover_ms=$(( $(now_ms) - t0 ))"; else NOTE="no_failover_in_15s"; fi
    start_agent "$m"
    RESTORE=$(now_ms)
    NOTE="target=n$m $NOTE"
}

fault_stop_master() {
    local m="$CUR_MASTER" hold before
    hold=$(rand_between 500 4000)
    before="$(failover_total)"
    kill -STOP "${PID[$m]}"
    sleep "$(printf '%d.%03d' $((hold / 1000)) $((hold % 1000)))"
    kill -CONT "${PID[$m]}"
    RESTORE=$(now_ms)
    NOTE="target=n$m hold_ms=$hold failovers=$(( $(failover_total) - before ))"
}

fault_link_cut_master() {
    local m="$CUR_MASTER" hold before
    hold=$(rand_between 500 4000)
    before="$(failover_total)"
    ip link set "${P}h$m" down
    sleep "$(printf '%d.%03d' $((hold / 1000)) $((hold % 1000)))"
    ip link set "${P}h$m" up
    RESTORE=$(now_ms)
    NOTE="target=n$m hold_ms=$hold failovers=$(( $(failover_total) - before ))"
}

UNEXPECTED_FAILOVERS=0
fault_ctl_cut_master() {
    local m="$CUR_MASTER" hold before n
    hold=$(rand_between 1000 4000)
    before="$(failover_total)"
    ip -n "$(ns_of 0)" route add blackhole "$(addr_of "$m")/32"
    sleep "$(printf '%d.%03d' $((hold / 1000)) $((hold % 1000)))"
    ip -n "$(ns_of 0)" route del blackhole "$(addr_of "$m")/32"
    RESTORE=$(now_ms)
    n=$(( $(failover_total) - before ))
    [ "$n" -gt 0 ] && UNEXPECTED_FAILOVERS=$((UNEXPECTED_FAILOVERS + 1))
    NOTE="target=n$m hold_ms=$hold failovers=$n"
}

KILLED_FAILOVERS=()
fault_ctl_kill_mid_failover() {
    local m="$CUR_MASTER" before delay res id
    delay=$(rand_between 0 40)
    before="$(last_failover_id)"
    kill -KILL "${PID[$m]}"; wait "${PID[$m]}" 2>/dev/null; DEAD[$m]=1
    # The failover row is on disk before its first step: the helper kills
    # kvfleetd a seeded 0-40 ms after the row appears, so the restart finds
    # it running (logged "resumed after a kvfleetd restart") or done.
    DEAD[0]=1
    res="$(python3 "$CLIENT" killonfailover "$API" "$TOKEN" c1 "${before:-0}" "${PID[0]}" "$delay" 10)"
    kill -KILL "${PID[0]}" 2>/dev/null   # in case the helper itself failed
    wait "${PID[0]}" 2>/dev/null
    start_ctl
    local newm=no
    wait_new_master "n$m" 15 && newm=yes
    id="$(awk '$1 == "killed" {print $2}' <<< "$res")"
    [ -n "$id" ] && KILLED_FAILOVERS+=("$id")
    start_agent "$m"
    RESTORE=$(now_ms)
    NOTE="target=n$m delay_ms=$delay at_kill=\"$res\" new_master=$newm"
}

fault_replica_restart() {
    local r sig rc
    r="$(other_node "$CUR_MASTER")"
    if [ $((RANDOM % 2)) = 0 ]; then sig=TERM; else sig=KILL; fi
    DEAD[$r]=1
    kill -"$sig" "${PID[$r]}"
    wait "${PID[$r]}" 2>/dev/null; rc=$?
    if [ "$sig" = TERM ] && [ "$rc" != 0 ]; then
        CRASHES=$((CRASHES + 1))
        echo "crash proc=n$r pid=${PID[$r]} status=$rc (after SIGTERM)" >> "$FLOG"
    fi
    start_agent "$r"
    RESTORE=$(now_ms)
    NOTE="target=n$r signal=$sig exit=$rc"
}

sync_full_of() { cli "$1" info stats 2>/dev/null | tr -d '\r' | sed -n 's/^sync_full://p'; }

fault_backlog_overflow() {
    local m="$CUR_MASTER" r full0 res
    r="$(other_node "$m")"
    full0="$(sync_full_of "$m")"
    ip link set "${P}h$r" down
    LAST_BURST_TAG="f$f-"
    res="$(python3 "$CLIENT" burst "$(node_hp "$m")" 2000 1024 "$LAST_BURST_TAG" 2>&1)"
    sleep 1.5
    ip link set "${P}h$r" up
    RESTORE=$(now_ms)
    NOTE="target=n$r master=n$m ${res// /_} full_sync_before=${full0:-?}"
}

fault_disk_full_bgsave() {
    local d k st served tmp
    d=$(rand_between 1 3)
    local dir="$RUN/n$d/data"
    dd if=/dev/zero of="$dir/fill" bs=64k >/dev/null 2>&1
    cli "$d" bgsave >/dev/null 2>&1
    for k in $(seq 1 150); do
        [ "$(cli "$d" info persistence 2>/dev/null | tr -d '\r' | sed -n 's/^rdb_bgsave_in_progress://p')" = 0 ] && break
        sleep 0.1
    done
    st="$(cli "$d" info persistence 2>/dev/null | tr -d '\r' | sed -n 's/^rdb_last_bgsave_status://p')"
    served=no
    [ "$(cli "$d" ping 2>/dev/null)" = PONG ] && served=yes
    if [ "$d" = "$CUR_MASTER" ]; then
        [ "$(cli "$d" set kvfleet:chaos-diskfull 1 2>/dev/null)" = OK ] && served=yes-writes || served="$served-no-writes"
    fi
    tmp="$(find "$dir" -name 'temp-*.rdb' 2>/dev/null | wc -l)"
    rm -f "$dir/fill"
    RESTORE=$(now_ms)
    [ "$st" = err ] || BAD_DISKFULL=$((BAD_DISKFULL + 1))
    case "$served" in yes|yes-writes) ;; *) BAD_DISKFULL=$((BAD_DISKFULL + 1)) ;; esac
    NOTE="target=n$d master=$([ "$d" = "$CUR_MASTER" ] && echo yes || echo no) bgsave_status=${st:-?} serving=$served temp_files_left=$tmp"
}
BAD_DISKFULL=0

# ---- the run -----------------------------------------------------------------------
say "chaos: seed $SEED, $FAULTS faults, prefix $P, subnet $SUB.0/24, binaries $BIN"
REPLAY="make chaos CHAOS_SEED=$SEED CHAOS_FAULTS=$FAULTS${CHAOS_KINDS:+ CHAOS_KINDS=\"$CHAOS_KINDS\"}"
RANDOM=$SEED

net_up || { say "network setup failed"; exit 1; }
dirs_up || { say "tmpfs setup failed"; exit 1; }
start_ctl || exit 1
for i in 1 2 3; do start_agent "$i" || exit 1; done
for k in $(seq 1 100); do
    [ "$(api GET /api/v1/nodes | jq '[.nodes[] | select(.name | test("^n[123]$"))] | length' 2>/dev/null)" = 3 ] && break
    sleep 0.1
done
api POST /api/v1/clusters '{"name":"c1","master":"n1","replicas":["n2","n3"],"settings":{"failover_cooldown_ms":0,"down_after_ms":1000}}' >/dev/null
converge_from "$(now_ms)"
[ "$CONV_MS" -ge 0 ] || { say "initial cluster did not converge: $CONV_WHY"; exit 1; }
say "cluster up in $CONV_MS ms, master n$CUR_MASTER"

python3 "$CLIENT" writer "$CTL_ADDR:26379" c1 "$RUN/writer.out" 2>"$RUN/writer.err" &
WRITER_PID=$!
python3 "$CLIENT" checker "$RUN/checker.out" "$(node_hp 1)" "$(node_hp 2)" "$(node_hp 3)" 2>"$RUN/checker.err" &
CHECKER_PID=$!
sleep 1

# The schedule: every kind once per round of len(KINDS), in a seeded order,
# so a short run covers each kind and a long one keeps them balanced.
schedule=()
while [ "${#schedule[@]}" -lt "$FAULTS" ]; do
    round=("${KINDS[@]}")
    for ((j = ${#round[@]} - 1; j > 0; j--)); do
        r=$((RANDOM % (j + 1))); tmp="${round[$j]}"; round[$j]="${round[$r]}"; round[$r]="$tmp"
    done
    schedule+=("${round[@]}")
done

FAILED_CONV=0
OVER_BUDGET=0
for ((f = 1; f <= FAULTS; f++)); do
    kind="${schedule[$((f - 1))]}"
    NOTE=
    "fault_$kind"
    converge_from "$RESTORE"
    check_alive
    verdict=ok
    if [ "$CONV_MS" -lt 0 ]; then
        verdict=timeout; FAILED_CONV=$((FAILED_CONV + 1))
        NOTE="$NOTE state=[$(node_states)]"
    elif [ "$CONV_MS" -gt "$BUDGET_MS" ]; then verdict=over_budget; OVER_BUDGET=$((OVER_BUDGET + 1)); fi
    line="fault=$f kind=$kind converge_ms=$CONV_MS verdict=$verdict master_after=n$CUR_MASTER $NOTE${CONV_WHY:+ why=\"$CONV_WHY\"}"
    echo "$line" >> "$FLOG"
    say "$line"
    # The next fault starts from a converged cluster: after a timeout, a
    # replica still linked but stuck behind the master (it missed part of
    # the stream) is restarted, so it full-syncs and the faults after this
    # one measure their own kind, not this one's leftovers.
    if [ "$CONV_MS" -lt 0 ]; then heal; fi
    # Nor does the next fault start while kvfleetd still runs a failover
    # (a resumed one re-checks its steps): faults must not overlap.
    wait_ctl_idle
done

# ---- end checks ----------------------------------------------------------------------
kill -TERM "$WRITER_PID"; wait "$WRITER_PID"; WRITER_PID=0
converge_from "$(now_ms)"
FINAL_OK=$([ "$CONV_MS" -ge 0 ] && echo yes || echo "no ($CONV_WHY)")
sleep 0.2
kill -TERM "$CHECKER_PID"; wait "$CHECKER_PID"; CHECKER_PID=0
READBACK="$(python3 "$CLIENT" readback "$RUN/writer.out" "$(node_hp "$CUR_MASTER")")"
LOST="$(sed -n 's/.* lost=\([0-9]*\).*/\1/p' <<< "$READBACK" | head -1)"
SPLIT="$(sed -n 's/^rounds=.* split_brain=\([0-9]*\).*/\1/p' "$RUN/checker.out" | tail -1)"
CHECK_SECS="$(sed -n 's/^rounds=.* seconds=\([0-9.]*\).*/\1/p' "$RUN/checker.out" | tail -1)"
ROUNDS="$(sed -n 's/^rounds=\([0-9]*\).*/\1/p' "$RUN/checker.out" | tail -1)"
WRITER_ERRS="$(grep -c '^err' "$RUN/writer.out")"

check_alive
# A clean shutdown of everything: SIGTERM must end each process with 0.
for i in 0 1 2 3; do
    kill -TERM "${PID[$i]}" 2>/dev/null
    wait "${PID[$i]}" 2>/dev/null; rc=$?
    if [ "$rc" != 0 ]; then
        CRASHES=$((CRASHES + 1))
        echo "crash proc=$(ns_suffix "$i") pid=${PID[$i]} status=$rc (at shutdown)" >> "$FLOG"
    fi
    PID[$i]=0
done
SAN_REPORTS=0
LEAK_REPORTS=0
for fsan in "$RUN"/san/*; do
    [ -e "$fsan" ] || continue
    if grep -q 'ERROR: LeakSanitizer' "$fsan" && ! grep -q 'ERROR: AddressSanitizer\|runtime error' "$fsan"; then
        LEAK_REPORTS=$((LEAK_REPORTS + 1))
    else
        SAN_REPORTS=$((SAN_REPORTS + 1))
    fi
done
CRASHES=$((CRASHES + SAN_REPORTS))

# Per-kind table: count, convergence p50/p99/max (nearest rank).
{
    echo "chaos run: seed $SEED, $FAULTS faults, binaries $BIN"
    echo "replay: $REPLAY"
    printf '%-24s %5s %8s %8s %8s %6s\n' kind count p50_ms p99_ms max_ms over
    for kind in $ALL_KINDS; do
        vals="$(sed -n "s/.* kind=$kind converge_ms=\(-\{0,1\}[0-9]*\) .*/\1/p" "$FLOG" | sort -n)"
        [ -n "$vals" ] || continue
        n="$(wc -l <<< "$vals")"
        pick() { sed -n "$(( ($1 * n + 99) / 100 ))p" <<< "$vals"; }
        over="$(awk -v b="$BUDGET_MS" '$1 < 0 || $1 > b' <<< "$vals" | wc -l)"
        printf '%-24s %5d %8s %8s %8s %6d\n' "$kind" "$n" "$(pick 50)" "$(pick 99)" "$(tail -1 <<< "$vals")" "$over"
    done
    fo="$(sed -n 's/.* failover_ms=\([0-9]*\).*/\1/p' "$FLOG" | sort -n)"
    if [ -n "$fo" ]; then
        n="$(wc -l <<< "$fo")"
        echo "kill -9 of the master to a new master (ms): p50 $(sed -n "$(( (50 * n + 99) / 100 ))p" <<< "$fo"), max $(tail -1 <<< "$fo")"
    fi
    resumed=0
    for id in "${KILLED_FAILOVERS[@]}"; do
        grep -q "#$id resumed after a kvfleetd restart" "$RUN/ctl/ctl.log" && resumed=$((resumed + 1))
    done
    echo "kvfleetd killed while a failover ran (its restart resumed it): $resumed of $(grep -c 'kind=ctl_kill_mid_failover' "$FLOG")"
    echo "heals (a replica stuck behind restarted): $(grep -c '^heal restarted' "$FLOG")"
    echo "writes: $(tail -1 "$RUN/writer.out"), errors seen by the writer: $WRITER_ERRS"
    echo "readback on final master n$CUR_MASTER: $READBACK" | head -1
    echo "acknowledged writes lost: ${LOST:-?}"
    echo "checker: ${ROUNDS:-?} rounds in ${CHECK_SECS:-?} s, split-brain samples: ${SPLIT:-?}"
    echo "convergence: $FAILED_CONV timeouts (${CONVERGE_TIMEOUT_S} s), $OVER_BUDGET over ${BUDGET_MS} ms; final: $FINAL_OK"
    echo "crashes: $CRASHES (sanitizer reports: $SAN_REPORTS, leak-only reports: $LEAK_REPORTS)"
    echo "unexpected failovers while only the controller was cut off: $UNEXPECTED_FAILOVERS"
    echo "disk-full checks failed: $BAD_DISKFULL"
} > "$SUMMARY"
sed 's/^/# /' "$SUMMARY"
grep '^lost ' <<< "$READBACK" | head -5 | sed 's/^/#   /'
grep '^split_brain' "$RUN/checker.out" | head -5 | sed 's/^/#   /'

ok=1
[ "${LOST:-1}" = 0 ] || ok=0
[ "${SPLIT:-1}" = 0 ] || ok=0
[ "$CRASHES" = 0 ] || ok=0
[ "$FAILED_CONV" = 0 ] || ok=0
[ "$FINAL_OK" = yes ] || ok=0
[ "$BAD_DISKFULL" = 0 ] || ok=0
[ "$UNEXPECTED_FAILOVERS" = 0 ] || ok=0
[ "$BUDGET_FATAL" = 1 ] && [ "$OVER_BUDGET" != 0 ] && ok=0
if [ "$ok" = 1 ]; then
    say "chaos: PASS (seed $SEED)"
    exit 0
fi
say "chaos: FAIL (seed $SEED); replay: $REPLAY"
exit 1
