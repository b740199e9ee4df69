#!/usr/bin/env python3
"""Regenerate the binary seeds of tests/fuzz/corpus from Debian's
redis-server 7.0: an RDB file (rdb/) and DUMP payloads (dump/) for every
data type in each of its encodings, small and large. Run by hand:

    python3 tests/fuzz/make_seeds.py

It starts redis-server on a free loopback port in a temp dir, talks RESP
over a plain socket (no client library needed) and stops the server by
its pid. The text seeds (RESP, configs, INFO, JSON, URLs) are written by
hand and kept as they are."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            self.buf += self.s.recv(65536)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self._exact(n + 2)
            return data[:-2]
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        if kind == b"-":
            raise RuntimeError(rest.decode())
        return rest

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.reply()


def populate(c):
    c.cmd("SET", "str", "hello")
    c.cmd("SET", "int", "12345")
    c.cmd("SET", "neg", "-7")
    c.cmd("SET", "lzf", "a" * 200 + "b" * 50)
    c.cmd("SET", "ttl", "v")
    c.cmd("PEXPIREAT", "ttl", "4102444800000")
    c.cmd("RPUSH", "list", "a", "1", "bb", "-300", "70000")
    c.cmd("RPUSH", "biglist", *["e%04d" % i for i in range(200)])
    c.cmd("SADD", "intset", "1", "5", "-9", "70000", "5000000000")
    c.cmd("SADD", "set", "x", "y", "z")
    c.cmd("SADD", "bigset", *["m%d" % i for i in range(150)])
    c.cmd("ZADD", "zset", "1", "a", "2.5", "b", "-3", "c", "inf", "d")
    c.cmd("ZADD", "bigzset", *sum([[str(i / 3), "z%d" % i] for i in range(140)], []))
    c.cmd("HSET", "hash", "f1", "v1", "f2", "2", "f3", "-5")
    c.cmd("HSET", "bighash", *sum([["f%d" % i, "v" * (i % 80)] for i in range(140)], []))
    c.cmd("SELECT", "3")
    c.cmd("SET", "db3key", "x")
    c.cmd("SELECT", "0")


def main():
    tmp = tempfile.mkdtemp(prefix="kvfleet-seeds-")
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp,
         "--save", "", "--appendonly", "no", "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                c = Conn(port)
                c.cmd("PING")
                break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit("redis-server did not start")
        populate(c)
        os.makedirs(os.path.join(CORPUS, "dump"), exist_ok=True)
        os.makedirs(os.path.join(CORPUS, "rdb"), exist_ok=True)
        for key in c.cmd("KEYS", "*"):
            payload = c.cmd("DUMP", key)
            with open(os.path.join(CORPUS, "dump", key.decode() + ".bin"), "wb") as f:
                f.write(payload)
        c.cmd("SAVE")
        shutil.copy(os.path.join(tmp, "dump.rdb"), os.path.join(CORPUS, "rdb", "redis7-all-types.rdb"))
        # two tiny files: one key, and none
        c.cmd("FLUSHALL")
        c.cmd("SET", "k", "v")
        c.cmd("SAVE")
        shutil.copy(os.path.join(tmp, "dump.rdb"), os.path.join(CORPUS, "rdb", "redis7-one-key.rdb"))
        c.cmd("FLUSHALL")
        c.cmd("SAVE")
        shutil.copy(os.path.join(tmp, "dump.rdb"), os.path.join(CORPUS, "rdb", "redis7-empty.rdb"))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
