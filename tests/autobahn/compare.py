#!/usr/bin/env python3
"""Compares an Autobahn client report with the committed expected results.

usage: compare.py INDEX_JSON EXPECTED_JSON AGENT [BASELINE_AGENT]

Fails (exit 1) when AGENT has a FAILED case, a case missing, or a case whose behaviour is
worse than expected; with BASELINE_AGENT (raw tungstenite, run in the same suite), also when
AGENT does worse than the baseline on any case. Prints one summary line per agent.
"""
import collections
import json
import sys

RANK = {"OK": 4, "NON-STRICT": 3, "INFORMATIONAL": 3, "UNIMPLEMENTED": 2, "WRONG CODE": 1, "FAILED": 0}


def rank(value):
    return RANK.get(value, 0)


def main():
    index_path, expected_path, agent = sys.argv[1:4]
    baseline = sys.argv[4] if len(sys.argv) > 4 else None
    index = json.load(open(index_path))
    expected = json.load(open(expected_path))
    results = index.get(agent)
    if not results:
        print(f"autobahn: no results for {agent}")
        return 1
    problems = []
    for case, want in expected.items():
        got = results.get(case)
        if got is None:
            problems.append(f"{case}: missing")
            continue
        for field in ("behavior", "behaviorClose"):
            if got[field] == "FAILED":
                problems.append(f"{case}: {field} FAILED")
            elif rank(got[field]) < rank(want[field]):
                problems.append(f"{case}: {field} {got[field]}, expected {want[field]}")
    if baseline:
        base = index.get(baseline, {})
        for case, got in results.items():
            theirs = base.get(case)
            if theirs and any(rank(got[f]) < rank(theirs[f]) for f in ("behavior", "behaviorClose")):
                problems.append(f"{case}: worse than {baseline} ({got['behavior']} vs {theirs['behavior']})")
    for name in [agent] + ([baseline] if baseline else []):
        counts = collections.Counter(v["behavior"] for v in index.get(name, {}).values())
        print(f"autobahn: {name}: {len(index.get(name, {}))} cases, " +
              ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for p in problems:
        print(f"autobahn: regression: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
