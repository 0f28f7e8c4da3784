"""Shell completion: `gosnoop completion bash`, driven through bash itself
(COMP_WORDS/COMP_LINE, as bash sets them on TAB), must offer the commands
and options that `--help` and the man page docs/gosnoop.8 name, each
command's options from its own table (bpftool's selftests check its help,
man page and bash completion the same way: test_bash_completion,
test_bpftool_synctypes.py); and function names from the binary on the
line, which `gosnoop list` and nm agree on."""
import os
import re
import shlex
import shutil
import subprocess

import gstest
from gstest import GOSNOOP, ROOT, Skip, fixture, run

MAN = os.path.join(ROOT, "docs", "gosnoop.8")
# an option token: -x or --long-name, not part of a word, path or expression
OPT = re.compile(r"(?<![\w/.'>-])(-[a-zA-Z]|--[a-z][a-z0-9-]+)(?![\w-])")
# options every command takes, documented once (gosnoop --help, man OPTIONS)
SHARED = {"-h", "--help", "-v", "--verbose", "-j", "--json"}
# in a command's option table but on purpose not in its --help or the man
# page; each with why
UNDOCUMENTED = {
    ("ktrace", "--empty-program"): "bench/ktrace.py's floor, not for users",
    ("ktrace", "--record-floor-program"): "bench/ktrace.py's floor, not for users",
    ("count", "--per-goid"): "count and latency share one table; count refuses it in one line",
    ("latency", "--top"): "count and latency share one table; latency refuses it in one line",
}


def _script():
    r = run(["completion", "bash"])
    assert r.stdout.startswith("# bash completion for gosnoop"), r.stdout[:200]
    path = os.path.join(gstest.tmpdir(), "gosnoop.bash")
    with open(path, "w") as f:
        f.write(r.stdout)
    return path


