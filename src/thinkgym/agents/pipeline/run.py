"""`run_pipeline`: base → SFT → reward model → PPO / GRPO / DPO, each evaluated on held-out mazes.

The settings (`PipelineConfig`) default to what makes the point on a 2-core CPU in a few minutes:
3x3 procedural mazes (horizon twice the shortest path), the tiny model, a few thousand
demonstrations. ``PipelineConfig.quick()`` is the same run, smaller, for tests. ``model`` may be a
folder of any causal LM (its tokenizer must keep ``R``/``L``/``U``/``D`` single tokens): the code
path is the same; on a GPU set ``device="cuda"`` and the learning rates of that model (see the
README's pipeline section).
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from thinkgym.agents.pipeline import stages
from thinkgym.agents.pipeline.data import (
    Evaluation,
    evaluate,
    observation,
    oracle_completion,
    references,
    split_mazes,
)

__all__ = [
    "PipelineConfig", "PipelineResult", "PipelineRun", "StageResult", "run_pipeline", "training_session", "finish",
    "base_stage", "sft_stage", "reward_model_stage", "ppo_stage", "grpo_stage", "dpo_stage",
]  # fmt: skip


@dataclass
class PipelineConfig:
    """Every knob of a pipeline run; defaults are the documented CPU run."""

    output_dir: str | Path = "runs/pipeline"
    model: str = "tiny"  # "tiny" (built here, no download) or a local model folder
    rows: int = 3
    cols: int = 3
    n_train: int = 3000  # training mazes (distinct layouts, none a held-out layout)
    n_heldout: int = 300  # held-out mazes (the test split): every table figure is on these
    seed: int = 0
    device: str = "auto"  # auto: cuda when available
    threads: int | None = None  # torch threads; None: 1 for the tiny model
    hidden_size: int = 96  # tiny model only
    layers: int = 2
    # 1. base
    pretrain_steps: int = 0
    # 2. SFT
    sft_epochs: float = 4.0
    sft_lr: float = 2e-3
    # 3. reward model
    rm_mazes: int = 600  # training mazes sampled for preference pairs
    rm_heldout_mazes: int = 150  # held-out mazes sampled for the held-out pairwise accuracy
    rm_samples: int = 4
    rm_epochs: float = 2.0
    rm_lr: float = 1e-3
    # 4. RL
    ppo_steps: int = 80
    ppo_episodes: int = 32
    ppo_lr: float = 1e-4
    ppo_beta: float = 0.05
    ppo_beta0: bool = True  # also run PPO with beta = 0 (reward hacking made visible)
    grpo_steps: int = 30
    grpo_prompts: int = 8
    grpo_generations: int = 8
    grpo_lr: float = 1e-4
    dpo_epochs: float = 1.0
    dpo_beta: float = 0.1
    dpo_lr: float = 1e-4
    batch_size: int = 32
    eval_temperature: float = 1.0
    eval_samples: int = 4  # sampled episodes per held-out maze (the s.e. is over mazes)

    @classmethod
    def for_model(cls, model: str, **overrides: Any) -> PipelineConfig:
        """Settings for a real (pre-trained, 0.5B-7B) causal LM: learning rates of fine-tuning,
        not of a model trained from scratch, and smaller batches. Meant for a GPU
        (``device="cuda"``); every other field as in the defaults."""
        settings: dict[str, Any] = {
            "model": model, "sft_lr": 1e-5, "rm_lr": 1e-5, "ppo_lr": 1e-6, "grpo_lr": 1e-6, "dpo_lr": 5e-7,
            "sft_epochs": 1.0, "rm_epochs": 1.0, "dpo_epochs": 1.0, "batch_size": 8,
        }  # fmt: skip
        settings.update(overrides)
        return cls(**settings)

    @classmethod
    def quick(cls, **overrides: Any) -> PipelineConfig:
        """The same pipeline, small enough for tests (tens of seconds)."""
        settings: dict[str, Any] = {
            "n_train": 800, "n_heldout": 100, "hidden_size": 64, "sft_epochs": 4.0, "rm_mazes": 200,
            "rm_heldout_mazes": 60, "rm_epochs": 2.0, "ppo_steps": 8, "ppo_episodes": 16, "grpo_steps": 8,
            "grpo_prompts": 2, "dpo_epochs": 1.0, "ppo_lr": 2e-4, "grpo_lr": 1e-4,
        }  # fmt: skip
        settings.update(overrides)
        return cls(**settings)


@dataclass
class StageResult:
    """One row of the table: a stage's held-out figures, its wall time and where its model is."""

    stage: str
    mean: float
    se: float
    fraction: float
    success: float
    wall_s: float
    path: str | None = None
    greedy_mean: float | None = None


