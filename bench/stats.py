#!/usr/bin/env python3
"""Medians, ranges and ratios from hyperfine's JSON, for the bench scripts.

  stats.py row JOB OURS THEIRS [--per N]
      OURS and THEIRS are GLOB or GLOB@COMMAND: every hyperfine JSON file matching GLOB
      (e.g. all rounds of one comparison), and in each the result named COMMAND (the
      only result when no COMMAND is given). COMMAND A+B+C is the sum of the i-th runs
      of A, B and C, each timed alone (a sequence of commands, with no shell between). The samples of all files are pooled, so
      alternating rounds count as one set. With --per N every time is divided by N
      (e.g. per namespace). Prints one human-readable summary on stdout and, when
      BENCH_RESULTS names a file, appends one TSV row to it:
      job, ours median, theirs median, ratio, ours min, ours max, theirs min,
      theirs max, runs of ours, runs of theirs (times in ms)

  stats.py table FILE [--markdown]
      The rows of FILE as one table: job, our median, theirs, ratio (ours/theirs;
      below 1 is faster), and the min-max of each.
"""
import glob
import json
import os
import statistics
import sys


def samples(spec, per):
    pattern, _, command = spec.partition("@")
    if "+" in command:
        # Several commands timed alone: the sum of their i-th runs, run by run.
        parts = [samples(f"{pattern}@{c}", per) for c in command.split("+")]
        if len({len(p) for p in parts}) != 1:
            sys.exit(f"stats.py: {command} have different numbers of runs")
        return [sum(ts) for ts in zip(*parts)]
    paths = sorted(glob.glob(pattern))
    if not paths:
        sys.exit(f"stats.py: no file matches {pattern}")
    times = []
    for path in paths:
        with open(path) as f:
            results = json.load(f)["results"]
        if command:
            chosen = [r for r in results if r["command"] == command]
            if not chosen:
                sys.exit(f"stats.py: {path} has no command named {command!r}")
        elif len(results) == 1:
            chosen = results
        else:
            sys.exit(f"stats.py: {path} has several commands; name one with @COMMAND")
        for r in chosen:
            times += r["times"]
    return [t * 1e3 / per for t in times]


def row(args):
    per = 1.0
    if "--per" in args:
        i = args.index("--per")
        per = float(args[i + 1])
        del args[i : i + 2]
    job, ours_spec, theirs_spec = args
    ours, theirs = samples(ours_spec, per), samples(theirs_spec, per)
    o, t = statistics.median(ours), statistics.median(theirs)
    fields = [job, o, t, o / t, min(ours), max(ours), min(theirs), max(theirs), len(ours), len(theirs)]
    line = "\t".join(f"{x:.4f}" if isinstance(x, float) else str(x) for x in fields)
    out = os.environ.get("BENCH_RESULTS")
    if out:
        with open(out, "a") as f:
            f.write(line + "\n")
    verdict = f"{t / o:.2f}x faster" if o < t else f"{o / t:.2f}x slower"
    print(f"{job}\n  ours   {fmt(o):>10} (min {fmt(min(ours))}, max {fmt(max(ours))}, {len(ours)} runs)"
          f"\n  theirs {fmt(t):>10} (min {fmt(min(theirs))}, max {fmt(max(theirs))}, {len(theirs)} runs)"
          f"\n  ratio {o / t:.2f} ({verdict})")


def fmt(ms):
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"


def ratio_text(r):
    if r < 0.01:
        return f"{r:.4f} ({1 / r:.0f}x faster)"
    if r < 1:
        return f"{r:.2f} ({1 / r:.1f}x faster)"
    if r > 1.05:
        return f"{r:.2f} ({r:.2f}x slower)"
    return f"{r:.2f}"


def table(args):
    markdown = "--markdown" in args
    args = [a for a in args if a != "--markdown"]
    rows = []
    with open(args[0]) as f:
        for line in f:
            if not line.strip():
                continue
            job, o, t, r, omin, omax, tmin, tmax, n_o, n_t = line.rstrip("\n").split("\t")
            o, t, r, omin, omax, tmin, tmax = map(float, (o, t, r, omin, omax, tmin, tmax))
            rows.append([job, fmt(o), fmt(t), ratio_text(r),
                         f"{fmt(omin)} – {fmt(omax)}", f"{fmt(tmin)} – {fmt(tmax)}",
                         f"{n_o}/{n_t}"])
    head = ["job (ours vs theirs)", "ours", "theirs", "ratio", "ours min–max",
            "theirs min–max", "runs"]
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        print("  ".join(cells).rstrip())


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("row", "table"):
        sys.exit(__doc__)
    {"row": row, "table": table}[sys.argv[1]](sys.argv[2:])
