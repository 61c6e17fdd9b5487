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

# The medians side by side, in the shape of bench/lib.sh's compare() (which this
# script does not use: it runs two commands with a fixed 100 runs, and these
# comparisons take three commands, a --prepare and hundreds of milliseconds a run).
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
def medians(name):
    with open(f"{out}/{name}.json") as f:
        return {r["command"]: r["median"] * 1e3 for r in json.load(f)["results"]}
comparisons = [
    ("limit mem 100M on one process (create + set + move)", "limit", "cgctl",
     "cgcreate + cgset + cgclassify", "libcgroup", 3.0),
    ("create 1,000 cgroups", "create", "cgctl", "one cgcreate with 1,000 -g", "cgcreate", 5.0),
    ("create 1,000 cgroups", "create", "cgctl", "one mkdir of 1,000", "mkdir", 1.0),
    ("remove 1,000 cgroups", "rm", "cgctl rm -r", "cgdelete -r", "cgdelete -r", 5.0),
]
print()
for title, name, ours, label, theirs, goal in comparisons:
    m = medians(name)
    o, t = m[ours], m[theirs]
    print(f"{title}: {ours} vs {label}")
    print(f"  {o:9.3f} ms  {ours}")
    print(f"  {t:9.3f} ms  {label}")
    verdict = "met" if t / o >= goal else "NOT met"
    want = "no slower" if goal == 1.0 else f"{goal:g}x faster"
    print(f"  ratio ours/theirs {o / t:.2f}  ({t / o:.2f}x {'faster' if o < t else 'slower'}; "
          f"goal {want}: {verdict})")
PY
