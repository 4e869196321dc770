#!/usr/bin/env python3
"""tshark (Wireshark 4.0's TCP, TLS and SIP dissectors: a reader nobody here wrote) takes what
rtconn puts on the wire for well-formed SIP, over TCP and inside rtconn's own TLS 1.3 records.

Set-up: `rtconn serve` on loopback, TCP and TLS (its development certificates), with
SSLKEYLOGFILE set, so it logs the traffic secrets Wireshark decrypts with; `tshark -i lo` captures
serve's two ports (a capture filter), while
  * `rtconn ping` sends 3 OPTIONS over TCP, with RFC 5626 keep-alives between them, and 3 over
    TLS (`sips:`), one connection each;
  * a Python client writes OPTIONS, a MESSAGE with a body and OPTIONS in one segment over TCP,
    and reads the three answers.

Checks, from `tshark -r` with serve's key log (serve's TLS port decoded as TLS, SIP inside):
  * every request has one answer, 200, with its Call-ID and CSeq: 3 + 3 over TCP (the pipelined
    ones found by their Content-Length), 3 over TLS, decrypted from records rtconn sealed itself
    (a server connection drops OpenSSL's record layer after its handshake, a client one after
    its first answer);
  * the MESSAGE's body is the bytes sent;
  * the keep-alive pings (CRLFCRLF) and pongs (CRLF) are segments of their own, which throw off
    no SIP message after them;
  * no frame is malformed, and none has expert information of warning severity or worse.
"""

import os
import re
import signal
import socket
import time

import interop_support as support
import tls_support as tls

BODY = b"Hello from the tshark interop test"


def seen_by(tshark, port, deadline_s=20.0):
    """Connects to `port` until tshark's live summary (its stdout) shows that connection's SYN:
    the packets before it have then been read too. Returns whether it did before the deadline."""
    deadline = time.monotonic() + deadline_s
    while tshark.running() and time.monotonic() < deadline:
        with socket.create_connection(("127.0.0.1", port), timeout=2.0) as probe:
            marker = f" {probe.getsockname()[1]} \u2192 {port} [SYN]"
        for _ in range(25):
            if marker in tshark.stdout_text():
                return True
            time.sleep(0.02)
    return False


def start_capture(group, tmp, ports):
    """Starts tshark on lo for `ports`, writing tmp/capture.pcapng, and returns it once it is
    capturing."""
    capture = os.path.join(tmp, "capture.pcapng")
    port_filter = " or ".join(f"tcp port {port}" for port in ports)
    tshark = group.start("tshark", ["tshark", "-i", "lo", "-f", port_filter, "-w", capture,
                                    "-P", "-l"], tmp)
    support.check(seen_by(tshark, ports[0]), f"tshark saw no packet: {tshark.stderr_tail()}")
    return tshark, capture


def send_pipelined(port):
    """Writes three requests in one send over TCP and reads until their three answers are in;
    returns the requests' Call-IDs."""
    requests = [tls.sip_request("OPTIONS", "TCP", "127.0.0.1", port, 1),
                tls.sip_request("MESSAGE", "TCP", "127.0.0.1", port, 2, BODY),
                tls.sip_request("OPTIONS", "TCP", "127.0.0.1", port, 3)]
    with socket.create_connection(("127.0.0.1", port), timeout=5.0) as sock:
        sock.sendall(b"".join(requests))
        received = b""
        deadline = time.monotonic() + 10.0
        while received.count(b"SIP/2.0 200 ") < 3:
            support.check(time.monotonic() < deadline, f"answers to the pipelined requests: "
                          f"{received[:300]!r}")
            chunk = sock.recv(65536)
            support.check(chunk, f"serve closed; got {received[:300]!r}")
            received += chunk
    return [re.search(rb"Call-ID: (\S+)", request).group(1).decode() for request in requests]


def dissect(capture, key_log, tls_port, display_filter, fields):
    """tshark's two-pass reading of the capture: one tuple of `fields` per frame matching."""
    argv = ["tshark", "-r", capture, "-2", "-o", f"tls.keylog_file:{key_log}",
            "-o", f"sip.tls.port:{tls_port}", "-d", f"tcp.port=={tls_port},tls",
            "-Y", display_filter, "-T", "fields", "-E", "separator=|", "-E", "occurrence=a"]
    for field in fields:
        argv += ["-e", field]
    code, out, err = support.run(argv, os.path.dirname(capture), 60, "tshark -r")
    support.check(code == 0, f"tshark -r exited {code}: {support.tail_of(err)!r}")
    return [tuple(line.split("|")) for line in out.splitlines() if line.strip()]


