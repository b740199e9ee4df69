#!/usr/bin/env python3
"""tracking_redirect.py - CLIENT TRACKING with REDIRECT, replayed against one
server, printed as a transcript to diff against redis-server's.

Usage: tracking_redirect.py PORT

The compat scripts (tests/e2e/compat/tracking.txt) cannot name another
connection's client id, which REDIRECT needs and which differs between two
servers; this runs the redirect scenarios itself: it asks each connection
for its id, passes it where needed, and prints every reply with the ids
replaced by the connection's name (<id:R>), so the transcripts of
redis-server 7.0 and the agent must be identical byte for byte.

Covered: invalidations as RESP2 __redis__:invalidate messages (one key, a
flush's null, a BCAST batch), to a RESP3 redirect client as pushes, nothing
to a RESP2 redirect client that is not subscribed, tracking-redir-broken
for a RESP3 client whose redirect client left (and the broken_redirect /
R flags), GETREDIR and TRACKINGINFO with a redirect, CLIENT LIST flags,
the INFO tracking fields, and tracking-table-max-keys evicting keys from
the table with invalidations. Every read is bounded (3 s for an expected
reply, 0.3 s to show that nothing came, 5 s for a closed connection
to be gone). Exit 0 when the run completed.
"""
import re
import socket
import sys
import time

PORT = int(sys.argv[1])
OUT = []
IDS = {}


