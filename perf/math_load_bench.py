"""Correct math answers on a loaded machine: how many score 0? (thinkgym's math verifier, one run)

Run:  .venv/bin/python perf/math_load_bench.py --hogs 6 --procs 4 --pairs 20

A trainer's node is always loaded, and each Ray actor or data-loader worker is a fresh process
whose math worker starts cold. This starts ``--hogs`` busy-loop processes, then ``--procs`` fresh
Python processes at once, each verifying ``--pairs`` *correct* symbolic answers (a binomial power
against its expansion, ``(a+b)^n`` vs ``a^n + n a^{n-1} b + …``, n = 2..6, different letters so
no cache helps) with the default ``timeout=1.0``. Every 0 is a false zero; the reasons are
counted. To measure another version of the code, put its ``src`` first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter

CHILD = r'''
import json, sys, time
from math import comb
from thinkgym.verifiers.math import verify_math
n_pairs, seed = int(sys.argv[1]), int(sys.argv[2])
letters = "abcdfghjkmnpqrstuvwxyz"
zeros = []
for i in range(n_pairs):
    a, b = letters[(seed + i) % len(letters)], letters[(seed + 3 * i + 1) % len(letters)]
    b = "w" if a == b else b
    n = 2 + i % 5
    gold = "+".join(f"{comb(n, k)}{a}^{{{n - k}}}{b}^{{{k}}}" for k in range(n + 1))
    reward = verify_math(f"\\boxed{{({a}+{b})^{{{n}}}}}", gold, timeout=1.0)
    if reward.score != 1.0:
        zeros.append(reward.info.get("reason") or "")
print(json.dumps(zeros))
'''


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hogs", type=int, default=6, help="busy-loop processes (the load)")
    parser.add_argument("--procs", type=int, default=4, help="fresh verifying processes, run at once")
    parser.add_argument("--pairs", type=int, default=20, help="correct answers per process")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.hogs)]
    try:
        time.sleep(1)
        began = time.perf_counter()
        kids = [
            subprocess.Popen([sys.executable, "-c", CHILD, str(args.pairs), str(7 * k)], stdout=subprocess.PIPE, text=True)
            for k in range(args.procs)
        ]
        zeros = [z for kid in kids for z in json.loads(kid.communicate(timeout=900)[0].strip().splitlines()[-1])]
        wall = time.perf_counter() - began
        load_during = os.getloadavg()[0]
    finally:
        for hog in hogs:
            hog.kill()
    reasons = Counter(re.sub(r"\d+(\.\d+)?", "N", z)[:80] for z in zeros)  # "... after 0.53 s" -> "... after N s"
    print(json.dumps({
        "hogs": args.hogs, "procs": args.procs, "correct_answers": args.procs * args.pairs,
        "scored_0": len(zeros), "reasons": dict(reasons.most_common()), "wall_s": round(wall, 1),
        "load_before": round(load_before, 2), "load_at_end": round(load_during, 2),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
