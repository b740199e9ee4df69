# repl_lib.sh: helpers shared by the replication e2e scripts (sourced after
# lib.sh): INFO fields, bounded waits for a link to come up and for two
# nodes to hold the same offset, digests.

# info_field <port> <section> <field>: one INFO value (CR stripped).
info_field() {
    rcli "$1" info "$2" 2>/dev/null | tr -d '\r' | sed -n "s/^$3://p"
}

# wait_for <seconds> <cmd...>: retry every 50 ms until the command succeeds.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.05
    done
}

link_is_up() { [ "$(info_field "$1" replication master_link_status)" = up ]; }

# wait_link_up <port> [seconds]
wait_link_up() { wait_for "${2:-20}" link_is_up "$1"; }

# in_sync <master> <replica>: the replica applied everything the master fed
# (and the master is not mid-way through a command burst).
in_sync() {
    local m r
    m="$(info_field "$1" replication master_repl_offset)"
    r="$(info_field "$2" replication master_repl_offset)"
    [ -n "$m" ] && [ "$m" = "$r" ] && link_is_up "$2"
}

# wait_sync <master> <replica> [seconds]
wait_sync() { wait_for "${3:-20}" in_sync "$1" "$2"; }

# digest <port>: the full content in kvdump's canonical form, hashed. (DEBUG
# DIGEST is compared as well where it is process-independent.)
digest() { "$KVFLEET_TOOLS/kvdump" -p "$1" | sha1sum | cut -d' ' -f1; }

stat_of() { info_field "$1" stats "$2"; }

# master_laddr <replica-port>: the replica's end of its link, as the master
# sees it in CLIENT LIST (addr=...).
master_laddr() {
    rcli "$1" client list type master | tr ' ' '\n' | sed -n 's/^laddr=//p'
}

# slow_incr <port> <key> <n>: n INCRs over one connection, spread over about
# a second, so writes keep flowing while a test cuts a link.
slow_incr() {
    local i
    for i in $(seq 1 "$3"); do
        echo "INCR $2"
        [ $((i % 10)) -eq 0 ] && sleep 0.03
    done | rcli "$1" >/dev/null
}

# role_is <port> <role>: INFO replication role equals <role> (for wait_for).
role_is() { [ "$(info_field "$1" replication role)" = "$2" ]; }

# reply_is <expected> <port> <args...>: redis-cli reply equals <expected>.
reply_is() {
    local want="$1"
    shift
    [ "$(rcli "$@" 2>/dev/null)" = "$want" ]
}
