"""``thinkgym demo``: the seed example of RL, end to end, on the classic maze.

A recipe, not a layer: it names its env on purpose (`DEMO_ENV`) and composes the generic pieces,
which name none: `thinkgym.agents.returns.policy_return_table` (measured vs exact returns, from the
env's ``exact_references`` hook), `thinkgym.agents.train` (TRL GRPO) and the tiny model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from thinkgym.agents.train import TrainConfig, evaluate_token_policy, plot_reward_curve, train

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["DEMO_ENV", "return_tables", "run_demo"]

#: The env of the demo: the seed's classic 4x4 maze, multi-turn (one move per step).
DEMO_ENV = "thinkgym/Maze-v0"


def return_tables(console: Console, episodes: int, seed: int) -> None:
    """Random and oracle policies on the classic maze (and random mazes), measured vs exact."""
    from rich.table import Table

    from thinkgym.agents.returns import policy_return_table
    from thinkgym.envs.maze import action_values, classic_maze

    maze = classic_maze()
    console.rule("[bold]thinkgym demo[/]: the classic maze (S start, G goal, 6 moves)")
    console.print(maze.render(), markup=False, highlight=False)
    q = action_values(maze)
    console.print(
        f"Seed's worked example, uniform policy: above G with 1 move left E = {float(sum(q[((2, 3), 1)].values()) / 3):.4f} (10/3); "
        f"two above G with 2 moves left E = {float(sum(q[((1, 3), 2)].values()) / 2):.4f} (5/3)",
        highlight=False,
    )
    for title, kwargs in (("classic maze", {}), ("random 5x5 mazes", {"layout": "random"})):
        table = Table(title=f"measured vs exact expected return: {title}")
        for column in ("policy", "episodes", "measured mean ± s.e.", "exact", "|diff| / s.e."):
            table.add_column(column, justify="right")
        for row in policy_return_table(DEMO_ENV, episodes=episodes, seed=seed, **kwargs):
            table.add_row(
                row.policy, str(row.episodes), f"{row.measured_mean:.4f} ± {row.measured_se:.4f}",
                f"{row.exact:.4f}", f"{row.within:.2f}",
            )  # fmt: skip
        console.print(table)


def run_demo(
    console: Console,
    *,
    steps: int = 60,
    num_generations: int = 16,
    learning_rate: float = 3e-3,
    eval_episodes: int = 512,
    seed: int = 0,
    output_dir: str | Path = "runs/demo",
    maze_table: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Train the tiny model from scratch with TRL GRPO on the classic maze (token-action mode) and
    report, honestly, whether it got within 10 % of the optimum. Returns the figures."""
    import torch
    from rich.table import Table

    from thinkgym.agents.tiny import build_tiny, env_corpus
    from thinkgym.envs.maze import classic_maze, expected_return, optimal_value

    started = time.perf_counter()
    if maze_table is not None:
        maze_table()
    maze = classic_maze()
    exact_uniform = float(expected_return(maze))
    optimum = float(optimal_value(maze))
    target = 0.9 * optimum
    console.rule("[bold]GRPO (TRL) on the classic maze[/]: the tiny model learns from scratch, on CPU")
    console.print(
        "Token-action mode: each generated token is one move (R/L/U/D), sampled among the moves the walls "
        f"permit; reward {optimum:g} at the goal within {maze.horizon} moves, else 0.",
        highlight=False,
    )
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a model this small loses more to thread synchronisation than it gains
    torch.manual_seed(seed)  # the evaluations sample with torch's global generator
    try:
        corpus = env_corpus(DEMO_ENV, 8, seed) + env_corpus(DEMO_ENV, 32, seed, layout="random")
        model, tokenizer = build_tiny(corpus=corpus, vocab_size=300)
        evaluate = dict(max_completion_tokens=maze.horizon, token_actions=True, restrict_to_valid_actions=True)
        start_mean, start_se, _ = evaluate_token_policy(model, tokenizer, DEMO_ENV, eval_episodes, seed=10_000 + seed, **evaluate)
        config = TrainConfig(
            env_id=DEMO_ENV,
            algo="grpo",
            model=(model, tokenizer),
            output_dir=output_dir,
            steps=steps,
            num_generations=num_generations,
            learning_rate=learning_rate,
            max_completion_length=maze.horizon,
            n_problems=1,
            seed=seed,
            token_actions=True,
            restrict_to_valid_actions=True,
            threads=1,
        )
        result = train(config)
        end_mean, end_se, played = evaluate_token_policy(
            model, tokenizer, DEMO_ENV, eval_episodes, seed=20_000 + seed, **evaluate
        )
    finally:
        torch.set_num_threads(previous_threads)
    plot = plot_reward_curve(
        result.curve, Path(output_dir) / "reward_curve.png", title="GRPO on the classic maze (tiny model)", target=target
    )
    wall = time.perf_counter() - started
    table = Table(title="classic maze: expected return (optimum 10.0)")
    table.add_column("what", justify="left")
    table.add_column("value", justify="right")
    table.add_column("how", justify="left")
    table.add_row("uniform policy, exact", f"{exact_uniform:.4f}", "dynamic programming over (cell, steps left)")
    table.add_row("tiny model before training", f"{start_mean:.4f} ± {start_se:.4f}", f"{eval_episodes} fresh episodes, sampled")
    table.add_row(f"tiny model after {steps} GRPO steps", f"{end_mean:.4f} ± {end_se:.4f}", f"{eval_episodes} fresh episodes, sampled")
    table.add_row("optimum", f"{optimum:.4f}", "a shortest path (6 moves)")
    console.print(table)
    paths: dict[str, int] = {}
    for episode in played:
        key = "".join(episode.actions) + (" (goal)" if episode.score > 0 else "")
        paths[key] = paths.get(key, 0) + 1
    common = sorted(paths.items(), key=lambda kv: -kv[1])[:3]
    console.print(
        "Most frequent paths of the trained policy: " + ", ".join(f"{p} x{c}" for p, c in common), highlight=False
    )
    met = end_mean >= target
    verdict = (
        f"[bold green]target met[/]: {end_mean:.2f} is within 10% of the optimum {optimum:g}"
        if met
        else f"[bold red]target NOT met[/]: {end_mean:.2f} < {target:g} (90% of the optimum); more steps or another seed may be needed"
    )
    console.print(verdict)
    console.print(f"reward curve: {plot}   model: {result.output_dir / 'final'}   wall time: {wall:.0f} s", highlight=False)
    console.print(
        "Next: `thinkgym pipeline` — base → SFT → reward model → PPO / GRPO / DPO, scored on mazes it has never seen.",
        highlight=False,
    )
    return {
        "exact_uniform": exact_uniform,
        "start_mean": start_mean,
        "start_se": start_se,
        "end_mean": end_mean,
        "end_se": end_se,
        "optimum": optimum,
        "target_met": met,
        "curve": result.curve,
        "plot": str(plot) if plot else None,
        "wall_s": wall,
        "train_wall_s": result.wall_s,
    }
