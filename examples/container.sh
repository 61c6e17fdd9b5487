#!/usr/bin/env bash
# A container from the four tools: examples/container.sh [OPTIONS] ROOTFS|none -- COMMAND...
#
# COMMAND runs in new mount, UTS, IPC, network, PID, cgroup, time and user namespaces
# (root inside is the caller outside), with its own hostname and /proc, memory and pids
# limits (cgctl, below this script's own cgroup) and an address on a bridge
# (netns-bridge), all wired by `nsrun --setup` before COMMAND starts. It keeps only
# Docker's default capabilities, runs with no_new_privs and nsrun's default seccomp
# filter, in a new session (no controlling terminal to push input into).
#
# ROOTFS is a directory (examples/rootfs.sh makes one) that becomes the root by
# pivot_root, the host's root detached: inside are only ROOTFS, a minimal /dev, a new
# /proc with the paths Docker masks hidden or read-only, a tmpfs on /tmp, and the
# volumes. `none` keeps the host's files (a mount namespace and a new /proc only), and
# /sys/fs/cgroup/memory and /sys/fs/cgroup/pids (v1) or /sys/fs/cgroup (v2) show the
# container's own cgroup, as in Docker. Run by another user than root, it is rootless:
# the same namespaces and lockdown, with your subordinate uid and gid ranges mapped when
# you have them (newuidmap), and no network but loopback; its memory and pids limits
# come from your systemd user manager (a transient scope cgctl-container-NAME.scope,
# through cgctl) where systemd manages a cgroup v2 tree and $XDG_RUNTIME_DIR/bus is
# there, else it has none (it says so on stderr; the README says why). When COMMAND
# exits, everything is removed (cgroup or scope, address, veth, the bridge if this
# script made it), also when the setup fails. The exit status is COMMAND's (125: the
# container could not be made).
#
# Options (each also as an environment variable):
#   --name NAME         CONTAINER_NAME      hostname and cgroup name (default: ctr-PID)
#   --memory SIZE       CONTAINER_MEMORY    memory limit (default 256M)
#   --pids N            CONTAINER_PIDS      process limit (default 128)
#   --bridge NAME       CONTAINER_BRIDGE    the bridge (default nsbr0)
#   --subnet CIDR       CONTAINER_SUBNET    the bridge's subnet, when it is created
#   --nat | --no-nat    CONTAINER_NAT=yes|no|auto   masquerade the subnet (auto: when
#                                           nft is installed)
#   --host-netns NAME   CONTAINER_HOST_NETNS   the named network namespace that plays the
#                                           host (bridge, NAT); default: this one
#   --state-dir DIR     NETNS_BRIDGE_STATE_DIR  netns-bridge's state
#   --init              CONTAINER_INIT=1    nsrun's init as PID 1, COMMAND as PID 2
#   --volume SRC:DST[:ro]                   bind SRC (outside) on DST (inside ROOTFS),
#                                           read-only with :ro; repeatable
#   --subids BASE       CONTAINER_SUBIDS    map uids and gids 0-65535 inside to BASE...
#                                           outside (as Docker's userns-remap): root
#                                           inside is then nobody outside (default: root
#                                           inside is the caller)
# Binaries: NSTOOLS_BIN=DIR, else target/release of this repository, else $PATH.
#
# Examples (as root; the first two also as another user, rootless):
#   examples/rootfs.sh /tmp/rootfs
#   examples/container.sh --volume "$PWD:/src:ro" /tmp/rootfs -- sh -c 'hostname; ps; ls /src'
#   examples/container.sh --memory 100M none -- sh -c 'hostname; ps -e; ip -4 addr'
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
usage() {
    sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit "${1:-2}"
}
die() { echo "container.sh: $*" >&2; exit 125; }

name=${CONTAINER_NAME:-ctr-$$}
memory=${CONTAINER_MEMORY:-256M}
pids=${CONTAINER_PIDS:-128}
bridge=${CONTAINER_BRIDGE:-nsbr0}
subnet=${CONTAINER_SUBNET:-}
nat=${CONTAINER_NAT:-auto}
host_netns=${CONTAINER_HOST_NETNS:-}
state_dir=${NETNS_BRIDGE_STATE_DIR:-}
init=${CONTAINER_INIT:-0}
volumes=()
subids=${CONTAINER_SUBIDS:-}
while [ $# -gt 0 ]; do
    case $1 in
        --name) name=$2; shift 2 ;;
        --memory) memory=$2; shift 2 ;;
        --pids) pids=$2; shift 2 ;;
        --bridge) bridge=$2; shift 2 ;;
        --subnet) subnet=$2; shift 2 ;;
        --nat) nat=yes; shift ;;
        --no-nat) nat=no; shift ;;
        --host-netns) host_netns=$2; shift 2 ;;
        --state-dir) state_dir=$2; shift 2 ;;
        --init) init=1; shift ;;
        --volume) volumes+=("$2"); shift 2 ;;
        --subids) subids=$2; shift 2 ;;
        -h | --help) usage 0 ;;
        --) break ;;
        -*) echo "container.sh: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || usage
