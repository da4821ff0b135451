#!/usr/bin/env bash
# Measures `get` latency of git credential helpers with a stored token, side
# by side in one run: ghlogin and the lean git-credential-ghlogin (file,
# kernel and keyring stores), git
# credential-store (the floor), git credential-cache, gh auth git-credential
# and git-credential-oauth as its README configures it.
#
# Usage: tools/bench/gitcred/run.sh [-runs N] [-warmup N] [-keyring auto|yes|no] [-json FILE]
#
# Needs git, gh and git-credential-oauth (apt-get install -y git gh
# git-credential-oauth); the keyring case also needs dbus-run-session and
# gnome-keyring-daemon (apt-get install -y gnome-keyring dbus dbus-x11) and
# runs inside .ci/with-keyring, a private D-Bus session whose Secret Service
# is a throwaway gnome-keyring. Set GHLOGIN_BENCH_NO_KEYRING=1 to skip it.
# Nothing touches the network or your own git, gh or ghlogin configuration.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$repo"

work="$(mktemp -d "${TMPDIR:-/tmp}/ghlogin-bench-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# Build ghlogin as it ships (no race detector, trimmed paths) and the bench.
CGO_ENABLED=0 go build -trimpath -o "$work/ghlogin" .
go build -o "$work/gitcred-bench" ./tools/bench/gitcred
CGO_ENABLED=0 go build -trimpath -o "$work/gofloor" ./tools/bench/gitcred/gofloor
# The lean helper as it ships: static, without symbol tables.
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$work/git-credential-ghlogin" ./cmd/git-credential-ghlogin

if [ "${GHLOGIN_BENCH_NO_KEYRING:-}" != 1 ] && command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  .ci/with-keyring "$work/gitcred-bench" -ghlogin "$work/ghlogin" -gofloor "$work/gofloor" -lean "$work/git-credential-ghlogin" "$@"
else
  echo "(no dbus-run-session/gnome-keyring-daemon, or GHLOGIN_BENCH_NO_KEYRING=1: the keyring store is not measured)" >&2
  "$work/gitcred-bench" -ghlogin "$work/ghlogin" -gofloor "$work/gofloor" -lean "$work/git-credential-ghlogin" -keyring no "$@"
fi
