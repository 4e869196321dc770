#!/usr/bin/env python3
"""SIPp as UAC sends 10,000 OPTIONS to `rtconn serve` over many TCP connections (-t tn).

With -t tn SIPp opens one connection per call and closes it (FIN) when the call ends, so serve sees
10,000 connections, each closed by SIPp first ("the remote side closed the connection").

Why -max_socket is far above -l here: once SIPp 3.6.1 holds -max_socket sockets it "distributes
traffic over the sockets already opened" by walking its socket table from index 0, and it takes its
own main socket (the TCP socket listening on -p, index 0) for a call socket. The next OPTIONS goes
out with sendto() on that listening socket, the kernel answers EPIPE, and SIPp aborts with "Broken
pipe on TCP connection, remote peer probably closed the socket" (exit 255) without a byte reaching
the server. (-max_reconnect only turns that into "Unable to accept on a TCP socket".) Its own
sockets count against the limit (the listening socket and the UDP control socket), so a limit
above -l + 2 means calls never share sockets and the broken path is never taken: -l 100 bounds the
calls, hence the open call sockets, and -max_socket 1000 leaves a wide margin.

Checks: SIPp's CSV totals say 10,000 successful calls and 0 failed, SIPp exits 0, serve logged one
incoming connection per call and saw each of them closed, and serve exits 0 on SIGTERM.
"""

import signal

import interop_support as support

CALLS = 10_000
MAX_CALLS_IN_FLIGHT = 100
MAX_SOCKETS = 1000  # > MAX_CALLS_IN_FLIGHT + 2: SIPp never shares (see above)
# A connect, a call and a close each: at 5,000/s SIPp's single thread fell behind on a CI machine
# (its 500 ms watchdog tripping again and again); 2,000/s keeps SIPp, not serve, from being what
# the test measures. (The call in 10,000 it failed now and then at any rate was a To tag of ours
# that spelled "CSeq", which SIPp looks for anywhere: src/sip/identifiers.cpp.)
RATE = 2000


def wait_all_removed(serve, deadline_s=10.0):
    """serve logs a removal per closed connection; the last FINs may still be on their way."""
    return support.wait_connection_events(serve, lambda added, removed: removed >= added,
                                          deadline_s)


def body(arguments):
    # SIPp binds each call's socket before connecting, and closes it first: 10,000 ports in
    # TIME_WAIT for a minute. On an address of its own no earlier run or test competes.
    with support.serve_loaded_by_sipp_uac(
            arguments.rtconn, "rtconn-sipp-tn-", "uac_tn", CALLS,
            ["-t", "tn", "-max_socket", str(MAX_SOCKETS), "-l", str(MAX_CALLS_IN_FLIGHT),
             "-r", str(RATE), "-rp", "1000"],
            deadline_s=200, local_ip=support.own_loopback_address()) as (serve, stats):
        added, removed = wait_all_removed(serve)
        support.check(added == CALLS,
                      f"serve saw {added} incoming connections, expected one per call ({CALLS})")
        support.check(removed == added,
                      f"serve saw {removed} of its {added} connections closed after SIPp ended")
        took = support.stop_serve(serve, signal.SIGTERM, deadline_s=5.0)
        return (f"{stats['SuccessfulCall']} OPTIONS answered, {stats['FailedCall']} failed, over "
                f"{added} connections; serve exited 0 {took:.2f} s after SIGTERM")


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("sipp_uac_tn", lambda: body(args))
