"""Helpers for gosnoop's end-to-end tests (run by tests/run).

Tests are plain functions test_*() with asserts; raise Skip("why") when
something they need is missing so that the run shows SKIP, never a pass.
"""
import csv
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

ROOT = os.environ.get("GOSNOOP_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GOSNOOP = os.environ.get("GOSNOOP") or os.path.join(ROOT, "build", "gosnoop")
FIXTURES = os.environ.get("GOSNOOP_FIXTURES") or os.path.join(ROOT, "build", "fixtures")
CORPUS = os.environ.get("GOSNOOP_CORPUS") or os.path.expanduser("~/.cache/gosnoop/corpus")

_procs = []
_tmpdirs = []


class Skip(Exception):
    pass


def run(args, timeout=120, check=True, **kw):
    """Run gosnoop with args; returns CompletedProcess (text)."""
    r = subprocess.run([GOSNOOP] + list(args), capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"gosnoop {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
    return r


# The first line of a Go program's own crash report (runtime/panic.go,
# signal_unix.go): a throw, an unrecovered panic, a fatal signal.
GO_CRASH = re.compile(r"^(fatal error: |panic: |SIG[A-Z]+: |unexpected fault address )", re.M)


def go_crash(text):
    """The whole crash report of a traced Go program in text (gosnoop's
    stderr with a -- CMD's own), from its first line on, or "" if none:
    for an assertion message, never cut to a tail (the fatal error line
    comes first, the goroutines after it run to pages)."""
    m = GO_CRASH.search(text)
    return text[m.start():] if m else ""


def tracee_ok(r, what="the traced program"):
    """Assert gosnoop -- CMD exited 0; a crash of the traced program is
    reported whole (fatal error, signal, PC, every goroutine, registers)."""
    crash = go_crash(r.stderr)
    assert not crash and r.returncode == 0, (
        f"{what} crashed (exit {r.returncode}); its whole report:\n{crash}" if crash
        else f"exit {r.returncode}: {r.stderr[-2000:]}")


def run_json(args, **kw):
    """gosnoop --json ...: the parsed JSON lines."""
    r = run(["--json"] + list(args), **kw)
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def fixture(name):
    p = os.path.join(FIXTURES, name)
    if not os.path.exists(p):
        raise Skip(f"fixture {p} missing (make fixtures)")
    return p


def corpus_manifest():
    """[{name, go_version, path, present}] for the esbuild corpus."""
    man = os.path.join(CORPUS, "MANIFEST.tsv")
    if not os.path.exists(man):
        raise Skip(f"no corpus manifest at {man} (scripts/fetch-go-corpus.sh {CORPUS})")
    rows = []
    with open(man) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            row["path"] = os.path.join(CORPUS, row["name"])
            rows.append(row)
    return rows


def corpus(name_part):
    for row in corpus_manifest():
        if name_part in row["name"]:
            if not os.path.exists(row["path"]):
                raise Skip(f"corpus binary {row['path']} missing")
            return row["path"]
    raise Skip(f"no corpus entry matching {name_part}")


def tmpdir():
    d = tempfile.mkdtemp(prefix="gosnoop-test-")
    _tmpdirs.append(d)
    return d


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(port, path, timeout=10):
    """GET http://127.0.0.1:PORT/PATH: (status, body bytes)."""
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.status, r.read()


def esbuild_serve(path, files, wait_path=None, timeout=20):
    """Start the esbuild at PATH with --serve on a free port and --servedir
    holding files ({relative path: bytes}); stdin stays open (esbuild >=
    0.14 stops when it closes). Returns (process, port, servedir) once
    wait_path (default: the first file) answers 200."""
    import time
    d = tmpdir()
    for name, body in files.items():
        full = os.path.join(d, name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(body)
    port = free_port()
    p = subprocess.Popen([path, f"--serve=127.0.0.1:{port}", f"--servedir={d}"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _procs.append(p)
    probe = "/" + (wait_path or next(iter(files)))
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if http_get(port, probe, timeout=2)[0] == 200:
                return p, port, d
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{path} did not serve on port {port}")


def spawn(args, **kw):
    """Start a background process that cleanup() kills."""
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, **kw)
    _procs.append(p)
    return p


def nm_text_symbols(path):
    """{name: {addr, ...}} of text symbols, from binutils nm (independent
    of us). A name can have two addresses: Go's ABI0 and ABIInternal
    versions of one function."""
    out = subprocess.run(["nm", path], capture_output=True, text=True, check=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[1] in "Tt":
            syms.setdefault(parts[2], set()).add(int(parts[0], 16))
    return syms


def strip_copy(path):
    """A stripped copy of path (objcopy --strip-all keeps .gopclntab)."""
    d = tmpdir()
    out = os.path.join(d, os.path.basename(path) + ".stripped")
    subprocess.run(["objcopy", "--strip-all", path, out], check=True)
    return out


def cleanup():
    for p in _procs:
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()
    _procs.clear()
    for d in _tmpdirs:
        shutil.rmtree(d, ignore_errors=True)
    _tmpdirs.clear()


def lines_of(stream):
    """A queue the lines of stream arrive on, read by a thread (a blocking
    readline could wait forever for a line that never comes). Kept on the
    stream itself: an id() can be reused once a stream is gone."""
    q = getattr(stream, "_gosnoop_lines", None)
    if q is None:
        q = queue.Queue()
        stream._gosnoop_lines = q

        def pump():
            try:
                for line in iter(stream.readline, ""):
                    q.put(line)
            except (ValueError, OSError):   # closed by communicate()
                pass
            q.put(None)
        threading.Thread(target=pump, daemon=True).start()
    return q


def wait_for(stream, pattern, timeout=30):
    """Read lines from stream until one matches; returns the lines."""
    q = lines_of(stream)
    lines = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            line = q.get(timeout=max(0.01, deadline - time.time()))
        except queue.Empty:
            break
        if line is None:
            break
        lines.append(line)
        if re.search(pattern, line):
            return lines
    raise AssertionError(f"no line matching {pattern!r} in {lines!r}")


def json_records_until(stream, keep, count, timeout=10):
    """JSON records from the lines of stream that keep(record) accepts,
    until count of them (or the stream ends, or timeout seconds pass)."""
    q = lines_of(stream)
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        try:
            line = q.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            break
        rec = json.loads(line)
        if keep(rec):
            got.append(rec)
    return got
