#!/usr/bin/env python3
"""Seeded generator of Go programs with random function signatures, for the
differential test of `gosnoop trace` (tests/difftrace/README.md).

generate(seed, goversion, nfuncs) -> Program: the Go source (one main.go,
package main, GO111MODULE=off, go1.15-compatible; generic functions too when
the toolchain is >= go1.18) and, for every call the program makes, the
values the generator chose. Values only the running program knows
(addresses: pointers, maps, chans, funcs, string/slice data, interface
words) come from the program itself: before each call it dumps the memory
image of every argument, after it the image of every result, as lines
`D <call> <slot> <hex>` on stderr. The generator's own layout model
(sizes, alignments, offsets) is checked against those images, and the
register/stack assignment of every word (abi-internal.md for go1.17+,
ABI0 before) is computed here, for the stripped variant's raw words.

The same (seed, goversion, nfuncs) always gives the same program, so the
comparator regenerates the truth instead of reading it from a file.

    python3 gen.py SEED GOVERSION [NFUNCS] > main.go
"""
import random
import struct
import sys

# ------------------------------------------------------------------ types


class T:
    """A Go type: kind, size, align, Go spelling, parts."""

    def __init__(self, kind, go, size, align, **kw):
        self.kind = kind          # int uint bool float complex string bytes slice
        self.go = go              # array struct ptr map chan func iface error tparam
        self.size = size
        self.align = align
        self.bits = kw.get("bits", 0)
        self.elem = kw.get("elem")
        self.count = kw.get("count", 0)
        self.fields = kw.get("fields", [])    # [(name, T, offset)]
        self.rtname = kw.get("rtname", go)    # the runtime's name of the type
        self.named = kw.get("named", False)

    def __repr__(self):
        return self.go