@dataclass
class PipelineResult:
    """Everything a run measured (also written as ``results.json``)."""

    config: dict[str, Any]
    references: dict[str, float]
    stages: list[StageResult] = field(default_factory=list)
    rm_accuracy_train: float = float("nan")
    rm_accuracy_heldout: float = float("nan")
    pairs: dict[str, int] = field(default_factory=dict)
    hacking: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    disagreements: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0
    plot: str | None = None

    def stage(self, name: str) -> StageResult:
        return next(s for s in self.stages if s.stage == name)

    def table(self) -> str:
        """The Markdown table: stage x held-out mean return ± s.e., fraction of optimum, wall time."""
        lines = [
            "| stage | held-out mean return ± s.e. | fraction of optimum | reached goal | wall time |",
            "|---|---|---|---|---|",
            f"| uniform policy (exact) | {self.references['uniform']:.2f} | "
            f"{self.references['uniform'] / self.references['optimum']:.0%} | — | — |",
        ]
        for s in self.stages:
            lines.append(f"| {s.stage} | {s.mean:.2f} ± {s.se:.2f} | {s.fraction:.0%} | {s.success:.0%} | {s.wall_s:.0f} s |")
        lines.append(f"| optimum (exact) | {self.references['optimum']:.2f} | 100% | 100% | — |")
        return "\n".join(lines)

    def targets(self) -> dict[str, bool]:
        """The issue's targets, each measured: SFT clearly above uniform (by more than 2 s.e.),
        every RL variant above SFT, the best stage at >= 70 % of the optimum, the reward model's
        held-out pairwise accuracy >= 90 %."""
        sft = self.stage("SFT")
        rl = [s for s in self.stages if s.stage not in ("base", "SFT")]
        return {
            "SFT clearly above uniform": sft.mean - 2 * sft.se > self.references["uniform"],
            "every RL variant above SFT": bool(rl) and all(s.mean > sft.mean for s in rl),
            "best >= 70% of optimum": max(s.fraction for s in self.stages) >= 0.7,
            "reward model >= 90% on held-out pairs": self.rm_accuracy_heldout >= 0.9,
        }

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "targets": self.targets()}


def _machine() -> dict[str, Any]:
    import platform

    return {"cpus": os.cpu_count(), "load_avg": list(os.getloadavg()), "platform": platform.platform(),
            "python": platform.python_version()}


