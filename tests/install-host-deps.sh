#!/usr/bin/env bash
# Debian packages that the tests and the demo need on the machine that runs them (not on test hosts).
set -euo pipefail
pkgs=(make git python3-venv python3-dev gcc podman runc debootstrap uidmap slirp4netns fuse-overlayfs iproute2 ca-certificates shellcheck mariadb-server uwsgi-core uwsgi-plugin-python3)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
