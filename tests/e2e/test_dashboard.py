"""deploy/grafana-dashboard.json: valid JSON in Grafana's import format
(a Prometheus data source input, panels that do not overlap on the
24-column grid), whose queries name only metrics a live gosnoop serve
exports (taken from a scrape of the daemon here, with count, latency and
sched on a running fixture, not from a list), and which two real
Prometheus servers (Debian's 2.42, one scraping text, one protobuf with
native histograms) accept as PromQL and answer with data for every
panel."""
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import gstest
from gstest import fixture
from test_serve import Daemon, Prometheus, parse_metrics, write_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DASHBOARD = os.path.join(ROOT, "deploy", "grafana-dashboard.json")
DS_UID = "${DS_PROMETHEUS}"
# a metric selector in PromQL: a name followed by { or [ (every query
# here selects with labels or a range)
SELECTOR = re.compile(r"(?<![\w$])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=\{|\[)")
# and any gosnoop name wherever it stands (label_values(NAME, label))
OURS = re.compile(r"\bgosnoop_[a-z0-9_]+")


def load():
    with open(DASHBOARD) as f:
        return json.load(f)


def queries(dash):
    """[(panel title, [expr])] of every panel that has queries."""
    return [(p["title"], [t["expr"] for t in p["targets"]])
            for p in dash["panels"] if p["type"] != "row"]


def test_dashboard_is_grafana_importable():
    dash = load()
    (inp,) = dash["__inputs"]
    assert (inp["name"], inp["type"], inp["pluginId"]) == \
        ("DS_PROMETHEUS", "datasource", "prometheus"), inp
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)), ids
    cells = {}
    for p in dash["panels"]:
        g = p["gridPos"]
        assert g["x"] >= 0 and g["x"] + g["w"] <= 24, (p["title"], g)
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, (p["title"], "overlaps", cells[(x, y)])
                cells[(x, y)] = p["title"]
        if p["type"] == "row":
            continue
        assert p["datasource"]["uid"] == DS_UID, p["title"]
        assert p["targets"], p["title"]
        for t in p["targets"]:
            assert t["datasource"]["uid"] == DS_UID and t["expr"], (p["title"], t)
    for v in dash["templating"]["list"]:
        assert v["datasource"]["uid"] == DS_UID, v
    # what an SRE opens it for
    titles = " ".join(p["title"].lower() for p in dash["panels"])
    for want in ("call rate", "quantiles", "goroutines by state", "scheduling latency",
                 "wait reasons"):
        assert want in titles, want


def exported_names(text):
    """Every name a query may use: the sample names of the text format,
    and histogram family names (a native histogram's own name)."""
    names = {n for n, _, _ in parse_metrics(text)}
    names |= {l.split()[2] for l in text.splitlines()
              if l.startswith("# TYPE ") and l.split()[3] == "histogram"}
    return names


def instant(prom, q):
    url = f"http://127.0.0.1:{prom.port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.loads(r.read())
    except urllib.error.HTTPError as e:     # 400: not PromQL
        body = json.loads(e.read())
    return body


def test_dashboard_queries_name_exported_metrics_and_answer():
    dash = load()
    path = os.path.join(gstest.tmpdir(), "calls")
    shutil.copy2(fixture("calls"), path)
    p = subprocess.Popen([path, "-wait", "-hold"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    gstest._procs.append(p)
    assert p.stdout.readline().strip() == "ready"
    cfg = write_config(f"targets:\n  - binary: {path}\n    count: [main.fib, main.add]\n"
                       f"    latency: [main.classify, main.sleep10ms]\n    sched: true\n"
                       f"    max_overhead: 0.001\n")
    d = Daemon(cfg, max_overhead=None)
    classic = Prometheus(d.port)
    native = Prometheus(d.port, ["--enable-feature=native-histograms"])

    def scrape_has(name, timeout=10):
        deadline = time.monotonic() + timeout
        while name not in exported_names(d.get("/metrics")[2]):
            assert time.monotonic() < deadline, name
            time.sleep(0.2)

    try:
        # the budget's governors look before the calls (a tiny budget:
        # the fixture's calls turn some function off, so that the
        # overhead panel's gosnoop_probe_disabled has a series)
        scrape_has("gosnoop_estimated_overhead_ratio")
        p.stdin.write("go\n")
        p.stdin.flush()
        for line in p.stdout:
            if line.startswith('{"counts"'):
                break
        scrape_has("gosnoop_probe_disabled")
        exported = exported_names(d.get("/metrics")[2])
        var = dash["templating"]["list"][0]
        used = set(OURS.findall(var["definition"]))
        for title, exprs in queries(dash):
            for e in exprs:
                # some gosnoop metric, and no other metric
                names = set(OURS.findall(e))
                assert names and set(SELECTOR.findall(e)) <= names, (title, e)
                used |= names
        assert used <= exported, (used - exported, sorted(exported))
        # both servers have scraped a few times: rates over 5 s have data
        time.sleep(8)
        for prom in (classic, native):
            for title, exprs in queries(dash):
                got = 0
                for e in exprs:
                    q = e.replace("$__rate_interval", "5s").replace(
                        "$binary", path)   # no regex metacharacter but ., which matches itself
                    body = instant(prom, q)
                    assert body["status"] == "success", (title, q, body)
                    got += len(body["data"]["result"])
                assert got, (title, "no data", "native" if prom is native else "text")
    finally:
        assert classic.stop() == 0 and native.stop() == 0
        p.stdin.write("done\n")
        p.stdin.flush()
    rc, _ = d.stop()
    assert rc == 0
