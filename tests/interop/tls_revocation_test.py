#!/usr/bin/env python3
"""Certificate revocation lists made by `openssl ca -gencrl`, against `openssl s_client` and
`openssl s_server`.

Server side (serve --mtls, trusting a CA made here with openssl through the store's trusted/):
  * before any CRL, client certificates A and B of that CA both get SIP/2.0 200 OK through
    s_client;
  * A is revoked with `openssl ca -revoke`, the CRL written into the store's crls/ and serve sent
    SIGHUP: it logs that it read its trust again; A is then refused (s_client gets no SIP
    response, serve logs the failure as "remote certificate revoked"), while B and the store's
    development client certificate (whose CA has no CRL: not checked) still get 200;
  * a file in crls/ that holds no CRL and another SIGHUP: serve logs that it kept its trust, and
    still refuses A and answers B.
Client side: `rtconn ping` to an `openssl s_server -www` presenting a server certificate the CRL
revokes: without --crl the handshake passes (and the request times out: s_server speaks no SIP);
with `--crl CRL` it fails with "remote certificate revoked" (exit 1).
Finally serve exits 0 within 5 s of SIGTERM.
"""

import os
import re
import shutil
import signal

import interop_support as support
import tls_support as tls


def write_ca_config(directory, ca):
    """The least `openssl ca` needs to revoke and to make CRLs: its database and CRL number."""
    open(os.path.join(directory, "index.txt"), "w").close()
    with open(os.path.join(directory, "crlnumber"), "w") as f:
        f.write("01\n")
    config = os.path.join(directory, "ca.cnf")
    with open(config, "w") as f:
        f.write("[ca]\ndefault_ca = interop\n[interop]\n"
                f"database = {directory}/index.txt\ncrlnumber = {directory}/crlnumber\n"
                f"certificate = {ca[0]}\nprivate_key = {ca[1]}\n"
                "default_md = sha256\ndefault_crl_days = 7\n")
    return config


def revoke(config, cert, cwd):
    tls.openssl(["ca", "-config", config, "-revoke", cert], cwd)


def make_crl(config, out, cwd):
    tls.openssl(["ca", "-config", config, "-gencrl", "-out", out], cwd)
    text = tls.openssl(["crl", "-in", out, "-noout", "-text"], cwd)
    return len(re.findall(r"Serial Number:", text))


def mtls_answers(port, cert, key, trust, tmp):
    """True when s_client presenting cert/key gets a SIP/2.0 200 to an OPTIONS."""
    code, out, err, matched = tls.s_client(
        port, tls.verify_server_args(trust) + ["-cert", cert, "-key", key], tmp,
        send=tls.options_request(), deadline_s=8.0)
    return matched and out.strip().splitlines()[0] == "SIP/2.0 200 OK"


def sighup(serve, expect, before):
    """Sends SIGHUP and waits for serve to log `expect` once more than `before` times."""
    serve.popen.send_signal(signal.SIGHUP)
    logged = support.wait_for(lambda: serve.stderr_text().count(expect) > before)
    support.check(logged, f"serve logged no {expect!r} after SIGHUP; {serve.stderr_tail()}")


