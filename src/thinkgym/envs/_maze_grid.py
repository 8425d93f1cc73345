"""The grid machinery behind `thinkgym.envs.maze.generate_maze`: tables built once per grid size
and the cheap, numpy-exact bounded draws, so a procedural reset costs about what reasoning-gym's
maze generator costs (``perf/rg_bench.py``; it was ~6x slower).

Why a separate module: apart from the move alphabet and the goal reward (shared with
`thinkgym.envs.maze_values`), none of this is the maze's meaning (that is `thinkgym.envs.maze`); it is
how the same mazes are produced faster. Every table is derived from the grid size alone; the
tests compare `generate_maze` with the step-by-step reference generator seed by seed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

Cell = tuple[int, int]  # (row, column), (0, 0) is the top-left cell

#: The move alphabet, in the order of ``info["action_mask"]``: right, left, up, down.
MOVES: tuple[str, ...] = ("R", "L", "U", "D")
MOVE_NAMES: dict[str, str] = {"R": "right", "L": "left", "U": "up", "D": "down"}
DELTAS: dict[str, tuple[int, int]] = {"R": (0, 1), "L": (0, -1), "U": (-1, 0), "D": (1, 0)}
#: Reward for reaching the goal (the seed's 10.0); every other step earns 0.0.
GOAL_REWARD = 10.0
#: The neighbour order (R, L, U, D) the carving's random choices index into.
DELTA_ORDER: tuple[tuple[int, int], ...] = tuple(DELTAS[m] for m in MOVES)


def _edge(a: Cell, b: Cell) -> tuple[Cell, Cell]:
    return (a, b) if a <= b else (b, a)


@lru_cache(maxsize=64)
def _grid_links(rows: int, cols: int) -> dict[Cell, tuple[tuple[Cell, tuple[Cell, Cell]], ...]]:
    """For each cell, its in-grid neighbours in `DELTAS` order, each with the wall key between them.

    Built once per grid size: generation and every BFS walk this table instead of recomputing
    bounds and `_edge` keys per step (the reset of a 5x5 maze does two BFS passes and one DFS).
    """
    links = {}
    for r in range(rows):
        for c in range(cols):
            out = []
            for dr, dc in DELTA_ORDER:
                nxt = (r + dr, c + dc)
                if 0 <= nxt[0] < rows and 0 <= nxt[1] < cols:
                    out.append((nxt, _edge((r, c), nxt)))
            links[(r, c)] = tuple(out)
    return links


@lru_cache(maxsize=64)
def _inner_walls(rows: int, cols: int) -> tuple[tuple[Cell, Cell], ...]:
    """Every wall between two neighbouring cells of the grid (the maze before carving), sorted:
    the walls of any maze of this size, sorted, are this tuple filtered (no sort per maze)."""
    return tuple(sorted(
        _edge((r, c), (r + dr, c + dc))
        for r in range(rows)
        for c in range(cols)
        for dr, dc in ((0, 1), (1, 0))
        if r + dr < rows and c + dc < cols
    ))


def _lemire_below(next_uint32: Callable[[Any], int], state: Any, k: int) -> int:
    """numpy's bounded draw for ``Generator.integers(k)`` (k < 2**32): Lemire's method on 32-bit
    outputs, exactly as numpy's C code does it (``buffered_bounded_lemire_uint32``)."""
    m = next_uint32(state) * k
    leftover = m & 0xFFFFFFFF
    if leftover < k:
        threshold = (0xFFFFFFFF - (k - 1)) % k
        while leftover < threshold:
            m = next_uint32(state) * k
            leftover = m & 0xFFFFFFFF
    return m >> 32


@lru_cache(maxsize=1)
def _bitgen_access() -> tuple[Any, Any, dict[int, Any]]:
    """ctypes views of numpy's ``bitgen_t`` (the struct a bit generator's capsule points to),
    built once: reading a generator's ``next_uint32`` and state this way costs ~1 µs, where its
    ``.ctypes`` interface costs ~10 µs per generator (and every problem has its own)."""
    import ctypes

    class BitGen(ctypes.Structure):  # numpy/random/bitgen.h
        _fields_ = [(name, ctypes.c_void_p) for name in ("state", "next_uint64", "next_uint32", "next_double", "next_raw")]

    pointer_of = ctypes.pythonapi.PyCapsule_GetPointer
    pointer_of.restype = ctypes.c_void_p
    pointer_of.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return BitGen, pointer_of, {}


def _uint32_source(rng: np.random.Generator) -> tuple[Callable[[Any], int], Any]:
    """``(next_uint32, state)`` of ``rng``'s bit generator: ``next_uint32(state)`` is the draw
    numpy's ``integers`` makes (the generator must outlive their use)."""
    struct, pointer_of, functions = _bitgen_access()
    bitgen = struct.from_address(pointer_of(rng.bit_generator.capsule, b"BitGenerator"))
    function = functions.get(bitgen.next_uint32)
    if function is None:  # once per process (one C function for every PCG64)
        import ctypes

        function = functions[bitgen.next_uint32] = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p)(bitgen.next_uint32)
    return function, bitgen.state


