#!/usr/bin/env python3
"""`rtconn call` makes INVITE dialogs with SIPp as the callee: the INVITE goes with async_send,
its responses come to the response handler, the 2xx is ACKed and the call hung up with a BYE,
both to the 2xx's Contact through its Record-Route; a call given up is CANCELled, or, with no
provisional response to allow that, its late 2xx is still ACKed and hung up.

Runs, each with its own SIPp on a free port of 127.0.0.1:
  1. invite_uas.xml (180, 200 with SDP, a Contact naming user `callee` and a Record-Route; the
     ACK and the BYE required, each to `sip:callee@` with a Route), SIPp -t t1, and
     `rtconn call --count 200 --connections 1`;
  2. the same with SIPp -t tn and `--connections 4 --hold 20`;
  3. invite_busy_uas.xml (486, its ACK required), SIPp -t tn, `--count 50 --connections 2`;
  4. invite_cancelled_uas.xml (180, never answered; a CANCEL with the INVITE's branch and CSeq
     number required, answered 200 and the INVITE 487, whose ACK is required), `--timeout 300`;
  5. invite_crossing_uas.xml (100; the CANCEL answered 200 and the INVITE 200 as well: the
     ACK and the BYE required), `--timeout 300`;
  6. invite_late_uas.xml with an injection file: the first call answered 200 after 800 ms with
     nothing before, the second at once; `--count 2 --connections 1 --timeout 400 --hold 3000`:
     the first call is given up at 400 ms, and its 200 comes during the second's hold;
  7. invite_forked_uas.xml: two forks answer 200 with To tags of their own; the second's dialog
     must be ACKed and ended at once, the first's after the hold;
  8. invite_fork_after_failure_uas.xml with an injection file: the first call turned down 486
     by one fork and answered 200 by another after that, the second a plain call held 1 s
     (`--count 2 --connections 2 --hold 1000`): the first call has ended when its 200 comes,
     and that dialog must still be ACKed and ended.
Checks: call's summary and its line per call count every call as it must have ended; SIPp exits
0 having counted every call incoming and successful, none failed: it saw every ACK (on the
INVITE's connection for the failures: a SIPp -t tn call lives on the socket its INVITE came
on), every CANCEL and every BYE, as its scenario requires them.
"""

import collections
import os
import re
import tempfile

import interop_support as support


def one_run(arguments, group, tmp, scenario, transport, count, call_options, endings,
            sipp_options=()):
    """`endings`: how each call must end, as call prints it ("completed", "486 Busy Here"),
    with the number of calls that end so."""
    name = f"sipp_{scenario[:-4]}_{transport}"
    port = support.free_tcp_udp_port()
    stat_file = os.path.join(tmp, f"{name}_stat.csv")
    error_file = os.path.join(tmp, f"{name}_errors.log")
    sipp = group.start(name, support.sipp_argv(
        scenario, stat_file, port,
        ["-t", transport, "-max_socket", "1000", "-trace_err", "-error_file", error_file,
         *sipp_options],
        calls=count), tmp)
    support.wait_listening(sipp, port)

    uri = f"sip:127.0.0.1:{port};transport=tcp"
    code, out, err = support.run(
        [arguments.rtconn, "call", uri, "--count", str(count), *call_options], tmp,
        deadline_s=120, name="rtconn call")
    completed = endings.get("completed", 0)
    expected = (count, completed, count - completed)
    summary = support.call_summary(out)
    # How the calls ended, "completed" or why not: the first clue when they did not.
    found = collections.Counter(re.findall(r"^call \d+: (.*) \(\S+ ms\)$", out, re.MULTILINE))
    support.check(summary == expected and found == endings,
                  f"call summary (calls, completed, failed) {summary}, expected {expected}; "
                  f"endings {dict(found)}, expected {endings}; "
                  f"{support.tail_of(out)!r} {support.tail_of(err)!r}")
    support.check(code == (0 if completed == count else 1), f"call exited {code}")

    support.finish_sipp_uas(sipp, stat_file, error_file, count,
                            f"SIPp {scenario} -t {transport}", deadline_s=60)
    return f"{scenario} t{transport[1:]}: {dict(endings)}"


def body(arguments):
    support.require_sipp()
    with tempfile.TemporaryDirectory(prefix="rtconn-sipp-invite-") as tmp, \
            support.ProcessGroup() as group:
        delays = os.path.join(tmp, "delays.csv")
        with open(delays, "w") as f:
            f.write("SEQUENTIAL\n800\n0\n")
        kinds = os.path.join(tmp, "kinds.csv")
        with open(kinds, "w") as f:
            f.write("SEQUENTIAL\n1\n0\n")
        results = [
            one_run(arguments, group, tmp, "invite_uas.xml", "t1", 200,
                    ["--connections", "1"], {"completed": 200}),
            one_run(arguments, group, tmp, "invite_uas.xml", "tn", 200,
                    ["--connections", "4", "--hold", "20"], {"completed": 200}),
            one_run(arguments, group, tmp, "invite_busy_uas.xml", "tn", 50,
                    ["--connections", "2"], {"486 Busy Here": 50}),
            one_run(arguments, group, tmp, "invite_cancelled_uas.xml", "tn", 10,
                    ["--connections", "5", "--timeout", "300"],
                    {"cancelled: 487 Request Terminated": 10}),
            one_run(arguments, group, tmp, "invite_crossing_uas.xml", "tn", 10,
                    ["--connections", "5", "--timeout", "300"], {"answered too late": 10}),
            one_run(arguments, group, tmp, "invite_late_uas.xml", "t1", 2,
                    ["--connections", "1", "--timeout", "400", "--hold", "3000"],
                    {"no final response": 1, "completed": 1}, ["-inf", delays]),
            one_run(arguments, group, tmp, "invite_forked_uas.xml", "tn", 10,
                    ["--connections", "2", "--hold", "50"], {"completed": 10}),
            one_run(arguments, group, tmp, "invite_fork_after_failure_uas.xml", "tn", 2,
                    ["--connections", "2", "--hold", "1000"],
                    {"486 Busy Here": 1, "completed": 1}, ["-inf", kinds]),
        ]
        return "; ".join(results) + "; SIPp saw every ACK, CANCEL and BYE"


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("sipp_invite", lambda: body(args))
