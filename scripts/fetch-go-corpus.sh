#!/usr/bin/env bash
# fetch-go-corpus.sh - fetch gosnoop's corpus of real, third-party Go
# executables (linux/amd64): one esbuild release per Go toolchain from go1.13
# to go1.26, from the npm registry, each checked against a recorded sha256.
#
# usage: fetch-go-corpus.sh [--offline] [--list] [DIR] [NAME_SUBSTRING...]
#
#   DIR             where the binaries go (default: $GOSNOOP_CORPUS or
#                   ~/.cache/gosnoop/corpus, outside the repo); each is named
#                   esbuild-<version>-<goversion>
#   NAME_SUBSTRING  only entries whose name contains one of these
#   --offline       npm answers from its cache only
#   --list          print the table and exit
#
# Per entry: `npm pack` downloads the package tarball to a temporary
# directory (nothing installed, no lifecycle scripts; npm checks the
# registry's integrity hash), the Go binary alone is extracted and its
# sha256 compared with the table below. A binary already in DIR with the
# right sha256 is kept (idempotent; npm runs --prefer-offline, so a warm npm
# cache needs no network). DIR/MANIFEST.tsv describes every entry (name,
# npm spec, Go version, sha256, present, notes) for the tests
# (tests/e2e/gstest.py corpus_manifest). Exit status 1 if a selected entry
# could not be had. Needs npm (>= 7.18), tar, sha256sum.

set -euo pipefail

# name|npm spec|member in the tarball|Go version|sha256 of the binary|notes
# (Go versions from `go version BINARY`, or runtime.buildVersion where the
# binary has no buildinfo)
CORPUS_TABLE='esbuild-0.0.9-go1.13.8|esbuild-linux-64@0.0.9|package/bin/esbuild|go1.13.8|43d648757d7020791399a0123061eb858655d125f7dc5d88b1dc4472d1665d1c|not stripped: .symtab + compressed DWARF (.zdebug_*); buildinfo in pre-1.18 pointer format; no --version flag
esbuild-0.6.1-go1.14.2|esbuild-linux-64@0.6.1|package/bin/esbuild|go1.14.2|6719a8760b567ca06883020e921fdc37347de9d55c095f110bebeb15f811a714|not stripped: .symtab + compressed DWARF (.zdebug_*); last unstripped esbuild
esbuild-0.8.34-go1.15.5|esbuild-linux-64@0.8.34|package/bin/esbuild|go1.15.5|7dbbbcbb7edb9eac58fe6f1fc37004e3ece69df4727574167cfb621a705fe397|stripped (-s -w); --serve yes, --servedir no
esbuild-0.11.23-go1.16.3|esbuild-linux-64@0.11.23|package/bin/esbuild|go1.16.3|af27612ed10b2d50cf6bc66870a3d39b37971ef26110cc6df1de4f6f0fa199b1|stripped (-s -w); --serve/--servedir
esbuild-0.14.10-go1.17.5|esbuild-linux-64@0.14.10|package/bin/esbuild|go1.17.5|05d6c07231c222b6d9bd05fdec81a11a743493f045233f41126108409b43de8f|stripped; first register-ABI release; serve exits when stdin closes
esbuild-0.14.38-go1.18|esbuild-linux-64@0.14.38|package/bin/esbuild|go1.18|ec2c89cda4f815869fc12e879cbbda7b78cb1d399295d0be8c385a4416dae682|stripped; Go 1.18.0 (version string is plain go1.18)
esbuild-0.15.18-go1.19.3|esbuild-linux-64@0.15.18|package/bin/esbuild|go1.19.3|bada46be9dec28c6a189593aa239e0edfcfd814ec07d282a71eff4db1bb086f6|stripped; last esbuild-linux-64 release
esbuild-0.17.19-go1.20.4|@esbuild/linux-x64@0.17.19|package/bin/esbuild|go1.20.4|1cddecd699b9e839e3c5cad6b9b0bf31f16e6e536c9885ca4cfb94d9ac60d3b8|stripped
esbuild-0.23.1-go1.22.5|@esbuild/linux-x64@0.23.1|package/bin/esbuild|go1.22.5|eff84696eb6f0eeef2964951767d290c222baa4a08c4ff9a48a94080325fef66|stripped
esbuild-0.25.9-go1.23.12|@esbuild/linux-x64@0.25.9|package/bin/esbuild|go1.23.12|92d1ca653cf188da8d7650ddfe1c32d5a139bf3a9a2808f3e622e6d667ce0389|stripped; has buildinfo (esbuild >= 0.27.0 does not)
esbuild-0.27.2-go1.25.5|@esbuild/linux-x64@0.27.2|package/bin/esbuild|go1.25.5|ecd2aeff7d78a9feefa96d9c6f3bb9a9cbb38cc74ec3e7f044e8e6ed02e33d00|stripped; NO buildinfo (patched linker): `go version` fails, read runtime.buildVersion
esbuild-0.28.2-go1.26.5|@esbuild/linux-x64@0.28.2|package/bin/esbuild|go1.26.5|e1698a3d5c6c0798fee4fd3b5cc816651f460c63d390a7a26ea4beb0b1884100|stripped; NO buildinfo and NO .note.go.buildid (-buildid=)'

