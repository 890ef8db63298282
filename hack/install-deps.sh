#!/usr/bin/env bash
# Installs the Debian packages keelson needs when they are missing (etcd, and through
# install-node-deps.sh containerd, runc, the CNI plugins, iptables and the image tools), and the
# npm dependencies.
# Safe to run again: it only installs what is not there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
# Prometheus and promtool: the metrics test scrapes every component with the real server.
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
if [ ${#need[@]} -gt 0 ]; then
  echo "keelson: installing Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts a system etcd on 2379 when it installs the package; keelson runs its own.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then $SUDO systemctl stop etcd || true; fi
fi

# The node side: containerd, runc, the CNI plugins, iptables, and the image tools.
"$(dirname "$0")/install-node-deps.sh"

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "keelson: installing npm dependencies"
  npm ci --no-audit --no-fund
fi
