#!/usr/bin/env python3
"""Sums libFuzzer runs per target from the logs tools/fuzz.sh runs leave (TARGET.N.log: libFuzzer's "Done N runs in
S second(s)", else its final stats, else the last progress line) and prints the README's table: executions, time, rate, corpus, findings.

Usage: tools/fuzz/summarize.py [LOG_DIR]   (default .build-fuzz/logs)
"""
import glob
import os
import re
import sys

logs = sys.argv[1] if len(sys.argv) > 1 else ".build-fuzz/logs"
root = os.path.dirname(os.path.abspath(logs.rstrip("/")))
rows = {}
for path in sorted(glob.glob(os.path.join(logs, "*.log"))):
    target = os.path.basename(path).split(".")[0]
    text = open(path, encoding="utf-8", errors="replace").read()
    r = rows.setdefault(target, {"runs": 0, "execs": 0, "seconds": 0.0, "incomplete": 0})
    execs = re.findall(r"stat::number_of_executed_units: (\d+)", text)
    rate = re.findall(r"stat::average_exec_per_sec:\s+(\d+)", text)
    done = re.findall(r"^Done (\d+) runs in (\d+) second", text, re.M)
    if done:
        r["runs"] += 1
        r["execs"] += int(done[-1][0])
        r["seconds"] += int(done[-1][1])
    elif execs:  # stopped by a finding: its final stats
        r["runs"] += 1
        r["execs"] += int(execs[-1])
        r["seconds"] += int(execs[-1]) / max(int(rate[-1]), 1)
    else:  # stopped before its final stats: count the last progress line
        last = re.findall(r"^#(\d+)\s.*exec/s: (\d+)", text, re.M)
        if last:
            r["incomplete"] += 1
            r["execs"] += int(last[-1][0])
            r["seconds"] += int(last[-1][0]) / max(int(last[-1][1]), 1)
print("| target | executions | time (minutes, one core each) | executions/s | corpus files | open findings |")
print("|---|---|---|---|---|---|")
for t, r in sorted(rows.items()):
    corpus = len(os.listdir(os.path.join(root, "corpus", t))) if os.path.isdir(os.path.join(root, "corpus", t)) else 0
    fdir = os.path.join(root, "findings", t)
    findings = len([f for f in os.listdir(fdir) if f.split("-")[0] in ("crash", "timeout", "oom", "leak", "slow")]) if os.path.isdir(fdir) else 0
    rate = r["execs"] / r["seconds"] if r["seconds"] else 0
    print(f"| `{t}` | {r['execs']:,} | {r['seconds'] / 60:.0f} | {rate:,.0f} | {corpus:,} | {findings} |")
