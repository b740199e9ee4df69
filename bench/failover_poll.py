#!/usr/bin/env python3
"""failover_poll.py - watch the surviving nodes of a failover (bench/failover.sh).

Usage: failover_poll.py SECONDS OUT_FILE PORT_A PORT_B

Asks both nodes `INFO replication` every 10 ms over one persistent
connection each (reconnecting when a connection breaks) and writes, in
CLOCK_REALTIME seconds (the clock bash's $EPOCHREALTIME reads):

    promoted <port> <time>   first poll where one of them said role:master
    followed <port> <time>   first poll where that master's port was named
                             as master_port, with master_link_status:up, by
                             the other one (the remaining replica follows)
    timeout                  SECONDS passed first

Loopback only, bounded by SECONDS.
"""
import socket
import sys
import time


class Node:
    def __init__(self, port):
        self.port = port
        self.sock = None
        self.buf = b""

    def info(self):
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=0.5)
            self.sock.settimeout(0.5)
            self.buf = b""
        self.sock.sendall(b"*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n")
        while True:
            if b"\r\n" in self.buf:
                hdr, rest = self.buf.split(b"\r\n", 1)
                if not hdr.startswith(b"$"):
                    raise ConnectionError(hdr.decode(errors="replace"))
                n = int(hdr[1:])
                if len(rest) >= n + 2:
                    self.buf = rest[n + 2:]
                    text = rest[:n].decode(errors="replace")
                    return dict(l.split(":", 1) for l in text.split("\r\n") if ":" in l)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.buf += data

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None


def main():
    secs, out = float(sys.argv[1]), sys.argv[2]
    nodes = [Node(int(sys.argv[3])), Node(int(sys.argv[4]))]
    start = time.monotonic()
    promoted = None
    result = ["timeout"]
    while time.monotonic() - start < secs:
        t_loop = time.monotonic()
        infos = []
        for n in nodes:
            try:
                infos.append(n.info())
            except (OSError, ConnectionError, ValueError):
                n.close()
                infos.append({})
        now = time.time()
        masters = [i for i, inf in enumerate(infos) if inf.get("role") == "master"]
        if len(masters) == 1:
            m = masters[0]
            other = infos[1 - m]
            if promoted is None:
                promoted = nodes[m].port
                result = ["promoted %d %.6f" % (promoted, now)]
            if (other.get("role") == "slave"
                    and other.get("master_port") == str(nodes[m].port)
                    and other.get("master_link_status") == "up"):
                result.append("followed %d %.6f" % (nodes[m].port, now))
                break
        time.sleep(max(0.0, 0.01 - (time.monotonic() - t_loop)))
    with open(out, "w") as f:
        f.write("\n".join(result) + "\n")


if __name__ == "__main__":
    main()
