#!/usr/bin/env python3
"""`rtconn ping` as a TLS client: many connections, and the server certificates it must refuse.

Checks:
  * `ping sips:localhost:PORT --connections 500 --count 1000 -q` against `serve --tls` (dev
    certificates of a temporary store) exits 0 with 1000 answered, 0 failed, and serve logged
    500 incoming connections added (and removed once ping is gone);
  * a server presenting a certificate for `other.example` (CA and certificate made here with
    openssl into a second store; serve started with that store's --cert-issuer/--cert-serial as
    `openssl x509 -issuer -serial -nameopt RFC2253` prints them):
      - a Python TLS client trusting that CA and expecting `other.example` completes the
        handshake (the chain is fine; only the name will be wrong for rtconn);
      - `ping sips:localhost:PORT --ca THAT-CA` fails every request, exits non-zero, and its
        output names the host/name problem;
      - `ping` without --ca fails every request, exits non-zero and says the certificate is not
        trusted, and serve sees the client's `unknown ca` alert;
  * `serve --tls ... --cert-issuer 'CN=nobody' --cert-serial 01` exits non-zero within 5 s
    saying the certificate was not found.
"""

import os
import re
import signal

import interop_support as support
import tls_support as tls

CONNECTIONS = 500
COUNT = 1000


def ping(arguments, tmp, uri, *extra, deadline_s=90):
    code, out, err = support.run([arguments.rtconn, "ping", uri, *extra], tmp, deadline_s,
                                 name="rtconn ping")
    return code, out, err, support.ping_summary(out)


def many_connections(arguments, workspace):
    tmp = workspace.tmp
    serve, listening = workspace.start_serve(tls=["127.0.0.1:0"])
    [(_, port)] = listening["tls"]
    uri = f"sips:localhost:{port}"
    code, out, err, summary = ping(arguments, tmp, uri, "--connections", str(CONNECTIONS),
                                   "--count", str(COUNT), "-q", "--store", workspace.store)
    support.check(code == 0 and (summary["sent"], summary["ok"], summary["failed"]) ==
                  (COUNT, COUNT, 0),
                  f"ping {uri} --connections {CONNECTIONS}: exit {code}, {summary}, expected "
                  f"{COUNT} sent, {COUNT} answered, 0 failed; {support.tail_of(out + err)!r}")
    added, removed = support.wait_connection_events(
        serve, lambda _, removed: removed >= CONNECTIONS, deadline_s=10.0)
    failures = support.tls_failures(serve.stderr_text())
    support.check(added == CONNECTIONS and removed == CONNECTIONS,
                  f"serve logged {added} TLS connections added and {removed} removed for "
                  f"--connections {CONNECTIONS}, expected {CONNECTIONS} of each")
    support.check(not failures, f"serve logged TLS negotiation failures: {failures[:3]!r}")
    peak = peak_open(serve.stderr_text())
    support.check(peak == CONNECTIONS, f"serve had at most {peak} connections open at once, "
                                       f"expected all {CONNECTIONS}")
    took = support.stop_serve(serve, signal.SIGTERM, deadline_s=5.0)
    return (f"{COUNT}/{COUNT} answered over {added} TLS connections, {peak} open at once; "
            f"serve exited 0 {took:.2f} s after SIGTERM")


def peak_open(stderr_text):
    """The most connections serve had open at once, replaying its added/removed log lines."""
    open_now = peak = 0
    for event in re.findall(r"\] incoming connection (added|removed): ", stderr_text):
        open_now += 1 if event == "added" else -1
        peak = max(peak, open_now)
    return peak


def first_failure(out, err=""):
    """ping's first per-request failure reason, plus OpenSSL's words from its `connection N: ...`
    warning on stderr if it logged one."""
    match = re.search(r"^seq=\d+ failed: (.+?)(?: \([\d.]+ ms\))?$", out, re.MULTILINE)
    if not match:
        return None
    detail = re.search(r"connection \d+: (.+)$", err, re.MULTILINE)
    return match.group(1) + (f" / {detail.group(1)}" if detail else "")


def refused_ping(arguments, tmp, uri, what, extra):
    """`ping URI --count 2` (and `extra`) that must fail both requests and exit non-zero; `what`
    says which refusal for the failure message. Returns (exit code, first_failure(), stdout)."""
    code, out, err, summary = ping(arguments, tmp, uri, "--count", "2", "--timeout", "5000",
                                   *extra, deadline_s=30)
    support.check(code != 0 and summary["ok"] == 0 and summary["failed"] == 2,
                  f"ping {uri} {what}: exit {code}, {summary}, expected non-zero exit and "
                  f"2 failed; {out.strip()!r}")
    return code, first_failure(out, err), out


