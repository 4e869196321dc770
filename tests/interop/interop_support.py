"""Process plumbing shared by the interop and end-to-end tests (stdlib only).

Each test script imports this module, starts its own `rtconn serve` / SIPp processes on loopback,
stops them by PID with bounded waits and prints one result line. Nothing here talks to anything but
127.0.0.1 and ::1.
"""

import argparse
import contextlib
import csv
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = os.path.join(HERE, "scenarios")
SIPP = shutil.which("sipp") or "/usr/bin/sipp"


class TestFailure(Exception):
    """A check failed: the message says what was expected and what was seen."""


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rtconn", required=True, help="path to the rtconn binary")
    arguments = parser.parse_args()
    arguments.rtconn = os.path.abspath(arguments.rtconn)
    if not os.access(arguments.rtconn, os.X_OK):
        parser.error(f"not an executable: {arguments.rtconn}")
    return arguments


def run_test(name, body):
    """Runs body() and prints `<name>: PASS|FAIL ... (<seconds> s)`; exits 0 only on PASS.

    body returns a short summary for the PASS line. Processes registered with a ProcessGroup are
    stopped by the body's `with` block before the result is printed."""
    start = time.monotonic()
    try:
        summary = body()
    except TestFailure as failure:
        print(f"{name}: FAIL: {failure} ({time.monotonic() - start:.1f} s)", flush=True)
        sys.exit(1)
    except Exception as error:  # an unexpected error is a failure too, with its type
        print(f"{name}: FAIL: {type(error).__name__}: {error} ({time.monotonic() - start:.1f} s)",
              flush=True)
        sys.exit(1)
    print(f"{name}: PASS: {summary} ({time.monotonic() - start:.1f} s)", flush=True)
    sys.exit(0)


def require_sipp():
    check(os.access(SIPP, os.X_OK), f"SIPp is not installed ({SIPP}); install Debian's sip-tester")


# --- ports -----------------------------------------------------------------------------------

def free_port(host="127.0.0.1", kind=socket.SOCK_STREAM):
    """A port the kernel just handed out for `host` (TCP by default), free when this returns.

    For peers that cannot take port 0 and report what they got (SIPp's -p: 0 means 5060)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def own_loopback_address():
    """A loopback address of this process's own (127.200-249.x.1, from the PID): sockets that SIPp
    binds there before connecting find ports that no other test's TIME_WAIT holds."""
    pid = os.getpid()
    return f"127.{200 + pid % 50}.{pid // 50 % 250 + 1}.1"


def free_tcp_udp_port(host="127.0.0.1", attempts=50):
    """A port free for both TCP and UDP on host (SIPp binds its -p port for both)."""
    for _ in range(attempts):
        port = free_port(host)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind((host, port))
            return port
        except OSError:
            continue
    raise TestFailure(f"no port free for both TCP and UDP on {host} after {attempts} tries")


def closed_port(host="127.0.0.1"):
    """A TCP port nothing listens on (bound and released; the kernel will refuse connections)."""
    return free_port(host)


