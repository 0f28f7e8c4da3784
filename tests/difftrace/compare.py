#!/usr/bin/env python3
"""Compare what `gosnoop --json trace` printed with the truth of a program
made by gen.py: value by value, right / unknown (with the reason) / wrong.

Truth = the generator's values (regenerated from seed and Go version) plus
the memory images the program dumped of every argument and result (D lines)
for what only it knows (addresses). Rules, exact everywhere:
  ints, uints, bool        the number / true|false
  float32/64               the same number (a rounded one is wrong)
  complex                  [re, im] or {"real","imag"} (or re/im), exact
  string                   the bytes; a prefix only if the value is listed
                           in "truncated"; {"ptr","len"} when both are right
  []byte, []T              {"len","cap","data"}: data null iff nil, a hex
                           address equal to the data pointer, or the
                           contents (prefix only if truncated)
  array, struct            element by element, field by field (by name)
  pointer, func            hex equal to the word (func: the closure word or
                           its code pointer); null iff nil
  map, chan                hex or {"ptr","len"[,"cap"]}: all exact
  interface, error         null iff nil; "type" the dynamic type's name or
                           the word's hex; "data" the data word; "error" the
                           message (prefix only if truncated)
  "?"                      unknown; its reason from the record's "unknown"
Stripped binaries ("raw_args"/"raw_ret"): each word gosnoop printed is
checked against the ABI assignment gen.py computes (abi-internal.md from
go1.17, ABI0 before); parts with no printed word are unknown.

A value is right when all its parts are right, wrong when any part is
wrong, else unknown (the first unknown part's reason).

    python3 compare.py SEED GOVERSION NFUNCS TRUTH_FILE TRACE_JSON [--stripped]
"""
import json
import math
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

ACCEPTED = "float in an X register (accepted)"


class GenError(Exception):
    """The generator's model disagrees with the program's own memory."""


def read_truth(path):
    imgs, words, done = {}, {}, False
    with open(path) as f:
        for line in f:
            parts = line.split()
            if parts[:1] == ["D"] and len(parts) in (3, 4):
                imgs[(parts[1], parts[2])] = bytes.fromhex(parts[3] if len(parts) == 4 else "")
            elif parts[:1] == ["W"] and len(parts) == 4:
                words[(parts[1], parts[2])] = int(parts[3], 16)
            elif parts == ["done"]:
                done = True
    return imgs, words, done


BARE = "!bare:"
SPECIAL = {"nan": float("nan"), "+inf": float("inf"), "inf": float("inf"), "-inf": float("-inf"),
           "infinity": float("inf"), "+infinity": float("inf"), "-infinity": float("-inf")}


def same_float(a, b):
    return a == b or (a != a and b != b)


def f32(x):
    """x rounded to the nearest float32 (None if out of its range)."""
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        return None


def float_eq(p, x, bits=64):
    """p (printed) is exactly the float x: a JSON number (for a float32:
    one that reads back as x in float32, as Go's strconv does), or for NaN
    and the infinities NaN/Infinity (Python's JSON) or a string naming them."""
    if isinstance(p, bool):
        return False
    if isinstance(p, (int, float)):
        if same_float(float(p), x):
            return True
        return bits == 32 and math.isfinite(float(p)) and same_float(f32(float(p)), x)
    if isinstance(p, str) and not p.startswith(BARE) and p.lower() in SPECIAL:
        return not math.isfinite(x) and same_float(SPECIAL[p.lower()], x)
    return False


def parse_record(line):
    """A JSON line; bare nan/inf tokens (not JSON) become marked strings so
    the values around them can still be compared (and these marked wrong)."""
    try:
        return json.loads(line)
    except ValueError:
        fixed = re.sub(r'(?<=[:\[,])\s*([-+]?(?:nan|inf|infinity))\s*(?=[,\]}])',
                       lambda m: '"%s%s"' % (BARE, m.group(1)), line, flags=re.I)
        return json.loads(fixed)


def u(img, off, n, signed=False):
    return int.from_bytes(img[off:off + n], "little", signed=signed)


def hexval(p):
    if isinstance(p, str) and p.startswith("0x"):
        try:
            return int(p, 16)
        except ValueError:
            return None
    return None


