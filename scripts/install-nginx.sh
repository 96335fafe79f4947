#!/usr/bin/env bash
# Puts Debian's nginx binary under .cache/nginx/ (git-ignored) for the nginx auth_request test:
# `apt-get download` + `dpkg -x`, so no nginx service, user or /etc config is installed. nginx then
# runs as the current user with its own prefix (`nginx -p DIR -c FILE`).
#
# Idempotent: does nothing when a working binary is already there. Needs Debian's apt (the
# package lists are refreshed when this runs as root); shared libraries the binary lacks are
# installed with `apt-get install` (root only).
set -euo pipefail
cd "$(dirname "$0")/.."

DEST=.cache/nginx
BIN="$DEST/usr/sbin/nginx"

works() { [ -x "$BIN" ] && "$BIN" -V >/dev/null 2>&1; }

if works; then
  echo "install-nginx: $("$BIN" -v 2>&1) already in $DEST"
  exit 0
fi

command -v apt-get >/dev/null || { echo "install-nginx: apt-get not found (Debian or Ubuntu needed)" >&2; exit 1; }
root=false
[ "$(id -u)" = 0 ] && root=true
$root && apt-get update -qq

work="$(mktemp -d)"
# apt downloads as user _apt when run as root: let it write here.
$root && id _apt >/dev/null 2>&1 && chown _apt "$work"
trap 'rm -rf "$work"' EXIT
# nginx holds the binary (with the auth_request module); nginx-common holds mime.types and friends.
(cd "$work" && apt-get download -q nginx nginx-common)
rm -rf "$DEST"
mkdir -p "$DEST"
for deb in "$work"/*.deb; do dpkg -x "$deb" "$DEST"; done

if ! works; then
  missing="$(ldd "$BIN" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' ')"
  if [ -n "$missing" ] && $root; then
    echo "install-nginx: installing shared libraries nginx needs ($missing)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libc6 libcrypt1 libpcre2-8-0 libssl3 zlib1g
  fi
fi

works || { echo "install-nginx: $BIN does not run: $("$BIN" -V 2>&1 || true)" >&2; exit 1; }
"$BIN" -V 2>&1 | grep -q -- '--with-http_auth_request_module' ||
  { echo "install-nginx: this nginx lacks the auth_request module" >&2; exit 1; }
echo "install-nginx: $("$BIN" -v 2>&1) installed in $DEST"