@lru_cache(maxsize=1)
def _lemire_matches_numpy() -> bool:
    """Whether `_lemire_below` reproduces this numpy's ``integers`` (checked once per process on
    mixed draws; when it does not, generation calls ``rng.integers`` as before)."""
    try:
        for seed in range(8):
            ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
            next_uint32, state = _uint32_source(ours)
            for k in (2, 3, 4, 5, 7, 25, 1000, 2**31 + 11):
                if _lemire_below(next_uint32, state, k) != int(theirs.integers(k)):
                    return False
                if ours.random() != theirs.random():
                    return False
        return True
    except Exception:  # noqa: BLE001 - no capsule or ctypes: use numpy's own call
        return False


def _int_drawer(rng: np.random.Generator) -> Callable[[int], int]:
    """``k -> int(rng.integers(k))`` drawing the very same numbers, about 5x cheaper per call.

    Why: a 5x5 maze makes ~20 such draws, and numpy's per-call overhead (~4 µs) was half of a
    procedural reset. The draw goes through the bit generator's C ``next_uint32`` (PCG64,
    what `thinkgym.core.problem_seed` makes); anything else, or a numpy whose algorithm differs
    (`_lemire_matches_numpy`), uses ``rng.integers``. ``k == 1`` draws nothing in numpy either.
    """
    if type(rng.bit_generator) is np.random.PCG64 and _lemire_matches_numpy():
        next_uint32, state = _uint32_source(rng)

        def below(k: int) -> int:  # `_lemire_below`, inlined: this is the hot loop of a reset
            if k == 1:
                return 0
            m = next_uint32(state) * k
            if (m & 0xFFFFFFFF) < k:
                threshold = (0xFFFFFFFF - (k - 1)) % k
                while (m & 0xFFFFFFFF) < threshold:
                    m = next_uint32(state) * k
            return m >> 32

        return below
    return lambda k: int(rng.integers(k))


@lru_cache(maxsize=64)
def _grid_template(rows: int, cols: int) -> tuple[bytes, tuple[tuple[int, bytes], ...]]:
    """The drawing of the grid with every inner wall, and where each wall (by `_grid_index`
    number) sits in it: ``(offset, spaces)``; a maze's drawing is this with its open walls blanked."""
    inner = _inner_walls(rows, cols)
    # with every wall standing, each wall line is "+---+…+" and each cell line "|   |…|"
    full = ["+---" * cols + "+"]
    for _ in range(rows):
        full += ["|   " * cols + "|", "+---" * cols + "+"]
    width = 4 * cols + 2  # a line and its newline
    spans = []
    for a, b in inner:
        if a[0] != b[0]:  # b below a: the '---' on the line above b's row
            spans.append(((2 * b[0]) * width + 4 * b[1] + 1, b"   "))
        else:  # b right of a: the '|' left of b
            spans.append(((2 * b[0] + 1) * width + 4 * b[1], b" "))
    return "\n".join(full).encode(), tuple(spans)


def _index_bfs(links: tuple, removed: bytearray, origin: int) -> list[int]:
    """`_grid_bfs` over `_grid_index` integers (-1: unreachable)."""
    dist = [-1] * len(links)
    dist[origin] = 0
    queue = [origin]
    for cell in queue:  # the list grows while it is walked: a FIFO without deque
        step = dist[cell] + 1
        for nxt, wall in links[cell]:
            if dist[nxt] < 0 and removed[wall]:
                dist[nxt] = step
                queue.append(nxt)
    return dist


@lru_cache(maxsize=64)
def _grid_index(rows: int, cols: int) -> tuple[tuple[Cell, ...], tuple[tuple[Cell, Cell], ...], tuple]:
    """Cells (row-major), inner walls (sorted) and, per cell, ``(neighbour, wall)`` index pairs
    in `DELTAS` order: the integer form of `_grid_links` that `generate_maze` carves in."""
    cells = tuple((r, c) for r in range(rows) for c in range(cols))
    inner = _inner_walls(rows, cols)
    wall_index = {wall: i for i, wall in enumerate(inner)}
    links = tuple(
        tuple((nxt[0] * cols + nxt[1], wall_index[wall]) for nxt, wall in _grid_links(rows, cols)[cell])
        for cell in cells
    )
    return cells, inner, links


@lru_cache(maxsize=64)
def _link_moves(rows: int, cols: int) -> tuple[tuple[int, ...], ...]:
    """Per cell, the `DELTA_ORDER` index (= the move's index in `MOVES`) of each of its links."""
    out = []
    for r in range(rows):
        for c in range(cols):
            out.append(tuple(i for i, (dr, dc) in enumerate(DELTA_ORDER) if 0 <= r + dr < rows and 0 <= c + dc < cols))
    return tuple(out)


def _index_path(links: tuple, moves: tuple, removed: bytearray, to_goal: list[int], origin: int) -> list[int]:
    """`thinkgym.envs.maze.optimal_path` over indices: the move indices of the shortest path from
    ``origin``, ties broken in `MOVES` order (the first link one step closer)."""
    path = []
    cell = origin
    while to_goal[cell] > 0:
        want = to_goal[cell] - 1
        for (nxt, wall), move in zip(links[cell], moves[cell]):  # noqa: B905 - aligned tables
            if removed[wall] and to_goal[nxt] == want:
                path.append(move)
                cell = nxt
                break
    return path
