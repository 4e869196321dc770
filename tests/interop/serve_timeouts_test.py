#!/usr/bin/env python3
"""`rtconn serve --new-connection-timeout / --message-timeout / --idle-timeout` reach the manager.

Checks, against `serve --tcp 127.0.0.1:0` with short time-outs: a connection that never sends
anything, one that stops half-way through a message, and one that is answered and then falls
silent are each closed by serve (bounded wait), and serve's log names each one's own reason; a
connection that keeps talking is still answered afterwards. Nothing here measures time: the
checks are which connections close and why.
"""

import socket
import tempfile

import interop_support as support

OPTIONS = (b"OPTIONS sip:t@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK%d\r\n"
           b"From: <sip:a@b>;tag=1\r\nTo: <sip:t@127.0.0.1>\r\nCall-ID: c%d\r\nCSeq: 1 OPTIONS\r\n"
           b"Content-Length: 0\r\n\r\n")


def closed_by_server(sock, deadline_s=10.0):
    sock.settimeout(deadline_s)
    try:
        while sock.recv(4096):
            pass
        return True
    except OSError:
        return True  # reset counts as closed
    except socket.timeout:
        return False


def body(arguments):
    with tempfile.TemporaryDirectory(prefix="rtconn-timeouts-") as tmp, \
            support.ProcessGroup() as group:
        serve, listening = support.start_serve_transports(
            group, arguments.rtconn, tmp, tcp=["127.0.0.1:0"],
            extra=["--new-connection-timeout", "1", "--message-timeout", "0.3",
                   "--idle-timeout", "1"])
        [(host, port)] = listening["tcp"]
        silent = socket.create_connection((host, port))
        slow = socket.create_connection((host, port))
        slow.sendall(OPTIONS[:40])
        idle = socket.create_connection((host, port))
        idle.sendall(OPTIONS % (1, 1))
        support.check(idle.recv(4096).startswith(b"SIP/2.0 200"), "no 200 for the idle one")
        for name, sock in (("silent", silent), ("slow", slow), ("idle", idle)):
            support.check(closed_by_server(sock), f"serve did not close the {name} connection")
        reasons = support.wait_for(lambda: (lambda log: log if all(r in log for r in (
            "no valid message arrived on a new connection in time",
            "a message was not finished in time",
            "the connection was idle longer than its time-out")) else None)(serve.stderr_text()))
        support.check(reasons, f"serve's log lacks a close reason; {serve.stderr_tail()}")
        talker = socket.create_connection((host, port))
        talker.sendall(OPTIONS % (2, 2))
        support.check(talker.recv(4096).startswith(b"SIP/2.0 200"), "serve stopped answering")
        talker.close()
        support.stop_serve(serve)
        return "silent, slow and idle connections each closed for their own reason"


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("serve_timeouts", lambda: body(args))
