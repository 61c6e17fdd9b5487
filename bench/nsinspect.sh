#!/usr/bin/env bash
# nsinspect vs util-linux lsns, side by side, on an idle host and with about 2,000
# processes:
#   nsinspect --all   vs  lsns
#   nsinspect PID     vs  lsns -p PID
# For the second pair, GROUPS_N (default 400) nsrun groups are started, each a shell
# and three sleeps in new PID, mount, IPC, UTS and network namespaces (with nsrun
# itself: 5 processes a group). Exactly the processes it started are killed on exit,
# also on error. Standalone (root) or from bench/run.sh, which collects the rows.
. "$(dirname "$0")/lib.sh"
need lsns util-linux
build_release

groups_n=${GROUPS_N:-400}
work=$(mktemp -d /tmp/nsinspect-bench.XXXXXX)
nsrun_pids=()
child_pids=()

# The parent PID of $1 (empty when it is gone).
ppid_of() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    read -r _ ppid _ <<<"$stat"
    echo "$ppid"
}
cleanup() {
    local status=$? i pid
    trap - EXIT INT TERM
    set +e
    # Only the PIDs this script started: each command (PID 1 of its PID namespace; the
    # kernel ends the rest of that namespace with it) while it is still the child of the
    # nsrun that started it, so a reused PID is never hit; then those nsrun processes.
    for i in "${!child_pids[@]}"; do
        [[ $(ppid_of "${child_pids[$i]}") == "${nsrun_pids[$i]}" ]] \
            && kill -KILL "${child_pids[$i]}" 2>/dev/null
    done
    for pid in "${nsrun_pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    for pid in "${nsrun_pids[@]}"; do wait "$pid" 2>/dev/null; done
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One comparison pair at the current load; TAG is idle or loaded.
measure() {
    local tag=$1 target=$2 what=$3
    # nsinspect must succeed on its own: hyperfine is told to ignore failures, because
    # lsns 2.38 now and then exits 1 when a process ends during its scan.
    "$BIN/nsinspect" --all >/dev/null || { echo "nsinspect --all failed" >&2; exit 1; }
    "$BIN/nsinspect" "$target" >/dev/null || { echo "nsinspect $target failed" >&2; exit 1; }
    local slow_runs fast_runs
    if [ "$tag" = idle ]; then
        slow_runs=$(quick 10 40) fast_runs=$(quick 15 60)
    else
        slow_runs=$(quick 3 10) fast_runs=$(quick 10 40)
    fi
    alternate "nsinspect-all-$tag" --shell=none --ignore-failure --warmup 2 \
        --runs "${BENCH_RUNS:-$slow_runs}" -- \
        "nsinspect --all" "$BIN/nsinspect --all" lsns lsns
    row "nsinspect --all vs lsns ($what)" "nsinspect-all-$tag" "nsinspect --all" lsns
    alternate "nsinspect-one-$tag" --shell=none --ignore-failure --warmup 3 \
        --runs "${BENCH_RUNS:-$fast_runs}" -- \
        "nsinspect PID" "$BIN/nsinspect $target" "lsns -p PID" "lsns -p $target"
    row "nsinspect PID vs lsns -p PID ($what)" "nsinspect-one-$tag" "nsinspect PID" "lsns -p PID"
}

# Counted with a glob: a process that exits meanwhile must not stop the script.
count() {
    shopt -s nullglob
    local dirs=(/proc/[0-9]*)
    shopt -u nullglob
    echo "${#dirs[@]} processes, $("$BIN/nsinspect" --all --noheadings -o NS 2>/dev/null | wc -l) namespaces"
}

measure idle $$ "idle host: $(count)"

echo "starting $groups_n groups of processes in new namespaces ..." >&2
for ((i = 0; i < groups_n; i++)); do
    "$BIN/nsrun" --pid --mount-proc --ipc --uts --net --kill-child \
        --pid-file "$work/$i.pid" -- \
        sh -c 'sleep 600 & sleep 600 & sleep 600 & wait' </dev/null >/dev/null 2>&1 &
    nsrun_pids+=("$!")
done
for ((i = 0; i < groups_n; i++)); do
    for ((tries = 0; tries < 1000; tries++)); do
        [[ -s $work/$i.pid ]] && break
        sleep 0.01
    done
    [[ -s $work/$i.pid ]] || { echo "group $i did not start" >&2; exit 1; }
    child_pids+=("$(<"$work/$i.pid")")
done
# Wait until every shell has its three sleeps.
for pid in "${child_pids[@]}"; do
    for ((tries = 0; tries < 1000; tries++)); do
        [[ $(wc -w <"/proc/$pid/task/$pid/children" 2>/dev/null) -ge 3 ]] && break
        sleep 0.01
    done
done
measure loaded "${child_pids[0]}" "$(count)"
