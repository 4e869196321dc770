#!/usr/bin/env python3
"""Faults against a running `rtconn serve` while SIPp loads it: each fault closes or refuses only
what it must, and the load sees no failure.

serve listens on --tcp, --tls and --mtls (development certificates of a temporary store; the
mutual-TLS port trusts only the store's development CA). SIPp sends 15,000 OPTIONS over one TCP
connection (-t t1) at 500 calls/s. While it runs, from Python and openssl:

TCP port
  * reset mid-message: half an OPTIONS (its body promised by Content-Length), then RST
    (SO_LINGER 0) -> serve removes that connection for "Connection reset by peer";
  * half-open: one connection sending nothing, and one sending a whole OPTIONS then half of
    another, both held and never closed by us -> serve (started with --new-connection-timeout and
    --message-timeout of HALF_OPEN_TIMEOUT_S) keeps them while the other faults run, then closes
    them itself: the silent one for "no valid message arrived on a new connection in time", the
    other for "a message was not finished in time";
  * slow-loris: 20 connections trickling an OPTIONS one byte every 40 ms (~13 s each, inside
    the same limits) -> each is answered 200 once its last byte arrives;
  * oversize: an OPTIONS with a 300 KB body and a correct Content-Length (over serve's 256 KiB
    limit), then a normal OPTIONS on the same connection -> 413, then 200, connection kept;
  * malformed: a bad start line with a valid Content-Length, then a normal OPTIONS -> the bad one
    is dropped without an answer, the OPTIONS answered 200, connection kept;
  * no Content-Length: an OPTIONS without it -> 400, then serve closes the connection;
TLS port
  * a plaintext OPTIONS -> closed without a SIP answer, serve logs a TLS failure for it;
  * TLS 1.0 and TLS 1.1 offers (s_client -tls1 / -tls1_1, security level 0 so they are really
    offered) -> refused, serve logs a failure naming the protocol;
  * reset mid-message after a completed handshake -> serve removes that connection;
mutual-TLS port (openssl s_client)
  * client certificates that are expired (issued by the trusted development CA, so expiry is the
    only fault), self-signed, and from another CA -> refused with a TLS alert, serve logs one
    failure each with its reason;
  * the development client certificate -> 200 (the port still admits the right client).

Then: a TCP and a TLS connection opened before the faults still answer; every `incoming
connection removed` serve logged during the faults names a connection a fault closed on purpose
(nothing else was closed), and serve logged exactly one TLS failure per TLS fault; SIPp's totals
are 15,000 successful calls and 0 failed, and serve exits 0 within 5 s of SIGTERM.
"""

import os
import re
import signal
import socket
import struct
import threading
import time
import uuid

import interop_support as support
import tls_support as tls

CALLS = 15_000
RATE = 500
SLOW_LORIS = 20
# serve's new-connection and message-completion time-outs here: past the slow-loris messages
# (~13 s), inside SIPp's load (30 s).
HALF_OPEN_TIMEOUT_S = 18
TRICKLE_S = 0.04
LINGER_ZERO = struct.pack("ii", 1, 0)


# --- SIP bytes and responses -----------------------------------------------------------------

def sip_request(method="OPTIONS", body=b"", content_length=True, start_line=None,
                transport="TCP"):
    token = uuid.uuid4().hex
    head = (f"{start_line or f'{method} sip:faults@127.0.0.1 SIP/2.0'}\r\n"
            f"Via: SIP/2.0/{transport} 127.0.0.1:5099;branch=z9hG4bK-{token[:16]}\r\n"
            f"From: <sip:faults@127.0.0.1>;tag={token[16:24]}\r\n"
            "To: <sip:faults@127.0.0.1>\r\n"
            f"Call-ID: {token}@127.0.0.1\r\n"
            f"CSeq: 1 {method}\r\nMax-Forwards: 70\r\n")
    if content_length:
        head += f"Content-Length: {len(body)}\r\n"
    if body:
        head += "Content-Type: text/plain\r\n"
    return (head + "\r\n").encode() + body, f"{token}@127.0.0.1"


