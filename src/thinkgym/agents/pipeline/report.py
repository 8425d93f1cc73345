"""The pipeline's figure: RL curves (true return and reward-model reward per step), the reward
hacking gap during PPO, and every stage's held-out mean return against the exact references."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_pipeline"]


def _smooth(values: list[float], window: int = 5) -> list[float]:
    """Trailing moving average (RL batches are small: one step's mean is noisy)."""
    out = []
    for i in range(len(values)):
        chunk = values[max(0, i - window + 1) : i + 1]
        out.append(sum(chunk) / len(chunk))
    return out


def plot_pipeline(result: Any, path: str | Path) -> Path:
    """Write the three-panel PNG for a `PipelineResult` and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, (curves, gap, bars) = plt.subplots(1, 3, figsize=(15, 4.2))
    colors = {"GRPO": "tab:green"}
    palette = iter(["tab:blue", "tab:red", "tab:purple", "tab:orange"])
    for name, rows in result.curves.items():
        if not rows or "true_reward" not in rows[0]:
            continue
        color = colors.get(name) or next(palette)
        colors[name] = color
        steps = [r["step"] for r in rows]
        curves.plot(steps, _smooth([r["true_reward"] for r in rows]), color=color, label=f"{name}: true return")
        if "rm_reward" in rows[0]:
            curves.plot(steps, _smooth([r["rm_reward"] for r in rows]), color=color, linestyle="--",
                        label=f"{name}: reward model")
    refs = result.references
    for axis in (curves, bars):
        axis.axhline(refs["uniform"], color="grey", linestyle=":", label="uniform policy (exact)")
        axis.axhline(refs["optimum"], color="black", linestyle=":", label="optimum (exact)")
    curves.set_xlabel("RL step (training mazes; moving average of 5)")
    curves.set_ylabel("mean return per episode")
    curves.set_title("RL from the SFT model")
    curves.legend(fontsize=7, loc="lower right")
    for name, rows in result.hacking.items():
        steps = [r["step"] for r in rows]
        gap.plot(steps, _smooth([r["gap"] for r in rows]), color=colors.get(name), label=f"{name}: RM − true")
        gap.plot(steps, _smooth([10 * r["rm_says_goal_env_not"] for r in rows]), color=colors.get(name),
                 linestyle=":", label=f"{name}: 10 × P(RM says goal, env says no)")
    gap.axhline(0.0, color="grey", linewidth=0.8)
    gap.set_xlabel("PPO step (moving average of 5)")
    gap.set_title("Reward model vs true reward during PPO")
    gap.legend(fontsize=7)
    names = [s.stage for s in result.stages]
    means = [s.mean for s in result.stages]
    errors = [s.se for s in result.stages]
    bars.bar(range(len(names)), means, yerr=errors, color="tab:blue", alpha=0.8, capsize=3)
    bars.set_xticks(range(len(names)), names, rotation=25, ha="right", fontsize=8)
    bars.set_ylabel("held-out mean return")
    bars.set_title("Held-out mazes (never trained on)")
    bars.legend(fontsize=7, loc="upper left")
    for axis in (curves, gap, bars):
        axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
