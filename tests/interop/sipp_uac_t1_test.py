#!/usr/bin/env python3
"""SIPp as UAC sends 10,000 OPTIONS to `rtconn serve` over one TCP connection (-t t1).

Checks: SIPp's CSV totals say 10,000 successful calls and 0 failed, SIPp exits 0, serve saw exactly
one incoming connection, and serve exits 0 within a few seconds of SIGTERM.
"""

import signal

import interop_support as support

CALLS = 10_000


def body(arguments):
    # One socket for every call; -l keeps at most 200 OPTIONS in flight on it, -r/-rp asks for
    # 5,000 calls a second (SIPp itself is the limit here, on a shared 2-core machine).
    with support.serve_loaded_by_sipp_uac(
            arguments.rtconn, "rtconn-sipp-t1-", "uac_t1", CALLS,
            ["-t", "t1", "-r", "5000", "-rp", "1000", "-l", "200"],
            deadline_s=150) as (serve, stats):
        took = support.stop_serve(serve, signal.SIGTERM, deadline_s=5.0)
        added, removed = support.count_connection_events(serve.stderr_text())
        support.check(added == 1, f"serve saw {added} incoming connections over -t t1, expected 1")
        return (f"{stats['SuccessfulCall']} OPTIONS answered, {stats['FailedCall']} failed, over "
                f"{added} connection; serve exited 0 {took:.2f} s after SIGTERM")


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("sipp_uac_t1", lambda: body(args))