def body(arguments):
    results = []
    with tls.dev_store_workspace(arguments.rtconn, "rtconn-tls-revocation-") as workspace:
        tmp, store, dev = workspace.tmp, workspace.store, workspace.dev
        ca = tls.make_ca(tmp, "interop-ca", "/O=rtconn interop/CN=Revocation Test CA")
        tls.concatenate(os.path.join(store, "trusted", "interop-ca.pem"), ca[0])
        client_a = tls.make_leaf(tmp, "client-a", ca, "/CN=client a", "", "clientAuth")
        client_b = tls.make_leaf(tmp, "client-b", ca, "/CN=client b", "", "clientAuth")
        config = write_ca_config(tmp, ca)

        serve, listening = workspace.start_serve(mtls=["127.0.0.1:0"])
        [(_, port)] = listening["mtls"]
        trust = dev["trust"]
        support.check(mtls_answers(port, *client_a, trust, tmp) and
                      mtls_answers(port, *client_b, trust, tmp),
                      f"before any CRL, client A or B was not answered; {serve.stderr_tail()}")
        results.append("no CRL: A and B answered")

        revoke(config, client_a[0], tmp)
        os.makedirs(os.path.join(store, "crls"), exist_ok=True)
        listed = make_crl(config, os.path.join(store, "crls", "interop-ca.pem"), tmp)
        support.check(listed == 1, f"openssl's CRL lists {listed} certificates, expected 1")
        reread = "trust anchors and revocation lists read again"
        sighup(serve, reread, 0)
        before = len(support.tls_failures(serve.stderr_text()))
        support.check(not mtls_answers(port, *client_a, trust, tmp),
                      "revoked client A was answered after SIGHUP")
        failures = support.wait_for(
            lambda: support.tls_failures(serve.stderr_text())[before:]) or []
        support.check(len(failures) == 1 and "revoked" in failures[0][1],
                      f"serve's failures for A: {failures!r}, expected one 'revoked'")
        support.check(mtls_answers(port, *client_b, trust, tmp),
                      f"client B was not answered after A's revocation; {serve.stderr_tail()}")
        support.check(mtls_answers(port, dev["client_pem"], dev["client_pem"], trust, tmp),
                      "the development client certificate (its CA has no CRL) was refused")
        results.append(f"A revoked, SIGHUP: A refused ('{failures[0][1]}'), B and the dev "
                       "client answered")

        with open(os.path.join(store, "crls", "broken.crl"), "w") as f:
            f.write("not a revocation list\n")
        sighup(serve, "trust kept as it was", 0)
        support.check(not mtls_answers(port, *client_a, trust, tmp) and
                      mtls_answers(port, *client_b, trust, tmp),
                      "after a failed reload serve no longer refuses A or answers B")
        results.append("unreadable CRL, SIGHUP: trust kept, A still refused, B answered")

        # --- client side: rtconn ping checks the server's certificate against a CRL ---
        # ping reads the same store. Its CRL lists only A: of two CRLs of one issuer OpenSSL
        # takes the one issued last, and this one and the next are issued in the same second.
        shutil.rmtree(os.path.join(store, "crls"))
        server = tls.make_leaf(tmp, "server", ca, "/CN=localhost", "DNS:localhost", "serverAuth")
        revoke(config, server[0], tmp)
        crl = os.path.join(tmp, "client-side.crl")
        make_crl(config, crl, tmp)
        s_port = support.free_port()
        # -www: s_server answers by itself (it does not read stdin, whose end would close the
        # connection); it speaks no SIP, so a ping it lets through waits for its answer.
        s_server = workspace.group.start(
            "openssl s_server",
            [tls.OPENSSL, "s_server", "-accept", f"127.0.0.1:{s_port}", "-cert", server[0],
             "-key", server[1], "-naccept", "2", "-www"], tmp)
        support.wait_listening(s_server, s_port)
        ping = [arguments.rtconn, "ping", f"sips:localhost:{s_port}", "--count", "1", "--ca",
                ca[0], "--timeout", "1000"]
        code, out, err = support.run(ping, tmp, 30, name="rtconn ping")
        support.check(code == 1 and "no final response" in out,
                      f"rtconn ping without --crl: exit {code}, {out.strip()!r}, expected the "
                      f"handshake to pass and the request to time out")
        code, out, err = support.run(ping + ["--crl", crl], tmp, 30, name="rtconn ping --crl")
        support.check(code == 1 and "remote certificate revoked" in out,
                      f"rtconn ping --crl to a revoked server: exit {code}, {out.strip()!r}; "
                      f"{support.tail_of(err)!r}")
        results.append("ping to s_server with a revoked certificate: handshake passes without "
                       "--crl, refused as revoked with it")

        took = support.stop_serve(serve, signal.SIGTERM, deadline_s=5.0)
        results.append(f"serve exited 0 {took:.2f} s after SIGTERM")
    return "; ".join(results)


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("tls_revocation", lambda: body(args))
