#!/usr/bin/env bash
# Benchmarks cgctl against libcgroup's tools and plain shell, side by side with
# hyperfine (alternating rounds, see lib.sh):
#   1. cgctl limit mem 100M PID        vs cgcreate + cgset + cgclassify (each timed
#                                         alone, summed), and mkdir + echo in sh
#   2. cgctl create of 1,000 cgroups   vs cgcreate with 1,000 -g, and one mkdir
#   3. cgctl rm -r of those 1,000      vs cgdelete -r, and one rmdir
# Everything runs in the memory hierarchy, inside a uniquely named cgroup below this
# script's own memory cgroup, which is removed on exit. Standalone (root; installs
# hyperfine and cgroup-tools) or from bench/run.sh, which collects the rows.

. "$(dirname "$0")/lib.sh"
need cgcreate cgroup-tools
build_release
cgctl=$BIN/cgctl
runs=${BENCH_RUNS:-$(quick 3 20)}

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
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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

shell_limit="mkdir $base/lim && echo 104857600 > $base/lim/memory.limit_in_bytes && echo $sleeper > $base/lim/cgroup.procs"
opts=(-N --runs "$runs" --warmup 2)

# libcgroup's three commands are timed one by one, each started directly like cgctl (no
# shell on one side only), each after an untimed step that leaves what the ones before
# it would have made; their sum, run by run, is compared with cgctl. The three lines of
# sh are compared with cgctl started by the same `sh -c`.
echo "limit mem 100M on one process (create + set + move) ..." >&2
made="$reset_limit; mkdir $base/lim"
limited="$made; echo 104857600 > $base/lim/memory.limit_in_bytes"
alternate_prepared cgctl-limit "${opts[@]}" -- \
    cgctl "sh -c '$reset_limit'" "$cgctl --root $base limit mem 100M $sleeper --cgroup lim" \
    cgcreate "sh -c '$reset_limit'" "cgcreate -g memory:$rel/lim" \
    cgset "sh -c '$made'" "cgset -r memory.limit_in_bytes=100M $rel/lim" \
    cgclassify "sh -c '$limited'" "cgclassify -g memory:$rel/lim $sleeper" \
    "sh -c cgctl" "sh -c '$reset_limit'" \
    "sh -c '$cgctl --root $base limit mem 100M $sleeper --cgroup lim'" \
    shell "sh -c '$reset_limit'" "sh -c '$shell_limit'"
sh -c "$reset_limit"
row "cgctl limit mem 100M PID vs cgcreate + cgset + cgclassify (each timed alone)" \
    cgctl-limit cgctl cgcreate+cgset+cgclassify
row "cgctl limit mem 100M PID vs mkdir + echo limit + echo PID (both in sh -c)" \
    cgctl-limit "sh -c cgctl" shell

echo "create 1,000 cgroups ..." >&2
alternate cgctl-create "${opts[@]}" --prepare "sh -c '$clear_many'" -- \
    cgctl "$cgctl --root $base/many create ${names[*]}" \
    cgcreate "cgcreate ${cg_args[*]}" \
    mkdir "mkdir ${dirs[*]}"
row "cgctl create of 1,000 cgroups vs one cgcreate with 1,000 -g" cgctl-create cgctl cgcreate
row "cgctl create of 1,000 cgroups vs one mkdir of 1,000" cgctl-create cgctl mkdir

echo "remove 1,000 cgroups ..." >&2
alternate cgctl-rm "${opts[@]}" --prepare "sh -c '$make_many'" -- \
    "cgctl rm -r" "$cgctl rm -r $base/many" \
    "cgdelete -r" "cgdelete -r memory:$rel/many" \
    rmdir "rmdir ${dirs[*]} $base/many"
row "cgctl rm -r of 1,000 cgroups vs cgdelete -r" cgctl-rm "cgctl rm -r" "cgdelete -r"
row "cgctl rm -r of 1,000 cgroups vs one rmdir of 1,000" cgctl-rm "cgctl rm -r" rmdir
