"""gosnoop serve's web: section (issue 15): TLS (libmicrohttpd with
GnuTLS), basic auth with bcrypt hashes as node_exporter's web config, and
/debug/probes kept to loopback clients. Checked with curl, the way a user
would, against certificates and hashes made here by openssl and
crypt(3)."""
import crypt
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import warnings

import gstest
from gstest import Skip
from test_serve import Daemon, own_record, parse_metrics, plain_run, private_fixture, wait_line, write_config



def need(tool):
    if not shutil.which(tool):
        raise Skip(f"{tool} missing (scripts/deps.sh)")


def make_cert(d, name):
    cert, key = os.path.join(d, f"{name}.crt"), os.path.join(d, f"{name}.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", f"/CN={name}",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def bcrypt(password):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # crypt is deprecated, not gone (3.11)
        h = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10))
    assert h.startswith("$2b$10$") and len(h) == 60, h
    return h


def curl(url, *args):
    """(HTTP status, body); status 0 when no HTTP answer came."""
    r = subprocess.run(["curl", "-s", "-m", "10", "-w", "\n%{http_code}", *args, url],
                       capture_output=True, text=True)
    body, _, code = r.stdout.rpartition("\n")
    return int(code or 0), body


def test_tls_and_basic_auth_with_curl():
    need("curl")
    need("openssl")
    d0 = gstest.tmpdir()
    cert, key = make_cert(d0, "one")
    path = private_fixture()
    cfg = write_config(f"""web:
  tls_cert_file: {cert}
  tls_key_file: {key}
  basic_auth_users:
    prom: '{bcrypt("s3cret pass")}'
    other: '{bcrypt("x")}'
targets:
  - binary: {path}
    count: [main.fib]
""")
    d = Daemon(cfg)
    assert any(f"on https://127.0.0.1:{d.port}/metrics" in l for l in d.stderr), d.stderr
    fib = own_record(plain_run(path).stdout)["counts"]["main.fib"]
    url = f"https://127.0.0.1:{d.port}"
    ca = ["--cacert", cert]
    # the server's certificate is the one configured: curl verifies it
    status, body = curl(url + "/metrics", *ca, "-u", "prom:s3cret pass")
    assert status == 200, (status, body)
    calls = [v for n, l, v in parse_metrics(body) if n == "gosnoop_function_calls_total"]
    assert calls == [fib], calls
    assert curl(url + "/metrics", *ca)[0] == 401                       # no user
    assert curl(url + "/metrics", *ca, "-u", "prom:s3cret")[0] == 401  # wrong password
    time.sleep(1.1)
    assert curl(url + "/metrics", *ca, "-u", "nobody:s3cret pass")[0] == 401
    time.sleep(1.1)
    assert curl(url + "/metrics", *ca, "-u", "other:s3cret pass")[0] == 401   # another's password
    assert curl(url + "/debug/probes", *ca)[0] == 401
    # after a wrong password a client waits a second before the next is
    # checked (bcrypt holds the HTTP thread ~0.25 s at cost 10): 30 wrong
    # ones in a row cost one check, and the right one is refused meanwhile
    # (each refusal starts the second again)
    for _ in range(30):
        assert curl(url + "/metrics", *ca, "-u", "prom:wrong")[0] == 401
    assert curl(url + "/debug/probes", *ca, "-u", "other:x")[0] == 401
    assert curl(url + "/healthz", *ca) == (200, "ok\n")
    time.sleep(1.1)
    assert curl(url + "/debug/probes", *ca, "-u", "other:x")[0] == 200
    # a kubelet's probe carries no password
    assert curl(url + "/healthz", *ca) == (200, "ok\n")
    # no plain HTTP on that port, and another CA is refused by curl
    assert curl(f"http://127.0.0.1:{d.port}/healthz")[0] != 200
    other_cert, _ = make_cert(d0, "two")
    assert curl(url + "/healthz", "--cacert", other_cert)[0] == 0
    # a reload with another certificate: the same port, the new one served
    cert2, key2 = make_cert(d0, "three")
    with open(cfg) as f:
        text = f.read().replace(cert, cert2).replace(key, key2)
    with open(cfg, "w") as f:
        f.write(text)
    d.p.send_signal(signal.SIGHUP)
    wait_line(d, r"reloaded .*: 1 targets \(1 kept")
    assert curl(url + "/healthz", "--cacert", cert2) == (200, "ok\n")
    assert curl(url + "/healthz", *ca)[0] == 0
    assert curl(url + "/metrics", "--cacert", cert2, "-u", "prom:s3cret pass")[0] == 200
    rc, secs = d.stop()
    assert rc == 0 and secs < 1.0, (rc, secs)


