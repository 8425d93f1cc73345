"""Training entry used by ``thinkgym train`` and ``thinkgym demo``: TRL GRPO / RLOO, or our PPO.

`train` wires an env to a trainer with the adapters of `thinkgym.agents.trl`: single-turn envs get
a dataset and reward functions; multi-turn envs under GRPO get `rollout_func` (whole episodes,
env tokens masked out); under RLOO (which has no rollout hook in TRL 1.x) a multi-turn completion
is replayed through the env action by action. The trained reward is the env's own score; each
reward component is logged next to it (as a zero-weight TRL reward function). It shows a progress
bar, writes checkpoints, ``rewards.jsonl`` and a reward-curve PNG.

The README's main command, ``thinkgym demo`` (the tiny model learns the seed's classic maze), is a
recipe over these generic pieces in `thinkgym.demo`; nothing here names an env.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from thinkgym.registry import make

if TYPE_CHECKING:
    pass

__all__ = ["TrainConfig", "TrainResult", "train", "evaluate_token_policy", "plot_reward_curve"]

ALGOS = ("grpo", "rloo", "ppo")


@dataclass
class TrainConfig:
    """Settings of one training run (the ``thinkgym train`` options)."""

    env_id: str
    algo: str = "grpo"
    model: Any = "tiny"  # "tiny", a local folder, or a (model, tokenizer) pair
    output_dir: str | Path = "runs/train"
    steps: int = 50
    num_generations: int = 8
    prompts_per_step: int = 1
    learning_rate: float | None = None  # None: 3e-3 for the tiny model, 1e-6 otherwise
    max_completion_length: int = 64
    temperature: float = 1.0
    beta: float = 0.0
    num_iterations: int = 1
    n_problems: int = 256
    seed: int = 0
    token_actions: bool = False
    restrict_to_valid_actions: bool = False
    conversational: bool = False
    save_steps: int = 0  # 0: only the final model
    threads: int | None = None  # torch threads; None: 1 for the tiny model (tiny ops lose to thread sync)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    progress: bool = True

    def __post_init__(self) -> None:
        if self.algo not in ALGOS:
            raise ValueError(f"algo must be one of {ALGOS}, got {self.algo!r}")
        if self.steps < 1 or self.num_generations < 2 or self.prompts_per_step < 1:
            raise ValueError("steps >= 1, num_generations >= 2 and prompts_per_step >= 1 are needed")
        if self.max_completion_length < 1:
            raise ValueError("max_completion_length must be >= 1")


@dataclass
class TrainResult:
    """What a run produced: the reward curve (one entry per logged step) and where things are."""

    curve: list[dict[str, float]]
    output_dir: Path
    model: Any
    tokenizer: Any
    plot: Path | None = None
    wall_s: float = 0.0

    @property
    def final_reward(self) -> float | None:
        return self.curve[-1]["reward"] if self.curve else None


def _resolve_model(config: TrainConfig) -> tuple[Any, Any, bool]:
    from thinkgym.agents.tiny import build_tiny, env_corpus, load_model

    if isinstance(config.model, tuple):
        model, tokenizer = config.model
        return model, tokenizer, getattr(model.config, "tiny_config", None) is not None
    if str(config.model) == "tiny":
        model, tokenizer = build_tiny(corpus=env_corpus(config.env_id, 64, config.seed, **config.env_kwargs))
        return model, tokenizer, True
    model, tokenizer = load_model(config.model)
    return model, tokenizer, getattr(model.config, "tiny_config", None) is not None


def _is_multi_turn(env_id: str, env_kwargs: dict[str, Any]) -> bool:
    env = make(env_id, **env_kwargs)
    try:
        env.reset(seed=0)
        from thinkgym.agents.base import env_attr  # through any wrappers a factory adds

        return int(env_attr(env, "max_turns", 1)) > 1
    finally:
        env.close()


def train(config: TrainConfig) -> TrainResult:
    """Train ``config.model`` on ``config.env_id`` with ``config.algo``; see the module docstring."""
    import torch

    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    model, tokenizer, tiny = _resolve_model(config)
    threads = config.threads if config.threads is not None else (1 if tiny else None)
    previous_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    started = time.perf_counter()
    quiet = warnings.catch_warnings()
    quiet.__enter__()
    # transformers 5 renamed gradient checkpointing; TRL 1.16 still uses the old name (noise, not news)
    warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    try:
        if config.algo == "ppo":
            from thinkgym.agents.ppo import PPOConfig, train_ppo

            ppo_config = PPOConfig(
                env_id=config.env_id,
                steps=config.steps,
                episodes_per_step=config.num_generations * config.prompts_per_step,
                learning_rate=config.learning_rate or (1e-3 if tiny else 1e-6),
                max_completion_length=config.max_completion_length,
                temperature=config.temperature,
                kl_beta=config.beta,
                seed=config.seed,
                token_actions=config.token_actions,
                restrict_to_valid_actions=config.restrict_to_valid_actions,
                conversational=config.conversational,
                env_kwargs=dict(config.env_kwargs),
            )
            with _Progress(config.steps, config.progress, config.algo) as progress:
                history = train_ppo(ppo_config, model, tokenizer, on_step=progress.ppo_step)
            curve = [
                {"step": float(h["step"]), "reward": h["reward"], **{f"rewards/{k}": v for k, v in h["components"].items()}}
                for h in history
            ]
        else:
            curve = _train_trl(config, model, tokenizer, tiny, output_dir)
    finally:
        torch.set_num_threads(previous_threads)
        quiet.__exit__(None, None, None)
    wall = time.perf_counter() - started
    final = output_dir / "final"
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model.save_pretrained(final)
    tokenizer.save_pretrained(final)
    with open(output_dir / "rewards.jsonl", "w") as handle:
        for row in curve:
            handle.write(json.dumps(row) + "\n")
    plot = plot_reward_curve(curve, output_dir / "reward_curve.png", title=f"{config.algo.upper()} on {config.env_id}")
    return TrainResult(curve, output_dir, model, tokenizer, plot, wall)


def _train_trl(config: TrainConfig, model: Any, tokenizer: Any, tiny: bool, output_dir: Path) -> list[dict[str, float]]:
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from thinkgym.agents.trl import reward_funcs, rollout_func, to_dataset

    multi = _is_multi_turn(config.env_id, config.env_kwargs)
    dataset = to_dataset(
        config.env_id, config.n_problems, config.seed, conversational=config.conversational, env_kwargs=config.env_kwargs,
        repeat=True,  # a training set is cycled anyway (see below); a one-problem env (the classic maze) too
    )
    # Enough rows for every step (TRL draws prompts_per_step rows per step, without replacement per epoch).
    needed = config.steps * config.prompts_per_step * max(1, config.num_iterations)
    if len(dataset) < needed:
        from datasets import concatenate_datasets

        dataset = concatenate_datasets([dataset] * math.ceil(needed / len(dataset)))
    use_rollout = multi and config.algo == "grpo"
    actions = "tokens" if config.token_actions else "text"
    score_funcs = reward_funcs(config.env_id, score=True, actions=actions, tokenizer=tokenizer, env_kwargs=config.env_kwargs)
    component_funcs = reward_funcs(config.env_id, score=False, actions=actions, tokenizer=tokenizer, env_kwargs=config.env_kwargs)
    funcs = score_funcs + component_funcs
    weights = [1.0] * len(score_funcs) + [0.0] * len(component_funcs)  # components: logged, not trained on
    common: dict[str, Any] = {
        "output_dir": str(output_dir),
        "per_device_train_batch_size": config.num_generations * config.prompts_per_step,
        "num_generations": config.num_generations,
        "max_completion_length": config.max_completion_length,
        "max_steps": config.steps,
        "learning_rate": config.learning_rate or (3e-3 if tiny else 1e-6),
        "lr_scheduler_type": "constant",
        "temperature": config.temperature,
        "beta": config.beta,
        "num_iterations": config.num_iterations,
        "reward_weights": weights,
        "logging_steps": 1,
        "report_to": [],
        "seed": config.seed,
        "disable_tqdm": True,
        "save_strategy": "steps" if config.save_steps else "no",
        "save_steps": config.save_steps or 500,
        "gradient_checkpointing": False,
        "bf16": False,  # CPU autocast to bf16 is several times slower than fp32 for small models
        "use_cpu": not torch_cuda_available(),
        "dataloader_num_workers": 0,
    }
    name_or_path = str(getattr(model.config, "_name_or_path", "") or "")
    if config.beta and not (name_or_path and Path(name_or_path).is_dir()):
        # TRL builds the KL reference model from the policy's path: give an in-memory model one.
        initial = output_dir / "initial"
        model.save_pretrained(initial)
        tokenizer.save_pretrained(initial)
        model.config._name_or_path = str(initial)
    callback = _Progress(config.steps, config.progress, config.algo)
    if config.algo == "grpo":
        from trl import GRPOConfig, GRPOTrainer

        trainer = GRPOTrainer(
            model=model,
            processing_class=tokenizer,
            reward_funcs=funcs,
            train_dataset=dataset,
            args=GRPOConfig(**common),
            callbacks=[callback.callback],
            rollout_func=(
                rollout_func(
                    config.env_id,
                    token_actions=config.token_actions,
                    restrict_to_valid_actions=config.restrict_to_valid_actions,
                    env_kwargs=config.env_kwargs,
                )
                if use_rollout
                else None
            ),
        )
    else:
        from trl import RLOOConfig, RLOOTrainer

        if config.restrict_to_valid_actions:
            raise ValueError("restrict_to_valid_actions needs whole-episode rollouts: use --algo grpo or ppo")
        trainer = RLOOTrainer(
            model=model,
            processing_class=tokenizer,
            reward_funcs=funcs,
            train_dataset=dataset,
            args=RLOOConfig(**common),
            callbacks=[callback.callback],
        )
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # the progress bar shows the rewards instead of raw dicts
    with callback:
        trainer.train()
    score_names = [f.__name__ for f in score_funcs]
    curve = []
    for entry in trainer.state.log_history:
        if "reward" not in entry or "step" not in entry:
            continue
        row = {"step": float(entry["step"])}
        row["reward"] = float(sum(entry.get(f"rewards/{n}/mean", 0.0) for n in score_names))
        for f in component_funcs:
            key = f"rewards/{f.__name__}/mean"
            if key in entry:
                row[f"rewards/{f.__name__}"] = float(entry[key])
        curve.append(row)
    return curve


def torch_cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


class _Progress:
    """A rich progress bar that shows the latest reward and its components; also a TRL callback."""

    def __init__(self, total: int, enabled: bool, label: str):
        from transformers import TrainerCallback

        self.total = total
        self.enabled = enabled
        self.label = label
        self.progress: Any = None
        self.task: Any = None
        outer = self

        class Callback(TrainerCallback):
            def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any) -> None:
                if logs and "reward" in logs:
                    parts = {k.split("/")[1]: v for k, v in logs.items() if k.startswith("rewards/") and k.endswith("/mean")}
                    outer.update(state.global_step, parts)

        self._callback = Callback()

    @property
    def callback(self) -> Any:
        """The `transformers.TrainerCallback` to hand to a TRL trainer."""
        return self._callback

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.progress = Progress(
                TextColumn(f"[bold]{self.label}[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[rewards]}"),
            )
            self.progress.start()
            self.task = self.progress.add_task(self.label, total=self.total, rewards="")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.stop()

    def update(self, step: int, parts: dict[str, float]) -> None:
        if self.progress is None:
            return
        text = "  ".join(f"{k} {v:.3g}" for k, v in parts.items())
        self.progress.update(self.task, completed=step, rewards=text)

    def ppo_step(self, row: dict[str, Any]) -> None:
        parts = {"reward": row["reward"], **row["components"], "kl": row.get("kl", 0.0)}
        self.update(int(row["step"]), parts)


def plot_reward_curve(curve: Sequence[dict[str, float]], path: str | Path, *, title: str = "reward", target: float | None = None) -> Path | None:
    """A PNG of mean reward per step (and each component, on a second axis); None without data."""
    if not curve:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    steps = [row["step"] for row in curve]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, [row["reward"] for row in curve], label="mean reward (env score)", color="tab:blue", linewidth=2)
    if target is not None:
        ax.axhline(target, color="tab:green", linestyle="--", linewidth=1, label=f"target {target:g}")
    ax.set_xlabel("training step")
    ax.set_ylabel("mean reward")
    ax.set_title(title)
    components = sorted({k for row in curve for k in row if k.startswith("rewards/")})
    if components:
        ax2 = ax.twinx()
        for name in components:
            ax2.plot(steps, [row.get(name, float("nan")) for row in curve], linestyle=":", label=name.split("/", 1)[1])
        ax2.set_ylabel("component mean")
        ax2.legend(loc="lower right", fontsize=8)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def evaluate_token_policy(
    model: Any,
    tokenizer: Any,
    env_id: str,
    episodes: int,
    *,
    seed: int = 0,
    token_actions: bool = True,
    restrict_to_valid_actions: bool = True,
    max_completion_tokens: int = 64,
    temperature: float = 1.0,
    batch: int = 128,
    env_kwargs: dict[str, Any] | None = None,
) -> tuple[float, float, list[Any]]:
    """Mean episode return ± standard error of ``model`` on ``episodes`` fresh, seeded episodes."""
    from thinkgym.agents.trl import play_token_episodes

    played = []
    for start in range(0, episodes, batch):
        envs, prompts = [], []
        for i in range(start, min(episodes, start + batch)):
            env = make(env_id, **(env_kwargs or {}))
            _, info = env.reset(seed=seed + i)
            envs.append(env)
            prompts.append(info["messages"][-1]["content"])
        played += play_token_episodes(
            model,
            tokenizer,
            envs,
            prompts,
            max_completion_tokens=max_completion_tokens,
            token_actions=token_actions,
            restrict_to_valid_actions=restrict_to_valid_actions,
            temperature=temperature,
        )
    scores = [e.score for e in played]
    mean = sum(scores) / len(scores)
    var = sum((s - mean) ** 2 for s in scores) / max(1, len(scores) - 1)
    return mean, math.sqrt(var / len(scores)), played