def tcp_listening(port):
    """True if some socket on this machine listens on TCP `port` (from /proc/net/tcp{,6}).

    Reading the kernel's table does not disturb the listener the way a test connection would."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, state = fields[1], fields[3]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        return True
        except FileNotFoundError:
            continue
    return False


def wait_listening(process, port, deadline_s=10.0):
    """Waits until something listens on TCP `port`; fails early if `process` exits first."""
    end = time.monotonic() + deadline_s
    while not tcp_listening(port):
        if not process.running():
            raise TestFailure(f"{process.name} exited (code {process.popen.returncode}) before "
                              f"listening on TCP port {port}; {process.stderr_tail()}; "
                              f"stdout tail {tail_of(process.stdout_text())!r}")
        if time.monotonic() >= end:
            raise TestFailure(f"{process.name} not listening on TCP port {port} after "
                              f"{deadline_s} s")
        time.sleep(0.05)


# --- processes -------------------------------------------------------------------------------

class Process:
    """A started child: its PID, its stdout/stderr files and a bounded stop."""

    def __init__(self, name, argv, cwd, stdout_path=None, stderr_path=None, pipe_stdout=False):
        self.name = name
        self.argv = argv
        self.stdout_path = stdout_path or os.path.join(cwd, f"{name}.stdout")
        self.stderr_path = stderr_path or os.path.join(cwd, f"{name}.stderr")
        self._stderr = open(self.stderr_path, "wb")
        if pipe_stdout:
            self._stdout = None
            stdout = subprocess.PIPE
        else:
            self._stdout = open(self.stdout_path, "wb")
            stdout = self._stdout
        self.popen = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout,
                                      stderr=self._stderr)
        self.pid = self.popen.pid
        self.stdout_lines = []  # lines read through the pipe so far (pipe_stdout=True)
        self._partial = b""

    def read_lines_until(self, pattern, count, deadline_s):
        """Reads stdout (a pipe) until `count` lines match `pattern`; returns their match objects.

        Fails if the process exits or the deadline passes first; the stderr tail goes into the
        message."""
        regex = re.compile(pattern)
        matches = [m for m in map(regex.search, self.stdout_lines) if m]
        end = time.monotonic() + deadline_s
        stream = self.popen.stdout
        os.set_blocking(stream.fileno(), False)
        with selectors.DefaultSelector() as selector:
            selector.register(stream, selectors.EVENT_READ)
            while len(matches) < count:
                left = end - time.monotonic()
                if left <= 0:
                    raise TestFailure(f"{self.name}: {len(matches)} of {count} lines matching "
                                      f"{pattern!r} within {deadline_s} s; stdout so far "
                                      f"{self.stdout_lines!r}; {self.stderr_tail()}")
                if not selector.select(timeout=min(left, 0.2)):
                    continue
                try:
                    chunk = os.read(stream.fileno(), 65536)
                except BlockingIOError:
                    continue
                if not chunk:  # EOF: it exited (or closed stdout)
                    code = self.popen.wait(timeout=5)
                    raise TestFailure(f"{self.name} exited (code {code}) after {len(matches)} "
                                      f"of {count} lines matching {pattern!r}; stdout "
                                      f"{self.stdout_lines!r}; {self.stderr_tail()}")
                self._partial += chunk
                *complete, self._partial = self._partial.split(b"\n")
                for raw in complete:
                    line = raw.decode(errors="replace").rstrip("\r")
                    self.stdout_lines.append(line)
                    match = regex.search(line)
                    if match:
                        matches.append(match)
        return matches[:count]

    def running(self):
        return self.popen.poll() is None

    def signal_and_wait(self, signum=signal.SIGTERM, deadline_s=5.0):
        """Sends signum to this PID and waits at most deadline_s for it to exit.

        Returns (exit code, seconds it took) or (None, deadline) if it did not exit in time; it is
        then still running (stop() kills it)."""
        if not self.running():
            return self.popen.returncode, 0.0
        start = time.monotonic()
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass
        try:
            code = self.popen.wait(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            return None, deadline_s
        return code, time.monotonic() - start

    def wait(self, deadline_s):
        """Waits at most deadline_s for a process that ends by itself; kills it if it does not."""
        try:
            return self.popen.wait(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            self.stop()
            raise TestFailure(f"{self.name} did not finish within {deadline_s} s "
                              f"(killed); {self.stderr_tail()}")

    def stop(self, grace_s=5.0):
        """SIGTERM by PID, a bounded wait, then SIGKILL. Returns the exit code."""
        if self.running():
            code, _ = self.signal_and_wait(signal.SIGTERM, grace_s)
            if code is None:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                try:
                    self.popen.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        self.close_files()
        return self.popen.returncode

    def close_files(self):
        if self.popen.stdout is not None and not self.popen.stdout.closed:
            if not self.running():  # keep what it wrote after the lines read so far
                try:
                    while chunk := os.read(self.popen.stdout.fileno(), 65536):
                        self._partial += chunk
                except OSError:
                    pass
            self.popen.stdout.close()
        if self._partial:
            self.stdout_lines.extend(
                line.rstrip("\r") for line in self._partial.decode(errors="replace").split("\n")
                if line)
            self._partial = b""
        for handle in (self._stdout, self._stderr):
            if handle is not None and not handle.closed:
                handle.close()

    def stdout_text(self):
        if self._stdout is None:
            return "\n".join(self.stdout_lines)
        if not self._stdout.closed:
            self._stdout.flush()
        return self._whole_lines(self.stdout_path)

    def stderr_text(self):
        """What the process has written to stderr; see _whole_lines."""
        if not self._stderr.closed:
            self._stderr.flush()
        return self._whole_lines(self.stderr_path)

    def _whole_lines(self, path):
        """The file's text; while the process runs, only whole lines: a line it is still writing
        would match a log pattern cut short (CI once read 'remote certificate not ' for 'remote
        certificate not trusted')."""
        with open(path, errors="replace") as f:
            text = f.read()
        return text[:text.rfind("\n") + 1] if self.running() else text

    def stderr_tail(self, lines=8):
        tail = self.stderr_text().strip().splitlines()[-lines:]
        return f"{self.name} stderr tail: {tail!r}" if tail else f"{self.name} stderr empty"


class ProcessGroup:
    """Owns the processes a test starts; leaving the `with` block stops any still running."""

    def __init__(self):
        self.processes = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for process in reversed(self.processes):
            process.stop()
        return False

    def start(self, name, argv, cwd, **kwargs):
        process = Process(name, argv, cwd, **kwargs)
        self.processes.append(process)
        return process


def run(argv, cwd, deadline_s, name=None):
    """Runs a command to completion with a deadline; returns (exit code, stdout, stderr)."""
    try:
        done = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=deadline_s)
    except subprocess.TimeoutExpired as expired:
        raise TestFailure(f"{name or argv[0]} did not finish within {deadline_s} s "
                          f"(killed); stderr tail {tail_of(expired.stderr)!r}")
    return (done.returncode, done.stdout.decode(errors="replace"),
            done.stderr.decode(errors="replace"))