def complete(script, line):
    """What bash's TAB offers at the end of line (COMPREPLY), through
    the script, with this build's gosnoop first on PATH."""
    if not shutil.which("bash"):
        raise Skip("no bash")
    words = []
    for w in shlex.split(line) + ([""] if line.endswith(" ") else []):
        # bash splits words at COMP_WORDBREAKS' ':' too, ':' a word itself
        parts = w.split(":")
        for k, part in enumerate(parts):
            if k:
                words.append(":")
            if part or k == len(parts) - 1:
                words.append(part)
    arr = " ".join(shlex.quote(w) for w in words)
    prog = (f"source {shlex.quote(script)}\n"
            f"COMP_WORDS=({arr}); COMP_CWORD={len(words) - 1}\n"
            f"COMP_LINE={shlex.quote(line)}; COMP_POINT=${{#COMP_LINE}}\n"
            "_gosnoop; printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    env = dict(os.environ, PATH=os.path.dirname(os.path.abspath(GOSNOOP)) + ":" +
               os.environ.get("PATH", ""))
    r = subprocess.run(["bash", "--norc", "-c", prog], capture_output=True, text=True,
                       timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    return [l for l in r.stdout.split("\n") if l]


def _man_sections():
    """COMMANDS entries of the man page: {command: text}, and the text of
    its OPTIONS section."""
    text = open(MAN).read().replace("\\-", "-").replace("\\fB", "").replace("\\fR", "")
    cmds, cur, section, opts = {}, None, None, []
    for line in text.split("\n"):
        if line.startswith(".SH"):
            section, cur = line[4:].strip(), None
            continue
        m = re.match(r"\.B (?:gosnoop )?([a-z]+)\b", line)
        if section == "COMMANDS" and m:
            cur = m.group(1)
            cmds.setdefault(cur, "")
        if section == "COMMANDS" and cur:
            cmds[cur] += line + "\n"
        if section == "OPTIONS":
            opts.append(line)
    return cmds, "\n".join(opts)


def _help_commands():
    out = run(["--help"]).stdout
    body = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [l.split()[0] for l in body.splitlines() if l.strip()], out


def test_completion_commands_and_options_match_help_and_man_page():
    script = _script()
    help_cmds, main_help = _help_commands()
    man_cmds, man_opts = _man_sections()
    comp_cmds = complete(script, "gosnoop ")
    assert sorted(comp_cmds) == sorted(help_cmds), (comp_cmds, help_cmds)
    assert sorted(man_cmds) == sorted(help_cmds), (sorted(man_cmds), help_cmds)
    assert complete(script, "gosnoop sch") == ["sched"]
    # main's own options
    comp_global = set(complete(script, "gosnoop -"))
    help_global = set(OPT.findall(main_help.split("Options:", 1)[1]))
    assert comp_global == help_global, (comp_global, help_global)
    assert comp_global == set(OPT.findall(man_opts)), (comp_global, man_opts)
    bad = []
    for cmd in help_cmds:
        comp = set(complete(script, f"gosnoop {cmd} -"))
        assert SHARED & comp >= {"-h", "--help"}, (cmd, comp)
        # a prefix of the command completes the same
        assert set(complete(script, f"gosnoop {cmd[:-1] if len(cmd) > 5 else cmd} -")) == comp
        table = comp - SHARED
        help_text = run([cmd, "--help"]).stdout
        helped = set(OPT.findall(help_text)) - SHARED
        manned = set(OPT.findall(man_cmds[cmd])) - SHARED
        for o in sorted(table | helped | manned):
            if (cmd, o) in UNDOCUMENTED:
                assert o in table and o not in helped, (cmd, o)
                continue
            where = [n for n, s in (("completion", table), ("--help", helped),
                                    ("man page", manned)) if o not in s]
            if where:
                bad.append(f"{cmd} {o}: not in {', '.join(where)}")
    assert not bad, "\n".join(bad)


def test_completion_values_functions_and_pids():
    """An option's value: -p offers the running Go processes' PIDs (and
    not this python's); --perfetto a file. A PATTERN: the function names
    of the binary on the line (PATH, -p PID or -- CMD), as nm has them."""
    script = _script()
    demo = fixture("demo")
    got = complete(script, f"gosnoop trace {demo} main.")
    assert got and all(n.startswith("main.") for n in got), got
    # exactly what list prints (list itself is checked against nm)
    listed = {f["name"] for f in gstest.run_json(["list", demo, "main.*"])}
    assert set(got) == listed, (got, listed)
    # patterns before '--' with -- CMD; count takes the same
    got2 = complete(script, f"gosnoop count main.m -- {demo}")
    # (the word completed is the last one: after -- it is CMD's argument)
    assert "main.main" not in got2
    got3 = complete(script, "gosnoop count main.ma")
    assert got3 == [] or all(os.path.exists(g) or g.startswith("main.ma") for g in got3)
    p = subprocess.Popen([fixture("sched"), "-sleep", "20s", "-sleepers", "1", "-hold", "20s"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import time
        time.sleep(0.3)
        pids = complete(script, "gosnoop sched -p ")
        assert str(p.pid) in pids, pids
        assert str(os.getpid()) not in pids      # python is not Go
        got = complete(script, f"gosnoop trace -p {p.pid} main.sl")
        want = {f["name"] for f in gstest.run_json(["list", fixture("sched"), "main.sl*"])}
        assert "main.sleeper" in got and set(got) == want, (got, want)
    finally:
        p.kill()
        p.wait()
    d = gstest.tmpdir()
    open(os.path.join(d, "timeline.json"), "w").close()
    assert complete(script, f"gosnoop sched --perfetto {d}/time") == [f"{d}/timeline.json"]
    # tracepoints, through the ':' bash splits words at
    got = complete(script, "gosnoop ktrace tracepoint:sched:sched_swi")
    assert got == ["sched_switch"], got   # what follows the last ':'
    assert complete(script, "gosnoop completion ") == ["bash"]
    # ktrace -c: the comms running (this python's among them)
    mine = open("/proc/self/comm").read().strip()
    assert mine in complete(script, f"gosnoop ktrace -c {mine[:3]}")
    # --start: a start function of the binary on the line
    got = complete(script, f"gosnoop sched {fixture('sched')} --start main.sl")
    assert "main.sleeper" in got and all(g.startswith("main.sl") for g in got), got


def test_completion_bad_shell():
    r = run(["completion", "zsh"], check=False)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "bash" in r.stderr, r.stderr


def test_make_install_puts_the_completion_in_place():
    """make install: the script where bash-completion looks for it, what
    the binary prints; the man page beside the binary."""
    build = os.path.relpath(os.path.dirname(os.path.abspath(GOSNOOP)), ROOT)
    if build.startswith(".."):
        raise Skip("gosnoop is not built in this tree")
    dest = gstest.tmpdir()
    # made again from this binary (-o below leaves an older script be)
    stale = os.path.join(ROOT, build, "gosnoop.bash")
    if os.path.exists(stale):
        os.remove(stale)
    # -o: the binary as it is (a shared tree may hold newer sources)
    r = subprocess.run(["make", "-s", "-C", ROOT, "-o", f"{build}/gosnoop", f"BUILD={build}",
                        "install", f"DESTDIR={dest}", "PREFIX=/usr"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    comp = os.path.join(dest, "usr/share/bash-completion/completions/gosnoop")
    assert open(comp).read() == run(["completion", "bash"]).stdout
    assert os.path.exists(os.path.join(dest, "usr/share/man/man8/gosnoop.8"))
    assert os.access(os.path.join(dest, "usr/bin/gosnoop"), os.X_OK)
