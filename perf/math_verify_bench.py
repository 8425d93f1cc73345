"""Math answer verification: thinkgym's `MathVerifier` vs HuggingFace `math-verify`, one run.

Run:  .venv/bin/python perf/math_verify_bench.py --json math_bench.json   (full: a few minutes)
      .venv/bin/python perf/math_verify_bench.py --quick                   (short look)

Three parts, each printed as a table (and written to ``--json``):

1. **Accuracy** on the hand-labelled corpus ``tests/verifiers/data/math_corpus.jsonl`` (its verdicts
   come from mathematics and the issue's grading rules, not from a grader): ours is
   ``MathVerifier()(completion, Problem(id, prompt=problem, answer=gold))``; math-verify is
   ``verify(parse(gold), parse(completion))`` and never sees the problem text (it has no such
   input). A bare gold is given to math-verify between ``$...$`` (its README's form for gold
   answers; bare LaTeX is not extracted at all by its default ``parse``), a GSM8K gold as the
   number after ``####``; solution texts as they are. Overall and per category, then **every row
   where the two disagree and which one the corpus says is right**, and the rows both get wrong.
2. **Speed**, pairs/s, on two generated mixes (labels by construction; same pairs for both):
   an **RL mix** (GRPO groups of 8 completions per problem sharing one gold: mostly boxed
   integers, decimals and fractions, some ``\\frac`` LaTeX, about a quarter wrong) and a **hard
   mix** (relations, sets, intervals, matrices, expressions). Both verifiers run in this
   process, one pair at a time, pinned to one CPU (our sympy worker process inherits the pin);
   both are warmed up first; each repeat uses fresh pairs (a different seed) so no verdict cache
   carries over between repeats, and the verifiers take turns going first. Reported: the median
   pairs/s over the repeats and the ratio ours / math-verify; ours also with its verdict cache
   off (``MathVerifier(cache=False)``), to show what the cache of a GRPO group's repeats buys.
3. **Worst case on adversarial input** for ours, warm in this process and as the **first call of
   a cold process** (a fresh ``python -c`` per input, so interpreter start, imports and the worker
   start are all in the first call's way): wall time per input (target <= 1 s) and the score and
   reason (must be 0 with a reason).

The 1-minute load average is printed before and after: the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "verifiers" / "data" / "math_corpus.jsonl"

# ---------------------------------------------------------------------------------------------
# The two verifiers
# ---------------------------------------------------------------------------------------------


def ours(**options):
    """thinkgym's verifier as a trainer calls it: (completion, gold, problem text) -> bool."""
    from thinkgym.core import Problem
    from thinkgym.verifiers.math import MathVerifier, math_worker_pool

    math_worker_pool().warm()  # the worker's start-up is paid once per process, as in training
    verifier = MathVerifier(**options)

    def run(completion: str, gold: str, problem: str | None = None) -> bool:
        return (
            verifier(completion, Problem("bench", prompt=problem or "", answer=gold, meta={})).score
            == 1.0
        )

    return run


def peer_gold(gold: str) -> str:
    """The gold as math-verify's users pass it: delimited LaTeX, the number after ``####``."""
    if "####" in gold:
        return "$" + gold.rsplit("####", 1)[1].strip() + "$"
    if "$" in gold or "\\boxed" in gold or "\\(" in gold or "\\[" in gold:
        return gold
    return f"${gold}$"


def peer():
    """math-verify 0.9: ``verify(parse(gold), parse(completion))``, its documented call."""
    import logging

    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)

    def run(completion: str, gold: str, problem: str | None = None) -> bool:  # noqa: ARG001 - no such input
        try:
            return bool(verify(parse(peer_gold(gold)), parse(completion)))
        except Exception:  # noqa: BLE001 - a crash is a "not equal" for a trainer
            return False

    return run


def pin_to_one_core() -> str:
    try:
        cpu = sorted(os.sched_getaffinity(0))[0]
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    except (AttributeError, OSError) as exc:
        return f"not pinned ({exc})"


# ---------------------------------------------------------------------------------------------
# 1. Accuracy on the corpus
# ---------------------------------------------------------------------------------------------


