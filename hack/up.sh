#!/usr/bin/env bash
# Starts etcd and kube-apiserver in the background with state under .state/, and writes a
# kubeconfig. The full launcher (`keelson up`) replaces this once the node components land.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE="${KEELSON_STATE_DIR:-$PWD/.state}"
PORT="${KEELSON_API_PORT:-6443}"
ETCD_PORT="${KEELSON_ETCD_PORT:-2379}"
mkdir -p "$STATE/etcd" "$STATE/logs"
NODE="$PWD/node_modules/.bin/node"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if alive "$STATE/etcd.pid"; then
  echo "[1/3] etcd already running (pid $(cat "$STATE/etcd.pid"))"
else
  echo "[1/3] starting etcd on 127.0.0.1:$ETCD_PORT (data in $STATE/etcd)"
  nohup etcd --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-cluster "default=http://127.0.0.1:$((ETCD_PORT + 1))" \
    --experimental-watch-progress-notify-interval 1s \
    >"$STATE/logs/etcd.log" 2>&1 &
  echo $! >"$STATE/etcd.pid"
fi
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$ETCD_PORT/health" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$ETCD_PORT/health" >/dev/null || { echo "etcd did not start; see $STATE/logs/etcd.log"; exit 1; }

if alive "$STATE/kube-apiserver.pid"; then
  echo "[2/3] kube-apiserver already running (pid $(cat "$STATE/kube-apiserver.pid"))"
else
  echo "[2/3] starting kube-apiserver on 127.0.0.1:$PORT"
  nohup "$NODE" dist/cmd/kube-apiserver/main.js --etcd-servers="http://127.0.0.1:$ETCD_PORT" --secure-port="$PORT" \
    >"$STATE/logs/kube-apiserver.log" 2>&1 &
  echo $! >"$STATE/kube-apiserver.pid"
fi
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "kube-apiserver did not become ready; see $STATE/logs/kube-apiserver.log"; exit 1; }

echo "[3/3] writing $STATE/kubeconfig"
cat >"$STATE/kubeconfig" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: keelson
  cluster:
    server: http://127.0.0.1:$PORT
contexts:
- name: keelson
  context:
    cluster: keelson
    user: admin
current-context: keelson
users:
- name: admin
  user: {}
KCFG
echo "export KUBECONFIG=$STATE/kubeconfig"
