"""TLS helpers shared by the TLS interop tests (stdlib only): a temporary certificate store made
by `rtconn cert create`, certificates made with the openssl CLI, `openssl s_client` and Python
`ssl` clients, and a SIP OPTIONS request to send through them.

Everything stays on 127.0.0.1 / ::1 and in the test's temporary directory; every process started
here is waited for with a deadline and killed by PID if it overstays.
"""

import contextlib
import dataclasses
import os
import re
import selectors
import shlex
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid

import interop_support as support
from interop_support import TestFailure, check

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
STUNNEL = shutil.which("stunnel4") or shutil.which("stunnel") or "/usr/bin/stunnel4"


# --- the certificate store -------------------------------------------------------------------

def isolate_cert_store(store):
    """Makes `store` the default store of every rtconn started from now on (RTCONN_CERT_STORE),
    so nothing can fall back to the user's store; tests pass --store as well."""
    os.makedirs(store, exist_ok=True)
    os.environ["RTCONN_CERT_STORE"] = store


def create_dev_store(rtconn, store, cwd, deadline_s=30.0):
    """`rtconn cert create --store STORE`: returns {"ca"|"server"|"client": [--cert-issuer X,
    --cert-serial S], "trust": CA pem path, "store": store, plus the PEM file paths "ca_pem",
    "server_pem", "client_pem" (each holds cert + chain + key)}."""
    code, out, err = support.run([rtconn, "cert", "create", "--store", store], cwd, deadline_s,
                                 name="rtconn cert create")
    check(code == 0, f"rtconn cert create exited {code}; {support.tail_of(out + err)!r}")
    ids = {"store": store}
    for line in out.splitlines():
        words = shlex.split(line)
        if len(words) == 5 and words[0] in ("ca", "server", "client") and \
                words[1] == "--cert-issuer" and words[3] == "--cert-serial":
            ids[words[0]] = ["--cert-issuer", words[2], "--cert-serial", words[4]]
        elif len(words) == 2 and words[0] == "trust":
            ids["trust"] = words[1] if os.path.isabs(words[1]) else os.path.join(cwd, words[1])
    for needed in ("server", "client", "trust"):
        check(needed in ids, f"rtconn cert create printed no `{needed}` line: {out.strip()!r}")
    for name in ("ca", "server", "client"):
        path = os.path.join(store, f"rtconn-dev-{name}.pem")
        check(os.path.exists(path), f"rtconn cert create made no {path}")
        ids[f"{name}_pem"] = path
    return ids


@dataclasses.dataclass
class DevStoreWorkspace:
    """What dev_store_workspace yields: the temporary directory `tmp`, the store in it and the
    ids create_dev_store read from it (`dev`), and the ProcessGroup the test starts things in."""
    rtconn: str
    tmp: str
    store: str
    dev: dict
    group: support.ProcessGroup

    def start_serve(self, tcp=(), tls=(), mtls=(), extra=(), quiet=False, name="serve"):
        """support.start_serve_transports in this workspace, serving the store's development
        certificates (--store STORE, then `extra`)."""
        return support.start_serve_transports(self.group, self.rtconn, self.tmp, tcp=tcp,
                                              tls=tls, mtls=mtls,
                                              extra=["--store", self.store, *extra],
                                              quiet=quiet, name=name)


