#!/usr/bin/env python3
"""`rtconn serve --tls` after the TLS 1.3 handshake, where serve's own record layer carries the
connection (its OpenSSL SSL object is freed), against clients nobody here wrote.

  * `openssl s_client -tls1_3 -ciphersuites S`, for each of the three TLS 1.3 suites: an
    OPTIONS is answered 200; then s_client's `K` command (a KeyUpdate asking serve to update
    too) and an OPTIONS answered 200 under both sides' new keys; then `k` (no update asked)
    and a third OPTIONS answered 200.
  * Python ssl (OpenSSL under an ssl.MemoryBIO, so the test sees the records): a MESSAGE with a
    100,000-byte body, its 7 records sent in 1,000-byte pieces so serve reads records cut at
    every place, is answered 200; then the client's close_notify is answered with serve's own
    as serve closes the connection; the same over TLS 1.2 (where the SSL object stays).
  * A record whose tag was altered in flight: serve closes that connection and logs the reason
    (bad record MAC); plaintext SIP after the handshake: serve answers with an unexpected_message
    alert, closes and logs it; the next connection is served.
  * SIGTERM with a connection open: serve's drain ends it with a close_notify the client reads
    as a clean end of stream; serve exits 0 within 5 s.
"""

import os
import re
import selectors
import signal
import socket
import ssl
import subprocess
import time

import interop_support as support
import tls_support as tls

SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")


class Interactive:
    """openssl s_client in command mode, read as it writes (stdout and stderr), stopped by PID."""

    def __init__(self, port, suite, cwd):
        argv = [tls.OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", "-quiet",
                "-no_ign_eof", "-tls1_3", "-ciphersuites", suite]
        self.process = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.text = {"out": b"", "err": b""}
        self.selector = selectors.DefaultSelector()
        for name, stream in (("out", self.process.stdout), ("err", self.process.stderr)):
            os.set_blocking(stream.fileno(), False)
            self.selector.register(stream, selectors.EVENT_READ, name)

    def send(self, data):
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def wait_count(self, stream, pattern, count, what, deadline_s=8.0):
        end = time.monotonic() + deadline_s
        while len(re.findall(pattern, self.text[stream].decode(errors="replace"),
                             re.MULTILINE)) < count:
            left = end - time.monotonic()
            support.check(left > 0 and self.process.poll() is None,
                          f"{what}: s_client {'exited' if left > 0 else 'timed out'}; "
                          f"stdout {support.tail_of(self.text['out'])!r}, "
                          f"stderr {support.tail_of(self.text['err'])!r}")
            for key, _ in self.selector.select(timeout=min(left, 0.2)):
                chunk = os.read(key.fileobj.fileno(), 65536)
                self.text[key.data] += chunk

    def close(self):
        try:
            self.process.stdin.close()
            self.process.wait(timeout=5)
        except (BrokenPipeError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=5)
            self.selector.close()
            self.process.stdout.close()
            self.process.stderr.close()


def key_updates_with_s_client(port, suite, cwd):
    client = Interactive(port, suite, cwd)
    try:
        client.send(tls.options_request(port=port, sequence=1))
        client.wait_count("out", r"^SIP/2\.0 200 ", 1, f"{suite}: first OPTIONS")
        for number, command in ((2, b"K\n"), (3, b"k\n")):
            client.send(command)
            client.wait_count("err", r"^KEYUPDATE", number - 1, f"{suite}: {command!r}")
            client.send(tls.options_request(port=port, sequence=number))
            client.wait_count("out", r"^SIP/2\.0 200 ", number,
                              f"{suite}: OPTIONS after {command!r}")
    finally:
        client.close()
    return f"{suite}: 3 OPTIONS answered around 2 KeyUpdates"


class MemoryTlsClient:
    """Python's ssl over MemoryBIOs on a raw socket: the test decides how records hit the wire."""

    def __init__(self, port, cafile, version=ssl.TLSVersion.TLSv1_3):
        context = ssl.create_default_context(cafile=cafile)
        context.minimum_version = context.maximum_version = version
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname="localhost")
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.complete(self.tls.do_handshake)
        self.flush()

    def complete(self, step):
        """Runs an ssl step (do_handshake, unwrap) to its end, moving bytes both ways."""
        while True:
            try:
                return step()
            except ssl.SSLWantReadError:
                self.flush()
                self.receive()

    def flush(self, piece=None):
        data = self.outgoing.read()
        step = piece or max(len(data), 1)
        for at in range(0, len(data), step):
            self.sock.sendall(data[at:at + step])
            if piece:
                time.sleep(0.002)  # lets serve read each piece on its own

    def receive(self):
        chunk = self.sock.recv(65536)
        support.check(chunk, "serve closed the connection")
        self.incoming.write(chunk)

    def check_answered_200(self, request, piece=None):
        """Sends `request` (its records in `piece`-byte pieces, if given); checks the 200."""
        self.tls.write(request)
        self.flush(piece)
        response = self.read_response()
        support.check(response.startswith("SIP/2.0 200 "),
                      f"{request.split(b' ')[0].decode()} answered {response[:80]!r}")

    def read_response(self, deadline_s=5.0):
        data = b""
        end = time.monotonic() + deadline_s
        while b"\r\n\r\n" not in data:
            support.check(time.monotonic() < end, f"no response; got {data[:200]!r}")
            try:
                data += self.tls.read(65536)
            except ssl.SSLWantReadError:
                self.receive()
        return data.decode(errors="replace")

    def close(self):
        self.sock.close()


