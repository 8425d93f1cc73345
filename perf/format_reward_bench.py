"""Format reward speed and correctness: thinkgym's `FormatVerifier` vs TRL's `think_format_reward`.

Run:  .venv/bin/python perf/format_reward_bench.py              (6,000 completions, 3 repeats)
      .venv/bin/python perf/format_reward_bench.py --n 1200     (quick look)

The corpus is generated here (seeded) with labels known by construction, by the intent of the
DeepSeek-R1 format: exactly one ``<think>…</think>`` block first, then a non-empty answer, no
further think tags. Categories, in a GRPO-like mix: well formed (60 %), and the ways completions
go wrong in practice — no think block, unclosed block, empty answer, answer only inside the
block, a second think block, a nested block, a stray closing tag, text before the block. TRL's
reward is called the way GRPOTrainer calls it (a batch of conversational completions, 64 at a
time); ours one completion at a time, returning a full `Reward`. Both run in this process, one
core. Also reported: `ArithmeticChecker` (no peer library does this) on worked solutions.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections import Counter, defaultdict

REASONING = [
    "First, 12 + 5 = 17. Then 17 * 3 = 51.",
    "Let me think about this carefully.\nThe area is 6 * 7 = 42 square units.",
    "We need the roots of x^2 - 5x + 6. They are 2 and 3.",
    "Hmm, 48/2 = 24 clips in May, so 48 + 24 = 72 in total.",
]
ANSWERS = ["The answer is \\boxed{51}.", "\\boxed{42}", "So the roots are $2, 3$.", "#### 72"]


def make_corpus(n: int, seed: int = 0) -> list[tuple[str, bool, str]]:
    rng = random.Random(seed)
    kinds = [
        ("good", 60, True),
        ("no_think", 6, False),
        ("unclosed", 6, False),
        ("empty_answer", 5, False),
        ("answer_in_think_only", 5, False),
        ("second_block", 5, False),
        ("nested", 4, False),
        ("stray_close", 4, False),
        ("text_before", 5, False),
    ]
    names = [k for k, w, _ in kinds for _ in range(w)]
    label_of = {k: lab for k, _, lab in kinds}
    corpus = []
    for _ in range(n):
        kind = rng.choice(names)
        r = "\n".join(rng.sample(REASONING, rng.randint(1, 3))) * rng.randint(1, 4)
        a = rng.choice(ANSWERS)
        text = {
            "good": f"<think>\n{r}\n</think>\n\n{a}",
            "no_think": f"{r}\n\n{a}",
            "unclosed": f"<think>\n{r}\n{a}",
            "empty_answer": f"<think>\n{r}\n</think>\n",
            "answer_in_think_only": f"<think>\n{r}\n{a}\n</think>",
            "second_block": f"<think>\n{r}\n</think>\n{a}\n<think>wait, maybe not</think>\n{a}",
            "nested": f"<think>\n{r}<think>inner</think>\n</think>\n{a}",
            "stray_close": f"<think>\n{r}\n</think>\n{a}\n</think>",
            "text_before": f"Sure! <think>\n{r}\n</think>\n{a}",
        }[kind]
        corpus.append((text, label_of[kind], kind))
    return corpus


def bench(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from trl.rewards import think_format_reward

    from thinkgym.core import Problem
    from thinkgym.verifiers.format import FormatVerifier
    from thinkgym.verifiers.process import ArithmeticChecker

    corpus = make_corpus(args.n)
    texts = [t for t, _, _ in corpus]
    problem = Problem("bench", "q", "a")
    ours_fn = FormatVerifier()

    def run_ours() -> list[float]:
        return [ours_fn(t, problem).score for t in texts]

    def run_trl() -> list[float]:
        out: list[float] = []
        for i in range(0, len(texts), 64):
            out.extend(think_format_reward([[{"content": t}] for t in texts[i : i + 64]]))
        return out

    ours_scores, trl_scores = run_ours(), run_trl()
    t_ours, t_trl = bench(run_ours, args.repeats), bench(run_trl, args.repeats)
    wrong: dict[str, Counter] = defaultdict(Counter)
    for (_, label, kind), o, p in zip(corpus, ours_scores, trl_scores, strict=True):
        wrong["thinkgym"][kind] += (o == 1.0) != label
        wrong["trl"][kind] += (p == 1.0) != label
    counts = Counter(kind for _, _, kind in corpus)
    print(f"format corpus: {len(corpus)} completions, {sum(lab for _, lab, _ in corpus)} well formed")
    print(f"thinkgym FormatVerifier   {len(texts) / t_ours:12,.0f} completions/s")
    print(f"trl think_format_reward   {len(texts) / t_trl:12,.0f} completions/s")
    print(f"ratio thinkgym/trl        {t_trl / t_ours:12.2f}")
    for name in ("thinkgym", "trl"):
        errors = sum(wrong[name].values())
        print(f"{name:9s} agreement with labels {1 - errors / len(corpus):.4f}   mislabelled: "
              + (", ".join(f"{k} {v}/{counts[k]}" for k, v in sorted(wrong[name].items()) if v) or "none"))

    checker = ArithmeticChecker()
    rng = random.Random(1)
    solutions = []
    for _ in range(max(200, args.n // 10)):
        steps = []
        for _ in range(rng.randint(3, 8)):
            a, b = rng.randint(2, 999), rng.randint(2, 99)
            op = rng.choice(["+", "-", "*", "\\times"])
            value = a + b if op == "+" else a - b if op == "-" else a * b
            if rng.random() < 0.1:
                value += 1
            steps.append(f"Then {a} {op} {b} = {value}, so we continue with the next quantity.")
        solutions.append("\n".join(steps))
    latencies = []
    for text in solutions:
        start = time.perf_counter()
        checker(text)
        latencies.append(time.perf_counter() - start)
    latencies.sort()
    print(
        f"ArithmeticChecker: {len(solutions) / sum(latencies):,.0f} solutions/s (3-8 claims each), "
        f"p50 {statistics.median(latencies) * 1e3:.2f} ms, p99 {latencies[int(0.99 * (len(latencies) - 1))] * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    main()
