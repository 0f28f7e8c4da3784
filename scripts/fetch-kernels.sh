#!/usr/bin/env bash
# fetch-kernels.sh [CACHE] - fetch the Debian kernels the kernel matrix boots
# (tests/vm/) into CACHE (default ~/.cache/gosnoop/kernels), unpacked:
#   CACHE/<release>/root/boot/vmlinuz-<release>, CACHE/<release>/root/lib/modules/<release>/
# Nothing is installed system-wide: apt runs with a private sources list and
# state directory inside CACHE, and packages are only downloaded and unpacked
# with dpkg -x. Idempotent: a kernel already unpacked is not fetched again.
# If an exact version is gone from the archive the newest of its series is
# taken instead, and said so. Prints one line per kernel; exits 0 if at
# least one kernel is there.
set -uo pipefail
CACHE=${1:-${GOSNOOP_KERNELS:-$HOME/.cache/gosnoop/kernels}}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

# <suite> <wanted package> <series glob, for when the exact one is gone>
wanted=(
	"bullseye linux-image-5.10.0-32-amd64-unsigned linux-image-5.10.0-*-amd64-unsigned"
	"bookworm linux-image-6.1.0-50-amd64-unsigned linux-image-6.1.0-*-amd64-unsigned"
	"bookworm-backports linux-image-6.12.95+deb12-amd64-unsigned linux-image-6.12.*+deb12-amd64-unsigned"
)

have_kernel() { # release dir -> 0 if unpacked and complete
	compgen -G "$1/root/boot/vmlinuz-*" >/dev/null && [[ -e $1/.done ]]
}

# The mirror this machine uses (from its own sources), so the private list
# reaches the same archive, whatever proxy or snapshot it is.
mirror=$(grep -rhoE '(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list \
	/etc/apt/sources.list.d/ 2>/dev/null | grep -oE 'https?://[^ ]+' | head -1)
mirror=${mirror%/}
[[ -n $mirror ]] || mirror=http://deb.debian.org/debian

apt_dir=$CACHE/apt
list=$apt_dir/sources.list
aptopts=(-o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=-
	-o Dir::State::lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache"
	-o Dir::State::status=/dev/null -o Debug::NoLocking=1
	-o APT::Get::List-Cleanup=0 -o Acquire::Retries=3)
updated=0
apt_update() {
	((updated)) && return 0
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
	{
		for s in bullseye bookworm bookworm-backports; do
			echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $s main"
		done
	} >"$list"
	apt-get -qq "${aptopts[@]}" update >"$apt_dir/update.log" 2>&1 ||
		{ echo "  KERNELS  apt-get update failed (see $apt_dir/update.log)" >&2; return 1; }
	updated=1
}

# Newest available package whose name matches the series glob.
newest_of() {
	apt-cache "${aptopts[@]}" pkgnames linux-image- 2>/dev/null |
		while read -r p; do [[ $p == $1 ]] && echo "$p"; done | sort -V | tail -1
}

ok=0
for w in "${wanted[@]}"; do
	read -r suite pkg series <<<"$w"
	rel=${pkg#linux-image-}; rel=${rel%-unsigned}
	want=$rel
	if have_kernel "$CACHE/$rel"; then
		echo "  KERNEL   $rel: in $CACHE/$rel"; ok=1; continue
	fi
	if ! apt_update; then continue; fi
	got=$pkg
	if ! apt-cache "${aptopts[@]}" show "$pkg" >/dev/null 2>&1; then
		got=$(newest_of "$series")
		if [[ -z $got ]]; then
			echo "  KERNEL   $rel: not in the archive ($suite), nor any of $series: SKIP"; continue
		fi
		echo "  KERNEL   $pkg is gone from the archive; taking $got, the newest of its series"
		rel=${got#linux-image-}; rel=${rel%-unsigned}
		if have_kernel "$CACHE/$rel"; then
			echo "  KERNEL   $rel: in $CACHE/$rel"; ok=1; continue
		fi
	fi
	dir=$CACHE/$rel
	mkdir -p "$dir"
	(cd "$dir" && rm -f ./*.deb && apt-get -qq "${aptopts[@]}" download "$got" >download.log 2>&1)
	deb=$(ls "$dir"/*.deb 2>/dev/null | head -1)
	if [[ -z $deb ]]; then
		echo "  KERNEL   $rel: download failed (see $dir/download.log): SKIP"; continue
	fi
	rm -rf "$dir/root" && dpkg -x "$deb" "$dir/root" && rm -f "$deb" && touch "$dir/.done"
	echo "  KERNEL   $rel: fetched ($got) into $dir"; ok=1
	# A newer one of the series answers for the wanted name too.
	[[ $rel == "$want" ]] || ln -sfn "$rel" "$CACHE/$want"
done
((ok))
