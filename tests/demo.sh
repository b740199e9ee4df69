#!/usr/bin/env bash
# demo.sh: a local kvfleet demo fleet, for `make demo`, `make demo-failover`
# and `make demo-stop`.
#
#   tests/demo.sh start          kvfleetd (REST API, dashboard, /metrics and the
#                                Sentinel port) and three kvfleet-agents that
#                                register themselves with it (node1 on 6379,
#                                node2 on 6380, node3 on 6381); creates the
#                                cluster `demo` (node1 master), waits until it
#                                is healthy, writes a few keys and prints the
#                                URLs and copy-paste commands. When a demo
#                                already runs it says so and prints them again.
#   tests/demo.sh failover       kills the current master of `demo` (asked from
#                                the API) with SIGKILL, waits for the new
#                                master, prints it and the time it took, then
#                                restarts the killed node, which rejoins as a
#                                replica (DEMO_RESTART=no leaves it down)
#   tests/demo.sh restart-node [NAME]   starts a demo node that is not running
#                                (every such node when NAME is omitted)
#   tests/demo.sh stop           stops every demo process by its pid file
#                                (SIGTERM, up to 10 s, then SIGKILL); idempotent
#   tests/demo.sh status         what runs, on which ports, and who is master
#
# Ports: kvfleetd HTTP 7480, Sentinel port 26379, agents 6379 6380 6381; a
# port already taken is replaced by the next free one, and the script says
# so. Every listener binds 127.0.0.1. Nothing is ever killed by name: only
# pids from the pid files, and only when that process's command line names
# the demo directory.
#
# Everything lives in the state dir ($DEMO_DIR, default build/demo-run/ of
# the repository): demo.env (the ports chosen), kvfleetd.pid, kvfleetd.log,
# kvfleet.db, and per node nodeN.pid plus nodeN/ (data, agent.log).
#
# Env: KVFLEET_BIN (dir of kvfleetd and kvfleet-agent, default bin/),
#      DEMO_DIR, DEMO_HTTP_PORT (7480), DEMO_SENTINEL_PORT (26379),
#      DEMO_PORTS ("6379 6380 6381": wanted ports of node1 node2 node3),
#      DEMO_RESTART (yes: `failover` restarts the killed node),
#      DEMO_HEALTHY_TIMEOUT (30 s), DEMO_FAILOVER_TIMEOUT (15 s).
# Needs curl, jq and redis-cli (`make demo` installs them).

