"""Benchmark metrics with honest error bars: pass@k, maj@k, accuracy, format rate, lengths, latency.

Every headline number is an `Estimate` with a 95 % confidence interval. Samples of one problem
are not independent, so intervals come from a bootstrap over *problems* (fixed seed, so a report
re-renders identically); a 0/1 metric with exactly one sample per problem uses the Wilson interval,
which stays sensible at 0 % and 100 % where a bootstrap collapses to a point.

A sample record (one line of ``samples.jsonl``) is a dict with at least ``env``, ``problem_index``,
``reward``, ``correct`` and ``error``; samples with an ``error`` (the policy failed to answer) are
counted as failed and left out of every score, never scored as silent zeros.

Samples are grouped by problem *id* (``problem_id``; the index only for records without one): a
problem drawn twice (a suite asking for more problems than a dataset has) is one problem with more
samples, never two independent ones, so intervals and pass@k do not count repeats as evidence.
The one exception is an env with a single problem (the classic maze, played ``n`` times): there
the policy's randomness is the only variation, and each episode (problem index) is its own unit.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = [
    "Estimate",
    "pass_at_k",
    "majority_correct",
    "maj_at_k",
    "wilson_interval",
    "bootstrap_replicates",
    "bootstrap_ci",
    "normalize_answer",
    "ks_for",
    "ProblemStats",
    "group_by_problem",
    "problem_key",
    "problem_keys",
    "identical_sample_problems",
    "identical_samples_warning",
    "summarize",
    "CONFIDENCE",
]

CONFIDENCE = 0.95
_Z95 = 1.959963984540054
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
#: maj@k enumerates every k-subset up to this many, and samples this many above it.
MAJ_MAX_SUBSETS = 1000


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95 % interval, the number of problems behind it and the method."""

    value: float
    lo: float
    hi: float
    n: int
    method: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Estimate:
        return cls(
            float(data["value"]),
            float(data["lo"]),
            float(data["hi"]),
            int(data["n"]),
            str(data["method"]),
        )

    def format(self, digits: int = 3, scale: float = 1.0) -> str:
        """``0.512 [0.480, 0.544]`` — the way reports print it."""
        v, lo, hi = self.value * scale, self.lo * scale, self.hi * scale
        return f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


