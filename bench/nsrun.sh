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
