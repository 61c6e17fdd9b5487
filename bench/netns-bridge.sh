#!/usr/bin/env bash
# netns-bridge vs the CNI bridge plugin (host-local IPAM) vs a shell script of `ip`
# commands: attaching and detaching N namespaces (default 50), all inside a throwaway
# network namespace that plays the host. Prints per-namespace medians and the ratios,
# and with bench/run.sh one row each for its table.
# The machine's own network namespace is never touched; everything made is removed on
# exit. Standalone: needs root, installs what is missing with apt-get.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }

# `need` installs what is missing (command -v finds absolute paths too).
. "$ROOT/bench/lib.sh"
need ip iproute2 nft nftables \
    /usr/lib/cni/bridge containernetworking-plugins

N=${N:-$(quick 20 50)}
ROUNDS=${ROUNDS:-$(quick 2 5)}
RUNS=${RUNS:-2}

# NB=PATH benchmarks that binary instead (e.g. an older build, for an A/B comparison).
if [ -z "${NB:-}" ]; then
    build_release
    NB=$BIN/netns-bridge
fi

TAG=nbbench-$$
HOST=$TAG-host
WORK=$(mktemp -d)
OUT=$BENCH_OUT

cleanup() {
    local ns
    for ns in $(ip netns list | awk '{print $1}' | grep "^$TAG-" || true); do
        ip netns delete "$ns" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

ip netns add "$HOST"
for tool in nb nb6 cni cni6 ip; do
    for i in $(seq 1 "$N"); do ip netns add "$TAG-$tool-$i"; done
done
ip -n "$HOST" link set lo up
ip -n "$HOST" link add ipbr0 type bridge
ip -n "$HOST" addr add 10.125.0.1/24 dev ipbr0
ip -n "$HOST" link set ipbr0 up

# netns-bridge: one process per namespace, one attach for all (batched), and one detach
# for all (batched).
cat >"$WORK/nb-attach.sh" <<SH
for i in \$(seq 1 $N); do
    $NB --state-dir $WORK/nb-state attach $TAG-nb-\$i --bridge nbb0 --subnet 10.123.0.0/24 >/dev/null
done
SH
cat >"$WORK/nb-attach-batch.sh" <<SH
$NB --state-dir $WORK/nb-state attach --bridge nbb0 --subnet 10.123.0.0/24 \$(for i in \$(seq 1 $N); do echo $TAG-nb-\$i; done) >/dev/null
SH
cat >"$WORK/nb-detach.sh" <<SH
for i in \$(seq 1 $N); do $NB --state-dir $WORK/nb-state detach $TAG-nb-\$i --bridge nbb0; done
SH
cat >"$WORK/nb-detach-batch.sh" <<SH
$NB --state-dir $WORK/nb-state detach --bridge nbb0 \$(for i in \$(seq 1 $N); do echo $TAG-nb-\$i; done)
SH

# Dual stack: both families, on a bridge of their own.
cat >"$WORK/nb6-attach.sh" <<SH
for i in \$(seq 1 $N); do
    $NB --state-dir $WORK/nb6-state attach $TAG-nb6-\$i --bridge nbb6 \
        --subnet 10.126.0.0/24 --subnet6 fd7e::/64 >/dev/null
done
SH
cat >"$WORK/nb6-detach-batch.sh" <<SH
$NB --state-dir $WORK/nb6-state detach --bridge nbb6 \$(for i in \$(seq 1 $N); do echo $TAG-nb6-\$i; done)
SH

# The reference CNI bridge plugin, called as a runtime calls it.
cat >"$WORK/cni.json" <<JSON
{"cniVersion":"1.0.0","name":"benchnet","type":"bridge","bridge":"cnib0","isGateway":true,
 "ipam":{"type":"host-local","ranges":[[{"subnet":"10.124.0.0/24"}]],
         "routes":[{"dst":"0.0.0.0/0"}],"dataDir":"$WORK/cni-data"}}
JSON
cat >"$WORK/cni6.json" <<JSON
{"cniVersion":"1.0.0","name":"benchnet6","type":"bridge","bridge":"cnib6","isGateway":true,
 "ipam":{"type":"host-local","ranges":[[{"subnet":"10.127.0.0/24"}],[{"subnet":"fd7f::/64"}]],
         "routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0"}],"dataDir":"$WORK/cni6-data"}}
JSON
for cmd in ADD DEL; do
    for v in "" 6; do
        cat >"$WORK/cni$v-$cmd.sh" <<SH
for i in \$(seq 1 $N); do
    CNI_COMMAND=$cmd CNI_CONTAINERID=c\$i CNI_NETNS=/run/netns/$TAG-cni$v-\$i CNI_IFNAME=eth0 \
        CNI_PATH=/usr/lib/cni /usr/lib/cni/bridge <$WORK/cni$v.json >/dev/null
