#!/usr/bin/env python3
"""writer.py - write through a failover the way an application would.

Usage: writer.py SECONDS OUT_FILE (--sentinel PORT NAME | --ports P1,P2,...)

Writes SET w:<n> <n> followed by WAIT 1 500 in a loop; a write counts as
acknowledged when SET answered OK and WAIT reported at least one replica.
The master is found through the Sentinel port (SENTINEL
get-master-addr-by-name), or by trying the listed ports until one accepts
the write. Writes out one line per acknowledged key ("ack <n> <ms since
start>") and per error ("err <ms> <message>"), then "first_fail_ms",
"first_ok_after_fail_ms" and a summary. Bounded by SECONDS.
"""
import socket
import sys
import time


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def read_reply(f):
    line = f.readline()
    if not line:
        raise ConnectionError("closed")
    t, rest = line[:1], line[1:-2]
    if t in (b"+", b"-"):
        return (t == b"+", rest.decode(errors="replace"))
    if t == b":":
        return (True, int(rest))
    if t == b"$":
        n = int(rest)
        if n < 0:
            return (True, None)
        data = f.read(n + 2)[:-2]
        return (True, data.decode(errors="replace"))
    if t == b"*":
        n = int(rest)
        return (True, [read_reply(f)[1] for _ in range(max(n, 0))])
    raise ConnectionError("bad reply")


def call(port, *args, timeout=0.5):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.settimeout(timeout)
        f = s.makefile("rb")
        s.sendall(resp(*args))
        return read_reply(f)


def sentinel_master(sport, name):
    ok, v = call(sport, "SENTINEL", "get-master-addr-by-name", name)
    if ok and isinstance(v, list) and len(v) == 2:
        return int(v[1])
    return None


def main():
    secs, out = float(sys.argv[1]), sys.argv[2]
    mode = sys.argv[3]
    start = time.monotonic()
    now_ms = lambda: int((time.monotonic() - start) * 1000)
    n = acked = 0
    first_fail = first_ok_after = None
    conn = None
    port = None
    lines = []
    ports = [int(p) for p in sys.argv[4].split(",")] if mode == "--ports" else []
    while time.monotonic() - start < secs:
        try:
            if port is None:
                if mode == "--sentinel":
                    port = sentinel_master(int(sys.argv[4]), sys.argv[5])
                else:
                    for p in ports:
                        try:
                            ok, v = call(p, "ROLE", timeout=0.2)
                            if ok and isinstance(v, list) and v and v[0] == "master":
                                port = p
                                break
                        except OSError:
                            pass
                if port is None:
                    raise ConnectionError("no master found")
            if conn is None:
                s = socket.create_connection(("127.0.0.1", port), timeout=0.5)
                s.settimeout(0.7)
                conn = (s, s.makefile("rb"))
            s, f = conn
            n += 1
            s.sendall(resp("SET", "w:%d" % n, n) + resp("WAIT", 1, 500))
            ok1, v1 = read_reply(f)
            ok2, v2 = read_reply(f)
            if ok1 and ok2 and isinstance(v2, int) and v2 >= 1:
                acked += 1
                lines.append("ack %d %d" % (n, now_ms()))
                if first_fail is not None and first_ok_after is None:
                    first_ok_after = now_ms()
            else:
                raise ConnectionError("SET %s / WAIT %s" % (v1, v2))
        except (OSError, ConnectionError, ValueError) as e:
            lines.append("err %d %s" % (now_ms(), str(e).replace("\n", " ")))
            if first_fail is None:
                first_fail = now_ms()
            if conn is not None:
                try:
                    conn[0].close()
                except OSError:
                    pass
            conn = None
            port = None
            time.sleep(0.01)
    with open(out, "w") as fo:
        fo.write("\n".join(lines) + "\n")
        fo.write("first_fail_ms %s\n" % (first_fail if first_fail is not None else -1))
        fo.write("first_ok_after_fail_ms %s\n" % (first_ok_after if first_ok_after is not None else -1))
        fo.write("summary writes=%d acked=%d\n" % (n, acked))


if __name__ == "__main__":
    main()