def other_host(arguments, workspace):
    tmp, dev_store = workspace.tmp, workspace.store
    results = []
    other_store = os.path.join(tmp, "other-store")
    os.makedirs(other_store)
    ca = tls.make_ca(tmp, "other-ca", "/O=rtconn interop/CN=Other Host Test CA")
    cert, key = tls.make_leaf(tmp, "other-server", ca, "/CN=other.example",
                              "DNS:other.example", "serverAuth")
    tls.concatenate(os.path.join(other_store, "other-server.pem"), cert, ca[0], key)
    identity = tls.certificate_id(cert, tmp)
    # Its own store, so not workspace.start_serve (which serves the dev store).
    serve, listening = support.start_serve_transports(
        workspace.group, arguments.rtconn, tmp, tls=["127.0.0.1:0"], name="serve-other",
        extra=["--store", other_store, *identity])
    [(_, port)] = listening["tls"]

    # Control: the certificate and chain are good for other.example.
    with tls.python_tls_client(port, ca[0], host="other.example") as control:
        peer = control.getpeercert()
    names = [value for kind, value in peer.get("subjectAltName", ()) if kind == "DNS"]
    support.check(names == ["other.example"], f"serve presented {peer!r}, expected the "
                                              f"other.example certificate")
    results.append("serve presents the other.example cert (Python client trusting its CA "
                   "accepts it for other.example)")

    uri = f"sips:localhost:{port}"
    code, reason, out = refused_ping(arguments, tmp, uri,
                                     "--ca OTHER-CA to a cert for other.example",
                                     ["--store", dev_store, "--ca", ca[0]])
    support.check(reason and re.search(r"name|host", reason, re.IGNORECASE),
                  f"ping's failure {reason!r} does not name the host/name problem; "
                  f"{out.strip()!r}")
    results.append(f"ping localhost with --ca: exit {code}, '{reason}'")

    before = len(support.tls_failures(serve.stderr_text()))
    code, reason, out = refused_ping(arguments, tmp, uri, "without --ca to an untrusted server",
                                     ["--store", dev_store])
    support.check(reason and re.search(r"trust", reason, re.IGNORECASE),
                  f"ping's failure {reason!r} for an untrusted server does not say it is "
                  f"not trusted; {out.strip()!r}")
    alerts = support.wait_for(lambda: [r for _, r in support.tls_failures(
        serve.stderr_text())[before:] if "unknown ca" in r])
    support.check(alerts, f"serve saw no `unknown ca` alert from the untrusted-server ping; "
                          f"{serve.stderr_tail()}")
    results.append(f"ping without --ca: exit {code}, '{reason}' (serve: '{alerts[0]}')")
    took = support.stop_serve(serve, signal.SIGTERM, deadline_s=5.0)
    results.append(f"serve-other exited 0 {took:.2f} s after SIGTERM")
    return results


def missing_certificate(arguments, workspace):
    serve = workspace.group.start(
        "serve-nocert", [arguments.rtconn, "serve", "--tls", "127.0.0.1:0", "--store",
                         workspace.store, "--cert-issuer", "CN=nobody", "--cert-serial", "01"],
        workspace.tmp)
    code = serve.wait(deadline_s=5.0)
    text = serve.stderr_text() + serve.stdout_text()
    support.check(code != 0, f"serve with an unknown certificate exited {code}, expected "
                             f"non-zero; {support.tail_of(text)!r}")
    support.check(re.search(r"not found", text, re.IGNORECASE),
                  f"serve's message does not say the certificate was not found: "
                  f"{support.tail_of(text)!r}")
    line = next(l for l in text.splitlines() if re.search("not found", l, re.IGNORECASE))
    return f"serve with CN=nobody/01: exit {code}, '{line.split(' error ', 1)[-1]}'"


def body(arguments):
    results = []
    with tls.dev_store_workspace(arguments.rtconn, "rtconn-tls-client-") as workspace:
        results.append(many_connections(arguments, workspace))
        results.extend(other_host(arguments, workspace))
        results.append(missing_certificate(arguments, workspace))
    return "; ".join(results)


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("tls_client", lambda: body(args))