def load_corpus() -> list[dict]:
    with CORPUS.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def accuracy(rows: list[dict], verifiers: dict) -> dict:
    """Each verifier's verdict on each row, agreement overall and per category, the disagreements."""
    verdicts = {
        name: [run(r["completion"], r["gold"], r["problem"]) for r in rows]
        for name, run in verifiers.items()
    }
    names = list(verifiers)
    out: dict = {
        "rows": len(rows),
        "overall": {},
        "by_category": defaultdict(dict),
        "hard_negatives_accepted": {},
    }
    for name in names:
        hits = [v == r["expected"] for v, r in zip(verdicts[name], rows, strict=True)]
        out["overall"][name] = sum(hits) / len(rows)
        out["hard_negatives_accepted"][name] = sum(
            v for v, r in zip(verdicts[name], rows, strict=True) if r["hard_negative"]
        )
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for hit, r in zip(hits, rows, strict=True):
            per[r["category"]][0] += hit
            per[r["category"]][1] += 1
        for category, (ok, n) in per.items():
            out["by_category"][category][name] = [ok, n]
    out["by_category"] = dict(out["by_category"])
    if len(names) == 2:
        a, b = names
        out["disagreements"] = [
            _row_summary(r, {a: va, b: vb})
            for r, va, vb in zip(rows, verdicts[a], verdicts[b], strict=True)
            if va != vb
        ]
        out["both_wrong"] = [
            _row_summary(r, {a: va, b: vb})
            for r, va, vb in zip(rows, verdicts[a], verdicts[b], strict=True)
            if va == vb != r["expected"]
        ]
    else:
        out["wrong"] = [
            _row_summary(r, {names[0]: v})
            for r, v in zip(rows, verdicts[names[0]], strict=True)
            if v != r["expected"]
        ]
    return out


def _row_summary(row: dict, got: dict[str, bool]) -> dict:
    right = [name for name, v in got.items() if v == row["expected"]]
    return {
        "id": row["id"],
        "expected": row["expected"],
        "got": got,
        "right": right,
        "gold": row["gold"][:90],
        "answer_tail": row["completion"][-90:].replace("\n", " "),
        "why": row["why"],
    }


