#!/usr/bin/env python3
"""chaos_client.py - the clients of the fault-injection run (tests/chaos/chaos.sh).

Raw-socket RESP, standard library only, every wait bounded. Subcommands:

  writer SENTINEL_HOST:PORT CLUSTER OUT
      SET key-N N then WAIT 1 500, in a loop, until SIGTERM. The master is
      found through kvfleetd's Sentinel port and found again after any
      error. One line per write outcome, flushed as it happens so a killed
      run keeps its record: "ack N" (SET OK and WAIT >= 1: must survive),
      "ok N" (SET OK, WAIT 0: not confirmed on a replica), "err MS TEXT".
  checker OUT HOST:PORT...
      Every 10 ms, one round: SET kvfleet:chaos-probe to every node at once
      over persistent connections, then read the answers for up to 8 ms.
      A node "accepts writes" in a round when a +OK arrives in that round.
      Two in the same round is a split-brain sample. Until SIGTERM; writes
      "rounds=R split_brain=S seconds=T" and one line per split-brain round.
  converge TIMEOUT_S HOST:PORT...
      Polls INFO replication of every node every 20 ms until exactly one
      node is an unfenced master and every other node is linked to it
      (master_link_status:up) with an offset at least the master's offset
      read first in the same round. Prints "converged MS MASTER" (exit 0)
      or "timeout MS WHY" (exit 1).
  readback WRITER_OUT HOST:PORT
      EXISTS for every acknowledged key on that node, pipelined. Prints
      "acked=A lost=L ok_only=O ok_only_present=P" and the first lost keys.
  burst HOST:PORT KEYS VALUE_BYTES TAG
      Pipelined SETs of burst:0..KEYS-1 (a bounded key set, rewritten by
      every burst) to values that start with TAG, so a command a replica
      missed can be found. Prints "burst sent=N ok=K".
  killonfailover API_URL TOKEN CLUSTER BEFORE_ID PID DELAY_MS TIMEOUT_S
      Polls GET /api/v1/clusters/CLUSTER/failovers?limit=1 over one
      keep-alive connection until a failover newer than BEFORE_ID appears,
      waits DELAY_MS and SIGKILLs PID (kvfleetd): a kill that lands while
      the failover runs. Prints "killed ID STATUS/STEP" (what the row said
      just before the kill) or "nofailover" (PID killed at TIMEOUT_S).
  burstcheck HOST:PORT KEYS TAG
      How many of burst:0..KEYS-1 do not start with TAG on that node
      (a replica that missed part of the last burst). Prints the count.
"""
import http.client
import json
import os
import selectors
import signal
import socket
import sys
import time

stopping = False


def on_term(_sig, _frm):
    global stopping
    stopping = True


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def hostport(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


class Reader:
    """Incremental RESP reply parser: feed bytes, pop complete replies.
    A reply is (is_error, value)."""

    def __init__(self):
        self.buf = b""

    def feed(self, data):
        self.buf += data

    def _parse(self, pos):
        end = self.buf.find(b"\r\n", pos)
        if end < 0:
            return None
        t, line, nxt = self.buf[pos:pos + 1], self.buf[pos + 1:end], end + 2
        if t == b"+":
            return (False, line.decode(errors="replace")), nxt
        if t == b"-":
            return (True, line.decode(errors="replace")), nxt
        if t == b":":
            return (False, int(line)), nxt
        if t == b"$":
            n = int(line)
            if n < 0:
                return (False, None), nxt
            if len(self.buf) < nxt + n + 2:
                return None
            return (False, self.buf[nxt:nxt + n].decode(errors="replace")), nxt + n + 2
        if t == b"*":
            n = int(line)
            items = []
            for _ in range(max(n, 0)):
                r = self._parse(nxt)
                if r is None:
                    return None
                items.append(r[0][1])
                nxt = r[1]
            return (False, items), nxt
        raise ConnectionError("bad reply type %r" % t)

    def pop(self):
        r = self._parse(0)
        if r is None:
            return None
        self.buf = self.buf[r[1]:]
        return r[0]


class Conn:
    """A blocking connection with a deadline on every call."""

    def __init__(self, addr, timeout):
        self.sock = socket.create_connection(hostport(addr), timeout=timeout)
        self.sock.settimeout(timeout)
        self.reader = Reader()

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        while True:
            r = self.reader.pop()
            if r is not None:
                return r
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.reader.feed(data)

    def call(self, *args):
        self.send(encode(*args))
        return self.reply()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def master_from_sentinel(sentinel, cluster):
    c = Conn(sentinel, 0.5)
    try:
        err, v = c.call("SENTINEL", "get-master-addr-by-name", cluster)
    finally:
        c.close()
    if err or not isinstance(v, list) or len(v) != 2:
        return None
    return "%s:%s" % (v[0], v[1])


WRITE_PERIOD_S = 0.004


def writer(sentinel, cluster, out):
    """At most one write per WRITE_PERIOD_S: a long run's dataset (every
    node's tmpfs holds a replica's full-sync file) stays a few MB."""
    start = time.monotonic()
    n = 0
    conn = None
    with open(out, "w", buffering=1) as fo:
        while not stopping:
            try:
                if conn is None:
                    addr = master_from_sentinel(sentinel, cluster)
                    if addr is None:
                        raise ConnectionError("no master from the Sentinel port")
                    # WAIT may block 500 ms: the socket deadline is above it.
                    conn = Conn(addr, 1.0)
                time.sleep(WRITE_PERIOD_S)
                n += 1
                conn.send(encode("SET", "key-%d" % n, n) + encode("WAIT", 1, 500))
                set_err, set_v = conn.reply()
                wait_err, wait_v = conn.reply()
                if set_err or set_v != "OK":
                    raise ConnectionError("SET: %s" % set_v)
                if not wait_err and isinstance(wait_v, int) and wait_v >= 1:
                    fo.write("ack %d\n" % n)
                else:
                    fo.write("ok %d\n" % n)
            except (OSError, ConnectionError, ValueError) as e:
                ms = int((time.monotonic() - start) * 1000)
                fo.write("err %d %s\n" % (ms, str(e).replace("\n", " ")[:200]))
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.02)
        fo.write("writes %d\n" % n)


