#!/usr/bin/env python3
"""SSLKEYLOGFILE: `rtconn serve --tls` and `rtconn ping` each append the NSS key-log lines
Wireshark needs to decrypt their TLS 1.3 traffic, for every connection they make.

Checks: with SSLKEYLOGFILE set (a file each), a 3-request ping over 1 connection leaves both
files with the four TLS 1.3 traffic secrets, each line `LABEL <64 hex client random> <hex>`, and
the client random the client logged is one the server logged too (the same handshake).
"""

import os
import re
import signal

import interop_support as support
import tls_support as tls

LABELS = ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
          "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0")
LINE_RE = re.compile(r"^([A-Z_0-9]+) ([0-9a-f]{64}) ([0-9a-f]+)$")


def key_log(path):
    """{label: set of client randoms} from a key-log file; fails on a malformed line."""
    found = {}
    with open(path, encoding="ascii") as lines:
        for line in lines:
            match = LINE_RE.match(line.strip())
            support.check(match is not None, f"{path}: not a key-log line: {line!r}")
            found.setdefault(match.group(1), set()).add(match.group(2))
    return found


def body(arguments):
    with tls.dev_store_workspace(arguments.rtconn, "rtconn-keylog-") as workspace:
        tmp = workspace.tmp
        server_log = os.path.join(tmp, "server-keys.log")
        client_log = os.path.join(tmp, "client-keys.log")
        os.environ["SSLKEYLOGFILE"] = server_log
        serve, listening = workspace.start_serve(tls=["127.0.0.1:0"], quiet=True)
        [(_, port)] = listening["tls"]
        os.environ["SSLKEYLOGFILE"] = client_log
        code, out, err = support.run(
            [arguments.rtconn, "ping", f"sips:localhost:{port}", "--count", "3", "-q",
             "--store", workspace.store], tmp, 30, name="rtconn ping")
        del os.environ["SSLKEYLOGFILE"]
        support.check(code == 0, f"ping exited {code}; {support.tail_of(out + err)!r}")
        support.stop_serve(serve, signal.SIGTERM)
        client = key_log(client_log)
        server = key_log(server_log)
        for side, found in (("client", client), ("server", server)):
            missing = [label for label in LABELS if label not in found]
            support.check(not missing, f"the {side} logged no {missing} lines")
        support.check(client["CLIENT_TRAFFIC_SECRET_0"] & server["CLIENT_TRAFFIC_SECRET_0"],
                      "client and server logged no handshake in common")
        return (f"client logged {sum(map(len, client.values()))} secrets, server "
                f"{sum(map(len, server.values()))}, for the same handshake")


if __name__ == "__main__":
    args = support.parse_args(__doc__)
    support.run_test("tls_keylog", lambda: body(args))
