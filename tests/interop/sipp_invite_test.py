#!/usr/bin/env python3
"""`rtconn call` makes INVITE dialogs with SIPp as the callee: the INVITE goes with async_send,
its responses come to the response handler, the 2xx is ACKed and the call hung up with a BYE.

Three runs, each with its own SIPp on a free port of 127.0.0.1:
  1. invite_uas.xml (180, 200 with SDP; the ACK and the BYE required), SIPp -t t1, and
     `rtconn call --count 200 --connections 1`;
  2. the same with SIPp -t tn and `--connections 4 --hold 20`;
  3. invite_busy_uas.xml (486, its ACK required), SIPp -t tn, `--count 50 --connections 2`.
Checks: call's summary and its line per call count every call completed (runs 1, 2) or failed
with 486 Busy Here (run 3, exit 1); SIPp exits 0 having counted as many incoming and
successful calls, 0 failed: it saw every ACK, on the INVITE's connection for the 486s (a SIPp -t
tn call lives on the socket its INVITE came on), and every BYE.
"""

import collections
import os
import re
import tempfile

import interop_support as support

def one_run(arguments, group, tmp, scenario, transport, count, call_options, busy):
    name = f"sipp_{scenario[:-4]}_{transport}"
    port = support.free_tcp_udp_port()
    stat_file = os.path.join(tmp, f"{name}_stat.csv")
    error_file = os.path.join(tmp, f"{name}_errors.log")
    sipp = group.start(name, support.sipp_argv(
        scenario, stat_file, port,
        ["-t", transport, "-max_socket", "1000", "-trace_err", "-error_file", error_file],
        calls=count), tmp)
    support.wait_listening(sipp, port)

    uri = f"sip:127.0.0.1:{port};transport=tcp"
    code, out, err = support.run(
        [arguments.rtconn, "call", uri, "--count", str(count), *call_options], tmp,
        deadline_s=120, name="rtconn call")
    summary = support.call_summary(out)
    expected = (count, 0, count) if busy else (count, count, 0)
    # How the calls ended, "completed" or why not: the first clue when they did not.
    endings = collections.Counter(re.findall(r"^call \d+: (.*) \(\S+ ms\)$", out, re.MULTILINE))
    support.check(summary == expected,
                  f"call summary (calls, completed, failed) {summary}, expected {expected}; "
                  f"endings {dict(endings)}; {support.tail_of(out)!r} {support.tail_of(err)!r}")
    support.check(code == (1 if busy else 0), f"call exited {code}, expected {1 if busy else 0}")
    if busy:
        support.check(endings == {"486 Busy Here": count},
                      f"calls ended {dict(endings)}, expected {count} with 486 Busy Here")

    support.finish_sipp_uas(sipp, stat_file, error_file, count,
                            f"SIPp {scenario} -t {transport}", deadline_s=60)
    return f"{scenario} t{transport[1:]}: {count} calls {'busy' if busy else 'completed'}"


def body(arguments):
    support.require_sipp()
    with tempfile.TemporaryDirectory(prefix="rtconn-sipp-invite-") as tmp, \
            support.ProcessGroup() as group:
        results = [
            one_run(arguments, group, tmp, "invite_uas.xml", "t1", 200,
                    ["--connections", "1"], busy=False),
            one_run(arguments, group, tmp, "invite_uas.xml", "tn", 200,
                    ["--connections", "4", "--hold", "20"], busy=False),
            one_run(arguments, group, tmp, "invite_busy_uas.xml", "tn", 50,
                    ["--connections", "2"], busy=True),
        ]
        return "; ".join(results) + "; SIPp saw every ACK and BYE"


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("sipp_invite", lambda: body(args))
