#!/usr/bin/env python3
"""A pool spreads its connections over its host's addresses (UCMA DnsLoadBalancingDisabled off),
and starts them all with the first when told not to.

Set-up: in a mount namespace of the test's own, a hosts file names `spread.rtconn.test`
127.0.0.1 and 127.0.0.9 (in that order, checked); `rtconn serve` listens on both, one port.

Checks:
  * `rtconn ping sip:spread.rtconn.test:P;transport=tcp --count 4 --connections 2` answers all
    four, and serve's connections (read from its log when they close) came in on 127.0.0.1:P and
    on 127.0.0.9:P, one each;
  * with `--no-dns-load-balancing` both came in on 127.0.0.1:P, the resolver's first.
"""

import re
import tempfile

import interop_support as support

NAME = "spread.rtconn.test"
ADDRESSES = ["127.0.0.1", "127.0.0.9"]


def local_addresses_of_closed_connections(serve_stderr):
    """The local addresses of serve's incoming connections that closed, in order."""
    return re.findall(r"\] incoming connection removed: #\d+ tcp (\S+):\d+ -> ", serve_stderr)


def body(arguments):
    results = []
    with tempfile.TemporaryDirectory(prefix="rtconn-dns-spread-") as tmp, \
            support.ProcessGroup() as group:
        hosts = support.hosts_file_naming(tmp, NAME, ADDRESSES)
        port = support.free_port()
        serve, _ = support.start_serve(group, arguments.rtconn, tmp,
                                       [f"{address}:{port}" for address in ADDRESSES])
        uri = f"sip:{NAME}:{port};transport=tcp"
        seen = 0
        for flags, expected in (([], ADDRESSES), (["--no-dns-load-balancing"], ADDRESSES[:1] * 2)):
            ping = [arguments.rtconn, "ping", uri, "--count", "4", "--connections", "2", *flags]
            support.ping_all_answered(support.in_namespace(hosts, ping), tmp, 4,
                                      f"ping {uri} {flags}")
            support.wait_for(lambda: len(local_addresses_of_closed_connections(
                serve.stderr_text())) >= seen + 2, 5.0)
            came_in_on = local_addresses_of_closed_connections(serve.stderr_text())[seen:]
            seen += len(came_in_on)
            support.check(sorted(came_in_on) == sorted(expected),
                          f"ping {flags}: serve's connections came in on {came_in_on}, "
                          f"expected {expected}")
            results.append(f"{' '.join(flags) or 'spread'}: {', '.join(sorted(came_in_on))}")
    return "; ".join(results)


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("dns_load_balancing", lambda: body(args))
