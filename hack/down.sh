#!/usr/bin/env bash
# Stops what hack/up.sh started. The etcd data stays in .state/etcd (remove .state to reset).
set -euo pipefail
cd "$(dirname "$0")/.."
STATE="${KEELSON_STATE_DIR:-$PWD/.state}"
for c in kube-apiserver etcd; do
  f="$STATE/$c.pid"
  if [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then
    kill "$(cat "$f")"
    for _ in $(seq 1 50); do kill -0 "$(cat "$f")" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$(cat "$f")" 2>/dev/null || true
    echo "stopped $c"
  fi
  rm -f "$f"
done
