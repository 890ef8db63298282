#!/usr/bin/env bash
# Builds keelson's node images from Debian binaries and serves them from a local Distribution
# registry, mirrored for docker.io so everyday manifests (`image: busybox`) work offline.
#
#   build.sh [STATE_DIR]      (default: $KEELSON_IMAGES_DIR, else <repo>/.state/images)
#
# Images (the busybox version is the one Debian's busybox-static really is, e.g. 1.35.0):
#   127.0.0.1:5000/library/busybox:<version> and :latest  busybox-static, applets as symlinks
#   127.0.0.1:5000/keelson/pause:busybox-<version>        the sandbox image: busybox sleeping
#   127.0.0.1:5000/keelson/echo-server:busybox-<version>  busybox httpd on :8080 answering with
#                                                         the pod's hostname (a CGI script)
# Outputs in STATE_DIR:
#   oci/<image>/          the OCI layouts (rebuilt only when busybox or these scripts change)
#   registry/             the registry's config and filesystem storage
#   certs.d/              containerd registry hosts: docker.io and 127.0.0.1:5000 both resolve to
#                         the local registry (point containerd's registry config_path here)
#   images.env            the image references, for scripts and tests
#
# The registry is started with registry.sh unless something already answers on 127.0.0.1:5000.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
STATE="${1:-${KEELSON_IMAGES_DIR:-$HERE/../../.state/images}}"
ADDR="${KEELSON_REGISTRY_ADDR:-127.0.0.1:5000}"
mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"

for tool in umoci skopeo docker-registry curl; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing; run hack/install-node-deps.sh" >&2; exit 1; }
done
[ -x /bin/busybox ] || { echo "build.sh: /bin/busybox is missing; run hack/install-node-deps.sh" >&2; exit 1; }

# Debian's version is like 1:1.35.0-4+deb12u1+b1; the busybox release is the part in the middle.
BB_VERSION="$(dpkg-query -W -f='${Version}' busybox-static | sed -E 's/^[0-9]+://; s/-[^-]*$//')"
[ -n "$BB_VERSION" ] || { echo "build.sh: cannot tell the busybox-static version" >&2; exit 1; }
STAMP="$BB_VERSION $(cat "$HERE/build.sh" "$HERE/rootfs.sh" | sha256sum | cut -c1-16)"
OCI="$STATE/oci"
WORK="$(mktemp -d "$STATE/.work.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

PATH_ENV="PATH=/usr/sbin:/usr/bin:/sbin:/bin"

# new_image NAME TAG: an OCI layout holding one busybox layer under TAG, unpacked in $WORK/NAME.
new_image() {
  local name="$1" tag="$2"
  rm -rf "${OCI:?}/$name"
  mkdir -p "$OCI"
  umoci init --layout "$OCI/$name"
  umoci new --image "$OCI/$name:$tag"
  umoci unpack --image "$OCI/$name:$tag" "$WORK/$name"
  "$HERE/rootfs.sh" "$WORK/$name/rootfs"
}

build_all() {
  echo "images: building from busybox-static $BB_VERSION"
  new_image busybox "$BB_VERSION"
  umoci repack --image "$OCI/busybox:$BB_VERSION" "$WORK/busybox"
  umoci config --image "$OCI/busybox:$BB_VERSION" --config.env "$PATH_ENV" --config.cmd sh \
    --config.label "org.opencontainers.image.version=$BB_VERSION" \
    --config.label "org.opencontainers.image.description=busybox-static $BB_VERSION from Debian"

  new_image pause "busybox-$BB_VERSION"
  umoci repack --image "$OCI/pause:busybox-$BB_VERSION" "$WORK/pause"
  umoci config --image "$OCI/pause:busybox-$BB_VERSION" --config.env "$PATH_ENV" \
    --clear=config.entrypoint --config.cmd /bin/sleep --config.cmd 2147483647 \
    --config.label "org.opencontainers.image.description=keelson sandbox image: busybox $BB_VERSION sleeping"

  new_image echo-server "busybox-$BB_VERSION"
  mkdir -p "$WORK/echo-server/rootfs/www/cgi-bin"
  # busybox httpd runs cgi-bin/index.cgi for a directory without index.html, so `/` answers
  # with the container's hostname (the pod name).
  cat >"$WORK/echo-server/rootfs/www/cgi-bin/index.cgi" <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
hostname
CGI
  chmod 0755 "$WORK/echo-server/rootfs/www/cgi-bin/index.cgi"
  umoci repack --image "$OCI/echo-server:busybox-$BB_VERSION" "$WORK/echo-server"
  umoci config --image "$OCI/echo-server:busybox-$BB_VERSION" --config.env "$PATH_ENV" \
    --config.exposedports 8080/tcp \
    --config.cmd /usr/sbin/httpd --config.cmd -f --config.cmd -p --config.cmd 8080 --config.cmd -h --config.cmd /www \
    --config.label "org.opencontainers.image.description=keelson echo server: busybox $BB_VERSION httpd answering with its hostname"
  # Drop blobs the config edits left behind.
  for img in busybox pause echo-server; do umoci gc --layout "$OCI/$img"; done
  echo "$STAMP" >"$OCI/stamp"
}

if [ "$(cat "$OCI/stamp" 2>/dev/null)" != "$STAMP" ]; then
  build_all
else
  echo "images: OCI layouts for busybox $BB_VERSION are up to date"
fi

"$HERE/registry.sh" start "$STATE"

push() {
  local src="$1" dst="$2"
  skopeo --insecure-policy copy --quiet --dest-tls-verify=false "oci:$src" "docker://$ADDR/$dst"
  echo "images: pushed $ADDR/$dst"
}
push "$OCI/busybox:$BB_VERSION" "library/busybox:$BB_VERSION"
push "$OCI/busybox:$BB_VERSION" "library/busybox:latest"
push "$OCI/pause:busybox-$BB_VERSION" "keelson/pause:busybox-$BB_VERSION"
push "$OCI/echo-server:busybox-$BB_VERSION" "keelson/echo-server:busybox-$BB_VERSION"

# containerd's hosts.toml: docker.io is served by the local registry alone (no fallback to the
# internet, so a tag the registry lacks fails as a missing tag: ErrImagePull).
write_hosts() {
  local host="$1"
  mkdir -p "$STATE/certs.d/$host"
  cat >"$STATE/certs.d/$host/hosts.toml.tmp" <<TOML
# Written by hack/images/build.sh: $host is served by keelson's local registry.
server = "http://$ADDR"

[host."http://$ADDR"]
  capabilities = ["pull", "resolve"]
TOML
  mv "$STATE/certs.d/$host/hosts.toml.tmp" "$STATE/certs.d/$host/hosts.toml"
}
write_hosts docker.io
write_hosts "$ADDR"

cat >"$STATE/images.env" <<ENV
KEELSON_REGISTRY=$ADDR
KEELSON_BUSYBOX_VERSION=$BB_VERSION
KEELSON_BUSYBOX_IMAGE=docker.io/library/busybox:$BB_VERSION
KEELSON_PAUSE_IMAGE=$ADDR/keelson/pause:busybox-$BB_VERSION
KEELSON_ECHO_IMAGE=$ADDR/keelson/echo-server:busybox-$BB_VERSION
KEELSON_CERTS_D=$STATE/certs.d
ENV
echo "images: done; containerd registry config_path = $STATE/certs.d"
