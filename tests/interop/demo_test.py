#!/usr/bin/env python3
"""End-to-end: `rtconn demo`, the job the README runs.

The demo starts a server connection manager on loopback and a client manager (pool cap 2) that sends
three OPTIONS, then stops the client and the server. Checks: it exits 0 within 30 s, and its output
shows, in this order, the listening line, the client's pool added, then both the server's incoming
connection added and the three `-> 200 OK` lines (1, 2, 3), then a pool connection removed, the
connection pool removed and the final "every request answered" line; the server's incoming
connection removed comes after the third answer. It also checks the pool kept to its cap: two connections, each seen on both sides.

Lines from the client's and the server's event threads are only ordered where one causes the other
(the server's removals follow the client's closes, but may be printed before or after the client's
"connection pool removed" line; the server's "incoming connection added" runs on its event strand
while the connection answers at once, so the client may print its first 200 before it), so the
order is checked along those causal chains.
"""

import re
import tempfile

import interop_support as support

POOL_CAP = 2  # the demo's default_maximum_number_of_connections_per_pool


def find_after(lines, pattern, start, what):
    """Index of the first line at or after `start` matching `pattern`; fails naming `what`."""
    regex = re.compile(pattern)
    for index in range(start, len(lines)):
        if regex.search(lines[index]):
            return index
    raise support.TestFailure(f"no {what} line (/{pattern}/) after line {start} in:\n"
                              + "\n".join(lines))


def body(arguments):
    with tempfile.TemporaryDirectory(prefix="rtconn-demo-") as tmp:
        code, out, err = support.run([arguments.rtconn, "demo"], tmp, deadline_s=30,
                                     name="rtconn demo")
        lines = out.splitlines()
        support.check(code == 0, f"rtconn demo exited {code}, expected 0; output:\n{out}"
                                 f"\nstderr tail {support.tail_of(err)!r}")

        listening = find_after(lines, r"^listening tcp 127\.0\.0\.1:\d+$", 0, "listening")
        pool_added = find_after(lines, r"^\[client\] connection pool added: tcp:127\.0\.0\.1:\d+",
                                listening + 1, "client connection pool added")
        find_after(lines, r"^\[server\] incoming connection added: #\d+", pool_added + 1,
                   "server incoming connection added")
        answer = pool_added
        for sequence in (1, 2, 3):
            answer = find_after(lines, rf"^\[client\] OPTIONS {sequence} -> 200 OK in [\d.]+ ms$",
                                answer + 1, f"OPTIONS {sequence} -> 200 OK")
        pool_connection_removed = find_after(lines, r"^\[client\] pool connection removed: #\d+",
                                             answer + 1, "client pool connection removed")
        pool_removed = find_after(lines, r"^\[client\] connection pool removed: tcp:",
                                  pool_connection_removed + 1, "client connection pool removed")
        find_after(lines, r"^\[server\] incoming connection removed: #\d+", answer + 1,
                   "server incoming connection removed")
        final = find_after(lines, r"^demo finished: every request answered, every connection "
                                  r"closed$", pool_removed + 1, "final")

        failures = [line for line in lines if " failed" in line or "failures" in line]
        support.check(not failures, f"the demo reported failures: {failures!r}")

        # Every connection the pool opened shows up on both sides and is gone before the pool.
        def count(pattern):
            return sum(1 for line in lines if re.search(pattern, line))
        opened = count(r"^\[client\] pool connection added: ")
        closed_before_pool = sum(1 for line in lines[:pool_removed]
                                 if line.startswith("[client] pool connection removed: "))
        accepted = count(r"^\[server\] incoming connection added: ")
        support.check(opened == POOL_CAP,
                      f"the client pool opened {opened} connections for 3 requests with a cap of "
                      f"{POOL_CAP} (open until full, then reuse): expected {POOL_CAP}; "
                      f"output:\n{out}")
        support.check(accepted == opened, f"the server accepted {accepted} connections, the "
                                          f"client opened {opened}")
        support.check(closed_before_pool == opened,
                      f"{closed_before_pool} of the pool's {opened} connections removed before "
                      f"the pool was")
        return (f"{len(lines)} lines in order (listening, pool, 3 x 200 OK, removals, final "
                f"line {final + 1}); {opened} pooled connections, exit 0")


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("demo", lambda: body(args))
