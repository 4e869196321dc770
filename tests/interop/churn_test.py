#!/usr/bin/env python3
"""Connection churn against `rtconn serve`: 20,000 connects and closes leave nothing behind.

`rtconn serve --tcp 127.0.0.1:0` takes 20,000 TCP connections from Python, 250 open at a time,
from eight source addresses 127.0.0.2-9 (2,500 each, so TIME_WAIT never runs an address out of
ephemeral ports). serve runs without --quiet: its event log (one line per connection added and
removed, with the reason) is the manager's own account to compare against; --quiet would leave
nothing to compare. Of every eight connections: four send an OPTIONS and read its 200 before
closing (one of those four closes with RST, SO_LINGER 0), two close at once with FIN, two close at
once with RST.

Checks:
  * every OPTIONS is answered 200 on its own connection;
  * serve's descriptor count (/proc/PID/fd) returns to what it was before the churn (bounded
    wait), so no socket, timer or other descriptor is left behind;
  * serve's resident memory (/proc/PID/status VmRSS) grew by less than 8 MiB over the churn.
    The baseline is taken after a warm-up of 2,000 connections in the same pattern, so the
    allocator already holds what 250 concurrent connections need. A connection that stayed
    behind costs at least its 4 KiB read buffer plus the connection object, so leaking even one
    connection in ten (2,000 x >4 KiB) breaks the bound; so does any leak of more than ~420 bytes
    per connection (8 MiB / 20,000). The growth measured here was 0.3-1.1 MiB;
  * the manager's own account agrees: it logged exactly one `incoming connection added` and one
    `incoming connection removed` per connection made (warm-up, churn and pings), and exactly as
    many removals for "Connection reset by peer" as connections were closed with RST; it made no
    outgoing connection pool and refused no connection;
  * `rtconn ping` (20 OPTIONS over 2 connections) still gets 20 answers afterwards, and serve
    exits 0 within 5 s of SIGTERM.
"""

import os
import re
import selectors
import signal
import socket
import struct
import tempfile
import time
import uuid

import interop_support as support

TOTAL = 20_000
WARMUP = 2_000
BATCH = 250
SOURCES = [f"127.0.0.{n}" for n in range(2, 10)]
RSS_BOUND_KIB = 8 * 1024
PING_COUNT, PING_CONNECTIONS = 20, 2

# What each connection does, by its index modulo 8.
OPTIONS_FIN, OPTIONS_RST, CLOSE_FIN, CLOSE_RST = "options+fin", "options+rst", "fin", "rst"
PLAN = [OPTIONS_FIN, OPTIONS_FIN, OPTIONS_FIN, OPTIONS_RST, CLOSE_FIN, CLOSE_FIN, CLOSE_RST,
        CLOSE_RST]
LINGER_ZERO = struct.pack("ii", 1, 0)


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def sanitizer_of(pid):
    """The sanitizer runtime serve runs under ("asan", "tsan"), or None. Their allocators hold
    freed memory back on purpose (ASan's quarantine is 256 MiB), so resident memory says nothing
    about leaks there: LeakSanitizer and the plain build's bound do that job."""
    with open(f"/proc/{pid}/maps", encoding="ascii", errors="replace") as maps:
        text = maps.read()
    for runtime in ("asan", "tsan"):
        if f"lib{runtime}" in text:
            return runtime
    return None


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        match = re.search(r"^VmRSS:\s+(\d+) kB$", f.read(), re.MULTILINE)
    support.check(match, f"no VmRSS in /proc/{pid}/status")
    return int(match.group(1))


def options_bytes(port, local):
    token = uuid.uuid4().hex
    return (f"OPTIONS sip:churn@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/TCP {local[0]}:{local[1]};branch=z9hG4bK-{token[:16]}\r\n"
            f"From: <sip:churn@{local[0]}>;tag={token[16:24]}\r\n"
            f"To: <sip:churn@127.0.0.1:{port}>\r\n"
            f"Call-ID: {token}@{local[0]}\r\n"
            "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


def close(sock, rst):
    if rst:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ZERO)
    sock.close()


def churn(port, first, count, tally, deadline_s):
    """Makes connections first..first+count-1 in batches of BATCH; returns nothing, counts into
    tally (kind -> n) and raises TestFailure on a missing or wrong answer."""
    end = time.monotonic() + deadline_s
    index = first
    while index < first + count:
        support.check(time.monotonic() < end, f"churn: only {index - first} of {count} "
                                              f"connections made within {deadline_s} s")
        batch = []
        for i in range(index, min(index + BATCH, first + count)):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((SOURCES[i % len(SOURCES)], 0))
            sock.settimeout(5.0)
            sock.connect(("127.0.0.1", port))
            batch.append((PLAN[i % len(PLAN)], sock))
        index += len(batch)
        waiting = {}
        for kind, sock in batch:
            tally[kind] = tally.get(kind, 0) + 1
            if kind in (CLOSE_FIN, CLOSE_RST):
                close(sock, kind == CLOSE_RST)
            else:
                sock.sendall(options_bytes(port, sock.getsockname()))
                sock.setblocking(False)
                waiting[sock] = [kind, b""]
        # Read every answer of the batch at once: one slow connection costs one wait, not 125.
        with selectors.DefaultSelector() as selector:
            for sock in waiting:
                selector.register(sock, selectors.EVENT_READ)
            answer_end = time.monotonic() + 10.0
            while waiting:
                left = answer_end - time.monotonic()
                support.check(left > 0, f"{len(waiting)} OPTIONS unanswered after 10 s")
                for key, _ in selector.select(timeout=min(left, 0.5)):
                    sock = key.fileobj
                    try:
                        chunk = sock.recv(4096)
                    except BlockingIOError:
                        continue
                    support.check(chunk, f"serve closed {sock.getsockname()} before answering; "
                                         f"got {waiting[sock][1][:100]!r}")
                    waiting[sock][1] += chunk
                    data = waiting[sock][1]
                    if b"\r\n\r\n" in data:
                        support.check(data.startswith(b"SIP/2.0 200 "),
                                      f"OPTIONS answered {data[:60]!r}, expected SIP/2.0 200")
                        selector.unregister(sock)
                        close(sock, waiting.pop(sock)[0] == OPTIONS_RST)