def tail_of(data, lines=8):
    if not data:
        return []
    text = data.decode(errors="replace") if isinstance(data, bytes) else data
    return text.strip().splitlines()[-lines:]


# --- rtconn serve ----------------------------------------------------------------------------

LISTENING_RE = r"^listening tcp (\S+)$"
# Any of serve's `listening tcp|tls|mtls ADDR` lines: group 1 the transport, group 2 the address.
LISTENING_ANY_RE = r"^listening (tcp|tls|mtls) (\S+)$"


def start_serve(group, rtconn, cwd, addresses, quiet=False, name="serve", deadline_s=10.0):
    """Starts `rtconn serve --tcp A ...` and reads one `listening tcp` line per address.

    Returns (process, [(host, port), ...]) in the order serve printed them; its event log (one
    line per connection added/removed unless quiet) goes to process.stderr_path."""
    process, listening = start_serve_transports(group, rtconn, cwd, tcp=addresses, quiet=quiet,
                                                name=name, deadline_s=deadline_s)
    return process, listening["tcp"]


def start_serve_transports(group, rtconn, cwd, tcp=(), tls=(), mtls=(), extra=(), quiet=False,
                           name="serve", deadline_s=10.0):
    """Starts `rtconn serve` with --tcp/--tls/--mtls addresses (and `extra` arguments such as
    --store DIR, --cert-issuer X --cert-serial HEX) and reads one `listening KIND ADDR` line per
    address.

    Returns (process, {"tcp": [(host, port), ...], "tls": [...], "mtls": [...]}), each list in the
    order serve printed it."""
    argv = [rtconn, "serve"]
    for option, addresses in (("--tcp", tcp), ("--tls", tls), ("--mtls", mtls)):
        for address in addresses:
            argv += [option, address]
    argv += list(extra)
    if quiet:
        argv.append("--quiet")
    process = group.start(name, argv, cwd, pipe_stdout=True)
    expected = len(tcp) + len(tls) + len(mtls)
    matches = process.read_lines_until(LISTENING_ANY_RE, expected, deadline_s)
    listening = {"tcp": [], "tls": [], "mtls": []}
    for match in matches:
        listening[match.group(1)].append(split_endpoint(match.group(2)))
    for kind, addresses in (("tcp", tcp), ("tls", tls), ("mtls", mtls)):
        check(len(listening[kind]) == len(addresses),
              f"{name} printed {len(listening[kind])} `listening {kind}` lines for "
              f"{len(addresses)} --{kind} addresses; stdout {process.stdout_lines!r}")
    return process, listening


