#!/usr/bin/env python3
"""The longest C functions under a tree (default src/): lines from the
line that names the function to its closing brace, longest first.

  scripts/longest-functions.py [DIR|FILE] [-n N]

Functions are found as the kernel style writes them: a line at column 0
that ends a declarator with ')', then '{' alone at column 0, then '}'
alone at column 0; good enough for this tree, not a C parser."""
import argparse
import os
import re

NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def functions(path):
    with open(path, errors="replace") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i] == "{":
            # the declarator: back to the line that starts at column 0
            j = i - 1
            while j > 0 and (lines[j][:1] in (" ", "\t") or lines[j] == ""):
                j -= 1
            m = NAME.search(lines[j])
            k = i + 1
            while k < len(lines) and lines[k] != "}":
                k += 1
            if m and not lines[j].startswith(("struct", "static const struct",
                                              "enum", "union", "#")):
                yield m.group(1), j + 1, k - j + 1
            i = k
        i += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", nargs="?", default="src", help="a tree or one .c file")
    ap.add_argument("-n", type=int, default=10)
    a = ap.parse_args()
    rows = []
    paths = [a.dir] if os.path.isfile(a.dir) else [
        os.path.join(root, fn) for root, _, files in os.walk(a.dir)
        for fn in files if fn.endswith(".c")]
    for p in paths:
        rows += [(n, p, name, line) for name, line, n in functions(p)]
    rows.sort(reverse=True)
    for n, p, name, line in rows[: a.n]:
        print(f"{n:5d}  {p}:{line}  {name}")


if __name__ == "__main__":
    main()
