#!/usr/bin/env python3
"""writable_check.py - ask every node every 10 ms whether it accepts writes
and report any moment at which two of them did.

Usage: writable_check.py SECONDS PORT [PORT...]

Each round sends SET kvfleet:writable-check <round> to every node (50 ms
socket timeout, so a stopped node only costs its timeout). A node accepts
writes in a round when the SET answers OK. Prints one summary line
"rounds=N max_writable=M violations=V" and, for each violation, the round
and the ports. Exit 0 when no round saw two writable nodes. Bounded in time.
"""
import socket
import sys
import time

secs, ports = float(sys.argv[1]), [int(p) for p in sys.argv[2:]]


def try_set(port, rnd):
    cmd = b"*3\r\n$3\r\nSET\r\n$22\r\nkvfleet:writable-check\r\n$%d\r\n%s\r\n" % (
        len(str(rnd)), str(rnd).encode())
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.05) as s:
            s.settimeout(0.05)
            s.sendall(cmd)
            data = s.recv(256)
            return data.startswith(b"+OK")
    except OSError:
        return False


end = time.monotonic() + secs
rounds = violations = max_w = 0
while time.monotonic() < end:
    rounds += 1
    ok = [p for p in ports if try_set(p, rounds)]
    max_w = max(max_w, len(ok))
    if len(ok) > 1:
        violations += 1
        print("violation round=%d writable=%s" % (rounds, ",".join(map(str, ok))), flush=True)
    time.sleep(0.01)
print("rounds=%d max_writable=%d violations=%d" % (rounds, max_w, violations), flush=True)
sys.exit(1 if violations else 0)
