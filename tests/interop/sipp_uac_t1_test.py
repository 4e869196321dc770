#!/usr/bin/env python3
"""SIPp as UAC sends 10,000 OPTIONS to `rtconn serve` over one TCP connection (-t t1).

Checks: SIPp's CSV totals say 10,000 successful calls and 0 failed, SIPp exits 0, serve saw exactly
one incoming connection, and serve exits 0 within a few seconds of SIGTERM.
"""

import signal
import tempfile

import interop_support as support

CALLS = 10_000


def body(arguments):
    support.require_sipp()
    with tempfile.TemporaryDirectory(prefix="rtconn-sipp-t1-") as tmp, \
            support.ProcessGroup() as group:
        serve, [(host, port)] = support.start_serve(group, arguments.rtconn, tmp,
                                                    ["127.0.0.1:0"])
        # One socket for every call; -l keeps at most 200 OPTIONS in flight on it, -r/-rp asks for
        # 5,000 calls a second (SIPp itself is the limit here, on a shared 2-core machine).
        stats = support.SippUac(group, tmp, "uac_t1", f"{host}:{port}", CALLS,
                                ["-t", "t1", "-r", "5000", "-rp", "1000", "-l", "200"]
                                ).finish(deadline_s=150)
        support.check(serve.running(), f"serve exited during the run; {serve.stderr_tail()}")

        took = support.stop_serve(serve, signal.SIGTERM, deadline_s=5.0)
        added, removed = support.count_connection_events(serve.stderr_text())
        support.check(added == 1, f"serve saw {added} incoming connections over -t t1, expected 1")
        return (f"{stats['SuccessfulCall']} OPTIONS answered, {stats['FailedCall']} failed, over "
                f"{added} connection; serve exited 0 {took:.2f} s after SIGTERM")


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("sipp_uac_t1", lambda: body(args))
