#!/usr/bin/env python3
"""A host with two addresses, the first of which never answers: the connection is made to the
second within the connect time-out, not given up with the first.

Set-up: in a mount namespace of the test's own (`unshare -m`, `mount --bind`: the machine's
/etc/hosts is untouched) a hosts file names `multi.rtconn.test` 127.0.0.1 and 127.0.0.9; glibc
returns both, 127.0.0.1 first (the test checks that order, or it would prove nothing).
`rtconn serve` listens on 127.0.0.9:P. 127.0.0.1:P is a listener with a backlog of 0 whose queue
one connection already fills: SYNs to it are dropped, neither answered nor refused, as a
blackholed route or a host that is down.

Checks:
  * `rtconn ping sip:multi.rtconn.test:P;transport=tcp --count 2 --connect-timeout 4000
    --no-dns-load-balancing` (the first address first, every time) run in
    that namespace exits 0 with both requests answered 2xx, the first after at least 2 s (the
    first address's share of the 4), and serve saw one connection;
  * with 127.0.0.9:P blackholed too, the same ping fails each request with a connect time-out
    ("could not be made in time"), each after the whole 4 s, not before.
"""

import re
import socket
import tempfile
import time

import interop_support as support

NAME = "multi.rtconn.test"


def blackhole(host, port):
    """A listener on host:port that drops every further SYN: backlog 0, queue full."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(0)
    filler = socket.create_connection((host, port), timeout=2)
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.settimeout(0.3)
    try:
        probe.connect((host, port))
        answered = True
    except socket.timeout:
        answered = False
    finally:
        probe.close()
    if answered:
        filler.close()
        listener.close()
        support.check(False, "a listener with a full backlog accepted a connection: no "
                             "blackhole on this machine")
    return listener, filler


def body(arguments):
    results = []
    with tempfile.TemporaryDirectory(prefix="rtconn-connect-attempts-") as tmp, \
            support.ProcessGroup() as group:
        hosts = support.hosts_file_naming(tmp, NAME, ["127.0.0.1", "127.0.0.9"])

        serve, endpoints = support.start_serve(group, arguments.rtconn, tmp, ["127.0.0.9:0"])
        [(_, port)] = endpoints
        holes = [blackhole("127.0.0.1", port)]
        try:
            uri = f"sip:{NAME}:{port};transport=tcp"
            # From the first address every time: which one a pool starts with is otherwise its
            # turn (DNS load balancing, dns_load_balancing_test.py).
            ping = [arguments.rtconn, "ping", uri, "--count", "2", "--connect-timeout", "4000",
                    "--timeout", "8000", "--no-dns-load-balancing"]
            out = support.ping_all_answered(support.in_namespace(hosts, ping), tmp, 2,
                                            f"ping {uri}, first address blackholed")
            # The first request waited out the first address's share (2 s of the 4): the
            # blackhole was tried, and left.
            first = re.search(r"seq=1 time=([\d.]+) ms", out)
            support.check(first and float(first.group(1)) >= 2000.0,
                          f"the first answer came before the first address's 2 s were up: "
                          f"{out.strip()!r}")
            added = support.wait_for(
                lambda: support.count_connection_events(serve.stderr_text())[0], 5.0)
            support.check(added == 1, f"serve saw {added} connections, expected 1")
            results.append("first address blackholed: 2/2 answered over the second")

            support.stop_serve(serve)
            holes.append(blackhole("127.0.0.9", port))
            started = time.monotonic()
            code, out, err = support.run(support.in_namespace(hosts, ping), tmp, deadline_s=30,
                                         name="rtconn ping")
            took = time.monotonic() - started
            summary = support.ping_summary(out)
            support.check(code != 0 and summary["ok"] == 0
                          and "could not be made in time" in out,
                          f"ping with no address answering: exit {code}, {summary}; "
                          f"{support.tail_of(out + err)!r}")
            waited = [float(ms) for ms in re.findall(r"^seq=\d+ failed: .* \(([\d.]+) ms\)$", out,
                                                     re.MULTILINE)]
            support.check(len(waited) == 2 and min(waited) >= 4000.0,
                          f"ping's requests failed after {waited} ms, expected each after its "
                          f"4,000 ms connect time-out ({took:.1f} s in all)")
            results.append(f"both blackholed: each request failed after {min(waited):.0f} ms")
        finally:
            for listener, filler in holes:
                filler.close()
                listener.close()
    return "; ".join(results)


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("connect_attempts", lambda: body(args))
