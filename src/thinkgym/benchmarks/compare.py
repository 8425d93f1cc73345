"""`thinkgym compare DIR_A DIR_B`: per-env differences with confidence intervals.

When both runs evaluated the same problems (same suite hash) the difference is *paired*: the
bootstrap resamples problems and takes both runs' scores on each, which removes the spread between
easy and hard problems and gives much tighter intervals. Otherwise the two runs are resampled
independently. A difference whose 95 % interval contains 0 is flagged as within noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from thinkgym.benchmarks.metrics import (
    BOOTSTRAP_SEED,
    ProblemStats,
    _percentile_ci,
    bootstrap_replicates,
    group_by_problem,
    pass_at_k,
)
from thinkgym.benchmarks.store import RunDir, best_records
from thinkgym.errors import ConfigError

__all__ = ["Delta", "compare_runs", "render_comparison"]


@dataclass(frozen=True)
class Delta:
    """B minus A for one metric of one env, with its 95 % interval."""

    env: str
    metric: str
    a: float
    b: float
    delta: float
    lo: float
    hi: float
    paired: bool
    problems: int

    @property
    def within_noise(self) -> bool:
        return self.lo <= 0.0 <= self.hi

    @property
    def verdict(self) -> str:
        if self.within_noise:
            return "within noise"
        return "B higher" if self.delta > 0 else "B lower"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "within_noise": self.within_noise, "verdict": self.verdict}


def _load(path: str | Path) -> tuple[dict[str, Any], dict[str, dict[str, ProblemStats]]]:
    run = RunDir(path)
    config = run.load_config()
    if config is None or not run.samples_path.exists():
        raise ConfigError(
            f"{path} is not a `thinkgym eval` output directory (no config.json / samples.jsonl)"
        )
    return config, group_by_problem(best_records(run.read_samples()).values())


def _per_problem(stats: Mapping[str, ProblemStats], metric: str, k: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for index, p in stats.items():
        if p.n == 0 or p.n < k:
            continue
        if metric == "accuracy":
            out[index] = p.c / p.n
        elif metric == "mean_reward":
            out[index] = float(np.mean(p.rewards))
        else:
            out[index] = pass_at_k(p.n, p.c, k)
    return out


def _delta_ci(a: np.ndarray, b: np.ndarray, paired: bool) -> tuple[float, float]:
    if paired:
        reps = bootstrap_replicates(b - a, seed=BOOTSTRAP_SEED)
    else:
        reps = bootstrap_replicates(b, seed=BOOTSTRAP_SEED + 1) - bootstrap_replicates(
            a, seed=BOOTSTRAP_SEED + 2
        )
    return _percentile_ci(reps)


def compare_runs(dir_a: str | Path, dir_b: str | Path) -> dict[str, Any]:
    """Deltas (B − A) of accuracy, mean reward and pass@k for every env both runs scored."""
    config_a, stats_a = _load(dir_a)
    config_b, stats_b = _load(dir_b)
    same_problems = config_a.get("suite_hash") == config_b.get("suite_hash")
    deltas: list[Delta] = []
    for env in [e for e in stats_a if e in stats_b]:
        ka = max((p.n for p in stats_a[env].values()), default=0)
        kb = max((p.n for p in stats_b[env].values()), default=0)
        k_max = min(ka, kb)
        metrics = [("accuracy", 1), ("mean_reward", 1)] + (
            [(f"pass@{k_max}", k_max)] if k_max > 1 else []
        )
        for metric, k in metrics:
            name = "pass_at_k" if metric.startswith("pass@") else metric
            va, vb = _per_problem(stats_a[env], name, k), _per_problem(stats_b[env], name, k)
            if same_problems:
                common = sorted(set(va) & set(vb))
                if not common:
                    continue
                a = np.array([va[i] for i in common])
                b = np.array([vb[i] for i in common])
            else:
                if not va or not vb:
                    continue
                a, b = np.array(list(va.values())), np.array(list(vb.values()))
            lo, hi = _delta_ci(a, b, same_problems)
            d = float(b.mean() - a.mean())
            deltas.append(
                Delta(
                    env,
                    metric,
                    float(a.mean()),
                    float(b.mean()),
                    d,
                    min(lo, d),
                    max(hi, d),
                    same_problems,
                    int(min(a.size, b.size)),
                )
            )
    only_a = sorted(set(stats_a) - set(stats_b))
    only_b = sorted(set(stats_b) - set(stats_a))
    return {
        "a": {
            "dir": str(dir_a),
            "policy": config_a.get("identity", {}).get("policy"),
            "suite": config_a.get("identity", {}).get("suite"),
        },
        "b": {
            "dir": str(dir_b),
            "policy": config_b.get("identity", {}).get("policy"),
            "suite": config_b.get("identity", {}).get("suite"),
        },
        "paired": same_problems,
        "deltas": [d.to_dict() for d in deltas],
        "only_in_a": only_a,
        "only_in_b": only_b,
    }


def render_comparison(result: Mapping[str, Any], console: Any = None) -> None:
    """Print the comparison as a rich table (deltas inside their noise are dimmed)."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    a, b = result["a"], result["b"]
    title = f"B − A   A = {a['policy']} ({a['dir']})   B = {b['policy']} ({b['dir']})"
    table = Table(title=title, title_justify="left")
    for column in ("env", "metric", "A", "B", "Δ (B − A)", "95 % CI", "verdict"):
        table.add_column(column, justify="right" if column in ("A", "B", "Δ (B − A)") else "left")
    for d in result["deltas"]:
        style = "dim" if d["within_noise"] else ("green" if d["delta"] > 0 else "red")
        table.add_row(
            d["env"], d["metric"], f"{d['a']:.3f}", f"{d['b']:.3f}", f"{d['delta']:+.3f}",
            f"[{d['lo']:+.3f}, {d['hi']:+.3f}]", d["verdict"], style=style,
        )  # fmt: skip
    console.print(table)
    kind = (
        "paired over the same problems"
        if result["paired"]
        else "unpaired (the runs used different problems)"
    )
    console.print(f"intervals: 95 % bootstrap, {kind}; 'within noise' = the interval contains 0")
    for side in ("only_in_a", "only_in_b"):
        if result[side]:
            console.print(f"envs {side.replace('_', ' ')}: {', '.join(result[side])}")
