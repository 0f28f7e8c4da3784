"""Prometheus native histograms from gosnoop serve: a real Prometheus
(Debian's 2.42, --enable-feature=native-histograms) asks for the protobuf
exposition, and its query API must return, for the fixture's functions,
native histograms whose count is the fixture's own call count, whose sum
is the text format's exact _sum, and whose buckets hold what the text's
log2 buckets hold, mapped as docs/serve.md says (slot k, [2^k, 2^(k+1))
ns, is schema-0 bucket k-29; slot 0, 0 and 1 ns, is the zero bucket of
threshold 1 ns). Each of main.sleep10ms's calls, timed by the fixture
itself, must be in the bucket that mapping puts it in. A client that does
not ask for protobuf gets the text format as before."""
import json
import math
import time
import urllib.parse
import urllib.request

from test_serve import (Daemon, Prometheus, own_record, parse_metrics, plain_run,
                        private_fixture, write_config)

PROTO = ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
         "encoding=delimited")
SHIFT = 29          # ns -> schema-0 bucket: slot k is bucket k - 29
SLACK = 1_000_000   # ns: the fixture and gosnoop time a call differently (preemption)


def bucket_of(ns):
    """The schema-0 bucket (lo, hi] in seconds that the slot of a
    duration of ns nanoseconds maps to."""
    i = int(ns).bit_length() - 1 - SHIFT
    return (2.0 ** (i - 1), 2.0 ** i)


