#!/usr/bin/env python3
"""`rtconn serve` as a callee: it takes every INVITE (200 with an SDP answer and a Contact) and
ends the call on its BYE, keeping nothing; a BYE for a dialog it never made gets 481.

  * SIPp's built-in `uac` scenario (INVITE, 200, ACK, BYE, 200), 100 calls over one TCP
    connection (-t t1), then 100 over a connection each (-t tn, spread over serve's loops):
    SIPp exits 0 and counts 100 successful calls, 0 failed, each time;
  * `rtconn call sips:localhost:PORT --count 50 --connections 2` over TLS (the development
    certificates): 50 completed, 0 failed, exit 0;
  * a BYE and a re-INVITE whose To tag serve never gave, over TCP: 481 each, and the connection
    stays open for an OPTIONS answered 200;
  * offer/answer (RFC 3264), over TCP: an offer of audio in G.729, PCMA, PCMU (sendonly) and of
    video is answered audio PCMA at port 9 (recvonly) and the video rejected at port 0, with a
    Contact `sip:...;transport=tcp`; a re-INVITE in that dialog is answered in the same o=
    session, one version on; an offer of G.729 only, one with an m-line that is no tokens, and
    one of 18 streams get 488, a body not SDP 415 with Accept, an INVITE without offer a 200
    with one (PCMU and PCMA); over TLS the Contact is a sips: URI.
"""

import re
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


def invite_request(transport, port, sdp=None, content_type="application/sdp"):
    """An INVITE (bytes) with `sdp` as its body."""
    request = tls_support.sip_request("INVITE", transport, "127.0.0.1", port)
    if sdp is None:
        return request
    head, _ = request.split(b"\r\n\r\n", 1)
    head = head.replace(b"Content-Length: 0", f"Content-Type: {content_type}\r\n"
                                               f"Content-Length: {len(sdp)}".encode())
    return head + b"\r\n\r\n" + sdp.encode()


def reinvite_request(first, to_tag, sdp):
    """The re-INVITE, in the dialog `first` (an INVITE's bytes) made, with `sdp`: CSeq 2, the
    callee's To tag, a branch of its own."""
    head, _ = invite_request("TCP", 0, sdp).split(b"\r\n\r\n", 1)
    body = sdp.encode()
    first_head = first.split(b"\r\n\r\n", 1)[0].decode()
    lines = [line for line in first_head.split("\r\n")
             if not line.startswith(("CSeq:", "Content-Length:", "Content-Type:"))]
    lines = [line + f";tag={to_tag}" if line.startswith("To:") else line for line in lines]
    lines = [re.sub(r"branch=[^;]*", "branch=z9hG4bK-reinvite", line) for line in lines]
    lines += ["CSeq: 2 INVITE", "Content-Type: application/sdp", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def invite(sock, request):
    """Sends an INVITE (bytes) and reads the final response: (head, body)."""
    sock.sendall(request)
    text = tls_support.read_sip_response(sock)
    head, _, body = text.partition("\r\n\r\n")
    length = re.search(r"^Content-Length: *(\d+)", head, re.MULTILINE | re.IGNORECASE)
    support.check(length is not None, f"a response without Content-Length: {head!r}")
    data = body.encode()
    while len(data) < int(length.group(1)):
        chunk = sock.recv(65536)
        support.check(chunk, "serve closed before the answer's body was in")
        data += chunk
    return head, data.decode()


def origin_of(sdp):
    """The o= line's session id and version."""
    found = re.search(r"^o=\S+ (\d+) (\d+) ", sdp, re.MULTILINE)
    support.check(found is not None, f"no o= line in {sdp!r}")
    return found.group(1), found.group(2)


def sdp_lines(*lines):
    return "".join(line + "\r\n" for line in lines)


def offer_answer(tcp_port, tls_port, trust):
    offer = sdp_lines("v=0", "o=caller 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1",
                      "t=0 0", "m=audio 40000 RTP/AVP 18 8 0", "a=sendonly",
                      "m=video 40002 RTP/AVP 96", "a=rtpmap:96 H264/90000")
    with socket.create_connection(("127.0.0.1", tcp_port), timeout=5) as sock:
        first = invite_request("TCP", tcp_port, offer)
        head, answer = invite(sock, first)
        support.check(head.startswith("SIP/2.0 200 "), f"the offer got {head[:60]!r}")
        support.check(f"Contact: <sip:rtconn@127.0.0.1:{tcp_port};transport=tcp>" in head,
                      f"Contact over TCP: {head!r}")
        expected = sdp_lines("m=audio 9 RTP/AVP 8", "a=rtpmap:8 PCMA/8000", "a=recvonly",
                             "m=video 0 RTP/AVP 96")
        support.check(answer.endswith(expected) and "c=IN IP4 127.0.0.1\r\n" in answer,
                      f"the answer {answer!r}, expected its streams {expected!r}")

        # A re-INVITE (hold taken back: sendrecv) is answered in the same session, one version on.
        to_tag = re.search(r"^To:.*;tag=([^;\s]+)", head, re.MULTILINE).group(1)
        head, again = invite(sock, reinvite_request(first, to_tag,
                                                    offer.replace("a=sendonly", "a=sendrecv")))
        support.check(head.startswith("SIP/2.0 200 ") and "a=sendrecv\r\n" in again,
                      f"the re-INVITE got {head[:60]!r} with {again!r}")
        (session, version), (session_again, version_again) = origin_of(answer), origin_of(again)
        support.check(session == session_again and int(version_again) == int(version) + 1,
                      f"o= went from {session} {version} to {session_again} {version_again}")

        def refused(request, status, what):
            head, _ = invite(sock, request)
            support.check(head.startswith(f"SIP/2.0 {status} "), f"{what} got {head[:60]!r}")
            return head

        refused(invite_request("TCP", tcp_port, offer.replace("RTP/AVP 18 8 0", "RTP/AVP 18")),
                488, "a G.729-only offer")
        refused(invite_request("TCP", tcp_port, offer.replace("m=video 40002", "m=video\t40002")),
                488, "an m-line that is no tokens")
        refused(invite_request("TCP", tcp_port, offer + "m=text 0 RTP/AVP 98\r\n" * 16),
                488, "an offer of 18 streams")
        head = refused(invite_request("TCP", tcp_port, "hello", content_type="text/plain"),
                       415, "a text/plain body")
        support.check("Accept: application/sdp" in head, f"415 without Accept: {head!r}")
        head, own_offer = invite(sock, invite_request("TCP", tcp_port))
        support.check(head.startswith("SIP/2.0 200 ") and
                      "m=audio 9 RTP/AVP 0 8\r\n" in own_offer,
                      f"an INVITE without offer got {head[:60]!r} with {own_offer!r}")
    with tls_support.python_tls_client(tls_port, trust) as sock:
        head, _ = invite(sock, invite_request("TLS", tls_port, offer))
        support.check(f"Contact: <sips:rtconn@127.0.0.1:{tls_port}>" in head,
                      f"Contact over TLS: {head!r}")


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
        offer_answer(tcp_port, tls_port, workspace.dev["trust"])
        support.stop_serve(serve)
        return (f"SIPp uac: {CALLS} calls over one TCP connection and {CALLS} over a connection "
                "each; rtconn call: 50 over TLS; a stray BYE and re-INVITE 481; offers answered, "
                "488, 415, an offer in the 200")


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("serve_calls", lambda: body(args))