def read_responses(sock, count, deadline_s=10.0):
    """Reads until `count` whole SIP responses arrived; returns ([(status, call_id)], closed?).
    Stops early if the peer closes."""
    data, responses = b"", []
    end = time.monotonic() + deadline_s
    while len(responses) < count:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            head = data[:head_end].decode(errors="replace")
            length = re.search(r"^(?:Content-Length|l)\s*:\s*(\d+)", head,
                               re.MULTILINE | re.IGNORECASE)
            total = head_end + 4 + (int(length.group(1)) if length else 0)
            if len(data) >= total:
                status = re.match(r"SIP/2\.0 (\d{3})", head)
                call_id = re.search(r"^(?:Call-ID|i)\s*:\s*(\S+)", head,
                                    re.MULTILINE | re.IGNORECASE)
                responses.append((int(status.group(1)) if status else None,
                                  call_id.group(1) if call_id else None))
                data = data[total:]
                continue
        left = end - time.monotonic()
        support.check(left > 0, f"{len(responses)} of {count} responses within {deadline_s} s; "
                                f"pending {data[:120]!r}")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return responses, True
        if not chunk:
            return responses, True
        data += chunk
    return responses, False


def still_open(sock):
    """True if the peer has neither closed nor reset `sock` (nothing to read, no EOF)."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def address(sock):
    return "%s:%d" % sock.getsockname()[:2]


def reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ZERO)
    sock.close()


def check_keepers_answer(keepers, when):
    """Each (connection, transport) in `keepers` answers an OPTIONS on it with a 200."""
    for keeper, transport in keepers:
        request, call_id = sip_request(transport=transport)
        keeper.sendall(request)
        responses, _ = read_responses(keeper, 1)
        support.check(responses == [(200, call_id)],
                      f"{transport} keeper {when} the faults: {responses}")


# --- serve's log ----------------------------------------------------------------------------

REMOVED_RE = r"\] incoming connection removed: #\d+ (tcp|tls) (\S+) -> (\S+)(?: \((.*)\))?$"


def removals(serve):
    """serve's removal lines as [(transport, remote address, reason, local address)]."""
    return [(m.group(1), m.group(3), m.group(4) or "", m.group(2))
            for m in re.finditer(REMOVED_RE, serve.stderr_text(), re.MULTILINE)]


def wait_removed(serve, remote, deadline_s=5.0):
    found = support.wait_for(lambda: [r for r in removals(serve) if r[1] == remote], deadline_s)
    return found[0] if found else None


# --- certificates ---------------------------------------------------------------------------

def make_expired_client(tmp, dev):
    """A client certificate issued by the store's (trusted) development CA that expired in 2020,
    made with `openssl ca` (x509 -req cannot back-date)."""
    db = os.path.join(tmp, "expired-ca")
    os.makedirs(os.path.join(db, "new"))
    open(os.path.join(db, "index.txt"), "w").close()
    with open(os.path.join(db, "serial"), "w") as f:
        f.write("1001\n")
    config = os.path.join(db, "ca.cnf")
    with open(config, "w") as f:
        f.write(f"[ca]\ndefault_ca = dev\n[dev]\ndatabase = {db}/index.txt\n"
                f"new_certs_dir = {db}/new\nserial = {db}/serial\ndefault_md = sha256\n"
                "policy = any\nunique_subject = no\n[any]\ncommonName = supplied\n"
                "[client]\nbasicConstraints = critical,CA:FALSE\n"
                "keyUsage = critical,digitalSignature\nextendedKeyUsage = clientAuth\n")
    key, request = os.path.join(tmp, "expired.key"), os.path.join(tmp, "expired.csr")
    cert = os.path.join(tmp, "expired.pem")
    tls.openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", key, "-out", request, "-subj", "/CN=expired client"], tmp)
    tls.openssl(["ca", "-batch", "-config", config, "-cert", dev["ca_pem"], "-keyfile",
                 dev["ca_pem"], "-in", request, "-out", cert, "-extensions", "client",
                 "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-notext"], tmp)
    return cert, key