# --------------------------------------------------------------------------------------------
# Estimators
# --------------------------------------------------------------------------------------------


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from ``n`` samples of which ``c`` are correct (Chen et al., 2021).

    ``1 - C(n-c, k) / C(n, k)``, computed as the product ``prod_{i=n-c+1}^{n} (1 - k/i)`` so that
    large ``n`` neither overflows nor loses precision.
    """
    if not (
        isinstance(n, int | np.integer)
        and isinstance(c, int | np.integer)
        and isinstance(k, int | np.integer)
    ):
        raise TypeError("pass_at_k expects integers n, c, k")
    if n < 1 or k < 1 or k > n or c < 0 or c > n:
        raise ValueError(f"pass_at_k needs 1 <= k <= n and 0 <= c <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    i = np.arange(n - c + 1, n + 1, dtype=np.float64)
    return float(1.0 - np.prod(1.0 - k / i))


def normalize_answer(answer: Any) -> str | None:
    """A vote key for an extracted answer: trimmed, whitespace collapsed, ``$`` and end dots dropped."""
    if answer is None:
        return None
    text = str(answer).strip().replace("$", "")
    text = re.sub(r"\s+", " ", text).rstrip(".").strip()
    return text or None


def majority_correct(answers: Sequence[Hashable | None], correct: Sequence[bool]) -> float:
    """Whether a majority vote over ``answers`` picks a correct one, as an expectation over ties.

    All correct samples vote together (they all equal the gold answer, however they are written);
    wrong answers vote by their normalized text; samples without an answer do not vote. When
    several answers tie, the vote is a fair coin among them, so the result is the share of tied
    answers that are correct (0, 1, or a fraction).
    """
    if len(answers) != len(correct):
        raise ValueError("answers and correct must have the same length")
    votes: Counter[Hashable] = Counter()
    for answer, ok in zip(answers, correct, strict=True):
        if ok:
            votes[("__correct__",)] += 1
        elif answer is not None:
            votes[("wrong", answer)] += 1
    if not votes:
        return 0.0
    top = max(votes.values())
    tied = [key for key, count in votes.items() if count == top]
    return (("__correct__",) in tied) / len(tied)


def _vote_ids(
    answers: Sequence[Hashable | None], correct: Sequence[bool]
) -> tuple[np.ndarray, int]:
    """Each sample's vote as an integer: 0 = the correct answer, 1.. = distinct wrong answers,
    -1 = no vote; and the number of vote values."""
    keys: dict[Hashable, int] = {}
    ids = np.empty(len(answers), dtype=np.int64)
    for i, (answer, ok) in enumerate(zip(answers, correct, strict=True)):
        if ok:
            ids[i] = 0
        elif answer is None:
            ids[i] = -1
        else:
            ids[i] = keys.setdefault(answer, len(keys) + 1)
    return ids, len(keys) + 1


def _majority_rows(votes: np.ndarray, clusters: int) -> np.ndarray:
    """`majority_correct` of every row of ``votes`` (subsets x k), vectorized."""
    counts = (votes[:, :, None] == np.arange(clusters)).sum(axis=1)
    top = counts.max(axis=1)
    tied = (counts == top[:, None]) & (top[:, None] > 0)
    return np.where(top > 0, tied[:, 0] / np.maximum(tied.sum(axis=1), 1), 0.0)


def maj_at_k(
    answers: Sequence[Hashable | None],
    correct: Sequence[bool],
    k: int,
    *,
    max_subsets: int = MAJ_MAX_SUBSETS,
    seed: int = 0,
) -> float:
    """maj@k: the expected `majority_correct` of ``k`` samples drawn without replacement from ``n``.

    Exact (every k-subset) when there are at most ``max_subsets`` subsets, otherwise the mean over
    ``max_subsets`` subsets drawn with a fixed seed.
    """
    n = len(answers)
    if len(correct) != n:
        raise ValueError("answers and correct must have the same length")
    if k < 1 or k > n:
        raise ValueError(f"maj@k needs 1 <= k <= n, got k={k}, n={n}")
    if k == n:
        return majority_correct(answers, correct)
    ids, clusters = _vote_ids(answers, correct)
    if math.comb(n, k) <= max_subsets:
        subsets = np.array(list(itertools.combinations(range(n), k)), dtype=np.int64)
    else:
        rng = np.random.default_rng(seed)
        subsets = np.argsort(rng.random((max_subsets, n)), axis=1)[:, :k]
    return float(_majority_rows(ids[subsets], clusters).mean())


def wilson_interval(successes: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (sane at 0 and n, unlike the normal one)."""
    if n <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, n], got {successes} of {n}")
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return (lo, hi)