def removal_reasons(stderr_text):
    """serve's `incoming connection removed` lines counted by reason text."""
    reasons = {}
    for match in re.finditer(r"\] incoming connection removed: #\d+ tcp \S+ -> \S+(?: \((.*)\))?$",
                             stderr_text, re.MULTILINE):
        reason = match.group(1) or "(none)"
        reasons[reason] = reasons.get(reason, 0) + 1
    return reasons


def wait_events(serve, expected, deadline_s):
    """Waits until serve logged `expected` removals; returns (added, removed)."""
    return support.wait_connection_events(serve, lambda _, removed: removed >= expected,
                                          deadline_s)


def body(arguments):
    with tempfile.TemporaryDirectory(prefix="rtconn-churn-") as tmp, \
            support.ProcessGroup() as group:
        serve, [(_, port)] = support.start_serve(group, arguments.rtconn, tmp, ["127.0.0.1:0"])
        pid = serve.pid
        tally = {}

        churn(port, 0, WARMUP, tally, deadline_s=30)
        _, removed = wait_events(serve, WARMUP, 10)
        support.check(removed == WARMUP, f"serve logged {removed} removals after the "
                                         f"{WARMUP}-connection warm-up, expected {WARMUP}")
        fds_before, rss_before = fd_count(pid), rss_kib(pid)

        start = time.monotonic()
        churn(port, WARMUP, TOTAL, tally, deadline_s=60)
        churn_s = time.monotonic() - start
        made = WARMUP + TOTAL
        added, removed = wait_events(serve, made, 15)
        fds_after = support.wait_for(lambda: (lambda n: n if n <= fds_before else 0)(
            fd_count(pid)), deadline_s=10) or fd_count(pid)
        rss_after = rss_kib(pid)
        support.check(serve.running(), f"serve exited during the churn; {serve.stderr_tail()}")
        support.check(fds_after == fds_before,
                      f"serve holds {fds_after} descriptors 10 s after {TOTAL} connections "
                      f"closed, {fds_before} before them")
        growth = rss_after - rss_before
        sanitizer = sanitizer_of(pid)
        memory_bound = f"not checked under {sanitizer}" if sanitizer else RSS_BOUND_KIB
        support.check(sanitizer or growth < RSS_BOUND_KIB,
                      f"serve's RSS grew {growth} KiB ({rss_before} -> {rss_after} KiB) over "
                      f"{TOTAL} connections, bound {RSS_BOUND_KIB} KiB")

        text = serve.stderr_text()
        support.check(added == removed == made,
                      f"serve logged {added} connections added and {removed} removed for "
                      f"{made} made")
        reasons = removal_reasons(text)
        resets = reasons.get("Connection reset by peer", 0)
        rst_made = tally.get(OPTIONS_RST, 0) + tally.get(CLOSE_RST, 0)
        support.check(resets == rst_made,
                      f"serve logged {resets} removals for 'Connection reset by peer', "
                      f"{rst_made} connections were reset; reasons {reasons}")
        support.check("connection pool added" not in text,
                      "serve made an outgoing connection pool during the churn")
        support.check("refused a connection" not in text,
                      f"serve refused connections: {support.tail_of(text)!r}")

        code, out, err = support.run(
            [arguments.rtconn, "ping", f"sip:127.0.0.1:{port};transport=tcp", "--count",
             str(PING_COUNT), "--connections", str(PING_CONNECTIONS), "-q"], tmp, 60,
            name="rtconn ping")
        summary = support.ping_summary(out)
        support.check(code == 0 and (summary["ok"], summary["failed"]) == (PING_COUNT, 0),
                      f"ping after the churn: exit {code}, {summary}; {support.tail_of(err)!r}")
        added, removed = wait_events(serve, made + PING_CONNECTIONS, 10)
        support.check(added == removed == made + PING_CONNECTIONS,
                      f"after ping serve logged {added} added / {removed} removed, expected "
                      f"{made + PING_CONNECTIONS} of each")
        took = support.stop_serve(serve, signal.SIGTERM, deadline_s=5.0)
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(tally.items()))
        return (f"{TOTAL} connections in {churn_s:.1f} s ({kinds}, warm-up included); fds "
                f"{fds_before} -> {fds_after}; RSS {rss_before} -> {rss_after} KiB "
                f"({growth:+d} KiB, bound {memory_bound}); serve logged {made} added/removed, "
                f"{resets} resets; ping {summary['ok']}/{PING_COUNT}; serve exited 0 "
                f"{took:.2f} s after SIGTERM")


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("churn", lambda: body(args))