rootfs=$1
shift
[ "${1:-}" = -- ] && shift
[ $# -ge 1 ] || usage
# Whether the caller has subordinate uid and gid ranges, and the helpers that map them.
has_subids() {
    local who="^($(id -un)|$(id -u)):"
    command -v newuidmap >/dev/null && command -v newgidmap >/dev/null &&
        grep -qE "$who" /etc/subuid 2>/dev/null && grep -qE "$who" /etc/subgid 2>/dev/null
}

rootless=no
# Rootless limits: a scope of the user's systemd manager, where systemd manages the
# tree (booted with it, cgroup v2 only: what cgctl --systemd asks) and the manager's
# bus is there.
user_scope=no
if [ "$(id -u)" != 0 ]; then
    rootless=yes
    if [ -d /run/systemd/system ] && [ -S "${XDG_RUNTIME_DIR:-/nonexistent}/bus" ] &&
        [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
        user_scope=yes
    fi
    [ -z "$subids" ] || die "--subids needs root (without it only your own ID can be mapped)"
    [ -z "$host_netns" ] || die "--host-netns needs root"
fi
case $name in *[!A-Za-z0-9_.-]* | '' | .*) die "bad name '$name'" ;; esac
if [ "$rootfs" != none ]; then
    [ -d "$rootfs/proc" ] || die "$rootfs is no root filesystem (it has no /proc)"
fi
[ "${#volumes[@]}" -eq 0 ] || [ "$rootfs" != none ] || die "--volume needs a ROOTFS"

if [ -n "${NSTOOLS_BIN:-}" ]; then
    bin=$NSTOOLS_BIN/
elif [ -x "${CARGO_TARGET_DIR:-$ROOT/target}/release/nsrun" ]; then
    bin=${CARGO_TARGET_DIR:-$ROOT/target}/release/
else
    bin=
fi
tools=(nsrun cgctl netns-bridge)
[ "$rootless" = yes ] && tools=(nsrun)
[ "$user_scope" = yes ] && tools=(nsrun cgctl)
for tool in "${tools[@]}"; do
    command -v "$bin$tool" >/dev/null || die "$bin$tool not found (cargo build --release, or set NSTOOLS_BIN)"
done

# netns-bridge runs in the host's network namespace, or in the one named.
nb=("${bin}netns-bridge")
[ -n "$state_dir" ] && nb+=(--state-dir "$state_dir")
if [ -n "$host_netns" ]; then
    [ -e "/run/netns/$host_netns" ] || die "no network namespace named $host_netns"
    nb=(ip netns exec "$host_netns" "${nb[@]}")
fi
in_host() { if [ -n "$host_netns" ]; then ip netns exec "$host_netns" "$@"; else "$@"; fi; }
if [ "$nat" = auto ]; then
    if command -v nft >/dev/null; then nat=yes; else nat=no; fi
fi
attach=(attach '$NSRUN_PID' --bridge "$bridge")
[ -n "$subnet" ] && attach+=(--subnet "$subnet")
[ "$nat" = yes ] && attach+=(--nat)
made_bridge=no
[ "$rootless" = no ] && { in_host ip link show dev "$bridge" >/dev/null 2>&1 || made_bridge=yes; }

work=$(mktemp -d "/tmp/container-$name.XXXXXX")
cg=("${bin}cgctl" --root self)
sd=("${bin}cgctl" --systemd yes)
cleanup() {
    local status=$? pid
    trap - EXIT INT TERM
    set +e
    pid=$(cat "$work/pid" 2>/dev/null)
    if [ -n "$pid" ] && [ "$rootless" = no ]; then
        # The namespace is gone with COMMAND: detach releases the lease by the path it
        # was attached through, and removes a leftover host veth.
        "${nb[@]}" detach "$pid" --bridge "$bridge" >/dev/null 2>&1
    fi
    [ "$made_bridge" = yes ] && "${nb[@]}" down --bridge "$bridge" >/dev/null 2>&1
    [ "$rootless" = no ] && "${cg[@]}" rm -r --kill "$name" >/dev/null 2>&1
    # The scope goes away with its last process; stop it if it is still there.
    [ -s "$work/scope" ] && "${sd[@]}" rm --kill "$(cat "$work/scope")" >/dev/null 2>&1
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

q() { printf '%q ' "$@"; }
# The setup runs in the host's namespaces once the container's exist, with NSRUN_PID set:
# the cgroup (below this script's own one), its limits, the move, the address, and the
# container's cgroups shown at /sys/fs/cgroup inside.
setup="echo \$NSRUN_PID > $(q "$work/pid") \
 && $(q "${cg[@]}") create -c memory,pids $(q "$name") >/dev/null \
 && $(q "${cg[@]}") limit mem $(q "$memory") $(q "$name") >/dev/null \
 && $(q "${cg[@]}") limit pids $(q "$pids") $(q "$name") >/dev/null \
 && $(q "${cg[@]}") add $(q "$name") \$NSRUN_PID \
 && $(q "${nb[@]}") ${attach[*]} > $(q "$work/address")"
if [ "$rootless" = yes ]; then
    # Without root: no cgroup (a v1 or hybrid hierarchy is root's alone; on v2 a user
    # may write only a cgroup delegated to it, whose processes must first leave it for a
    # leaf, which this script does not arrange) and no bridge (its veth and addresses
    # are made in the host's network namespace): loopback only. Where systemd manages
    # the tree, the user's manager puts the container in a transient scope of its own
    # (cgctl-container-NAME.scope in app.slice) with the limits, as `systemd-run --user
    # --scope` does; its cgroup path (for the cleanup) is read once it is there.
    setup="echo \$NSRUN_PID > $(q "$work/pid")"
    if [ "$user_scope" = yes ]; then
        echo "container.sh: rootless: memory and pids limits from your systemd manager," \
            "no network but loopback (the bridge needs root)" >&2
        setup+=" && $(q "${sd[@]}") limit mem $(q "$memory") --cgroup $(q "container-$name") \$NSRUN_PID >/dev/null \
 && cut -d: -f3- /proc/\$NSRUN_PID/cgroup | sed 's|^/||' > $(q "$work/scope") \
 && $(q "${sd[@]}") limit pids $(q "$pids") --cgroup $(q "container-$name") \$NSRUN_PID >/dev/null"
    else
        echo "container.sh: rootless: no memory or pids limit (cgroups are not delegated to" \
            "users here), no network but loopback (the bridge needs root)" >&2
    fi
    setup+=" && echo \"container.sh: $name is PID \$NSRUN_PID, address none\" >&2"
elif [ "$rootfs" = none ]; then
    # cgctl which: LABEL PATH DIR for each hierarchy the container's cgroup is in.
    setup+=" && $(q "${cg[@]}") which \$NSRUN_PID | while read -r label path dir; do
        case \$label in
            memory|pids) nsenter -t \$NSRUN_PID -m mount --bind \"\$dir\" /sys/fs/cgroup/\$label ;;
            unified|cgroup2) if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
                nsenter -t \$NSRUN_PID -m mount --bind \"\$dir\" /sys/fs/cgroup; fi ;;
        esac || exit 1
    done"
