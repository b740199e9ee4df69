#!/usr/bin/env bash
# test_engine_config_port: CONFIG SET port moves the listener as redis-server
# does: the new port answers, the old one is closed, connected clients stay;
# a port that cannot be bound is refused with Redis' error and the server
# keeps listening where it was; setting the current port changes nothing.
# Each step's replies are compared with redis-server's.
source "$(dirname "$0")/lib.sh"
need_redis

# probe <kind> <port>: the steps against one server (started by the caller).
probe() {
    local p="$1" q busy="$2"
    q=$(free_port)
    echo "same port: $(rcli "$p" config set port "$p")"
    echo "busy port: $(rcli "$p" config set port "$busy")"
    echo "still on the old port: $(rcli "$p" ping) $(rcli "$p" config get port | sed -n 2p | sed "s/^$p\$/P/")"
    echo "move: $(rcli "$q" ping 2>&1 | grep -c PONG) $(rcli "$p" config set port "$q")"
    echo "new port answers: $(rcli "$q" ping)"
    echo "old port closed: $(rcli "$p" ping 2>&1 | grep -c PONG)"
    rcli "$q" config set port "$p" >/dev/null
    echo "back: $(rcli "$p" ping)"
}

PB=$(free_port) && start_redis "$PB" || exit 1   # holds the busy port
PR=$(free_port) && start_redis "$PR" || exit 1
PA=$(free_port) && start_agent "$PA" --save "" || exit 1
want="$(probe "$PR" "$PB")"
got="$(probe "$PA" "$PB")"
note "$want"
expect_eq "CONFIG SET port: replies and listeners as redis-server" "$want" "$got"
check "the refusal is logged" grep -q "address already in use" "$LIB_TMP"/agent-*/stdout.log
finish