def bootstrap_replicates(
    values: Sequence[float] | np.ndarray,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> np.ndarray:
    """``resamples`` means of ``values`` resampled with replacement (seeded; chunked to bound memory)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return np.full(resamples, np.nan)
    rng = np.random.default_rng(seed)
    out = np.empty(resamples, dtype=np.float64)
    chunk = max(1, min(resamples, 2_000_000 // arr.size))
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        idx = rng.integers(arr.size, size=(stop - start, arr.size))
        out[start:stop] = arr[idx].mean(axis=1)
    return out


def _percentile_ci(replicates: np.ndarray, level: float = CONFIDENCE) -> tuple[float, float]:
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(replicates, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Percentile 95 % interval of the mean of ``values`` (each value is one problem)."""
    return _percentile_ci(bootstrap_replicates(values, resamples=resamples, seed=seed))


def _estimate(
    values: Sequence[float],
    *,
    binary_single: bool = False,
    proportion: bool = False,
    seed: int = BOOTSTRAP_SEED,
) -> Estimate:
    """Mean of per-problem values with its 95 % interval.

    One 0/1 value per problem: Wilson. A proportion at 0 % or 100 % on every problem: Wilson over
    the problems too, since a bootstrap of identical values collapses to a point and would claim
    a certainty that a finite sample never gives. Otherwise: percentile bootstrap over problems.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0, "none")
    mean = float(arr.mean())
    extreme = proportion and (bool(np.all(arr == 0.0)) or bool(np.all(arr == 1.0)))
    if binary_single or extreme:
        lo, hi = wilson_interval(int(round(arr.sum())), int(arr.size))
        return Estimate(mean, lo, hi, int(arr.size), "wilson")
    lo, hi = bootstrap_ci(arr, seed=seed)
    return Estimate(mean, min(lo, mean), max(hi, mean), int(arr.size), "bootstrap")


def ks_for(max_k: int) -> list[int]:
    """The k at which maj@k is reported: powers of two up to ``max_k``, and ``max_k`` itself."""
    ks = [k for k in (2**i for i in range(0, 20)) if k <= max_k]
    if max_k >= 1 and max_k not in ks:
        ks.append(max_k)
    return ks


# --------------------------------------------------------------------------------------------
# From samples to a summary
# --------------------------------------------------------------------------------------------


@dataclass
class ProblemStats:
    """The valid (non-failed) samples of one problem, reduced to what the metrics need."""

    env: str
    problem_index: int
    rewards: list[float]
    correct: list[bool]
    answers: list[str | None]
    formats: list[float]
    failed: int = 0

    @property
    def n(self) -> int:
        return len(self.rewards)

    @property
    def c(self) -> int:
        return int(sum(self.correct))


def problem_key(sample: Mapping[str, Any]) -> str:
    """Which problem a sample belongs to: its ``problem_id`` (repeats of a problem pool), else its index."""
    pid = sample.get("problem_id")
    return str(pid) if pid is not None else f"#{int(sample['problem_index'])}"


def problem_keys(samples: Sequence[Mapping[str, Any]]) -> list[str]:
    """The unit each sample is grouped in (see the module docstring): `problem_key`, except in an
    env whose samples all share one problem id, where each problem index is its own unit."""
    ids: dict[str, set[str]] = defaultdict(set)
    for s in samples:
        ids[str(s["env"])].add(problem_key(s))
    return [
        problem_key(s) if len(ids[str(s["env"])]) > 1 else f"{problem_key(s)}#{int(s['problem_index'])}"
        for s in samples
    ]


def group_by_problem(
    samples: Iterable[Mapping[str, Any]], *, vote_on_completion: bool = False
) -> dict[str, dict[str, ProblemStats]]:
    """``{env: {problem_key: ProblemStats}}`` from sample records (failed ones only counted).

    Votes use the verifier's normalized answer; ``vote_on_completion`` makes the whole answer
    text the vote (for envs whose verifier extracts nothing, such as a maze path)."""
    table: dict[str, dict[str, ProblemStats]] = defaultdict(dict)
    samples = list(samples)
    for s, key in zip(samples, problem_keys(samples), strict=True):
        env = str(s["env"])
        stats = table[env].get(key)
        if stats is None:
            stats = table[env][key] = ProblemStats(env, int(s["problem_index"]), [], [], [], [])
        if s.get("error"):
            stats.failed += 1
            continue
        stats.rewards.append(float(s["reward"]))
        stats.correct.append(bool(s["correct"]))
        vote = s.get("vote_key", s.get("extracted_answer"))
        if vote_on_completion:
            vote = (s.get("completion") or "").strip()[:500]
        stats.answers.append(normalize_answer(vote))
        fmt = (s.get("components") or {}).get("format")
        if fmt is not None:
            stats.formats.append(float(fmt))
    return dict(table)


def identical_sample_problems(samples: Iterable[Mapping[str, Any]]) -> int:
    """How many drawn problems (problem indices) have two or more scored samples, all the same text.

    At a temperature above 0 that almost always means the sampler ignored the temperature (a
    server without sampling, a greedy ``generation_config``), and pass@k is then pass@1.
    """
    texts: dict[tuple[str, int], set[str]] = defaultdict(set)
    counts: Counter[tuple[str, int]] = Counter()
    for s in samples:
        if s.get("error"):
            continue
        key = (str(s["env"]), int(s["problem_index"]))  # the --samples of one drawn problem
        texts[key].add(str(s.get("completion") or ""))
        counts[key] += 1
    return sum(1 for key, n in counts.items() if n > 1 and len(texts[key]) == 1)


def identical_samples_warning(identical: int, problems: int, temperature: float | None) -> str | None:
    """The one warning line about problems whose samples are all identical, or None when there is none."""
    if identical <= 0 or temperature is None or temperature <= 0:
        return None
    return (
        f"{identical} of {problems} problem(s) got the same text in every sample at temperature "
        f"{temperature:g}: the policy is not sampling (does the server ignore temperature/seed, or the "
        "model's generation_config set do_sample=false?), so pass@k there is pass@1"
    )


def _dist(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    arr = np.asarray(values, dtype=np.float64)
    return {
        "mean": float(arr.mean()),
        "p50": float(np.percentile(arr, 50)),
        "p90": float(np.percentile(arr, 90)),
    }


def summarize_env(
    samples: Sequence[Mapping[str, Any]], *, multi_turn: bool | None = None
) -> dict[str, Any]:
    """Every metric of one env, from its sample records (see the module docstring)."""
    extracts = any(s.get("answer_found", s.get("extracted_answer") is not None) for s in samples)
    grouped = group_by_problem(samples, vote_on_completion=not extracts).values()
    problems = [p for table in grouped for p in table.values()]
    valid = [p for p in problems if p.n > 0]
    valid_samples = [s for s in samples if not s.get("error")]
    failed = sum(p.failed for p in problems)
    max_n = max((p.n for p in valid), default=0)
    single = max_n == 1
    result: dict[str, Any] = {
        "problems": len(problems),
        "problems_scored": len(valid),
        "samples": len(samples),
        "samples_scored": len(valid_samples),
        "failed": failed,
        "samples_per_problem": max_n,
    }
    result["accuracy"] = _estimate(
        [p.c / p.n for p in valid], binary_single=single, proportion=True
    ).to_dict()
    result["mean_reward"] = _estimate([float(np.mean(p.rewards)) for p in valid]).to_dict()
    result["max_reward_seen"] = max((max(p.rewards) for p in valid), default=None)

    pass_k: dict[str, Any] = {}
    for k in range(1, max_n + 1):
        per_problem = [pass_at_k(p.n, p.c, k) for p in valid if p.n >= k]
        pass_k[str(k)] = _estimate(per_problem, binary_single=single, proportion=True).to_dict()
    result["pass_at_k"] = pass_k

    maj_k: dict[str, Any] = {}
    if not multi_turn:
        for k in ks_for(max_n):
            per_problem = [maj_at_k(p.answers, p.correct, k) for p in valid if p.n >= k]
            maj_k[str(k)] = _estimate(per_problem, binary_single=single, proportion=True).to_dict()
    result["maj_at_k"] = maj_k

    with_format = [p for p in valid if p.formats]
    result["format_rate"] = (
        _estimate([float(np.mean(p.formats)) for p in with_format], proportion=True).to_dict()
        if with_format
        else None
    )

    chars = [len(s.get("completion") or "") for s in valid_samples]
    result["completion_chars"] = _dist(chars)
    tokens = [
        s["completion_tokens"] for s in valid_samples if s.get("completion_tokens") is not None
    ]
    result["completion_tokens"] = _dist(tokens)
    units = problem_keys(valid_samples)
    by_problem_len: dict[tuple[str, str], list[float]] = defaultdict(list)
    for s, key in zip(valid_samples, units, strict=True):
        by_problem_len[(s["env"], key)].append(len(s.get("completion") or ""))
    result["mean_completion_chars"] = _estimate(
        [float(np.mean(v)) for v in by_problem_len.values()]
    ).to_dict()

    trunc_by_problem: dict[tuple[str, str], list[float]] = defaultdict(list)
    for s, key in zip(valid_samples, units, strict=True):
        trunc_by_problem[(s["env"], key)].append(
            float("length" in (s.get("finish_reasons") or []))
        )
    result["truncation_rate"] = _estimate(
        [float(np.mean(v)) for v in trunc_by_problem.values()],
        binary_single=single,
        proportion=True,
    ).to_dict()
    result["episode_truncated_rate"] = (
        float(np.mean([bool(s.get("truncated")) for s in valid_samples])) if valid_samples else None
    )

    latencies = [s["latency_s"] for s in valid_samples if s.get("latency_s") is not None]
    result["latency_s"] = _dist(latencies)
    timed = [s for s in valid_samples if s.get("completion_tokens") and s.get("latency_s")]
    result["tokens_per_s"] = (
        sum(s["completion_tokens"] for s in timed) / sum(s["latency_s"] for s in timed)
        if timed
        else None
    )
    verify = [
        s["timings"]["verify_s"]
        for s in valid_samples
        if (s.get("timings") or {}).get("verify_s") is not None
    ]
    result["verify_s"] = _dist(verify)

    result["identical_sample_problems"] = identical_sample_problems(valid_samples)
    per_index = Counter((str(s["env"]), int(s["problem_index"])) for s in valid_samples)
    result["problems_with_several_samples"] = sum(1 for n in per_index.values() if n > 1)

    reasons = Counter(str(s["reason"])[:120] for s in valid_samples if s.get("reason"))
    result["miss_reasons"] = dict(reasons.most_common(5))
    errors = Counter(str(s["error"])[:160] for s in samples if s.get("error"))
    result["failure_reasons"] = dict(errors.most_common(5))
    return result


def _overall(
    envs: Mapping[str, Sequence[ProblemStats]], metric: str, k: int | None = None
) -> Estimate | None:
    """Macro average over envs (each env weighs the same) with a bootstrap stratified by env."""
    per_env: list[np.ndarray] = []
    for problems in envs.values():
        valid = [p for p in problems if p.n > 0 and (k is None or p.n >= k)]
        if not valid:
            continue
        if metric == "accuracy":
            vals = [p.c / p.n for p in valid]
        elif metric == "mean_reward":
            vals = [float(np.mean(p.rewards)) for p in valid]
        elif metric == "pass_at_k":
            assert k is not None
            vals = [pass_at_k(p.n, p.c, k) for p in valid]
        else:
            raise ValueError(metric)
        per_env.append(np.asarray(vals, dtype=np.float64))
    if not per_env:
        return None
    value = float(np.mean([v.mean() for v in per_env]))
    reps = np.mean(
        [bootstrap_replicates(v, seed=BOOTSTRAP_SEED + i) for i, v in enumerate(per_env)], axis=0
    )
    lo, hi = _percentile_ci(reps)
    return Estimate(
        value,
        min(lo, value),
        max(hi, value),
        int(sum(v.size for v in per_env)),
        "bootstrap-stratified",
    )


def summarize(
    samples: Iterable[Mapping[str, Any]],
    *,
    multi_turn_envs: Iterable[str] = (),
    env_order: Sequence[str] = (),
) -> dict[str, Any]:
    """The whole summary: per-env metrics (`summarize_env`) and macro-averaged overall numbers."""
    by_env: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for s in samples:
        by_env[str(s["env"])].append(s)
    multi = set(multi_turn_envs)
    order = [e for e in env_order if e in by_env] + sorted(e for e in by_env if e not in env_order)
    envs = {env: summarize_env(by_env[env], multi_turn=env in multi) for env in order}
    stats = {env: list(group_by_problem(by_env[env]).get(env, {}).values()) for env in order}
    overall: dict[str, Any] = {
        "envs": len(envs),
        "samples": sum(e["samples"] for e in envs.values()),
        "failed": sum(e["failed"] for e in envs.values()),
        "identical_sample_problems": sum(e["identical_sample_problems"] for e in envs.values()),
        "problems_with_several_samples": sum(e["problems_with_several_samples"] for e in envs.values()),
    }
    for metric in ("accuracy", "mean_reward"):
        est = _overall(stats, metric)
        overall[metric] = est.to_dict() if est else None
    max_k = min(
        (e["samples_per_problem"] for e in envs.values() if e["samples_per_problem"]), default=0
    )
    overall["pass_at_k"] = {}
    for k in range(1, max_k + 1):
        est = _overall(stats, "pass_at_k", k)
        if est is not None:
            overall["pass_at_k"][str(k)] = est.to_dict()
    return {"envs": envs, "overall": overall}
