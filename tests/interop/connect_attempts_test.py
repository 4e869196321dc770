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
  * `rtconn ping sip:multi.rtconn.test:P;transport=tcp --count 2 --connect-timeout 4000` run in
    that namespace exits 0 with both requests answered 2xx (the first address had 2 s of the 4,
    the second the rest), and serve saw one connection;
  * with 127.0.0.9:P blackholed too, the same ping fails its requests with a connect time-out
    ("could not be made in time"), after the whole 4 s, not before.
"""

import socket
import tempfile
import time

import interop_support as support

NAME = "multi.rtconn.test"


def in_namespace(hosts_file, argv):
    """argv run in a mount namespace of its own where `hosts_file` is /etc/hosts."""
    return ["unshare", "--mount", "sh", "-c",
            'mount --bind "$0" /etc/hosts && exec "$@"', hosts_file, *argv]


def blackhole(host, port):
    """A listener on host:port that drops every further SYN: backlog 0, queue full."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((host, port))
    listener.listen(0)
    filler = socket.create_connection((host, port), timeout=2)
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.settimeout(0.3)
    try:
        probe.connect((host, port))
        support.check(False, "a listener with a full backlog accepted a connection: no "
                             "blackhole on this machine")
    except socket.timeout:
        pass
    finally:
        probe.close()
    return listener, filler


def body(arguments):
    results = []
    with tempfile.TemporaryDirectory(prefix="rtconn-connect-attempts-") as tmp, \
            support.ProcessGroup() as group:
        hosts = f"{tmp}/hosts"
        with open(hosts, "w", encoding="ascii") as f:
            f.write(f"127.0.0.1 localhost\n127.0.0.1 {NAME}\n127.0.0.9 {NAME}\n")
        code, out, err = support.run(
            in_namespace(hosts, ["getent", "ahostsv4", NAME]), tmp, deadline_s=10,
            name="getent")
        order = [line.split()[0] for line in out.splitlines() if "STREAM" in line]
        support.check(code == 0 and order == ["127.0.0.1", "127.0.0.9"],
                      f"{NAME} in the namespace resolves to {order} (exit {code}, "
                      f"{err.strip()!r}), expected 127.0.0.1 then 127.0.0.9")

        serve, endpoints = support.start_serve(group, arguments.rtconn, tmp, ["127.0.0.9:0"])
        [(_, port)] = endpoints
        holes = [blackhole("127.0.0.1", port)]
        try:
            uri = f"sip:{NAME}:{port};transport=tcp"
            ping = [arguments.rtconn, "ping", uri, "--count", "2", "--connect-timeout", "4000",
                    "--timeout", "8000"]
            code, out, err = support.run(in_namespace(hosts, ping), tmp, deadline_s=30,
                                         name="rtconn ping")
            summary = support.ping_summary(out)
            support.check(code == 0 and (summary["sent"], summary["ok"]) == (2, 2),
                          f"ping {uri}, first address blackholed: exit {code}, {summary}; "
                          f"{support.tail_of(out + err)!r}")
            added = support.wait_for(
                lambda: support.count_connection_events(serve.stderr_text())[0], 5.0)
            support.check(added == 1, f"serve saw {added} connections, expected 1")
            results.append(f"first address blackholed: {summary['ok']}/2 answered over the "
                           f"second")

            support.stop_serve(serve)
            holes.append(blackhole("127.0.0.9", port))
            started = time.monotonic()
            code, out, err = support.run(in_namespace(hosts, ping), tmp, deadline_s=30,
                                         name="rtconn ping")
            took = time.monotonic() - started
            summary = support.ping_summary(out)
            support.check(code != 0 and summary["ok"] == 0
                          and "could not be made in time" in out,
                          f"ping with no address answering: exit {code}, {summary}; "
                          f"{support.tail_of(out + err)!r}")
            support.check(took >= 4.0, f"ping gave up after {took:.1f} s, before its 4 s "
                                       f"connect time-out")
            results.append(f"second closed too: failed after {took:.1f} s")
        finally:
            for listener, filler in holes:
                filler.close()
                listener.close()
    return "; ".join(results)


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("connect_attempts", lambda: body(args))