def num(p):
    if isinstance(p, bool):
        return None
    if isinstance(p, int):
        return p
    if isinstance(p, str) and p.lstrip("-").isdigit():
        return int(p)
    return None


def as_bytes(s):
    """The bytes a JSON string stands for: UTF-8, bad bytes as the lone
    surrogates U+DC80..U+DCFF (gosnoop's json_writer), or Latin-1."""
    out = []
    try:
        out.append(s.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        pass
    try:
        out.append(s.encode("latin-1"))
    except UnicodeEncodeError:
        pass
    return out


class Ctx:
    def __init__(self, slot, truncated, unknown_reason, float_regs, words, key):
        self.slot = slot
        self.truncated = truncated
        self.unknown_reason = unknown_reason
        self.float_regs = float_regs      # value offsets of leaves in X registers
        self.words = words
        self.key = key
        self.name = slot                  # the record's name of the value
        self.parts = []                   # (status, detail)

    def right(self):
        self.parts.append(("right", "", ""))

    def wrong(self, path, what, truth, printed, cause=None):
        self.parts.append(("wrong", "%s: %s: truth %s, printed %s" %
                           (path or self.slot, what, truth, json.dumps(printed)[:120]),
                           cause or what))

    def unknown(self, path, off, t, reason=None):
        if reason is None:
            if self.float_regs is not None and t is not None and t.kind in ("float", "complex") \
                    and off in self.float_regs:
                reason = ACCEPTED
            else:
                reason = self.unknown_reason or "\"?\" without a reason"
        self.parts.append(("unknown", reason, reason))


def is_unknown(p):
    return p == "?" or (isinstance(p, dict) and set(p) <= {"unknown", "?", "why"} and p)


def check_str(ctx, path, truth, p, what="string"):
    """p is a JSON string that should be the bytes truth (prefix if cut)."""
    for b in as_bytes(p):
        if b == truth:
            return ctx.right()
        if len(b) < len(truth) and truth.startswith(b):
            if ctx.name in ctx.truncated:
                return ctx.right()
            return ctx.wrong(path, what + " cut without a truncation mark", repr(truth[:40]), p)
    return ctx.wrong(path, what, repr(truth[:60]), p)


def cmp(ctx, t, v, img, off, p, path):
    k = t.kind
    if is_unknown(p):
        reason = p.get("unknown") or p.get("why") if isinstance(p, dict) else None
        # a whole aggregate unknown: count it once, by its first leaf
        return ctx.unknown(path, off, t, reason)
    if k in ("int", "uint"):
        real = u(img, off, t.size, k == "int")
        if real != v.py:
            raise GenError("%s %s: generator %d, memory %d" % (ctx.key, path, v.py, real))
        n = num(p)
        return ctx.right() if n == v.py else ctx.wrong(path, t.go, v.py, p)
    if k == "bool":
        if img[off] != int(v.py):
            raise GenError("%s %s: bool" % (ctx.key, path))
        return ctx.right() if p is v.py else ctx.wrong(path, "bool", v.py, p)
    if k == "float":
        fmt = "<f" if t.bits == 32 else "<d"
        real = struct.unpack(fmt, img[off:off + t.size])[0]
        if not same_float(real, v.py):
            raise GenError("%s %s: float %r vs %r" % (ctx.key, path, v.py, real))
        if float_eq(p, v.py, t.bits):
            return ctx.right()
        cause = None
        if isinstance(p, str) and p.startswith(BARE):
            cause = "float printed as a bare nan/inf (invalid JSON)"
        elif isinstance(p, (int, float)) and math.isfinite(v.py) and float("%.6g" % v.py) == float(p):
            cause = "float printed with %.6g (6 significant digits)"
        return ctx.wrong(path, t.go, repr(v.py), p, cause)
    if k == "complex":
        re, im = v.py
        got = None
        if isinstance(p, list) and len(p) == 2:
            got = p
        elif isinstance(p, dict):
            for a, b in (("real", "imag"), ("re", "im"), ("r", "i")):
                if a in p and b in p:
                    got = [p[a], p[b]]
        if got and float_eq(got[0], re, t.bits // 2) and float_eq(got[1], im, t.bits // 2):
            return ctx.right()
        return ctx.wrong(path, t.go, "complex(%r, %r)" % (re, im), p,
                         "complex printed as a hex word (or null)"
                         if hexval(p) is not None or p is None else None)
    if k == "string":
        ptr, ln = u(img, off, 8), u(img, off + 8, 8)
        if ln != len(v.py):
            raise GenError("%s %s: string len" % (ctx.key, path))
        if isinstance(p, str):
            return check_str(ctx, path, v.py, p)
        if isinstance(p, dict) and set(p) == {"ptr", "len"}:
            if hexval(p["ptr"]) == ptr and num(p["len"]) == ln:
                return ctx.right()
            if p.get("ptr") is None and ptr == 0 and num(p["len"]) == ln:
                return ctx.right()
        return ctx.wrong(path, "string", repr(v.py[:40]), p)
    if k in ("bytes", "slice"):
        ptr, ln, cap = u(img, off, 8), u(img, off + 8, 8), u(img, off + 16, 8)
        if v.py is None:
            tl, tc = 0, 0
            if ptr != 0:
                raise GenError("nil slice with a pointer")
        elif k == "bytes":
            tl, tc = len(v.py["data"]), v.py["cap"]
        else:
            tl, tc = len(v.py["elems"]), v.py["cap"]
        if (ln, cap) != (tl, tc):
            raise GenError("%s %s: slice len/cap %d/%d vs %d/%d" % (ctx.key, path, ln, cap, tl, tc))
        if not isinstance(p, dict) or not {"len", "data"} <= set(p):
            return ctx.wrong(path, t.go, "len %d cap %d" % (ln, cap), p)
        if num(p["len"]) != ln:
            return ctx.wrong(path, t.go + " len", ln, p)
        if "cap" in p and is_unknown(p["cap"]):
            ctx.unknown(path + ".cap", None, None)
        elif "cap" in p and num(p["cap"]) != cap:
            return ctx.wrong(path, t.go + " cap", cap, p)
        d = p["data"]
        if d is None:
            return ctx.right() if ptr == 0 else ctx.wrong(path, t.go + " data (null for non-nil)", hex(ptr), p)
        if ptr == 0:
            return ctx.wrong(path, t.go + " data (nil slice)", None, p)
        if hexval(d) is not None:
            return ctx.right() if hexval(d) == ptr else ctx.wrong(path, t.go + " data pointer", hex(ptr), p)
        if is_unknown(d):
            return ctx.unknown(path + ".data", None, None)
        if k == "bytes":
            if isinstance(d, str):
                return check_str(ctx, path, v.py["data"], d, "[]byte data")
            return ctx.wrong(path, "[]byte data", repr(v.py["data"][:40]), p)
        if isinstance(d, str) and t.elem.size == 1 and t.elem.kind in ("int", "uint"):
            # 1-byte elements shown as a string of bytes: exact too
            return check_str(ctx, path, bytes(e.py & 0xff for e in v.py["elems"]), d, t.go + " data")
        if not isinstance(d, list):
            return ctx.wrong(path, t.go + " data", "elements", p)
        els = v.py["elems"]
        if len(d) > len(els):
            return ctx.wrong(path, t.go + " data (more elements than len)", len(els), p)
        if len(d) < len(els) and ctx.name not in ctx.truncated:
            return ctx.wrong(path, t.go + " data (%d of %d elements, no truncation mark)" %
                             (len(d), len(els)), len(els), p,
                             "elements of a non-integer slice printed as []"
                             if not d and t.elem.kind not in ("int", "uint") else
                             "slice elements cut without a truncation mark")
        # elements: their images are behind the pointer; compare by value
        for i, (ev, pe) in enumerate(zip(els, d)):
            cmp_value_only(ctx, t.elem, ev, pe, "%s[%d]" % (path, i))
        if not d and els:
            pass  # a cut at zero elements with a mark: right (nothing claimed)
        return ctx.right()
    if k == "array":
        if not isinstance(p, list) or len(p) != t.count:
            return ctx.wrong(path, t.go, "%d elements" % t.count, p)
        for i in range(t.count):
            cmp(ctx, t.elem, v.py[i], img, off + i * t.elem.size, p[i], "%s[%d]" % (path, i))
        return
    if k == "struct":
        if not isinstance(p, dict):
            return ctx.wrong(path, t.go, "struct", p)
        for (fname, ft, fo), fv in zip(t.fields, v.py):
            if fname not in p:
                ctx.unknown(path + "." + fname, off + fo, ft, "field not printed")
                continue
            cmp(ctx, ft, fv, img, off + fo, p[fname], path + "." + fname)
        return
    if k in ("ptr", "func"):
        w = u(img, off, 8)
        if p is None:
            return ctx.right() if w == 0 else ctx.wrong(path, t.go, hex(w), p)
        h = hexval(p)
        ok = [w]
        if k == "func" and (ctx.key, ctx.slot + ".code") in ctx.words and path == ctx.slot:
            ok.append(ctx.words[(ctx.key, ctx.slot + ".code")])
        if h is not None and h in ok and w != 0:
            return ctx.right()
        return ctx.wrong(path, t.go, hex(w), p,
                         "%s printed as a number" % k if num(p) is not None else None)
    if k in ("map", "chan"):
        w = u(img, off, 8)
        if p is None:
            return ctx.right() if w == 0 else ctx.wrong(path, t.go, hex(w), p)
        if w == 0:
            return ctx.wrong(path, t.go + " (nil)", None, p)
        h = hexval(p)
        if h is not None:
            return ctx.right() if h == w else ctx.wrong(path, t.go, hex(w), p)
        if isinstance(p, dict) and "ptr" in p:
            if hexval(p["ptr"]) != w:
                return ctx.wrong(path, t.go + " ptr", hex(w), p)
            if "len" in p and num(p["len"]) != v.py["len"]:
                return ctx.wrong(path, t.go + " len", v.py["len"], p)
            if k == "chan" and "cap" in p and num(p["cap"]) != v.py["cap"]:
                return ctx.wrong(path, t.go + " cap", v.py["cap"], p)
            return ctx.right()
        return ctx.wrong(path, t.go, hex(w), p)
    if k in ("iface", "error"):
        tw, dw = u(img, off, 8), u(img, off + 8, 8)
        if v.py.get("nil"):
            if tw != 0:
                raise GenError("nil interface with a type")
            return ctx.right() if p is None else ctx.wrong(path, t.go, None, p)
        if not isinstance(p, dict) or "type" not in p:
            return ctx.wrong(path, t.go, v.py.get("type"), p)
        ty = p["type"]
        if not (ty == v.py["type"] or hexval(ty) == tw):
            return ctx.wrong(path, t.go + " type", v.py["type"], p)
        if "data" in p and hexval(p["data"]) != dw:
            return ctx.wrong(path, t.go + " data", hex(dw), p)
        if "error" in p:
            if not isinstance(p["error"], str):
                return ctx.wrong(path, "error message", v.py["msg"], p)
            return check_str(ctx, path, v.py["msg"], p["error"], "error message")
        if k == "error" and v.py.get("msg_known"):
            # *errors.errorString: the message is what users want; counted
            # as unknown when it is absent
            return ctx.unknown(path + ".error", None, None, "error message not printed")
        return ctx.right()
    raise ValueError(k)


def cmp_value_only(ctx, t, v, p, path):
    """Slice elements: no image (behind the data pointer); only kinds whose
    truth the generator knows fully are compared."""
    if is_unknown(p):
        return ctx.unknown(path, None, None)
    k = t.kind
    if k in ("int", "uint"):
        return ctx.right() if num(p) == v.py else ctx.wrong(path, t.go, v.py, p)
    if k == "bool":
        return ctx.right() if p is v.py else ctx.wrong(path, "bool", v.py, p)
    if k == "string":
        if isinstance(p, str):
            return check_str(ctx, path, v.py, p)
        if isinstance(p, dict) and set(p) == {"ptr", "len"} and num(p["len"]) == len(v.py):
            return ctx.unknown(path, None, None, "string element pointer unchecked")
        return ctx.wrong(path, "string", repr(v.py[:40]), p)
    return ctx.unknown(path, None, None, "element kind unchecked")


def classify(parts):
    """(status, detail, cause) of a value from its parts'."""
    for want in ("wrong", "unknown"):
        for p in parts:
            if p[0] == want:
                return p
    return ("right", "", "")


def base_name(fn):
    return fn.split("[")[0]


def expected_calls(prog):
    """[(gosnoop func name, Call)] of every traced call, per function in order."""
    out = []
    for f in prog.funcs:
        for c in f.calls:
            if c.maker is not None:
                out.append(("main." + f.name, c.maker))
            out.append((f.gonames(), c))
    return out


def call_slots(prog, c):
    """(args, results) as [(slot, T, V)] including hidden words (generic
    dictionary) for the ABI."""
    args = list(c.args)
    if c.f.kind == "generic" and prog.regabi:
        args = [(".dict", gen.T("ptr", "uintptr", 8, 8), None)] + args
    return args, list(c.results)


def compare(prog, truth_path, trace_path, stripped=False):
    """-> {"values": [...], "errors": [...]} with one entry per value:
    {call, func, slot, type, where, status, detail, kind}."""
    imgs, words, done = read_truth(truth_path)
    recs = []
    errors = []
    with open(trace_path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                r = parse_record(line)
            except ValueError as e:
                errors.append("unparsable JSON line (%s): %s" % (e, line[:200]))
                continue
            if r.get("type") in ("call", "running", "unwound"):
                recs.append(r)
            elif r.get("type") == "error":
                errors.append("gosnoop error: %s" % r.get("message"))
    if not done:
        errors.append("the program did not finish (no 'done' in its truth file)")
    by = {}
    for r in recs:
        by.setdefault(base_name(r.get("func", "")), []).append(r)
    for v in by.values():
        v.sort(key=lambda r: r.get("ts_ns", 0))
    exp = expected_calls(prog)
    counts = {}
    for name, _ in exp:
        counts[name] = counts.get(name, 0) + 1
    for name, n in counts.items():
        got = len(by.get(name, []))
        if got != n:
            errors.append("%s: %d calls traced, %d made" % (name, got, n))
    seen = {}
    values = []
    notes = []
    for name, c in exp:
        i = seen.get(name, 0)
        seen[name] = i + 1
        lst = by.get(name, [])
        rec = lst[i] if i < len(lst) and len(lst) == counts[name] else None
        args, results = call_slots(prog, c)
        fr = gen.frame([(s, t) for s, t, _ in args], [(s, t) for s, t, _ in results], prog.regabi)
        if rec is not None and prog.regabi and isinstance(rec.get("raw_args"), list):
            # register ABI: raw words past the stack-assigned arguments are
            # spill slots or the caller's frame, not argument values
            end = 0
            for s, _, _ in args:
                for loc, _, size, _ in fr[s]:
                    if loc[0] == "s":
                        end = max(end, loc[1] + size)
            extra = [w for w in rec["raw_args"][9 + (end + 7) // 8:] if w is not None]
            if extra:
                notes.append("%s: raw_args has %d word(s) past the stack arguments (%d bytes): "
                             "not argument values" % (name, len(extra), end))
        for is_res, slots in ((False, args), (True, results)):
            for slot, t, v in slots:
                if v is None:
                    continue      # hidden words
                img = imgs.get((c.key, slot))
                if img is None:
                    errors.append("%s %s: no memory image in the truth" % (c.key, slot))
                    continue
                if len(img) != t.size:
                    raise GenError("%s %s %s: size %d, model %d" % (c.key, slot, t.go, len(img), t.size))
                pieces = fr[slot]
                where = "stack" if any(loc[0] == "s" for loc, _, _, _ in pieces) else "reg"
                ent = {"call": c.key, "func": name, "slot": slot, "type": t.go,
                       "kind": kind_of(t), "where": where,
                       "dir": "result" if is_res else "arg"}
                if rec is None:
                    r = ("unknown", "call not traced", "")
                elif stripped:
                    r = check_raw(prog, rec, is_res, pieces, img, t)
                elif "args" not in rec and "raw_args" in rec:
                    # typed values expected (DWARF) but raw words printed
                    r = check_raw(prog, rec, is_res, pieces, img, t)
                    if r[0] != "wrong":
                        r = ("unknown", "raw words only, not typed (with DWARF)", "")
                else:
                    r = check_typed(prog, c, rec, is_res, slot, t, v, img, pieces, words, results)
                ent["status"], ent["detail"], ent["cause"] = r
                values.append(ent)
    return {"values": values, "errors": errors, "notes": notes}


def kind_of(t):
    k = t.kind
    if k == "struct":
        return "bigstruct" if t.size > 64 or any(ft.kind == "array" and ft.count > 1 for _, ft, _ in t.fields) \
            else "struct"
    if k == "array":
        return "array"
    if k in ("int", "uint"):
        return "int"
    return k


def check_typed(prog, c, rec, is_res, slot, t, v, img, pieces, words, results):
    obj = rec.get("ret" if is_res else "args")
    if not isinstance(obj, dict):
        return ("unknown", "no %s object" % ("ret" if is_res else "args"), "")
    key = slot
    if is_res and slot.startswith("~r"):
        # unnamed results: DWARF names them ~r0.. or ~rN (N after the params)
        names = [n for n in obj]
        j = int(slot[2:])
        key = names[j] if j < len(names) and len(names) == len(results) else None
    if key is None or key not in obj:
        return ("unknown", "value not printed", "")
    unk = rec.get("unknown") or {}
    reason = unk.get(key) if isinstance(unk, dict) else None
    fregs = {lo for loc, lo, _, _ in pieces if loc[0] == "f"}
    ctx = Ctx(slot, set(rec.get("truncated") or []), reason, fregs, words, c.key)
    ctx.name = key        # the record's name of the value (go1.15: ~r<N> after the params)
    cmp(ctx, t, v, img, 0, obj[key], slot)
    return classify(ctx.parts)


def check_raw(prog, rec, is_res, pieces, img, t):
    raw = rec.get("raw_ret" if is_res else "raw_args")
    if not isinstance(raw, list):
        return ("unknown", "no raw words", "")
    parts = []
    for loc, lo, size, lt in pieces:
        if loc[0] == "f":
            parts.append(("unknown", ACCEPTED, ""))
            continue
        if loc[0] == "i":
            idx, boff = loc[1], 0
            if is_res and not prog.regabi:
                idx = None
        else:
            so = loc[1]
            idx = (so // 8) + (9 if prog.regabi else 0)
            boff = so % 8
            if prog.regabi and is_res:
                idx = None   # raw_ret holds RAX, RBX only
        if idx is None or idx >= len(raw):
            parts.append(("unknown", "word not among the raw words printed", ""))
            continue
        w = raw[idx]
        if w is None:
            why = (rec.get("unknown") or {}).get("raw_ret" if is_res else "raw_args")
            parts.append(("unknown", "raw word printed as null" + (": " + why if why else ""), ""))
            continue
        if not isinstance(w, int):
            w = hexval(w) if isinstance(w, str) else None
            if w is None:
                parts.append(("wrong", "raw word %d not a number: %r" % (idx, raw[idx]), "raw word not a number"))
                continue
        got = (w >> (8 * boff)) & ((1 << (8 * size)) - 1)
        want = u(img, lo, size)
        if got == want:
            parts.append(("right", "", ""))
        else:
            parts.append(("wrong", "raw word %d bytes %d..%d (%s at value offset %d, %s): truth %#x, printed %#x"
                          % (idx, boff, boff + size, lt.go, lo, "stack" if loc[0] == "s" else "register",
                             want, got),
                          "raw %s word differs from the ABI's" % ("stack" if loc[0] == "s" else "register")))
    return classify(parts)


if __name__ == "__main__":
    a = sys.argv[1:]
    stripped = "--stripped" in a
    a = [x for x in a if x != "--stripped"]
    prog = gen.generate(int(a[0]), gen.parse_version(a[1]), int(a[2]))
    res = compare(prog, a[3], a[4], stripped)
    for e in res["errors"]:
        print("ERROR", e)
    for v in res["values"]:
        if v["status"] != "right":
            print(v["status"], v["call"], v["func"], v["slot"], v["type"], v["where"], v["detail"])
    n = {}
    for v in res["values"]:
        n[v["status"]] = n.get(v["status"], 0) + 1
    print(n)
