#!/usr/bin/env bash
# nsrun vs util-linux unshare and nsenter, side by side (medians; goal: ratio <= 1.0),
# each with `true` started the same way (the floor: the exec both sides end with), in
# the same alternating rounds, so that what is left above the floor shows.
# Standalone (root; installs hyperfine) or from bench/run.sh, which collects the rows.
. "$(dirname "$0")/lib.sh"
need unshare util-linux nsenter util-linux
build_release

# with_floor JOB NAME OURS THEIRS: `compare`, with `true` timed in the same rounds and a
# second row of OURS against it.
with_floor() {
    local job=$1 name=$2 ours=$3 theirs=$4
    alternate "$name" --shell=none --warmup "${BENCH_WARMUP:-$(quick 3 10)}" \
        --runs "${BENCH_RUNS:-$(quick 15 60)}" -- ours "$ours" theirs "$theirs" floor true
    row "$job" "$name" ours theirs
    row "${job%% vs *} vs true (the floor)" "$name" ours floor
}

with_floor "nsrun --uts true vs unshare --uts true" nsrun-uts \
    "$BIN/nsrun --uts true" "unshare --uts true"
with_floor "nsrun --uts --ipc --pid --mount-proc true vs unshare … --fork --mount-proc true" \
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
with_floor "nsrun --join PID:net true vs nsenter -t PID -n true" nsrun-join-net \
    "$BIN/nsrun --join $join_target:net true" "nsenter -t $join_target -n true"
