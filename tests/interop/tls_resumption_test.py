#!/usr/bin/env python3
"""TLS session resumption by clients nobody here wrote, against `rtconn serve --tls --threads 2`
(the dev certificates of a temporary store).

Checks:
  * TLS 1.3, `openssl s_client`: a full handshake (`New, TLSv1.3`) saves its session
    (`-sess_out`: the ticket serve sent after the handshake); then 12 connections one after
    another, each offering the session the one before saved (`-sess_in`, `-sess_out`), are all
    `Reused, TLSv1.3` and each answers an OPTIONS with a 200. Every one of these 13 handshakes
    brings exactly one ticket (`Post-Handshake New Session Ticket arrived`): a SIP client keeps
    one session per server, and OpenSSL's default of two costs a second ticket's encryption and
    session encoding per full handshake for nothing. serve runs two loops,
    each accepting on a socket of its own (SO_REUSEPORT), and 13 connections from fresh ports
    all land on one of them once in 4,096 runs: a ticket one loop issued resumes on the other.
  * TLS 1.2, `s_client -tls1_2`, with tickets and without (`-no_ticket`: serve's session cache,
    by session ID): after the full handshake, the next two connections are `Reused, TLSv1.2` and
    answered.
  * Python's ssl module: the session of a connection that has had its answer resumes on a new
    connection (`session_reused`), which answers two OPTIONS in turn.
  * a session saved from another serve process (its own ticket keys) is not taken: s_client
    falls back to a full handshake (`New, TLSv1.3`) and is answered.
Neither serve logs a TLS negotiation failure, and each exits 0 within 5 s of SIGTERM.
"""

import os
import re
import signal

import interop_support as support
import tls_support as tls

RESUMPTIONS = 12
SESSION_RE = re.compile(r"^(New|Reused), (TLSv1\.[23])", re.MULTILINE)
TICKET_RE = re.compile(r"^Post-Handshake New Session Ticket arrived", re.MULTILINE)


def s_client_session(port, tmp, what, session_in=None, session_out=None, extra=()):
    """An OPTIONS through s_client, offering session_in and saving the session to session_out.
    Returns ("New" | "Reused", protocol, TLS 1.3 tickets received), after checking it was
    answered 200."""
    args = list(extra)
    if session_in:
        args += ["-sess_in", session_in]
    if session_out:
        args += ["-sess_out", session_out]
    code, out, err, matched = tls.s_client(port, args, tmp, send=tls.options_request(),
                                           deadline_s=10.0, quiet=False)
    support.check(matched and re.search(r"^SIP/2\.0 200 ", out, re.MULTILINE),
                  f"{what}: no SIP/2.0 200 through s_client (exit {code}); stdout "
                  f"{support.tail_of(out)!r}; stderr {support.tail_of(err)!r}")
    session = SESSION_RE.search(out)
    support.check(session is not None, f"{what}: s_client printed no New/Reused line: "
                                       f"{support.tail_of(out)!r}")
    return session.group(1), session.group(2), len(TICKET_RE.findall(out))


def resumed_in_turn(port, tmp, name, count, extra=()):
    """A full handshake, then `count` connections each offering the last session saved."""
    path = os.path.join(tmp, f"{name}.session.pem")
    protocol = "TLSv1.2" if "-tls1_2" in extra else "TLSv1.3"
    tickets = 1 if protocol == "TLSv1.3" else 0  # TLS 1.2's ticket is inside the handshake
    first = s_client_session(port, tmp, f"{name} full handshake", session_out=path, extra=extra)
    support.check(first == ("New", protocol, tickets),
                  f"{name}: the first connection was {first}, expected a new {protocol} session "
                  f"and {tickets} post-handshake ticket(s)")
    for i in range(count):
        seen = s_client_session(port, tmp, f"{name} resumption {i + 1}", session_in=path,
                                session_out=path, extra=extra)
        support.check(seen == ("Reused", protocol, tickets),
                      f"{name}: connection {i + 2} offering the last session was {seen}, "
                      f"expected it resumed ({protocol}) with {tickets} post-handshake ticket(s)")
    return f"{name}: {count}/{count} resumed after a full handshake, each answered"


def no_failures(serve):
    failures = support.tls_failures(serve.stderr_text())
    support.check(not failures, f"serve logged TLS negotiation failures: {failures[:3]!r}")


def python_resumption(port, trust):
    with tls.python_tls_client(port, trust) as first:
        first.sendall(tls.options_request(sequence=1))
        answer = tls.read_sip_response(first)
        support.check(answer.startswith("SIP/2.0 200 "), f"Python, full: {answer[:100]!r}")
        support.check(not first.session_reused, "Python: the first connection claims a resumption")
        context, session, version = first.context, first.session, first.version()
    with tls.python_tls_client(port, trust, context=context, session=session) as second:
        support.check(second.session_reused,
                      f"Python: a {version} session taken after an answer was not resumed")
        for sequence in (1, 2):
            second.sendall(tls.options_request(sequence=sequence))
            answer = tls.read_sip_response(second)
            support.check(answer.startswith("SIP/2.0 200 "),
                          f"Python, resumed, OPTIONS {sequence}: {answer[:100]!r}")
    return f"Python ssl: {version} session resumed, two OPTIONS answered"


def body(arguments):
    results = []
    with tls.dev_store_workspace(arguments.rtconn, "rtconn-tls-resumption-") as workspace:
        tmp = workspace.tmp
        serve_args = ["--threads", "2"]
        other, other_listening = workspace.start_serve(tls=["127.0.0.1:0"], extra=serve_args,
                                                       name="other")
        [(_, other_port)] = other_listening["tls"]
        foreign = os.path.join(tmp, "foreign.session.pem")
        seen = s_client_session(other_port, tmp, "the other serve", session_out=foreign)[:2]
        support.check(seen == ("New", "TLSv1.3"),
                      f"the other serve's first connection was {seen}, expected a new TLSv1.3 "
                      f"session")
        no_failures(other)
        support.stop_serve(other, signal.SIGTERM, deadline_s=5.0)

        serve, listening = workspace.start_serve(tls=["127.0.0.1:0"], extra=serve_args)
        [(_, port)] = listening["tls"]
        results.append(resumed_in_turn(port, tmp, "TLS 1.3", RESUMPTIONS))
        results.append(resumed_in_turn(port, tmp, "TLS 1.2 tickets", 2, extra=["-tls1_2"]))
        results.append(resumed_in_turn(port, tmp, "TLS 1.2 session IDs", 2,
                                       extra=["-tls1_2", "-no_ticket"]))
        results.append(python_resumption(port, workspace.dev["trust"]))

        seen = s_client_session(port, tmp, "another serve's session", session_in=foreign)[:2]
        support.check(seen == ("New", "TLSv1.3"),
                      f"a session from another serve process was {seen}, expected a new "
                      f"TLSv1.3 session (a full handshake)")
        results.append("another serve's session: full handshake instead, answered")

        no_failures(serve)
        took = support.stop_serve(serve, signal.SIGTERM, deadline_s=5.0)
        results.append(f"serve exited 0 {took:.2f} s after SIGTERM")
    return "; ".join(results)


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("tls_resumption", lambda: body(args))
