#!/usr/bin/env bash
# Runs the local Distribution registry (Debian's docker-registry) that serves keelson's images.
#   registry.sh start [STATE_DIR]   start it on 127.0.0.1:5000 unless something already answers there
#   registry.sh stop  [STATE_DIR]   stop the instance this script started
#   registry.sh config [STATE_DIR]  only write STATE_DIR/registry/config-<port>.yml and print its path
# Storage is the filesystem under STATE_DIR/registry/data, so pushed images survive restarts.
# KEELSON_REGISTRY_ADDR (default 127.0.0.1:5000) picks the address; several instances on different
# ports may serve the same storage.
set -euo pipefail
cmd="${1:-start}"
HERE="$(cd "$(dirname "$0")" && pwd)"
STATE="${2:-${KEELSON_IMAGES_DIR:-$HERE/../../.state/images}}"
ADDR="${KEELSON_REGISTRY_ADDR:-127.0.0.1:5000}"
mkdir -p "$STATE/registry/data"
STATE="$(cd "$STATE" && pwd)"
PORT="${ADDR##*:}"
CONF="$STATE/registry/config-$PORT.yml"
PIDFILE="$STATE/registry/pid-$PORT"

write_config() {
  cat >"$CONF" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE/registry/data
  delete:
    enabled: true
http:
  addr: $ADDR
YAML
}

answers() { curl -fsS -o /dev/null "http://$ADDR/v2/" 2>/dev/null; }

case "$cmd" in
  config)
    write_config
    echo "$CONF"
    ;;
  start)
    if answers; then
      echo "registry: already answering on $ADDR"
      exit 0
    fi
    write_config
    nohup docker-registry serve "$CONF" >"$STATE/registry/registry-$PORT.log" 2>&1 &
    echo $! >"$PIDFILE"
    for _ in $(seq 1 100); do answers && break; sleep 0.1; done
    answers || { echo "registry did not start; see $STATE/registry/registry-$PORT.log" >&2; exit 1; }
    echo "registry: started on $ADDR (pid $(cat "$PIDFILE"))"
    ;;
  stop)
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      kill "$(cat "$PIDFILE")"
      echo "registry: stopped pid $(cat "$PIDFILE")"
    fi
    rm -f "$PIDFILE"
    ;;
  *)
    echo "usage: $0 start|stop|config [STATE_DIR]" >&2
    exit 2
    ;;
esac
