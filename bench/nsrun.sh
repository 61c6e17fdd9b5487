#!/usr/bin/env bash
# nsrun vs util-linux unshare, side by side (medians; goal: ratio <= 1.0).
. "$(dirname "$0")/lib.sh"
need unshare util-linux
build_release

compare nsrun-uts "$BIN/nsrun --uts true" "unshare --uts true"
compare nsrun-pid-proc \
    "$BIN/nsrun --uts --ipc --pid --mount-proc true" \
    "unshare --uts --ipc --pid --fork --mount-proc true"
compare baseline-true "true" "true"
