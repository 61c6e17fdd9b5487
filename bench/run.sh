#!/usr/bin/env bash
# Every side-by-side benchmark of nstools, and one table of the results:
#   nsrun         vs util-linux unshare
#   nsinspect     vs util-linux lsns, on an idle host and with about 2,000 processes
#   cgctl         vs libcgroup (cgcreate, cgset, cgclassify, cgdelete) and plain shell
#   netns-bridge  vs the CNI bridge plugin (host-local IPAM) and a script of `ip` commands
# Installs what it needs (hyperfine, cgroup-tools, containernetworking-plugins, ...),
# builds the static release binaries once (`cargo build-static`), runs bench/TOOL.sh
# for each tool (each one also runs on its own), and prints one table: job, our median, theirs, ratio (ours/theirs:
# below 1 means nstools is faster), and the min-max of each, then the versions of the
# reference tools. The rules every comparison keeps are at the top of BENCHMARKS.md.
#
# Usage (root):  bench/run.sh [--quick] [TOOL...]
#   --quick   fewer runs and rounds, 20 namespaces instead of 50 (under 2 minutes)
# The rows are also kept in TARGET/bench/results.tsv, the table in TARGET/bench/table.md
# (TARGET is CARGO_TARGET_DIR, else target/), each tool's output in TARGET/bench/TOOL.log.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools=()
for arg in "$@"; do
    case $arg in
        --quick) export BENCH_QUICK=1 ;;
        -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "bench/run.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
        *)
            [ -f "$here/$arg.sh" ] || { echo "bench/run.sh: no benchmark for $arg" >&2; exit 2; }
            tools+=("$arg")
            ;;
    esac
done
[ ${#tools[@]} -gt 0 ] || tools=(nsrun nsinspect cgctl netns-bridge)

. "$here/lib.sh"
start=$SECONDS
echo "bench: building the release binaries ..." >&2
build_release
export BIN BENCH_OUT
export BENCH_RESULTS=$BENCH_OUT/results.tsv
: >"$BENCH_RESULTS"

failed=()
for tool in "${tools[@]}"; do
    echo "bench: $tool ($((SECONDS - start)) s so far) ..." >&2
    if ! bash "$here/$tool.sh" >"$BENCH_OUT/$tool.log" 2>&1; then
        failed+=("$tool")
        echo "bench: $tool failed; the end of $BENCH_OUT/$tool.log:" >&2
        tail -n 15 "$BENCH_OUT/$tool.log" >&2
    fi
done

echo
if [ -s "$BENCH_RESULTS" ]; then
    python3 "$here/stats.py" table "$BENCH_RESULTS"
    python3 "$here/stats.py" table "$BENCH_RESULTS" --markdown >"$BENCH_OUT/table.md"
fi
echo
echo "medians in ms (per namespace for netns-bridge); ratio = ours/theirs, below 1 is faster."
echo "$(nproc) cores, $(uname -sr), $(date -u '+%Y-%m-%d %H:%M UTC'), $((SECONDS - start)) s;" \
    "rows in $BENCH_RESULTS, markdown in $BENCH_OUT/table.md"
echo "versions:"
versions | sed 's/^/  /' | tee "$BENCH_OUT/versions.txt"
if [ ${#failed[@]} -gt 0 ]; then
    echo "bench: failed: ${failed[*]}" >&2
    exit 1
fi
