"""The four stages of the pipeline, each a function from a model (or a folder) to a trained one.

1. `pretrain` — brief next-token training on the env's own text (optional).
2. `supervised_finetune` — TRL ``SFTTrainer`` on oracle demonstrations (prompt → optimal moves).
3. `sample_preferences` + `train_reward_model` — the SFT model's own samples ranked by the env's
   verifier (which stands in for the human labeler of RLHF), TRL ``RewardTrainer`` on the pairs.
4. `ppo_against_reward_model` (ours, KL penalty to the SFT model), `grpo_on_verifiable_reward`
   (the project's GRPO: `thinkgym.agents.train` over TRL) and `dpo` (TRL ``DPOTrainer``).

Every stage plays the maze in one setting: the prompt is the env's first observation, each
generated token is one move, sampling is restricted to the permitted moves (so the untrained
policy is the env's uniform policy and the exact references apply). Nothing here names a maze
size: `thinkgym.agents.pipeline.run` picks them.
"""

from __future__ import annotations

import os
import random
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from thinkgym.core import Problem

__all__ = [
    "TrainerSettings",
    "Preferences",
    "pretrain",
    "supervised_finetune",
    "sample_preferences",
    "train_reward_model",
    "pairwise_accuracy",
    "reward_scorer",
    "ppo_against_reward_model",
    "grpo_on_verifiable_reward",
    "dpo",
    "load_policy",
    "rm_scores",
    "save",
]

#: Separator between prompt and moves in the reward model's input: what
#: `thinkgym.verifiers.reward_model.RewardModelVerifier` (``input_format="concat"``) puts there.
RM_SEPARATOR = "\n\n"


@dataclass
class TrainerSettings:
    """What every TRL trainer of the pipeline shares (device, precision, logging, seed)."""

    seed: int = 0
    use_cpu: bool = True
    bf16: bool = False
    batch_size: int = 32

    def common(self, output_dir: Path) -> dict[str, Any]:
        return {
            "output_dir": str(output_dir),
            "per_device_train_batch_size": self.batch_size,
            "logging_steps": 5,
            "report_to": [],
            "seed": self.seed,
            "disable_tqdm": True,
            "save_strategy": "no",
            "use_cpu": self.use_cpu,
            "bf16": self.bf16,
            "dataloader_num_workers": 0,
            "lr_scheduler_type": "cosine",
            "warmup_steps": 0,
        }


def _quiet() -> warnings.catch_warnings:
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    quiet = warnings.catch_warnings()
    quiet.__enter__()
    for message in (".*gradient_checkpointing.*", ".*is_gradient_checkpointing.*", ".*padding-free.*", ".*max_length.*"):
        warnings.filterwarnings("ignore", message=message)
    return quiet


def _train(trainer: Any) -> list[dict[str, float]]:
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    quiet = _quiet()
    try:
        trainer.train()
    finally:
        quiet.__exit__(None, None, None)
    return [dict(e) for e in trainer.state.log_history]


def save(model: Any, tokenizer: Any, path: Path) -> Path:
    """Write ``model`` and ``tokenizer`` where ``from_pretrained`` reads them back."""
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def load_policy(path: Path, device: str = "cpu") -> tuple[Any, Any]:
    """A fresh copy of a saved stage (every RL variant starts from its own copy of the SFT model)."""
    from transformers import AutoModelForCausalLM

    from thinkgym.tokenizers import load_tokenizer

    model = AutoModelForCausalLM.from_pretrained(str(path)).to(device)
    tokenizer = load_tokenizer(path)  # as saved (AutoTokenizer would re-split the tiny model's text)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


# --------------------------------------------------------------------------------------------
# 1. Base: next-token pre-training on the env's text
# --------------------------------------------------------------------------------------------