def split_endpoint(text):
    """'127.0.0.1:5060' or '[::1]:5060' -> (host, port)."""
    match = re.fullmatch(r"\[([^\]]+)\]:(\d+)|([^:\[\]]+):(\d+)", text)
    if not match:
        raise TestFailure(f"not an address:port: {text!r}")
    if match.group(1):
        return match.group(1), int(match.group(2))
    return match.group(3), int(match.group(4))


def uri_host(host):
    return f"[{host}]" if ":" in host else host


def stop_serve(process, signum=signal.SIGTERM, deadline_s=5.0):
    """Checks serve is still running (it did not die during the test), signals it by PID and
    checks it exits 0 within deadline_s; returns seconds it took."""
    check(process.running(), f"{process.name} exited early; {process.stderr_tail()}")
    code, took = process.signal_and_wait(signum, deadline_s)
    name = signal.Signals(signum).name
    if code is None:
        process.stop(grace_s=0.5)
        raise TestFailure(f"{process.name} still running {deadline_s} s after {name} "
                          f"(killed); {process.stderr_tail()}")
    check(code == 0, f"{process.name} exited {code} after {name}, expected 0; "
                     f"{process.stderr_tail()}")
    process.close_files()
    return took


PING_SUMMARY_RE = (r"^--- (?P<uri>\S+) ping: (?P<sent>\d+) sent, (?P<ok>\d+) answered 2xx, "
                   r"(?P<failed>\d+) failed(?:, (?P<pongs>\d+) keep-alives received)? ---$")


def ping_summary(stdout_text):
    """`rtconn ping`'s summary line as a dict of ints (sent, ok, failed; pongs with --keep-alive,
    else None) plus the uri."""
    matches = list(re.finditer(PING_SUMMARY_RE, stdout_text, re.MULTILINE))
    check(len(matches) == 1, f"expected one ping summary line, found {len(matches)} in "
                             f"{tail_of(stdout_text)!r}")
    found = matches[0].groupdict()
    return {"uri": found["uri"], "sent": int(found["sent"]), "ok": int(found["ok"]),
            "failed": int(found["failed"]),
            "pongs": int(found["pongs"]) if found["pongs"] is not None else None}


CALL_SUMMARY_RE = (r"^--- (?P<uri>\S+) call: (?P<calls>\d+) calls, (?P<completed>\d+) completed, "
                   r"(?P<failed>\d+) failed ---$")


def call_summary(stdout_text):
    """`rtconn call`'s summary line as (calls, completed, failed)."""
    matches = list(re.finditer(CALL_SUMMARY_RE, stdout_text, re.MULTILINE))
    check(len(matches) == 1, f"expected one call summary line, found {len(matches)} in "
                             f"{tail_of(stdout_text)!r}")
    found = matches[0].groupdict()
    return int(found["calls"]), int(found["completed"]), int(found["failed"])


def in_namespace(hosts_file, argv):
    """argv run in a mount namespace of its own where `hosts_file` is /etc/hosts (`unshare -m`,
    `mount --bind`: the machine's own /etc/hosts is untouched)."""
    return ["unshare", "--mount", "sh", "-c",
            'mount --bind "$0" /etc/hosts && exec "$@"', hosts_file, *argv]


def hosts_file_naming(tmp, name, addresses):
    """Writes a hosts file in `tmp` naming `name` with `addresses`, checks that glibc returns
    them in that order inside in_namespace (or a test would prove nothing), returns its path."""
    hosts = f"{tmp}/hosts"
    with open(hosts, "w", encoding="ascii") as f:
        f.write("127.0.0.1 localhost\n")
        f.writelines(f"{address} {name}\n" for address in addresses)
    code, out, err = run(in_namespace(hosts, ["getent", "ahosts", name]), tmp, deadline_s=10,
                         name="getent")
    order = [line.split()[0] for line in out.splitlines() if "STREAM" in line]
    check(code == 0 and order == list(addresses),
          f"{name} in the namespace resolves to {order} (exit {code}, {err.strip()!r}), "
          f"expected {list(addresses)}")
    return hosts


