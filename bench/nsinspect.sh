#!/usr/bin/env bash
# nsinspect vs util-linux lsns, side by side (issue 3).
#
# Starts GROUPS (default 400) nsrun groups, each a shell and three sleeps in new PID,
# mount, IPC, UTS and network namespaces (with nsrun itself: 5 processes a group, about
# 2,000 in all), then times with hyperfine:
#   nsinspect --all   vs  lsns   (and lsns --list, which skips lsns's tree)
#   nsinspect PID     vs  lsns -p PID
# prints the medians and ratios, and leaves hyperfine's JSON in RESULTS (default
# target/bench). Exactly the processes it started are killed on exit, also on error.
#
# Needs root. Usage: bench/nsinspect.sh   (env: GROUPS_N, RUNS, RESULTS, CARGO_TARGET_DIR)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
groups_n=${GROUPS_N:-400}
runs=${RUNS:-20}
results=${RESULTS:-$root/target/bench}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
bin=$CARGO_TARGET_DIR/release

die() { echo "nsinspect.sh: $*" >&2; exit 1; }

[[ $EUID -eq 0 ]] || die "needs root (it creates namespaces)"
command -v lsns >/dev/null || die "lsns (util-linux) is not installed"
if ! command -v hyperfine >/dev/null; then
    apt-get install -y hyperfine >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y hyperfine >/dev/null; } \
        || die "cannot install hyperfine"
fi
command -v python3 >/dev/null || die "python3 is needed to read hyperfine's JSON"

echo "building release binaries in $CARGO_TARGET_DIR ..."
cargo build --quiet --release --manifest-path "$root/Cargo.toml" -p nsrun -p nsinspect

work=$(mktemp -d /tmp/nsinspect-bench.XXXXXX)
nsrun_pids=()
child_pids=()

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    # Only the PIDs this script started: each command (PID 1 of its PID namespace; the
    # kernel ends the rest of that namespace with it) while it is still the child of the
    # nsrun that started it, so a reused PID is never hit; then those nsrun processes.
    local i
    for i in "${!child_pids[@]}"; do
        [[ $(ppid_of "${child_pids[$i]}") == "${nsrun_pids[$i]}" ]] \
            && kill -KILL "${child_pids[$i]}" 2>/dev/null
    done
    for pid in "${nsrun_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in "${nsrun_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
    exit "$status"
}
# The parent PID of $1 (empty when it is gone).
ppid_of() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    read -r _ ppid _ <<<"$stat"
    echo "$ppid"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "starting $groups_n groups of processes in new namespaces ..."
for ((i = 0; i < groups_n; i++)); do
    "$bin/nsrun" --pid --mount-proc --ipc --uts --net --kill-child \
        --pid-file "$work/$i.pid" -- \
        sh -c 'sleep 600 & sleep 600 & sleep 600 & wait' </dev/null >/dev/null 2>&1 &
    nsrun_pids+=("$!")
done
for ((i = 0; i < groups_n; i++)); do
    for ((tries = 0; tries < 1000; tries++)); do
        [[ -s $work/$i.pid ]] && break
        sleep 0.01
    done
    [[ -s $work/$i.pid ]] || die "group $i did not start"
    child_pids+=("$(<"$work/$i.pid")")
done
# Wait until every shell has its three sleeps.
for pid in "${child_pids[@]}"; do
    for ((tries = 0; tries < 1000; tries++)); do
        [[ $(wc -w <"/proc/$pid/task/$pid/children" 2>/dev/null) -ge 3 ]] && break
        sleep 0.01
    done
done

# Counted with a glob: a process that exits meanwhile must not stop the script.
shopt -s nullglob
proc_dirs=(/proc/[0-9]*)
procs=${#proc_dirs[@]}
shopt -u nullglob
namespaces=$("$bin/nsinspect" --all --noheadings -o NS 2>/dev/null | wc -l)
echo "now: $procs processes, $namespaces namespaces"

target=${child_pids[0]}
# nsinspect must succeed on its own: hyperfine is told to ignore failures below, because
# lsns 2.38 now and then exits 1 when a process ends during its scan.
"$bin/nsinspect" --all >/dev/null || die "nsinspect --all failed"
"$bin/nsinspect" "$target" >/dev/null || die "nsinspect $target failed"
mkdir -p "$results"
hyperfine --shell=none --ignore-failure --style basic --warmup 3 --runs "$runs" \
    --export-json "$results/nsinspect-all.json" \
    -n "nsinspect --all" "$bin/nsinspect --all" \
    -n "lsns" "lsns" \
    -n "lsns --list" "lsns --list" >/dev/null
hyperfine --shell=none --ignore-failure --style basic --warmup 5 --runs "$((runs * 5))" \
    --export-json "$results/nsinspect-one.json" \
    -n "nsinspect PID" "$bin/nsinspect $target" \
    -n "lsns -p PID" "lsns -p $target" >/dev/null

python3 - "$results/nsinspect-all.json" "$results/nsinspect-one.json" "$procs" "$namespaces" <<'PY'
import json, sys
def medians(path):
    return {r["command"]: r["median"] * 1000 for r in json.load(open(path))["results"]}
all_, one = medians(sys.argv[1]), medians(sys.argv[2])
rows = [
    ("nsinspect --all", all_["nsinspect --all"], "", ""),
    ("lsns", all_["lsns"], all_["lsns"] / all_["nsinspect --all"], "4x"),
    ("lsns --list", all_["lsns --list"], all_["lsns --list"] / all_["nsinspect --all"], ""),
    ("nsinspect PID", one["nsinspect PID"], "", ""),
    ("lsns -p PID", one["lsns -p PID"], one["lsns -p PID"] / one["nsinspect PID"], "50x"),
]
print(f"\n{sys.argv[3]} processes, {sys.argv[4]} namespaces; medians, and how much slower than nsinspect:")
print(f"{'command':16} {'median ms':>10} {'ratio':>7} {'goal':>5}")
for name, ms, ratio, goal in rows:
    r = f"{ratio:6.1f}x" if ratio != "" else ""
    print(f"{name:16} {ms:10.2f} {r:>7} {goal:>5}")
PY
