#!/usr/bin/env bash
# nsrun vs util-linux unshare, side by side (medians; goal: ratio <= 1.0).
# Standalone (root; installs hyperfine) or from bench/run.sh, which collects the rows.
. "$(dirname "$0")/lib.sh"
need unshare util-linux
build_release

compare "nsrun --uts true vs unshare --uts true" nsrun-uts \
    "$BIN/nsrun --uts true" "unshare --uts true"
compare "nsrun --uts --ipc --pid --mount-proc true vs unshare … --fork --mount-proc true" \
    nsrun-pid-proc \
    "$BIN/nsrun --uts --ipc --pid --mount-proc true" \
    "unshare --uts --ipc --pid --fork --mount-proc true"

# A process with a network namespace of its own to join (nsrun --net becomes sleep).
"$BIN/nsrun" --net -- sleep 3600 &
join_target=$!
trap 'kill "$join_target" 2>/dev/null' EXIT
until [ "$(readlink "/proc/$join_target/ns/net")" != "$(readlink /proc/self/ns/net)" ]; do
    sleep 0.01
done
compare "nsrun --join PID:net true vs nsenter -t PID -n true" nsrun-join-net \
    "$BIN/nsrun --join $join_target:net true" "nsenter -t $join_target -n true"