fi
[ "$rootless" = no ] && setup+=" && echo \"container.sh: $name is PID \$NSRUN_PID, address \$(cat $(q "$work/address"))\" >&2"

# Docker's default capabilities (see the README: "Docker's defaults").
caps=chown,dac_override,fsetid,fowner,mknod,net_raw,setgid,setuid,setfcap,setpcap,net_bind_service,sys_chroot,kill,audit_write
if [ -n "$subids" ]; then
    case $subids in *[!0-9]* | '') die "bad --subids '$subids' (a number)" ;; esac
    ids=(--map-users "0:$subids:65536" --map-groups "0:$subids:65536" --setuid 0 --setgid 0)
elif [ "$rootless" = yes ] && has_subids; then
    # Your subordinate ranges (/etc/subuid, /etc/subgid), written by newuidmap and
    # newgidmap: root inside is you, uids 1... inside are the range (as rootless Podman).
    ids=(--map-auto)
    echo "container.sh: rootless: uids and gids 1 and up inside are your subordinate" \
        "ranges" >&2
else
    ids=(--map-root-user)
fi
args=(--mount --uts --ipc --net --pid --cgroup --time "${ids[@]}"
    --hostname "$name" --kill-child --setup "$setup"
    --cap-drop all --cap-add "$caps" --no-new-privs --seccomp default --new-session)
if [ "$rootfs" = none ]; then
    args+=(--mount-proc)
else
    # pivot_root into ROOTFS; the OCI default paths of /proc are masked (nsrun's default).
    args+=(--root "$rootfs" --dev /dev --proc /proc --tmpfs /tmp)
    for volume in "${volumes[@]}"; do
        IFS=: read -r src dst mode <<<"$volume"
        [ -n "$src" ] && [ -n "$dst" ] || die "bad --volume '$volume' (SRC:DST[:ro])"
        [ -e "$src" ] || die "--volume $volume: $src does not exist"
        case $mode in
            '') args+=(--bind "$src" "$dst") ;;
            ro) args+=(--ro-bind "$src" "$dst") ;;
            *) die "bad --volume '$volume' (SRC:DST[:ro])" ;;
        esac
    done
fi
[ "$init" = 1 ] && args+=(--init)

status=0
"${bin}nsrun" "${args[@]}" -- "$@" || status=$?
exit "$status"