set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${KVFLEET_BIN:-$root/bin}"
DEMO="${DEMO_DIR:-$root/build/demo-run}"
case "$DEMO" in /*) ;; *) DEMO="$PWD/$DEMO" ;; esac
[ -d "$DEMO" ] && DEMO="$(cd "$DEMO" && pwd)"
CLUSTER=demo
NAMES=(node1 node2 node3)
WANT_HTTP="${DEMO_HTTP_PORT:-7480}"
WANT_SENTINEL="${DEMO_SENTINEL_PORT:-26379}"
read -r -a WANT_PORTS <<<"${DEMO_PORTS:-6379 6380 6381}"
HEALTHY_TIMEOUT="${DEMO_HEALTHY_TIMEOUT:-30}"
FAILOVER_TIMEOUT="${DEMO_FAILOVER_TIMEOUT:-15}"

STATUS="" BODY="" MASTER_NODE="" MASTER_PORT=""
say() { printf '%s\n' "$*" 2>/dev/null; }
warn() { printf 'demo: %s\n' "$*" >&2; }
die() { warn "$*"; exit 1; }
now_ms() { date +%s%3N; }

# How to run the other subcommands, as the reader should type them.
if [ -z "${DEMO_DIR:-}" ]; then
    MK_FAILOVER="make demo-failover"
    MK_STOP="make demo-stop"
    MK_RESTART="bash tests/demo.sh restart-node"
else
    MK_FAILOVER="DEMO_DIR=$DEMO bash $root/tests/demo.sh failover"
    MK_STOP="DEMO_DIR=$DEMO bash $root/tests/demo.sh stop"
    MK_RESTART="DEMO_DIR=$DEMO bash $root/tests/demo.sh restart-node"
fi

need_tools() {
    local t missing=""
    for t in curl jq redis-cli; do
        command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
    done
    if [ -n "$missing" ]; then
        missing="${missing/ redis-cli/ redis-tools}"
        die "missing:$missing; run 'make demo' (it installs them) or: sudo apt-get install -y$missing"
    fi
}

# ---------------------------------------------------------------- ports

# port_taken <port>: true when something listens on <port> (any address).
port_taken() {
    if command -v ss >/dev/null 2>&1; then
        [ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

# port_owner <port>: "program pid N" of the listener when ss can tell.
port_owner() {
    command -v ss >/dev/null 2>&1 || return 0
    ss -Hltnp "( sport = :$1 )" 2>/dev/null |
        sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/\1, pid \2/p' | head -n 1
}

# listener_pid <port>: pid of the process listening on <port>, when known.
listener_pid() {
    command -v ss >/dev/null 2>&1 || return 0
    ss -Hltnp "( sport = :$1 )" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2
}

CHOSEN=()
# pick_port <VAR> <wanted> <what>: the wanted port, or the next free one not
# already handed out to another demo process; says aloud when it moved.
pick_port() {
    local var="$1" want="$2" what="$3" p u clash owner
    case "$want" in '' | *[!0-9]*) die "bad port '$want' for $what" ;; esac
    for ((p = want; p < want + 200 && p <= 65535; p++)); do
        clash=""
        for u in "${CHOSEN[@]}"; do [ "$u" = "$p" ] && clash=1; done
        if [ -n "$clash" ]; then
            [ "$p" = "$want" ] && say "port $p ($what) is already given to another demo process; looking further"
            continue
        fi
        if port_taken "$p"; then
            owner="$(port_owner "$p")"
            say "port $p ($what) is taken${owner:+ by $owner}; trying the next one"
            continue
        fi
        [ "$p" != "$want" ] && say "using port $p for $what (instead of $want)"
        CHOSEN+=("$p")
        printf -v "$var" '%s' "$p"
        return 0
    done
    die "no free port found from $want for $what"
}

# ---------------------------------------------------------------- processes

# ours <pidfile>: print the pid when that process is alive and its command
# line names the demo dir (a recycled pid or a zombie never matches).
ours() {
    local pid
    pid="$(cat "$1" 2>/dev/null)" || return 1
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$DEMO" || return 1
    echo "$pid"
}

# alive <pid>: the process exists and has not exited (a zombie, or a process
# tearing down, counts as gone only once it is a zombie).
alive() {
    local st
    kill -0 "$1" 2>/dev/null || return 1
    st="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)"
    [ "$st" != Z ] && [ "$st" != X ]
}

load_env() {
    [ -f "$DEMO/demo.env" ] || return 1
    # shellcheck disable=SC1091
    . "$DEMO/demo.env"
    # The binaries the demo was started with, unless KVFLEET_BIN says otherwise.
    [ -n "${KVFLEET_BIN:-}" ] || BIN="${DEMO_BIN:-$BIN}"
    URL="http://127.0.0.1:$HTTP_PORT"
}

node_port() { eval "echo \${PORT_$1:-}"; }

# wait_for <seconds> <cmd...>: poll every 0.1 s, bounded.
wait_for() {
    local n=$(($1 * 10)) i
    shift
    for ((i = 0; i < n; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# launch <pidfile> <log> <cmd...>: start a daemon in its own session, stdin
# and outputs away from the caller (so `make` and $(...) return), and record
# its pid. In a non-interactive shell the child is never a process group
# leader, so setsid execs in place and $! is the daemon itself.
launch() {
    local pidfile="$1" log="$2"
    shift 2
    if command -v setsid >/dev/null 2>&1; then
        nohup setsid "$@" >"$log" 2>&1 </dev/null 9>&- &
    else
        nohup "$@" >"$log" 2>&1 </dev/null 9>&- &
    fi
    echo $! >"$pidfile"
}

# owns_port <pid> <port>: the listener on <port> is <pid> (true when ss
# cannot say: then the pid being alive has to do).
owns_port() {
    local owner
    kill -0 "$1" 2>/dev/null || return 1
    port_taken "$2" || return 1
    owner="$(listener_pid "$2")"
    [ -z "$owner" ] || [ "$owner" = "$1" ]
}

start_controller() {
    local pid
    launch "$DEMO/kvfleetd.pid" "$DEMO/kvfleetd.out" "$BIN/kvfleetd" \
        --http-bind "127.0.0.1:$HTTP_PORT" --sentinel-bind "127.0.0.1:$SENTINEL_PORT" \
        --db-path "$DEMO/kvfleet.db" --logfile "$DEMO/kvfleetd.log"
    pid="$(cat "$DEMO/kvfleetd.pid")"
    api_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/api/v1/health")" = 200 ]; }
    if ! wait_for 10 api_up || ! owns_port "$pid" "$HTTP_PORT"; then
        warn "kvfleetd did not come up on 127.0.0.1:$HTTP_PORT; last lines of $DEMO/kvfleetd.log:"
        tail -n 10 "$DEMO/kvfleetd.log" "$DEMO/kvfleetd.out" 2>/dev/null | sed 's/^/    /' >&2
        return 1
    fi
    say "kvfleetd       pid $pid   http 127.0.0.1:$HTTP_PORT   sentinel 127.0.0.1:$SENTINEL_PORT"
}

# start_node <name>: a kvfleet-agent that registers itself with kvfleetd.
start_node() {
    local name="$1" port pid dir
    port="$(node_port "$name")"
    dir="$DEMO/$name"
    mkdir -p "$dir" || return 1
    if port_taken "$port"; then
        local port_owner
        port_owner="$(port_owner "$port")"
        warn "port $port of $name is taken (by ${port_owner:-another process}); stop that process, or run '$MK_STOP' and start again"
        return 1
    fi
    # No diskless-sync delay: a new replica gets its copy at once.
    launch "$DEMO/$name.pid" "$dir/stdout.log" "$BIN/kvfleet-agent" \
        --port "$port" --bind 127.0.0.1 --dir "$dir" --logfile "$dir/agent.log" \
        --save "" --repl-diskless-sync-delay 0 \
        --controller "$URL" --node-name "$name"
    pid="$(cat "$DEMO/$name.pid")"
    pong() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]; }
    if ! wait_for 10 pong "$port" || ! owns_port "$pid" "$port"; then
        warn "$name (kvfleet-agent) did not come up on 127.0.0.1:$port; last lines of $dir/agent.log:"
        tail -n 10 "$dir/agent.log" "$dir/stdout.log" 2>/dev/null | sed 's/^/    /' >&2
        return 1
    fi
}

# ---------------------------------------------------------------- API

# api <METHOD> <path> [json]: sets STATUS and BODY.
api() {
    local args=(-s -o "$DEMO/.body" -w '%{http_code}' -X "$1" --max-time 10)
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
    STATUS="$(curl "${args[@]}" "$URL$2" 2>/dev/null)"
    BODY="$(cat "$DEMO/.body" 2>/dev/null)"
}
jbody() { printf '%s' "$BODY" | jq -r "$1" 2>/dev/null; }

registered() { api GET "/api/v1/nodes/$1"; [ "$STATUS" = 200 ]; }
healthy() { api GET "/api/v1/clusters/$CLUSTER"; [ "$(jbody .health)" = healthy ]; }
# get_master: sets MASTER_NODE and MASTER_PORT (empty when there is none).
get_master() {
    MASTER_NODE="" MASTER_PORT=""
    api GET "/api/v1/clusters/$CLUSTER/master"
    [ "$STATUS" = 200 ] || return 1
    MASTER_NODE="$(jbody '.node // empty')"
    MASTER_PORT="$(jbody '.port // empty')"
    [ -n "$MASTER_NODE" ]
}

# ---------------------------------------------------------------- output

print_summary() {
    local m mp cand n p role line=""
    get_master
    m="$MASTER_NODE"
    case " ${NAMES[*]} " in *" $m "*) ;; *) m="${NAMES[0]}" ;; esac
    mp="$(node_port "$m")"
    cand=""
    for n in "${NAMES[@]}"; do
        p="$(node_port "$n")"
        if [ "$n" = "$m" ]; then role=master; else role=replica; [ -z "$cand" ] && cand="$n"; fi
        line="$line${line:+  }$n 127.0.0.1:$p ($role)"
    done
    local rp
    rp="$(node_port "$cand")"
    cat <<EOF

kvfleet demo is running (pids, logs and database in $DEMO/).

  Dashboard:  $URL/
  Metrics:    $URL/metrics
  Sentinel:   127.0.0.1:$SENTINEL_PORT (master name "$CLUSTER")
  Nodes:      $line

Copy and paste:

  # cluster status: health, master, replicas and their lag
  curl -s $URL/api/v1/clusters/$CLUSTER | jq '{health, reasons, master: .master.node, replicas: [.replicas[] | {node, state, link, lag_bytes}]}'

  # planned switchover to $cand (writes pause briefly, none is lost)
  curl -s -X POST $URL/api/v1/clusters/$CLUSTER/switchover -H 'Content-Type: application/json' -d '{"candidate":"$cand"}' | jq '{status, old_master, new_master, duration_ms}'

  # the event journal, newest first
  curl -s '$URL/api/v1/events?cluster=$CLUSTER&limit=20' | jq -r '.events[] | "\(.time) \(.kind) \(.node // "-") \(.message)"'

  # where is the master? (what Sentinel clients ask)
  redis-cli -p $SENTINEL_PORT SENTINEL get-master-addr-by-name $CLUSTER

  # write on the master, read on a replica
  redis-cli -p $mp set greeting hello
  redis-cli -p $rp get greeting

  # kill the master with SIGKILL and watch the fleet heal in the dashboard
  $MK_FAILOVER

  # stop everything
  $MK_STOP
EOF
}

# ---------------------------------------------------------------- commands

# running: names of the demo processes alive (kvfleetd first).
running() {
    local p
    for p in "$DEMO/kvfleetd.pid" "$DEMO"/node*.pid; do
        [ -e "$p" ] && ours "$p" >/dev/null && basename "$p" .pid
    done
}

cmd_start() {
    local n i alive
    # Output cut short (`| head`) must not kill the script half-way and leave
    # a fleet without its cluster: a failed write is just a failed write.
    trap '' PIPE
    need_tools
    for n in kvfleetd kvfleet-agent; do
        [ -x "$BIN/$n" ] || die "$BIN/$n not found; run 'make' first (or set KVFLEET_BIN)"
    done
    [ "${#WANT_PORTS[@]}" = 3 ] || die "DEMO_PORTS needs three ports (node1 node2 node3), got '${DEMO_PORTS:-}'"
    mkdir -p "$DEMO" || die "cannot create $DEMO"
    DEMO="$(cd "$DEMO" && pwd)"
    exec 9>"$DEMO/.lock"
    command -v flock >/dev/null 2>&1 && { flock -n 9 || die "another 'tests/demo.sh' is working on $DEMO"; }

    alive="$(running | tr '\n' ' ')"
    if [ -n "$alive" ]; then
        load_env || die "processes run ($alive) but $DEMO/demo.env is missing; run '$MK_STOP' first"
        say "A kvfleet demo is already running in $DEMO ($alive); not starting another one."
        for n in "${NAMES[@]}"; do
            ours "$DEMO/$n.pid" >/dev/null ||
                say "  $n is not running; '$MK_RESTART $n' starts it again"
        done
        print_summary
        return 0
    fi

    # A fresh fleet: forget what an earlier demo left (only our own files).
    rm -f "$DEMO"/*.pid "$DEMO/demo.env" "$DEMO"/kvfleet.db* "$DEMO"/kvfleetd.log "$DEMO"/kvfleetd.out "$DEMO/.body"
    for n in "${NAMES[@]}"; do rm -rf "${DEMO:?}/$n"; done

    pick_port HTTP_PORT "$WANT_HTTP" "kvfleetd HTTP"
    pick_port SENTINEL_PORT "$WANT_SENTINEL" "kvfleetd Sentinel port"
    for i in 0 1 2; do
        pick_port "PORT_${NAMES[$i]}" "${WANT_PORTS[$i]}" "${NAMES[$i]}"
    done
    {
        echo "HTTP_PORT=$HTTP_PORT"
        echo "SENTINEL_PORT=$SENTINEL_PORT"
        printf 'DEMO_BIN=%q\n' "$(cd "$BIN" && pwd)"
        for n in "${NAMES[@]}"; do echo "PORT_$n=$(node_port "$n")"; done
    } >"$DEMO/demo.env"
    URL="http://127.0.0.1:$HTTP_PORT"

    say "starting the kvfleet demo in $DEMO"
    start_controller || { cmd_stop >/dev/null; exit 1; }
    for n in "${NAMES[@]}"; do
        start_node "$n" || { cmd_stop >/dev/null; exit 1; }
        say "$n          pid $(cat "$DEMO/$n.pid")   redis 127.0.0.1:$(node_port "$n")   (registers itself with kvfleetd)"
    done
    for n in "${NAMES[@]}"; do
        if ! wait_for 15 registered "$n"; then
            warn "$n did not register with kvfleetd within 15 s; see $DEMO/$n/agent.log"
            cmd_stop >/dev/null
            exit 1
        fi
    done
    say "registered:    ${NAMES[*]}"

    api POST /api/v1/clusters "{\"name\":\"$CLUSTER\",\"master\":\"${NAMES[0]}\",\"replicas\":[\"${NAMES[1]}\",\"${NAMES[2]}\"]}"
    if [ "$STATUS" != 201 ]; then
        warn "creating cluster $CLUSTER failed: HTTP $STATUS $BODY"
        cmd_stop >/dev/null
        exit 1
    fi
    say "cluster $CLUSTER:  master ${NAMES[0]}, replicas ${NAMES[1]} ${NAMES[2]} (kvfleetd sends REPLICAOF)"
    if ! wait_for "$HEALTHY_TIMEOUT" healthy; then
        warn "cluster $CLUSTER is not healthy after ${HEALTHY_TIMEOUT} s: $(jbody '.health + ": " + (.reasons | join("; "))')"
        warn "logs: $DEMO/kvfleetd.log, $DEMO/node*/agent.log (kept); stopping the demo"
        cmd_stop >/dev/null
        exit 1
    fi
    say "cluster $CLUSTER is healthy"

    local mp written=0 out
    mp="$(node_port "${NAMES[0]}")"
    try_set() { [ "$(redis-cli -p "$mp" set greeting "hello from kvfleet" 2>/dev/null)" = OK ]; }
    if wait_for 5 try_set; then
        {
            echo "INCRBY visits 42"
            echo "RPUSH queue job:1 job:2 job:3"
            echo "HSET user:1 name Ada lang C"
            echo "SADD fleet node1 node2 node3"
        } | redis-cli -p "$mp" >/dev/null 2>&1 && written=1
    fi
    if [ "$written" = 1 ]; then
        say "wrote keys greeting, visits, queue, user:1, fleet on ${NAMES[0]} (127.0.0.1:$mp)"
        replica_has() { [ -n "$(redis-cli -p "$(node_port "${NAMES[1]}")" get greeting 2>/dev/null)" ]; }
        if wait_for 5 replica_has; then
            out="$(redis-cli -p "$(node_port "${NAMES[1]}")" get greeting 2>/dev/null)"
            say "${NAMES[1]} (replica) already has them: GET greeting -> \"$out\""
        fi
    else
        warn "could not write the demo keys on ${NAMES[0]} (127.0.0.1:$mp); the fleet runs anyway"
    fi
    print_summary
}

