#!/usr/bin/env bash
# demo.sh - what `make demo` shows: gosnoop reading the bundled Go program
# (tests/fixtures/demo), its stripped twin, and a running process.
set -euo pipefail
cd "$(dirname "$0")/.."
G=build/gosnoop
tests/fixtures/build.sh build/fixtures >/dev/null
demo=build/fixtures/demo
run() { printf '\n$ %s\n' "$*"; "$@"; }

run $G info build/fixtures/demo-stripped
run $G list build/fixtures/demo-stripped 'main.*'
$demo -pause 5s -rounds 1 >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
sleep 0.2
run $G list -p $pid 'main.(*Point).*' 'main.greet'
if [[ $(id -u) != 0 ]]; then
	echo "(run as root to see the tracing commands)"
	exit 0
fi
# The goroutines of the stripped demo, from its first one on.
run $G sched -- build/fixtures/demo-stripped -rounds 3
# Calls with typed arguments and results (DWARF), per goroutine.
run $G trace 'main.greet' 'main.sum' -- $demo -rounds 2
# Which goroutine made each write(2) to stdout.
run $G ktrace -f 'fd == 1' -o count tracepoint:syscalls:sys_enter_write \
	-- build/fixtures/demo-stripped -rounds 1