def close_notify_answered(client):
    """Our close_notify; serve answers with its own (RFC 8446 6.1) as it closes."""
    client.complete(client.tls.unwrap)
    closed, _ = tls.wait_closed_by_peer(client.sock)
    support.check(closed, "serve kept the connection after the close_notify exchange")


def large_message_in_pieces(port, cafile):
    client = MemoryTlsClient(port, cafile)
    try:
        body = os.urandom(50_000).hex().encode()
        client.check_answered_200(tls.sip_request("MESSAGE", port=port, body=body), piece=1000)
        close_notify_answered(client)
    finally:
        client.close()
    return "100,000-byte MESSAGE in 1,000-byte pieces answered 200; close_notify answered"


def tls12_close_notify(port, cafile):
    client = MemoryTlsClient(port, cafile, ssl.TLSVersion.TLSv1_2)  # keeps its SSL object
    try:
        client.check_answered_200(tls.options_request(port=port))
        close_notify_answered(client)
    finally:
        client.close()
    return "TLS 1.2: OPTIONS answered 200, close_notify answered"


def check_closed_and_logged(client, serve, reason):
    closed, _ = tls.wait_closed_by_peer(client.sock)
    support.check(closed, f"serve kept a connection it should close for {reason}")
    support.check(support.wait_for(lambda: reason in serve.stderr_text()),
                  f"serve logged no {reason}; {serve.stderr_tail()}")


def altered_record_closes(port, cafile, serve):
    client = MemoryTlsClient(port, cafile)
    try:
        client.tls.write(tls.options_request(port=port))
        record = bytearray(client.outgoing.read())
        record[-1] ^= 0x01  # the last byte of the AEAD tag
        client.sock.sendall(record)
        check_closed_and_logged(client, serve, "bad record MAC")
    finally:
        client.close()
    return "an altered record closed its connection (bad record MAC logged)"


def close_notify_on_stop(serve, port, cafile):
    client = MemoryTlsClient(port, cafile)
    try:
        client.check_answered_200(tls.options_request(port=port))
        os.kill(serve.pid, signal.SIGTERM)
        # Python's ssl reads a close_notify as b"" (and a cut without one as an SSLEOFError).
        end = time.monotonic() + 5
        while True:
            support.check(time.monotonic() < end, "no close_notify within 5 s of SIGTERM")
            try:
                if client.tls.read(65536) == b"":
                    break
            except ssl.SSLWantReadError:
                client.receive()
        client.tls.unwrap()  # our close_notify ends serve's drain
        client.flush()
    finally:
        client.close()
    code = serve.wait(5)
    support.check(code == 0, f"serve exited {code} after SIGTERM; {serve.stderr_tail()}")
    serve.close_files()
    return "SIGTERM: serve's close_notify read as a clean end, serve exited 0"


def plaintext_after_handshake(port, cafile, serve):
    client = MemoryTlsClient(port, cafile)
    try:
        client.sock.sendall(tls.options_request(port=port))  # not a TLS record
        alert = None
        while alert is None:
            try:
                client.tls.read(65536)
            except ssl.SSLWantReadError:
                client.receive()
            except ssl.SSLError as e:
                alert = str(e)
        support.check("UNEXPECTED_MESSAGE" in alert.upper(),
                      f"serve's answer to plaintext was {alert!r}, not unexpected_message")
        check_closed_and_logged(client, serve, "unexpected TLS message")
    finally:
        client.close()
    return "plaintext after the handshake: unexpected_message alert, closed, logged"


def body(arguments):
    with tls.dev_store_workspace(arguments.rtconn, "rtconn-record-layer-") as workspace:
        trust = workspace.dev["trust"]
        results = []
        serve, listening = workspace.start_serve(tls=["127.0.0.1:0"])
        [(_, port)] = listening["tls"]
        for suite in SUITES:
            results.append(key_updates_with_s_client(port, suite, workspace.tmp))
        results.append(large_message_in_pieces(port, trust))
        results.append(altered_record_closes(port, trust, serve))
        results.append(plaintext_after_handshake(port, trust, serve))
        results.append(large_message_in_pieces(port, trust))
        results.append(tls12_close_notify(port, trust))
        results.append(close_notify_on_stop(serve, port, trust))
        return "; ".join(results)


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("tls_record_layer", lambda: body(args))
