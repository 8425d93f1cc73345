"""reasoning-gym through thinkgym's bridge vs reasoning-gym used directly; maze reset speed.

Run:  .venv/bin/python perf/rg_bench.py                 (12 families x 200 items, maze 5,000 resets)
      .venv/bin/python perf/rg_bench.py --n 40 --maze 1000  (quick look)
      .venv/bin/python perf/rg_bench.py --audit         (which families are hash-seed dependent or
                                                         score junk answers 1.0; slow: all families)

What is timed, in one process, one family after the other, the contenders alternating in small
chunks over the same items so that both see the same load:

- generation (CPU time): reasoning-gym ``dataset[i]`` vs ``env.reset(options={"index": i})`` of
  ``rg/<name>-v0`` (the same items; the bridge has not generated them before);
- generation + scoring (wall-clock): the above plus reasoning-gym ``score_answer(gold, entry)`` vs
  ``env.step(oracle_action())`` (the bridge scores in its bounded worker process, or with a strict
  checker, plus the format reward);
- maze: ``thinkgym/Maze-v0`` with ``layout="random"`` (5x5) ``reset(seed=i)`` vs reasoning-gym's
  ``maze`` ``dataset[i]`` (its default config), in CPU time of this process (both are pure Python
  here; CPU time is what load disturbs least) and wall-clock.

Ratios are bridged / direct throughput (1.0 = no overhead). The garbage collector is off inside
timed chunks and run between them (as ``timeit`` does). The machine is shared: note ``uptime``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time

FAMILIES = (
    "basic_arithmetic", "gsm_symbolic", "simple_equations", "number_sorting", "word_sorting", "countdown",
    "mini_sudoku", "shortest_path", "knights_knaves", "simple_geometry", "number_sequence", "arc_1d",
)  # fmt: skip  (the families of the rg-core-v0 suite)


def _interleaved(pairs: dict[str, tuple], n: int, chunk: int, clock) -> dict[str, float]:
    """Items per second of each ``name: (fn, first_index)``, timed in alternating chunks of
    ``chunk`` items so that every contender sees the same machine load; the order within a chunk
    alternates too, so a cache one side warms (sympy's) helps each side equally often."""
    spent = dict.fromkeys(pairs, 0.0)
    names = list(pairs)
    for number, offset in enumerate(range(0, n, chunk)):
        for name in names if number % 2 == 0 else names[::-1]:
            fn, first = pairs[name]
            gc.collect()  # as timeit does: a full collection of this big heap (sympy, reasoning-gym)
            gc.disable()  # takes tens of ms and would land on whichever side happened to trigger it
            try:
                start = clock()
                for i in range(first + offset, first + min(offset + chunk, n)):
                    fn(i)
                spent[name] += clock() - start
            finally:
                gc.enable()
    return {name: n / t for name, t in spent.items()}


def bench_family(name: str, n: int, chunk: int = 20) -> dict[str, float]:
    import reasoning_gym

    import thinkgym

    size = 2 * n + 10
    dataset = reasoning_gym.create_dataset(name, seed=0, size=size)
    env = thinkgym.make(f"rg/{name}-v0", size=size)
    env.reset(options={"index": size - 1})
    env.step(env.unwrapped.oracle_action())  # the worker is warm before timing

    def direct_gen(i: int) -> None:
        dataset[i]

    def bridged_gen(i: int) -> None:
        env.reset(options={"index": i})

    def direct_both(i: int) -> None:
        entry = dataset[i]
        dataset.score_answer(entry["answer"], entry)

    def bridged_both(i: int) -> None:
        env.reset(options={"index": i})
        env.step(env.unwrapped.oracle_action())

    # The same items on both sides (generation time varies a lot from item to item), the order
    # alternating per chunk; generation+scoring on items the bridge has not generated yet.
    # Generation in CPU time (both sides run here; the machine's load disturbs it least);
    # generation+scoring in wall time: the bridge scores in its worker process, whose CPU time
    # this process cannot see.
    gen = _interleaved({"gen_direct": (direct_gen, 0), "gen_bridged": (bridged_gen, 0)}, n, chunk, time.process_time)
    both = _interleaved(
        {"both_direct": (direct_both, n), "both_bridged": (bridged_both, n)}, n, chunk, time.perf_counter
    )
    out = {**gen, **both}
    out["gen_ratio"] = out["gen_bridged"] / out["gen_direct"]
    out["both_ratio"] = out["both_bridged"] / out["both_direct"]
    return out


def bench_maze(n: int, chunk: int = 100) -> dict[str, float]:
    import reasoning_gym

    import thinkgym

    env = thinkgym.make("thinkgym/Maze-v0", layout="random")
    dataset = reasoning_gym.create_dataset("maze", seed=0, size=n + 1000)
    for i in range(50):  # warm both
        env.reset(seed=i)
        dataset[i]
    failures = []

    def theirs(i: int) -> None:
        try:
            dataset[i]
        except RuntimeError:  # reasoning-gym's maze gives up on some seeds ("no suitable path cell")
            failures.append(i)

    pairs = {"thinkgym": (lambda i: env.reset(seed=i), 1000), "reasoning_gym": (theirs, 1000)}
    cpu = _interleaved(pairs, n, chunk, time.process_time)  # both run in this process
    wall = _interleaved(pairs, n, chunk, time.perf_counter)
    return {
        "thinkgym": cpu["thinkgym"], "reasoning_gym": cpu["reasoning_gym"],
        "ratio": cpu["reasoning_gym"] / cpu["thinkgym"], "wall_ratio": wall["reasoning_gym"] / wall["thinkgym"],
        "reasoning_gym_failures": len(failures) / 2,
    }  # fmt: skip


_AUDIT_CODE = """
import hashlib, json, reasoning_gym
from thinkgym.envs.reasoning_gym import DATASETS
out = {}
for name in DATASETS:
    dataset = reasoning_gym.create_dataset(name, seed=0, size=500)
    h = hashlib.sha256()
    for i in range(4):
        item = dataset[i]
        h.update(json.dumps([item["question"], str(item.get("answer"))]).encode())
    out[name] = h.hexdigest()
print(json.dumps(out))
"""
JUNK = ("I am not sure, maybe 0.123456789", "0", "1", "True", "False", "no idea", "[]", "None", "a", "-1")


def _same_answer(junk: str, gold: object) -> bool:
    text = str(gold).strip()
    if text.lower() == junk.lower():
        return True
    try:
        return float(text) == float(junk)
    except ValueError:
        return False


def audit() -> None:
    """Families whose problems change with the process's hash seed, and families whose own
    scorer gives 1.0 to junk answers (both through reasoning-gym directly)."""
    runs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", _AUDIT_CODE], capture_output=True, text=True, env=env, check=True)
        last = done.stdout.strip().splitlines()[-1]  # some generators print progress dots first
        runs.append(json.loads(last[last.index("{") :]))
    moved = sorted(k for k in runs[0] if runs[0][k] != runs[1][k])
    print("reasoning-gym's problems differ between two hash seeds:", moved or "none")
    from thinkgym.envs.reasoning_gym import HASH_SEEDED

    print("  the bridge generates these in its worker (HASH_SEEDED):", sorted(HASH_SEEDED))
    print("  missing from HASH_SEEDED:", sorted(set(moved) - HASH_SEEDED) or "none")
    import reasoning_gym

    from thinkgym.envs.reasoning_gym import DATASETS

    for name in DATASETS:
        dataset = reasoning_gym.create_dataset(name, seed=0, size=500)
        hits: dict[str, int] = {}
        for i in range(6):
            entry = dataset[i]
            for junk in JUNK:
                if _same_answer(junk, entry.get("answer")):
                    continue  # not junk for this item (e.g. "0" where the gold is "0.0")
                try:
                    if dataset.score_answer(junk, entry) >= 1.0:
                        hits[junk] = hits.get(junk, 0) + 1
                except Exception:  # noqa: BLE001 - a crash is not a hit
                    pass
        if hits:
            print(f"reasoning-gym's {name} scores junk 1.0: {hits} (gold e.g. {dataset[0].get('answer')!r:.60})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="items per family per pass")
    parser.add_argument("--maze", type=int, default=5000, help="maze resets per pass")
    parser.add_argument("--families", nargs="*", default=list(FAMILIES))
    parser.add_argument("--audit", action="store_true", help="run the scoring/determinism audit instead")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    if args.audit:
        audit()
        return
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    results: dict[str, dict[str, float]] = {}
    header = f"{'family (items/s)':<18}{'gen direct':>12}{'gen bridged':>13}{'ratio':>7}{'gen+score direct':>18}{'bridged':>10}{'ratio':>7}"
    print(header)
    for name in args.families:
        r = results[name] = bench_family(name, args.n)
        print(
            f"{name:<18}{r['gen_direct']:>12,.0f}{r['gen_bridged']:>13,.0f}{r['gen_ratio']:>7.2f}"
            f"{r['both_direct']:>18,.0f}{r['both_bridged']:>10,.0f}{r['both_ratio']:>7.2f}"
        )
    gen = statistics.geometric_mean(r["gen_ratio"] for r in results.values())
    both = statistics.geometric_mean(r["both_ratio"] for r in results.values())
    print(f"{'geometric mean':<18}{'':>25}{gen:>7.2f}{'':>28}{both:>7.2f}")
    maze = bench_maze(args.maze)
    print(
        f"maze reset (CPU time): thinkgym Maze-v0 random {maze['thinkgym']:,.0f}/s, reasoning-gym maze "
        f"{maze['reasoning_gym']:,.0f}/s, reasoning-gym/thinkgym {maze['ratio']:.2f}x "
        f"(wall-clock ratio {maze['wall_ratio']:.2f}x; reasoning-gym raised on {maze['reasoning_gym_failures']:.0f} "
        f"of {args.maze} items)"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"families": results, "maze": maze}, f, indent=1)


if __name__ == "__main__":
    main()