def print_accuracy(acc: dict) -> None:
    names = list(acc["overall"])
    print(f"\n## Accuracy on the corpus ({acc['rows']} rows)\n")
    print("| category | rows | " + " | ".join(names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for category, per in acc["by_category"].items():
        n = next(iter(per.values()))[1]
        print(f"| {category} | {n} | " + " | ".join(f"{per[x][0] / n:.1%}" for x in names) + " |")
    print(
        f"| **all** | {acc['rows']} | "
        + " | ".join(f"**{acc['overall'][x]:.2%}**" for x in names)
        + " |"
    )
    print(
        "| hard negatives accepted | | "
        + " | ".join(str(acc["hard_negatives_accepted"][x]) for x in names)
        + " |"
    )
    for title, key in (
        ("Rows where the two disagree", "disagreements"),
        ("Rows both get wrong", "both_wrong"),
        ("Rows ours gets wrong", "wrong"),
    ):
        if key not in acc:
            continue
        tally = defaultdict(int)
        for d in acc[key]:
            tally[", ".join(d["right"]) or "neither"] += 1
        print(f"\n### {title}: {len(acc[key])} (right: {dict(tally) or '-'})\n")
        for d in acc[key]:
            who = ", ".join(d["right"]) or "neither"
            print(
                f"- {d['id']} (expected {int(d['expected'])}; right: {who}) gold {d['gold']!r} ...{d['answer_tail']!r} — {d['why']}"
            )


# ---------------------------------------------------------------------------------------------
# 2. Speed on generated mixes
# ---------------------------------------------------------------------------------------------

_STEPS = [
    "First, note that {a} + {b} = {s}, so the two parts together give {s}.",
    "Multiplying, we get {a} \\times {b} = {p}, which we keep for later.",
    "If instead we subtract, {s} - {b} = {a}, which checks the previous step.",
    "Let me double-check: dividing {p} by {b} gives back {a}, as expected.",
    "We set up the equation $x + {a} = {s}$, so $x = {b}$ at this stage.",
    "Hmm, wait. The problem says there are {b} groups, not {a}, so let me redo this carefully.",
    "The remainder when {p} is divided by 7 is {r}, which is not what we need here.",
    "So far we have used {a} of the {s} items, leaving {b}.",
]


def _reasoning(rng: random.Random, n_steps: int) -> str:
    a, b = rng.randint(2, 99), rng.randint(2, 99)
    values = {"a": a, "b": b, "s": a + b, "p": a * b, "r": (a * b) % 7}
    steps = [rng.choice(_STEPS).format(**values) for _ in range(n_steps)]
    return "\n\n".join(" ".join(steps[i : i + 2]) for i in range(0, len(steps), 2))


def _final(rng: random.Random, answer: str) -> str:
    style = rng.random()
    if style < 0.75:
        return f"Therefore, the final answer is $\\boxed{{{answer}}}$."
    if style < 0.85:
        return f"\\[\n\\boxed{{{answer}}}\n\\]"
    if style < 0.95:
        return f"**Final Answer:** $\\boxed{{{answer}}}$"
    return f"Final Answer: The final answer is ${answer}$. I hope it is correct."


def _frac(f: Fraction, style: str) -> str:
    sign = "-" if f < 0 else ""
    a, b = abs(f.numerator), f.denominator
    if b == 1:
        return f"{sign}{a}"
    if style == "slash":
        return f"{sign}{a}/{b}"
    if style == "dfrac":
        return f"{sign}\\dfrac{{{a}}}{{{b}}}"
    return f"{sign}\\frac{{{a}}}{{{b}}}"


def _rl_problem(rng: random.Random) -> tuple[str, list[str], list[str]]:
    """(gold, correct renderings, wrong renderings) of one problem of the RL mix."""
    kind = rng.random()
    if kind < 0.5:  # integers
        n = rng.choice(
            [rng.randint(0, 100), rng.randint(100, 5000), rng.randint(5000, 10**6)]
        ) * rng.choice([1, 1, 1, -1])
        right = [str(n)] * 6 + [f"{n:,}" if abs(n) >= 1000 else f"{n}.0", f"{n} \\text{{ apples}}"]
        return str(n), right, [str(n + 1), str(n - 1), str(2 * n + 3), str(-n - 2)]
    if kind < 0.7:  # terminating decimals
        f = Fraction(rng.randint(1, 99_999), rng.choice([10, 100, 1000]))
        text = f"{float(f):.3f}".rstrip("0").rstrip(".")
        right = [text] * 6 + [_frac(f, "frac"), text + "0"]
        return (
            text,
            right,
            [f"{float(f + Fraction(1, 10)):g}", f"{float(f * 10):g}", f"{float(f) + 1:g}"],
        )
    while True:  # fractions
        b = rng.randint(2, 30)
        f = Fraction(rng.randint(1, 3 * b), b)
        if f.denominator != 1:
            break
    gold = _frac(f, "frac")
    right = [gold] * 5 + [
        _frac(f, "dfrac"),
        _frac(f, "slash"),
        f"\\frac{{{2 * f.numerator}}}{{{2 * f.denominator}}}",
    ]
    return (
        gold,
        right,
        [
            _frac(1 / f, "frac"),
            _frac(f + 1, "frac"),
            _frac(Fraction(f.numerator + 1, f.denominator), "frac"),
        ],
    )


def _hard_problem(rng: random.Random) -> tuple[str, list[str], list[str]]:
    a, b, c = rng.randint(1, 9), rng.randint(2, 9), rng.randint(-9, 9)
    kind = rng.randrange(6)
    if kind == 0:  # equations
        return (
            f"x = {c}",
            [f"x={c}", f"{c} = x", f"2x = {2 * c}", f"x = {c}"],
            [f"x = {c + 1}", f"x = {-c - 1}", f"{c + 1} = {c}"],
        )
    if kind == 1:  # inequalities and intervals
        return (
            f"x \\ge {c}",
            [f"[{c}, \\infty)", f"{c} \\le x", f"x \\geq {c}", f"x \\in [{c},\\infty)"],
            [f"x > {c}", f"({c}, \\infty)", f"x \\le {c}"],
        )
    if kind == 2:  # intervals and unions
        lo, hi = c, c + b
        return (
            f"(-\\infty, {lo}) \\cup [{hi}, \\infty)",
            [f"[{hi},\\infty)\\cup(-\\infty,{lo})", f"(-\\infty,{lo})\\cup[{hi},\\infty)"],
            [
                f"(-\\infty, {lo}] \\cup [{hi}, \\infty)",
                f"(-\\infty, {lo}) \\cup ({hi}, \\infty)",
                f"({lo}, {hi})",
            ],
        )
    if kind == 3:  # sets
        items = rng.sample(range(-9, 20), 3)
        perm = rng.sample(items, 3)
        gold = "\\{" + ", ".join(map(str, sorted(items))) + "\\}"
        return (
            gold,
            ["\\{" + ", ".join(map(str, perm)) + "\\}", ", ".join(map(str, perm))],
            [
                "\\{" + ", ".join(map(str, perm[:2])) + "\\}",
                "\\{" + ", ".join(map(str, [*perm[:2], max(items) + 1])) + "\\}",
            ],
        )
    if kind == 4:  # matrices
        m = [rng.randint(-9, 9) for _ in range(4)]
        gold = f"\\begin{{pmatrix}} {m[0]} & {m[1]} \\\\ {m[2]} & {m[3]} \\end{{pmatrix}}"
        right = [gold, f"\\begin{{bmatrix}}{m[0]}&{m[1]}\\\\{m[2]}&{m[3]}\\end{{bmatrix}}"]
        wrong = [
            f"\\begin{{pmatrix}} {m[0]} & {m[2]} \\\\ {m[1]} & {m[3]} \\end{{pmatrix}}"
            if m[1] != m[2]
            else f"\\begin{{pmatrix}} {m[0] + 1} & {m[1]} \\\\ {m[2]} & {m[3]} \\end{{pmatrix}}",
            f"\\begin{{pmatrix}} {m[0]} & {m[1]} \\\\ {m[2]} & {m[3] + 1} \\end{{pmatrix}}",
        ]
        return gold, right, wrong
    return (
        f"x^2 + {2 * a}x + {a * a}",
        [f"(x+{a})^2", f"{a * a} + {2 * a}x + x^2", f"x^{{2}}+{2 * a}x+{a * a}"],
        [f"(x-{a})^2", f"x^2 + {a}x + {a * a}", f"(x+{a + 1})^2"],
    )


def speed_mix(kind: str, n_pairs: int, seed: int) -> list[tuple[str, str, bool]]:
    """``n_pairs`` (completion, gold, label) pairs: groups sharing a gold, about a quarter wrong."""
    rng = random.Random(f"{kind}-{seed}")
    make, group = (_rl_problem, 8) if kind == "rl" else (_hard_problem, 4)
    pairs: list[tuple[str, str, bool]] = []
    while len(pairs) < n_pairs:
        gold, right, wrong = make(rng)
        for _ in range(group):
            label = rng.random() >= 0.25
            answer = rng.choice(right if label else wrong)
            text = _reasoning(rng, rng.randint(4, 12)) + "\n\n" + _final(rng, answer)
            pairs.append((text, gold, label))
    return pairs[:n_pairs]


def _time(run, pairs: list[tuple[str, str, bool]]) -> tuple[float, float]:
    agree = 0
    start = time.perf_counter()
    for completion, gold, label in pairs:
        agree += run(completion, gold) == label
    return len(pairs) / (time.perf_counter() - start), agree / len(pairs)


def speed(verifiers: dict, n_pairs: int, repeats: int) -> dict:
    """Median pairs/s per verifier and mix; the order of the verifiers rotates between repeats."""
    out = {}
    names = list(verifiers)
    for kind in ("rl", "hard"):
        warm = speed_mix(kind, min(64, n_pairs), seed=10_000)
        for run in verifiers.values():
            _time(run, warm)
        rates: dict[str, list[float]] = {name: [] for name in names}
        agreement: dict[str, list[float]] = {name: [] for name in names}
        for r in range(repeats):
            pairs = speed_mix(kind, n_pairs, seed=r)
            for name in names[r % len(names) :] + names[: r % len(names)]:
                rate, agree = _time(verifiers[name], pairs)
                rates[name].append(rate)
                agreement[name].append(agree)
        out[kind] = {
            name: {
                "median_pairs_per_s": statistics.median(rates[name]),
                "runs": rates[name],
                "agreement_with_construction": statistics.fmean(agreement[name]),
            }
            for name in names
        }
        if "math_verify" in out[kind]:
            peer_rate = out[kind]["math_verify"]["median_pairs_per_s"]
            for name in names:
                out[kind][name]["ratio_to_math_verify"] = (
                    out[kind][name]["median_pairs_per_s"] / peer_rate
                )
    return out


def print_speed(sp: dict, n_pairs: int, repeats: int) -> None:
    print(
        f"\n## Speed ({n_pairs} pairs per repeat, median of {repeats} repeats, fresh pairs each repeat)\n"
    )
    print("| mix | verifier | median pairs/s | ratio to math-verify | target | runs (pairs/s) |")
    print("|---|---|---:|---:|---:|---|")
    targets = {"rl": ">= 10x", "hard": ">= 2x"}
    for kind, per in sp.items():
        for name, r in per.items():
            runs = ", ".join(f"{v:.0f}" for v in r["runs"])
            target = targets[kind] if name == "ours" else ""
            print(
                f"| {kind} | {name} | {r['median_pairs_per_s']:.0f} | "
                f"{r.get('ratio_to_math_verify', float('nan')):.1f}x | {target} | {runs} |"
            )


# ---------------------------------------------------------------------------------------------
# 3. Adversarial inputs
# ---------------------------------------------------------------------------------------------


def adversarial_inputs() -> list[tuple[str, str]]:
    """(name, completion); each is verified against gold ``1``."""
    return [
        (
            "1 MB completion",
            "Let me think. "
            + "The value is 12 and then 13. " * 36_000
            + "So the answer is $\\boxed{1}$.",
        ),
        ("1 MB inside \\boxed", "\\boxed{" + "1+" * 500_000 + "1}"),
        ("deeply nested braces", "\\boxed{" + "{" * 20_000 + "1" + "}" * 20_000 + "}"),
        ("5,000 nested \\left(", "\\boxed{" + "\\left(" * 5_000 + "1" + "\\right)" * 5_000 + "}"),
        (
            "unbalanced \\left(",
            "The answer is $\\boxed{\\left(1 + \\left(2 + \\left(3}$ " + "\\left(" * 3_000,
        ),
        (
            "\\boxed{ without a close (280 kB)",
            "so the answer is \\boxed{" + "\\frac{1}{2} + " * 20_000,
        ),
        (
            "\\boxed{ without a close (14 kB)",
            "so the answer is \\boxed{" + "\\frac{1}{2} + " * 1_000 + " and 1 is the answer",
        ),
        ("\\boxed{1 without a close", "Adding these up, the final answer is $\\boxed{1$"),
        ("power tower 9^{9^{9^9}}", "\\boxed{9^{9^{9^9}}}"),
        ("10^{10^{10}}!", "\\boxed{10^{10^{10}}!}"),
        ("huge factorial 1000000!", "\\boxed{1000000!}"),
        ("NUL bytes", "The answer is $\\boxed{1\x00\x00" + "\x00" * 10_000 + "}$"),
        ("lone surrogates", "The answer is $\\boxed{1\ud800\udfff\ud800}$"),
        ("100k-term sum", "\\boxed{" + "+".join(["1"] * 100_000) + "}"),
        ("100k-term sum, unboxed", "The answer is $" + "+".join(["0"] * 100_000) + "+1$"),
        ("symbolic sum (hangs sympy)", "\\boxed{\\sum_{k=1}^{n} k^{k}}"),
        ("oscillatory integral", "\\boxed{\\int_0^1 e^{-x^2} \\sin(100x) dx}"),
        ("big polynomial power", "\\boxed{(x+1)^{3000} - (x-1)^{3000}}"),
        ("tower of e", "\\boxed{e^{e^{e^{e^{e^{10}}}}}}"),
    ]


_COLD_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
text = open(sys.argv[1], encoding="utf-8", errors="surrogatepass").read()
from thinkgym.core import Problem
from thinkgym.verifiers.math import MathVerifier
t1 = time.perf_counter()
reward = MathVerifier()(text, Problem("adv", prompt="", answer="1", meta={}))
t2 = time.perf_counter()
info = dict(reward.info)
print(json.dumps({"import_s": t1 - t0, "first_call_s": t2 - t1, "score": reward.score,
                  "reason": str(info.get("reason") or info.get("error") or "")[:120]}))
"""


def adversarial_warm(inputs: list[tuple[str, str]]) -> list[dict]:
    from thinkgym.core import Problem
    from thinkgym.verifiers.math import MathVerifier, math_worker_pool

    math_worker_pool().warm()
    verifier = MathVerifier()
    out = []
    for name, text in inputs:
        t0 = time.perf_counter()
        reward = verifier(text, Problem("adv", prompt="", answer="1", meta={}))
        seconds = time.perf_counter() - t0
        info = dict(reward.info)
        out.append(
            {
                "name": name,
                "seconds": seconds,
                "score": reward.score,
                "reason": str(info.get("reason") or info.get("error") or "")[:120],
            }
        )
    return out


def adversarial_cold(inputs: list[tuple[str, str]]) -> list[dict]:
    """The first call in a fresh interpreter per input (its own worker start included)."""
    out = []
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for n, (name, text) in enumerate(inputs):
            path = Path(tmp) / f"{n}.txt"
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", _COLD_CHILD, str(path)],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
            )
            wall = time.perf_counter() - t0
            try:
                child = json.loads(proc.stdout.strip().splitlines()[-1])
            except (IndexError, json.JSONDecodeError):
                child = {
                    "first_call_s": float("nan"),
                    "import_s": float("nan"),
                    "score": None,
                    "reason": f"child failed (rc {proc.returncode}): {proc.stderr.strip()[-200:]}",
                }
            out.append({"name": name, "process_wall_s": wall, **child})
    return out


def adversarial_peer(inputs: list[tuple[str, str]]) -> list[dict]:
    run = peer()
    out = []
    for name, text in inputs:
        t0 = time.perf_counter()
        got = run(text, "1")
        out.append({"name": name, "seconds": time.perf_counter() - t0, "said_equal": got})
    return out


def print_adversarial(adv: dict) -> None:
    warm = {d["name"]: d for d in adv.get("warm", [])}
    cold = {d["name"]: d for d in adv.get("cold", [])}
    peer_ = {d["name"]: d for d in adv.get("math_verify", [])}
    print("\n## Adversarial inputs (gold 1; target <= 1 s, score 0 with a reason)\n")
    print(
        "| input | ours warm s | ours cold first call s | cold process wall s | score | reason | math-verify s |"
    )
    print("|---|---:|---:|---:|---:|---|---:|")
    for name in warm or cold:
        w, c, p = warm.get(name, {}), cold.get(name, {}), peer_.get(name, {})
        score = w.get("score", c.get("score"))
        reason = (w or c).get("reason", "")[:60]
        if c and w and c.get("reason") != w.get("reason"):
            reason += f"; cold: {c.get('reason', '')[:60]} (score {c.get('score')})"
        print(
            f"| {name} | {w.get('seconds', float('nan')):.3f} | {c.get('first_call_s', float('nan')):.3f} | "
            f"{c.get('process_wall_s', float('nan')):.2f} | {score} | {reason} | "
            f"{p.get('seconds', float('nan')):.2f} |"
        )
    worst_warm = max((d["seconds"] for d in adv.get("warm", [])), default=float("nan"))
    worst_cold = max((d["first_call_s"] for d in adv.get("cold", [])), default=float("nan"))
    nonzero = [
        d["name"] for d in adv.get("warm", []) + adv.get("cold", []) if d.get("score") != 0.0
    ]
    print(
        f"\nworst: warm {worst_warm:.3f} s, cold first call {worst_cold:.3f} s; inputs not scored 0: {nonzero or 'none'}"
    )


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer pairs and repeats, no cold processes, no peer adversarial",
    )
    parser.add_argument("--pairs", type=int, help="pairs per speed repeat (default 800, quick 160)")
    parser.add_argument("--repeats", type=int, help="speed repeats (default 5, quick 2)")
    parser.add_argument(
        "--skip-peer-adversarial",
        action="store_true",
        help="math-verify takes up to ~5 s per adversarial input",
    )
    parser.add_argument("--json", help="also write every figure to this file")
    args = parser.parse_args(argv)
    n_pairs = args.pairs or (160 if args.quick else 800)
    repeats = args.repeats or (2 if args.quick else 5)

    load_before = os.getloadavg()[0]
    pin = pin_to_one_core()
    print(
        f"# math verification bench — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {pin}; "
        f"1-min load average before: {load_before:.2f}"
    )
    verifiers = {"ours": ours(), "math_verify": peer()}
    results: dict = {"pin": pin, "load_before": load_before, "quick": args.quick}

    results["accuracy"] = accuracy(load_corpus(), verifiers)
    print_accuracy(results["accuracy"])

    speed_verifiers = {"ours": verifiers["ours"], "ours_cache_off": ours(cache=False), **verifiers}
    results["speed"] = speed(speed_verifiers, n_pairs, repeats)
    print_speed(results["speed"], n_pairs, repeats)

    inputs = adversarial_inputs()
    adv = {"warm": adversarial_warm(inputs)}
    if not args.quick:
        adv["cold"] = adversarial_cold(inputs)
        if not args.skip_peer_adversarial:
            adv["math_verify"] = adversarial_peer(inputs)
    results["adversarial"] = adv
    print_adversarial(adv)

    results["load_after"] = os.getloadavg()[0]
    print(f"\n1-min load average after: {results['load_after']:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