def test_bad_web_sections_exit_2_naming_the_line():
    d0 = gstest.tmpdir()
    need("openssl")
    cert, key = make_cert(d0, "one")
    cases = [
        (f"web:\n  tls_cert_file: {cert}\ntargets:\n  - binary: /bin/true\n",
         ":1: web: tls_cert_file and tls_key_file go together"),
        ("web:\n  basic_auth_users:\n    prom: plaintext\ntargets:\n  - binary: /bin/true\n",
         ":3: basic_auth_users: prom: not a bcrypt hash"),
        ("web:\n  tls_key_file: /nonexistent/k.pem\ntargets:\n  - binary: /bin/true\n",
         ":2: tls_key_file: cannot read /nonexistent/k.pem: No such file or directory"),
        ("web:\n  debug_probes: everyone\ntargets:\n  - binary: /bin/true\n",
         ":2: debug_probes: 'local' (loopback clients only, the default) or 'any'"),
        ("web:\n  tls_ca: x\ntargets:\n  - binary: /bin/true\n", ":2: unknown web key 'tls_ca'"),
    ]
    for text, want in cases:
        cfg = write_config(text)
        r = subprocess.run([gstest.GOSNOOP, "serve", "--config", cfg], capture_output=True,
                           text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert r.returncode == 2 and r.stderr.startswith(f"gosnoop: {cfg}{want}"), (text, r.stderr)
        assert r.stderr.count("\n") == 1, r.stderr


def host_address():
    """An address of this host that is not loopback, or Skip."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))      # no packet is sent: only the route is chosen
        ip = s.getsockname()[0]
    except OSError:
        ip = None
    finally:
        s.close()
    if not ip or ip.startswith("127."):
        raise Skip("no non-loopback address on this host")
    return ip


def test_debug_probes_answers_loopback_clients_only():
    need("curl")
    ip = host_address()
    path = private_fixture()
    body = f"targets:\n  - binary: {path}\n    count: [main.fib]\n"
    cfg = write_config(body)
    d = Daemon(cfg, "--no-watch", listen="0.0.0.0:0")
    assert any("not loopback" in l for l in d.stderr), d.stderr
    remote = f"http://{ip}:{d.port}"
    # from the host's own address: a client that is not on loopback
    status, text = curl(remote + "/debug/probes")
    assert status == 403 and "loopback clients only" in text, (status, text)
    assert curl(remote + "/metrics")[0] == 200
    assert curl(remote + "/healthz") == (200, "ok\n")
    status, text = curl(f"http://127.0.0.1:{d.port}/debug/probes")
    assert status == 200 and json.loads(text)["targets"][0]["binary"] == path, status
    # debug_probes: any, by a reload (no restart of the HTTP side)
    with open(cfg, "w") as f:
        f.write("web:\n  debug_probes: any\n" + body)
    d.p.send_signal(signal.SIGHUP)
    wait_line(d, r"reloaded .*: 1 targets \(1 kept")
    status, text = curl(remote + "/debug/probes")
    assert status == 200 and json.loads(text)["targets"][0]["binary"] == path, status
    rc, secs = d.stop()
    assert rc == 0 and secs < 1.0, (rc, secs)