def ping_all_answered(argv, cwd, count, what, deadline_s=30):
    """Runs `rtconn ping` (argv), which must exit 0 with all `count` requests answered 2xx;
    returns its stdout. `what` names the run in the failure message."""
    code, out, err = run(argv, cwd, deadline_s=deadline_s, name="rtconn ping")
    summary = ping_summary(out)
    check(code == 0 and (summary["sent"], summary["ok"]) == (count, count),
          f"{what}: exit {code}, {summary}; {tail_of(out + err)!r}")
    return out


def count_connection_events(stderr_text):
    """Counts serve's `incoming connection added` / `removed` event lines (logged unless --quiet)."""
    added = len(re.findall(r"\] incoming connection added: #\d+", stderr_text))
    removed = len(re.findall(r"\] incoming connection removed: ", stderr_text))
    return added, removed


def wait_connection_events(serve, enough, deadline_s):
    """Polls serve's connection event counts until enough(added, removed) holds or deadline_s
    passes; returns the last (added, removed)."""
    end = time.monotonic() + deadline_s
    while True:
        added, removed = count_connection_events(serve.stderr_text())
        if enough(added, removed) or time.monotonic() >= end:
            return added, removed
        time.sleep(0.05)


TLS_FAILURE_RE = r"\] TLS negotiation failed with (?P<peer>\S+): (?P<reason>.*)$"


def tls_failures(stderr_text):
    """serve's `TLS negotiation failed with ADDR: REASON DETAIL` lines as (peer, reason) pairs."""
    return [(m.group("peer"), m.group("reason"))
            for m in re.finditer(TLS_FAILURE_RE, stderr_text, re.MULTILINE)]


def wait_for(predicate, deadline_s=5.0, interval_s=0.05):
    """Polls predicate() until it returns something true or deadline_s passes; returns its last
    value (bounded: never waits longer than deadline_s plus one call)."""
    end = time.monotonic() + deadline_s
    while True:
        value = predicate()
        if value or time.monotonic() >= end:
            return value
        time.sleep(interval_s)


# --- SIPp ------------------------------------------------------------------------------------

def sipp_argv(scenario, stat_file, local_port, extra, remote=None, calls=None,
              local_ip="127.0.0.1"):
    """SIPp's command line for an unattended run: loopback, a given local port, no stdin, a call
    count, a global time-out that fails the run, and the statistics CSV (-trace_stat -stf).
    `scenario` is a file of tests/interop/scenarios, or without .xml one SIPp has built in."""
    source = ["-sf", os.path.join(SCENARIOS, scenario)] if scenario.endswith(".xml") \
        else ["-sn", scenario]
    argv = [SIPP, *source,
            "-i", local_ip, "-p", str(local_port),
            "-nostdin", "-timeout", "60s", "-timeout_error",
            "-trace_stat", "-stf", stat_file, "-fd", "1"]
    if calls is not None:
        argv += ["-m", str(calls)]
    argv += list(extra)
    if remote:
        argv.append(remote)
    return argv


def read_sipp_stats(path):
    """Totals from the last line of SIPp's -trace_stat CSV: a dict of column -> int for the
    cumulative (C) counters, with 'SuccessfulCall', 'FailedCall', ... as short names too."""
    check(os.path.exists(path), f"SIPp wrote no statistics file {path}")
    with open(path, newline="", errors="replace") as f:
        rows = [row for row in csv.reader(f, delimiter=";") if row]
    check(len(rows) >= 2, f"SIPp statistics file {path} has no data line")
    header, last = rows[0], rows[-1]
    totals = {}
    for name, value in zip(header, last):
        if name.endswith("(C)"):
            try:
                totals[name] = int(value)
                totals[name[:-3]] = int(value)
            except ValueError:
                pass
    for needed in ("SuccessfulCall(C)", "FailedCall(C)"):
        check(needed in totals, f"column {needed} missing from {path}: header {header!r}")
    return totals


def finish_sipp_uas(sipp, stat_file, error_file, calls, what, deadline_s=30):
    """Waits for a SIPp UAS run with -m `calls`; fails unless it exited 0 having counted `calls`
    incoming and successful calls and none failed. `what` names the run in failures."""
    code = sipp.wait(deadline_s=deadline_s)
    stats = read_sipp_stats(stat_file)
    tail = sipp_error_tail(sipp.stdout_text(), error_file)
    check(code == 0, f"{what} exited {code}, expected 0; {tail}")
    counted = (stats.get("IncomingCall", -1), stats["SuccessfulCall"], stats["FailedCall"])
    check(counted == (calls, calls, 0),
          f"{what} counted {counted[0]} incoming, {counted[1]} successful, {counted[2]} failed "
          f"calls; expected {calls}, {calls}, 0; {tail}")


