#!/usr/bin/env python3
"""`openssl s_client` and raw sockets against `rtconn serve --mtls` / `--tls`.

Mutual TLS (serve --mtls, trusting the store's dev CA):
  * no client certificate -> refused: no SIP response, s_client fails with an alert, and serve
    logs a TLS negotiation failure for it (reason: no certificate);
  * a client certificate from another CA (made here with openssl) -> refused the same way
    (reason: not trusted);
  * the store's dev client certificate -> an OPTIONS written through s_client gets SIP/2.0 200 OK.
TLS (serve --tls):
  * a TLS 1.1-only offer (s_client -tls1_1, security level 0 so the client really offers it) is
    refused and serve logs the failure;
  * a plaintext OPTIONS and 64 random bytes, each on its own TCP connection, get no SIP response,
    their connections are closed and serve logs a failure naming each one's address, while a TLS
    connection opened before them still answers an OPTIONS, and a following `rtconn ping` over TLS
    succeeds.
Finally serve exits 0 within 5 s of SIGTERM.
"""

import random
import re
import signal
import socket

import interop_support as support
import tls_support as tls


def failures_since(serve, before):
    return support.tls_failures(serve.stderr_text())[before:]


def wait_new_failures(serve, before, count=1, deadline_s=5.0):
    return support.wait_for(lambda: (lambda new: new if len(new) >= count else [])(
        failures_since(serve, before)), deadline_s) or failures_since(serve, before)


def refused_by_mtls(serve, port, tmp, what, cert_args, log_reason_any):
    """s_client with cert_args writes an OPTIONS to the mtls port: it must get no SIP response,
    fail, and serve must log one TLS negotiation failure whose reason contains one of
    log_reason_any. Returns a short description."""
    before = len(support.tls_failures(serve.stderr_text()))
    code, out, err, matched = tls.s_client(port, cert_args, tmp, send=tls.options_request(),
                                           deadline_s=8.0)
    support.check(not matched and "SIP/2.0" not in out,
                  f"{what}: s_client got a SIP response from --mtls: {out[:200]!r}")
    support.check(code != 0, f"{what}: s_client exited 0; stderr {support.tail_of(err)!r}")
    alert = re.search(r"(?:tlsv1\d?|sslv3) alert [a-z ]+", err)
    support.check(alert is not None,
                  f"{what}: s_client reported no TLS alert; stderr {support.tail_of(err)!r}")
    new = wait_new_failures(serve, before)
    support.check(len(new) == 1, f"{what}: serve logged {len(new)} TLS negotiation failures, "
                                 f"expected 1: {new!r}; {serve.stderr_tail()}")
    reason = new[0][1]
    support.check(any(text in reason for text in log_reason_any),
                  f"{what}: serve's failure reason {reason!r} mentions none of "
                  f"{log_reason_any!r}")
    return f"{what}: refused (s_client '{alert.group(0)}', serve '{reason}')"


def garbage_first_byte(rng):
    """64 random bytes whose first byte is no TLS record type (0x14-0x18) and no SSLv2 header
    (high bit), so the server must reject them at once rather than wait for a longer record."""
    data = bytearray(rng.randbytes(64))
    while 0x14 <= data[0] <= 0x18 or data[0] & 0x80:
        data[0] = rng.randrange(256)
    return bytes(data)


