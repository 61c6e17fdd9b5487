# Shared by the bench scripts: side-by-side timing with hyperfine, medians and ratios.
# Source it from a bench script: `. "$(dirname "$0")/lib.sh"`.

set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_OUT=${BENCH_OUT:-$BENCH_ROOT/target/bench}
mkdir -p "$BENCH_OUT"

# Installs Debian packages that provide missing commands: need CMD PACKAGE [CMD PACKAGE...]
need() {
    local missing=()
    while [ $# -ge 2 ]; do
        command -v "$1" >/dev/null 2>&1 || missing+=("$2")
        shift 2
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "bench: installing ${missing[*]}" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

need hyperfine hyperfine python3 python3

# Builds the workspace's release binaries once; sets BIN to their directory.
build_release() {
    (cd "$BENCH_ROOT" && cargo build --release --workspace --quiet)
    BIN=$BENCH_ROOT/target/release
}

# compare NAME OURS THEIRS [hyperfine options...]
# Runs both commands side by side and prints their medians and OURS/THEIRS. The two are
# timed in several alternating rounds (BENCH_ROUNDS, default 5), and the medians are
# taken over all rounds' samples, so that drift in the machine's load (and whichever
# command hyperfine runs first) hits both alike.
compare() {
    local name=$1 ours=$2 theirs=$3
    shift 3
    local rounds=${BENCH_ROUNDS:-5} files=() i
    for i in $(seq 1 "$rounds"); do
        local json="$BENCH_OUT/$name.$i.json"
        # Each round swaps which command goes first.
        local order=(-n ours "$ours" -n theirs "$theirs")
        [ $((i % 2)) -eq 0 ] && order=(-n theirs "$theirs" -n ours "$ours")
        hyperfine --shell=none --warmup 10 --runs "${BENCH_RUNS:-60}" --style none "$@" \
            --export-json "$json" "${order[@]}" >/dev/null 2>&1
        files+=("$json")
    done
    python3 - "$name" "$ours" "$theirs" "${files[@]}" <<'PY'
import json, statistics, sys
name, ours, theirs, *paths = sys.argv[1:]
times = {"ours": [], "theirs": []}
for path in paths:
    for r in json.load(open(path))["results"]:
        times[r["command"]] += r["times"]
o = statistics.median(times["ours"]) * 1e3
t = statistics.median(times["theirs"]) * 1e3
n = len(times["ours"])
print(f"{name}  ({n} runs each)")
print(f"  {o:9.3f} ms  {ours}")
print(f"  {t:9.3f} ms  {theirs}")
print(f"  ratio ours/theirs {o / t:.2f}  ({t / o:.2f}x {'faster' if o < t else 'slower'})")
PY
}
