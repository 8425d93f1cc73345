"""Exact expectations that some envs make known, printed next to measured scores.

A benchmark number means more next to what it should be: the maze's dynamic programming gives the
exact expected return of the uniform random policy and the optimal return, so a run of
``--policy random`` or ``--policy oracle`` can be checked against the truth, not a noisy estimate.
Envs without an exact analysis simply have no reference.
"""

from __future__ import annotations

from typing import Any

from thinkgym.benchmarks.suites import Suite

__all__ = ["exact_references"]


def _maze_reference(env: Any, problems: list[Any]) -> dict[str, float] | None:
    from thinkgym.envs import maze as maze_module

    if not isinstance(env, maze_module.MazeEnv) or env.mode != "multi" or not problems:
        return None
    random_values, optimal_values, reachable = [], [], []
    cache: dict[str, tuple[float, float]] = {}
    for problem in problems:
        if problem.id not in cache:
            maze = maze_module.Maze.from_dict(problem.meta["maze"])
            cache[problem.id] = (
                float(maze_module.expected_return(maze)),
                float(maze_module.optimal_value(maze)),
            )
        random_value, optimal = cache[problem.id]
        random_values.append(random_value)
        optimal_values.append(optimal)
        reachable.append(optimal > 0)
    n = len(problems)
    return {
        "random_mean_reward": sum(random_values) / n,
        "optimal_mean_reward": sum(optimal_values) / n,
        "optimal_accuracy": sum(reachable) / n,
    }


def exact_references(suite: Suite) -> dict[str, dict[str, float]]:
    """``{entry label: {"random_mean_reward": …, "optimal_mean_reward": …}}`` where known."""
    references: dict[str, dict[str, float]] = {}
    for entry in suite.entries:
        if not entry.env.startswith("thinkgym/Maze"):
            continue
        env = entry.make_env()
        try:
            reference = _maze_reference(env, suite.problems[entry.label])
        finally:
            env.close()
        if reference:
            references[entry.label] = reference
    return references
