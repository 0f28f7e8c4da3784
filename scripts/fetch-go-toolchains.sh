#!/usr/bin/env bash
# fetch-go-toolchains.sh - fetch Go toolchains other than the system's go1.19
# from Debian's archive, unpacked side by side in a cache outside the repo,
# for the differential trace test (tests/difftrace, tests/e2e/test_trace_diff.py).
#
# usage: fetch-go-toolchains.sh [--list] [CACHE]
#
#   CACHE   default: $GOSNOOP_GO_CACHE or ~/.cache/gosnoop/go
#   --list  print what is in the cache (one "go1.NN GOROOT" line per usable
#           toolchain) and exit without touching the network
#
# What it does, per toolchain (go1.15 from bullseye; go1.21, go1.22, go1.23
# from bookworm-backports; go1.24 from trixie):
#   - a private apt configuration in CACHE/apt: its own sources list (the
#     archive host of this machine's /etc/apt sources, the other suite), state
#     and cache directories; `apt-get update` and `apt-get download` use only
#     those (nothing in the system's apt state changes, nothing is installed)
#   - `dpkg -x` of golang-1.NN-go and golang-1.NN-src into CACHE/root, so the
#     toolchain is CACHE/root/usr/lib/go-1.NN
#   - a hello-world build with GOROOT set to it (GOCACHE=CACHE/gocache/1.NN,
#     GO111MODULE=off, GOTOOLCHAIN=local); only a toolchain that builds is
#     marked usable (CACHE/go1.NN.ok holds its GOROOT)
# A toolchain that cannot be had is reported, not fatal; already unpacked and
# verified toolchains are not fetched again (idempotent). The last lines are
# the usable toolchains, "go1.NN GOROOT".
#
# Build with one of them (what the tests do):
#   GOROOT=CACHE/root/usr/lib/go-1.NN GOCACHE=CACHE/gocache/1.NN GO111MODULE=off \
#   GOTOOLCHAIN=local GOFLAGS= CACHE/root/usr/lib/go-1.NN/bin/go build -o prog main.go

set -uo pipefail

list_only=0
cache=
for a in "$@"; do
  case "$a" in
    --list) list_only=1 ;;
    -h|--help) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option: $a" >&2; exit 2 ;;
    *) cache=$a ;;
  esac
done
cache=${cache:-${GOSNOOP_GO_CACHE:-$HOME/.cache/gosnoop/go}}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# version | suite | packages
TABLE="1.15|bullseye|golang-1.15-go golang-1.15-src
1.21|bookworm-backports|golang-1.21-go golang-1.21-src
1.22|bookworm-backports|golang-1.22-go golang-1.22-src
1.23|bookworm-backports|golang-1.23-go golang-1.23-src
1.24|trixie|golang-1.24-go golang-1.24-src"

list() {
  local v
  for v in 1.15 1.19 1.21 1.22 1.23 1.24; do
    if [[ $v == 1.19 ]]; then
      [[ -x /usr/lib/go-1.19/bin/go ]] && echo "go1.19 /usr/lib/go-1.19 (system)"
    elif [[ -f $cache/go$v.ok ]]; then
      echo "go$v $(cat "$cache/go$v.ok")"
    fi
  done
}

if [[ $list_only == 1 ]]; then list; exit 0; fi

for tool in apt-get dpkg; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found" >&2; exit 1; }
done

# The archive host this machine uses (deb822 "URIs:" or one-line "deb URL"),
# for the main archive (not -security, not third-party repositories).
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
  grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -1 | tr -d ' ')
mirror=${mirror%/}
mirror=${mirror:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -f $keyring ]] || { echo "error: $keyring missing (apt-get install debian-archive-keyring)" >&2; exit 1; }

root=$cache/root
apt=$cache/apt
mkdir -p "$root" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" "$cache/gocache"

suites=$(printf '%s\n' "$TABLE" | cut -d'|' -f2 | sort -u)
need_update=0
while IFS='|' read -r v suite pkgs; do
  [[ -f $cache/go$v.ok && -x $root/usr/lib/go-$v/bin/go ]] || need_update=1
done <<<"$TABLE"

APT=(apt-get -q -o Dir::Etc::sourcelist="$apt/sources.list" -o Dir::Etc::sourceparts=-
     -o Dir::State::lists="$apt/lists" -o Dir::Cache="$apt/cache"
     -o Dir::State::status=/var/lib/dpkg/status -o APT::Get::List-Cleanup=0
     -o Debug::NoLocking=1)
if [[ $need_update == 1 ]]; then
  : >"$apt/sources.list"
  for s in $suites; do
    echo "deb [signed-by=$keyring] $mirror $s main" >>"$apt/sources.list"
  done
  echo "apt: private update of $(echo $suites | tr '\n' ' ') from $mirror"
  if ! "${APT[@]}" update >"$apt/update.log" 2>&1; then
    echo "apt: update reported errors (see $apt/update.log); trying what was fetched" >&2
    grep -E '^(E|W):' "$apt/update.log" | head -5 | sed 's/^/  /' >&2
  fi
fi

hello=$cache/hello
mkdir -p "$hello"
cat >"$hello/main.go" <<'EOF'
package main

import "fmt"

func main() { fmt.Println("hello from", "go") }
EOF

built_ok() {  # version goroot
  local v=$1 gr=$2 out
  out=$(cd "$hello" && env -u GOPATH GOROOT="$gr" GOCACHE="$cache/gocache/$v" GO111MODULE=off \
        GOTOOLCHAIN=local GOFLAGS= GOPROXY=off "$gr/bin/go" build -o "$hello/hello-$v" main.go 2>&1) ||
    { echo "  build failed: $out" | head -5 >&2; return 1; }
  [[ $("$hello/hello-$v") == "hello from go" ]]
}

while IFS='|' read -r v suite pkgs; do
  gr=$root/usr/lib/go-$v
  if [[ -f $cache/go$v.ok && -x $gr/bin/go ]]; then
    echo "present   go$v ($("$gr/bin/go" version 2>/dev/null | awk '{print $3}'))"
    continue
  fi
  rm -f "$cache/go$v.ok"
  echo "fetching  go$v from $suite: $pkgs"
  ok=1
  for p in $pkgs; do
    if ! ls "$apt/debs/${p}_"*.deb >/dev/null 2>&1; then
      if ! (cd "$apt/debs" && "${APT[@]}" download "$p" >"$apt/download-$p.log" 2>&1); then
        echo "UNAVAILABLE go$v: apt-get download $p failed: $(grep -E '^E:' "$apt/download-$p.log" | head -1)" >&2
        ok=0; break
      fi
    fi
    deb=$(ls -t "$apt/debs/${p}_"*.deb | head -1)
    if ! dpkg -x "$deb" "$root"; then
      echo "UNAVAILABLE go$v: dpkg -x $deb failed" >&2
      ok=0; break
    fi
  done
  [[ $ok == 1 ]] || continue
  if [[ ! -x $gr/bin/go ]]; then
    echo "UNAVAILABLE go$v: no $gr/bin/go after unpacking" >&2
    continue
  fi
  if built_ok "$v" "$gr"; then
    echo "$gr" >"$cache/go$v.ok"
    echo "ok        go$v ($("$gr/bin/go" version | awk '{print $3}')) builds hello world"
  else
    echo "UNUSABLE  go$v: $gr does not build hello world" >&2
  fi
done <<<"$TABLE"

echo "toolchains in $cache:"
list