def pretrain(model: Any, tokenizer: Any, texts: Sequence[str], steps: int, settings: TrainerSettings,
             output_dir: Path, learning_rate: float = 2e-3) -> list[dict[str, float]]:
    """Next-token prediction on ``texts`` (observations of the training mazes) for ``steps`` steps:
    the model learns what a maze drawing looks like before it is asked to act on one."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(**settings.common(output_dir), max_steps=steps, learning_rate=learning_rate, max_length=512)
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_dict({"text": list(texts)}),
                         processing_class=tokenizer)
    return _train(trainer)


# --------------------------------------------------------------------------------------------
# 2. SFT on oracle demonstrations
# --------------------------------------------------------------------------------------------


def supervised_finetune(model: Any, tokenizer: Any, prompts: Sequence[str], completions: Sequence[str],
                        epochs: float, settings: TrainerSettings, output_dir: Path,
                        learning_rate: float = 2e-3) -> list[dict[str, float]]:
    """TRL ``SFTTrainer`` on (prompt, oracle moves) pairs; the loss is on the moves only."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(**settings.common(output_dir), num_train_epochs=epochs, learning_rate=learning_rate,
                     max_length=512, completion_only_loss=True)
    data = Dataset.from_dict({"prompt": list(prompts), "completion": list(completions)})
    trainer = SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
    return _train(trainer)


# --------------------------------------------------------------------------------------------
# 3. Reward model from ranked samples
# --------------------------------------------------------------------------------------------


@dataclass
class Preferences:
    """Preference pairs (the moves of a better and a worse episode of one prompt), with the true
    returns that ranked them, and how many prompts gave no pair (all samples tied)."""

    prompts: list[str] = field(default_factory=list)
    chosen: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    score_chosen: list[float] = field(default_factory=list)
    score_rejected: list[float] = field(default_factory=list)
    tied_prompts: int = 0

    def __len__(self) -> int:
        return len(self.prompts)

    def dataset(self, separator: str = "") -> Any:
        """A TRL preference dataset (``prompt``/``chosen``/``rejected``); ``separator`` ends each prompt."""
        from datasets import Dataset

        return Dataset.from_dict({
            "prompt": [p + separator for p in self.prompts], "chosen": self.chosen, "rejected": self.rejected,
        })


def sample_preferences(model: Any, tokenizer: Any, problems: Sequence[Problem], env_kwargs: dict[str, Any],
                       samples: int, *, seed: int = 0, pairs_per_prompt: int = 2) -> Preferences:
    """``samples`` episodes per maze from ``model``; each is ranked by its true return (the env's
    verifier is the labeler). Up to ``pairs_per_prompt`` (better, worse) pairs per maze, the
    shortest successes against the failures; mazes whose samples all tie give none."""
    from thinkgym.agents.pipeline.data import evaluate

    played = evaluate(model, tokenizer, problems, env_kwargs, seed=seed, samples=samples).episodes
    rng = random.Random(seed)
    prefs = Preferences()
    for i, problem in enumerate(problems):
        group = played[i * samples : (i + 1) * samples]
        distinct = {"".join(e.actions): e.score for e in group}
        ranked = sorted(distinct.items(), key=lambda kv: (-kv[1], len(kv[0])))
        better = [kv for kv in ranked if kv[1] == ranked[0][1]]
        worse = [kv for kv in ranked if kv[1] < ranked[0][1]]
        if not worse:
            prefs.tied_prompts += 1
            continue
        prompt = _prompt(problem, env_kwargs)
        rng.shuffle(worse)
        for k in range(min(pairs_per_prompt, len(worse))):
            good = better[k % len(better)]
            prefs.prompts.append(prompt)
            prefs.chosen.append(good[0])
            prefs.rejected.append(worse[k][0])
            prefs.score_chosen.append(good[1])
            prefs.score_rejected.append(worse[k][1])
    return prefs


def _prompt(problem: Problem, env_kwargs: dict[str, Any]) -> str:
    from thinkgym.agents.pipeline.data import observation

    return observation(problem, env_kwargs)


