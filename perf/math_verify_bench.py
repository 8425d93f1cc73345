"""Math answer verification speed: thinkgym's `verify_math` vs HuggingFace `math-verify`, same corpus.

Run:  .venv/bin/python perf/math_verify_bench.py            (full: 2,400 pairs + adversarial set)
      .venv/bin/python perf/math_verify_bench.py --pairs 400 --skip-adversarial-peer  (quick look)

The corpus is generated here, deterministically (seeded), with labels known by construction:
a correct completion renders the gold value in an equivalent written form, a wrong one renders a
value built to differ (numerator + 1, a swapped tuple, a flipped bracket, ...). Neither verifier
is consulted to label anything. Mix, as in GRPO on math data: problems in groups of 4 samples;
about 80 % plain numbers and simple fractions, the rest LaTeX expressions, intervals, sets and
tuples; about a third of the samples wrong; answers in ``\\boxed{}``, "the answer is", ``####`` or
``<answer>`` tags inside some reasoning text.

Both verifiers run in this process's thread, one pair at a time, pinned to one CPU core (our
symbolic worker process inherits the pin). Reported: pairs/s, the ratio, p50/p99/max latency,
agreement with the labels, and the worst wall time on adversarial inputs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Pair:
    completion: str
    gold: str
    label: bool
    category: str


# ---------------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------------


def _frac_tex(f: Fraction, style: str = "frac") -> str:
    sign = "-" if f < 0 else ""
    a, b = abs(f.numerator), f.denominator
    if b == 1:
        return f"{sign}{a}"
    if style == "slash":
        return f"{sign}{a}/{b}"
    if style == "dfrac":
        return f"{sign}\\dfrac{{{a}}}{{{b}}}"
    return f"{sign}\\frac{{{a}}}{{{b}}}"


def _terminating(f: Fraction) -> bool:
    d = f.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def _decimal_text(f: Fraction) -> str:
    """Exact decimal text of a terminating fraction."""
    sign = "-" if f < 0 else ""
    f = abs(f)
    digits = 0
    while (f * 10**digits).denominator != 1:
        digits += 1
    scaled = int(f * 10**digits)
    if digits == 0:
        return f"{sign}{scaled}"
    s = str(scaled).rjust(digits + 1, "0")
    return f"{sign}{s[:-digits]}.{s[-digits:]}"


def _integer_item(rng: random.Random) -> tuple[str, list[str], list[str]]:
    n = rng.choice([rng.randint(0, 100), rng.randint(100, 10_000), rng.randint(10_000, 5_000_000)])
    if rng.random() < 0.1:
        n = -n
    correct = [str(n), str(n), f"{n:,}" if abs(n) >= 1000 else str(n), f"{n}.0" if rng.random() < 0.2 else str(n)]
    wrong = [str(w) for w in (n + rng.choice([-2, -1, 1, 1, 2, 10]), n * 2 + 1, -n - 1) if w != n]
    return str(n), correct, wrong


def _decimal_item(rng: random.Random) -> tuple[str, list[str], list[str]]:
    cents = rng.randint(1, 99_999)
    value = Fraction(cents, 100)
    text = _decimal_text(value)
    correct = [text, text, _frac_tex(value), f"{text}0" if "." in text else f"{text}.00"]
    wrong = [_decimal_text(value + Fraction(1, 10)), _decimal_text(value + 1), _decimal_text(value * 10)]
    return text, correct, wrong


def _fraction_item(rng: random.Random) -> tuple[str, list[str], list[str]]:
    while True:
        b = rng.randint(2, 40)
        a = rng.randint(1, 3 * b)
        f = Fraction(a, b) * (-1 if rng.random() < 0.1 else 1)
        if f.denominator != 1:
            break
    gold = _frac_tex(f) if rng.random() < 0.7 else _frac_tex(f, "slash")
    correct = [_frac_tex(f), _frac_tex(f, "dfrac"), _frac_tex(f, "slash"), _frac_tex(f)]
    if _terminating(f):
        correct.append(_decimal_text(f))
    candidates = [
        Fraction(abs(f.numerator) + 1, f.denominator) * (1 if f > 0 else -1),
        Fraction(f.denominator, abs(f.numerator)),
        f + Fraction(1, 2),
        f + 1,
    ]
    wrong = [_frac_tex(w) for w in candidates if w != f][:3]
    return gold, correct, wrong


def _expression_item(rng: random.Random) -> tuple[str, list[str], list[str]]:
    kind = rng.randrange(5)
    if kind == 0:  # sqrt(a)/b
        a = rng.choice([2, 3, 5, 6, 7, 10, 11])
        b = rng.randint(2, 9)
        gold = f"\\frac{{\\sqrt{{{a}}}}}{{{b}}}"
        correct = [gold, f"\\frac{{1}}{{{b}}}\\sqrt{{{a}}}", f"\\dfrac{{\\sqrt{a}}}{{{b}}}", f"\\frac{{\\sqrt{{{a}}}}}{{{b}}}"]
        wrong = [f"\\frac{{\\sqrt{{{a}}}}}{{{b + 1}}}", f"\\frac{{\\sqrt{{{a + 1}}}}}{{{b}}}", f"\\frac{{{a}}}{{{b}}}"]
    elif kind == 1:  # a sqrt(b)
        a, b = rng.randint(2, 9), rng.choice([2, 3, 5, 6, 7])
        gold = f"{a}\\sqrt{{{b}}}"
        correct = [gold, f"\\sqrt{{{a * a * b}}}", f"{a} \\sqrt{{{b}}}", gold]
        wrong = [f"{a + 1}\\sqrt{{{b}}}", f"{a}\\sqrt{{{b + 1}}}", str(a * b)]
    elif kind == 2:  # a pi / b
        a, b = rng.randint(1, 9), rng.randint(2, 9)
        while math.gcd(a, b) != 1:
            a += 1
        gold = f"\\frac{{{a}\\pi}}{{{b}}}"
        correct = [gold, f"\\frac{{{a}}}{{{b}}}\\pi", f"\\dfrac{{{a}\\pi}}{{{b}}}", gold]
        wrong = [f"\\frac{{{a + b}\\pi}}{{{b}}}", f"\\frac{{{a}\\pi}}{{{b + 1}}}", f"\\frac{{{a}}}{{{b}}}"]
    elif kind == 3:  # (x + a)^2 expanded
        a = rng.randint(1, 9)
        gold = f"x^2 + {2 * a}x + {a * a}"
        correct = [gold, f"(x+{a})^2", f"x^{{2}}+{2 * a}x+{a * a}", f"{a * a} + {2 * a}x + x^2"]
        wrong = [f"x^2 + {a}x + {a * a}", f"(x+{a + 1})^2", f"x^2 + {2 * a}x - {a * a}"]
    else:  # a + b sqrt(c)
        a, b, c = rng.randint(1, 9), rng.randint(2, 5), rng.choice([2, 3, 5])
        gold = f"{a} + {b}\\sqrt{{{c}}}"
        correct = [gold, f"{b}\\sqrt{{{c}}} + {a}", f"{a}+{b}\\sqrt{c}", gold]
        wrong = [f"{a} - {b}\\sqrt{{{c}}}", f"{a + 1} + {b}\\sqrt{{{c}}}", f"{a} + {b}\\sqrt{{{c + 1}}}"]
    return gold, correct, wrong


def _interval_item(rng: random.Random) -> tuple[str, list[str], list[str]]:
    lo = rng.randint(-10, 5)
    hi = lo + rng.randint(1, 10)
    lb, rb = rng.choice("[("), rng.choice("])")
    if rng.random() < 0.3:
        lo_t = "-\\infty"
        lb = "("
    else:
        lo_t = str(lo)
    gold = f"{lb}{lo_t}, {hi}{rb}"
    correct = [gold, f"\\left{lb}{lo_t},{hi}\\right{rb}", f"{lb}{lo_t},{hi}{rb}", gold]
    flip_r = ")" if rb == "]" else "]"
    wrong = [f"{lb}{lo_t}, {hi}{flip_r}", f"{lb}{lo_t}, {hi + 1}{rb}", f"{lb}{lo_t}, {hi - 1}{rb}"]
    return gold, correct, wrong


def _set_item(rng: random.Random) -> tuple[str, list[str], list[str]]:
    items = rng.sample(range(-9, 20), 3)
    gold = "\\{" + ", ".join(map(str, sorted(items))) + "\\}"
    perm = items[:]
    rng.shuffle(perm)
    correct = ["\\{" + ", ".join(map(str, perm)) + "\\}", ", ".join(map(str, perm)), gold, "\\{" + ",".join(map(str, perm)) + "\\}"]
    changed = perm[:]
    changed[0] = max(items) + rng.randint(1, 5)
    wrong = ["\\{" + ", ".join(map(str, changed)) + "\\}", "\\{" + ", ".join(map(str, perm[:2])) + "\\}", ", ".join(map(str, changed))]
    return gold, correct, wrong


def _tuple_item(rng: random.Random) -> tuple[str, list[str], list[str]]:
    a, b = rng.sample(range(-9, 15), 2)
    gold = f"({a}, {b})"
    correct = [gold, f"({a},{b})", f"\\left({a}, {b}\\right)", gold]
    wrong = [f"({b}, {a})", f"({a}, {b + 1})", f"({a + 1}, {b})"]
    return gold, correct, wrong


_CATEGORIES = [
    ("integer", 0.45, _integer_item),
    ("decimal", 0.15, _decimal_item),
    ("fraction", 0.20, _fraction_item),
    ("expression", 0.06, _expression_item),
    ("interval", 0.05, _interval_item),
    ("set", 0.05, _set_item),
    ("tuple", 0.04, _tuple_item),
]

_REASONING = [
    "Let's work through this carefully. First, {a} + {b} = {c}.",
    "We are told the total is {c}, and {a} of those are used first.",
    "Multiplying, {a} \\times {b} = {d}, which we keep for later.",
    "Setting up the equation, we substitute {a} and simplify step by step.",
    "Checking the arithmetic again: {c} - {b} = {a}. Good.",
]


def _completion(rng: random.Random, answer: str) -> str:
    a, b = rng.randint(2, 99), rng.randint(2, 99)
    steps = " ".join(s.format(a=a, b=b, c=a + b, d=a * b) for s in rng.sample(_REASONING, 3))
    style = rng.random()
    if style < 0.70:
        return f"{steps}\nTherefore, the final answer is $\\boxed{{{answer}}}$."
    if style < 0.85:
        return f"{steps}\nSo the answer is ${answer}$."
    if style < 0.95:
        return f"{steps}\n#### {answer}"
    return f"<think>{steps}</think>\n<answer>{answer}</answer>"


def build_corpus(n_pairs: int, seed: int = 0, group: int = 4) -> list[Pair]:
    """``n_pairs`` labelled pairs (``group`` samples per problem), the same for the same seed."""
    rng = random.Random(seed)
    names = [c[0] for c in _CATEGORIES]
    weights = [c[1] for c in _CATEGORIES]
    makers = {c[0]: c[2] for c in _CATEGORIES}
    pairs: list[Pair] = []
    while len(pairs) < n_pairs:
        category = rng.choices(names, weights)[0]
        gold, correct, wrong = makers[category](rng)
        for _ in range(group):
            label = rng.random() >= 1 / 3
            answer = rng.choice(correct if label else wrong)
            pairs.append(Pair(_completion(rng, answer), gold, label, category))
    return pairs[:n_pairs]


ADVERSARIAL = [
    ("power tower", "\\boxed{9^{9^{9^9}}}"),
    ("huge factorial", "\\boxed{1000000!}"),
    ("5,000 nested parentheses", "\\boxed{" + "(" * 5000 + "1" + ")" * 5000 + "}"),
    ("1 MB string", "The answer is " + "1" * 1_000_000),
    ("1 MB of LaTeX", "\\boxed{" + "\\frac{1}{2}+" * 90_000 + "1}"),
    ("huge power", "\\boxed{2^{10^{8}}}"),
    ("exponential tower of e", "\\boxed{e^{e^{e^{e^{e^{10}}}}}}"),
    ("sum with 10^9 terms", "\\boxed{\\sum_{k=1}^{10^{9}} k^{k}}"),
    ("symbolic sum (hangs sympy)", "\\boxed{\\sum_{k=1}^{n} k^{k}}"),
    ("oscillatory integral", "\\boxed{\\int_0^1 e^{-x^2} \\sin(100x) dx}"),
    ("big polynomial power", "\\boxed{(x+1)^{3000} - (x-1)^{3000}}"),
]


# ---------------------------------------------------------------------------------------------
# Runners
# ---------------------------------------------------------------------------------------------


def _pin_to_one_core() -> str:
    try:
        cpu = sorted(os.sched_getaffinity(0))[0]
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    except (AttributeError, OSError) as exc:
        return f"not pinned ({exc})"


def _ours(cache: bool = True):
    from thinkgym.verifiers.math import math_worker_pool, verify_math

    math_worker_pool().warm()  # start-up (imports, warm-up) is paid once per process, not per pair
    options = {} if cache else {"cache": False}

    def run(completion: str, gold: str) -> bool:
        return verify_math(completion, gold, **options).score == 1.0

    return run


def _reset_ours() -> None:
    from thinkgym.verifiers import math as math_module

    for pool in math_module._POOLS.values():
        pool.close()
    math_module._POOLS.clear()
    math_module._VERDICTS.clear()
    for cached in (math_module._gold_number, math_module._gold_node, math_module._clean_gold, math_module._gold_oversize):
        cached.cache_clear()


def _peer():
    import logging

    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)

    def run(completion: str, gold: str) -> bool:
        return bool(verify(parse(f"${gold}$"), parse(completion)))

    return run


def _measure(run, pairs: list[Pair]) -> dict:
    latencies, agree = [], 0
    by_category: dict[str, list[int]] = {}
    start = time.perf_counter()
    for pair in pairs:
        t0 = time.perf_counter()
        got = run(pair.completion, pair.gold)
        latencies.append(time.perf_counter() - t0)
        hit = got == pair.label
        agree += hit
        stats = by_category.setdefault(pair.category, [0, 0])
        stats[0] += hit
        stats[1] += 1
    total = time.perf_counter() - start
    latencies.sort()
    return {
        "pairs": len(pairs),
        "seconds": total,
        "pairs_per_s": len(pairs) / total,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "max_ms": 1000 * latencies[-1],
        "mean_ms": 1000 * statistics.fmean(latencies),
        "agreement": agree / len(pairs),
        "agreement_by_category": {k: round(v[0] / v[1], 4) for k, v in sorted(by_category.items())},
    }


def _adversarial(run) -> list[tuple[str, float, bool]]:
    out = []
    for name, completion in ADVERSARIAL:
        t0 = time.perf_counter()
        try:
            got = run(completion, "1")
        except Exception:  # noqa: BLE001 - a peer crash counts as "not equal", we only time it
            got = False
        out.append((name, time.perf_counter() - t0, got))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-peer", action="store_true", help="only time thinkgym")
    parser.add_argument("--skip-adversarial-peer", action="store_true", help="math-verify takes ~5-10 s per adversarial input")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    pin = _pin_to_one_core()
    pairs = build_corpus(args.pairs, args.seed)
    mix = {c[0]: sum(p.category == c[0] for p in pairs) for c in _CATEGORIES}
    wrong = sum(not p.label for p in pairs)
    print(f"corpus: {len(pairs)} pairs, {wrong} wrong ({wrong / len(pairs):.0%}); mix {mix}; {pin}")

    results: dict = {"corpus": {"pairs": len(pairs), "wrong": wrong, "mix": mix, "seed": args.seed}}
    ours = _ours()
    results["thinkgym"] = _measure(ours, pairs)
    results["thinkgym"]["adversarial"] = _adversarial(ours)
    _reset_ours()  # the uncached run starts as cold as the first: fresh worker, empty caches
    results["thinkgym_nocache"] = _measure(_ours(cache=False), pairs)
    if not args.skip_peer:
        peer = _peer()
        results["math_verify"] = _measure(peer, pairs)
        if not args.skip_adversarial_peer:
            results["math_verify"]["adversarial"] = _adversarial(peer)

    def row(name: str, r: dict) -> str:
        worst = max((t for _, t, _ in r.get("adversarial", [])), default=float("nan"))
        return (
            f"| {name} | {r['pairs_per_s']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.1f} "
            f"| {r['agreement']:.2%} | {worst:.3f} s |"
        )

    print("\n| verifier | pairs/s | p50 ms | p99 ms | max ms | agreement with labels | worst adversarial |")
    print("|---|---|---|---|---|---|---|")
    print(row("thinkgym verify_math", results["thinkgym"]))
    print(row("thinkgym, verdict cache off", results["thinkgym_nocache"]))
    if "math_verify" in results:
        print(row("math-verify 0.9 (parse+verify)", results["math_verify"]))
        ratio = results["thinkgym"]["pairs_per_s"] / results["math_verify"]["pairs_per_s"]
        ratio_nocache = results["thinkgym_nocache"]["pairs_per_s"] / results["math_verify"]["pairs_per_s"]
        results["ratio"], results["ratio_nocache"] = ratio, ratio_nocache
        print(f"\nthroughput ratio thinkgym / math-verify: {ratio:.1f}x (verdict cache off: {ratio_nocache:.1f}x)")
    for name in ("thinkgym", "thinkgym_nocache", "math_verify"):
        if name in results:
            print(f"{name} agreement by category: {results[name]['agreement_by_category']}")
            for case, seconds, got in results[name].get("adversarial", []):
                print(f"  {name} adversarial {case!r}: {seconds:.3f} s (said equal: {got})")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
