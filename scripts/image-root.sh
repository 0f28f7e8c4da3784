#!/usr/bin/env bash
# image-root.sh BINARY DIR - lay out the root of gosnoop's container image
# (Containerfile: FROM scratch, COPY of DIR): the binary, the shared
# libraries ldd lists for it (microhttpd and GnuTLS's chain; the rest is
# linked in statically, Makefile APP_LIBS) with the loader, each at the
# path ldd names, and the licence texts of gosnoop and of the Debian
# packages those libraries come from. Nothing else: no shell, no libc
# tools. Base images cannot be pulled here; this needs none.
set -euo pipefail
bin=${1:?usage: image-root.sh BINARY DIR}
root=${2:?usage: image-root.sh BINARY DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$root"
mkdir -p "$root/usr/bin" "$root/tmp" "$root/etc/gosnoop" "$root/usr/share/doc/gosnoop"
chmod 1777 "$root/tmp"
install -m 0755 "$bin" "$root/usr/bin/gosnoop"
install -m 0644 "$here/LICENSE" "$root/usr/share/doc/gosnoop/LICENSE"
# "libfoo.so.1 => /lib/.../libfoo.so.1 (0x...)" and "/lib64/ld-linux... (0x...)"
libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
for lib in $libs; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
	# the licence of the package that ships it (GnuTLS and friends are
	# LGPL/GPL: their notices travel with the copies)
	# (dpkg knows a file by the path its package installed, before or
	# after the /usr merge: try both)
	pkg=$( { dpkg -S "$lib" || dpkg -S "$(readlink -f "$lib")"; } 2>/dev/null |
		head -1 | cut -d: -f1) || pkg=
	if [[ -n $pkg && -f /usr/share/doc/$pkg/copyright ]]; then
		mkdir -p "$root/usr/share/doc/$pkg"
		cp /usr/share/doc/"$pkg"/copyright "$root/usr/share/doc/$pkg/"
	fi
done
# the Debian layout has /lib -> usr/lib; ldd names /lib/x86_64-linux-gnu
# paths and /lib64/ld-linux-x86-64.so.2 (the ELF interpreter), kept as is
echo "$root: gosnoop and $(echo "$libs" | wc -w) libraries ($(du -sh "$root" | cut -f1))"
