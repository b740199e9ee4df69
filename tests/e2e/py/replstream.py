#!/usr/bin/env python3
"""replstream: attach to a master as a replica (SYNC), skip the RDB payload,
and print every command of the replication stream, one per line, its
arguments separated by spaces (non-printable bytes as \\xNN), until a
command whose arguments contain the stop marker, or the timeout.

    replstream.py <port> <stop-marker> [timeout-seconds] > stream.txt

PINGs and REPLCONF GETACK (heartbeats) are dropped: their number depends on
timing, not on the commands run. The reader never answers the master: SYNC
(not PSYNC) makes Redis treat it as an old replica that owes no ACKs.
Stdout gets "READY" on stderr-free line 1 once the RDB is skipped, so the
caller knows when to start writing."""
import socket
import sys
import time


class Reader:
    def __init__(self, sock, deadline):
        self.sock = sock
        self.buf = b""
        self.deadline = deadline

    def fill(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        self.sock.settimeout(left)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def until(self, marker):
        while marker not in self.buf:
            self.fill()
        i = self.buf.index(marker) + len(marker)
        self.buf = self.buf[i:]


def show(arg):
    out = []
    for b in arg:
        c = chr(b)
        out.append(c if 32 < b < 127 and c != "\\" else "\\x%02x" % b)
    return "".join(out) if arg else '""'


def skip_payload(r):
    # Skip newlines the master sends while it prepares the RDB.
    while True:
        line = r.line()
        if line.startswith(b"$"):
            break
    spec = line[1:]
    if spec.startswith(b"EOF:"):
        r.until(spec[4:])
    else:
        r.exact(int(spec))


def read_command(r):
    line = r.line()
    if not line.startswith(b"*"):
        return [line]  # inline PING / newline keepalive
    args = []
    for _ in range(int(line[1:])):
        head = r.line()
        args.append(r.exact(int(head[1:]) + 2)[:-2])
    return args


def main():
    port, marker = int(sys.argv[1]), sys.argv[2].encode()
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 20.0
    deadline = time.monotonic() + timeout
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(b"SYNC\r\n")
    r = Reader(sock, deadline)
    skip_payload(r)
    print("READY", flush=True)
    while True:
        args = read_command(r)
        if not args or args == [b""]:
            continue
        name = args[0].lower()
        if name == b"ping" or (name == b"replconf" and len(args) > 1 and args[1].lower() == b"getack"):
            continue
        print(" ".join(show(a) for a in args), flush=True)
        if any(marker in a for a in args):
            return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (TimeoutError, EOFError, OSError) as e:
        print("ERROR %s" % e, flush=True)
        sys.exit(1)