def train_reward_model(sft_path: Path, tokenizer: Any, prefs: Preferences, epochs: float,
                       settings: TrainerSettings, output_dir: Path, learning_rate: float = 1e-3,
                       device: str = "cpu") -> tuple[Any, list[dict[str, float]]]:
    """TRL ``RewardTrainer``: the SFT model with a sequence-classification head (one logit),
    Bradley-Terry loss on the pairs (rewards centred so ``sigmoid(logit)`` reads as a probability)."""
    from transformers import AutoModelForSequenceClassification
    from trl import RewardConfig, RewardTrainer

    model = AutoModelForSequenceClassification.from_pretrained(str(sft_path), num_labels=1).to(device)
    model.config.pad_token_id = tokenizer.pad_token_id
    args = RewardConfig(**settings.common(output_dir), num_train_epochs=epochs, learning_rate=learning_rate,
                        max_length=512, center_rewards_coefficient=0.01)
    trainer = RewardTrainer(model=model, args=args, train_dataset=prefs.dataset(RM_SEPARATOR),
                            processing_class=tokenizer)
    log = _train(trainer)
    model.eval()
    return model, log


def reward_scorer(model: Any, tokenizer: Any, device: str = "cpu") -> Any:
    """The trained reward model as a `RewardModelVerifier` whose input is exactly the text the
    ``RewardTrainer`` saw: prompt, `RM_SEPARATOR`, moves, EOS. Its score is
    ``10 * sigmoid(logit)``, on the scale of the env's reward (10 at the goal)."""
    from thinkgym.verifiers.reward_model import RewardModelVerifier

    return RewardModelVerifier(model, tokenizer, device=device, batch_size=64, input_format="concat",
                               sigmoid=True, scale=10.0)


def rm_scores(verifier: Any, tokenizer: Any, prompts: Sequence[str], moves: Sequence[str]) -> list[float]:
    """Reward-model scores (0..10) of (prompt, moves) pairs, as the ``RewardTrainer`` formatted them."""
    return verifier.score_texts(list(prompts), [m + tokenizer.eos_token for m in moves])


def pairwise_accuracy(verifier: Any, tokenizer: Any, prefs: Preferences) -> float:
    """Fraction of pairs whose chosen moves the reward model scores above the rejected ones."""
    if not len(prefs):
        return float("nan")
    chosen = rm_scores(verifier, tokenizer, prefs.prompts, prefs.chosen)
    rejected = rm_scores(verifier, tokenizer, prefs.prompts, prefs.rejected)
    return sum(c > r for c, r in zip(chosen, rejected, strict=True)) / len(prefs)


# --------------------------------------------------------------------------------------------
# 4. RL: PPO against the reward model, GRPO on the verifiable reward, DPO on the pairs
# --------------------------------------------------------------------------------------------


@dataclass
class HackingLog:
    """Every PPO episode's reward-model score and true return, cut per PPO step: where the two
    disagree (the reward model says "reached the goal", ``score >= 5``, and the env says no, or
    the other way round) and how far apart their means are."""

    pending: list[tuple[float, float]] = field(default_factory=list)
    steps: list[dict[str, float]] = field(default_factory=list)

    def record(self, rm_score: float, true_return: float) -> None:
        self.pending.append((rm_score, true_return))

    def close_step(self, step: int) -> dict[str, float]:
        rows, self.pending = self.pending, []
        n = max(1, len(rows))
        rm_mean = sum(r for r, _ in rows) / n
        true_mean = sum(t for _, t in rows) / n
        false_pos = sum(r >= 5.0 and t < 10.0 for r, t in rows) / n
        false_neg = sum(r < 5.0 and t >= 10.0 for r, t in rows) / n
        row = {"step": float(step), "rm_reward": rm_mean, "true_reward": true_mean, "gap": rm_mean - true_mean,
               "rm_says_goal_env_not": false_pos, "env_says_goal_rm_not": false_neg,
               "disagreement": false_pos + false_neg}
        self.steps.append(row)
        return row


