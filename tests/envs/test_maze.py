"""The maze: layout, procedural generation, both modes, and the exact DP against the env itself."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import thinkgym
from thinkgym.envs.maze import (
    GOAL_REWARD,
    MOVES,
    Maze,
    MazeEnv,
    action_values,
    classic_maze,
    expected_return,
    generate_maze,
    maze_problem,
    optimal_path,
    optimal_value,
    parse_move,
    parse_path,
    state_values,
    verify_path,
)

# ---- the classic layout reproduces the seed's worked example --------------------------------


def test_classic_layout_shape():
    maze = classic_maze()
    assert (maze.rows, maze.cols, maze.horizon) == (4, 4, 6)
    assert maze.start == (0, 0) and maze.goal == (3, 3)
    assert maze.shortest == 6
    assert maze.permitted((2, 3)) == ("L", "U", "D")  # 3 permitted moves, D reaches the goal
    assert maze.permitted((1, 3)) == ("U", "D")  # 2 permitted moves, D leads to (2, 3)
    assert maze.neighbor((2, 3), "D") == maze.goal
    assert maze.neighbor((1, 3), "D") == (2, 3)


def test_classic_values_by_hand():
    """Each value is worked out by hand: on a 6-move shortest path with a horizon of 6, any
    detour ends at 0, so V = product of 1/(number of permitted moves) along the path, times 10."""
    v = state_values(classic_maze())
    third = Fraction(10, 3)
    assert v[((2, 3), 1)] == third  # the seed's 3.333...
    assert v[((1, 3), 2)] == Fraction(5, 3)  # the seed's 1.666...
    assert v[((0, 3), 3)] == Fraction(5, 6)  # 2 moves (L, D)
    assert v[((0, 2), 4)] == Fraction(5, 12)  # 2 moves (R, L)
    assert v[((0, 1), 5)] == Fraction(5, 24)  # 2 moves (R, L)
    assert v[((2, 2), 2)] == third / 4  # 4 moves, only R leads on
    assert v[((2, 1), 3)] == third / 4 / 3  # 3 moves (R, L, U)
    assert v[((2, 0), 4)] == third / 4 / 3 / 2  # 2 moves (R, U)
    assert v[((1, 0), 5)] == third / 4 / 3 / 2 / 2  # 2 moves (U, D)
    start = Fraction(1, 2) * (v[((0, 1), 5)] + v[((1, 0), 5)])
    assert start == Fraction(5, 36)
    assert expected_return(classic_maze()) == Fraction(5, 36)
    # with one step left only the cell next to the goal has any value
    assert v[((2, 2), 1)] == 0 and v[((0, 0), 5)] == 0


def test_classic_action_values_match_seed():
    q = action_values(classic_maze())
    assert q[((2, 3), 1)] == {"L": 0, "U": 0, "D": Fraction(10)}
    assert q[((1, 3), 2)] == {"U": 0, "D": Fraction(10, 3)}
    # "once an agent moves left or up, the expectation becomes 0" along the tight path
    assert q[((0, 3), 3)]["L"] == 0
    assert q[((0, 0), 6)] == {"R": Fraction(5, 24), "D": Fraction(5, 72)}


def test_optimal_value_and_path():
    maze = classic_maze()
    assert optimal_value(maze) == GOAL_REWARD
    assert optimal_path(maze) == "RRRDDD"
    assert optimal_value(maze, cell=(0, 0), steps_left=5) == 0.0
    assert optimal_value(maze, cell=(2, 3), steps_left=1) == GOAL_REWARD
    assert verify_path(optimal_path(maze), maze_problem(maze, "p")).score == GOAL_REWARD


# ---- exact DP against Monte Carlo rollouts of the env ----------------------------------------


def _rollout_mean(env: MazeEnv, probs_for, episodes: int, seed: int, options=None) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    returns = []
    for _ in range(episodes):
        _, info = env.reset(options=options)
        total, done = 0.0, False
        while not done:
            permitted = env.maze.permitted(env.position)
            moves, probs = probs_for(env.position, info["steps_left"], permitted)
            assert [MOVES[i] for i in np.flatnonzero(info["action_mask"])] == list(permitted)
            move = moves[rng.choice(len(moves), p=np.asarray(probs, dtype=float))]
            _, reward, terminated, truncated, info = env.step(move)
            total += reward
            done = terminated or truncated
        returns.append(total)
    arr = np.asarray(returns)
    return float(arr.mean()), float(arr.std(ddof=1) / math.sqrt(len(arr)))


def _uniform(cell, k, permitted):
    return list(permitted), [1 / len(permitted)] * len(permitted)


def test_dp_matches_monte_carlo_uniform_classic():
    env = MazeEnv(layout="classic")
    mean, se = _rollout_mean(env, _uniform, 3000, seed=1)
    exact = float(expected_return(classic_maze()))
    assert exact == pytest.approx(5 / 36)
    assert abs(mean - exact) <= 4 * max(se, 1e-3), (mean, se, exact)


def _biased(cell, k, permitted):
    """Prefers right and down, and sometimes bumps into walls (all four moves have mass)."""
    weights = {"R": 0.4, "D": 0.4, "L": 0.1, "U": 0.1}
    return list(MOVES), [weights[m] for m in MOVES]


def test_dp_matches_monte_carlo_biased_policy_with_wall_bumps():
    env = MazeEnv(layout="random", rows=4, cols=4)
    env.reset(options={"index": 3})
    maze = env.maze
    exact = float(expected_return(maze, lambda c, k, p: dict(zip(*_biased(c, k, p), strict=True))))
    mean, se = _rollout_mean(env, _biased, 1500, seed=2, options={"index": 3})
    assert 0 < exact < GOAL_REWARD
    assert abs(mean - exact) <= 4 * se, (mean, se, exact)


def test_dp_float_policy_and_validation():
    maze = classic_maze()
    float_uniform = float(expected_return(maze, lambda c, k, p: [1.0 / len(p)] * len(p)))
    assert float_uniform == pytest.approx(5 / 36)
    with pytest.raises(ValueError, match="sum to 1"):
        expected_return(maze, lambda c, k, p: [0.9] * len(p))
    with pytest.raises(ValueError, match="probabilities for"):
        expected_return(maze, lambda c, k, p: [1.0])
    with pytest.raises(ValueError, match="unknown moves"):
        expected_return(maze, lambda c, k, p: {"X": 1.0})
    with pytest.raises(ValueError, match="steps_left"):
        expected_return(maze, steps_left=7)


# ---- procedural mazes -------------------------------------------------------------------------


@settings(max_examples=40)
@given(rows=st.integers(1, 8), cols=st.integers(1, 8), seed=st.integers(0, 2**32 - 1), horizon=st.none() | st.integers(1, 30))
def test_generated_mazes_are_solvable_and_seeded(rows, cols, seed, horizon):
    if rows * cols < 2:
        with pytest.raises(ValueError):
            generate_maze(rows, cols, np.random.default_rng(seed))
        return
    maze = generate_maze(rows, cols, np.random.default_rng(seed), horizon=horizon)
    assert maze == generate_maze(rows, cols, np.random.default_rng(seed), horizon=horizon)
    assert maze.solvable
    assert len(maze.distances) == rows * cols  # a spanning tree: every cell reaches the goal
    if horizon is not None:
        assert maze.horizon == horizon
    path = optimal_path(maze)
    assert path is not None and len(path) == maze.shortest
    assert verify_path(path, maze_problem(maze, "p")).score == GOAL_REWARD
    assert Maze.from_ascii(maze.render(), maze.horizon) == maze
    assert Maze.from_dict(maze.to_dict()) == maze
    assert optimal_value(maze) == GOAL_REWARD
    assert expected_return(maze) <= GOAL_REWARD


def test_random_layout_problem_ids_are_stable():
    env = thinkgym.make("thinkgym/Maze-v0", layout="random", rows=5, cols=5)
    _, info = env.reset(seed=123)
    first = (info["problem_id"], env.problem.prompt)
    _, info = env.reset(seed=123)
    assert (info["problem_id"], env.problem.prompt) == first
    assert first[0].startswith("maze-g0/5x5-hauto/train/")
    other = thinkgym.make("thinkgym/MazePath-v0", layout="random", rows=5, cols=5)
    _, info = other.reset(seed=123)
    assert info["problem_id"] == first[0]  # both modes play the same mazes


# ---- the env, move by move --------------------------------------------------------------------


def test_multi_mode_wall_and_garbage_waste_a_step():
    env = thinkgym.make("thinkgym/Maze-v0")
    obs, info = env.reset(seed=0)
    assert "@" in obs and "Moves left: 6" in obs
    assert info["action_mask"].dtype == np.int8
    assert info["action_mask"].tolist() == [1, 0, 0, 1]
    assert env.valid_actions() == ["R", "D"]
    _, reward, terminated, truncated, info = env.step("U")
    assert (reward, terminated, truncated) == (0.0, False, False)
    assert "wall" in info["error"] and info["position"] == (0, 0) and info["steps_left"] == 5
    _, reward, _, _, info = env.step("jump!")
    assert reward == 0.0 and "not a move" in info["error"] and info["position"] == (0, 0)
    for move in "RRR":
        env.step(move)
    _, reward, terminated, truncated, info = env.step("down")
    assert (reward, terminated, truncated) == (0.0, False, True)  # horizon spent
    assert "over" in env.messages[-2]["content"] or info["steps_left"] == 0


def test_multi_mode_goal_and_oracle():
    env = thinkgym.make("thinkgym/Maze-v0")
    env.reset(seed=0)
    total = 0.0
    for expected in "RRRDDD":
        assert env.oracle_action() == expected
        obs, reward, terminated, truncated, _ = env.step(env.oracle_action())
        total += reward
    assert total == GOAL_REWARD and terminated and not truncated
    assert "reached the goal" in obs


def test_multi_mode_oracle_on_random_mazes():
    env = thinkgym.make("thinkgym/Maze-v0", layout="random", rows=6, cols=7)
    for seed in range(5):
        env.reset(seed=seed)
        terminated = truncated = False
        while not (terminated or truncated):
            _, reward, terminated, truncated, _ = env.step(env.oracle_action())
        assert terminated and reward == GOAL_REWARD


@pytest.mark.parametrize(
    "text,moves",
    [
        ("RRDD", ["R", "R", "D", "D"]),
        ("R R D D", ["R", "R", "D", "D"]),
        (" r, r,d ,d\n", ["R", "R", "D", "D"]),
        ("right Right down DOWN", ["R", "R", "D", "D"]),
        ("", None),
        ("RRX", None),
        ("go right", None),
        ("\x00R", None),
    ],
)
def test_parse_path(text, moves):
    assert parse_path(text) == moves


def test_parse_move():
    assert [parse_move(m) for m in ("R", " l ", "Up", "DOWN", "RR", "", "x")] == ["R", "L", "U", "D", None, None, None]


def test_single_mode():
    env = thinkgym.make("thinkgym/MazePath-v0")
    obs, info = env.reset(seed=0)
    assert "at most 6 moves" in obs and "action_mask" not in info
    assert env.oracle_action() == "RRRDDD"
    _, reward, terminated, truncated, info = env.step("D D R R R D")
    assert (reward, terminated, truncated) == (GOAL_REWARD, True, False)
    env.reset(seed=0)
    _, reward, _, _, info = env.step("RRRDDDD")  # the last move comes after the goal: ignored
    assert reward == GOAL_REWARD and info["reward_info"]["ignored_moves"] == 1
    env.reset(seed=0)
    _, reward, _, _, info = env.step("URRRDDD")  # the wall bump wastes one of the 6 moves
    assert reward == 0.0 and info["reward_info"]["blocked_moves"] == 1
    env.reset(seed=0)
    _, reward, _, _, info = env.step("the answer is RRRDDD")
    assert reward == 0.0 and "not a path" in info["error"]


@settings(max_examples=60)
@given(moves=st.lists(st.sampled_from(MOVES), max_size=10), index=st.integers(0, 50))
def test_single_turn_reward_equals_multi_turn_return(moves, index):
    """A path earns in one answer exactly what its moves earn one by one."""
    multi = MazeEnv(layout="random", rows=3, cols=3, horizon=4)
    single = MazeEnv(mode="single", layout="random", rows=3, cols=3, horizon=4)
    multi.reset(options={"index": index})
    single.reset(options={"index": index})
    total = 0.0
    for move in moves:
        _, reward, terminated, truncated, _ = multi.step(move)
        total += reward
        if terminated or truncated:
            break
    _, reward, *_ = single.step("".join(moves))  # no moves: blank text, "not a path", 0
    assert reward == total


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="mode"):
        MazeEnv(mode="both")
    with pytest.raises(ValueError, match="layout"):
        MazeEnv(layout="spiral")
    with pytest.raises(ValueError, match="at least 2 cells"):
        MazeEnv(layout="random", rows=1, cols=1)
    with pytest.raises(ValueError, match="adjacent"):
        Maze(2, 2, frozenset({((0, 0), (1, 1))}), (0, 0), (1, 1), 3)


def test_from_ascii_rejects_bad_drawings():
    drawing = classic_maze().render()
    with pytest.raises(ValueError, match="start 'S'"):
        Maze.from_ascii(drawing.replace("S", " "), horizon=6)
    with pytest.raises(ValueError, match="2\\*rows\\+1"):
        Maze.from_ascii("\n".join(drawing.splitlines()[:-1]), horizon=6)
    with pytest.raises(ValueError, match="horizon"):
        Maze.from_ascii(drawing, horizon=0)


def test_envs_and_problems_pickle():
    import pickle

    for layout in ("classic", "random"):
        env = MazeEnv(layout=layout)
        env.reset(seed=2)
        clone = pickle.loads(pickle.dumps(env))
        assert clone.source.get(7) == env.source.get(7)
        assert pickle.loads(pickle.dumps(env.problem)) == env.problem


def test_info_carries_the_valid_actions_hint():
    """Helpers behind wrappers that only see info can still sample permitted moves (issue 14 item 1)."""
    import gymnasium

    env = gymnasium.make("thinkgym/Maze-v0")
    _, info = env.reset(seed=0)
    assert info["valid_actions"] == env.unwrapped.valid_actions() and set(info["valid_actions"]) <= {"R", "L", "U", "D"}
    *_, info = env.step(info["valid_actions"][0])
    assert info["valid_actions"] == env.unwrapped.valid_actions()
    _, info = gymnasium.make("thinkgym/MazePath-v0").reset(seed=0)
    assert "valid_actions" not in info  # open text: no finite action set


def _reference_maze(rows, cols, rng, horizon=None, loop_fraction=0.1):
    """The step-by-step generator `generate_maze` was optimised from (GENERATOR_VERSION 0)."""
    from thinkgym.envs.maze import DELTAS, Maze, _edge, _grid_bfs

    walls = {_edge((r, c), (r + dr, c + dc)) for r in range(rows) for c in range(cols)
             for dr, dc in ((0, 1), (1, 0)) if r + dr < rows and c + dc < cols}  # fmt: skip
    first = (int(rng.integers(rows)), int(rng.integers(cols)))
    seen, stack = {first}, [first]
    while stack:
        r, c = stack[-1]
        options = [(r + dr, c + dc) for dr, dc in DELTAS.values()
                   if 0 <= r + dr < rows and 0 <= c + dc < cols and (r + dr, c + dc) not in seen]  # fmt: skip
        if not options:
            stack.pop()
            continue
        nxt = options[int(rng.integers(len(options)))]
        walls.discard(_edge((r, c), nxt))
        seen.add(nxt)
        stack.append(nxt)
    for wall in sorted(walls):
        if rng.random() < loop_fraction:
            walls.discard(wall)
    start = (int(rng.integers(rows)), int(rng.integers(cols)))
    dist = _grid_bfs(rows, cols, walls, start)
    limit = max(dist.values()) if horizon is None else min(max(dist.values()), horizon)
    candidates = sorted(cell for cell, d in dist.items() if max(1, -(-limit // 2)) <= d <= limit)
    goal = candidates[int(rng.integers(len(candidates)))]
    return Maze(rows, cols, frozenset(walls), start, goal, horizon or 2 * dist[goal], f"random-{rows}x{cols}")


@pytest.mark.parametrize("rows,cols", [(5, 5), (2, 1), (1, 5), (3, 7), (6, 6), (10, 10)])
def test_fast_generator_draws_the_same_mazes_as_the_reference(rows, cols):
    """The reset speed-up (integer grids, numpy-exact bounded draws) keeps seed -> maze."""
    from thinkgym.envs.maze import generate_maze, maze_problem

    for seed in range(60):
        for horizon in (None, 4):
            ours = generate_maze(rows, cols, np.random.default_rng(seed), horizon=horizon)
            reference = _reference_maze(rows, cols, np.random.default_rng(seed), horizon=horizon)
            assert ours == reference and ours.distances == reference.distances
            assert maze_problem(ours, "p") == maze_problem(reference, "p")
            assert ours.render(ours.start) == reference.render(reference.start)