def _device(config: PipelineConfig) -> str:
    if config.device != "auto":
        return config.device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class PipelineRun:
    """One pipeline run: the split, the prompts, the output folder, and a result filled stage by stage."""

    def __init__(self, config: PipelineConfig, log: Any):
        self.config = config
        self.log = log
        self.out = Path(config.output_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.device = _device(config)
        self.split = split_mazes(config.rows, config.cols, config.n_train, config.n_heldout, config.seed)
        self.env_kwargs = self.split.env_kwargs
        self.prompts = [observation(p, self.env_kwargs) for p in self.split.train]
        refs = references(self.split.heldout, self.env_kwargs)
        self.result = PipelineResult(config=_jsonable(asdict(config)), references=refs, machine=_machine())
        self.settings = stages.TrainerSettings(seed=config.seed, use_cpu=self.device == "cpu", batch_size=config.batch_size)
        self.started = time.perf_counter()
        log(f"{len(self.split.train)} training mazes, {len(self.split.heldout)} held-out mazes "
            f"({config.rows}x{config.cols}; disjoint seeds and layouts, {self.split.dropped_duplicates} training draws "
            f"dropped for sharing a held-out layout); exact references on the held-out mazes: uniform policy "
            f"{refs['uniform']:.2f}, optimum {refs['optimum']:.2f}")

    def evaluate(self, name: str, model: Any, tokenizer: Any, wall: float, path: Path | None) -> Evaluation:
        config = self.config
        ev = evaluate(model, tokenizer, self.split.heldout, self.env_kwargs, seed=config.seed + 7,
                      temperature=config.eval_temperature, samples=config.eval_samples)
        greedy = evaluate(model, tokenizer, self.split.heldout, self.env_kwargs, seed=config.seed + 7, temperature=0.05)
        row = StageResult(name, ev.mean, ev.se, ev.fraction, ev.success, wall, str(path) if path else None, greedy.mean)
        self.result.stages.append(row)
        self.log(f"{name:>14}: held-out {ev.mean:.2f} ± {ev.se:.2f} ({ev.fraction:.0%} of optimum; "
                 f"near-greedy {greedy.mean:.2f}), {wall:.0f} s")
        return ev


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in data.items()}


def base_stage(run: PipelineRun) -> tuple[Any, Any]:
    """Stage 1: the tiny model (tokenizer trained on training-maze prompts) or a local model."""
    from thinkgym.agents.tiny import TinyConfig, build_tiny

    config = run.config
    started = time.perf_counter()
    if config.model == "tiny":
        tiny = TinyConfig(hidden_size=config.hidden_size, intermediate_size=2 * config.hidden_size,
                          num_hidden_layers=config.layers, seed=config.seed)
        model, tokenizer = build_tiny(tiny, corpus=run.prompts[:512])
    else:
        model, tokenizer = stages.load_policy(Path(config.model), run.device)
    model.to(run.device)
    if config.pretrain_steps:
        stages.pretrain(model, tokenizer, run.prompts, config.pretrain_steps, run.settings, run.out / "trainer-base")
    path = stages.save(model, tokenizer, run.out / "base")
    run.evaluate("base", model, tokenizer, time.perf_counter() - started, path)
    return model, tokenizer


def sft_stage(run: PipelineRun, model: Any, tokenizer: Any) -> Path:
    """Stage 2: SFT on one oracle demonstration per training maze."""
    started = time.perf_counter()
    completions = [oracle_completion(p) for p in run.split.train]
    log = stages.supervised_finetune(model, tokenizer, run.prompts, completions, run.config.sft_epochs,
                                     run.settings, run.out / "trainer-sft", run.config.sft_lr)
    run.result.curves["sft"] = [{"step": e["step"], "loss": e["loss"]} for e in log if "loss" in e]
    path = stages.save(model, tokenizer, run.out / "sft")
    run.evaluate("SFT", model, tokenizer, time.perf_counter() - started, path)
    return path


def reward_model_stage(run: PipelineRun, sft_path: Path) -> tuple[Any, stages.Preferences]:
    """Stage 3: the SFT model's samples, ranked by the env's verifier (the stand-in for a human
    labeler), train a reward model; its pairwise accuracy is measured on held-out mazes' pairs."""
    config = run.config
    started = time.perf_counter()
    model, tokenizer = stages.load_policy(sft_path, run.device)
    train_prefs = stages.sample_preferences(model, tokenizer, run.split.train[: config.rm_mazes], run.env_kwargs,
                                            config.rm_samples, seed=config.seed + 1)
    held_prefs = stages.sample_preferences(model, tokenizer, run.split.heldout[: config.rm_heldout_mazes],
                                           run.env_kwargs, config.rm_samples, seed=config.seed + 2)
    if not len(train_prefs):
        raise RuntimeError("the SFT model's samples all tie: no preference pair to train a reward model on")
    rm, log = stages.train_reward_model(sft_path, tokenizer, train_prefs, config.rm_epochs, run.settings,
                                        run.out / "trainer-rm", config.rm_lr, run.device)
    run.result.curves["reward_model"] = [{"step": e["step"], "loss": e["loss"]} for e in log if "loss" in e]
    stages.save(rm, tokenizer, run.out / "reward_model")
    scorer = stages.reward_scorer(rm, tokenizer, run.device)
    run.result.rm_accuracy_train = stages.pairwise_accuracy(scorer, tokenizer, train_prefs)
    run.result.rm_accuracy_heldout = stages.pairwise_accuracy(scorer, tokenizer, held_prefs)
    run.result.pairs = {"train": len(train_prefs), "heldout": len(held_prefs),
                        "train_tied_mazes": train_prefs.tied_prompts, "heldout_tied_mazes": held_prefs.tied_prompts}
    run.log(f"  reward model: pairwise accuracy {run.result.rm_accuracy_heldout:.1%} on {len(held_prefs)} held-out "
            f"pairs ({run.result.rm_accuracy_train:.1%} on its {len(train_prefs)} training pairs); the labels come "
            f"from the env's verifier, standing in for the human labeler; {time.perf_counter() - started:.0f} s")
    return scorer, train_prefs


