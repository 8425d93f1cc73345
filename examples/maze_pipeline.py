"""The seeds' four-step pipeline on mazes the model has never seen, top to bottom.

    python examples/maze_pipeline.py                # the documented CPU run (a few minutes)
    python examples/maze_pipeline.py --quick        # a smaller run
    python examples/maze_pipeline.py --model PATH --device cuda   # a real model, same code path

A tiny transformer (built here; no download) learns to walk procedural 3x3 mazes
(`thinkgym/Maze-v0`, ``layout="random"``): it reads the maze drawing and writes one move per token
(sampling restricted to the moves the walls permit, so an untrained policy *is* the env's uniform
policy). Each step calls one stage of `thinkgym.agents.pipeline` — the logic lives there once;
this file is the recipe. ``thinkgym pipeline`` runs the same sequence.
"""

from __future__ import annotations

import argparse

from thinkgym.agents.pipeline.run import (
    PipelineConfig,
    PipelineRun,
    base_stage,
    dpo_stage,
    finish,
    grpo_stage,
    ppo_stage,
    reward_model_stage,
    sft_stage,
    training_session,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run (fewer mazes and steps)")
    parser.add_argument("--model", default="tiny", help="'tiny' or a local causal-LM folder")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--out", default="runs/maze_pipeline", help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    settings = {"output_dir": args.out, "device": args.device, "seed": args.seed}
    if args.quick:
        config = PipelineConfig.quick(model=args.model, **settings)
    elif args.model == "tiny":
        config = PipelineConfig(**settings)
    else:  # a real model: fine-tuning learning rates, smaller batches (run it on a GPU)
        config = PipelineConfig.for_model(args.model, **settings)

    with training_session(config):
        # 0. Mazes. Training mazes come from the env's "train" split, held-out mazes from its
        #    "test" split; a training maze with a held-out layout is dropped (asserted). Every
        #    figure below is measured on the held-out mazes, against the env's exact references:
        #    the uniform policy's expected return and the optimum (dynamic programming).
        run = PipelineRun(config, print)

        # 1. Base model: the tiny Qwen2-architecture model, its BPE tokenizer trained on the
        #    training prompts (optionally next-token pre-trained on them: --pretrain-steps).
        model, tokenizer = base_stage(run)

        # 2. SFT: one oracle demonstration (a shortest path) per training maze, TRL SFTTrainer,
        #    loss on the moves only.
        sft_path = sft_stage(run, model, tokenizer)

        # 3. Reward model: the SFT model samples several walks per maze; the env's verifier ranks
        #    them (it stands in for the human labeler of RLHF); (better, worse) pairs train a
        #    sequence-classification head with TRL RewardTrainer. Pairwise accuracy is measured on
        #    pairs from held-out mazes.
        scorer, pairs = reward_model_stage(run, sft_path)

        # 4a. PPO (ours) against the reward model, KL penalty to the SFT model; and once more with
        #     beta = 0. Every episode's reward-model score and true return are recorded: the gap
        #     between them, step by step, is how reward hacking shows.
        ppo_stage(run, sft_path, scorer, config.ppo_beta)
        ppo_stage(run, sft_path, scorer, 0.0)

        # 4b. GRPO on the verifiable reward (the env's own score; no value model, no reward model).
        grpo_stage(run, sft_path)

        # 4c. DPO on the same preference pairs the reward model learned from (no RL loop at all).
        dpo_stage(run, sft_path, pairs)

        result = finish(run)

    print(result.table())
    for target, met in result.targets().items():
        print(f"  {'met' if met else 'NOT met'}: {target}")
    print(f"plot: {result.plot}")
    return result.to_json()


if __name__ == "__main__":
    main()
