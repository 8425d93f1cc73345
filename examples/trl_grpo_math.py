"""GRPO with TRL on a real model: Qwen2.5-Math-1.5B on thinkgym/Math-v0 (GPUs; downloads the model).

The thinkgym part is two lines — a dataset of problems and the env's own score as TRL's reward
(``math_score``: 0.9·accuracy + 0.1·format, as the env scores; each component is logged as
``thinkgym/math/<component>``)::

    train_dataset = to_dataset("thinkgym/Math-v0", n=..., seed=0, conversational=True)
    reward_funcs = reward_funcs("thinkgym/Math-v0")

To weigh the components yourself: ``reward_funcs(..., score=False)`` (one function per component)
and ``GRPOConfig(reward_weights=[...])`` in the order of those functions.

Single GPU (generation inside the trainer)::

    python examples/trl_grpo_math.py --output-dir runs/qwen-math-grpo

Several GPUs, generation on a vLLM server (TRL's recommended set-up)::

    CUDA_VISIBLE_DEVICES=0 trl vllm-serve --model Qwen/Qwen2.5-Math-1.5B &
    CUDA_VISIBLE_DEVICES=1,2,3 accelerate launch examples/trl_grpo_math.py --use-vllm

Verification runs in thinkgym's bounded verifier processes, so a pathological answer (a power
tower, a huge factorial) costs at most the verifier's time limit and never stalls the trainer.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="GRPO with TRL on thinkgym/Math-v0 (real model, GPUs).")
    parser.add_argument("--model", default="Qwen/Qwen2.5-Math-1.5B", help="model id or local folder")
    parser.add_argument("--env", default="thinkgym/Math-v0", help="thinkgym env id (single-turn)")
    parser.add_argument("--n-problems", type=int, default=7500)
    parser.add_argument("--output-dir", default="runs/qwen-math-grpo")
    parser.add_argument("--num-generations", type=int, default=8)
    parser.add_argument("--per-device-batch", type=int, default=16, help="completions per device per step")
    parser.add_argument("--max-completion-length", type=int, default=1024)
    parser.add_argument("--learning-rate", type=float, default=1e-6)
    parser.add_argument("--beta", type=float, default=0.0, help="KL coefficient (0: no reference model)")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--max-steps", type=int, default=500)
    parser.add_argument("--use-vllm", action="store_true", help="generate on a `trl vllm-serve` server")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    from trl import GRPOConfig, GRPOTrainer

    from thinkgym.agents.trl import reward_funcs, to_dataset

    train_dataset = to_dataset(args.env, n=args.n_problems, seed=args.seed, conversational=True)
    config = GRPOConfig(
        output_dir=args.output_dir,
        num_generations=args.num_generations,
        per_device_train_batch_size=args.per_device_batch,
        max_completion_length=args.max_completion_length,
        learning_rate=args.learning_rate,
        beta=args.beta,
        temperature=args.temperature,
        max_steps=args.max_steps,
        use_vllm=args.use_vllm,
        vllm_mode="server",
        logging_steps=1,
        save_steps=100,
        bf16=True,
        gradient_checkpointing=True,
        seed=args.seed,
    )
    trainer = GRPOTrainer(
        model=args.model,
        reward_funcs=reward_funcs(args.env),
        train_dataset=train_dataset,
        args=config,
    )
    trainer.train()
    trainer.save_model(args.output_dir)


if __name__ == "__main__":
    main()