def t_int(bits, signed, name=None):
    go = name or (("int" if signed else "uint") + str(bits))
    return T("int" if signed else "uint", go, bits // 8, bits // 8, bits=bits)


INT_TYPES = [t_int(8, True), t_int(16, True), t_int(32, True), t_int(64, True),
             t_int(64, True, "int"), t_int(8, False), t_int(16, False),
             t_int(32, False), t_int(64, False), t_int(64, False, "uint"),
             t_int(64, False, "uintptr")]
BOOL = T("bool", "bool", 1, 1)
F32 = T("float", "float32", 4, 4, bits=32)
F64 = T("float", "float64", 8, 8, bits=64)
C64 = T("complex", "complex64", 8, 4, bits=64)
C128 = T("complex", "complex128", 16, 8, bits=128)
STRING = T("string", "string", 16, 8)
BYTES = T("bytes", "[]byte", 24, 8, elem=t_int(8, False))
IFACE = T("iface", "interface{}", 16, 8)
ERROR = T("error", "error", 16, 8)
FUNC = T("func", "func(int) int", 8, 8)
EMPTY = T("struct", "struct{}", 0, 1, fields=[], rtname="struct {}")


def align_up(x, a):
    return (x + a - 1) // a * a


def t_slice(elem):
    return T("slice", "[]" + elem.go, 24, 8, elem=elem)


def t_array(elem, n):
    return T("array", "[%d]%s" % (n, elem.go), elem.size * n, elem.align, elem=elem, count=n)


def t_ptr(elem):
    return T("ptr", "*" + elem.go, 8, 8, elem=elem, rtname="*" + elem.rtname)


def t_map():
    return T("map", "map[string]int", 8, 8)


def t_chan():
    return T("chan", "chan int", 8, 8)


def t_struct(name, ftypes):
    off, al, fields = 0, 1, []
    for i, ft in enumerate(ftypes):
        off = align_up(off, ft.align)
        fields.append(("F%d" % i, ft, off))
        off += ft.size
        al = max(al, ft.align)
    return T("struct", name, align_up(off, al), al, fields=fields,
             rtname="main." + name, named=True)


def leaves(t, off=0):
    """(offset, T) of every scalar word-ish part of a value of type t, in
    memory order: what the ABI assigns piece by piece."""
    k = t.kind
    if k == "struct":
        out = []
        for _, ft, fo in t.fields:
            out += leaves(ft, off + fo)
        return out
    if k == "array":
        out = []
        for i in range(t.count):
            out += leaves(t.elem, off + i * t.elem.size)
        return out
    if k == "complex":
        h = T("float", "float%d" % (t.bits // 2), t.size // 2, t.size // 2, bits=t.bits // 2)
        return [(off, h), (off + t.size // 2, h)]
    if k in ("string", "iface", "error"):
        w = T("word", "uintptr", 8, 8)
        return [(off, w), (off + 8, w)]
    if k in ("slice", "bytes"):
        w = T("word", "uintptr", 8, 8)
        return [(off, w), (off + 8, w), (off + 16, w)]
    return [(off, t)]


# ------------------------------------------------------------------ ABI


def _reg_assign(t, off, st, out):
    """Register-assign one value (abi-internal.md); False = fail."""
    k = t.kind
    if k == "struct":
        return all(_reg_assign(ft, off + fo, st, out) for _, ft, fo in t.fields)
    if k == "array":
        if t.count == 0:
            return True
        if t.count == 1:
            return _reg_assign(t.elem, off, st, out)
        return False
    if k in ("float", "complex"):
        for lo, lt in leaves(t, off):
            if st["fp"] >= 15:
                return False
            out.append((("f", st["fp"]), lo, lt.size, lt))
            st["fp"] += 1
        return True
    for lo, lt in leaves(t, off):
        if st["i"] >= 9:
            return False
        out.append((("i", st["i"]), lo, lt.size, lt))
        st["i"] += 1
    return True


def assign(vals, regabi, stack_off=0):
    """vals: [(slot, T)] arguments (receiver/dict first) or results, in
    order. Returns ({slot: [(loc, value_off, size, leafT)]}, stack_end):
    loc is ('i', n) an integer register (RAX RBX RCX RDI RSI R8 R9 R10 R11),
    ('f', n) X n, or ('s', off) a stack offset from the first argument word
    (SP+8 at the entry). ABI0 (regabi False): everything on the stack."""
    st = {"i": 0, "fp": 0}
    res = {}
    for slot, t in vals:
        if regabi and t.size > 0:
            save = dict(st)
            out = []
            if _reg_assign(t, 0, st, out):
                res[slot] = out
                continue
            st.update(save)
        stack_off = align_up(stack_off, t.align)
        res[slot] = [(("s", stack_off + lo), lo, lt.size, lt) for lo, lt in leaves(t)]
        stack_off += t.size
    return res, stack_off


def frame(args, results, regabi):
    """ABI assignment of a whole call: {slot: pieces} for args and results."""
    a, off = assign(args, regabi, 0)
    off = align_up(off, 8)
    r, _ = assign(results, regabi, off)
    a.update(r)
    return a


# ------------------------------------------------------------------ values


class V:
    """A value the generator chose: its type, a Go expression, and what it
    is (py): int, bool, float, (re, im), bytes (string/[]byte content),
    list (slice/array/struct parts), dict (len, ...) for maps/chans/
    interfaces/errors/pointers/funcs (addresses come from the program)."""

    def __init__(self, t, go, py):
        self.t, self.go, self.py = t, go, py


def go_quote(b):
    out = '"'
    for c in b:
        ch = chr(c)
        if ch == '"' or ch == '\\':
            out += '\\' + ch
        elif 0x20 <= c < 0x7f:
            out += ch
        else:
            out += '\\x%02x' % c
    return out + '"'


WORDS = [b"go", b"trace", "h\u00e9llo".encode(), b"a\"b", b"tab\there", b"line\nbreak",
         "\u00fcn\u00ef \u4e16\u754c".encode(), b"x", b"", b"The quick brown fox", b"0123456789",
         b"bad\xff\xfeutf8", b"nul\x00byte", b"back\\slash\x7f"]


def f32_exact(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


class Gen:
    def __init__(self, seed, gover, nfuncs):
        self.r = random.Random(seed)
        self.seed = seed
        self.gover = gover
        self.regabi = gover >= (1, 17)
        self.generics = gover >= (1, 18)
        self.nfuncs = nfuncs
        self.structs = []

    # ---- types
    def rand_struct(self, depth, big=False):
        r = self.r
        n = r.randint(2, 4) if not big else r.randint(3, 5)
        fts = []
        for _ in range(n):
            fts.append(self.rand_type(depth + 1, in_struct=True))
        if big:
            fts.append(t_array(INT_TYPES[3], r.randint(2, 4)))
            r.shuffle(fts)
        t = t_struct("S%d" % len(self.structs), fts)
        self.structs.append(t)
        return t

    def rand_type(self, depth=0, in_struct=False):
        r = self.r
        kinds = ["int"] * 8 + ["bool", "float", "float", "complex", "string", "string",
                               "bytes", "slice", "array", "struct", "struct", "bigstruct",
                               "ptr", "map", "chan", "func", "iface", "error"]
        if depth >= 2:
            kinds = ["int"] * 6 + ["bool", "float", "string", "ptr"]
        k = r.choice(kinds)
        if depth == 0 and not in_struct and r.random() < 0.02:
            return r.choice([EMPTY, t_array(INT_TYPES[3], 0)])
        if k == "int":
            return r.choice(INT_TYPES)
        if k == "bool":
            return BOOL
        if k == "float":
            return r.choice([F32, F64])
        if k == "complex":
            return r.choice([C64, C128])
        if k == "string":
            return STRING
        if k == "bytes":
            return BYTES
        if k == "slice":
            return t_slice(r.choice([INT_TYPES[2], INT_TYPES[3], INT_TYPES[7], STRING, BOOL]))
        if k == "array":
            el = r.choice([INT_TYPES[0], INT_TYPES[3], INT_TYPES[6], BOOL, STRING, F64])
            return t_array(el, r.choice([1, 1, 2, 3, 4]))
        if k == "struct":
            return self.rand_struct(depth)
        if k == "bigstruct":
            return self.rand_struct(depth, big=True)
        if k == "ptr":
            if self.structs and r.random() < 0.6:
                return t_ptr(r.choice(self.structs))
            return t_ptr(INT_TYPES[3])
        if k == "map":
            return t_map()
        if k == "chan":
            return t_chan()
        if k == "func":
            return FUNC
        if k == "iface":
            return IFACE
        return ERROR

    # ---- values
    def rand_int(self, t):
        r = self.r
        bits = t.bits
        if t.kind == "int":
            lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
            cands = [lo, hi, -1, 0, 1, lo + 1, r.randint(lo, hi), r.randint(-1000, 1000)]
        else:
            lo, hi = 0, (1 << bits) - 1
            cands = [hi, 1 << (bits - 1), (1 << (bits - 1)) + 1, 0, 1, r.randint(lo, hi),
                     r.randint(0, 1000)]
        return r.choice([c for c in cands if lo <= c <= hi])

    def rand_float(self, t):
        r = self.r
        if r.random() < 0.03:
            return r.choice([float("inf"), float("-inf"), float("nan")])
        if r.random() < 0.7:
            x = r.choice([0.0, 1.0, -1.5, 2.25, 1024.0, -0.125, 3.0e10, 6.5e-3,
                          123456.75, -7.0])
            x = float(r.randint(-100000, 100000)) / 64 if r.random() < 0.3 else x
        else:
            # random bits, finite: the full precision
            while True:
                if t.bits == 32:
                    b = r.getrandbits(32)
                    x = struct.unpack("<f", struct.pack("<I", b))[0]
                else:
                    b = r.getrandbits(64)
                    x = struct.unpack("<d", struct.pack("<Q", b))[0]
                if x == x and abs(x) != float("inf") and (x == 0 or 1e-30 < abs(x) < 1e30):
                    break
        if t.bits == 32:
            x = f32_exact(x)
        return x

    def float_go(self, x, bits):
        if x != x:
            return "float%d(math.NaN())" % bits
        if x in (float("inf"), float("-inf")):
            return "float%d(math.Inf(%d))" % (bits, 1 if x > 0 else -1)
        if bits == 32:
            b = struct.unpack("<I", struct.pack("<f", x))[0]
            return "math.Float32frombits(0x%x)" % b
        b = struct.unpack("<Q", struct.pack("<d", x))[0]
        return "math.Float64frombits(0x%x)" % b

    def rand_bytes(self):
        r = self.r
        c = r.random()
        if c < 0.6:
            return r.choice(WORDS)
        elif c < 0.85:
            s = "".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789 ") for _ in range(r.randint(0, 60)))
        else:  # longer than --max-string
            s = "".join(chr(ord('A') + i % 26) for i in range(r.randint(200, 300)))
        return s.encode()

    def value(self, t):
        r = self.r
        k = t.kind
        if k in ("int", "uint"):
            x = self.rand_int(t)
            return V(t, "%s(%d)" % (t.go, x), x)
        if k == "bool":
            x = r.random() < 0.5
            return V(t, "true" if x else "false", x)
        if k == "float":
            x = self.rand_float(t)
            return V(t, self.float_go(x, t.bits), x)
        if k == "complex":
            h = 32 if t.bits == 64 else 64
            ht = F32 if h == 32 else F64
            re, im = self.rand_float(ht), self.rand_float(ht)
            return V(t, "complex(%s, %s)" % (self.float_go(re, h), self.float_go(im, h)), (re, im))
        if k == "string":
            b = self.rand_bytes()
            return V(t, go_quote(b), b)
        if k == "bytes":
            if r.random() < 0.1:
                return V(t, "[]byte(nil)", None)
            b = self.rand_bytes()
            cap = len(b) + r.choice([0, 0, 3])
            return V(t, "mkbytes(%s, %d)" % (go_quote(b), cap), {"data": b, "cap": cap})
        if k == "slice":
            if r.random() < 0.1:
                return V(t, "%s(nil)" % t.go, None)
            n = r.randint(0, 5)
            els = [self.value(t.elem) for _ in range(n)]
            cap = n + r.choice([0, 0, 2])
            go = "append(make(%s, 0, %d), %s)" % (t.go, cap, ", ".join(e.go for e in els))
            return V(t, go, {"elems": els, "cap": cap})
        if k == "array":
            els = [self.value(t.elem) for _ in range(t.count)]
            return V(t, "%s{%s}" % (t.go, ", ".join(e.go for e in els)), els)
        if k == "struct":
            fs = [self.value(ft) for _, ft, _ in t.fields]
            return V(t, "%s{%s}" % (t.go, ", ".join(f.go for f in fs)), fs)
        if k == "ptr":
            if r.random() < 0.15:
                return V(t, "(%s)(nil)" % t.go, {"nil": True})
            if t.elem.kind == "struct":
                return V(t, "&" + self.value(t.elem).go, {})
            return V(t, "newI64(%d)" % self.rand_int(t.elem), {})
        if k == "map":
            if r.random() < 0.15:
                return V(t, "map[string]int(nil)", {"len": 0, "nil": True})
            n = r.randint(0, 6)
            items = ", ".join('"k%d": %d' % (i, i) for i in range(n))
            return V(t, "map[string]int{%s}" % items, {"len": n})
        if k == "chan":
            if r.random() < 0.15:
                return V(t, "(chan int)(nil)", {"len": 0, "cap": 0, "nil": True})
            cap = r.choice([0, 1, 4, 10])
            n = r.randint(0, cap)
            return V(t, "mkchan(%d, %d)" % (cap, n), {"len": n, "cap": cap})
        if k == "func":
            if r.random() < 0.15:
                return V(t, "(func(int) int)(nil)", {"nil": True})
            return V(t, r.choice(["hfunA", "hfunB", "mkadder(%d)" % r.randint(1, 9)]), {})
        if k == "iface":
            c = r.randint(0, 6)
            if c == 0:
                return V(t, "interface{}(nil)", {"nil": True})
            inner = [INT_TYPES[4], STRING, BOOL, F64, t_slice(INT_TYPES[3])]
            if self.structs:
                s = r.choice(self.structs)
                inner += [s, t_ptr(s)]
            it = r.choice(inner)
            iv = self.value(it)
            return V(t, "interface{}(%s)" % iv.go, {"type": it.rtname})
        if k == "error":
            c = r.randint(0, 4)
            if c == 0:
                return V(t, "error(nil)", {"nil": True})
            msg = r.choice([w.decode("latin-1") for w in WORDS[:6]] +
                           ["file not found", "E" * 100, "permission denied: /etc/x"])
            if c == 4:
                return V(t, "error(&MyErr{%s})" % go_quote(msg.encode()),
                         {"type": "*main.MyErr", "msg": msg.encode(), "msg_known": False})
            return V(t, "errors.New(%s)" % go_quote(msg.encode()),
                     {"type": "*errors.errorString", "msg": msg.encode(), "msg_known": True})
        raise ValueError(k)


# ------------------------------------------------------------------ program


class Func:
    def __init__(self, idx, kind):
        self.idx = idx
        self.kind = kind          # plain value ptr closure variadic generic
        self.name = "f%03d" % idx
        self.params = []          # [(name, T)]
        self.results = []         # [(name or None, T)]
        self.named_results = False
        self.recv = None          # T of the receiver (R or *R)
        self.calls = []           # [Call]
        self.closure_param = None  # (name, T) captured by the closure
        self.tparams = None       # generic: the T of each instantiation call

    def gonames(self):
        """Names the Go runtime gives the traced functions (prefixes)."""
        if self.kind == "value":
            return "main.%s.%s" % (self.recv.go, self.name)
        if self.kind == "ptr":
            return "main.(*%s).%s" % (self.recv.elem.go, self.name)
        if self.kind == "closure":
            return "main.%s.func1" % self.name
        return "main." + self.name


class Call:
    def __init__(self, f, ordinal, key):
        self.f = f
        self.ordinal = ordinal
        self.key = key            # "c<N>"
        self.maker = None         # closures: the call of the function that made it
        self.tparam = None        # generics: the type argument
        self.args = []            # [(slot name, T, V)] receiver first
        self.results = []         # [(slot name, T, V)]


class Program:
    pass


def generate(seed, gover, nfuncs=12):
    g = Gen(seed, gover, nfuncs)
    r = g.r
    funcs = []
    recvT = t_struct("R", [INT_TYPES[2], STRING])
    for i in range(nfuncs):
        kinds = ["plain"] * 6 + ["value", "ptr", "closure", "variadic"]
        if g.generics:
            kinds += ["generic", "generic"]
        f = Func(i, r.choice(kinds))
        np = r.choice([0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 14])
        nr = r.choice([0, 1, 1, 2, 2, 3])
        f.params = [("a%d" % j, g.rand_type()) for j in range(np)]
        f.results = [(None, g.rand_type()) for _ in range(nr)]
        f.named_results = r.random() < 0.5
        if f.named_results:
            f.results = [("r%d" % j, t) for j, (_, t) in enumerate(f.results)]
        if f.kind == "variadic":
            f.params.append(("a%d" % np, t_slice(r.choice([INT_TYPES[3], STRING, INT_TYPES[0]]))))
        if f.kind in ("value", "ptr"):
            rt = recvT if r.random() < 0.3 else g.rand_struct(0, big=r.random() < 0.4)
            f.recv = rt if f.kind == "value" else t_ptr(rt)
        elif f.kind == "closure":
            f.closure_param = ("c0", r.choice(INT_TYPES + [STRING]))
        elif f.kind == "generic":
            # one type parameter P; a0 has type P; results: (P, the rest)
            f.params.insert(0, ("a0p", None))
            f.params = [("a%d" % j, t) for j, (_, t) in enumerate(f.params)]
            f.results = f.results[:2]
            f.results.insert(0, ("r0" if f.named_results else None, None))
            if f.named_results:
                f.results = [("r%d" % j, t) for j, (_, t) in enumerate(f.results)]
        funcs.append(f)

    # calls: each function 2-3 times, in a shuffled order
    order = []
    for f in funcs:
        order += [f] * r.choice([2, 3])
    r.shuffle(order)
    calls = []
    for f in order:
        c = Call(f, len(f.calls), "c%d" % len(calls))
        pt = None
        if f.kind == "generic":
            cands = [INT_TYPES[3], STRING, INT_TYPES[0], F64]
            if g.structs:
                cands.append(r.choice(g.structs))
            pt = r.choice(cands)
            c.tparam = pt
        if f.recv is not None:
            c.args.append(("r", f.recv, g.value(f.recv)))
        for name, t in f.params:
            t = t or pt
            c.args.append((name, t, g.value(t)))
        for j, (name, t) in enumerate(f.results):
            t = t or pt
            c.results.append((name or "~r%d" % j, t, None if (f.kind == "generic" and j == 0) else g.value(t)))
        if f.kind == "generic":
            # result 0 is a0 echoed
            n, t, _ = c.results[0]
            c.results[0] = (n, t, c.args[0][2])
        if f.kind == "closure":
            mf = Func(f.idx, "maker")
            m = Call(mf, c.ordinal, c.key + "m")
            m.args.append(("c0", f.closure_param[1], g.value(f.closure_param[1])))
            m.results.append(("~r0", T("func", "func" + sig(f), 8, 8), V(None, "", {})))
            c.maker = m
        f.calls.append(c)
        calls.append(c)

    p = Program()
    p.seed, p.gover, p.funcs, p.calls, p.structs = seed, gover, funcs, calls, g.structs
    p.regabi = g.regabi
    p.recvT = recvT
    p.source = emit(g, p)
    return p


def sig(f, pt=None):
    ps = []
    for i, (name, t) in enumerate(f.params):
        tg = t.go if t is not None else "P"
        if f.kind == "variadic" and i == len(f.params) - 1:
            tg = "..." + t.elem.go
        ps.append("%s %s" % (name, tg))
    rs = []
    for name, t in f.results:
        tg = t.go if t is not None else "P"
        rs.append("%s %s" % (name, tg) if f.named_results else tg)
    res = ""
    if len(rs) == 1 and not f.named_results:
        res = " " + rs[0]
    elif rs:
        res = " (" + ", ".join(rs) + ")"
    return "(%s)%s" % (", ".join(ps), res)


def emit(g, p):
    out = []
    w = out.append
    w("// Code generated by tests/difftrace/gen.py seed=%d go=%d.%d; DO NOT EDIT.\n" %
      (p.seed, p.gover[0], p.gover[1]))
    w("package main\n\nimport (\n\t\"errors\"\n\t\"fmt\"\n\t\"math\"\n\t\"os\"\n\t\"unsafe\"\n)\n")
    w("var _ = errors.New\nvar _ = math.Float64frombits\n")
    w("""
// sinkOn is false at run time; the compiler cannot know it, so every
// argument stays live.
var sinkOn = len(os.Args) > 99

//go:noinline
func sink(xs ...interface{}) { fmt.Fprintln(os.Stderr, xs...) }

// The truth goes to the file $DIFFTRACE_TRUTH (else stderr).
var truth = openTruth()

func openTruth() *os.File {
	if p := os.Getenv("DIFFTRACE_TRUTH"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			panic(err)
		}
		return f
	}
	return os.Stderr
}

// dump writes the memory image of one value: D <call> <slot> <hex>.
//go:noinline
func dump(call, slot string, p unsafe.Pointer, n uintptr) {
	b := make([]byte, n)
	for i := uintptr(0); i < n; i++ {
		b[i] = *(*byte)(unsafe.Pointer(uintptr(p) + i))
	}
	fmt.Fprintf(truth, "D %s %s %x\\n", call, slot, b)
}

// word writes one more word the program knows: W <call> <what> <hex>.
func word(call, what string, v uintptr) { fmt.Fprintf(truth, "W %s %s %x\\n", call, what, v) }

func mkbytes(s string, c int) []byte { b := make([]byte, len(s), c); copy(b, s); return b }

func mkchan(c, n int) chan int {
	ch := make(chan int, c)
	for i := 0; i < n; i++ {
		ch <- i
	}
	return ch
}

func newI64(v int64) *int64 { return &v }

//go:noinline
func hfunA(x int) int { return x + 1 }

//go:noinline
func hfunB(x int) int { return x * 2 }

func mkadder(k int) func(int) int { return func(x int) int { return x + k } }

type MyErr struct{ msg string }

func (e *MyErr) Error() string { return e.msg }

type R struct {
	F0 int32
	F1 string
}
""")
    for s in p.structs:
        w("type %s struct {\n" % s.go)
        for name, ft, _ in s.fields:
            w("\t%s %s\n" % (name, ft.go))
        w("}\n")
    w("\n")
    for f in p.funcs:
        w("var n%s int\n" % f.name)
        argnames = [n for n, _ in f.params]
        if f.recv is not None:
            argnames = ["r"] + argnames
        body = []
        body.append("\tn%s++\n" % f.name)
        if f.kind == "closure":
            argnames.append("c0")
        body.append("\tif sinkOn {\n\t\tsink(%s)\n\t}\n" % ", ".join(['"%s"' % f.name] + argnames))
        if f.kind == "generic":
            rest = [c for c in f.results[1:]]
            body.append("\tswitch n%s {\n" % f.name)
            for c in f.calls:
                vals = ["a0"] + [v.go for _, _, v in c.results[1:]]
                body.append("\tcase %d:\n\t\treturn %s\n" % (c.ordinal + 1, ", ".join(vals)))
            body.append("\t}\n")
            zero = ["a0"] + ["%s" % zero_of(t) for _, t in rest]
            body.append("\treturn %s\n" % ", ".join(zero))
        elif f.results:
            body.append("\tswitch n%s {\n" % f.name)
            for c in f.calls:
                body.append("\tcase %d:\n\t\treturn %s\n" % (c.ordinal + 1, ", ".join(v.go for _, _, v in c.results)))
            body.append("\t}\n")
            body.append("\treturn %s\n" % ", ".join(zero_of(t) for _, t in f.results))
        body = "".join(body)
        if f.kind == "closure":
            cn, ct = f.closure_param
            w("//go:noinline\nfunc %s(%s %s) func%s {\n\treturn func%s {\n%s\t}\n}\n\n" %
              (f.name, cn, ct.go, sig(f), sig(f), body))
        elif f.kind in ("value", "ptr"):
            w("//go:noinline\nfunc (r %s) %s%s {\n%s}\n\n" % (f.recv.go, f.name, sig(f), body))
        elif f.kind == "generic":
            w("//go:noinline\nfunc %s[P any]%s {\n%s}\n\n" % (f.name, sig(f), body))
        else:
            w("//go:noinline\nfunc %s%s {\n%s}\n\n" % (f.name, sig(f), body))
    # calls
    for c in p.calls:
        f = c.f
        w("//go:noinline\nfunc call_%s() {\n" % c.key)
        names = []
        for slot, t, v in c.args:
            vn = "v_" + slot
            w("\tvar %s %s = %s\n" % (vn, t.go, v.go))
            w("\tdump(\"%s\", \"%s\", unsafe.Pointer(&%s), unsafe.Sizeof(%s))\n" % (c.key, slot, vn, vn))
            extra_words(w, c.key, slot, t, vn)
            names.append(vn)
        callee = f.name
        if f.kind == "closure":
            m = c.maker
            _, ct, cv = m.args[0]
            w("\tvar v_mk_c0 %s = %s\n" % (ct.go, cv.go))
            w("\tdump(\"%s\", \"c0\", unsafe.Pointer(&v_mk_c0), unsafe.Sizeof(v_mk_c0))\n" % m.key)
            w("\tcl := %s(v_mk_c0)\n" % f.name)
            w("\tdump(\"%s\", \"~r0\", unsafe.Pointer(&cl), unsafe.Sizeof(cl))\n" % m.key)
            extra_words(w, m.key, "~r0", m.results[0][1], "cl")
            callee = "cl"
        if f.kind in ("value", "ptr"):
            callee = "v_r.%s" % f.name
            names = names[1:]
        if f.kind == "generic":
            callee = "%s[%s]" % (f.name, c.tparam.go)
        if f.kind == "variadic" and names:
            names[-1] += "..."
        call = "%s(%s)" % (callee, ", ".join(names))
        if c.results:
            rn = ["x_" + s.replace("~", "") for s, _, _ in c.results]
            w("\t%s := %s\n" % (", ".join(rn), call))
            for (slot, t, _), n in zip(c.results, rn):
                w("\tdump(\"%s\", \"%s\", unsafe.Pointer(&%s), unsafe.Sizeof(%s))\n" % (c.key, slot, n, n))
                extra_words(w, c.key, slot, t, n)
        else:
            w("\t%s\n" % call)
        w("}\n\n")
    w("func main() {\n")
    for c in p.calls:
        w("\tcall_%s()\n" % c.key)
    w("\tfmt.Fprintln(truth, \"done\")\n\ttruth.Close()\n}\n")
    return "".join(out)


def extra_words(w, key, slot, t, vn):
    """Words behind a value the comparator may need: a func value's code
    pointer (gosnoop may show the function rather than the closure)."""
    if t.kind == "func":
        w("\tif %s != nil {\n\t\tword(\"%s\", \"%s.code\", **(**uintptr)(unsafe.Pointer(&%s)))\n\t}\n" %
          (vn, key, slot, vn))


def zero_of(t):
    k = t.kind
    if k in ("int", "uint", "float", "complex"):
        return "%s(0)" % t.go
    if k == "bool":
        return "false"
    if k == "string":
        return '""'
    if k in ("struct", "array"):
        return "%s{}" % t.go
    return "nil"


FUNC_KINDS = {"plain", "value", "ptr", "closure", "variadic", "generic"}
VALUE_KINDS = {"int", "uint", "bool", "float", "complex", "string", "bytes", "slice", "array",
               "struct", "bigstruct", "ptr", "map", "chan", "func", "iface", "error",
               "stackarg", "stackresult", "manyregs"}


def coverage(prog):
    """The function kinds and value kinds a program does not exercise (a
    fixed seed set must cover them all)."""
    fk, vk = set(), set()

    def walk(t):
        k = t.kind
        if k == "struct" and (t.size > 64 or any(ft.kind == "array" and ft.count > 1
                                                 for _, ft, _ in t.fields)):
            k = "bigstruct"
        vk.add(k)
        for _, ft, _ in t.fields:
            walk(ft)
        if t.kind in ("array", "slice") and t.elem is not None:
            walk(t.elem)
    for c in prog.calls:
        fk.add(c.f.kind)
        for _, t, _ in c.args + c.results:
            walk(t)
        fr = frame([(s, t) for s, t, _ in c.args], [(s, t) for s, t, _ in c.results], True)
        for s, t, _ in c.args:
            if any(loc[0] == "s" for loc, _, _, _ in fr[s]):
                vk.add("stackarg")
            if any(loc == ("i", 8) for loc, _, _, _ in fr[s]):
                vk.add("manyregs")
        for s, t, _ in c.results:
            if any(loc[0] == "s" for loc, _, _, _ in fr[s]):
                vk.add("stackresult")
    want = FUNC_KINDS if prog.gover >= (1, 18) else FUNC_KINDS - {"generic"}
    return (want - fk) | (VALUE_KINDS - vk)


def parse_version(s):
    """'go1.19.8' / '1.19' -> (1, 19)."""
    s = s.strip()
    if s.startswith("go"):
        s = s[2:]
    parts = s.split(".")
    return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()))


if __name__ == "__main__":
    seed = int(sys.argv[1])
    gover = parse_version(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 12
    sys.stdout.write(generate(seed, gover, n).source)
