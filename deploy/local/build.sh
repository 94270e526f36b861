#!/usr/bin/env bash
# Builds the local Kubernetes control plane's binaries into OUTDIR:
#   etcd (go.etcd.io/etcd/server/v3 v3.7.0), kube-apiserver,
#   kube-controller-manager, kube-scheduler, kubectl (k8s.io/kubernetes
#   v1.37.2) and kwok (sigs.k8s.io/kwok v0.8.0),
# all from the Go module proxy as pinned by this directory's go.mod/go.sum.
#
# Usage: deploy/local/build.sh OUTDIR
#
# A stamp file (OUTDIR/.cluster-bins.stamp) records a hash of go.mod, go.sum,
# etcd/main.go, the build flags and the Go version; when it matches and every binary is present
# the script returns at once. Otherwise it copies the binaries from the
# machine-wide cache ($NUBLADO_CLUSTER_BIN_CACHE, default
# ${XDG_CACHE_HOME:-$HOME/.cache}/nublado/cluster-bins/HASH) that an earlier
# build on this machine filled, so a fresh clone (CI) needs seconds, and
# builds only when that is empty too. A cold build takes 10-15 minutes on two
# idle cores (about 29 minutes of CPU time); with Go's build cache warm it
# only links (about a minute).
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi

here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
stamp="$out/.cluster-bins.stamp"

k8s_version=v1.37.2
bins=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)

# Version information the Kubernetes release scripts stamp into the
# binaries; without it they report v0.0.0-master.
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$k8s_version"
	ldflags+=" -X $pkg.gitMajor=1 -X $pkg.gitMinor=37"
	ldflags+=" -X $pkg.gitTreeState=clean"
	ldflags+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

want="$(
	cd "$here"
	{
		cat go.mod go.sum etcd/main.go
		echo "CGO_ENABLED=0 -trimpath $ldflags"
		go env GOVERSION GOOS GOARCH
	} | sha256sum | cut -d' ' -f1
)"
hash="$want"
want="etcd v3.7.0, kubernetes $k8s_version, kwok v0.8.0, inputs $want"
shared="${NUBLADO_CLUSTER_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nublado/cluster-bins}/$hash"

missing=0
for b in "${bins[@]}"; do
	[ -x "$out/$b" ] || missing=1
done
if [ "$missing" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	echo "cluster binaries up to date in $out"
	exit 0
fi

# install_from DIR: put DIR's binaries into $out (hard links when possible).
install_from() {
	for b in "${bins[@]}"; do
		rm -f "$out/$b"
		ln "$1/$b" "$out/$b" 2>/dev/null || cp "$1/$b" "$out/$b"
	done
	echo "$want" >"$stamp"
}

complete=1
for b in "${bins[@]}"; do
	[ -x "$shared/$b" ] || complete=0
done
if [ "$complete" = 1 ] && [ -f "$shared/.complete" ]; then
	install_from "$shared"
	echo "cluster binaries copied from $shared"
	exit 0
fi

echo "building cluster binaries into $out (10-15 minutes on 2 cores when cold)"
start=$(date +%s)

tmp="$(mktemp -d "$out/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

cd "$here"
# One go build for all six commands shares the compilation of the packages
# they have in common. GOWORK=off keeps a go.work elsewhere from interfering.
GOWORK=off CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -ldflags="$ldflags" -o "$tmp/" \
	./etcd \
	k8s.io/kubernetes/cmd/kube-apiserver \
	k8s.io/kubernetes/cmd/kube-controller-manager \
	k8s.io/kubernetes/cmd/kube-scheduler \
	k8s.io/kubernetes/cmd/kubectl \
	sigs.k8s.io/kwok/cmd/kwok

# Fill the machine-wide cache first (best effort), then OUTDIR.
if mkdir -p "$shared" 2>/dev/null; then
	for b in "${bins[@]}"; do
		cp "$tmp/$b" "$shared/$b.tmp" && mv -f "$shared/$b.tmp" "$shared/$b"
	done && touch "$shared/.complete" || echo "warning: could not fill $shared" >&2
fi
install_from "$tmp"
echo "cluster binaries built in $(($(date +%s) - start)) s"
