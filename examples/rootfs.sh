#!/usr/bin/env bash
# A small root filesystem for examples/container.sh: examples/rootfs.sh DIR
#
# DIR gets Debian's statically linked busybox as /bin/busybox with a link for each of
# its applets (/bin/sh, /bin/ls, ...), the directories a container expects (/proc,
# /sys, /dev, /tmp, ...; /lib and /lib64 link into /usr as on Debian), and
# /etc/passwd, /etc/group, /etc/hosts and /etc/resolv.conf.
# No network is needed beyond installing busybox-static, which is done (with apt-get)
# when /bin/busybox is missing or is not static. DIR may exist; files in it are
# overwritten.
set -euo pipefail

die() { echo "rootfs.sh: $*" >&2; exit 1; }
[ $# -eq 1 ] || { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
dir=$1

static() { file -L "$1" 2>/dev/null | grep -q 'statically linked' || ! ldd "$1" >/dev/null 2>&1; }
if [ ! -x /bin/busybox ] || ! static /bin/busybox; then
    [ "$(id -u)" = 0 ] || die "busybox-static is not installed (apt-get install busybox-static)"
    apt-get install -y -qq busybox-static >/dev/null || die "cannot install busybox-static"
fi

mkdir -p "$dir"
cd "$dir"
chmod 0755 .
mkdir -p bin sbin usr/bin usr/sbin usr/lib usr/lib64 etc proc sys dev tmp root home run var/tmp
# The merged-/usr layout of Debian, so that a host's /usr/lib bound in serves its programs.
[ -e lib ] || ln -s usr/lib lib
[ -e lib64 ] || ln -s usr/lib64 lib64
chmod 1777 tmp var/tmp
chmod 0700 root
cp /bin/busybox bin/busybox
# Relative links, so that they work inside the container and from outside.
for applet in $(bin/busybox --list-full); do
    case $applet in
        bin/*) target=busybox ;;
        sbin/*) target=../bin/busybox ;;
        usr/*bin/*) target=../../bin/busybox ;;
        *) continue ;;
    esac
    [ -e "$applet" ] || ln -s "$target" "$applet"
done

cat >etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >etc/group <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP
cat >etc/hosts <<'HOSTS'
127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
HOSTS
echo "nameserver 10.0.2.3" >etc/resolv.conf
echo "rootfs.sh: $dir is ready ($(ls bin | wc -l) programs in /bin)" >&2
