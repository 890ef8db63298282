#!/bin/sh
# Writes Prometheus file-discovery targets for every Node of a keelson cluster:
#   <out>/kubelets.json      <InternalIP>:<status.daemonEndpoints.kubeletEndpoint.Port>
#   <out>/kube-proxies.json  <InternalIP>:<kube-proxy metrics port>
# each labelled node=<name>. deploy/prometheus/prometheus.yml reads them ({{NODE_TARGETS_DIR}}).
# Debian's prometheus has no kubernetes_sd_configs; this stands in for its `role: node`.
#
# usage: node-targets.sh --kubeconfig FILE --out DIR [--kube-proxy-port 10249] [--every SECONDS]
#   --every N   keep running and rewrite the files every N seconds (nodes coming and going)
# Needs kubectl on PATH (or $KUBECTL). Files are replaced atomically (write, then rename).
set -eu

kubeconfig=""
out=""
proxy_port=10249
every=""
while [ $# -gt 0 ]; do
  case "$1" in
    --kubeconfig) kubeconfig="$2"; shift 2 ;;
    --kubeconfig=*) kubeconfig="${1#*=}"; shift ;;
    --out) out="$2"; shift 2 ;;
    --out=*) out="${1#*=}"; shift ;;
    --kube-proxy-port) proxy_port="$2"; shift 2 ;;
    --kube-proxy-port=*) proxy_port="${1#*=}"; shift ;;
    --every) every="$2"; shift 2 ;;
    --every=*) every="${1#*=}"; shift ;;
    *) echo "node-targets.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$kubeconfig" ] && [ -n "$out" ] || { echo "usage: node-targets.sh --kubeconfig FILE --out DIR [--kube-proxy-port 10249] [--every SECONDS]" >&2; exit 2; }
kubectl="${KUBECTL:-kubectl}"

# One JSON target group per Node that has an InternalIP; PORT is the kubelet's own port or a fixed one.
template() {
  port="$1"
  printf '%s' '[{{$first := true}}{{range .items}}{{$ip := ""}}{{range .status.addresses}}{{if and (eq .type "InternalIP") (eq $ip "")}}{{$ip = .address}}{{end}}{{end}}{{if $ip}}{{if not $first}},{{end}}{{$first = false}}{"targets":["{{$ip}}:'"$port"'"],"labels":{"node":"{{.metadata.name}}"}}{{end}}{{end}}]'
}

write() {
  mkdir -p "$out"
  "$kubectl" --kubeconfig "$kubeconfig" get nodes -o "go-template=$(template '{{.status.daemonEndpoints.kubeletEndpoint.Port}}')" > "$out/.kubelets.json.tmp"
  "$kubectl" --kubeconfig "$kubeconfig" get nodes -o "go-template=$(template "$proxy_port")" > "$out/.kube-proxies.json.tmp"
  mv "$out/.kubelets.json.tmp" "$out/kubelets.json"
  mv "$out/.kube-proxies.json.tmp" "$out/kube-proxies.json"
}

write
if [ -n "$every" ]; then
  while sleep "$every"; do write || echo "node-targets.sh: listing nodes failed; keeping the previous files" >&2; done
fi
