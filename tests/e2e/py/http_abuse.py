#!/usr/bin/env python3
"""http_abuse.py - hostile HTTP clients for tests/e2e/test_ctl_api_limits.sh.

  slowloris PORT COUNT SRCS HEAD_KB READY_FILE MAX_SECONDS
      Open COUNT connections from each source address in SRCS (comma
      separated; any 127.0.0.0/8 address: the server sees clients other than
      127.0.0.1), send an incomplete request head of about HEAD_KB KiB on
      each (at least the request line and Host) and then one more header
      line on every open one each 0.5 s, so that no idle timeout ever fires. Writes
      READY_FILE once every connection is open; ends when the server has
      closed all of them or after MAX_SECONDS. Prints one JSON object:
      opened, connect_failed, refused (closed by the server before the first
      trickle, 0.5 s after all were open: a connection cap), closed (the
      rest the server closed), still_open, close_after_s (min/max seconds from open to
      close of the ones closed), answered (bytes came back before the close).

  flood PORT REQUESTS PARALLEL PATH
      REQUESTS GETs of PATH from PARALLEL threads as fast as they go, each
      thread alternating a keep-alive connection and a fresh one per request.
      Prints JSON: per-status counts, errors, seconds.

  bodies PORT COUNT SIZE SRC READY_FILE HOLD_SECONDS
      COUNT connections from SRC, each POSTing a SIZE-byte body to
      /api/v1/nodes but holding back its last byte: READY_FILE is written
      once all but those bytes are sent, HOLD_SECONDS later the last bytes
      go and the answers are read. Prints JSON: per-status counts, the
      error codes of the JSON bodies, errors.

Loops are bounded in count and time; every socket is closed on exit.
"""
import http.client
import json
import os
import select
import socket
import sys
import threading
import time


def slow_head(head_kb):
    head = b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    lines = [b"X-Pad-%d: %s\r\n" % (i, b"p" * 1000) for i in range(head_kb)]
    return head + b"".join(lines)


def send_some(sock, data):
    """Send what the socket takes now; the rest, b"" when all went."""
    try:
        n = sock.send(data)
    except BlockingIOError:
        n = 0
    except OSError:
        return b""      # reported closed by the next recv
    return data[n:]


def slowloris(port, count, srcs, head_kb, ready_file, max_s):
    # fd -> [socket, opened_at, trickles, got_bytes, unsent part of the head]
    socks = {}
    out = {"opened": 0, "connect_failed": 0, "refused": 0, "closed": 0,
           "still_open": 0, "answered": 0}
    close_after = []
    head = slow_head(head_kb)
    for src in srcs.split(","):
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.settimeout(2)
                s.bind((src, 0))
                s.connect(("127.0.0.1", port))
                s.setblocking(False)
            except OSError:
                out["connect_failed"] += 1
                s.close()
                continue
            # A server at its connection cap leaves us in its listen
            # backlog: whatever of the head does not fit is sent later.
            socks[s.fileno()] = [s, time.monotonic(), 0, False, send_some(s, head)]
            out["opened"] += 1
    with open(ready_file, "w") as f:
        f.write("%d\n" % out["opened"])
    start = time.monotonic()
    next_trickle = start + 0.5
    trickled = False
    while socks and time.monotonic() - start < max_s:
        timeout = max(0.0, next_trickle - time.monotonic())
        readable, _, _ = select.select(list(socks), [], [], timeout)
        now = time.monotonic()
        for fd in readable:
            ent = socks[fd]
            try:
                data = ent[0].recv(4096)
            except OSError:
                data = b""
            if data:
                ent[3] = True
                continue
            if not trickled:
                out["refused"] += 1
            else:
                out["closed"] += 1
                close_after.append(now - ent[1])
            if ent[3]:
                out["answered"] += 1
            ent[0].close()
            del socks[fd]
        if now >= next_trickle:
            for fd in list(socks):
                ent = socks[fd]
                if ent[4]:
                    ent[4] = send_some(ent[0], ent[4])
                    continue
                try:
                    ent[0].send(b"X-Slow-%d: x\r\n" % ent[2])
                    ent[2] += 1
                except OSError:
                    pass        # reported closed by the next recv
            next_trickle = now + 0.5
            trickled = True
    out["still_open"] = len(socks)
    for ent in socks.values():
        ent[0].close()
    if close_after:
        out["close_after_s"] = {"min": round(min(close_after), 2),
                                "max": round(max(close_after), 2)}
    print(json.dumps(out))


def flood(port, total, parallel, path):
    lock = threading.Lock()
    counts = {}
    errors = [0]
    todo = [total]

    def take():
        with lock:
            if todo[0] <= 0:
                return False
            todo[0] -= 1
            return True

    def worker():
        conn = None
        i = 0
        while take():
            i += 1
            try:
                if conn is None or i % 2 == 0:
                    if conn is not None:
                        conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                key = str(resp.status)
                if resp.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                key = None
                if conn is not None:
                    conn.close()
                conn = None
            with lock:
                if key is None:
                    errors[0] += 1
                else:
                    counts[key] = counts.get(key, 0) + 1
        if conn is not None:
            conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    print(json.dumps({"status": counts, "errors": errors[0],
                      "seconds": round(time.monotonic() - t0, 2)}))


def read_answer(sock, deadline):
    """(status, JSON error code or None) of one HTTP answer; (None, None)
    when the connection ended first."""
    buf = b""
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except OSError:
            break
        if not data:
            break
        buf += data
        head, sep, body = buf.partition(b"\r\n\r\n")
        if not sep:
            continue
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if len(body) < length:
            continue
        status = int(head.split(b" ")[1])
        try:
            code = json.loads(body[:length])["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = None
        return status, code
    return None, None


def bodies(port, count, size, src, ready_file, hold_s):
    socks = []
    head = (b"POST /api/v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % size)
    body = b"a" * (size - 1)
    out = {"status": {}, "codes": {}, "errors": 0}
    # A sanitizer build of kvfleetd drains the bodies past its budget
    # several times slower: the caller may allow more (ABUSE_WAIT_S).
    wait_s = float(os.environ.get("ABUSE_WAIT_S", "5"))
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.settimeout(wait_s)
            s.bind((src, 0))
            s.connect(("127.0.0.1", port))
            s.sendall(head + body)
            socks.append(s)
        except OSError:
            out["errors"] += 1
            s.close()
    with open(ready_file, "w") as f:
        f.write("%d\n" % len(socks))
    time.sleep(hold_s)
    deadline = time.monotonic() + 2 * wait_s
    for s in socks:
        try:
            s.sendall(b"a")
        except OSError:
            pass
        status, code = read_answer(s, deadline)
        s.close()
        if status is None:
            out["errors"] += 1
            continue
        out["status"][str(status)] = out["status"].get(str(status), 0) + 1
        if code is not None:
            out["codes"][code] = out["codes"].get(code, 0) + 1
    print(json.dumps(out))


def main(argv):
    if len(argv) == 7 and argv[0] == "slowloris":
        slowloris(int(argv[1]), int(argv[2]), argv[3], int(argv[4]), argv[5], float(argv[6]))
    elif len(argv) == 7 and argv[0] == "bodies":
        bodies(int(argv[1]), int(argv[2]), int(argv[3]), argv[4], argv[5], float(argv[6]))
    elif len(argv) == 5 and argv[0] == "flood":
        flood(int(argv[1]), int(argv[2]), int(argv[3]), argv[4])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
