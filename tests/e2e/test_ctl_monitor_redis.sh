#!/usr/bin/env bash
# The monitor suite again with Debian's redis-server as every data node.
# redis-server can stall replication with CLIENT PAUSE WRITE, which the
# agent does not implement, so this run also exercises the lag alerts
# (lag.high / lag.ok, degraded health) that the agent run has to skip.
KVFLEET_NODE_SERVER=/usr/bin/redis-server exec bash "$(dirname "$0")/test_ctl_monitor.sh"