def rejected_raw(serve, port, payload, what):
    """Sends payload on a fresh plain TCP connection to the TLS port: the server must close it,
    send no SIP response, and log a failure naming this connection's address."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        local = "%s:%d" % sock.getsockname()[:2]
        sock.sendall(payload)
        closed, data = tls.wait_closed_by_peer(sock, deadline_s=5.0)
    support.check(closed, f"{what}: serve kept the connection from {local} open 5 s")
    support.check(b"SIP/2.0" not in data, f"{what}: got a SIP response: {data[:200]!r}")
    logged = support.wait_for(
        lambda: [r for peer, r in support.tls_failures(serve.stderr_text()) if peer == local])
    support.check(logged, f"{what}: serve logged no TLS negotiation failure with {local}; "
                          f"{serve.stderr_tail()}")
    return f"{what}: closed, serve '{logged[0]}'"


def body(arguments):
    results = []
    with tls.dev_store_workspace(arguments.rtconn, "rtconn-tls-openssl-") as workspace:
        tmp, store, dev = workspace.tmp, workspace.store, workspace.dev
        serve, listening = workspace.start_serve(tls=["127.0.0.1:0"], mtls=["127.0.0.1:0"])
        [(_, tls_port)] = listening["tls"]
        [(_, mtls_port)] = listening["mtls"]
        verify_server = tls.verify_server_args(dev["trust"])

        # --- mutual TLS ---
        results.append(refused_by_mtls(serve, mtls_port, tmp, "mtls without client cert",
                                       verify_server, ["no certificate"]))

        rogue_ca = tls.make_ca(tmp, "rogue-ca", "/O=rtconn interop/CN=Rogue Test CA")
        rogue_cert, rogue_key = tls.make_leaf(tmp, "rogue-client", rogue_ca,
                                              "/CN=rogue client", "", "clientAuth")
        results.append(refused_by_mtls(
            serve, mtls_port, tmp, "mtls with another CA's client cert",
            verify_server + ["-cert", rogue_cert, "-key", rogue_key],
            ["not trusted"]))

        before = len(support.tls_failures(serve.stderr_text()))
        code, out, err, matched = tls.s_client(
            mtls_port, verify_server + ["-cert", dev["client_pem"], "-key", dev["client_pem"]],
            tmp, send=tls.options_request(), deadline_s=10.0)
        support.check(matched, f"mtls with the dev client cert: no SIP response from s_client "
                               f"(exit {code}); stdout {out[:200]!r}; stderr "
                               f"{support.tail_of(err)!r}; {serve.stderr_tail()}")
        status = out.strip().splitlines()[0] if out.strip() else ""
        support.check(status == "SIP/2.0 200 OK",
                      f"mtls with the dev client cert: status line {status!r}, expected "
                      f"'SIP/2.0 200 OK'")
        support.check(not failures_since(serve, before),
                      f"serve logged failures for the dev client cert: "
                      f"{failures_since(serve, before)!r}")
        results.append("mtls with the dev client cert: SIP/2.0 200 OK")

        # --- TLS 1.1 offered to --tls ---
        before = len(support.tls_failures(serve.stderr_text()))
        code, out, err, matched = tls.s_client(
            tls_port, ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], tmp,
            send=tls.options_request(), deadline_s=8.0)
        support.check(not matched and "SIP/2.0" not in out,
                      f"-tls1_1: got a SIP response: {out[:200]!r}")
        support.check(code != 0, f"-tls1_1: s_client exited 0; {support.tail_of(err)!r}")
        new = wait_new_failures(serve, before)
        support.check(len(new) == 1, f"-tls1_1: serve logged {len(new)} TLS negotiation "
                                     f"failures, expected 1: {new!r}")
        support.check("protocol" in new[0][1],
                      f"-tls1_1: serve's reason {new[0][1]!r} does not name the protocol")
        results.append(f"-tls1_1 to --tls: refused, serve '{new[0][1]}'")

        # --- plaintext and garbage on --tls; an established TLS connection survives ---
        keeper = tls.python_tls_client(tls_port, dev["trust"])
        keeper_version = keeper.version()
        with keeper:
            keeper.sendall(tls.options_request(sequence=1))
            first = tls.read_sip_response(keeper)
            support.check(first.startswith("SIP/2.0 200 "),
                          f"TLS connection before the garbage: {first[:100]!r}")
            results.append(rejected_raw(serve, tls_port,
                                        tls.options_request(transport="TCP"),
                                        "plaintext OPTIONS to --tls"))
            results.append(rejected_raw(serve, tls_port,
                                        garbage_first_byte(random.Random(5061)),
                                        "64 random bytes to --tls"))
            keeper.sendall(tls.options_request(sequence=2))
            second = tls.read_sip_response(keeper)
            support.check(second.startswith("SIP/2.0 200 "),
                          f"the TLS connection opened before the garbage no longer answers: "
                          f"{second[:100]!r}; {serve.stderr_tail()}")
        results.append(f"earlier TLS connection ({keeper_version}) still answered")

        code, out, err = support.run(
            [arguments.rtconn, "ping", f"sips:localhost:{tls_port}", "--count", "20",
             "--connections", "2", "-q", "--store", store], tmp, 60, name="rtconn ping")
        summary = support.ping_summary(out)
        support.check(code == 0 and (summary["ok"], summary["failed"]) == (20, 0),
                      f"rtconn ping over TLS after the garbage: exit {code}, {summary}; "
                      f"{support.tail_of(err)!r}")
        results.append("rtconn ping afterwards: 20/20 answered")

        took = support.stop_serve(serve, signal.SIGTERM, deadline_s=5.0)
        results.append(f"serve exited 0 {took:.2f} s after SIGTERM")
    return "; ".join(results)


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("tls_openssl_mtls", lambda: body(args))
