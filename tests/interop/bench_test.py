#!/usr/bin/env python3
"""`rtconn bench`, the load generator, against `rtconn serve` over TCP and TLS.

Checks:
  * `bench sip:127.0.0.1:PORT;transport=tcp --rate 2000 --seconds 2 --connections 10` exits 0,
    its summary counts every request sent as answered 2xx and none failed, it printed a progress
    line a second, and serve saw exactly 10 connections;
  * `bench sips:localhost:PORT --seconds 2 --connections 50` (flat out, TLS, development
    certificates) exits 0 with every request answered and serve saw exactly 50 TLS connections;
  * `bench ... --window 1` (one request in flight, each answer sending the next) exits 0 with
    every request answered;
  * `bench` at a port nothing listens on exits non-zero and says why its requests failed.
Counts, not speeds: how fast the machine is decides the rate, not this test.
"""

import re
import signal

import interop_support as support
import tls_support as tls

SUMMARY_RE = (r"^--- (?P<uri>\S+) bench: (?P<sent>\d+) sent, (?P<ok>\d+) answered 2xx, "
              r"(?P<failed>\d+) failed in [\d.]+ s: \d+ answered/s ---$")


def bench(arguments, tmp, uri, *extra):
    code, out, err = support.run([arguments.rtconn, "bench", uri, *extra], tmp, deadline_s=60,
                                 name="rtconn bench")
    matches = list(re.finditer(SUMMARY_RE, out, re.MULTILINE))
    support.check(len(matches) == 1, f"bench {uri}: expected one summary line; "
                                     f"{support.tail_of(out + err)!r}")
    found = {k: int(v) for k, v in matches[0].groupdict().items() if k != "uri"}
    return code, out, err, found


def connections_seen(serve, expected):
    added, _ = support.wait_connection_events(serve, lambda added, _: added >= expected, 10.0)
    return added


def body(arguments):
    results = []
    with tls.dev_store_workspace(arguments.rtconn, "rtconn-bench-") as workspace:
        tmp, store = workspace.tmp, workspace.store
        serve, listening = workspace.start_serve(tcp=["127.0.0.1:0"], tls=["127.0.0.1:0"])
        [(_, tcp_port)] = listening["tcp"]
        [(_, tls_port)] = listening["tls"]

        uri = f"sip:127.0.0.1:{tcp_port};transport=tcp"
        code, out, err, summary = bench(arguments, tmp, uri, "--rate", "2000", "--seconds", "2",
                                        "--connections", "10")
        progress = re.findall(r"^\s*[\d.]+ s: \d+ sent, ", out, re.MULTILINE)
        support.check(code == 0 and summary["sent"] > 0 and summary["ok"] == summary["sent"]
                      and summary["failed"] == 0,
                      f"bench {uri} --rate 2000: exit {code}, {summary}; "
                      f"{support.tail_of(out + err)!r}")
        support.check(len(progress) >= 1, f"bench printed no progress line: {out.strip()!r}")
        seen = connections_seen(serve, 10)
        support.check(seen == 10, f"serve saw {seen} connections for --connections 10")
        results.append(f"tcp --rate 2000: {summary['ok']}/{summary['sent']} over {seen} "
                       f"connections, {len(progress)} progress lines")

        uri = f"sips:localhost:{tls_port}"
        code, out, err, summary = bench(arguments, tmp, uri, "--seconds", "2",
                                        "--connections", "50", "-q", "--store", store)
        support.check(code == 0 and summary["sent"] > 0 and summary["ok"] == summary["sent"]
                      and summary["failed"] == 0,
                      f"bench {uri} flat out: exit {code}, {summary}; "
                      f"{support.tail_of(out + err)!r}")
        seen = connections_seen(serve, 60) - 10
        support.check(seen == 50, f"serve saw {seen} TLS connections for --connections 50")
        results.append(f"tls flat out: {summary['ok']}/{summary['sent']} over {seen} connections")

        # One request in flight: each completion sends the next, up to the moment the run ends.
        # A smoke test of that path: the race an earlier build had there (a send after the run
        # had finished) was microseconds wide, and this catches it only by luck.
        uri = f"sip:127.0.0.1:{tcp_port};transport=tcp"
        code, out, err, summary = bench(arguments, tmp, uri, "--seconds", "1", "--window", "1",
                                        "-q")
        support.check(code == 0 and summary["sent"] > 0 and summary["ok"] == summary["sent"],
                      f"bench {uri} --window 1: exit {code}, {summary}; "
                      f"{support.tail_of(out + err)!r}")
        results.append(f"tcp --window 1: {summary['ok']}/{summary['sent']}")

        refused = support.closed_port()
        uri = f"sip:127.0.0.1:{refused};transport=tcp"
        code, out, err, summary = bench(arguments, tmp, uri, "--seconds", "0.2", "-q")
        support.check(code != 0 and summary["ok"] == 0 and summary["failed"] == summary["sent"],
                      f"bench to a closed port: exit {code}, {summary}")
        support.check("first failure: " in out, f"bench gave no reason: {out.strip()!r}")
        results.append(f"closed port: exit {code}, {summary['failed']} failed")

        support.stop_serve(serve, signal.SIGTERM, deadline_s=5.0)
    return "; ".join(results)


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("bench", lambda: body(args))
