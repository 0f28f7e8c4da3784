#!/usr/bin/env bash
# deps.sh - install what gosnoop's build, tests and demo need (Debian
# bookworm packages), only what is missing. Run as root, or with sudo.
set -euo pipefail
pkgs=(
	make gcc clang llvm pkg-config	# build; clang -target bpf, llvm-strip
	libclang-rt-14-dev		# libFuzzer + sanitizer runtimes (fuzz/)
	binutils			# nm, readelf, objcopy, addr2line: test ground truth
	bpftool libbpf-dev		# skeletons, libbpf 1.1
	libelf-dev libdw-dev zlib1g-dev	# ELF and DWARF
	libzstd-dev liblzma-dev libbz2-dev	# static libdw/libelf need them
	libcapstone-dev			# disassembly
	libcmocka-dev			# unit tests
	libmicrohttpd-dev libyaml-dev	# gosnoop serve: HTTP, config
	libcrypt-dev openssl curl	# serve's basic auth (bcrypt); its TLS tests
	prometheus			# promtool and a real server scrape serve
	golang-go			# fixtures are built at test time
	python3				# test runner and end-to-end tests
	util-linux			# setpriv (non-root tests), unshare (container test)
	podman runc python3-yaml	# make image; test_daemonset runs deploy/daemonset.yaml
	bpftrace			# benchmarks compare against it
	strace				# test_ktrace's ground truth; test_daemonset: no call refused without CAP_SYS_ADMIN
	qemu-system-x86 busybox-static	# kernel matrix: tests/vm boots Debian kernels
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
# npm fetches the esbuild corpus; the machine's Node.js may bring its own
# npm (nodesource), which conflicts with Debian's package of that name.
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
	echo "  DEPS     installing: ${missing[*]}"
	sudo=
	[[ $(id -u) == 0 ]] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