def body(arguments):
    with tls.dev_store_workspace(arguments.rtconn, "rtconn-tshark-") as workspace:
        tmp = workspace.tmp
        key_log = os.path.join(tmp, "serve-keys.log")
        os.environ["SSLKEYLOGFILE"] = key_log
        serve, listening = workspace.start_serve(tcp=["127.0.0.1:0"], tls=["127.0.0.1:0"],
                                                 quiet=True)
        del os.environ["SSLKEYLOGFILE"]
        [(_, tcp_port)] = listening["tcp"]
        [(_, tls_port)] = listening["tls"]
        tshark, capture = start_capture(workspace.group, tmp, (tcp_port, tls_port))

        support.ping_all_answered([arguments.rtconn, "ping", f"sip:127.0.0.1:{tcp_port};"
                                   "transport=tcp", "--count", "3", "--interval", "300",
                                   "--keep-alive", "100", "-q"], tmp, 3, "ping tcp")
        # localhost is 127.0.0.1 and ::1, and a pool starts at a random one of them; serve
        # listens on the first only, so the second would be refused (a reset tshark flags).
        support.ping_all_answered([arguments.rtconn, "ping", f"sips:localhost:{tls_port}",
                                   "--count", "3", "-q", "--store", workspace.store,
                                   "--no-dns-load-balancing"], tmp, 3, "ping tls")
        pipelined = send_pipelined(tcp_port)
        # Stopped too soon, tshark drops what it has not read from its capture yet.
        support.check(seen_by(tshark, tcp_port), f"tshark stopped: {tshark.stderr_tail()}")
        tshark.signal_and_wait(signal.SIGINT, 20.0)
        support.stop_serve(serve, signal.SIGTERM)

        fields = ("tcp.srcport", "tcp.dstport", "sip.Method", "sip.Status-Code", "sip.Call-ID",
                  "sip.CSeq.seq")
        frames = dissect(capture, key_log, tls_port, "sip", fields)
        requests, answers = {}, {}
        for source, destination, methods, statuses, call_ids, sequences in frames:
            # A segment may carry several messages, all one way: each field once per message.
            keys = list(zip(call_ids.split(","), sequences.split(",")))
            if statuses:
                for status, key in zip(statuses.split(","), keys):
                    answers.setdefault((int(source), *key), []).append(status)
            else:
                for method, key in zip(methods.split(","), keys):
                    requests[(int(destination), *key)] = method
        over = {tcp_port: "tcp", tls_port: "tls"}
        counts = {"tcp": 0, "tls": 0}
        for (port, call_id, sequence), method in requests.items():
            support.check(answers.get((port, call_id, sequence)) == ["200"],
                          f"{method} {call_id} CSeq {sequence} on {over.get(port)}: answered "
                          f"{answers.get((port, call_id, sequence))}; frames {frames}")
            counts[over[port]] += 1
        support.check(counts == {"tcp": 6, "tls": 3},
                      f"requests tshark found: {counts}, expected 6 over TCP and 3 over TLS; "
                      f"frames {frames}")
        support.check(all((tcp_port, call_id, str(n + 1)) in requests
                          for n, call_id in enumerate(pipelined)),
                      f"pipelined requests {pipelined} not all found: {sorted(requests)}")

        # The MESSAGE shares its segment with the two OPTIONS: each field once per message.
        [(lengths, texts)] = dissect(capture, key_log, tls_port, 'sip.Method == "MESSAGE"',
                                     ("sip.Content-Length", "text"))
        support.check(lengths.split(",") == ["0", str(len(BODY)), "0"] and
                      BODY.decode() in texts.split(","),
                      f"the pipelined segment as tshark read it: lengths {lengths!r}, "
                      f"text {texts!r}")

        keep_alives = dissect(capture, key_log, tls_port,
                              "tcp.payload == 0d:0a:0d:0a || tcp.payload == 0d:0a",
                              ("tcp.dstport", "tcp.len"))
        pings = keep_alives.count((str(tcp_port), "4"))
        pongs = sum(1 for port, length in keep_alives if port != str(tcp_port) and length == "2")
        support.check(pings > 0 and pongs > 0, f"keep-alives tshark found: {keep_alives}")

        flagged = dissect(capture, key_log, tls_port,
                          "_ws.malformed || _ws.expert.severity >= warning",
                          ("frame.number", "_ws.expert.message"))
        support.check(not flagged, f"frames tshark flagged: {flagged}")
        return (f"{counts['tcp']} requests over TCP ({len(pipelined)} pipelined, {pings} "
                f"keep-alive pings and {pongs} pongs between others) and {counts['tls']} over "
                f"TLS dissected and answered 200, the MESSAGE body intact, nothing malformed")


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("tshark_sip", lambda: body(args))