def ppo_stage(run: PipelineRun, sft_path: Path, scorer: Any, beta: float) -> None:
    """Stage 4a: our PPO against the reward model, KL penalty ``beta`` to the SFT model."""
    config = run.config
    name = f"PPO (beta={beta:g})"
    started = time.perf_counter()
    model, tokenizer = stages.load_policy(sft_path, run.device)

    def score(prompt: str, moves: str) -> float:
        return stages.rm_scores(scorer, tokenizer, [prompt], [moves])[0]

    history, hacking = stages.ppo_against_reward_model(
        model, tokenizer, run.split.train, run.env_kwargs, score, beta=beta, steps=config.ppo_steps,
        episodes=config.ppo_episodes, learning_rate=config.ppo_lr, seed=config.seed,
    )
    run.result.hacking[name] = hacking.steps
    run.result.curves[name] = [{"step": h["step"], "rm_reward": h["rm_reward"], "true_reward": h["true_reward"],
                                "kl": h["kl"]} for h in history]
    path = stages.save(model, tokenizer, run.out / f"ppo_beta{beta:g}")
    ev = run.evaluate(name, model, tokenizer, time.perf_counter() - started, path)
    _disagreements(run, name, scorer, tokenizer, ev)


def _disagreements(run: PipelineRun, name: str, scorer: Any, tokenizer: Any, ev: Evaluation) -> None:
    """Held-out episodes where the reward model and the env disagree, with a few examples."""
    per_maze = len(ev.episodes) // len(run.split.heldout)
    problems = [p for p in run.split.heldout for _ in range(per_maze)]
    texts = {p.id: observation(p, run.env_kwargs) for p in run.split.heldout}
    prompts = [texts[p.id] for p in problems]
    moves = ["".join(e.actions) for e in ev.episodes]
    scores = stages.rm_scores(scorer, tokenizer, prompts, moves)
    rows = [(p.id, m, s, e.score) for p, m, s, e in zip(problems, moves, scores, ev.episodes, strict=True)]
    false_pos = [r for r in rows if r[2] >= 5.0 and r[3] < 10.0]
    false_neg = [r for r in rows if r[2] < 5.0 and r[3] >= 10.0]
    run.result.disagreements[name] = {
        "rm_says_goal_env_not": len(false_pos) / len(rows),
        "env_says_goal_rm_not": len(false_neg) / len(rows),
        "examples": [{"problem_id": r[0], "moves": r[1], "rm_score": r[2], "true_return": r[3]}
                     for r in sorted({(r[0], r[1]): r for r in false_pos}.values(), key=lambda r: -r[2])[:3]],
    }
    run.log(f"  {name}: on held-out episodes the reward model says 'goal' where the env says no in "
            f"{len(false_pos) / len(rows):.0%}, and the reverse in {len(false_neg) / len(rows):.0%}")


