#!/usr/bin/env python3
"""webhook_sink.py - a loopback HTTP server that records what POSTs it gets.

Usage: webhook_sink.py PORT OUT_FILE [FAIL_FIRST_N]

Appends one line per POST to OUT_FILE: the Content-Type, a tab, the body.
Answers 500 to the first FAIL_FIRST_N requests (to exercise retries), 200
after. Listens on 127.0.0.1 only; the test stops it by pid."""
import http.server
import sys

PORT, OUT = int(sys.argv[1]), sys.argv[2]
fail_left = [int(sys.argv[3]) if len(sys.argv) > 3 else 0]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(min(n, 1 << 20)).decode(errors="replace")
        with open(OUT, "a") as f:
            f.write("%s\t%s\n" % (self.headers.get("Content-Type"), body.replace("\n", " ")))
        code = 500 if fail_left[0] > 0 else 200
        fail_left[0] -= 1
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