def enc(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    def __init__(self, name):
        self.name = name
        self.sock = socket.create_connection(("127.0.0.1", PORT), timeout=2)
        self.buf = b""

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not data:
            return False
        self.buf += data
        return True

    def _line(self, pos, deadline):
        while True:
            end = self.buf.find(b"\r\n", pos)
            if end >= 0:
                return end
            if not self._fill(deadline):
                return -1

    def _frame_end(self, pos, deadline):
        """Index just past the RESP2/RESP3 frame starting at pos, or -1."""
        end = self._line(pos, deadline)
        if end < 0:
            return -1
        kind, head = self.buf[pos:pos + 1], self.buf[pos + 1:end]
        nxt = end + 2
        if kind in b"$=!" and head != b"-1":
            need = nxt + int(head) + 2
            while len(self.buf) < need:
                if not self._fill(deadline):
                    return -1
            return need
        if kind in b"*~>%|" and head != b"-1":
            count = int(head) * (2 if kind in b"%|" else 1)
            for _ in range(count):
                nxt = self._frame_end(nxt, deadline)
                if nxt < 0:
                    return -1
            if kind == b"|":  # an attribute precedes the real reply
                return self._frame_end(nxt, deadline)
        return nxt

    def read(self, timeout=3.0):
        end = self._frame_end(0, time.monotonic() + timeout)
        if end < 0:
            return None
        frame, self.buf = self.buf[:end], self.buf[end:]
        return frame

    def send(self, *args):
        self.sock.sendall(enc(args))

    def close(self):
        self.sock.close()


class Id:
    """A connection's client id as a command argument, echoed by name."""

    def __init__(self, name):
        self.name = name

    def __str__(self):
        return str(IDS[self.name])


def show(frame, mask):
    text = "<timeout>" if frame is None else repr(frame)[2:-1]
    if mask:
        # Integer replies naming a connection (GETREDIR, TRACKINGINFO's
        # redirect, tracking-redir-broken: their only integers).
        names = {str(cid): name for name, cid in IDS.items()}
        text = re.sub(r"(^|\\r\\n):(\d+)(?=\\r\\n)",
                      lambda m: "%s:<id:%s>" % (m.group(1), names[m.group(2)])
                      if m.group(2) in names else m.group(0), text)
    return text


def echo(a):
    return "<id:%s>" % a.name if isinstance(a, Id) else str(a)


def cmd(c, *args, mask=False):
    c.send(*[str(a) if isinstance(a, Id) else a for a in args])
    OUT.append("%s> %s\n  %s" % (c.name, " ".join(echo(a) for a in args), show(c.read(), mask)))


def expect(c, what="read"):
    OUT.append("%s %s\n  %s" % (c.name, what, show(c.read(), True)))


def nothing(c):
    frame = c.read(0.3)
    OUT.append("%s quiet\n  %s" % (c.name, "<nothing>" if frame is None else show(frame, True)))


def hello(c, proto):
    """HELLO, printed as its reply type and proto field (its id varies)."""
    c.send("HELLO", proto)
    frame = c.read()
    got = re.search(rb"proto\r\n:(\d)", frame) if frame else None
    OUT.append("%s> HELLO %s\n  %s proto=%s" % (c.name, proto, chr(frame[0]) if frame else "<timeout>",
                                                 got.group(1).decode() if got else "?"))


def wait_gone(c, name):
    """Until the server has dropped connection name (bounded: 5 s)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        c.send("CLIENT", "LIST", "ID", IDS[name])
        if c.read() == b"$0\r\n\r\n":
            return
        time.sleep(0.02)
    OUT.append("<%s still connected after 5 s>" % name)


def connect(name):
    c = Conn(name)
    c.send("CLIENT", "ID")
    IDS[name] = int(c.read()[1:-2])
    return c


def client_flags(c):
    c.send("CLIENT", "INFO")
    info = c.read().decode()
    OUT.append("%s flags=%s" % (c.name, re.search(r" flags=(\S+)", info).group(1)))


def info_fields(c):
    c.send("INFO", "everything")
    info = c.read().decode()
    for f in ("tracking_clients", "tracking_total_keys", "tracking_total_items",
              "tracking_total_prefixes"):
        OUT.append("%s:%s" % (f, re.search(f + r":(\d+)", info).group(1)))


def main():
    w = connect("W")          # makes the changes
    r = connect("R")          # the RESP2 redirect target
    t = connect("T")          # the tracking client
    cmd(w, "FLUSHALL")
    cmd(r, "SUBSCRIBE", "__redis__:invalidate")

    OUT.append("-- RESP2 redirect: one key per message")
    cmd(t, "CLIENT", "TRACKING", "on", "REDIRECT", Id("R"))
    cmd(t, "CLIENT", "GETREDIR", mask=True)
    cmd(t, "CLIENT", "TRACKINGINFO", mask=True)
    cmd(t, "CLIENT", "TRACKING", "on", "REDIRECT", Id("R"), "REDIRECT", Id("W"))
    cmd(t, "MGET", "a", "b")
    client_flags(t)
    info_fields(w)
    cmd(w, "MSET", "a", "1", "b", "2")
    expect(r)
    expect(r)
    cmd(w, "SET", "a", "again")
    nothing(r)

    OUT.append("-- a flush: a null")
    cmd(t, "GET", "a")
    cmd(w, "FLUSHDB")
    expect(r)
    info_fields(w)

    OUT.append("-- BCAST batch to the redirect client")
    cmd(t, "CLIENT", "TRACKING", "off")
    cmd(t, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p:", "REDIRECT", Id("R"))
    client_flags(t)
    info_fields(w)
    cmd(w, "MSET", "p:2", "x", "p:1", "y", "q:1", "z")
    expect(r)
    cmd(t, "CLIENT", "TRACKING", "off")

    OUT.append("-- a RESP2 redirect client not subscribed gets nothing")
    r2 = connect("R2")
    cmd(t, "CLIENT", "TRACKING", "on", "REDIRECT", Id("R2"))
    cmd(t, "GET", "c")
    cmd(w, "SET", "c", "1")
    nothing(r2)
    cmd(r2, "PING")

    OUT.append("-- a RESP3 redirect client gets pushes")
    hello(r2, 3)
    cmd(t, "GET", "c")
    cmd(w, "SET", "c", "2")
    expect(r2)
    cmd(t, "GET", "c")
    cmd(w, "FLUSHALL")
    expect(r2)
    cmd(t, "CLIENT", "TRACKING", "off")

    OUT.append("-- tracking-table-max-keys evicts keys with invalidations")
    cmd(t, "CLIENT", "TRACKING", "on", "REDIRECT", Id("R"))
    cmd(t, "MGET", "k1", "k2", "k3")
    cmd(w, "CONFIG", "SET", "tracking-table-max-keys", "1")
    got = [r.read(), r.read()]
    OUT.append("R two invalidations: %s" % (None not in got))
    nothing(r)
    info_fields(w)
    cmd(w, "CONFIG", "SET", "tracking-table-max-keys", "1000000")
    cmd(t, "CLIENT", "TRACKING", "off")

    OUT.append("-- the redirect client leaves: RESP3 tracking-redir-broken")
    hello(t, 3)
    cmd(t, "CLIENT", "TRACKING", "on", "REDIRECT", Id("R"))
    cmd(t, "GET", "d")
    r.send("QUIT")
    expect(r, "QUIT")
    r.close()
    wait_gone(w, "R")
    cmd(w, "SET", "d", "1")
    expect(t)
    cmd(t, "CLIENT", "TRACKINGINFO", mask=True)
    client_flags(t)
    cmd(t, "CLIENT", "GETREDIR", mask=True)

    OUT.append("-- RESP2: broken silently")
    cmd(t, "CLIENT", "TRACKING", "off")
    hello(t, 2)
    cmd(t, "CLIENT", "TRACKING", "on", "REDIRECT", Id("R2"))
    cmd(t, "GET", "e")
    r2.close()
    wait_gone(w, "R2")
    cmd(w, "SET", "e", "1")
    nothing(t)
    cmd(t, "CLIENT", "TRACKINGINFO", mask=True)
    cmd(t, "CLIENT", "TRACKING", "on", "REDIRECT", Id("R2"))
    cmd(t, "CLIENT", "TRACKING", "off")
    info_fields(w)
    print("\n".join(OUT))


main()
