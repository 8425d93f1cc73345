"""Exact values of maze policies: dynamic programming over (cell, steps left).

Random and learned policies are compared against the true expectation rather than a noisy
estimate: `expected_return` (uniform policy by default, exact fractions), `action_values` (the
seed's "expectation corresponding to every action in every state"), `optimal_value` and
`optimal_path`. Re-exported by `thinkgym.envs.maze`, which uses them for its references and oracle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from thinkgym.envs._maze_grid import DELTAS, GOAL_REWARD, MOVES, Cell

if TYPE_CHECKING:
    from thinkgym.envs.maze import Maze

__all__ = ["StochasticPolicy", "uniform_policy", "action_values", "state_values", "expected_return",
           "optimal_value", "optimal_path"]  # fmt: skip

#: A stochastic policy: ``(cell, steps_left, permitted_moves) -> probabilities``, either a sequence
#: aligned with ``permitted_moves`` or a mapping ``move -> probability`` (a blocked move in the
#: mapping wastes the step, as in the env).
StochasticPolicy = Callable[[Cell, int, tuple[str, ...]], "Sequence[float] | Mapping[str, float]"]


def uniform_policy(cell: Cell, steps_left: int, permitted: tuple[str, ...]) -> list[Fraction]:
    """Uniform over the permitted moves (the seed's untrained agent), as exact fractions."""
    return [Fraction(1, len(permitted))] * len(permitted)


def _distribution(policy: StochasticPolicy, cell: Cell, k: int, permitted: tuple[str, ...]) -> list[tuple[str, Any]]:
    probs = policy(cell, k, permitted)
    if isinstance(probs, Mapping):
        pairs = [(m, p) for m, p in probs.items()]
        unknown = [m for m, _ in pairs if m not in MOVES]
        if unknown:
            raise ValueError(f"policy returned unknown moves {unknown}; moves are {MOVES}")
    else:
        probs = list(probs)
        if len(probs) != len(permitted):
            raise ValueError(
                f"policy returned {len(probs)} probabilities for {len(permitted)} permitted moves at {cell}"
            )
        pairs = list(zip(permitted, probs, strict=True))
    if any(p < 0 for _, p in pairs) or abs(float(sum(p for _, p in pairs)) - 1.0) > 1e-9:
        raise ValueError(f"policy probabilities at {cell} must be >= 0 and sum to 1, got {pairs}")
    return pairs


def action_values(maze: Maze, policy: StochasticPolicy | None = None) -> dict[tuple[Cell, int], dict[str, Any]]:
    """Q-values: for every (cell, steps left >= 1) the expected return of each permitted move
    followed by ``policy`` (the seed's "expectation corresponding to every action in every state")."""
    values = state_values(maze, policy)
    q: dict[tuple[Cell, int], dict[str, Any]] = {}
    for k in range(1, maze.horizon + 1):
        for cell in maze.cells:
            if cell == maze.goal:
                continue
            q[(cell, k)] = {m: _move_value(maze, values, cell, k, m) for m in maze.permitted(cell)}
    return q


_GOAL_FRACTION = Fraction(int(GOAL_REWARD))


def _move_value(maze: Maze, values: Mapping[tuple[Cell, int], Any], cell: Cell, k: int, move: str) -> Any:
    nxt = maze.transitions[cell][move]
    if nxt == maze.goal:
        return _GOAL_FRACTION
    return values[(nxt, k - 1)]


def state_values(
    maze: Maze, policy: StochasticPolicy | None = None, *, exact: bool = True
) -> dict[tuple[Cell, int], Any]:
    """V(cell, k): the exact expected return of ``policy`` from ``cell`` with ``k`` moves left.

    Bottom-up over k = 0 .. horizon; the goal is terminal (value 0: its reward was paid on entry).
    Values are `Fraction` when the policy's probabilities are (the default uniform policy), so
    results like the seed's 10/3 are exact; float probabilities give floats. ``exact=False``
    computes the uniform policy in floats (the same DP, much faster on large mazes).
    """
    zero: Any = Fraction(0) if exact else 0.0
    values: dict[tuple[Cell, int], Any] = {(cell, 0): zero for cell in maze.cells}
    if policy is None:  # fast path for the uniform policy: one division per state
        goal, reward = maze.goal, (_GOAL_FRACTION if exact else GOAL_REWARD)
        for k in range(1, maze.horizon + 1):
            for cell in maze.cells:
                permitted = maze.permitted(cell)
                if cell == goal or not permitted:
                    values[(cell, k)] = zero
                    continue
                steps = maze.transitions[cell]
                total = sum(reward if steps[m] == goal else values[(steps[m], k - 1)] for m in permitted)
                values[(cell, k)] = total / len(permitted)
        return values
    for k in range(1, maze.horizon + 1):
        for cell in maze.cells:
            if cell == maze.goal:
                values[(cell, k)] = Fraction(0)
                continue
            permitted = maze.permitted(cell)
            if not permitted:
                values[(cell, k)] = Fraction(0)
                continue
            total: Any = Fraction(0)
            for move, p in _distribution(policy, cell, k, permitted):
                if p:
                    total += p * _move_value(maze, values, cell, k, move)
            values[(cell, k)] = total
    return values


def expected_return(
    maze: Maze,
    policy: StochasticPolicy | None = None,
    *,
    cell: Cell | None = None,
    steps_left: int | None = None,
    exact: bool = True,
) -> Any:
    """Exact expected return of ``policy`` (uniform by default) from ``cell`` (the start) with
    ``steps_left`` moves (the horizon). A `Fraction` for the uniform policy (a float with
    ``exact=False``); ``float()`` it to print."""
    cell = maze.start if cell is None else tuple(cell)
    k = maze.horizon if steps_left is None else int(steps_left)
    if not 0 <= k <= maze.horizon:
        raise ValueError(f"steps_left must be in 0..{maze.horizon}, got {k}")
    return state_values(maze, policy, exact=exact)[(cell, k)]


def optimal_value(maze: Maze, *, cell: Cell | None = None, steps_left: int | None = None) -> float:
    """The best expected return from ``cell`` with ``steps_left`` moves: 10.0 when the goal is
    within reach, else 0.0 (the maze is deterministic, so the best policy is a shortest path)."""
    cell = maze.start if cell is None else tuple(cell)
    k = maze.horizon if steps_left is None else int(steps_left)
    if cell == maze.goal:
        return 0.0
    distance = maze.distances.get(cell)
    return GOAL_REWARD if distance is not None and distance <= k else 0.0


def optimal_path(maze: Maze, cell: Cell | None = None, *, allow_longer: bool = False) -> str | None:
    """A shortest path (as move letters) from ``cell`` (the start) to the goal.

    None when the goal is unreachable, or when it is farther than the horizon (unless
    ``allow_longer``). Ties break in `MOVES` order, so the answer is deterministic.
    """
    cell = maze.start if cell is None else tuple(cell)
    known = maze.__dict__.get("_start_path")  # set by `generate_maze` (the same tie-breaking)
    if known is not None and cell == maze.start and (allow_longer or len(known) <= maze.horizon):
        return known
    dist = maze.distances
    if cell not in dist or (not allow_longer and dist[cell] > maze.horizon):
        return None
    path = []
    walls, goal = maze.walls, maze.goal
    steps = [(move, DELTAS[move]) for move in MOVES]
    while cell != goal:
        want = dist[cell] - 1
        for move, (dr, dc) in steps:
            nxt = (cell[0] + dr, cell[1] + dc)
            # a cell off the grid has no distance; a wall key is the ordered pair (see `_edge`)
            if dist.get(nxt) == want and ((cell, nxt) if cell <= nxt else (nxt, cell)) not in walls:
                path.append(move)
                cell = nxt
                break
    return "".join(path)
