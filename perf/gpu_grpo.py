"""GRPO step anatomy on one GPU: how much of a step thinkgym (env + verifiers) costs.

A randomly initialised Qwen2-architecture model of a few hundred million parameters (built from a
config, no download; its tokenizer is a BPE trained here on the env's prompts) trains with TRL's
GRPOTrainer on ``thinkgym/Math-v0`` through thinkgym's adapters. Reported: generated tokens per
second, mean step time, and the share of step time spent inside thinkgym's reward functions
(which run the env's verifiers). Target: < 2 %. An untrained model writes nonsense of full length —
the worst case for generation time and a fair case for verifiers (they must reject it all).

    python perf/gpu_grpo.py                     # on a GPU: ~400M parameters, 10 timed steps
    python perf/gpu_grpo.py --smoke             # anywhere: tiny model, CPU, 2 steps (checks the script)

CI never runs the full size (it has no GPU); the smoke mode is run by the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

SIZES = {
    # name: (hidden, intermediate, layers, heads, kv_heads)
    "mid": (1024, 2816, 24, 16, 4),  # about 330M parameters with an 8k vocabulary
    "tiny": (64, 128, 2, 4, 2),
}


def _timed(func: Callable[..., Any], totals: dict[str, float]) -> Callable[..., Any]:
    """Wrap a TRL reward function, adding its wall time to ``totals["thinkgym"]``; keeps its name."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            totals["thinkgym"] += time.perf_counter() - start

    wrapper.__name__ = func.__name__
    return wrapper


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--env", default="thinkgym/Math-v0")
    parser.add_argument("--size", choices=sorted(SIZES), default="mid")
    parser.add_argument("--steps", type=int, default=12, help="steps run; the first two are warm-up, not timed")
    parser.add_argument("--num-generations", type=int, default=8)
    parser.add_argument("--prompts-per-step", type=int, default=8)
    parser.add_argument("--max-completion-length", type=int, default=512)
    parser.add_argument("--vocab-size", type=int, default=8192)
    parser.add_argument("--smoke", action="store_true", help="tiny model on CPU, 3 steps, short completions")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.smoke:
        args.size, args.steps, args.num_generations, args.prompts_per_step = "tiny", 3, 4, 1
        args.max_completion_length, args.vocab_size = 16, 512

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from thinkgym.agents.tiny import build_tokenizer, env_corpus
    from thinkgym.agents.trl import reward_funcs, to_dataset

    cuda = torch.cuda.is_available() and not args.smoke
    tokenizer = build_tokenizer(corpus=env_corpus(args.env, 256), vocab_size=args.vocab_size)
    hidden, intermediate, layers, heads, kv_heads = SIZES[args.size]
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=kv_heads, max_position_embeddings=4096,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False,
    )  # fmt: skip
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16 if cuda else torch.float32)
    params = sum(p.numel() for p in model.parameters())

    totals = {"thinkgym": 0.0}
    funcs = [_timed(f, totals) for f in reward_funcs(args.env)]
    batch = args.num_generations * args.prompts_per_step
    dataset = to_dataset(args.env, n=max(64, args.steps * args.prompts_per_step), seed=0, repeat=True)  # cycles a small env

    class StepClock(TrainerCallback):
        def __init__(self) -> None:
            self.rows: list[dict[str, float]] = []
            self._start = 0.0
            self._thinkgym = 0.0

        def on_step_begin(self, *a: Any, **k: Any) -> None:
            if cuda:
                torch.cuda.synchronize()
            self._start, self._thinkgym = time.perf_counter(), totals["thinkgym"]

        def on_step_end(self, *a: Any, **k: Any) -> None:
            if cuda:
                torch.cuda.synchronize()
            self.rows.append({"step_s": time.perf_counter() - self._start, "thinkgym_s": totals["thinkgym"] - self._thinkgym})

        def on_log(self, args_: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **k: Any) -> None:
            if logs and "completions/mean_length" in logs and self.rows:
                self.rows[-1]["tokens"] = float(logs["completions/mean_length"]) * batch

    clock = StepClock()
    trainer = GRPOTrainer(
        model=model,
        processing_class=tokenizer,
        reward_funcs=funcs,
        train_dataset=dataset,
        callbacks=[clock],
        args=GRPOConfig(
            output_dir="/tmp/thinkgym-gpu-grpo", per_device_train_batch_size=batch, num_generations=args.num_generations,
            max_completion_length=args.max_completion_length, max_steps=args.steps, learning_rate=1e-6, beta=0.0,
            logging_steps=1, report_to=[], save_strategy="no", disable_tqdm=True, bf16=cuda, use_cpu=not cuda,
            gradient_checkpointing=cuda, seed=0,
        ),  # fmt: skip
    )
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    trainer.train()
    timed = clock.rows[2:] if len(clock.rows) > 2 else clock.rows
    step_s = statistics.mean(r["step_s"] for r in timed)
    thinkgym_s = statistics.mean(r["thinkgym_s"] for r in timed)
    tokens = statistics.mean(r.get("tokens", 0.0) for r in timed)
    figures = {
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "env": args.env,
        "parameters_M": round(params / 1e6, 1),
        "completions_per_step": batch,
        "max_completion_length": args.max_completion_length,
        "timed_steps": len(timed),
        "step_s": round(step_s, 4),
        "generated_tokens_per_s": round(tokens / step_s, 1),
        "thinkgym_s_per_step": round(thinkgym_s, 5),
        "thinkgym_share_pct": round(100.0 * thinkgym_s / step_s, 3),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2)
    return figures


if __name__ == "__main__":
    main()