def make_self_signed_client(tmp):
    cert, key = os.path.join(tmp, "self.pem"), os.path.join(tmp, "self.key")
    tls.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=self-signed client",
                 "-addext", "extendedKeyUsage=clientAuth"], tmp)
    return cert, key


# --- the faults -----------------------------------------------------------------------------

class Faults:
    def __init__(self, serve, ports, tmp, dev):
        self.serve, self.tmp, self.dev = serve, tmp, dev
        self.tcp, self.tls_port, self.mtls = ports
        self.closed_on_purpose = set()  # remote addresses (as serve sees them) we closed
        self.tls_faults = 0             # TLS handshakes a fault made fail on purpose
        self.mtls_closed = 0            # admitted mutual-TLS connections closed on purpose
        self.results = []

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.tcp), timeout=5)

    def reset_mid_message(self):
        sock = self.connect()
        local = address(sock)
        whole, _ = sip_request(body=b"x" * 1000)
        sock.sendall(whole[:len(whole) // 2])
        time.sleep(0.2)  # let serve read the half, so the reset lands mid-message
        reset(sock)
        self.closed_on_purpose.add(local)
        removed = wait_removed(self.serve, local)
        support.check(removed and "reset" in removed[2].lower(),
                      f"reset mid-message: serve's removal of {local}: {removed!r}")
        self.results.append(f"TCP reset mid-message: removed ({removed[2]})")

    def oversize(self):
        with self.connect() as sock:
            big, big_id = sip_request(body=b"y" * (300 * 1024))
            small, small_id = sip_request()
            sock.sendall(big + small)
            responses, closed = read_responses(sock, 2)
            support.check(responses == [(413, big_id), (200, small_id)] and not closed,
                          f"oversize: responses {responses}, closed {closed}; expected 413 for "
                          f"the 300 KB message then 200 on the same connection")
            self.closed_on_purpose.add(address(sock))
        self.results.append("oversize 300 KB: 413, then 200 on the same connection")

    def malformed_start_line(self):
        with self.connect() as sock:
            bad, _ = sip_request(body=b"0123456789", start_line="THIS IS NOT SIP")
            good, good_id = sip_request()
            sock.sendall(bad + good)
            responses, closed = read_responses(sock, 1)
            support.check(responses == [(200, good_id)] and not closed,
                          f"malformed start line: responses {responses}, closed {closed}; "
                          f"expected only the following OPTIONS answered (200)")
            support.check(still_open(sock), "malformed start line: serve closed the connection")
            self.closed_on_purpose.add(address(sock))
        self.results.append("bad start line: dropped, next OPTIONS 200, connection kept")

    def missing_content_length(self):
        with self.connect() as sock:
            local = address(sock)
            request, call_id = sip_request(content_length=False)
            sock.sendall(request)
            responses, closed = read_responses(sock, 1)
            support.check(responses == [(400, call_id)],
                          f"no Content-Length: responses {responses}, expected one 400")
            if not closed:
                closed, _ = tls.wait_closed_by_peer(sock, deadline_s=5.0)
            support.check(closed, "no Content-Length: serve kept the connection open after 400")
            self.closed_on_purpose.add(local)
        removed = wait_removed(self.serve, local)
        support.check(removed is not None, f"no Content-Length: serve logged no removal of {local}")
        self.results.append(f"no Content-Length: 400, closed ({removed[2]})")

    def plaintext_to_tls(self):
        before = len(support.tls_failures(self.serve.stderr_text()))
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=5) as sock:
            local = address(sock)
            sock.sendall(sip_request()[0])
            closed, data = tls.wait_closed_by_peer(sock, deadline_s=5.0)
        self.tls_faults += 1
        support.check(closed and b"SIP/2.0" not in data,
                      f"plaintext to --tls: closed {closed}, got {data[:100]!r}")
        logged = support.wait_for(lambda: [r for p, r in support.tls_failures(
            self.serve.stderr_text())[before:] if p == local])
        support.check(logged, f"plaintext to --tls: serve logged no TLS failure for {local}")
        self.results.append(f"plaintext to --tls: closed ({logged[0]})")

    def old_protocol(self, option, name):
        before = len(support.tls_failures(self.serve.stderr_text()))
        code, out, err, matched = tls.s_client(self.tls_port, [option, "-cipher",
                                                               "DEFAULT@SECLEVEL=0"],
                                               self.tmp, send=sip_request()[0], deadline_s=8.0)
        self.tls_faults += 1
        support.check(not matched and "SIP/2.0" not in out and code != 0,
                      f"{name} offer: s_client exit {code}, got {out[:100]!r}")
        new = support.wait_for(lambda: support.tls_failures(self.serve.stderr_text())[before:])
        support.check(new and "protocol" in new[0][1],
                      f"{name} offer: serve logged {new!r}, expected a failure naming the protocol")
        self.results.append(f"{name} offer to --tls: refused ({new[0][1]})")

    def tls_reset_mid_message(self):
        sock = tls.python_tls_client(self.tls_port, self.dev["trust"])
        local = address(sock)
        whole, _ = sip_request(body=b"z" * 1000, transport="TLS")
        sock.sendall(whole[:len(whole) // 2])
        time.sleep(0.2)
        raw = socket.socket(fileno=sock.detach())  # reset the TCP socket beneath TLS
        reset(raw)
        self.closed_on_purpose.add(local)
        removed = wait_removed(self.serve, local)
        support.check(removed is not None,
                      f"TLS reset mid-message: serve logged no removal of {local}")
        self.results.append(f"TLS reset mid-message: removed ({removed[2]})")

    def bad_client_cert(self, what, cert, key, reason_any):
        before = len(support.tls_failures(self.serve.stderr_text()))
        args = tls.verify_server_args(self.dev["trust"]) + ["-cert", cert, "-key", key]
        code, out, err, matched = tls.s_client(self.mtls, args, self.tmp,
                                               send=sip_request(transport="TLS")[0],
                                               deadline_s=8.0)
        self.tls_faults += 1
        support.check(not matched and "SIP/2.0" not in out,
                      f"mtls {what}: got a SIP response: {out[:100]!r}")
        alert = re.search(r"(?:tlsv1\d?|sslv3) alert [a-z ]+", err)
        support.check(code != 0 and alert,
                      f"mtls {what}: s_client exit {code}, no TLS alert: {support.tail_of(err)!r}")
        new = support.wait_for(lambda: support.tls_failures(self.serve.stderr_text())[before:])
        support.check(new and any(text in new[0][1] for text in reason_any),
                      f"mtls {what}: serve logged {new!r}, expected a reason with one of "
                      f"{reason_any!r}")
        self.results.append(f"mtls {what}: refused (s_client '{alert.group(0)}', serve "
                            f"'{new[0][1]}')")

    def good_client_cert(self):
        code, out, err, matched = tls.s_client(
            self.mtls, tls.verify_server_args(self.dev["trust"]) +
            ["-cert", self.dev["client_pem"], "-key", self.dev["client_pem"]],
            self.tmp, send=sip_request(transport="TLS")[0], deadline_s=10.0)
        status = out.strip().splitlines()[0] if out.strip() else ""
        support.check(matched and status == "SIP/2.0 200 OK",
                      f"mtls with the dev client cert: status {status!r} (exit {code}); "
                      f"{support.tail_of(err)!r}")
        self.mtls_closed += 1  # s_client has exited: its connection is gone
        self.results.append("mtls with the dev client cert: 200")


def slow_loris(port, count, answered, errors, stop):
    """`count` connections each trickle one OPTIONS a byte at a time, all in step; records each
    one's status into `answered`. Runs in its own thread; `stop` ends it early."""
    try:
        clients = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            request, call_id = sip_request()
            clients.append((sock, request, call_id))
        length = max(len(request) for _, request, _ in clients)
        for i in range(length):
            if stop.is_set():
                return
            for sock, request, _ in clients:
                if i < len(request):
                    sock.sendall(request[i:i + 1])
            time.sleep(TRICKLE_S)
        for sock, _, call_id in clients:
            responses, closed = read_responses(sock, 1, deadline_s=10.0)
            answered.append((responses, call_id, closed, address(sock)))
            sock.close()
    except Exception as error:  # reported by the main thread
        errors.append(f"{type(error).__name__}: {error}")


def body(arguments):
    support.require_sipp()
    with tls.dev_store_workspace(arguments.rtconn, "rtconn-faults-") as workspace:
        tmp, dev, group = workspace.tmp, workspace.dev, workspace.group
        expired = make_expired_client(tmp, dev)
        self_signed = make_self_signed_client(tmp)
        rogue_ca = tls.make_ca(tmp, "rogue-ca", "/O=rtconn faults/CN=Rogue Test CA")
        rogue = tls.make_leaf(tmp, "rogue-client", rogue_ca, "/CN=rogue client", "",
                              "clientAuth")

        serve, listening = workspace.start_serve(
            tcp=["127.0.0.1:0"], tls=["127.0.0.1:0"], mtls=["127.0.0.1:0"],
            extra=["--new-connection-timeout", str(HALF_OPEN_TIMEOUT_S),
                   "--message-timeout", str(HALF_OPEN_TIMEOUT_S), "--shutdown-timeout", "2"])
        [(_, tcp_port)] = listening["tcp"]
        [(_, tls_port)] = listening["tls"]
        [(_, mtls_port)] = listening["mtls"]

        # Connections opened before the faults, to be answered after them.
        keeper_tcp = socket.create_connection(("127.0.0.1", tcp_port), timeout=5)
        keeper_tls = tls.python_tls_client(tls_port, dev["trust"])
        keepers = ((keeper_tcp, "TCP"), (keeper_tls, "TLS"))
        check_keepers_answer(keepers, "before")

        added_before, _ = support.count_connection_events(serve.stderr_text())
        sipp = support.SippUac(group, tmp, "faults", f"127.0.0.1:{tcp_port}", CALLS,
                               ["-t", "t1", "-r", str(RATE), "-rp", "1000", "-l", "200"])
        # SIPp's one connection is up before the first fault.
        support.check(support.wait_for(lambda: support.count_connection_events(
            serve.stderr_text())[0] > added_before, deadline_s=10.0),
            f"SIPp never connected; {sipp.process.stderr_tail()}")
        load_started = time.monotonic()

        faults = Faults(serve, (tcp_port, tls_port, mtls_port), tmp, dev)
        silent = socket.create_connection(("127.0.0.1", tcp_port), timeout=5)
        half = socket.create_connection(("127.0.0.1", tcp_port), timeout=5)
        whole, whole_id = sip_request()
        half.sendall(whole)
        support.check(read_responses(half, 1)[0] == [(200, whole_id)],
                      "half-open: the whole OPTIONS before the half one was not answered")
        half.sendall(sip_request(body=b"h" * 100)[0][:150])
        half_open_since = time.monotonic()
        loris_answers, loris_errors, stop = [], [], threading.Event()
        loris = threading.Thread(target=slow_loris,
                                 args=(tcp_port, SLOW_LORIS, loris_answers, loris_errors, stop))
        loris.start()
        try:
            faults.reset_mid_message()
            faults.oversize()
            faults.malformed_start_line()
            faults.missing_content_length()
            faults.plaintext_to_tls()
            faults.old_protocol("-tls1", "TLS 1.0")
            faults.old_protocol("-tls1_1", "TLS 1.1")
            faults.tls_reset_mid_message()
            faults.bad_client_cert("expired client cert", *expired, ["expired"])
            faults.bad_client_cert("self-signed client cert", *self_signed,
                                   ["not trusted", "self-signed", "self signed"])
            faults.bad_client_cert("another CA's client cert", *rogue, ["not trusted"])
            faults.good_client_cert()
            loris.join(timeout=60)
        finally:
            stop.set()
            loris.join(timeout=10)
        results = faults.results
        support.check(not loris_errors, f"slow-loris: {loris_errors}")
        support.check(len(loris_answers) == SLOW_LORIS and all(
            responses == [(200, call_id)] for responses, call_id, _, _ in loris_answers),
            f"slow-loris: {[a[:3] for a in loris_answers if a[0] != [(200, a[1])]]!r} of "
            f"{len(loris_answers)} answered")
        faults.closed_on_purpose.update(a[3] for a in loris_answers)
        results.append(f"slow-loris x{SLOW_LORIS} ({TRICKLE_S * 1000:.0f} ms a byte): all 200")

        # The half-open connections: kept through the faults, then closed by serve's time-outs.
        held_s = time.monotonic() - half_open_since
        support.check(held_s < HALF_OPEN_TIMEOUT_S - 1,
                      f"the faults took {held_s:.1f} s: too long to see the half-open "
                      f"connections kept before their {HALF_OPEN_TIMEOUT_S} s time-outs")
        support.check(still_open(silent) and still_open(half),
                      f"serve closed a half-open connection after {held_s:.1f} s, before its "
                      f"time-outs (silent open: {still_open(silent)}, half message open: "
                      f"{still_open(half)})")
        expected = ((silent, "no valid message arrived on a new connection in time"),
                    (half, "a message was not finished in time"))
        for sock, reason in expected:
            faults.closed_on_purpose.add(address(sock))
            removed = wait_removed(serve, address(sock),
                                   deadline_s=HALF_OPEN_TIMEOUT_S + 5 - held_s)
            support.check(removed is not None and removed[2] == reason,
                          f"half-open {address(sock)}: serve's removal {removed!r}, expected "
                          f"one for {reason!r}")
            support.check(not still_open(sock), f"half-open {address(sock)}: still open after "
                                                 f"serve logged its removal")
        results.append(f"half-open x2: kept through the faults ({held_s:.1f} s), then closed by "
                       f"serve's {HALF_OPEN_TIMEOUT_S} s time-outs, each for its own reason")

        support.check(sipp.process.running(), f"SIPp finished before the faults did "
                                      f"({time.monotonic() - load_started:.1f} s): the faults "
                                      f"did not overlap the load; raise CALLS")
        check_keepers_answer(keepers, "after")
        results.append("TCP and TLS connections opened before the faults still answer")

        # Nothing but what the faults closed on purpose was closed, and every TLS failure is one
        # of ours.
        mtls_local = f"127.0.0.1:{mtls_port}"
        support.wait_for(lambda: len([r for r in removals(serve) if r[3] == mtls_local])
                         >= faults.mtls_closed)
        collateral = [r for r in removals(serve)
                      if r[1] not in faults.closed_on_purpose and r[3] != mtls_local]
        support.check(not collateral, f"serve closed connections no fault aimed at: "
                                      f"{collateral[:5]!r}")
        mtls_removed = [r for r in removals(serve) if r[3] == mtls_local]
        support.check(len(mtls_removed) == faults.mtls_closed,
                      f"serve removed {len(mtls_removed)} mutual-TLS connections, "
                      f"{faults.mtls_closed} were admitted and closed: {mtls_removed!r}")
        failures = support.tls_failures(serve.stderr_text())
        support.check(len(failures) == faults.tls_faults,
                      f"serve logged {len(failures)} TLS failures for {faults.tls_faults} TLS "
                      f"faults: {failures!r}")

        stats = sipp.finish(deadline_s=120)
        results.append(f"SIPp: {stats['SuccessfulCall']} OPTIONS answered, "
                       f"{stats['FailedCall']} failed, over {time.monotonic() - load_started:.0f}"
                       f" s")

        for sock in (silent, half, keeper_tcp, keeper_tls):
            sock.close()
        took = support.stop_serve(serve, signal.SIGTERM, deadline_s=5.0)
        results.append(f"serve exited 0 {took:.2f} s after SIGTERM")
    return "; ".join(results)


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("faults_under_load", lambda: body(args))
