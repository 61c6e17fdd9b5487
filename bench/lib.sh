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
# Runs both commands side by side and prints their medians and THEIRS/OURS.
compare() {
    local name=$1 ours=$2 theirs=$3
    shift 3
    local json="$BENCH_OUT/$name.json"
    hyperfine --shell=none --warmup 20 --min-runs 100 --style none "$@" \
        --export-json "$json" -n ours "$ours" -n theirs "$theirs" >/dev/null
    python3 - "$name" "$json" "$ours" "$theirs" <<'PY'
import json, sys
name, path, ours, theirs = sys.argv[1:]
r = {x["command"]: x for x in json.load(open(path))["results"]}
o, t = r["ours"]["median"] * 1e3, r["theirs"]["median"] * 1e3
print(f"{name}")
print(f"  {o:9.3f} ms  {ours}")
print(f"  {t:9.3f} ms  {theirs}")
print(f"  ratio ours/theirs {o / t:.2f}  ({t / o:.2f}x {'faster' if o < t else 'slower'})")
PY
}
