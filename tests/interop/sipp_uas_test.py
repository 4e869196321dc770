#!/usr/bin/env python3
"""SIPp as UAS answers the OPTIONS a RealTimeClientConnectionManager pool sends (`rtconn ping`).

Two runs, each with its own SIPp listening on a free port of 127.0.0.1:
  1. SIPp -t t1 (one socket) and `rtconn ping --count 1000 --connections 1`;
  2. SIPp -t tn (a socket per accepted connection) and `rtconn ping --count 1000 --connections 4`.
Checks: ping exits 0 and its summary says 1000 sent, 1000 answered 2xx, 0 failed; SIPp exits 0
after its 1000 calls (-m) and its CSV counts 1000 incoming, 1000 successful and 0 failed calls.
"""

import os
import tempfile

import interop_support as support

COUNT = 1000


def one_run(arguments, group, tmp, transport, connections):
    name = f"sipp_uas_{transport}"
    port = support.free_tcp_udp_port()
    stat_file = os.path.join(tmp, f"{name}_stat.csv")
    error_file = os.path.join(tmp, f"{name}_errors.log")
    # -max_socket: SIPp refuses its default 50,000 where a process may open only 20,000 files.
    sipp = group.start(name, support.sipp_argv(
        "options_uas.xml", stat_file, port,
        ["-t", transport, "-max_socket", "1000", "-trace_err", "-error_file", error_file],
        calls=COUNT), tmp)
    support.wait_listening(sipp, port)

    uri = f"sip:127.0.0.1:{port};transport=tcp"
    code, out, err = support.run(
        [arguments.rtconn, "ping", uri, "--count", str(COUNT), "--connections", str(connections),
         "-q"], tmp, deadline_s=120, name="rtconn ping")
    summary = support.ping_summary(out)
    support.check(code == 0, f"ping over {connections} connection(s) to SIPp -t {transport} "
                             f"exited {code}, expected 0; {out.strip()!r} {support.tail_of(err)!r}")
    support.check((summary["sent"], summary["ok"], summary["failed"]) == (COUNT, COUNT, 0),
                  f"ping summary {summary}, expected {COUNT} sent, {COUNT} answered 2xx, 0 failed")

    support.finish_sipp_uas(sipp, stat_file, error_file, COUNT, f"SIPp -t {transport} UAS")
    return f"t{transport[1:]}/{connections} conn: {summary['ok']}/{COUNT} answered"


def body(arguments):
    support.require_sipp()
    with tempfile.TemporaryDirectory(prefix="rtconn-sipp-uas-") as tmp, \
            support.ProcessGroup() as group:
        results = [one_run(arguments, group, tmp, "t1", 1),
                   one_run(arguments, group, tmp, "tn", 4)]
        return "; ".join(results) + "; SIPp counted the same, 0 failed"


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("sipp_uas", lambda: body(args))
