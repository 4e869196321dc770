#!/usr/bin/env python3
"""`rtconn serve` as a callee: it takes every INVITE (200 with an SDP answer and a Contact) and
ends the call on its BYE, keeping nothing; a BYE for a dialog it never made gets 481.

  * SIPp's built-in `uac` scenario (INVITE, 200, ACK, BYE, 200), 100 calls over one TCP
    connection (-t t1), then 100 over a connection each (-t tn, spread over serve's loops):
    SIPp exits 0 and counts 100 successful calls, 0 failed, each time;
  * `rtconn call sips:localhost:PORT --count 50 --connections 2` over TLS (the development
    certificates): 50 completed, 0 failed, exit 0;
  * a BYE and a re-INVITE whose To tag serve never gave, over TCP: 481 each, and the connection
    stays open for an OPTIONS answered 200.
"""

import socket

import interop_support as support
import tls_support

CALLS = 100


def stray_requests(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        # A BYE, and a re-INVITE, in a dialog serve never made: 481 both (RFC 3261 12.2.2).
        for method in ("BYE", "INVITE"):
            request = tls_support.sip_request(method, "TCP", "127.0.0.1", port).replace(
                b"To: <sip:127.0.0.1>\r\n", b"To: <sip:127.0.0.1>;tag=never-given\r\n")
            support.check(b";tag=never-given" in request, f"the {method} got no To tag")
            sock.sendall(request)
            answer = tls_support.read_sip_response(sock)
            support.check(answer.startswith("SIP/2.0 481 "),
                          f"a stray {method} got {answer[:60]!r}, expected 481")
        sock.sendall(tls_support.options_request("TCP", "127.0.0.1", port))
        answer = tls_support.read_sip_response(sock)
        support.check(answer.startswith("SIP/2.0 200 "), f"OPTIONS after the stray BYE got "
                                                         f"{answer[:60]!r}, expected 200")


def body(arguments):
    support.require_sipp()
    with tls_support.dev_store_workspace(arguments.rtconn, "rtconn-serve-calls-") as workspace:
        serve, listening = workspace.start_serve(tcp=["127.0.0.1:0"], tls=["127.0.0.1:0"],
                                                 quiet=True)
        tcp_port = listening["tcp"][0][1]
        tls_port = listening["tls"][0][1]

        for transport in ("t1", "tn"):
            sipp = support.SippUac(workspace.group, workspace.tmp, f"sipp_uac_calls_{transport}",
                                   f"127.0.0.1:{tcp_port}", CALLS,
                                   ["-t", transport, "-r", "200", "-max_socket", "100"],
                                   scenario="uac")
            sipp.finish(deadline_s=60, context=lambda: support.tail_of(serve.stderr_text()))

        code, out, err = support.run(
            [arguments.rtconn, "call", f"sips:localhost:{tls_port}", "--count", "50",
             "--connections", "2", "-q"], workspace.tmp, deadline_s=60, name="rtconn call")
        summary = support.call_summary(out)
        support.check(code == 0 and summary == (50, 50, 0),
                      f"rtconn call over TLS exited {code}, summary {summary}, expected 0 and "
                      f"(50, 50, 0); {support.tail_of(err)!r}")

        stray_requests(tcp_port)
        support.stop_serve(serve)
        return (f"SIPp uac: {CALLS} calls over one TCP connection and {CALLS} over a connection "
                "each; rtconn call: 50 over TLS; a stray BYE and re-INVITE 481")


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("serve_calls", lambda: body(args))