def ppo_against_reward_model(model: Any, tokenizer: Any, pool: Sequence[Problem], env_kwargs: dict[str, Any],
                             scorer: Callable[[str, str], float], *, beta: float, steps: int, episodes: int,
                             learning_rate: float, reward_scale: float = 0.1, seed: int = 0,
                             on_step: Callable[[dict[str, Any]], None] | None = None) -> tuple[list[dict[str, Any]], HackingLog]:
    """Our PPO (`thinkgym.agents.ppo`) on the training pool, rewarded by the reward model only,
    with a KL penalty ``beta`` to the starting (SFT) model; the true return is recorded beside.

    The reward is ``reward_scale`` times the scorer's 0..10: PPO's value head shares the model's
    body, and a value loss on returns of 10 (against a head that starts at 0) swamps the policy
    gradient in that body — on this task PPO on the unscaled reward lowered the held-out return of
    the SFT model it started from. ``beta`` weighs the KL against the scaled reward."""
    from thinkgym.agents.pipeline.data import register_pool_env
    from thinkgym.agents.ppo import PPOConfig, train_ppo

    log = HackingLog()
    horizon = max(int(p.meta["maze"]["horizon"]) for p in pool)
    config = PPOConfig(
        env_id=register_pool_env(), steps=steps, episodes_per_step=episodes, learning_rate=learning_rate,
        max_completion_length=horizon, kl_beta=beta, token_actions=True, restrict_to_valid_actions=True,
        ppo_epochs=2, minibatch_size=max(1, episodes // 2), seed=seed,
        env_kwargs={**env_kwargs, "pool": tuple(pool), "scorer": scorer, "record": log.record,
                    "reward_scale": reward_scale},
    )

    def step_done(row: dict[str, Any]) -> None:
        row.update(log.close_step(int(row["step"])))
        if on_step is not None:
            on_step(row)

    history = train_ppo(config, model, tokenizer, on_step=step_done)
    return history, log


def grpo_on_verifiable_reward(model: Any, tokenizer: Any, pool: Sequence[Problem], env_kwargs: dict[str, Any],
                              output_dir: Path, *, steps: int, prompts_per_step: int, num_generations: int,
                              learning_rate: float, beta: float = 0.0, seed: int = 0) -> list[dict[str, float]]:
    """The project's GRPO (`thinkgym.agents.train`, TRL ``GRPOTrainer`` with whole-episode
    rollouts) on the env's own reward, over the training pool."""
    from thinkgym.agents.pipeline.data import register_pool_env
    from thinkgym.agents.train import TrainConfig, train

    horizon = max(int(p.meta["maze"]["horizon"]) for p in pool)
    config = TrainConfig(
        env_id=register_pool_env(), algo="grpo", model=(model, tokenizer), output_dir=output_dir, steps=steps,
        num_generations=num_generations, prompts_per_step=prompts_per_step, learning_rate=learning_rate,
        max_completion_length=horizon, beta=beta, n_problems=len(pool), seed=seed, token_actions=True,
        restrict_to_valid_actions=True, env_kwargs={**env_kwargs, "pool": tuple(pool)}, progress=False,
    )
    return train(config).curve


def dpo(model: Any, tokenizer: Any, prefs: Preferences, epochs: float, settings: TrainerSettings,
        output_dir: Path, *, beta: float = 0.1, learning_rate: float = 5e-4) -> list[dict[str, float]]:
    """TRL ``DPOTrainer`` on the reward model's pairs (the SFT model is the reference)."""
    from trl import DPOConfig, DPOTrainer

    args = DPOConfig(**settings.common(output_dir), num_train_epochs=epochs, learning_rate=learning_rate,
                     beta=beta, max_length=512)
    trainer = DPOTrainer(model=model, args=args, train_dataset=prefs.dataset(), processing_class=tokenizer)
    return _train(trainer)
