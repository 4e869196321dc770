#!/usr/bin/env python3
"""The command-line tool refuses arguments it cannot honour, naming the option, with a non-zero
exit and nothing started (CLI11's exit code for a failed check is 105).

Checks, each run on its own:
  * `serve --threads 100000` (more event loops than the library takes, 1024: making threads until
    the system refused once ended the process from std::thread's destructor);
  * `serve --threads 0`;
  * `serve --idle-timeout 1e10` (317 years: a deadline that far overflows the clock, which closed
    every connection at once), and the same for the other time-outs;
  * `--log-level bogus` (spdlog takes a name it does not know as "off", which silenced the
    tool's own error messages);
  * `ping --dns-server example.test` (a DNS server is named by its address);
and `--log-level warning ping not-a-uri` still prints why it failed.
"""

import tempfile

import interop_support as support

REFUSED = [
    (["serve", "--tcp", "127.0.0.1:0", "--threads", "100000"], "--threads"),
    (["serve", "--tcp", "127.0.0.1:0", "--threads", "0"], "--threads"),
    (["serve", "--tcp", "127.0.0.1:0", "--idle-timeout", "1e10"], "--idle-timeout"),
    (["serve", "--tcp", "127.0.0.1:0", "--new-connection-timeout", "1e10"],
     "--new-connection-timeout"),
    (["serve", "--tcp", "127.0.0.1:0", "--message-timeout", "1e10"], "--message-timeout"),
    (["serve", "--tcp", "127.0.0.1:0", "--shutdown-timeout", "1e10"], "--shutdown-timeout"),
    (["bench", "sip:127.0.0.1:9", "--threads", "100000"], "--threads"),
    (["--log-level", "bogus", "ping", "sip:127.0.0.1:9"], "--log-level"),
    (["ping", "sip:example.test", "--dns-server", "example.test"], "--dns-server"),
]


def body(arguments):
    results = []
    with tempfile.TemporaryDirectory(prefix="rtconn-cli-") as tmp:
        for argv, option in REFUSED:
            code, out, err = support.run([arguments.rtconn, *argv], tmp, deadline_s=10,
                                         name="rtconn")
            said = out + err
            support.check(code != 0 and option in said and "listening" not in said,
                          f"`rtconn {' '.join(argv)}` exited {code}, expected a refusal naming "
                          f"{option}; output {support.tail_of(said)!r}")
        results.append(f"{len(REFUSED)} bad argument sets refused, each naming its option")
        code, out, err = support.run([arguments.rtconn, "--log-level", "warning", "ping",
                                      "not-a-uri"], tmp, deadline_s=10, name="rtconn")
        support.check(code != 0 and "not a SIP URI" in err,
                      f"ping not-a-uri at --log-level warning exited {code}; stderr "
                      f"{support.tail_of(err)!r}")
        results.append("an error at --log-level warning is still printed")
    return "; ".join(results)


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("cli_arguments", lambda: body(args))
