#!/usr/bin/env python3
"""Differential test of `gosnoop trace`: generate (gen.py), build with every
Go toolchain at hand, optimized and with -gcflags=all=-N -l, plain and
stripped (-ldflags=-s -w), trace with `gosnoop --json trace`, compare
(compare.py), print a table: values, right, unknown by reason, wrong.

    tests/difftrace/run.py [--seeds 1,2,3 | --nseeds N [--first S]]
        [--go 1.15,1.19,...] [--nfuncs 12] [--jobs 2] [--report FILE]
        [--json FILE] [--keep DIR] [-v]

GOSNOOP=path selects the gosnoop binary (default build/gosnoop).
Toolchains: the system's go (go1.19 here) and those scripts/fetch-go-toolchains.sh
put in $GOSNOOP_GO_CACHE (default ~/.cache/gosnoop/go); a toolchain asked for
and not there is reported as missing. Exit status 1 if any value is wrong or
a run failed, else 0. Needs root (uprobes).
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import gen  # noqa: E402
import compare  # noqa: E402

GO_CACHE = os.environ.get("GOSNOOP_GO_CACHE") or os.path.expanduser("~/.cache/gosnoop/go")
PATTERN = "main.*f[0-9][0-9][0-9]*"
VARIANTS = [("opt", False), ("opt", True), ("noopt", False), ("noopt", True)]


def gosnoop_path():
    return os.environ.get("GOSNOOP") or os.path.join(ROOT, "build", "gosnoop")


def toolchains():
    """{"1.NN": GOROOT} of every usable toolchain."""
    out = {}
    sysgo = shutil.which("go")
    if sysgo:
        r = subprocess.run([sysgo, "env", "GOROOT"], capture_output=True, text=True)
        gr = r.stdout.strip()
        if r.returncode == 0 and gr:
            v = go_version(gr)
            if v:
                out[v] = gr
    if os.path.isdir(GO_CACHE):
        for name in sorted(os.listdir(GO_CACHE)):
            if name.startswith("go") and name.endswith(".ok"):
                with open(os.path.join(GO_CACHE, name)) as f:
                    gr = f.read().strip()
                v = go_version(gr)
                if v and os.path.exists(os.path.join(gr, "bin", "go")):
                    out.setdefault(v, gr)
    return out


def go_version(goroot):
    try:
        r = subprocess.run([os.path.join(goroot, "bin", "go"), "version"], capture_output=True,
                           text=True, timeout=30, env=go_env(goroot, "x"))
    except OSError:
        return None
    for w in r.stdout.split():
        if w.startswith("go1."):
            v = gen.parse_version(w)
            return "%d.%d" % v
    return None


def go_env(goroot, ver):
    env = dict(os.environ)
    for k in ("GOPATH", "GOFLAGS", "GOOS", "GOARCH", "CGO_ENABLED"):
        env.pop(k, None)
    env.update(GOROOT=goroot, GOCACHE=os.path.join(GO_CACHE, "gocache", ver),
               GO111MODULE="off", GOTOOLCHAIN="local", GOPROXY="off", CGO_ENABLED="0",
               GOPATH=os.path.join(GO_CACHE, "gopath"))
    return env


def build(goroot, ver, src_dir, out, noopt, stripped):
    args = [os.path.join(goroot, "bin", "go"), "build", "-o", out]
    if noopt:
        args.append("-gcflags=all=-N -l")
    if stripped:
        args.append("-ldflags=-s -w")
    args.append("main.go")
    r = subprocess.run(["nice"] + args, cwd=src_dir, capture_output=True, text=True,
                       env=go_env(goroot, ver), timeout=600)
    if r.returncode != 0:
        raise RuntimeError("go%s build failed: %s" % (ver, r.stderr.strip()[:2000]))


def trace(binary, truth, out_json, timeout=120):
    env = dict(os.environ, DIFFTRACE_TRUTH=truth)
    with open(out_json, "w") as o:
        r = subprocess.run([gosnoop_path(), "--json", "trace", "--max-string", "256", PATTERN,
                            "--", binary], stdout=o, stderr=subprocess.PIPE, text=True,
                           env=env, timeout=timeout, stdin=subprocess.DEVNULL)
    return r.returncode, r.stderr


def one(ver, goroot, seed, nfuncs, keep=None, verbose=False, jobs=1):
    """Build and trace one program in the four variants (jobs at a time);
    returns a list of {toolchain, variant, seed, values, errors}."""
    gv = gen.parse_version(ver)
    prog = gen.generate(seed, gv, nfuncs)
    d = tempfile.mkdtemp(prefix="difftrace-go%s-s%d-" % (ver, seed))

    def variant(opt, stripped):
        var = opt + ("-stripped" if stripped else "")
        exe = os.path.join(d, "prog-" + var)
        truth = os.path.join(d, "truth-" + var + ".txt")
        out = os.path.join(d, "trace-" + var + ".json")
        res = {"toolchain": "go" + ver, "variant": var, "seed": seed, "values": [], "errors": []}
        try:
            build(goroot, ver, d, exe, opt == "noopt", stripped)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            res["errors"].append("build: %s" % e)
            return res
        try:
            rc, err = trace(exe, truth, out)
        except subprocess.TimeoutExpired:
            res["errors"].append("gosnoop trace timed out")
            return res
        if rc != 0:
            res["errors"].append("gosnoop exit %d: %s" % (rc, err.strip()[-500:]))
        try:
            c = compare.compare(prog, truth, out, stripped)
        except compare.GenError as e:
            res["errors"].append("generator model error: %s" % e)
            return res
        except OSError as e:
            res["errors"].append("compare: %s" % e)
            return res
        res["values"] = c["values"]
        res["errors"] += c["errors"]
        res["notes"] = c.get("notes", [])
        for v in res["values"]:
            v["sig"] = signature(prog, v)
        return res

    try:
        with open(os.path.join(d, "main.go"), "w") as f:
            f.write(prog.source)
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
            results = list(ex.map(lambda ov: variant(*ov), VARIANTS))
    finally:
        if keep:
            dst = os.path.join(keep, "go%s-s%d" % (ver, seed))
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(d, dst)
        shutil.rmtree(d, ignore_errors=True)
    return results


def signature(prog, v):
    for f in prog.funcs:
        if v["func"] in (f.gonames(), "main." + f.name):
            if v["func"] == "main." + f.name and f.kind == "closure":
                return "func %s(c0 %s) func%s" % (f.name, f.closure_param[1].go, gen.sig(f))
            if f.kind == "closure":
                return "closure made by %s(c0 %s): func%s" % (f.name, f.closure_param[1].go, gen.sig(f))
            pre = "func "
            if f.recv is not None:
                pre += "(r %s) " % f.recv.go
            return pre + f.name + ("[P any]" if f.kind == "generic" else "") + gen.sig(f)
    return ""


def table(all_results):
    """Rows per toolchain/variant and the totals; unknowns by reason."""
    rows = {}
    for res in all_results:
        k = (res["toolchain"], res["variant"])
        row = rows.setdefault(k, {"values": 0, "right": 0, "wrong": 0, "unknown": {}, "errors": 0})
        row["errors"] += len(res["errors"])
        for v in res["values"]:
            row["values"] += 1
            if v["status"] == "unknown":
                row["unknown"][v["detail"]] = row["unknown"].get(v["detail"], 0) + 1
            else:
                row[v["status"]] += 1
    return rows


def vkey(ver):
    return tuple(int(x) for x in ver[2:].split("."))


def format_table(rows):
    lines = []
    hdr = "%-7s %-15s %6s %6s %8s %8s %6s %5s" % ("go", "variant", "values", "right", "unk-flt",
                                                  "unk-oth", "wrong", "errs")
    lines.append(hdr)
    tot = {"values": 0, "right": 0, "wrong": 0, "acc": 0, "oth": 0, "errors": 0}
    reasons = {}
    for (tc, var) in sorted(rows, key=lambda k: (vkey(k[0]), k[1])):
        r = rows[(tc, var)]
        acc = r["unknown"].get(compare.ACCEPTED, 0)
        oth = sum(r["unknown"].values()) - acc
        lines.append("%-7s %-15s %6d %6d %8d %8d %6d %5d" % (tc, var, r["values"], r["right"], acc, oth,
                                                         r["wrong"], r["errors"]))
        tot["values"] += r["values"]
        tot["right"] += r["right"]
        tot["wrong"] += r["wrong"]
        tot["acc"] += acc
        tot["oth"] += oth
        tot["errors"] += r["errors"]
        for why, n in r["unknown"].items():
            reasons[why] = reasons.get(why, 0) + n
    lines.append("%-7s %-15s %6d %6d %8d %8d %6d %5d" % ("total", "", tot["values"], tot["right"],
                                                     tot["acc"], tot["oth"], tot["wrong"], tot["errors"]))
    lines.append("unknown by reason:")
    for why, n in sorted(reasons.items(), key=lambda x: -x[1]):
        lines.append("  %6d  %s" % (n, why))
    return "\n".join(lines), tot


def kind_table(all_results):
    """right/unknown/wrong per kind of value, typed (DWARF) and raw (stripped)."""
    agg = {}
    for res in all_results:
        raw = "stripped" in res["variant"]
        for v in res["values"]:
            a = agg.setdefault(v["kind"], [0] * 6)
            a[(3 if raw else 0) + ("right", "unknown", "wrong").index(v["status"])] += 1
    lines = ["%-10s %22s   %22s" % ("kind", "typed: right/unk/wrong", "raw: right/unk/wrong")]
    for k in sorted(agg):
        a = agg[k]
        lines.append("%-10s %8d %6d %6d   %8d %6d %6d" % (k, *a))
    return "\n".join(lines)


def markdown_table(all_results):
    """Per toolchain, typed (DWARF) and raw (stripped) with -O and -N -l
    summed: the table docs/trace.md shows."""
    agg = {}
    for r in all_results:
        k = (vkey(r["toolchain"]), r["toolchain"], "raw (-s -w)" if "stripped" in r["variant"]
             else "typed (DWARF)")
        a = agg.setdefault(k, [0] * 5)
        for v in r["values"]:
            a[0] += 1
            if v["status"] == "right":
                a[1] += 1
            elif v["status"] == "wrong":
                a[4] += 1
            elif v["detail"] == compare.ACCEPTED:
                a[2] += 1
            else:
                a[3] += 1
    lines = ["| Go | values | right | unknown: float in X register | unknown: other | wrong |",
             "|----|-------:|------:|------:|------:|------:|"]
    for k in sorted(agg, key=lambda k: (k[0], k[2] != "typed (DWARF)")):
        lines.append("| %s %s | %d | %d | %d | %d | %d |" % (k[1], k[2], *agg[k]))
    return "\n".join(lines)


def wrong_report(all_results, per_group=3):
    """Wrong values grouped by cause: toolchain ABI, opt level, kind,
    register/stack, arg/result."""
    groups = {}
    for res in all_results:
        tc = res["toolchain"]
        abi = "ABI0" if vkey(tc) < (1, 17) else "regABI"
        for v in res["values"]:
            if v["status"] != "wrong":
                continue
            cause = v.get("cause") or v["detail"]
            if "[P any]" in v.get("sig", "") and not any(
                    w in cause for w in ("float", "complex", "slice")):
                cause = "value of a generic function's instantiation"
            k = (cause, abi, "stripped" if "stripped" in res["variant"] else "dwarf",
                 v["where"], v["dir"])
            groups.setdefault(k, []).append((res, v))
    lines = []
    for k in sorted(groups, key=lambda k: -len(groups[k])):
        ex = groups[k]
        tcs = sorted({r["toolchain"] + "/" + r["variant"] for r, _ in ex})
        kinds = sorted({v["kind"] for _, v in ex})
        lines.append("%d wrong: %s [%s, %s, %s %s; kinds %s]" % (len(ex), *k, ",".join(kinds)))
        lines.append("   seen in: " + ", ".join(tcs[:8]) + (" ..." if len(tcs) > 8 else ""))
        for r, v in ex[:per_group]:
            lines.append("   e.g. %s %s seed %d %s %s %s: %s" % (r["toolchain"], r["variant"], r["seed"],
                                                               v["func"], v["slot"], v["type"], v["detail"]))
            lines.append("        %s" % v.get("sig", ""))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", help="comma-separated seeds")
    ap.add_argument("--nseeds", type=int, default=3)
    ap.add_argument("--first", type=int, default=1)
    ap.add_argument("--go", help="toolchains, e.g. 1.15,1.19 (default: all at hand)")
    ap.add_argument("--nfuncs", type=int, default=12)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--report", help="write the table and the wrong values here too")
    ap.add_argument("--json", help="write every value's verdict here (JSON)")
    ap.add_argument("--keep", help="keep sources, binaries, traces under this directory")
    ap.add_argument("--markdown", action="store_true", help="also the table for docs/trace.md")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    seeds = [int(s) for s in a.seeds.split(",")] if a.seeds else list(range(a.first, a.first + a.nseeds))
    have = toolchains()
    want = a.go.split(",") if a.go else sorted(have, key=lambda v: vkey("go" + v))
    missing = [v for v in want if v not in have]
    for v in missing:
        print("SKIP go%s: not available (scripts/fetch-go-toolchains.sh)" % v, flush=True)
    if not os.access(gosnoop_path(), os.X_OK):
        print("no gosnoop at %s" % gosnoop_path())
        return 2
    t0 = time.time()
    jobs = [(v, have[v], s) for v in want if v in have for s in seeds]
    all_results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        futs = {ex.submit(one, v, gr, s, a.nfuncs, a.keep, a.verbose): (v, s) for v, gr, s in jobs}
        for fu in concurrent.futures.as_completed(futs):
            v, s = futs[fu]
            try:
                rs = fu.result()
            except Exception as e:  # a bug here must not look like a pass
                rs = [{"toolchain": "go" + v, "variant": "all", "seed": s, "values": [],
                       "errors": ["%s: %s" % (type(e).__name__, e)]}]
            all_results += rs
            if a.verbose:
                print("go%s seed %d done (%.0fs)" % (v, s, time.time() - t0), flush=True)
    txt, tot = format_table(table(all_results))
    errs = [(r["toolchain"], r["variant"], r["seed"], e) for r in all_results for e in r["errors"]]
    out = ["difftrace %s: gosnoop %s; seeds %s; %d functions per program; %.0fs" %
           (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), gosnoop_path(),
            ",".join(map(str, seeds)), a.nfuncs, time.time() - t0),
           "rerun: GOSNOOP=%s python3 tests/difftrace/run.py --seeds %s%s (in the repo; root)" %
           (gosnoop_path(), ",".join(map(str, seeds)), (" --go " + a.go) if a.go else ""),
           "unk-flt: floats in X registers (accepted); unk-oth: other unknowns, by reason below",
           txt]
    out.append("by kind of value (all toolchains):")
    out.append(kind_table(all_results))
    if missing:
        out.append("missing toolchains: " + ", ".join("go" + m for m in missing))
    if errs:
        out.append("errors:")
        out += ["  go%s %s seed %d: %s" % (tc[2:], var, s, e) for tc, var, s, e in errs[:40]]
    notes = [(r["toolchain"], r["variant"], r["seed"], n) for r in all_results for n in r.get("notes", [])]
    if notes:
        out.append("notes (not counted as values): %d calls with raw words past the stack arguments"
                   % len(notes))
        by_tv = {}
        for tc, var, s, n in notes:
            by_tv.setdefault((tc, var), []).append("seed %d %s" % (s, n))
        for (tc, var), ns in sorted(by_tv.items()):
            out.append("  %s %s: %d, e.g. %s" % (tc, var, len(ns), ns[0]))
    if a.markdown:
        out.append(markdown_table(all_results))
    wr = wrong_report(all_results)
    if wr:
        out.append("wrong values by cause:")
        out.append(wr)
    text = "\n".join(out)
    print(text)
    if a.report:
        with open(a.report, "w") as f:
            f.write(text + "\n")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(all_results, f)
    return 1 if tot["wrong"] or errs else 0


if __name__ == "__main__":
    sys.exit(main())