class SippUac:
    """SIPp sending `scenario` (by default options_uac.xml: one OPTIONS per call, 200 expected)
    to `remote` for `calls` calls; `extra` chooses transport, rate and limits. It runs while the
    test does other things; `finish` then waits for it and requires every call to have
    succeeded."""

    def __init__(self, group, cwd, name, remote, calls, extra, local_ip="127.0.0.1",
                 scenario="options_uac.xml"):
        self.calls = calls
        self.stat_file = os.path.join(cwd, f"{name}_stat.csv")
        self.error_file = os.path.join(cwd, f"{name}_errors.log")
        self.process = group.start("sipp", sipp_argv(
            scenario, self.stat_file, free_tcp_udp_port(local_ip),
            list(extra) + ["-trace_err", "-error_file", self.error_file],
            remote=remote, calls=calls, local_ip=local_ip), cwd)

    def finish(self, deadline_s, context=lambda: ""):
        """Waits for SIPp; fails unless it exited 0 having counted `calls` successful calls and
        none failed. `context()` adds what else a failure message should show. Returns the totals
        of SIPp's statistics file."""
        code = self.process.wait(deadline_s=deadline_s)
        stats = read_sipp_stats(self.stat_file)
        tail = sipp_error_tail(self.process.stdout_text(), self.error_file)
        # Which kind of failure (FailedTcpConnect, FailedTimeoutOnRecv, ...): the first clue.
        kinds = {name: value for name, value in stats.items()
                 if name.startswith("Failed") and "(" not in name and name != "FailedCall" and value}
        check(code == 0, f"SIPp exited {code}, expected 0; totals {stats['SuccessfulCall']} ok/"
                         f"{stats['FailedCall']} failed {kinds}; {tail}; {context()}")
        check(stats["SuccessfulCall"] == self.calls and stats["FailedCall"] == 0,
              f"SIPp counted {stats['SuccessfulCall']} successful and {stats['FailedCall']} "
              f"failed calls {kinds}, expected {self.calls} and 0; {tail}; {context()}")
        return stats


@contextlib.contextmanager
def serve_loaded_by_sipp_uac(rtconn, prefix, sipp_name, calls, sipp_options, deadline_s,
                             local_ip="127.0.0.1"):
    """`rtconn serve --tcp 127.0.0.1:0` in a temporary directory (named with `prefix`), logging
    each incoming connection added/removed (stderr), and a SippUac `sipp_name` sending it `calls`
    OPTIONS with `sipp_options` from `local_ip`, waited for at most deadline_s (finish: every
    call answered). Yields (serve, SIPp's totals) once serve is checked to have lived through the
    run; leaving the block stops serve if it still runs, then removes the directory."""
    require_sipp()
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp, ProcessGroup() as group:
        serve, [(host, port)] = start_serve(group, rtconn, tmp, ["127.0.0.1:0"])
        stats = SippUac(group, tmp, sipp_name, f"{host}:{port}", calls, sipp_options,
                        local_ip=local_ip).finish(deadline_s=deadline_s)
        check(serve.running(), f"serve exited during the run; {serve.stderr_tail()}")
        yield serve, stats


def sipp_error_tail(stdout_text, error_file=None, lines=6, first_lines=16):
    """The start and the end of SIPp's error log (the first error is what went wrong; what
    follows is often SIPp aborting the call), or the end of its screen output, for a failure
    message; its watchdog's overload warnings (a busy machine, not an error) are left out."""
    text = ""
    if error_file and os.path.exists(error_file):
        with open(error_file, errors="replace") as f:
            text = f.read()
    head = 0
    if text.strip():
        head = first_lines
    else:
        text = stdout_text
    kept = [line for line in text.strip().splitlines()
            if line.strip() and "Overload warning" not in line]
    if len(kept) <= head + lines:
        return kept
    return (kept[:head] + ["..."] if head else []) + kept[-lines:]
