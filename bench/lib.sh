# Shared by the bench scripts: side-by-side timing with hyperfine in alternating rounds,
# and one TSV row per comparison for bench/run.sh's table.
# Source it from a bench script: `. "$(dirname "$0")/lib.sh"`.
#
# Env: BENCH_QUICK=1   fewer runs and rounds (bench/run.sh --quick)
#      BENCH_RESULTS   file the rows are appended to (bench/run.sh sets it)
#      BENCH_OUT       where hyperfine's JSON goes (default: TARGET/bench)
#      BENCH_ROUNDS, BENCH_RUNS, BENCH_WARMUP   override the round and run counts
#      BIN             directory of already built (static) binaries (skips the build)

set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_TARGET=${CARGO_TARGET_DIR:-$BENCH_ROOT/target}
case $BENCH_TARGET in /*) ;; *) BENCH_TARGET=$BENCH_ROOT/$BENCH_TARGET ;; esac
BENCH_OUT=${BENCH_OUT:-$BENCH_TARGET/bench}
BENCH_QUICK=${BENCH_QUICK:-0}
mkdir -p "$BENCH_OUT"

# quick VALUE_IF_QUICK VALUE : the first with BENCH_QUICK=1, else the second.
quick() { if [ "$BENCH_QUICK" = 1 ]; then echo "$1"; else echo "$2"; fi; }

# Installs Debian packages that provide missing commands: need CMD PACKAGE [CMD PACKAGE...]
# (CMD may be an absolute path).
need() {
    local missing=()
    while [ $# -ge 2 ]; do
        [ -e "$1" ] || command -v "$1" >/dev/null 2>&1 || missing+=("$2")
        shift 2
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "bench: installing ${missing[*]}" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

[ "$(id -u)" = 0 ] || { echo "bench: needs root (it creates namespaces and cgroups)" >&2; exit 1; }
need hyperfine hyperfine python3 python3

# Builds the static release binaries (`cargo build-static`, the build `cargo xtask dist`
# packages) unless BIN already holds binaries; sets BIN.
build_release() {
    if [ -n "${BIN:-}" ] && [ -x "$BIN/nsrun" ]; then
        return 0
    fi
    (cd "$BENCH_ROOT" && cargo build-static --quiet)
    BIN=$BENCH_TARGET/x86_64-unknown-linux-gnu/release
}

# The versions of the reference tools and of the build, one per line (for BENCHMARKS.md).
versions() {
    local pkg
    for pkg in util-linux cgroup-tools containernetworking-plugins iproute2 nftables hyperfine; do
        dpkg-query -W -f '${Package} ${Version}\n' "$pkg" 2>/dev/null || echo "$pkg (not installed)"
    done
    rustc --version
    echo "binaries: ${BIN:-?} (nsrun: $(ldd "${BIN:-.}/nsrun" 2>&1 | head -n 1 | xargs))"
}

# alternate NAME [hyperfine options...] -- LABEL COMMAND [LABEL COMMAND...]
# Times the commands side by side in BENCH_ROUNDS rounds (default 5, quick 2), every
# other round in reverse order, so that drift in the machine's load (and whichever
# command hyperfine runs first) hits them alike. Each round's JSON goes to
# BENCH_OUT/NAME.ROUND.json; `row` pools them.
alternate() {
    local name=$1
    shift
    local opts=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        opts+=("$1")
        shift
    done
    shift
    local triples=()
    while [ $# -ge 2 ]; do
        triples+=("$1" "" "$2")
        shift 2
    done
    _rounds "$name" "${opts[@]}" -- "${triples[@]}"
}

# alternate_prepared NAME [hyperfine options...] -- LABEL PREPARE COMMAND [...]
# As `alternate`, with an untimed PREPARE command of its own before each run of each
# COMMAND (hyperfine's --prepare given once per command).
alternate_prepared() {
    local name=$1
    shift
    local opts=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        opts+=("$1")
        shift
    done
    shift
    _rounds "$name" "${opts[@]}" -- "$@"
}

# _rounds NAME OPTS... -- LABEL PREPARE COMMAND ... (PREPARE empty: none)
_rounds() {
    local name=$1
    shift
    local opts=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        opts+=("$1")
        shift
    done
    shift
    local forward=() backward=() fprep=() bprep=() i
    while [ $# -ge 3 ]; do
        forward+=(-n "$1" "$3")
        backward=(-n "$1" "$3" "${backward[@]}")
        if [ -n "$2" ]; then
            fprep+=(--prepare "$2")
            bprep=(--prepare "$2" "${bprep[@]}")
        fi
        shift 3
    done
    rm -f "$BENCH_OUT/$name".*.json
    local rounds=${BENCH_ROUNDS:-$(quick 2 5)}
    for i in $(seq 1 "$rounds"); do
        local order=("${forward[@]}") prep=("${fprep[@]}")
        if [ $((i % 2)) -eq 0 ]; then
            order=("${backward[@]}") prep=("${bprep[@]}")
        fi
        # hyperfine's warnings (outliers on a busy machine) go to a log; shown on failure.
        hyperfine --style none "${opts[@]}" "${prep[@]}" \
            --export-json "$BENCH_OUT/$name.$i.json" "${order[@]}" \
            >/dev/null 2>"$BENCH_OUT/$name.$i.log" \
            || { cat "$BENCH_OUT/$name.$i.log" >&2; return 1; }
    done
}

# row JOB NAME OURS_LABEL THEIRS_LABEL [--per N]
# The medians (and min-max) of two commands timed by `alternate NAME`, as one row.
# A label A+B+C is the sum of those commands, run by run (each timed alone).
row() {
    local job=$1 name=$2 ours=$3 theirs=$4
    shift 4
    python3 "$BENCH_ROOT/bench/stats.py" row "$job" \
        "$BENCH_OUT/$name.*.json@$ours" "$BENCH_OUT/$name.*.json@$theirs" "$@"
}

# compare JOB NAME OURS THEIRS [hyperfine options...]
# Two quick commands (no shell), many runs: `alternate` then `row`.
compare() {
    local job=$1 name=$2 ours=$3 theirs=$4
    shift 4
    alternate "$name" --shell=none --warmup "${BENCH_WARMUP:-$(quick 3 10)}" \
        --runs "${BENCH_RUNS:-$(quick 15 60)}" "$@" -- ours "$ours" theirs "$theirs"
    row "$job" "$name" ours theirs
}