class Probe:
    """One checker connection: non-blocking, at most one SET in flight."""

    def __init__(self, addr):
        self.addr = addr
        self.sock = None
        self.reader = Reader()
        self.inflight_since = None

    def reset(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.reader = Reader()
        self.inflight_since = None

    def send(self, rnd):
        if self.sock is None:
            try:
                self.sock = socket.create_connection(hostport(self.addr), timeout=0.03)
                self.sock.setblocking(False)
            except OSError:
                self.sock = None
                return
        try:
            self.sock.send(encode("SET", "kvfleet:chaos-probe", rnd))
            self.inflight_since = time.monotonic()
        except OSError:
            self.reset()


def checker(out, addrs):
    """Rounds start every 10 ms. A round sends to every node without a
    request in flight and listens for up to 8 ms on every connection with
    one; an answer counts in the round it arrives in (a stopped node that
    resumes and takes the write counts when it does). A node silent for a
    second gets a fresh connection."""
    probes = [Probe(a) for a in addrs]
    sel = selectors.DefaultSelector()
    rounds = split = 0
    started = time.monotonic()
    with open(out, "w", buffering=1) as fo:
        while not stopping:
            rounds += 1
            round_start = time.monotonic()
            sent_now = set()
            for p in probes:
                if p.inflight_since is not None and round_start - p.inflight_since > 1.0:
                    p.reset()
                if p.inflight_since is None:
                    p.send(rounds)
                    if p.inflight_since is not None:
                        sent_now.add(p)
            writable = set()
            waiting = {p.sock: p for p in probes if p.sock is not None and p.inflight_since is not None}
            for sk in waiting:
                sel.register(sk, selectors.EVENT_READ)
            deadline = round_start + 0.008
            while sent_now and time.monotonic() < deadline:
                for key, _ in sel.select(max(0.0, deadline - time.monotonic())):
                    p = waiting.get(key.fileobj)
                    if p is None:
                        continue
                    try:
                        data = p.sock.recv(4096)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    sel.unregister(key.fileobj)
                    del waiting[key.fileobj]
                    sent_now.discard(p)
                    if not data:
                        p.reset()
                        continue
                    p.reader.feed(data)
                    r = p.reader.pop()
                    if r is None:
                        continue    # a partial answer: finished next round
                    p.inflight_since = None
                    if not r[0] and r[1] == "OK":
                        writable.add(p.addr)
            for sk in list(waiting):
                sel.unregister(sk)
            if len(writable) > 1:
                split += 1
                fo.write("split_brain round=%d t=%.3f writable=%s\n"
                         % (rounds, time.time(), ",".join(sorted(writable))))
            time.sleep(max(0.0, 0.01 - (time.monotonic() - round_start)))
        fo.write("rounds=%d split_brain=%d seconds=%.1f\n" % (rounds, split, time.monotonic() - started))


def info_fields(addr):
    c = Conn(addr, 0.2)
    try:
        err, v = c.call("INFO", "replication")
    finally:
        c.close()
    if err:
        raise ConnectionError(v)
    out = {}
    for line in v.split("\r\n"):
        if ":" in line:
            k, val = line.split(":", 1)
            out[k] = val
    return out


def convergence_state(addrs):
    """None when converged (plus the master), else the reason."""
    infos = {}
    for a in addrs:
        try:
            infos[a] = info_fields(a)
        except (OSError, ConnectionError, ValueError) as e:
            return "%s unreachable (%s)" % (a, e), None
    masters = [a for a in addrs if infos[a].get("role") == "master"]
    if len(masters) != 1:
        return "masters=%s" % ",".join(masters), None
    m = masters[0]
    if infos[m].get("kvfleet_fenced", "0") != "0":
        return "master %s fenced" % m, None
    # The master's offset again, read before the replicas' second look:
    # a replica caught up has at least this offset.
    try:
        moff = int(info_fields(m).get("master_repl_offset", "-1"))
    except (OSError, ConnectionError, ValueError) as e:
        return "%s unreachable (%s)" % (m, e), None
    mh, mp = hostport(m)
    for a in addrs:
        if a == m:
            continue
        try:
            i = info_fields(a)
        except (OSError, ConnectionError, ValueError) as e:
            return "%s unreachable (%s)" % (a, e), None
        if i.get("master_host") != mh or i.get("master_port") != str(mp):
            return "%s follows %s:%s" % (a, i.get("master_host"), i.get("master_port")), None
        if i.get("master_link_status") != "up":
            return "%s link %s" % (a, i.get("master_link_status")), None
        if int(i.get("slave_repl_offset", "-1")) < moff:
            return "%s offset %s < %d" % (a, i.get("slave_repl_offset"), moff), None
    return None, m


def converge(timeout_s, addrs):
    start = time.monotonic()
    why = "not polled"
    while time.monotonic() - start < timeout_s:
        why, master = convergence_state(addrs)
        if why is None:
            print("converged %d %s" % (int((time.monotonic() - start) * 1000), master))
            return 0
        time.sleep(0.02)
    print("timeout %d %s" % (int((time.monotonic() - start) * 1000), why))
    return 1


def pipelined(addr, commands, timeout=5.0):
    """Send commands in batches of 1000; return their replies."""
    c = Conn(addr, timeout)
    replies = []
    try:
        for i in range(0, len(commands), 1000):
            batch = commands[i:i + 1000]
            c.send(b"".join(encode(*cmd) for cmd in batch))
            replies.extend(c.reply() for _ in batch)
    finally:
        c.close()
    return replies


def readback(writer_out, addr):
    acked, ok_only = [], []
    with open(writer_out) as f:
        for line in f:
            w = line.split()
            if len(w) == 2 and w[0] == "ack":
                acked.append(int(w[1]))
            elif len(w) == 2 and w[0] == "ok":
                ok_only.append(int(w[1]))
    r_acked = pipelined(addr, [("EXISTS", "key-%d" % n) for n in acked])
    r_ok = pipelined(addr, [("EXISTS", "key-%d" % n) for n in ok_only])
    lost = [n for n, r in zip(acked, r_acked) if r != (False, 1)]
    present = sum(1 for r in r_ok if r == (False, 1))
    print("acked=%d lost=%d ok_only=%d ok_only_present=%d" % (len(acked), len(lost), len(ok_only), present))
    for n in lost[:20]:
        print("lost key-%d" % n)
    return 0


def burst(addr, keys, value_bytes, tag):
    value = (tag.encode() + b"x" * value_bytes)[:value_bytes]
    replies = pipelined(addr, [("SET", "burst:%d" % i, value) for i in range(keys)], timeout=10.0)
    ok = sum(1 for r in replies if r == (False, "OK"))
    print("burst sent=%d ok=%d" % (len(replies), ok))
    return 0


def burstcheck(addr, keys, tag):
    replies = pipelined(addr, [("GET", "burst:%d" % i) for i in range(keys)])
    stale = sum(1 for r in replies if r[0] or not isinstance(r[1], str) or not r[1].startswith(tag))
    print(stale)
    return 0


def latest_failover(conn, token, cluster):
    conn.request("GET", "/api/v1/clusters/%s/failovers?limit=1" % cluster,
                 headers={"Authorization": "Bearer " + token})
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        return None
    rows = json.loads(body).get("failovers") or []
    return rows[0] if rows else None


def kill_on_failover(api, token, cluster, before, pid, delay_ms, timeout_s):
    host = api.split("//", 1)[1]
    conn = http.client.HTTPConnection(host, timeout=2)
    end = time.monotonic() + timeout_s
    row = None
    while time.monotonic() < end:
        try:
            row = latest_failover(conn, token, cluster)
        except (OSError, http.client.HTTPException, ValueError):
            conn.close()
            conn = http.client.HTTPConnection(host, timeout=2)
            row = None
        if row is not None and str(row.get("id")) != before:
            break
        row = None
        time.sleep(0.002)
    time.sleep(delay_ms / 1000.0)
    os.kill(pid, signal.SIGKILL)
    if row is None:
        print("nofailover")
    else:
        print("killed %s %s/%s" % (row.get("id"), row.get("status"), row.get("step")))
    return 0


def main():
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "writer":
        writer(args[0], args[1], args[2])
    elif cmd == "checker":
        checker(args[0], args[1:])
    elif cmd == "converge":
        return converge(float(args[0]), args[1:])
    elif cmd == "readback":
        return readback(args[0], args[1])
    elif cmd == "burst":
        return burst(args[0], int(args[1]), int(args[2]), args[3])
    elif cmd == "killonfailover":
        return kill_on_failover(args[0], args[1], args[2], args[3], int(args[4]), int(args[5]),
                                float(args[6]))
    elif cmd == "burstcheck":
        return burstcheck(args[0], int(args[1]), args[2])
    else:
        print("unknown subcommand %s" % cmd, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
