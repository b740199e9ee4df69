#!/usr/bin/env python3
"""ctlproxy.py - a TCP proxy in front of one node that can cut the
controller off while replicas keep their link.

Usage: ctlproxy.py LISTEN_PORT TARGET_PORT CONTROL_FILE

Every connection is forwarded to 127.0.0.1:TARGET_PORT. A connection whose
first command is not PING (replicas open their link with PING; kvfleetd's
monitor starts with INFO or AUTH, its actor with CONFIG/REPLICAOF/ROLE) is
a controller connection. While CONTROL_FILE contains "cut", controller
connections are closed at once and new ones are refused after their first
bytes; replica connections are never touched. Listens on 127.0.0.1 only and
exits when its parent test kills it.
"""
import asyncio
import os
import sys

LISTEN, TARGET, CONTROL = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
controller_writers = set()


def cut():
    try:
        with open(CONTROL) as f:
            return f.read().strip() == "cut"
    except OSError:
        return False


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(creader, cwriter):
    try:
        first = await asyncio.wait_for(creader.read(65536), timeout=30)
    except (asyncio.TimeoutError, ConnectionError):
        cwriter.close()
        return
    if not first:
        cwriter.close()
        return
    is_replica = b"PING" in first[:32].upper() and b"INFO" not in first[:64].upper()
    if not is_replica and cut():
        cwriter.close()
        return
    try:
        treader, twriter = await asyncio.open_connection("127.0.0.1", TARGET)
    except OSError:
        cwriter.close()
        return
    twriter.write(first)
    if not is_replica:
        controller_writers.add(cwriter)
    await asyncio.gather(pipe(creader, twriter), pipe(treader, cwriter))
    controller_writers.discard(cwriter)


async def watcher():
    while True:
        if cut():
            for w in list(controller_writers):
                w.close()
                controller_writers.discard(w)
        await asyncio.sleep(0.05)


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    asyncio.get_running_loop().create_task(watcher())
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