cmd_failover() {
    local old oldport pid t0 t1 new newport i ms fid
    need_tools
    [ -d "$DEMO" ] && DEMO="$(cd "$DEMO" && pwd)"
    load_env || die "no demo in $DEMO; start one with 'make demo'"
    ours "$DEMO/kvfleetd.pid" >/dev/null || die "kvfleetd of the demo is not running; '$MK_STOP', then 'make demo'"
    get_master || die "cannot ask kvfleetd for the master of $CLUSTER (HTTP $STATUS $BODY)"
    old="$MASTER_NODE"
    oldport="$MASTER_PORT"
    pid="$(ours "$DEMO/$old.pid")" ||
        die "the master $old (127.0.0.1:$oldport) is not running as a demo process; '$MK_RESTART $old' starts it"

    api GET "/api/v1/clusters/$CLUSTER"
    [ "$(jbody .health)" = healthy ] ||
        say "note: cluster $CLUSTER is $(jbody '.health + " (" + (.reasons | join("; ")) + ")"'); the failover may be refused"
    # A recent automatic failover blocks the next one for its cooldown (60 s)
    # unless acknowledged: acknowledge it, as an operator would.
    api GET "/api/v1/clusters/$CLUSTER/failovers?limit=1"
    fid="$(jbody '.failovers[0] | select(.kind == "automatic" and .status == "done" and .acknowledged == null) | .id')"
    if [ -n "$fid" ]; then
        api POST "/api/v1/failovers/$fid/ack" '{"comment":"demo-failover: next round"}'
        [ "$STATUS" = 200 ] && say "acknowledged the previous failover #$fid (lifts its 60 s cooldown)"
    fi

    say "master of $CLUSTER is $old (127.0.0.1:$oldport, pid $pid): killing it with SIGKILL"
    t0=$(now_ms)
    kill -KILL "$pid" 2>/dev/null || die "kill -KILL $pid failed"
    new=""
    for ((i = 0; i < FAILOVER_TIMEOUT * 10; i++)); do
        get_master
        new="$MASTER_NODE"
        if [ -n "$new" ] && [ "$new" != "$old" ]; then break; fi
        new=""
        sleep 0.1
    done
    t1=$(now_ms)
    if [ -z "$new" ]; then
        warn "no new master after ${FAILOVER_TIMEOUT} s; the planner says:"
        api GET "/api/v1/clusters/$CLUSTER/failover/plan"
        jbody '"  master: \(.master_verdict // "?")  verdict: \(.verdict // "?")"' >&2
        say "restart the old master with: $MK_RESTART $old"
        exit 1
    fi
    newport="$MASTER_PORT"
    ms=$((t1 - t0))
    say "new master: $new (127.0.0.1:$newport), $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s after the kill"
    # The API names the new master at the topology step; the failover goes
    # on re-pointing the other replicas and verifying them.
    fo_over() {
        api GET "/api/v1/clusters/$CLUSTER/failovers?limit=1"
        [ "$STATUS" = 200 ] && [ "$(jbody '.failovers[0].status')" != running ]
    }
    wait_for 10 fo_over
    [ "$STATUS" = 200 ] && jbody '.failovers[0] | "failover #\(.id) (\(.kind)): \(.old_master) -> \(.new_master), \(.status) in \(.duration_ms // "?") ms once the master was judged failed; reason: \(.reason)"'
    say "Sentinel port now answers: $(redis-cli -p "$SENTINEL_PORT" SENTINEL get-master-addr-by-name "$CLUSTER" 2>/dev/null | tr '\n' ' ')"

    case "${DEMO_RESTART:-yes}" in
        no | 0 | false)
            say "$old stays down; '$MK_RESTART $old' starts it again (it rejoins as a replica of $new)"
            return 0 ;;
    esac
    say "restarting $old (the old master) so it rejoins as a replica of $new..."
    if ! start_node "$old"; then
        warn "could not restart $old; '$MK_RESTART $old' tries again"
        exit 1
    fi
    say "$old restarted (pid $(cat "$DEMO/$old.pid")) on 127.0.0.1:$oldport"
    rejoined() {
        api GET "/api/v1/nodes/$old"
        [ "$(jbody .status.role)" = replica ] && [ "$(jbody .status.link)" = up ] &&
            [ "$(jbody .status.replicating_from)" = "127.0.0.1:$newport" ]
    }
    if wait_for 15 rejoined; then
        say "$old rejoined as a replica of $new: the fleet is whole again"
    else
        say "$old is back but not yet a linked replica of $new (role $(jbody .status.role), link $(jbody .status.link)); watch the dashboard"
    fi
    say "Dashboard: $URL/   events: curl -s '$URL/api/v1/events?cluster=$CLUSTER&limit=20' | jq -r '.events[] | \"\\(.time) \\(.kind) \\(.node // \"-\") \\(.message)\"'"
}