def grpo_stage(run: PipelineRun, sft_path: Path) -> None:
    """Stage 4b: GRPO on the env's verifiable reward."""
    config = run.config
    started = time.perf_counter()
    model, tokenizer = stages.load_policy(sft_path, run.device)
    curve = stages.grpo_on_verifiable_reward(
        model, tokenizer, run.split.train, run.env_kwargs, run.out / "grpo", steps=config.grpo_steps,
        prompts_per_step=config.grpo_prompts, num_generations=config.grpo_generations,
        learning_rate=config.grpo_lr, seed=config.seed,
    )
    run.result.curves["GRPO"] = [{"step": r["step"], "true_reward": r["reward"]} for r in curve]
    run.evaluate("GRPO", model, tokenizer, time.perf_counter() - started, run.out / "grpo" / "final")


def dpo_stage(run: PipelineRun, sft_path: Path, prefs: stages.Preferences) -> None:
    """Stage 4c: DPO on the reward model's training pairs."""
    config = run.config
    started = time.perf_counter()
    model, tokenizer = stages.load_policy(sft_path, run.device)
    log = stages.dpo(model, tokenizer, prefs, config.dpo_epochs, run.settings, run.out / "trainer-dpo",
                     beta=config.dpo_beta, learning_rate=config.dpo_lr)
    run.result.curves["DPO"] = [{"step": e["step"], "loss": e["loss"]} for e in log if "loss" in e]
    path = stages.save(model, tokenizer, run.out / "dpo")
    run.evaluate("DPO", model, tokenizer, time.perf_counter() - started, path)


@contextmanager
def training_session(config: PipelineConfig) -> Iterator[None]:
    """Quiet progress bars and known deprecation noise; 1 torch thread for the tiny model (its
    ops are too small to gain from threads); everything restored afterwards."""
    import torch
    from datasets.utils.logging import disable_progress_bar, enable_progress_bar
    from transformers.utils import logging as hf_logging

    previous = torch.get_num_threads()
    torch.set_num_threads(config.threads or (1 if config.model == "tiny" else previous))
    disable_progress_bar()
    hf_logging.disable_progress_bar()
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    with warnings.catch_warnings():
        # transformers 5 renamed gradient checkpointing; TRL 1.16 still uses the old name (noise, not news)
        warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*", category=FutureWarning)
        try:
            yield
        finally:
            torch.set_num_threads(previous)
            hf_logging.set_verbosity(verbosity)
            hf_logging.enable_progress_bar()
            enable_progress_bar()


def finish(run: PipelineRun) -> PipelineResult:
    """Write ``results.json``, ``results.md`` and ``curves.png`` and return the result."""
    from thinkgym.agents.pipeline.report import plot_pipeline

    result = run.result
    result.wall_s = time.perf_counter() - run.started
    result.machine["load_avg_end"] = list(os.getloadavg())
    result.plot = str(plot_pipeline(result, run.out / "curves.png"))
    (run.out / "results.json").write_text(json.dumps(result.to_json(), indent=1, default=str))
    (run.out / "results.md").write_text(result.table() + "\n")
    return result


def run_pipeline(config: PipelineConfig | None = None, *, log: Any = print) -> PipelineResult:
    """Run every stage, write ``results.json``, ``results.md`` and ``curves.png`` under
    ``config.output_dir`` (each stage's model in its own folder) and return the figures.
    ``examples/maze_pipeline.py`` is the same sequence, commented step by step."""
    config = config or PipelineConfig()
    with training_session(config):
        run = PipelineRun(config, log)
        model, tokenizer = base_stage(run)
        sft_path = sft_stage(run, model, tokenizer)
        scorer, prefs = reward_model_stage(run, sft_path)
        ppo_stage(run, sft_path, scorer, config.ppo_beta)
        if config.ppo_beta0 and config.ppo_beta != 0:
            ppo_stage(run, sft_path, scorer, 0.0)
        grpo_stage(run, sft_path)
        dpo_stage(run, sft_path, prefs)
        return finish(run)


def with_overrides(config: PipelineConfig, **overrides: Any) -> PipelineConfig:
    """``config`` with the given fields replaced (None values are ignored)."""
    return replace(config, **{k: v for k, v in overrides.items() if v is not None})
