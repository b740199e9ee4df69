#!/usr/bin/env python3
"""gen_command_info.py: writes agent/command_info_table.c, the COMMAND INFO
entries of the commands kvfleet-agent implements, as Debian's redis-server
7.0 answers them (flags, key positions, ACL categories, tips, key
specifications, subcommands). These are facts about Redis' interface; the
agent replays the bytes so COMMAND / COMMAND INFO are byte-identical.

It starts a redis-server and the agent on free loopback ports, reads the
agent's command names (COMMAND LIST, top-level names only), asks
redis-server COMMAND INFO for each one and each of its subcommands in RESP2
and RESP3, and prints the C file. Commands Redis has but the agent lacks
(cluster, modules) are left out.

Usage: agent/gen_command_info.py [--redis-server /usr/bin/redis-server]
           [--agent build/bin/kvfleet-agent] > agent/command_info_table.c
"""
import argparse
import os
import socket
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Conn:
    """A blocking RESP connection that returns each reply's raw bytes."""

    def __init__(self, port):
        deadline = time.time() + 10
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("server closed the connection")
        self.buf += data

    def _line(self, pos):
        while True:
            end = self.buf.find(b"\r\n", pos)
            if end >= 0:
                return end
            self._fill()

    def _skip(self, pos):
        """Position just past the reply starting at pos."""
        end = self._line(pos)
        kind, head = self.buf[pos:pos + 1], self.buf[pos + 1:end]
        pos = end + 2
        if kind in (b"+", b"-", b":", b",", b"_", b"#", b"("):
            return pos
        if kind in (b"$", b"=", b"!"):
            n = int(head)
            if n < 0:
                return pos
            while len(self.buf) < pos + n + 2:
                self._fill()
            return pos + n + 2
        if kind in (b"*", b"~", b">", b"%", b"|"):
            n = int(head)
            if kind in (b"%", b"|"):
                n *= 2
            for _ in range(max(n, 0)):
                pos = self._skip(pos)
            return pos
        raise ValueError("unexpected RESP type %r" % kind)

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        end = self._skip(0)
        raw, self.buf = self.buf[:end], self.buf[end:]
        return raw


def resp_end(raw, pos):
    """Position just past the complete reply starting at pos in raw."""
    end = raw.index(b"\r\n", pos)
    kind, head = raw[pos:pos + 1], raw[pos + 1:end]
    pos = end + 2
    if kind in (b"$", b"=", b"!"):
        n = int(head)
        return pos if n < 0 else pos + n + 2
    if kind in (b"*", b"~", b">", b"%", b"|"):
        n = int(head) * (2 if kind in (b"%", b"|") else 1)
        for _ in range(max(n, 0)):
            pos = resp_end(raw, pos)
    return pos


def with_sorted_subcommands(entry, subs):
    """A container's entry with its subcommands in name order: Redis lists
    them in its hash order, which differs between two processes, so the
    table keeps one stable order. subs maps a full name to its raw entry."""
    pos = entry.index(b"\r\n") + 2   # past the 10-element header
    for _ in range(9):
        pos = resp_end(entry, pos)
    kind = entry[pos:pos + 1]                   # '*' (RESP2) or '~' (RESP3 set)
    out = entry[:pos] + kind + b"%d\r\n" % len(subs)
    for name in sorted(subs):
        out += subs[name]
    return out


def parse(raw):
    """Decode a RESP2 reply into Python values (enough for COMMAND INFO)."""
    def one(pos):
        end = raw.index(b"\r\n", pos)
        kind, head = raw[pos:pos + 1], raw[pos + 1:end]
        pos = end + 2
        if kind in (b"+", b"-"):
            return head.decode(), pos
        if kind == b":":
            return int(head), pos
        if kind == b"$":
            n = int(head)
            if n < 0:
                return None, pos
            return raw[pos:pos + n].decode(), pos + n + 2
        if kind == b"*":
            n = int(head)
            if n < 0:
                return None, pos
            items = []
            for _ in range(n):
                v, pos = one(pos)
                items.append(v)
            return items, pos
        raise ValueError("unexpected RESP2 type %r" % kind)
    return one(0)[0]


def only_element(raw):
    """The raw bytes of the single element of a one-element array."""
    assert raw.startswith(b"*1\r\n"), raw[:20]
    return raw[4:]


def c_string(b):
    out = []
    for ch in b:
        if ch == 0x0d:
            out.append("\\r")
        elif ch == 0x0a:
            out.append("\\n")
        elif ch in (0x22, 0x5c):
            out.append("\\" + chr(ch))
        elif 0x20 <= ch < 0x7f:
            out.append(chr(ch))
        else:
            out.append("\\%03o" % ch)
    return '"' + "".join(out) + '"'


def start(argv):
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--redis-server", default="/usr/bin/redis-server")
    ap.add_argument("--agent", default="build/bin/kvfleet-agent")
    opts = ap.parse_args()

    rport, aport = free_port(), free_port()
    procs = [
        start([opts.redis_server, "--port", str(rport), "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--daemonize", "no"]),
        start([opts.agent, "--port", str(aport), "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no"]),
    ]
    try:
        agent = Conn(aport)
        names = sorted(n for n in parse(agent.call("COMMAND", "LIST")) if "|" not in n)
        r2, r3 = Conn(rport), Conn(rport)
        r3.call("HELLO", "3")
        version = parse(r2.call("INFO", "server")).split("redis_version:")[1].split("\r\n")[0]
        rows = []
        for name in names:
            raw2 = r2.call("COMMAND", "INFO", name)
            entry = parse(raw2)[0]
            if entry is None:
                sys.stderr.write("redis-server has no command %s: left out\n" % name)
                continue
            raw3 = only_element(r3.call("COMMAND", "INFO", name))
            raw2 = only_element(raw2)
            subrows = []
            for sub in sorted(entry[9], key=lambda e: e[0]):
                full = sub[0]
                subrows.append((full, sub[6], only_element(r2.call("COMMAND", "INFO", full)),
                                only_element(r3.call("COMMAND", "INFO", full))))
            if subrows:
                raw2 = with_sorted_subcommands(raw2, {r[0]: r[2] for r in subrows})
                raw3 = with_sorted_subcommands(raw3, {r[0]: r[3] for r in subrows})
            rows.append((name, entry[6], raw2, raw3))
            rows.extend(subrows)
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    w = sys.stdout.write
    w("/* command_info_table.c: GENERATED by agent/gen_command_info.py from\n"
      " * redis-server %s's COMMAND INFO, restricted to the commands\n"
      " * kvfleet-agent implements. Do not edit: rerun the script (see its\n"
      " * header) after adding a command. */\n" % version)
    w('#include "command.h"\n\n')
    w("#define RAW(s) s, sizeof(s) - 1\n\n")
    w("const cmd_info_entry cmd_info_table[] = {\n")
    for full, cats, raw2, raw3 in rows:
        cats = " ".join(c.lstrip("@") for c in cats)
        w("    { %s, %s,\n      RAW(%s),\n      RAW(%s) },\n"
          % (c_string(full.encode()), c_string(cats.encode()), c_string(raw2), c_string(raw3)))
    w("};\n\n")
    w("const size_t cmd_info_table_len = sizeof(cmd_info_table) / sizeof(cmd_info_table[0]);\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