cmd_restart_node() {
    local n started=0 which=("$@")
    need_tools
    [ -d "$DEMO" ] && DEMO="$(cd "$DEMO" && pwd)"
    load_env || die "no demo in $DEMO; start one with 'make demo'"
    ours "$DEMO/kvfleetd.pid" >/dev/null || die "kvfleetd of the demo is not running; '$MK_STOP', then 'make demo'"
    [ ${#which[@]} -gt 0 ] || which=("${NAMES[@]}")
    for n in "${which[@]}"; do
        [ -n "$(node_port "$n")" ] || die "no demo node '$n' (nodes: ${NAMES[*]})"
        if pid="$(ours "$DEMO/$n.pid")"; then
            [ $# -gt 0 ] && say "$n is running already (pid $pid)"
            continue
        fi
        start_node "$n" || exit 1
        say "$n restarted (pid $(cat "$DEMO/$n.pid")) on 127.0.0.1:$(node_port "$n"); kvfleetd makes it a replica of the current master"
        started=$((started + 1))
    done
    [ $# -gt 0 ] || [ "$started" -gt 0 ] || say "every demo node is running"
}

cmd_stop() {
    local p pid i n stopped=() pids=()
    [ -d "$DEMO" ] || { say "no demo process was running"; return 0; }
    DEMO="$(cd "$DEMO" && pwd)"
    # stop_pids <pid...>: SIGTERM, bounded wait (10 s), then SIGKILL.
    stop_pids() {
        local q
        for q in "$@"; do kill -TERM "$q" 2>/dev/null; done
        for ((i = 0; i < 100; i++)); do
            local any=0
            for q in "$@"; do alive "$q" && any=1; done
            [ "$any" = 0 ] && return 0
            sleep 0.1
        done
        for q in "$@"; do
            if alive "$q"; then
                say "pid $q did not stop within 10 s; SIGKILL"
                kill -KILL "$q" 2>/dev/null
            fi
        done
    }
    # The controller first, so it does not react to its nodes going away.
    if pid="$(ours "$DEMO/kvfleetd.pid")"; then
        stop_pids "$pid"
        stopped+=("kvfleetd (pid $pid)")
    fi
    rm -f "$DEMO/kvfleetd.pid"
    for p in "$DEMO"/node*.pid; do
        [ -e "$p" ] || continue
        if pid="$(ours "$p")"; then
            pids+=("$pid")
            stopped+=("$(basename "$p" .pid) (pid $pid)")
        fi
    done
    [ ${#pids[@]} -gt 0 ] && stop_pids "${pids[@]}"
    rm -f "$DEMO"/node*.pid "$DEMO/.body"
    if [ ${#stopped[@]} -gt 0 ]; then
        for n in "${stopped[@]}"; do say "stopped $n"; done
        say "logs and the database are kept in $DEMO/"
    else
        say "no demo process was running"
    fi
}

cmd_status() {
    local p pid any=0 m
    [ -d "$DEMO" ] && DEMO="$(cd "$DEMO" && pwd)"
    load_env || { say "no demo started in $DEMO"; return 0; }
    for p in "$DEMO/kvfleetd.pid" "$DEMO"/node*.pid; do
        [ -e "$p" ] || continue
        any=1
        n="$(basename "$p" .pid)"
        if [ "$n" = kvfleetd ]; then port="http $HTTP_PORT, sentinel $SENTINEL_PORT"; else port="port $(node_port "$n")"; fi
        if pid="$(ours "$p")"; then
            say "$n: running (pid $pid, $port)"
        else
            say "$n: not running ($port)"
        fi
    done
    [ "$any" = 1 ] || { say "no demo process is running"; return 0; }
    if ours "$DEMO/kvfleetd.pid" >/dev/null && command -v jq >/dev/null 2>&1; then
        get_master && say "master of $CLUSTER: $MASTER_NODE (127.0.0.1:$MASTER_PORT, $(jbody .state))"
        api GET "/api/v1/clusters/$CLUSTER"
        if [ "$STATUS" = 200 ]; then
            say "health: $(jbody '.health + (if (.reasons | length) > 0 then " (" + (.reasons | join("; ")) + ")" else "" end)')"
        else
            say "cluster $CLUSTER: HTTP $STATUS $(jbody '.error.message // empty')"
        fi
        say "dashboard: $URL/"
    fi
}

case "${1:-}" in
    start) cmd_start ;;
    failover) cmd_failover ;;
    restart-node) shift; cmd_restart_node "$@" ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) die "usage: tests/demo.sh start|failover|restart-node [NAME]|stop|status" ;;
esac
