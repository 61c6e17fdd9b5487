#!/usr/bin/env bash
# Benchmarks cgctl against libcgroup's tools and mkdir, side by side with hyperfine:
#   1. cgctl limit mem 100M PID        vs cgcreate + cgset + cgclassify
#   2. cgctl create of 1,000 cgroups   vs cgcreate with 1,000 -g, and one mkdir
#   3. cgctl rm -r of those 1,000      vs cgdelete -r
# Everything runs in the memory hierarchy, inside a uniquely named cgroup below this
# script's own memory cgroup, which is removed on exit. Needs root.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${RUNS:-20}"
out="${OUT:-$here/target/bench-cgctl}"

need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v cgcreate >/dev/null || need+=(cgroup-tools)
command -v python3 >/dev/null || need+=(python3)
if ((${#need[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

(cd "$here" && cargo build --release -q -p cgctl)
target_dir="${CARGO_TARGET_DIR:-$here/target}"
cgctl="$target_dir/release/cgctl"
mkdir -p "$out"

# This script's memory cgroup, and the hierarchy's mount point (from mountinfo).
own="$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup)"
mnt="$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ {print $5; exit}' /proc/self/mountinfo)"
if [[ -z "$mnt" ]]; then
    echo "bench: no v1 memory hierarchy mounted; this benchmark compares v1 tools" >&2
    exit 1
fi
rel="${own#/}"
rel="${rel:+$rel/}cgctl-bench-$$"
base="$mnt/$rel"
sleeper=""

cleanup() {
    set +e
    if [[ -n "$sleeper" ]]; then
        kill "$sleeper" 2>/dev/null
        wait "$sleeper" 2>/dev/null
    fi
    if [[ -d "$base" ]]; then
        find "$base" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
        rmdir "$base" 2>/dev/null || true
    fi
}
trap cleanup EXIT INT TERM

mkdir "$base"
sleep 3600 &
sleeper=$!

# 1,000 names, as arguments for each tool.
names=()
cg_args=()
dirs=()
for i in $(seq 0 999); do
    names+=("c$i")
    cg_args+=(-g "memory:$rel/many/c$i")
    dirs+=("$base/many/c$i")
done

clear_many="find $base/many -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null; mkdir -p $base/many"
make_many="$clear_many; mkdir ${dirs[*]}"
reset_limit="echo $sleeper > $base/cgroup.procs; rmdir $base/lim 2>/dev/null || true"

hf() { hyperfine -N --style basic --runs "$runs" --warmup 2 "$@"; }

echo "== 1. limit mem 100M on one process (create + set + move)"
hf --export-json "$out/limit.json" \
    --prepare "sh -c '$reset_limit'" \
    -n cgctl "$cgctl --root $base limit mem 100M $sleeper --cgroup lim" \
    -n libcgroup "sh -c 'cgcreate -g memory:$rel/lim && cgset -r memory.limit_in_bytes=100M $rel/lim && cgclassify -g memory:$rel/lim $sleeper'"
sh -c "$reset_limit"

echo "== 2. create 1,000 cgroups"
hf --export-json "$out/create.json" \
    --prepare "sh -c '$clear_many'" \
    -n cgctl "$cgctl --root $base/many create ${names[*]}" \
    -n cgcreate "cgcreate ${cg_args[*]}" \
    -n mkdir "mkdir ${dirs[*]}"

echo "== 3. remove 1,000 cgroups"
hf --export-json "$out/rm.json" \
    --prepare "sh -c '$make_many'" \
    -n "cgctl rm -r" "$cgctl rm -r $base/many" \
    -n "cgdelete -r" "cgdelete -r memory:$rel/many"

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
def medians(name):
    with open(f"{out}/{name}.json") as f:
        return {r["command"]: r["median"] * 1000 for r in json.load(f)["results"]}
print()
print(f"{'comparison':<44} {'median ms':>10} {'ratio':>8}")
for name, ours, others, goal in [
    ("limit", "cgctl", ["libcgroup"], "goal >= 3x"),
    ("create", "cgctl", ["cgcreate", "mkdir"], "goal >= 5x vs cgcreate, >= 1x vs mkdir"),
    ("rm", "cgctl rm -r", ["cgdelete -r"], "goal >= 5x"),
]:
    m = medians(name)
    print(f"{name + ': ' + ours:<44} {m[ours]:>10.2f}")
    for o in others:
        print(f"{name + ': ' + o:<44} {m[o]:>10.2f} {m[o] / m[ours]:>7.2f}x")
    print(f"  ({goal}; ratio = other / cgctl)")
PY