@contextlib.contextmanager
def dev_store_workspace(rtconn, prefix):
    """A temporary directory (named with `prefix`) holding the store `tmp/store`, made every
    rtconn's default (isolate_cert_store) and filled by `rtconn cert create`, and a ProcessGroup.
    Yields a DevStoreWorkspace; leaving the block stops what the group still runs, then removes
    the directory."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp, support.ProcessGroup() as group:
        store = os.path.join(tmp, "store")
        isolate_cert_store(store)
        dev = create_dev_store(rtconn, store, tmp)
        yield DevStoreWorkspace(rtconn, tmp, store, dev, group)


# --- certificates made with the openssl CLI --------------------------------------------------

def openssl(args, cwd, deadline_s=20.0):
    code, out, err = support.run([OPENSSL, *args], cwd, deadline_s, name=f"openssl {args[0]}")
    check(code == 0, f"openssl {' '.join(args)} exited {code}: {support.tail_of(err)!r}")
    return out


def make_ca(directory, name, subject, days=30):
    """A self-signed P-256 CA: returns (cert path, key path)."""
    cert, key = os.path.join(directory, f"{name}.pem"), os.path.join(directory, f"{name}.key")
    openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", key, "-out", cert, "-days", str(days), "-subj", subject,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"], directory)
    return cert, key


def make_leaf(directory, name, ca, subject, alt_names, usage, days=30):
    """A P-256 end-entity certificate signed by ca=(cert, key): returns (cert path, key path).

    alt_names like "DNS:other.example,IP:127.0.0.1"; usage "serverAuth" / "clientAuth"."""
    cert, key = os.path.join(directory, f"{name}.pem"), os.path.join(directory, f"{name}.key")
    request = os.path.join(directory, f"{name}.csr")
    extensions = os.path.join(directory, f"{name}.ext")
    with open(extensions, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                f"extendedKeyUsage={usage}\n")
        if alt_names:
            f.write(f"subjectAltName={alt_names}\n")
    openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", key, "-out", request, "-subj", subject], directory)
    openssl(["x509", "-req", "-in", request, "-CA", ca[0], "-CAkey", ca[1], "-set_serial",
             str(int.from_bytes(os.urandom(8), "big") | 1), "-days", str(days), "-out", cert,
             "-extfile", extensions], directory)
    return cert, key


def certificate_id(cert, cwd):
    """[--cert-issuer X, --cert-serial HEX] for a certificate file, from `openssl x509 -issuer
    -serial -nameopt RFC2253` (RFC 4514 order, most specific RDN first)."""
    out = openssl(["x509", "-in", cert, "-noout", "-issuer", "-serial", "-nameopt", "RFC2253"],
                  cwd)
    issuer = re.search(r"^issuer=\s*(.+)$", out, re.MULTILINE)
    serial = re.search(r"^serial=\s*([0-9A-Fa-f]+)$", out, re.MULTILINE)
    check(issuer and serial, f"cannot read issuer/serial of {cert}: {out!r}")
    return ["--cert-issuer", issuer.group(1).strip(), "--cert-serial", serial.group(1)]


def concatenate(target, *sources):
    """Writes the concatenation of PEM files `sources` to `target` (mode 0600); returns target."""
    with open(target, "w") as out:
        for source in sources:
            with open(source) as f:
                text = f.read()
            out.write(text if text.endswith("\n") else text + "\n")
    os.chmod(target, 0o600)
    return target


def pem_blocks(path, kind):
    """The PEM blocks of `kind` ("CERTIFICATE", "PRIVATE KEY") in a file, in order."""
    with open(path) as f:
        text = f.read()
    return re.findall(rf"-----BEGIN {kind}-----.*?-----END {kind}-----\n?", text, re.DOTALL)


# --- SIP over a byte stream ------------------------------------------------------------------

def sip_request(method, transport="TLS", host="localhost", port=5061, sequence=1, body=b""):
    """One SIP request (bytes) with a fresh branch and Call-ID; a body goes as text/plain."""
    token = uuid.uuid4().hex
    content_type = "Content-Type: text/plain\r\n" if body else ""
    return (f"{method} sip:{host} SIP/2.0\r\n"
            f"Via: SIP/2.0/{transport} 127.0.0.1:{port};branch=z9hG4bK-{token[:16]}\r\n"
            f"From: <sip:interop@localhost>;tag={token[16:24]}\r\n"
            f"To: <sip:{host}>\r\n"
            f"Call-ID: {token}@127.0.0.1\r\n"
            f"CSeq: {sequence} {method}\r\n"
            "Max-Forwards: 70\r\n"
            f"{content_type}Content-Length: {len(body)}\r\n\r\n").encode() + body


def options_request(transport="TLS", host="localhost", port=5061, sequence=1):
    """One SIP OPTIONS request (bytes) with a fresh branch and Call-ID."""
    return sip_request("OPTIONS", transport, host, port, sequence)


def read_sip_response(sock, deadline_s=5.0):
    """Reads from a (TLS or plain) socket until a full response head arrives; returns the text
    read, '' if the peer closed first. Raises TestFailure on time-out."""
    data = b""
    end = time.monotonic() + deadline_s
    while b"\r\n\r\n" not in data:
        left = end - time.monotonic()
        check(left > 0, f"no complete SIP response within {deadline_s} s; got {data[:200]!r}")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


def python_tls_client(port, cafile, host="localhost", certfile=None, keyfile=None,
                      deadline_s=5.0, context=None, session=None):
    """A Python ssl client connection to 127.0.0.1:port verifying the server as `host`; with
    `context` (one this made before: `sock.context`) and `session` (`sock.session` of one of its
    connections), it offers to resume that session."""
    if context is None:
        context = ssl.create_default_context(cafile=cafile)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if certfile:
            context.load_cert_chain(certfile, keyfile)
    raw = socket.create_connection(("127.0.0.1", port), timeout=deadline_s)
    try:
        return context.wrap_socket(raw, server_hostname=host, session=session)
    except BaseException:
        raw.close()
        raise


def wait_closed_by_peer(sock, deadline_s=5.0):
    """Reads until the peer closes (EOF or reset); returns (closed?, bytes read)."""
    data = b""
    end = time.monotonic() + deadline_s
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False, data
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return False, data
        except (ConnectionResetError, BrokenPipeError):
            return True, data
        if not chunk:
            return True, data
        data += chunk


# --- openssl s_client ------------------------------------------------------------------------

def verify_server_args(trust, host="localhost"):
    """s_client options that fail the handshake unless the server's chain leads to the CA file
    `trust` and its certificate names `host`."""
    return ["-CAfile", trust, "-verify_return_error", "-verify_hostname", host]


def s_client(port, args, cwd, send=b"", expect=r"^SIP/2\.0 \d{3} ", deadline_s=10.0,
             quiet=True):
    """Runs `openssl s_client -connect 127.0.0.1:PORT -quiet -no_ign_eof ARGS`, writes `send`
    and keeps its stdin open until stdout matches `expect`, s_client exits (the server closed or
    refused) or deadline_s passes; then closes stdin (s_client ends on EOF) and waits for it, by
    PID, killing it if it overstays. quiet=False: `-nocommands` instead of `-quiet`, so stdout
    also has s_client's account of the session (`New, TLSv1.3, ...` or `Reused, ...`).

    Returns (exit code, stdout text, stderr text, matched?)."""
    argv = [OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}",
            "-quiet" if quiet else "-nocommands", "-no_ign_eof", *args]
    stderr_path = os.path.join(cwd, f"s_client-{port}-{uuid.uuid4().hex[:8]}.stderr")
    with open(stderr_path, "wb") as stderr_file:
        process = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=stderr_file)
    regex = re.compile(expect, re.MULTILINE)
    out = b""
    matched = False
    try:
        if send:
            try:
                process.stdin.write(send)
                process.stdin.flush()
            except BrokenPipeError:
                pass
        os.set_blocking(process.stdout.fileno(), False)
        end = time.monotonic() + deadline_s
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while not matched:
                left = end - time.monotonic()
                if left <= 0 or not selector.select(timeout=min(left, 0.2)):
                    if left <= 0:
                        break
                    continue
                try:
                    chunk = os.read(process.stdout.fileno(), 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    break
                out += chunk
                matched = bool(regex.search(out.decode(errors="replace")))
        try:
            process.stdin.close()
        except BrokenPipeError:
            pass
        try:
            code = process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait(timeout=5)
        try:
            while chunk := os.read(process.stdout.fileno(), 65536):
                out += chunk
        except (BlockingIOError, OSError):
            pass
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        process.stdout.close()
    with open(stderr_path, errors="replace") as f:
        err = f.read()
    return code, out.decode(errors="replace"), err, matched


# --- stunnel ---------------------------------------------------------------------------------

def write_stunnel_client_config(directory, accept_port, connect_port, name="stunnel"):
    """A stunnel client-mode config (foreground, pid file, debug 3) in `directory`: plain TCP on
    127.0.0.1:accept_port, TLS to 127.0.0.1:connect_port without chain verification. Returns
    (config path, pid file path)."""
    config = os.path.join(directory, f"{name}.conf")
    pid_file = os.path.join(directory, f"{name}.pid")
    with open(config, "w") as f:
        f.write(f"foreground = yes\npid = {pid_file}\ndebug = 3\n\n"
                f"[sip]\nclient = yes\naccept = 127.0.0.1:{accept_port}\n"
                f"connect = 127.0.0.1:{connect_port}\nverifyChain = no\n")
    return config, pid_file


def read_pid_file(path, deadline_s=5.0):
    """The PID a daemon wrote to `path`, waiting for the file at most deadline_s."""
    def read():
        try:
            with open(path) as f:
                text = f.read().strip()
            return int(text) if text.isdigit() else None
        except FileNotFoundError:
            return None
    pid = support.wait_for(read, deadline_s)
    if pid is None:
        raise TestFailure(f"no PID in {path} after {deadline_s} s")
    return pid