die() { echo "fetch-go-corpus: $*" >&2; exit 1; }
help() { sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; }

npm_mode=--prefer-offline
list_only=0
pos=()
for a in "$@"; do
  case "$a" in
    --offline) npm_mode=--offline ;;
    --list) list_only=1 ;;
    -h|--help) help; exit 0 ;;
    -*) help >&2; die "unknown option: $a" ;;
    *) pos+=("$a") ;;
  esac
done

if (( list_only )); then
  while IFS='|' read -r name spec _ gover _ _; do
    printf '%-36s %-34s %s\n' "$name" "$spec" "$gover"
  done <<<"$CORPUS_TABLE"
  exit 0
fi

dir=${pos[0]:-${GOSNOOP_CORPUS:-$HOME/.cache/gosnoop/corpus}}
only=("${pos[@]:1}")
for t in npm tar sha256sum; do command -v "$t" >/dev/null || die "$t not found"; done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gosnoop-corpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

wanted() {
  (( ${#only[@]} == 0 )) && return 0
  local s
  for s in "${only[@]}"; do [[ $1 == *"$s"* ]] && return 0; done
  return 1
}
sum_of() { sha256sum "$1" | awk '{print $1}'; }
good() { [[ -f $1 ]] && [[ $(sum_of "$1") == "$2" ]]; }

# fetch NAME SPEC MEMBER SHA -> 0 when DIR/NAME is the binary
fetch() {
  local name=$1 spec=$2 member=$3 sha=$4 w="$tmp/$1" tgz got
  mkdir -p "$w/x"
  if ! (cd "$w" && npm pack "$npm_mode" --ignore-scripts --silent --pack-destination "$w" "$spec" \
          </dev/null >/dev/null 2>"$w/npm.err"); then
    echo "FAILED    $name: npm pack $spec:" >&2
    grep -v 'Unknown user config' "$w/npm.err" | sed 's/^/          /' >&2 || true
    return 1
  fi
  tgz=$(find "$w" -maxdepth 1 -name '*.tgz' | head -1)
  if [[ -z $tgz ]] || ! tar -xzf "$tgz" -C "$w/x" "$member" 2>/dev/null; then
    echo "FAILED    $name: no $member in the tarball of $spec" >&2
    return 1
  fi
  got=$(sum_of "$w/x/$member")
  if [[ $got != "$sha" ]]; then
    echo "FAILED    $name: sha256 $got, expected $sha" >&2
    return 1
  fi
  install -m 0755 "$w/x/$member" "$dir/$name.part"
  mv -f "$dir/$name.part" "$dir/$name"
  rm -rf "$w"
}

fetched=0 present=0 failed=0
while IFS='|' read -r name spec member gover sha notes; do
  wanted "$name" || continue
  if good "$dir/$name" "$sha"; then
    echo "present   $name"
    present=$((present + 1))
  else
    echo "fetching  $name ($spec)"
    if fetch "$name" "$spec" "$member" "$sha"; then
      echo "ok        $name"
      fetched=$((fetched + 1))
    else
      failed=$((failed + 1))
    fi
  fi
done <<<"$CORPUS_TABLE"

{
  printf 'name\tnpm_spec\tgo_version\tsha256\tpresent\tnotes\n'
  while IFS='|' read -r name spec member gover sha notes; do
    p=no
    good "$dir/$name" "$sha" && p=yes
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$spec" "$gover" "$sha" "$p" "$notes"
  done <<<"$CORPUS_TABLE"
} >"$dir/MANIFEST.tsv"

echo "done: $fetched fetched, $present already present, $failed failed -> $dir"
(( failed == 0 ))
