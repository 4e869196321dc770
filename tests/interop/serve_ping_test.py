#!/usr/bin/env python3
"""End-to-end: `rtconn serve` on IPv4 and IPv6 loopback, `rtconn ping` against it.

Checks:
  * `serve --tcp 127.0.0.1:0 --tcp [::1]:0` prints two `listening tcp` lines, one per family;
  * `ping --count 200 --connections 3` to each address exits 0 with "200 sent, 200 answered 2xx,
    0 failed", and serve saw exactly 3 connections to that address, all closed after ping exits;
  * `ping` to a closed port exits non-zero, reports each request failed and says so in its summary;
  * serve exits 0 within 5 s of SIGINT.
"""

import re
import signal
import tempfile
import time

import interop_support as support

COUNT = 200
CONNECTIONS = 3


def removed_per_local_address(stderr_text):
    """serve's `incoming connection removed: #N tcp LOCAL -> REMOTE` lines, counted by LOCAL."""
    counts = {}
    for local in re.findall(r"\] incoming connection removed: #\d+ tcp (\S+) -> ", stderr_text):
        counts[local] = counts.get(local, 0) + 1
    return counts


def wait_removed(serve, local, expected, deadline_s=5.0):
    end = time.monotonic() + deadline_s
    while True:
        seen = removed_per_local_address(serve.stderr_text()).get(local, 0)
        if seen >= expected or time.monotonic() >= end:
            return seen
        time.sleep(0.05)


def ping(arguments, tmp, uri, *extra):
    return support.run([arguments.rtconn, "ping", uri, *extra], tmp, deadline_s=60,
                       name="rtconn ping")


def body(arguments):
    results = []
    with tempfile.TemporaryDirectory(prefix="rtconn-serve-ping-") as tmp, \
            support.ProcessGroup() as group:
        serve, endpoints = support.start_serve(group, arguments.rtconn, tmp,
                                               ["127.0.0.1:0", "[::1]:0"])
        hosts = sorted(host for host, _ in endpoints)
        support.check(hosts == ["127.0.0.1", "::1"],
                      f"serve listens on {endpoints}, expected one 127.0.0.1 and one ::1 address")
        support.check(all(port > 0 for _, port in endpoints), f"a port 0 in {endpoints}")

        expected_connections = 0
        for host, port in endpoints:
            uri = f"sip:{support.uri_host(host)}:{port};transport=tcp"
            code, out, err = ping(arguments, tmp, uri, "--count", str(COUNT),
                                  "--connections", str(CONNECTIONS), "-q")
            summary = support.ping_summary(out)
            support.check(code == 0, f"ping {uri} exited {code}, expected 0; {out.strip()!r} "
                                     f"{support.tail_of(err)!r}")
            support.check((summary["sent"], summary["ok"], summary["failed"]) == (COUNT, COUNT, 0),
                          f"ping {uri}: {summary}, expected {COUNT} sent, {COUNT} answered 2xx, "
                          f"0 failed")
            local = f"{support.uri_host(host)}:{port}"
            seen = wait_removed(serve, local, CONNECTIONS)
            support.check(seen == CONNECTIONS,
                          f"serve saw {seen} connections to {local} come and go for "
                          f"--connections {CONNECTIONS}, expected {CONNECTIONS}")
            expected_connections += CONNECTIONS
            results.append(f"{local}: {summary['ok']}/{COUNT} over {seen} connections")

        added, removed = support.count_connection_events(serve.stderr_text())
        support.check(added == removed == expected_connections,
                      f"serve logged {added} connections added and {removed} removed, expected "
                      f"{expected_connections} of each")

        # A port nothing listens on: every request fails, and ping says so and exits non-zero.
        refused = support.closed_port()
        uri = f"sip:127.0.0.1:{refused};transport=tcp"
        code, out, err = ping(arguments, tmp, uri, "--count", "3", "--timeout", "2000")
        summary = support.ping_summary(out)
        per_request = re.findall(r"^seq=\d+ failed: .+$", out, re.MULTILINE)
        support.check(code != 0, f"ping to closed port {refused} exited 0; {out.strip()!r}")
        support.check((summary["sent"], summary["ok"], summary["failed"]) == (3, 0, 3),
                      f"ping to closed port: {summary}, expected 3 sent, 0 answered, 3 failed")
        support.check(len(per_request) == 3, f"ping to closed port printed {len(per_request)} "
                                             f"per-request failures, expected 3: {out.strip()!r}")
        results.append(f"closed port: exit {code}, '{per_request[0]}'")

        took = support.stop_serve(serve, signal.SIGINT, deadline_s=5.0)
        results.append(f"serve exited 0 {took:.2f} s after SIGINT")
    return "; ".join(results)


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("serve_ping", lambda: body(args))
