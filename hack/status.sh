#!/usr/bin/env bash
# Shows which keelson processes run.
cd "$(dirname "$0")/.."
STATE="${KEELSON_STATE_DIR:-$PWD/.state}"
for c in etcd kube-apiserver; do
  f="$STATE/$c.pid"
  if [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then echo "$c: running (pid $(cat "$f"))"; else echo "$c: stopped"; fi
done
