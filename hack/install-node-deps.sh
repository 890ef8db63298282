#!/usr/bin/env bash
# Installs the Debian packages a keelson node needs (containerd, runc, the CNI plugins, iptables)
# and the tools hack/images uses to build and serve the node's images (docker-registry, umoci,
# skopeo, busybox-static). Safe to run again: it only installs what is missing.
set -euo pipefail

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for p in containerd runc containernetworking-plugins docker-registry umoci skopeo busybox-static iptables iproute2; do
  have_pkg "$p" || need+=("$p")
done

if [ ${#need[@]} -gt 0 ]; then
  echo "keelson: installing Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts system services for containerd and docker-registry on install. keelson runs
  # private instances with their own config, so the system ones are stopped (when systemd runs).
  if command -v systemctl >/dev/null 2>&1; then
    for svc in containerd docker-registry; do
      if systemctl is-active --quiet "$svc" 2>/dev/null; then $SUDO systemctl stop "$svc" || true; fi
    done
  fi
fi