done
SH
    done
done

# A shell script of ip commands doing the same as an attach.
cat >"$WORK/ip-add.sh" <<SH
for i in \$(seq 1 $N); do
    ns=$TAG-ip-\$i
    ip link add vb\$i type veth peer name eth0 netns \$ns
    ip link set vb\$i master ipbr0 up
    ip -n \$ns link set lo up
    ip -n \$ns link set eth0 up
    ip -n \$ns addr add 10.125.0.\$((i + 1))/24 dev eth0
    ip -n \$ns route add default via 10.125.0.1
done
SH
cat >"$WORK/ip-del.sh" <<SH
for i in \$(seq 1 $N); do ip link del vb\$i 2>/dev/null || true; done
SH

# The preparation of each run undoes the previous one and then lets the kernel settle
# (deferred netdevice and namespace cleanup), so that no run pays for the one before.
# The tools take turns: ROUNDS rounds of RUNS runs each, every other round in reverse
# order, and the medians are taken over all rounds' runs, so that drift in the load of
# a shared machine hits all of them alike.
cat "$WORK/nb-detach-batch.sh" "$WORK/nb-attach.sh" >"$WORK/nb-reset.sh"
cat "$WORK/cni-DEL.sh" "$WORK/cni-ADD.sh" >"$WORK/cni-reset.sh"
cat "$WORK/ip-del.sh" "$WORK/ip-add.sh" >"$WORK/ip-reset.sh"
cat "$WORK/nb6-detach-batch.sh" "$WORK/nb6-attach.sh" >"$WORK/nb6-reset.sh"
bench() { # NAME ROUND PREPARE COMMAND
    ip netns exec "$HOST" hyperfine --runs "$RUNS" --style none \
        --prepare "bash $3; sleep 0.3" --export-json "$OUT/netns-bridge-$1.$2.json" \
        "bash $4" >/dev/null
}
nb() {
    bench nb-attach "$1" "$WORK/nb-detach-batch.sh" "$WORK/nb-attach.sh"
    bench nb-attach-batch "$1" "$WORK/nb-detach-batch.sh" "$WORK/nb-attach-batch.sh"
    bench nb-detach "$1" "$WORK/nb-reset.sh" "$WORK/nb-detach.sh"
    bench nb-detach-batch "$1" "$WORK/nb-reset.sh" "$WORK/nb-detach-batch.sh"
    bench nb6-attach "$1" "$WORK/nb6-detach-batch.sh" "$WORK/nb6-attach.sh"
}
cni() {
    bench cni-add "$1" "$WORK/cni-DEL.sh" "$WORK/cni-ADD.sh"
    bench cni-del "$1" "$WORK/cni-reset.sh" "$WORK/cni-DEL.sh"
    bench cni6-add "$1" "$WORK/cni6-DEL.sh" "$WORK/cni6-ADD.sh"
}
ipcmd() {
    bench ip-add "$1" "$WORK/ip-del.sh" "$WORK/ip-add.sh"
    bench ip-del "$1" "$WORK/ip-reset.sh" "$WORK/ip-del.sh"
}
rm -f "$OUT"/netns-bridge-*.json
# One untimed pass of everything first: caches warm, modules loaded.
for script in nb-reset nb-detach-batch nb6-reset nb6-detach-batch cni-reset cni-DEL cni6-ADD cni6-DEL \
    ip-reset ip-del; do
    ip netns exec "$HOST" bash "$WORK/$script.sh"
done
for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then
        nb "$round"; cni "$round"; ipcmd "$round"
    else
        ipcmd "$round"; cni "$round"; nb "$round"
    fi
done

# Per namespace, over all rounds' runs; one row each for bench/run.sh's table.
per_ns() { # JOB OURS THEIRS
    python3 "$ROOT/bench/stats.py" row "$1" \
        "$OUT/netns-bridge-$2.*.json" "$OUT/netns-bridge-$3.*.json" --per "$N"
}
per_ns "netns-bridge attach vs CNI bridge ADD (per namespace, $N)" nb-attach cni-add
per_ns "netns-bridge attach of all $N in one call vs CNI bridge ADD (per namespace)" \
    nb-attach-batch cni-add
per_ns "netns-bridge attach vs ip commands (per namespace, $N)" nb-attach ip-add
per_ns "netns-bridge attach vs CNI bridge ADD, dual stack (per namespace, $N)" nb6-attach cni6-add
per_ns "netns-bridge detach, one call each, vs CNI bridge DEL (per namespace)" nb-detach cni-del
per_ns "netns-bridge detach, one call each, vs ip link del (per namespace)" nb-detach ip-del
per_ns "netns-bridge detach of all $N in one call vs CNI bridge DEL (per namespace)" \
    nb-detach-batch cni-del
