#!/usr/bin/env python3
"""incr_pipeline.py - pipelined INCRs for the AOF crash test.

Usage: incr_pipeline.py PORT KEY DEPTH SECONDS OUT_FILE

Sends INCR KEY in batches of DEPTH pipelined commands on one connection to
127.0.0.1:PORT and reads the replies; after each reply read it records the
value (the highest acknowledged count) in OUT_FILE, rewritten atomically
every batch. Ends after SECONDS or when the server goes away (the test
SIGKILLs it), so OUT_FILE always holds the last value acknowledged.
"""
import os
import socket
import sys
import time

port, key, depth, seconds, out = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
cmd = b"*2\r\n$4\r\nINCR\r\n$%d\r\n%s\r\n" % (len(key), key.encode())


def record(v):
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % v)
    os.replace(tmp, out)


acked = 0
record(acked)
deadline = time.time() + seconds
try:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.settimeout(5)
        f = s.makefile("rb")
        while time.time() < deadline:
            s.sendall(cmd * depth)
            for _ in range(depth):
                line = f.readline()
                if not line.startswith(b":"):
                    raise ConnectionError("reply %r" % line)
                acked = int(line[1:-2])
            record(acked)
except (OSError, ConnectionError, ValueError):
    pass
record(acked)
