#!/usr/bin/env python3
"""failover_writer.py - run tests/e2e/py/writer.py with its start time known.

Usage: failover_writer.py T0_FILE WRITER_PY WRITER_ARGS...

writer.py stamps its lines with milliseconds since its own start
(time.monotonic() taken first thing in main()). bench/failover.sh needs the
kill -9 on the same scale, so this launcher writes CLOCK_REALTIME (the clock
bash's $EPOCHREALTIME reads) to T0_FILE and then runs writer.py unchanged in
this same process, as `python3 writer.py ...` would run it (as __main__):
writer.py is read and compiled and its imports loaded before the stamp, so its
start follows the stamp by a few microseconds, with no interpreter start-up
or compilation in between.
"""
import socket  # noqa: F401 - writer.py's imports, loaded before the stamp
import sys
import time

t0_file, writer = sys.argv[1], sys.argv[2]
sys.argv = [writer] + sys.argv[3:]
with open(writer) as f:
    code = compile(f.read(), writer, "exec")
with open(t0_file, "w") as f:
    f.write("%.6f\n" % time.time())
exec(code, {"__name__": "__main__", "__file__": writer, "__builtins__": __builtins__})
