#!/usr/bin/env bash
# Fills a root filesystem with Debian's busybox-static: /bin/busybox plus one symlink per applet
# (so `sh`, `httpd`, `wget`, `nslookup` … work by name), and the few files a container expects.
#   rootfs.sh ROOTFS
set -euo pipefail
ROOTFS="$1"
BUSYBOX="${BUSYBOX:-/bin/busybox}"
[ -x "$BUSYBOX" ] || { echo "rootfs.sh: $BUSYBOX not found (apt-get install busybox-static)" >&2; exit 1; }

mkdir -p "$ROOTFS"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,var/tmp,var/www,home,proc,sys,dev}
chmod 1777 "$ROOTFS/tmp" "$ROOTFS/var/tmp"
chmod 0700 "$ROOTFS/root"
install -m 0755 "$BUSYBOX" "$ROOTFS/bin/busybox"
# Each applet becomes a relative symlink to /bin/busybox at the path busybox itself lists.
"$BUSYBOX" --list-full | while read -r applet; do
  case "$applet" in
    bin/busybox) continue ;; # the binary itself
    */*) ;;
    *) continue ;; # linuxrc and other top-level entries are not wanted in a container
  esac
  dir="$(dirname "$applet")"
  up="$(echo "$dir" | sed -E 's#[^/]+#..#g')"
  mkdir -p "$ROOTFS/$dir"
  ln -sfn "$up/bin/busybox" "$ROOTFS/$applet"
done

cat >"$ROOTFS/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
PW
cat >"$ROOTFS/etc/group" <<'GR'
root:x:0:
daemon:x:1:
nogroup:x:65534:
GR
printf 'hosts: files dns\n' >"$ROOTFS/etc/nsswitch.conf"
