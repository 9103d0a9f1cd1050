#!/usr/bin/env python3
"""Hold many keep-alive HTTP/1.1 connections open against a server (row 11 of bench/run.sh).

    python3 bench/idle_connections.py --port PORT [--count 10000] [--refresh 0]

Opens --count connections to 127.0.0.1:PORT (at most --opening at a time), sends
GET /healthz on each and reads the 200; when all are open it prints
    IDLE_READY open=N failed=F seconds=S
and holds them. With --refresh 0 (the default) a connection sends nothing more: the
server must keep idle connections longer than the run (`localidp serve --keep-alive`;
its default, 5 s, closes them). With --refresh SECONDS each connection sends one more
GET /healthz that long after its previous one, from the moment it opens (count / refresh
requests a second in all), for a server whose keep-alive timeout cannot be raised (by
actix-web's coarse clock a 5 s timeout closed some connections 3.7 s after this client
saw their last answer on a busy machine). On SIGTERM or SIGINT it prints
    IDLE_RESULT open=N closed_by_server=C refreshes=R bad=B late=L
(open: still open at the end; bad: answers other than 200; late: a refresh due while
the previous answer was still awaited) and exits 0, or 1 when any connection was lost.
Standard library only; raises its own open-files limit to the hard limit.
"""

import argparse
import asyncio
import collections
import re
import resource
import signal
import sys
import time

CONTENT_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


class Stats:
    def __init__(self):
        self.responses = 0
        self.bad = 0
        self.closed_by_server = 0
        self.stopping = False


class KeepAlive(asyncio.Protocol):
    """One connection: counts whole responses, remembers whether one is awaited."""

    def __init__(self, stats):
        self.stats = stats
        self.transport = None
        self.buf = b""
        self.awaiting = 0
        self.first = None
        self.open = False

    def connection_made(self, transport):
        self.transport = transport
        self.open = True
        self.first = asyncio.get_running_loop().create_future()

    def data_received(self, data):
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            m = CONTENT_LENGTH.search(self.buf, 0, end)
            total = end + 4 + (int(m.group(1)) if m else 0)
            if len(self.buf) < total:
                return
            ok = self.buf.startswith(b"HTTP/1.1 200")
            self.buf = self.buf[total:]
            self.awaiting = max(0, self.awaiting - 1)
            self.stats.responses += 1
            if not ok:
                self.stats.bad += 1
            if not self.first.done():
                self.first.set_result(ok)

    def connection_lost(self, exc):
        self.open = False
        if not self.stats.stopping:
            self.stats.closed_by_server += 1
        if self.first is not None and not self.first.done():
            self.first.set_result(False)

    def send(self, request):
        self.awaiting += 1
        self.transport.write(request)


async def open_one(loop, args, stats, request, gate):
    async with gate:
        for attempt in range(5):
            try:
                _, proto = await loop.create_connection(lambda: KeepAlive(stats), "127.0.0.1", args.port)
            except OSError:
                # A full accept backlog refuses or resets: wait and try again.
                await asyncio.sleep(0.05 * (attempt + 1))
                continue
            proto.send(request)
            try:
                ok = await asyncio.wait_for(proto.first, 30)
            except asyncio.TimeoutError:
                ok = False
            if ok:
                return proto
            proto.transport.close()
            return None
    return None


async def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--refresh", type=float, default=0.0)
    p.add_argument("--opening", type=int, default=256)
    args = p.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    loop = asyncio.get_running_loop()
    stats = Stats()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\n\r\n".encode()

    # Each connection is refreshed --refresh seconds after its last request, from the
    # moment it opens (the first ones would be closed while the last ones open).
    due = collections.deque()  # (time sent, connection), in the order sent
    conns = []
    refreshes = late = 0

    async def refresher():
        nonlocal refreshes, late
        while args.refresh > 0:
            await asyncio.sleep(0.02)
            now = time.monotonic()
            while due and due[0][0] + args.refresh <= now:
                _, c = due.popleft()
                if not c.open:
                    continue
                if c.awaiting:
                    late += 1
                else:
                    c.send(request)
                    refreshes += 1
                due.append((now, c))

    async def opened(c):
        c = await c
        if c is not None:
            conns.append(c)
            due.append((time.monotonic(), c))
        return c

    t0 = time.monotonic()
    task = asyncio.create_task(refresher())
    gate = asyncio.Semaphore(args.opening)
    await asyncio.gather(*(opened(open_one(loop, args, stats, request, gate)) for _ in range(args.count)))
    print(
        f"IDLE_READY open={sum(c.open for c in conns)} failed={args.count - len(conns)} "
        f"seconds={time.monotonic() - t0:.2f}",
        flush=True,
    )
    await stop.wait()
    task.cancel()

    stats.stopping = True
    still = sum(c.open for c in conns)
    for c in conns:
        if c.open:
            c.transport.close()
    print(
        f"IDLE_RESULT open={still} closed_by_server={stats.closed_by_server} refreshes={refreshes} "
        f"bad={stats.bad} late={late}",
        flush=True,
    )
    return 0 if still == len(conns) == args.count and stats.closed_by_server == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
