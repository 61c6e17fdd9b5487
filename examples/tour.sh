#!/usr/bin/env bash
# A guided tour of Linux namespaces and cgroups, by doing it with nstools.
#
# Eight steps (UTS, IPC, PID, mount, user, network, cgroups, nsinspect). Each prints the
# commands it runs and what they show, then checks that they showed what they should;
# the tour exits 1 if any check failed. Everything it makes (processes, a throwaway
# network namespace that plays the host, cgroups below its own cgroup, a named cgroup
# hierarchy, a message queue, a temporary directory) is removed at the end, also on
# failure and on Ctrl-C. The machine's own network namespace is never touched.
#
# Run as root:   examples/tour.sh
# Env: NSTOOLS_BIN=DIR uses the binaries in DIR instead of building them (release);
#      TOUR_STEPS="1 3 7" runs only those steps.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TAG=nstour-$$
STEPS=${TOUR_STEPS:-1 2 3 4 5 6 7 8}

if [ -t 1 ]; then
    BOLD=$'\e[1m' DIM=$'\e[2m' GREEN=$'\e[32m' RED=$'\e[31m' RESET=$'\e[0m'
else
    BOLD='' DIM='' GREEN='' RED='' RESET=''
fi

die() { echo "tour: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run me as root: the tour creates namespaces, cgroups and a network"

# --- what the tour makes, and how it is removed -------------------------------------

WORK=$(mktemp -d "/tmp/$TAG.XXXXXX")
chmod 755 "$WORK"
BG_PIDS=()       # processes started in the background (nsrun with --kill-child, sleeps)
HOST_NS=""       # the throwaway network namespace that plays the host
CGROUPS=()       # cgroups made with cgctl, relative to --root self
HIER=""          # where the named v1 hierarchy is mounted
HIER_DIRS=()     # cgroups made in it (or in cgroup2 on a v2-only host)
QUEUE=""         # the System V message queue of step 2
CURRENT=""       # the command `run` is waiting for

cleanup() {
    local status=$? pid dir
    trap - EXIT INT TERM
    set +e
    [ -n "$CURRENT" ] && kill -KILL "$CURRENT" 2>/dev/null
    for pid in "${BG_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    for pid in "${BG_PIDS[@]}" $CURRENT; do wait "$pid" 2>/dev/null; done
    [ -n "$QUEUE" ] && ipcrm -q "$QUEUE" 2>/dev/null
    [ -n "$HOST_NS" ] && ip netns delete "$HOST_NS" 2>/dev/null
    for dir in "${CGROUPS[@]}"; do "$BIN/cgctl" --root self rm -r --kill "$dir" >/dev/null 2>&1; done
    for ((i = ${#HIER_DIRS[@]} - 1; i >= 0; i--)); do rmdir "${HIER_DIRS[$i]}" 2>/dev/null; done
    [ -n "$HIER" ] && umount "$HIER" 2>/dev/null
    rm -rf "$WORK"
    if [ "$status" -eq 130 ]; then
        echo "tour: interrupted; everything it made is removed" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- printing and checking ----------------------------------------------------------

FAILED=0
step() { # N TITLE TEXT
    echo
    echo "${BOLD}== Step $1: $2${RESET}"
    fold -s -w 88 <<<"$3" | sed 's/^/   /'
}
say() { fold -s -w 88 <<<"$*" | sed "s/^/   ${DIM}/; s/\$/${RESET}/"; }
# run CMD... : prints "$ CMD", runs it, prints its output indented; the output is in $OUT
# and the exit status in $RC (a failing command does not stop the tour).
run() {
    local shown=() arg
    for arg in "$@"; do
        arg=${arg#"$BIN"/}
        case $arg in *[[:space:]\'\"\$\>\<\|\&\;]*) arg="'$arg'" ;; esac
        shown+=("$arg")
    done
    echo "${BOLD}\$ ${shown[*]}${RESET}"
    # In the background and waited for: a trapped signal (Ctrl-C) interrupts `wait` at
    # once, even when the command itself handles SIGINT and carries on.
    "$@" </dev/null >"$WORK/out" 2>&1 &
    CURRENT=$!
    RC=0
    wait "$CURRENT" || RC=$?
    CURRENT=""
    OUT=$(<"$WORK/out")
    [ -n "$OUT" ] && sed 's/^/    /' <<<"$OUT"
    return 0
}
# check DESCRIPTION TEST... : runs the test, prints ok or FAILED.
check() {
    local what=$1
    shift
    if "$@" >/dev/null 2>&1; then
        echo "   ${GREEN}ok${RESET}: $what"
    else
        echo "   ${RED}FAILED${RESET}: $what" >&2
        FAILED=$((FAILED + 1))
    fi
}
wants() { [ "${STEPS/$1/}" != "$STEPS" ]; }

# Waits until FILE holds a PID, then prints it.
pid_from() {
    local i
    for ((i = 0; i < 500; i++)); do
        [ -s "$1" ] && { cat "$1"; return 0; }
        sleep 0.01
    done
    die "no PID in $1"
}
# The first child of PID (nsrun's COMMAND, when nsrun forked).
child_of() {
    local i c
    for ((i = 0; i < 500; i++)); do
        c=$(cat "/proc/$1/task/$1/children" 2>/dev/null || true)
        [ -n "$c" ] && { echo "${c%% *}"; return 0; }
        sleep 0.01
    done
    die "PID $1 has no child"
}
# Starts `nsrun ARGS --kill-child --pid-file F -- sleep 600` in the background and prints
# the sleep's PID (as the host sees it).
sandbox() {
    local file=$WORK/sandbox.$RANDOM.pid
    "$BIN/nsrun" "$@" --kill-child --pid-file "$file" -- sleep 600 </dev/null >/dev/null 2>&1 &
    BG_PIDS+=("$!")
    SANDBOX=$(pid_from "$file")
}

# --- what the tour needs ------------------------------------------------------------

need() { # CMD PACKAGE ...
    local missing=()
    while [ $# -ge 2 ]; do
        command -v "$1" >/dev/null 2>&1 || missing+=("$2")
        shift 2
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "tour: installing ${missing[*]}" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}
need ip iproute2 ping iputils-ping stress-ng stress-ng ipcmk util-linux setpriv util-linux

if [ -n "${NSTOOLS_BIN:-}" ]; then
    BIN=$NSTOOLS_BIN
else
    echo "tour: building the release binaries (cargo build --release) ..."
    (cd "$ROOT" && cargo build --release --quiet -p nsrun -p nsinspect -p cgctl -p netns-bridge)
    BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
    case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
fi
for tool in nsrun nsinspect cgctl netns-bridge; do
    [ -x "$BIN/$tool" ] || die "$BIN/$tool is missing"
done

echo "${BOLD}A tour of Linux namespaces and cgroups${RESET}"
say "A namespace gives a process its own view of one kind of global resource (hostname, IPC objects, PIDs, mounts, user IDs, network); a cgroup limits and accounts what a group of processes uses. Containers are both together. nsrun makes namespaces, nsinspect shows them, netns-bridge wires network namespaces to a bridge, cgctl drives cgroups."

# --- 1. UTS -------------------------------------------------------------------------
if wants 1; then
    step 1 "UTS: a hostname of its own" \
        "The UTS namespace holds the hostname. Changing it inside a new one leaves the host's alone."
    host_name=$(hostname)
    run "$BIN/nsrun" --uts --hostname tour-box hostname
    inside=$OUT
    run hostname
    check "inside, the hostname is tour-box" test "$inside" = tour-box
    check "the host's hostname is still $host_name" test "$OUT" = "$host_name"
fi

# --- 2. IPC -------------------------------------------------------------------------
if wants 2; then
    step 2 "IPC: message queues of its own" \
        "System V IPC objects (message queues, semaphores, shared memory) live in the IPC namespace. A queue made on the host is not visible in a new one."
    run ipcmk -Q
    QUEUE=$(grep -o '[0-9]*$' <<<"$OUT")
    run ipcs -q -i "$QUEUE"
    host_sees=$RC
    run "$BIN/nsrun" --ipc ipcs -q
    inside=$OUT
    check "the host sees queue $QUEUE" test "$host_sees" = 0
    check "inside, there is no message queue" \
        bash -c '! grep -Eq "^0x[0-9a-f]+ +[0-9]+" <<<"$1"' _ "$inside"
    ipcrm -q "$QUEUE" && QUEUE=""
fi

# --- 3. PID -------------------------------------------------------------------------
if wants 3; then
    step 3 "PID: the first process is PID 1" \
        "A new PID namespace numbers its processes from 1. The same process has a PID in every PID namespace it is visible in: nsinspect shows both (nspid=HOST,INSIDE)."
    run "$BIN/nsrun" --pid --mount-proc sh -c 'echo "my PID is $$"'
    check "the shell inside is PID 1" test "$OUT" = "my PID is 1"
    sandbox --pid --mount-proc
    say "A sandboxed 'sleep 600' runs as PID $SANDBOX on the host:"
    run "$BIN/nsinspect" -t pid "$SANDBOX"
    check "nsinspect shows PID $SANDBOX on the host and 1 inside" \
        grep -q "nspid=$SANDBOX,1 " <<<"$OUT "
fi

# --- 4. Mount -----------------------------------------------------------------------
if wants 4; then
    step 4 "Mount: a /proc of its own" \
        "A new mount namespace gets a copy of the host's mounts; what is mounted inside stays inside. With a fresh /proc, ps inside a new PID namespace sees only that namespace's processes."
    run "$BIN/nsrun" --pid --mount-proc ps -e -o pid,comm
    check "ps inside sees only itself (PID 1)" \
        test "$(tail -n +2 <<<"$OUT" | awk '{print $1 "-" $2}' | tr '\n' ' ')" = "1-ps "
    sandbox --pid --mount-proc
    proc_id=$(awk '$5 == "/proc" {id = $1} END {print id}' "/proc/$SANDBOX/mountinfo")
    say "Inside, /proc is mount $proc_id. The host's mount table does not have it:"
    run grep -c "^$proc_id " /proc/self/mountinfo
    check "the sandbox's /proc (mount $proc_id) is not among the host's mounts" \
        bash -c '[ -n "$1" ] && ! grep -q "^$1 " /proc/self/mountinfo' _ "$proc_id"
fi

# --- 5. User ------------------------------------------------------------------------
if wants 5; then
    step 5 "User: root inside, an ordinary user outside" \
        "A user namespace maps user IDs. Without a map, everyone inside is the overflow uid 65534. With --map-root-user, the caller is root inside (with every capability over the namespace's own resources) and still itself outside. Here the caller is uid 1000, made with setpriv, to show the difference."
    run setpriv --reuid 1000 --regid 1000 --clear-groups "$BIN/nsrun" --user id -u
    check "without a map, inside is uid 65534" test "$OUT" = 65534
    run setpriv --reuid 1000 --regid 1000 --clear-groups "$BIN/nsrun" --map-root-user id -u
    check "with --map-root-user, inside is uid 0" test "$OUT" = 0
    setpriv --reuid 1000 --regid 1000 --clear-groups "$BIN/nsrun" --map-root-user --kill-child \
        -- sleep 600 </dev/null >/dev/null 2>&1 &
    BG_PIDS+=("$!")
    sleeper=$(child_of "$!")
    BG_PIDS+=("$sleeper")
    say "The same root-inside process ($sleeper), seen from the host:"
    run grep Uid "/proc/$sleeper/status"
    check "outside, it is still uid 1000" grep -Eq "^Uid:[[:space:]]+1000[[:space:]]" <<<"$OUT"
    run cat "/proc/$sleeper/uid_map"
    check "its map says: 0 inside is 1000 outside" grep -Eq "^ *0 +1000 +1$" <<<"$OUT"
fi

# --- 6. Network ---------------------------------------------------------------------
if wants 6; then
    step 6 "Network: from only lo to a bridge" \
        "A new network namespace has only a loopback link, down. netns-bridge connects it to a bridge with a veth pair and gives it an address. So that the machine's own network is never touched, a throwaway namespace ($TAG) plays the host: the bridge lives there."
    run "$BIN/nsrun" --net ip -o link
    check "inside, lo is the only link" \
        bash -c '[ "$(wc -l <<<"$1")" = 1 ] && grep -q ": lo:" <<<"$1"' _ "$OUT"
    run ip netns add "$TAG"
    HOST_NS=$TAG
    ip -n "$TAG" link set lo up
    sandbox --net
    red=$SANDBOX
    sandbox --net
    blue=$SANDBOX
    nb=("$BIN/netns-bridge" --state-dir "$WORK/netns-bridge")
    run ip netns exec "$TAG" "${nb[@]}" attach "$red" --bridge tourbr0
    red_addr=${OUT%/*}
    check "red ($red) got an address" grep -Eq '^[0-9.]+/[0-9]+$' <<<"$OUT"
    run ip netns exec "$TAG" "${nb[@]}" attach "$blue" --bridge tourbr0
    blue_addr=${OUT%/*}
    check "blue ($blue) got an address" grep -Eq '^[0-9.]+/[0-9]+$' <<<"$OUT"
    run nsenter -t "$red" -n ip -br addr show dev eth0
    run ip netns exec "$TAG" "${nb[@]}" ls --bridge tourbr0
    run nsenter -t "$red" -n ping -c 1 -W 2 "$blue_addr"
    check "red reaches blue ($blue_addr) over the bridge" test "$RC" = 0
    run nsenter -t "$blue" -n ping -c 1 -W 2 "$red_addr"
    check "blue reaches red ($red_addr) over the bridge" test "$RC" = 0
    run ip netns exec "$TAG" "${nb[@]}" detach "$red" "$blue" --bridge tourbr0
    run ip netns exec "$TAG" "${nb[@]}" down --bridge tourbr0
    run ip netns delete "$TAG"
    HOST_NS=""
fi

# --- 7. cgroups ---------------------------------------------------------------------
if wants 7; then
    step 7 "cgroups: groups of processes, and limits" \
        "A cgroup hierarchy is a filesystem: a directory is a cgroup, and writing a PID into its cgroup.procs moves that process in. First by hand, in a hierarchy of our own, mounted in a temporary directory."
    mode=$("$BIN/cgctl" mode | head -n 1)
    sleep 600 </dev/null >/dev/null 2>&1 &
    BG_PIDS+=("$!")
    sleeper=$!
    if [ "$mode" != v2 ]; then
        HIER=$WORK/hierarchy
        mkdir "$HIER"
        run "$BIN/cgctl" mount --name "$TAG" "$HIER"
        [ "$RC" = 0 ] || HIER=""
        label="name=$TAG"
        base=$HIER
    else
        say "(This host has cgroup2 only: the same, below the tour's own cgroup.)"
        own=$(sed -n 's/^0:://p' /proc/self/cgroup)
        base=/sys/fs/cgroup${own%/}/$TAG
        run mkdir "$base"
        HIER_DIRS+=("$base")
        label=""
    fi
    run mkdir "$base/red" "$base/blue"
    HIER_DIRS+=("$base/red" "$base/blue")
    run sh -c "echo $sleeper > $base/red/cgroup.procs"
    run grep "^[0-9]*:$label:" "/proc/$sleeper/cgroup"
    check "sleep $sleeper is in /red" grep -q ":/red$" <<<"$OUT"
    run sh -c "echo $sleeper > $base/blue/cgroup.procs"
    run cat "$base/blue/cgroup.procs"
    check "now it is in /blue" test "$OUT" = "$sleeper"
    kill "$sleeper"
    wait "$sleeper" 2>/dev/null || true
    for ((i = ${#HIER_DIRS[@]} - 1; i >= 0; i--)); do rmdir "${HIER_DIRS[$i]}"; done
    HIER_DIRS=()
    if [ -n "$HIER" ]; then
        run "$BIN/cgctl" umount "$HIER"
        HIER=""
    fi

    say "Now a memory limit. cgctl exec makes a cgroup below the tour's own one (--root self), sets memory to 100M, moves itself in and runs stress-ng, which tries to use 200M. The kernel holds it at 100 MiB (without swap, by killing the worker, which stress-ng restarts)."
    cg=$TAG-mem
    CGROUPS+=("$cg")
    run "$BIN/cgctl" --root self exec -c memory -l mem=100M "$cg" -- \
        stress-ng --vm 1 --vm-bytes 200M --vm-keep --timeout 4s --quiet
    run "$BIN/cgctl" --root self show "$cg"
    run "$BIN/cgctl" --root self show --json "$cg"
    peak=$(grep -o '"peak": [0-9]*' <<<"$OUT" | grep -o '[0-9]*$' || true)
    limit=$(grep -o '"limit": [0-9]*' <<<"$OUT" | grep -o '[0-9]*$' || true)
    check "the limit is 100 MiB" test "$limit" = 104857600
    check "stress-ng was held at 100 MiB (peak $peak, more than 90 MiB, at most the limit)" \
        test "${peak:-0}" -gt $((90 << 20)) -a "${peak:-0}" -le 104857600
    run "$BIN/cgctl" --root self rm "$cg"
    [ "$RC" = 0 ] && CGROUPS=()
fi

# --- 8. nsinspect -------------------------------------------------------------------
if wants 8; then
    step 8 "nsinspect: a sandbox next to the host" \
        "nsinspect compares processes namespace by namespace (exit status 0 if all shared, 1 if not, like cmp). A sandbox with new UTS, IPC, PID, mount and network namespaces, next to this shell:"
    sandbox --uts --ipc --pid --mount-proc --net
    run "$BIN/nsinspect" "$SANDBOX" $$
    table=$OUT
    check "nsinspect says they differ (exit status 1)" test "$RC" = 1
    for kind in ipc mnt net pid uts; do
        check "$kind: not shared" grep -Eq "^$kind .* no$" <<<"$table"
    done
    for kind in cgroup time user; do
        check "$kind: shared" grep -Eq "^$kind .* yes$" <<<"$table"
    done
fi

echo
if [ "$FAILED" -gt 0 ]; then
    echo "${RED}${BOLD}$FAILED check(s) failed.${RESET}" >&2
    exit 1
fi
echo "${GREEN}${BOLD}Every step showed what it should.${RESET} Cleaning up: everything the tour made is removed."