def fetch(port, accept=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                 headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.headers.get("Content-Type"), r.read()


def native_query(prom, q):
    """[(labels, {count, sum, buckets: [(rule, lo, hi, n)]})] of an
    instant query whose result is native histograms."""
    url = f"http://127.0.0.1:{prom.port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.loads(r.read())
    assert body["status"] == "success", body
    out = []
    for s in body["data"]["result"]:
        if "histogram" not in s:
            continue
        h = s["histogram"][1]
        out.append((s["metric"], {
            "count": float(h["count"]), "sum": float(h["sum"]),
            "buckets": [(b[0], float(b[1]), float(b[2]), float(b[3]))
                        for b in h.get("buckets", [])]}))
    return out


def text_slots(samples, function):
    """{slot k: calls} of one function from the text format's cumulative
    log2 buckets (le = 2^(k+1)-1 ns, the last +Inf), and its _sum."""
    cum = [(l["le"], v) for n, l, v in samples
           if n == "gosnoop_function_duration_seconds_bucket" and l["function"] == function]
    slots, prev = {}, 0
    for k, (le, v) in enumerate(cum):
        if le != "+Inf":
            assert round(float(le) * 1e9) == (1 << (k + 1)) - 1, (k, le)
        if v - prev:
            slots[k] = v - prev
        prev = v
    (s,) = [v for n, l, v in samples
            if n == "gosnoop_function_duration_seconds_sum" and l["function"] == function]
    return slots, s


def expected_buckets(slots):
    """What Prometheus should show for those slots: {(lo, hi): n}."""
    out = {}
    for k, n in slots.items():
        if k == 0:
            out[(-1e-9, 1e-9)] = n
        else:
            i = k - SHIFT
            out[(2.0 ** (i - 1), 2.0 ** i)] = n
    return out


def test_native_histograms_in_prometheus():
    path = private_fixture()
    cfg = write_config(f"targets:\n  - binary: {path}\n    count: [main.fib]\n"
                       f"    latency: [main.classify, main.sleep10ms, main.leaf]\n")
    d = Daemon(cfg)
    prom = Prometheus(d.port, ["--enable-feature=native-histograms"])
    try:
        rec = own_record(plain_run(path).stdout)
        own = rec["counts"]
        sel = f'{{job="gosnoop",binary="{path}"}}'
        # the counter arrives as before (Prometheus now scrapes protobuf)
        prom.wait_for(f"gosnoop_function_calls_total{sel}", {"main.fib": own["main.fib"]})
        want = {"main.classify": own["main.classify"],
                "main.sleep10ms": own["main.sleep10ms"], "main.leaf": own["main.leaf"]}
        got = {}
        for _ in range(60):     # Prometheus scrapes every second
            got = {l["function"]: h for l, h in
                   native_query(prom, f"gosnoop_function_duration_seconds{sel}")}
            if {f: h["count"] for f, h in got.items()} == want:
                break
            time.sleep(0.5)
        assert {f: h["count"] for f, h in got.items()} == want, (got, want)
        # the text format, to a client that does not ask for protobuf
        ctype, body = fetch(d.port)
        assert ctype.startswith("text/plain; version=0.0.4"), ctype
        samples = parse_metrics(body.decode())
        for func in want:
            slots, total = text_slots(samples, func)
            h = got[func]
            assert math.isclose(h["sum"], total, rel_tol=1e-12), (func, h["sum"], total)
            shown = {(lo, hi): n for _, lo, hi, n in h["buckets"]}
            assert shown == expected_buckets(slots), (func, shown, slots)
        # ground truth: each 10 ms sleep the fixture timed itself lies in
        # the bucket of its slot (slot k = floor(log2(ns))); the fixture
        # times inside the call, gosnoop from entry to RET, so a sleep
        # within SLACK of a slot's edge may be on either side of it
        shown = {(lo, hi): n for _, lo, hi, n in got["main.sleep10ms"]["buckets"]}
        assert sum(shown.values()) == len(rec["sleep_ns"]), (shown, rec["sleep_ns"])
        for key, n in shown.items():
            surely = sum(1 for ns in rec["sleep_ns"]
                         if {bucket_of(ns - SLACK), bucket_of(ns + SLACK)} == {key})
            maybe = sum(1 for ns in rec["sleep_ns"]
                        if key in (bucket_of(ns - SLACK), bucket_of(ns + SLACK)))
            assert surely <= n <= maybe, (key, n, shown, rec["sleep_ns"])
        # and Prometheus' own median lies in the bucket holding the
        # middle call
        (q,) = prom.query(f'histogram_quantile(0.5, gosnoop_function_duration_seconds'
                          f'{{job="gosnoop",function="main.sleep10ms"}})')
        cum = 0
        for lo, hi in sorted(shown):
            cum += shown[(lo, hi)]
            if cum >= len(rec["sleep_ns"]) / 2:
                break
        assert lo < q[1] <= hi, (q, lo, hi, shown)
    finally:
        assert prom.stop() == 0
    rc, secs = d.stop()
    assert rc == 0 and secs < 5.0, (rc, secs)


def test_content_negotiation():
    """protobuf only when asked, with a q above 0; the same families."""
    path = private_fixture()
    cfg = write_config(f"targets:\n  - binary: {path}\n    latency: [main.sleep10ms]\n")
    d = Daemon(cfg)
    own = own_record(plain_run(path).stdout)["counts"]
    ctype, body = fetch(d.port, PROTO + ";q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2")
    assert ctype.startswith("application/vnd.google.protobuf") and \
        "encoding=delimited" in ctype, ctype
    names = []
    pos = 0
    while pos < len(body):      # delimited: varint length, MetricFamily
        n, shift = 0, 0
        while True:
            b = body[pos]
            pos += 1
            n |= (b & 0x7f) << shift
            shift += 7
            if b < 0x80:
                break
        msg = body[pos:pos + n]
        pos += n
        assert msg[0] == 0x0a, msg[:8]           # field 1 (name), length-delimited
        names.append(msg[2:2 + msg[1]].decode())
    text_names = [l.split()[2] for l in fetch(d.port)[1].decode().splitlines()
                  if l.startswith("# HELP")]
    # families with samples, in the same order
    samples = parse_metrics(fetch(d.port)[1].decode())
    with_samples = [n for n in text_names
                    if any(s[0] == n or s[0].startswith(n + "_") for s in samples)]
    assert names == with_samples, (names, with_samples)
    assert own["main.sleep10ms"] > 0
    for accept in [None, "text/plain", PROTO + ";q=0", "application/json"]:
        ctype, _ = fetch(d.port, accept)
        assert ctype.startswith("text/plain"), (accept, ctype)
    rc, _ = d.stop()
    assert rc == 0
