"""The grid maze from the seed example of RL: move right, left, up or down; 10.0 at the goal.

Two ways to play one maze:

- ``thinkgym/Maze-v0`` (``mode="multi"``): one move per step. The observation redraws the grid;
  ``info["action_mask"]`` (``np.int8``, in `MOVES` order) marks the moves the walls permit. Reward
  10.0 on reaching the goal (``terminated``), else 0.0; the episode is ``truncated`` after
  ``horizon`` moves.
- ``thinkgym/MazePath-v0`` (``mode="single"``): the whole path in one answer, verified by replaying
  it (`verify_path`); reward 10.0 iff the replay reaches the goal within the horizon.

Moves are the single characters in `MOVES` (``R``, ``L``, ``U``, ``D``) so a tokenizer keeps each
whole; the words ``right``/``left``/``up``/``down`` are accepted too, in any case. A path may be
written contiguously (``RRDD``) or separated by spaces or commas (``R, R, D, D``).

Defined outcomes for bad moves (both modes follow the same rule, so a single-turn answer earns
exactly what the same moves earn one by one in the multi-turn env):

- a move into a wall or off the grid *wastes the step*: the agent stays put, reward 0, and
  ``info["error"]`` says which moves were permitted;
- in multi mode, text that is not a move also wastes the step (``info["error"]``);
- in single mode, an answer that does not parse as a path earns 0 with ``info["error"]``; moves
  after the goal is reached, or beyond the horizon, are ignored (``reward_info`` counts them).

The exact analysis (`expected_return`, `action_values`, `optimal_value`, `optimal_path`, in
`thinkgym.envs.maze_values`, re-exported here) is dynamic programming over (cell, steps left), so random and learned policies can be compared against the
true expectation rather than a noisy estimate. The `classic_maze` is laid out so the seed's worked
example comes out exactly: uniform expectation 10/3 in the cell above the goal (3 permitted moves,
one step left) and 5/3 in the cell above that (2 permitted moves, two steps left).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

import numpy as np

from thinkgym.core import GeneratorSource, ListSource, Problem, ProblemSource, Reward, TextEnv, Turn
from thinkgym.envs._maze_grid import (
    DELTAS,
    GOAL_REWARD,
    MOVE_NAMES,
    MOVES,
    Cell,
    _edge,
    _grid_index,
    _grid_links,
    _grid_template,
    _index_bfs,
    _index_path,
    _inner_walls,
    _int_drawer,
    _link_moves,
)
from thinkgym.envs.maze_values import (
    action_values,
    expected_return,
    optimal_path,
    optimal_value,
    state_values,
    uniform_policy,
)
from thinkgym.registry import register

__all__ = [
    "MOVES",
    "MOVE_NAMES",
    "DELTAS",
    "GOAL_REWARD",
    "Cell",
    "Maze",
    "MazeEnv",
    "classic_maze",
    "generate_maze",
    "maze_problem",
    "maze_source",
    "parse_move",
    "parse_path",
    "replay",
    "verify_path",
    "state_values",
    "expected_return",
    "action_values",
    "optimal_value",
    "optimal_path",
    "uniform_policy",
]

#: Bump when `generate_maze` changes: it is part of every procedural problem id.
GENERATOR_VERSION = 0
_ALIASES: dict[str, str] = {**{m.lower(): m for m in MOVES}, **{v: k for k, v in MOVE_NAMES.items()}}
_SEPARATORS = re.compile(r"[\s,]+")


# --------------------------------------------------------------------------------------------
# The maze itself
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Maze:
    """A rows x cols grid with walls between some neighbouring cells, a start, a goal and a horizon.

    ``walls`` holds pairs of adjacent cells with a wall between them; the outer border is always a
    wall. ``horizon`` is the number of moves the agent has (6 in the seed example).
    """

    rows: int
    cols: int
    walls: frozenset[tuple[Cell, Cell]]
    start: Cell
    goal: Cell
    horizon: int
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.rows < 1 or self.cols < 1 or self.rows * self.cols < 2:
            raise ValueError(f"a maze needs at least 2 cells, got {self.rows}x{self.cols}")
        if self.horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {self.horizon}")
        start, goal = tuple(self.start), tuple(self.goal)
        for label, cell in (("start", start), ("goal", goal)):
            if not self.inside(cell):
                raise ValueError(f"{label} {cell} is outside the {self.rows}x{self.cols} grid")
        if start == goal:
            raise ValueError("start and goal must differ")
        walls = set()
        for a, b in self.walls:
            a, b = tuple(a), tuple(b)
            if not (self.inside(a) and self.inside(b)) or abs(a[0] - b[0]) + abs(a[1] - b[1]) != 1:
                raise ValueError(f"a wall must sit between two adjacent cells inside the grid, got {a}-{b}")
            walls.add(_edge(a, b))
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "goal", goal)
        object.__setattr__(self, "walls", frozenset(walls))

    @classmethod
    def _trusted(cls, rows: int, cols: int, walls: frozenset, start: Cell, goal: Cell, horizon: int, name: str) -> Maze:
        """A maze from parts this module built and normalized itself (`generate_maze`): the
        checks of ``__post_init__`` are skipped, the result is the same object they would give."""
        maze = object.__new__(cls)
        for key, value in (("rows", rows), ("cols", cols), ("walls", walls), ("start", start),
                           ("goal", goal), ("horizon", horizon), ("name", name)):
            object.__setattr__(maze, key, value)
        return maze

    # ---- geometry -------------------------------------------------------------------------

    def inside(self, cell: Cell) -> bool:
        return 0 <= cell[0] < self.rows and 0 <= cell[1] < self.cols

    @property
    def cells(self) -> list[Cell]:
        return [(r, c) for r in range(self.rows) for c in range(self.cols)]

    def neighbor(self, cell: Cell, move: str) -> Cell | None:
        """The cell ``move`` leads to from ``cell``, or None when a wall or the border blocks it."""
        dr, dc = DELTAS[move]
        target = (cell[0] + dr, cell[1] + dc)
        if not self.inside(target) or _edge(cell, target) in self.walls:
            return None
        return target

    def permitted(self, cell: Cell) -> tuple[str, ...]:
        """The moves the walls permit from ``cell``, in `MOVES` order."""
        cell = tuple(cell)
        known = self._permitted_cache
        if cell not in known:
            known[cell] = tuple(m for m in MOVES if self.neighbor(cell, m) is not None)
        return known[cell]

    @cached_property
    def _permitted_cache(self) -> dict[Cell, tuple[str, ...]]:
        return {}

    @cached_property
    def transitions(self) -> dict[Cell, dict[str, Cell]]:
        """Where each move leads from each cell (a blocked move stays put, as in the env)."""
        return {cell: {m: self.neighbor(cell, m) or cell for m in MOVES} for cell in self.cells}

    def action_mask(self, cell: Cell) -> np.ndarray:
        """1 for each permitted move in `MOVES` order, else 0 (``np.int8``)."""
        permitted = self.permitted(cell)
        return np.array([m in permitted for m in MOVES], dtype=np.int8)

    @cached_property
    def distances(self) -> dict[Cell, int]:
        """Fewest moves from each cell to the goal (cells that cannot reach it are absent)."""
        return _grid_bfs(self.rows, self.cols, self.walls, self.goal)

    @property
    def shortest(self) -> int | None:
        """Length of the shortest path from start to goal, or None if the goal is walled off."""
        return self.distances.get(self.start)

    @property
    def solvable(self) -> bool:
        """Whether the goal can be reached from the start within the horizon."""
        return self.shortest is not None and self.shortest <= self.horizon

    # ---- drawing and (de)serialisation -----------------------------------------------------

    def render(self, position: Cell | None = None) -> str:
        """ASCII drawing: ``S`` start, ``G`` goal, ``@`` the agent (when ``position`` is given)."""
        lines = list(self._drawing)
        marks = {self.start: "S", self.goal: "G"}
        if position is not None and self.inside(tuple(position)):
            marks[tuple(position)] = "@"
        for (r, c), mark in marks.items():
            line = lines[2 * r + 1]
            lines[2 * r + 1] = f"{line[: 4 * c + 2]}{mark}{line[4 * c + 3 :]}"
        return "\n".join(lines)

    @cached_property
    def _sorted_walls(self) -> list[tuple[Cell, Cell]]:
        """``sorted(self.walls)``: every wall is an inner wall of the grid, so a filter does it."""
        return [wall for wall in _inner_walls(self.rows, self.cols) if wall in self.walls]

    @cached_property
    def _drawing(self) -> tuple[str, ...]:
        """The drawing's lines without marks (walls only): built once per maze, as a reset draws
        the same maze twice (the problem's prompt, then the first observation)."""
        walls = self.walls
        lines = []
        for r in range(self.rows):
            # keys are built in `_edge` order directly: (r-1, c) < (r, c) and (r, c-1) < (r, c)
            top = ["+"]
            for c in range(self.cols):
                top.append("---+" if r == 0 or ((r - 1, c), (r, c)) in walls else "   +")
            lines.append("".join(top))
            row = []
            for c in range(self.cols):
                row.append("|   " if c == 0 or ((r, c - 1), (r, c)) in walls else "    ")
            lines.append("".join(row) + "|")
        lines.append("+---" * self.cols + "+")
        return tuple(lines)

    @classmethod
    def from_ascii(cls, drawing: str, horizon: int, name: str = "") -> Maze:
        """Parse a drawing in the format `render` writes (``S`` and ``G`` mark start and goal)."""
        lines = [line.rstrip() for line in drawing.strip("\n").splitlines()]
        if len(lines) < 3 or len(lines) % 2 == 0:
            raise ValueError("a maze drawing has 2*rows+1 lines")
        rows, cols = (len(lines) - 1) // 2, (len(lines[0]) - 1) // 4
        walls, start, goal = set(), None, None
        for r in range(rows):
            cell_line = lines[2 * r + 1].ljust(4 * cols + 1)
            for c in range(cols):
                mark = cell_line[4 * c + 2]
                if mark == "S":
                    start = (r, c)
                elif mark == "G":
                    goal = (r, c)
                if c > 0 and cell_line[4 * c] == "|":
                    walls.add(((r, c - 1), (r, c)))
                if r > 0 and lines[2 * r].ljust(4 * cols + 1)[4 * c + 1 : 4 * c + 4] == "---":
                    walls.add(((r - 1, c), (r, c)))
        if start is None or goal is None:
            raise ValueError("a maze drawing must mark one start 'S' and one goal 'G'")
        return cls(rows, cols, frozenset(walls), start, goal, horizon, name)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (what `Problem.meta["maze"]` holds)."""
        return {
            "rows": self.rows,
            "cols": self.cols,
            # every wall is an inner wall of the grid, so this is sorted(self.walls) without a sort
            "walls": [[[a0, a1], [b0, b1]] for (a0, a1), (b0, b1) in self._sorted_walls],
            "start": list(self.start),
            "goal": list(self.goal),
            "horizon": self.horizon,
            "name": self.name,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Maze:
        walls = frozenset((tuple(a), tuple(b)) for a, b in data["walls"])
        return cls(
            int(data["rows"]), int(data["cols"]), walls, tuple(data["start"]), tuple(data["goal"]),
            int(data["horizon"]), str(data.get("name", "")),
        )


def _grid_bfs(rows: int, cols: int, walls: frozenset | set, origin: Cell) -> dict[Cell, int]:
    # Moves are symmetric (a wall blocks both ways), so distances *from* origin equal distances *to* it.
    links = _grid_links(rows, cols)
    dist = {origin: 0}
    queue = deque([origin])
    while queue:
        cell = queue.popleft()
        step = dist[cell] + 1
        for nxt, wall in links[cell]:
            if nxt not in dist and wall not in walls:
                dist[nxt] = step
                queue.append(nxt)
    return dist


_CLASSIC = """
+---+---+---+---+
| S             |
+   +---+---+   +
|   |       |   |
+   +   +   +   +
|               |
+---+---+   +   +
|           | G |
+---+---+---+---+
"""


def classic_maze() -> Maze:
    """The fixed 4x4 layout with horizon 6 that reproduces the seed's worked example.

    Both shortest paths (along the top row then down the right column, or down the left column
    then along the third row) take exactly 6 moves, so any detour ends with 0. The cell above the
    goal has 3 permitted moves (up, left, down), one of which reaches the goal: uniform
    expectation 10/3 with one step left. The cell above it has 2 (up, down): 5/3 with two left.
    """
    return Maze.from_ascii(_CLASSIC, horizon=6, name="classic")


def generate_maze(
    rows: int, cols: int, rng: np.random.Generator, *, horizon: int | None = None, loop_fraction: float = 0.1
) -> Maze:
    """A procedural maze, guaranteed solvable within its horizon, fully determined by ``rng``.

    A randomized depth-first search carves a spanning tree (every cell reachable), then a
    ``loop_fraction`` of the remaining inner walls is removed so several routes can exist. The
    start is uniform; the goal is drawn among the cells between half of and the full reachable
    distance (capped by ``horizon``), so problems are neither trivial nor impossible. Without a
    ``horizon``, the maze allows twice the shortest path length.
    """
    if rows < 1 or cols < 1 or rows * cols < 2:
        raise ValueError(f"a maze needs at least 2 cells, got {rows}x{cols}")
    if horizon is not None and horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    # The random draws are exactly those of the original step-by-step version (problem ids name
    # GENERATOR_VERSION 0, so the same seed must give the same maze): see `_int_drawer`, and
    # ``random(n)`` equals n successive ``random()`` calls. Cells and walls are integer indices
    # into `_grid_index` (row-major cells, sorted walls), so no tuple is hashed while carving.
    cells, inner, links = _grid_index(rows, cols)
    removed = bytearray(len(inner))
    seen = bytearray(len(cells))
    below = _int_drawer(rng)
    cell = below(rows) * cols + below(cols)
    seen[cell] = 1
    stack = [cell]
    push, pop = stack.append, stack.pop
    while True:  # (a plain loop, not a list comprehension: this runs ~50 times per maze)
        options = []
        for link in links[cell]:
            if not seen[link[0]]:
                options.append(link)
        if not options:
            pop()
            if not stack:
                break
            cell = stack[-1]
            continue
        count = len(options)
        cell, wall = options[below(count)] if count > 1 else options[0]
        removed[wall] = 1
        seen[cell] = 1
        push(cell)
    remaining = [w for w in range(len(inner)) if not removed[w]]  # in sorted order
    for wall, draw in zip(remaining, rng.random(len(remaining)).tolist(), strict=True):
        if draw < loop_fraction:
            removed[wall] = 1
    start_index = below(rows) * cols + below(cols)
    dist = _index_bfs(links, removed, start_index)
    reach = max(dist)
    limit = reach if horizon is None else min(reach, horizon)
    low = max(1, -(-limit // 2))
    candidates = [i for i, d in enumerate(dist) if low <= d <= limit]  # row-major = sorted cells
    goal_index = candidates[below(len(candidates))]
    kept = [w for w in range(len(inner)) if not removed[w]]
    sorted_walls = [inner[w] for w in kept]
    start, goal = cells[start_index], cells[goal_index]
    maze = Maze._trusted(
        rows, cols, frozenset(sorted_walls), start, goal, horizon or 2 * dist[goal_index], f"random-{rows}x{cols}"
    )
    # Fill the maze's cached properties from what was computed here (each equals what the
    # property would compute; a reset reads them). ``distances`` stays lazy: a reset needs only
    # the path from the start, kept for `optimal_path`.
    to_goal = _index_bfs(links, removed, goal_index)
    path = _index_path(links, _link_moves(rows, cols), removed, to_goal, start_index)
    maze.__dict__["_start_path"] = "".join(MOVES[m] for m in path)
    maze.__dict__["_sorted_walls"] = sorted_walls
    template, spans = _grid_template(rows, cols)
    drawing = bytearray(template)
    for w in range(len(inner)):
        if removed[w]:
            at, blank = spans[w]
            drawing[at : at + len(blank)] = blank
    maze.__dict__["_drawing"] = tuple(drawing.decode().split("\n"))
    return maze


# --------------------------------------------------------------------------------------------
# Parsing and replaying moves (the verifier)
# --------------------------------------------------------------------------------------------


def parse_move(text: str) -> str | None:
    """One move from ``text`` (``R``/``L``/``U``/``D`` or ``right``/``left``/``up``/``down``,
    any case, surrounding whitespace ignored), or None if the text is not exactly one move."""
    return _ALIASES.get(text.strip().lower())


def parse_path(text: str) -> list[str] | None:
    """The moves of a whole path, or None if any part of ``text`` is not a move.

    Parts are separated by whitespace or commas; a part is a move word or a run of move letters
    (``RRDD``). The empty path (blank text) is None: an answer must say something.
    """
    parts = [p for p in _SEPARATORS.split(text.strip().lower()) if p]
    if not parts:
        return None
    moves: list[str] = []
    for part in parts:
        if part in _ALIASES and len(part) > 1:
            moves.append(_ALIASES[part])
        elif all(ch in "rlud" for ch in part):
            moves.extend(ch.upper() for ch in part)
        else:
            return None
    return moves


@dataclass(frozen=True)
class Replay:
    """What happened when a path was replayed: where it ended and how many steps it used."""

    reached: bool
    final: Cell
    steps: int
    blocked: int
    ignored: int


def replay(maze: Maze, moves: Sequence[str], start: Cell | None = None, steps_left: int | None = None) -> Replay:
    """Walk ``moves`` from ``start`` with the env's rules (blocked moves waste a step)."""
    cell = maze.start if start is None else tuple(start)
    budget = maze.horizon if steps_left is None else steps_left
    blocked = steps = 0
    for move in moves:
        if steps >= budget or cell == maze.goal:
            break
        steps += 1
        nxt = maze.neighbor(cell, move)
        if nxt is None:
            blocked += 1
        else:
            cell = nxt
    return Replay(cell == maze.goal, cell, steps, blocked, len(moves) - steps)


def verify_path(completion: str, problem: Problem) -> Reward:
    """Single-turn maze verifier: 10.0 iff replaying the path reaches the goal within the horizon.

    Pure and picklable (the maze travels in ``problem.meta["maze"]``); never raises on model text.
    """
    maze = _problem_maze(problem)
    if not isinstance(completion, str):
        return Reward.zero(f"expected text, got {type(completion).__name__}", {"goal": 0.0})
    moves = parse_path(completion)
    if moves is None:
        return Reward.zero(
            "not a path: write moves as R, L, U, D (e.g. 'RRDD' or 'R R D D')", {"goal": 0.0}
        )
    result = replay(maze, moves)
    info = {
        "moves": "".join(moves[: result.steps]),
        "final_cell": list(result.final),
        "steps": result.steps,
        "blocked_moves": result.blocked,
        "ignored_moves": result.ignored,
    }
    if result.reached:
        return Reward(GOAL_REWARD, {"goal": 1.0}, info)
    return Reward(0.0, {"goal": 0.0}, {**info, "reason": "the path does not reach the goal within the horizon"})


# --------------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------------


def _single_prompt(maze: Maze) -> str:
    return (
        f"{maze.render()}\n"
        f"Find a path from S to G in at most {maze.horizon} moves. Moves: R (right), L (left), "
        "U (up), D (down); walls ('|', '---') block moves.\n"
        "Answer with the moves only, e.g. RRDD."
    )


def maze_problem(maze: Maze, problem_id: str) -> Problem:
    """A `Problem` for ``maze``: the single-turn prompt, an optimal path as gold answer."""
    return Problem(problem_id, _single_prompt(maze), optimal_path(maze), {"maze": maze.to_dict()})


#: The last procedural problem made in this process and its `Maze`: ``reset`` makes a problem and
#: plays it at once, so the maze need not be rebuilt from ``meta["maze"]`` (checked by identity).
_LAST_MADE: tuple[Problem, Maze] | None = None


def _random_problem(rows: int, cols: int, horizon: int | None, rng: np.random.Generator, pid: str) -> Problem:
    # module level (not a closure) so sources and envs pickle, e.g. into worker processes
    global _LAST_MADE
    maze = generate_maze(rows, cols, rng, horizon=horizon)
    problem = maze_problem(maze, pid)
    _LAST_MADE = (problem, maze)
    return problem


def _problem_maze(problem: Problem) -> Maze:
    last = _LAST_MADE
    if last is not None and last[0] is problem:
        return last[1]
    return Maze.from_dict(problem.meta["maze"])


def maze_source(
    layout: str = "classic",
    rows: int = 5,
    cols: int = 5,
    horizon: int | None = None,
    split: str = "train",
) -> ProblemSource:
    """The problems of a maze env: the one classic maze, or procedural mazes (unbounded, seeded).

    Procedural problem ids name the generator version, size and horizon, e.g.
    ``maze-g0/5x5-hauto/train/17``: the same id means the same maze on every machine.
    """
    if layout == "classic":
        maze = classic_maze()
        if horizon is not None:
            maze = Maze(maze.rows, maze.cols, maze.walls, maze.start, maze.goal, int(horizon), maze.name)
        return ListSource([maze_problem(maze, "maze/classic" + ("" if horizon is None else f"-h{horizon}"))])
    if layout == "random":
        rows, cols = int(rows), int(cols)
        h = None if horizon is None else int(horizon)
        name = f"maze-g{GENERATOR_VERSION}/{rows}x{cols}-h{'auto' if h is None else h}"

        generate_maze(rows, cols, np.random.default_rng(0), horizon=h)  # fail fast on bad sizes
        return GeneratorSource(name, partial(_random_problem, rows, cols, h), split=split)
    raise ValueError(f"layout must be 'classic' or 'random', got {layout!r}")


# --------------------------------------------------------------------------------------------
# The environment
# --------------------------------------------------------------------------------------------


class MazeEnv(TextEnv):
    """The maze as a text env: ``mode="multi"`` (one move per step) or ``"single"`` (whole path).

    ``layout="classic"`` plays the seed's 4x4 maze (horizon 6); ``layout="random"`` draws a
    procedural ``rows`` x ``cols`` maze per problem. ``horizon`` overrides the number of moves.
    """

    #: Hooks read by generic code (see `thinkgym.core`): reaching the goal is "solved", and each
    #: move must stay one token.
    success_component = "goal"
    action_tokens = MOVES

    def __init__(
        self,
        mode: str = "multi",
        layout: str = "classic",
        rows: int = 5,
        cols: int = 5,
        horizon: int | None = None,
        split: str = "train",
        **kwargs: Any,
    ):
        if mode not in ("multi", "single"):
            raise ValueError(f"mode must be 'multi' or 'single', got {mode!r}")
        self.mode = mode
        self.layout = layout
        kwargs.setdefault("max_action_chars", 4096)
        super().__init__(maze_source(layout, rows, cols, horizon, split), max_turns=1, **kwargs)
        self.maze: Maze | None = None
        self.position: Cell = (0, 0)

    # ---- episode state ----------------------------------------------------------------------

    def _on_reset(self, problem: Problem) -> None:
        self.maze = _problem_maze(problem)
        self.position = self.maze.start
        self.max_turns = self.maze.horizon if self.mode == "multi" else 1

    @property
    def steps_left(self) -> int:
        return self.max_turns - self.turn if self.mode == "multi" else 0

    def first_observation(self, problem: Problem) -> str:
        if self.mode == "single":
            return problem.prompt
        return self._multi_observation("Reach G. Answer with one move at a time.")

    def _multi_observation(self, headline: str) -> str:
        assert self.maze is not None
        where = f"You are at @ (row {self.position[0] + 1}, column {self.position[1] + 1})."
        if self.position == self.maze.goal:
            return f"{headline}\n{self.maze.render(self.position)}\n{where} The episode is over."
        if self.steps_left <= 0:
            return f"{headline}\n{self.maze.render(self.position)}\n{where} No moves left: the episode is over."
        permitted = ", ".join(self.maze.permitted(self.position))
        return (
            f"{headline}\n{self.maze.render(self.position)}\n"
            f"{where} Moves left: {self.steps_left}. Permitted moves: {permitted}.\n"
            "Answer with one move: R (right), L (left), U (up) or D (down)."
        )

    # ---- turns ------------------------------------------------------------------------------

    def respond(self, action: str) -> Turn:
        assert self.maze is not None and self.problem is not None
        if self.mode == "single":
            return Turn("", verify_path(action, self.problem), True)
        move = parse_move(action)
        permitted = self.maze.permitted(self.position)
        if move is None:
            reward = Reward.zero(
                f"not a move: answer R, L, U or D (permitted here: {', '.join(permitted)}); the step is wasted",
                {"goal": 0.0},
            )
            headline = "That was not a move; you stay where you are."
        elif move not in permitted:
            reward = Reward.zero(
                f"a wall blocks {MOVE_NAMES[move]} ({move}); permitted here: {', '.join(permitted)}; the step is wasted",
                {"goal": 0.0},
                move=move,
            )
            headline = f"A wall blocks {MOVE_NAMES[move]}; you stay where you are."
        else:
            self.position = self.maze.neighbor(self.position, move)  # type: ignore[assignment]
            if self.position == self.maze.goal:
                reward = Reward(GOAL_REWARD, {"goal": 1.0}, {"move": move})
                return Turn(self._multi_observation("You reached the goal!"), reward, True)
            reward = Reward(0.0, {"goal": 0.0}, {"move": move})
            headline = f"You moved {MOVE_NAMES[move]}."
        return Turn(self._multi_observation(headline), reward, False)

    def valid_actions(self) -> list[str] | None:
        if self.mode == "single" or self.maze is None:
            return None
        return list(self.maze.permitted(self.position))

    def oracle_action(self) -> str:
        """An optimal next move (multi mode) or an optimal whole path (single mode)."""
        if self.mode == "single" or self.maze is None:
            return super().oracle_action()
        path = optimal_path(self.maze, self.position, allow_longer=True)
        return path[0] if path else self.maze.permitted(self.position)[0]

    def exact_references(self, problem: Problem) -> dict[str, Any] | None:
        """Exact expectations for one maze (multi-turn mode) by dynamic programming: the return of
        the policy uniform over the permitted moves (a `Fraction` on the classic layout; floats on
        procedural mazes, where the same DP in floats is much faster) and the optimal return."""
        if self.mode != "multi" or "maze" not in problem.meta:
            return None
        maze = _problem_maze(problem)
        optimal = optimal_value(maze)
        return {
            "random_mean_reward": expected_return(maze, exact=self.layout == "classic"),
            "optimal_mean_reward": optimal,
            "optimal_accuracy": 1.0 if optimal > 0 else 0.0,
        }

    def extra_info(self) -> dict[str, Any]:
        if self.mode == "single" or self.maze is None:
            return {}
        return {
            "action_mask": self.maze.action_mask(self.position),
            "position": self.position,
            "steps_left": self.steps_left,
        }

    def render_text(self) -> str:
        if self.mode == "multi" and self.maze is not None:
            return f"{self.maze.render(self.position)}\nreward {self._last_reward.score:g}, moves left {self.steps_left}"
        return super().render_text()


register(
    "thinkgym/Maze-v0",
    "thinkgym.envs.maze:MazeEnv",
    description="Grid maze, one move (R/L/U/D) per step; 10.0 at the goal within the horizon (classic 4x4, or layout='random').",
    mode="multi",
    layout="classic",
)
register(
    "thinkgym/MazePath-v0",
    "thinkgym.envs.maze:MazeEnv",
    description="Grid maze, the whole path in one answer (e.g. 'RRDD'), verified by replay; 10.0 if it reaches the goal.",
    mode="single",
    layout="classic",
)
