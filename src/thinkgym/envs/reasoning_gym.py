"""reasoning-gym's task families as thinkgym envs: ``rg/<name>-v0`` for every dataset it registers.

Install the optional bridge with ``pip install "thinkgym[reasoning-gym]"``. Then each of
reasoning-gym's ~100 procedural families (arithmetic, algebra, logic, graphs, games, cognition …)
is an env: ``thinkgym.make("rg/countdown-v0")``, ``gymnasium.make("rg/countdown-v0")``, listed by
``thinkgym list``. Problems come from reasoning-gym's own seeded generators; rewards use its own
``score_answer`` as the ``accuracy`` component, next to our ``format`` reward, exactly like the
math envs (`thinkgym.envs.math.MathEnv`).

**Why a bridge and not a port**: the generators are reasoning-gym's work; what they lack is what
thinkgym adds (a `reset`/`step` contract that passes `thinkgym.utils.check_env`, think/answer
format rewards, the token view, TRL adapters, frozen suites), and a scorer that cannot be farmed.

**Registration is lazy.** This module is loaded through the ``thinkgym.envs`` entry point at
``import thinkgym`` and registers the ids from `DATASETS` (the families of reasoning-gym
0.1.25) without importing reasoning-gym (which takes seconds); reasoning-gym is imported when an
env is made. When it is not installed nothing is registered and ``thinkgym.make("rg/…")`` says to
``pip install "thinkgym[reasoning-gym]"``. `register_all` adds families of a newer or extended
reasoning-gym (it imports it).

**Problems.** Keyword arguments of ``make`` that are not env options go to the family's config
dataclass (``thinkgym.make("rg/countdown-v0", min_numbers=3, max_numbers=4)``; `describe`
lists the fields and defaults). ``seed`` (default 0, not reasoning-gym's random default) and
``size`` (the family's default, usually 500) fix the problem set: problem ``i`` is
reasoning-gym's item ``i`` of that dataset, and its id is
``rg/<name>/<config>/<i>`` with ``<config>`` = ``s<seed>`` plus a digest of any other arguments,
the same on every machine. ``reset(seed=)`` draws an index in ``[0, size)``.

**Difficulty and curricula.** Each family's config holds its difficulty knobs (number of terms,
value ranges, grid sizes …; see `describe(name)`). Families with a reasoning-gym curriculum also
take ``level=k`` (0 = easiest): the curriculum's attribute levels set the config fields (capped
at each attribute's highest level), and explicit keyword arguments still win. A curriculum
schedule is then a list of envs by level (``[make(id, level=k) for k in range(4)]``), or a suite.

**Rewards.** ``think=True`` asks for ``<think>…</think>`` then ``<answer>…</answer>`` (reasoning-gym's
own answer tag; ``answer_tag=None`` reads the free text after ``</think>``). The accuracy part reads
only the answer (never the thinking); two answer blocks are a hedge and earn 0. ``accuracy`` is
1.0 only when reasoning-gym's score is 1.0: its partial credit (0.01 for any wrong answer, 0.05
for a formatted one, ``len(gold)/len(answer)`` for an answer that *contains* the gold, so listing
every candidate earns something) is kept in ``info["rg_score"]`` but not counted, unless
``partial_credit=True``. Families whose scoring is known wrong use strict checkers, and answers
that reasoning-gym would ``eval`` are screened first (`thinkgym.envs._rg_strict` lists them).

**Containment.** Generation runs in-process (seeded, deterministic); a generator that raises
gives a problem whose every answer earns 0 with the reason (the env never crashes). Scoring runs
in a bounded worker process (`thinkgym.verifiers.bounded.BoundedPool`), so a scorer that raises,
dies or hangs costs at most ``score_timeout`` seconds and earns 0 with the reason.

>>> import thinkgym
>>> env = thinkgym.make("rg/basic_arithmetic-v0")  # doctest: +SKIP
>>> observation, info = env.reset(seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import json
import math
import re
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from thinkgym.core import Problem, ProblemSource, Reward, SingleTurnEnv
from thinkgym.errors import ConfigError
from thinkgym.verifiers.format import ThinkFormat, answer_part, with_format_reward

__all__ = [
    "DATASETS",
    "INSTALL_HINT",
    "ReasoningGymEnv",
    "ReasoningGymSource",
    "ReasoningGymScore",
    "available",
    "describe",
    "register_all",
    "register_envs",
    "worker_pool",
]

INSTALL_HINT = 'pip install "thinkgym[reasoning-gym]"'
NAMESPACE = "rg"
#: The reasoning-gym version `DATASETS` was listed from (a test compares it with the installed one).
LISTED_VERSION = "0.1.25"
#: reasoning-gym datasets that are not task families: ``composite`` mixes other datasets (and
#: cannot be built without a list of them); mix families with a suite or a vector env instead.
NOT_FAMILIES: frozenset[str] = frozenset({"composite"})
#: Every family of reasoning-gym 0.1.25, registered as ``rg/<name>-v0`` without importing it.
DATASETS: tuple[str, ...] = (
    "ab", "acre", "advanced_geometry", "aiw", "arc_1d", "arc_agi", "base_conversion",
    "basic_arithmetic", "bf", "binary_alternation", "binary_matrix", "bitwise_arithmetic", "boxnet",
    "caesar_cipher", "calendar_arithmetic", "chain_sum", "circuit_logic", "codeio", "coin_flip",
    "color_cube_rotation", "complex_arithmetic", "count_bits", "count_primes",
    "countdown", "course_schedule", "cryptarithm", "decimal_arithmetic", "decimal_chain_sum",
    "dice", "emoji_mystery", "family_relationships", "figlet_font", "fraction_simplification",
    "futoshiki", "game_of_life", "game_of_life_halting", "gcd", "graph_color", "group_anagrams",
    "gsm_symbolic", "intermediate_integration", "isomorphic_strings", "jugs", "kakurasu",
    "knight_swap", "knights_knaves", "largest_island", "lcm", "leg_counting", "letter_counting",
    "letter_jumble", "list_functions", "mahjong_puzzle", "manipulate_matrix", "maze", "mini_sudoku",
    "modulo_grid", "n_queens", "needle_haystack", "number_filtering", "number_format",
    "number_sequence", "number_sorting", "palindrome_generation", "palindrome_partitioning",
    "path_star", "polynomial_equations", "polynomial_multiplication", "pool_matrix",
    "power_function", "prime_factorization", "products", "propositional_logic", "puzzle24",
    "quantum_lock", "ransom_note", "rearc", "rectangle_count", "rotate_matrix", "rotten_oranges",
    "rubiks_cube", "rush_hour", "self_reference", "sentence_reordering", "shortest_path",
    "simple_equations", "simple_geometry", "simple_integration", "sokoban", "spell_backward",
    "spiral_matrix", "string_insertion", "string_manipulation", "string_splitting",
    "string_synthesis", "sudoku", "survo", "syllogism", "time_intervals", "tower_of_hanoi",
    "tsumego", "word_ladder", "word_sequence_reversal", "word_sorting", "zebra_puzzles",
)

DEFAULT_TEMPLATE = "{problem}\n\n{instruction}"
_ENV_OPTIONS = frozenset(
    "think think_tag answer_tag accuracy_weight format_weight format_mode gate partial_credit strict "
    "score_timeout max_answer_chars prompt_template".split()
)


def available() -> bool:
    """Whether reasoning-gym is installed (checked without importing it)."""
    if "reasoning_gym" in sys.modules:
        return sys.modules["reasoning_gym"] is not None  # None: blocked on purpose
    try:
        return importlib.util.find_spec("reasoning_gym") is not None
    except (ImportError, ValueError):
        return False


def _factory() -> Any:
    """reasoning-gym's registry module, or a clear error naming the extra."""
    try:
        from reasoning_gym import factory
    except ImportError as exc:
        raise ConfigError(f"the rg/ envs need reasoning-gym, which is not installed: {INSTALL_HINT}") from exc
    return factory


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("reasoning_gym")
    except metadata.PackageNotFoundError:
        return "unknown"


# --------------------------------------------------------------------------------------------
# Configs and generation (in this process, cached)
# --------------------------------------------------------------------------------------------


def _config_fields(name: str) -> dict[str, Any]:
    """``{field: default}`` of the family's config dataclass."""
    factory = _factory()
    if name not in factory.DATASETS:
        raise ConfigError(f"reasoning-gym {_version()} has no dataset {name!r}")
    config_cls = factory.DATASETS[name][1]
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config_cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            out[f.name] = f.default_factory()  # type: ignore[misc]
        else:
            out[f.name] = None
    return out


def _curriculum_fields(name: str, level: int) -> dict[str, Any]:
    """The config fields a reasoning-gym curriculum sets at ``level`` (0 = easiest)."""
    factory = _factory()
    if name not in factory.CURRICULA:
        raise ConfigError(f"rg/{name} has no reasoning-gym curriculum, so level= does not apply; set its config fields")
    if isinstance(level, bool) or not isinstance(level, int) or level < 0:
        raise ConfigError(f"level must be an int >= 0, got {level!r}")
    curriculum = factory.CURRICULA[name]()
    curriculum.set_global_level(level)
    config = curriculum.generate_configuration()
    fields: dict[str, Any] = {}
    for attr in curriculum.attributes.values():
        for key in ("lower_field_name", "upper_field_name", "field_name"):
            field_name = getattr(attr, key, None)
            if field_name:
                fields[field_name] = getattr(config, field_name)
    return fields


def describe(name: str) -> dict[str, Any]:
    """A family's config fields with defaults, and its curriculum's attributes and levels (if any)."""
    factory = _factory()
    info: dict[str, Any] = {"id": f"{NAMESPACE}/{name}-v0", "config": _config_fields(name), "curriculum": None}
    if name in factory.CURRICULA:
        curriculum = factory.CURRICULA[name]()
        info["curriculum"] = {
            attr.name: {"levels": list(attr.levels), "description": getattr(attr, "description", "")}
            for attr in curriculum.attributes.values()
        }
    return info


def _jsonable(value: Any) -> Any:
    """A plain-JSON copy (problems travel as JSON to TRL datasets and run stores): tuples and sets
    become lists, mapping keys strings, numpy values Python ones, anything else its ``repr``.
    (A hand-written walk: ``json.loads(json.dumps(...))`` cost 3x as much per problem.)"""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [_jsonable(v) for v in sorted(value, key=repr)]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _jsonable(value.tolist())
    return repr(value)


@functools.lru_cache(maxsize=128)
def _config_of(config_key: str) -> dict[str, Any]:
    return json.loads(config_key)


@functools.lru_cache(maxsize=128)
def _dataset(name: str, config_key: str) -> Any:
    return _factory().create_dataset(name, **json.loads(config_key))


#: Families whose generators iterate over Python sets of strings, so the same seed gives a
#: different problem in every process (string hashing is salted per interpreter). Found by
#: generating every family under two ``PYTHONHASHSEED`` values (``perf/rg_bench.py --audit``).
#: Their problems are generated in the worker process, which runs with ``PYTHONHASHSEED=0``.
HASH_SEEDED: frozenset[str] = frozenset(
    {"isomorphic_strings", "knight_swap", "list_functions", "polynomial_multiplication", "ransom_note", "word_ladder"}
)
#: Seconds a generation in the worker may take (the slowest families take ~2 s on a loaded CPU).
GENERATION_TIMEOUT = 120.0


@functools.lru_cache(maxsize=8192)
def _entry(name: str, config_key: str, index: int) -> dict[str, Any]:
    if name not in HASH_SEEDED:
        return _dataset(name, config_key)[index]
    result = worker_pool().call(_generate_in_worker, name, config_key, index, timeout=GENERATION_TIMEOUT)
    if not result.ok:
        raise RuntimeError(f"generation in the worker {result.status}: {result.error}")
    return result.value


def _generate_in_worker(name: str, config_key: str, index: int) -> dict[str, Any]:
    """Runs in the worker: item ``index``, refusing to run without the fixed hash seed."""
    import os

    if os.environ.get("PYTHONHASHSEED") != _HASH_SEED:
        raise RuntimeError("the worker was not started with a fixed PYTHONHASHSEED; refusing to generate")
    return _dataset(name, config_key)[index]


class ReasoningGymSource(ProblemSource):
    """Problem ``i`` is item ``i`` of reasoning-gym's dataset ``name`` built with ``config``.

    Holds only the name and config (the dataset object is rebuilt on demand in each process), so
    it pickles small and identically.
    """

    def __init__(self, name: str, config: Mapping[str, Any], tag: str):
        self.name = name
        self.config = _jsonable(dict(config))
        self.config_key = json.dumps(self.config, sort_keys=True)
        self.tag = tag
        try:
            dataset = _dataset(name, self.config_key)
        except ConfigError:
            raise
        except Exception as exc:  # reasoning-gym validates configs with asserts
            raise ConfigError(f"rg/{name}: invalid config {self.config}: {type(exc).__name__}: {exc}") from exc
        self.size = int(len(dataset))
        if self.size < 1:
            raise ConfigError(f"rg/{name}: size must be >= 1")

    def get(self, index: int) -> Problem:
        return _problem(self.name, self.config_key, self.tag, int(index) % self.size)


@functools.lru_cache(maxsize=8192)
def _problem(name: str, config_key: str, tag: str, index: int) -> Problem:
    """Problem ``index`` (cached: an episode's reset, its scoring and a replay share one)."""
    pid = f"{NAMESPACE}/{name}/{tag}/{index}"
    key = {"dataset": name, "config": dict(_config_of(config_key)), "index": index}
    try:
        item = _entry(name, config_key, index)
        question = item["question"]
        if not isinstance(question, str) or not question:
            raise ValueError("the generated question is not a non-empty string")
    except Exception as exc:  # noqa: BLE001 - a generator bug must not crash the env
        reason = f"reasoning-gym failed to generate {name} item {index}: {type(exc).__name__}: {exc}"[:500]
        prompt = f"[{reason}] There is no problem to solve; any answer earns 0."
        return Problem(pid, prompt, None, {"rg": key, "rg_error": reason})
    metadata = _jsonable(item.get("metadata") or {})
    answer = item.get("answer")
    meta = {"rg": key, "metadata": metadata, "difficulty": metadata.get("difficulty")}
    return Problem(pid, question, None if answer is None else str(answer), meta)


def _config_tag(seed: int, explicit: Mapping[str, Any]) -> str:
    """``s<seed>`` plus a short digest of the other explicit arguments (stable across machines)."""
    rest = {k: v for k, v in explicit.items() if k != "seed"}
    if not rest:
        return f"s{seed}"
    digest = hashlib.sha256(json.dumps(_jsonable(rest), sort_keys=True).encode()).hexdigest()[:10]
    return f"s{seed}-{digest}"


# --------------------------------------------------------------------------------------------
# Scoring (in a bounded worker process)
# --------------------------------------------------------------------------------------------

_POOL: Any = None
_POOL_LOCK = threading.Lock()
_HASH_SEED = "0"


def worker_pool() -> Any:
    """The shared worker pool that runs reasoning-gym's scorers (and the `HASH_SEEDED`
    generators), started on first use with ``PYTHONHASHSEED=0`` so its results do not depend on
    the process."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            pool_class = _fixed_hash_pool_class()  # bounded.py is imported only when a pool is needed
            _POOL = pool_class(1, preload=("reasoning_gym", __name__), memory_limit_mb=4096)
        return _POOL


@functools.lru_cache(maxsize=1)
def _fixed_hash_pool_class() -> type:
    from thinkgym.verifiers.bounded import BoundedPool

    class FixedHashPool(BoundedPool):
        """A `BoundedPool` whose template interpreter (and so every worker) starts with a fixed
        ``PYTHONHASHSEED``. The template copies ``os.environ`` when it starts, so the variable is
        set around that moment only (under a lock); the worker functions check it, so a template
        started any other way fails closed instead of generating process-dependent problems."""

        def _get_template(self) -> Any:
            import os

            with _ENV_LOCK:
                saved = os.environ.get("PYTHONHASHSEED")
                os.environ["PYTHONHASHSEED"] = _HASH_SEED
                try:
                    return super()._get_template()
                finally:
                    if saved is None:
                        os.environ.pop("PYTHONHASHSEED", None)
                    else:
                        os.environ["PYTHONHASHSEED"] = saved

    return FixedHashPool


_ENV_LOCK = threading.Lock()


def _score_in_worker(name: str, config_key: str, answer: str, entry: dict[str, Any]) -> float:
    """Runs in the worker: reasoning-gym's own ``score_answer`` on one answer."""
    return float(_dataset(name, config_key).score_answer(answer, entry))


_ANSWER_BLOCK: dict[str, re.Pattern[str]] = {}


def _extract(completion: str, fmt: ThinkFormat, think: bool) -> tuple[str | None, str]:
    """The answer text (or None) and where it came from / why none."""
    part = answer_part(completion, fmt, require_think=think)
    if not part.strip():
        return None, "no answer after " + (fmt.think_close if think else "the completion")
    if fmt.answer_tag is None:
        return part.strip(), "text after the think block"
    pattern = _ANSWER_BLOCK.get(fmt.answer_tag)
    if pattern is None:
        pattern = _ANSWER_BLOCK[fmt.answer_tag] = re.compile(
            re.escape(str(fmt.answer_open)) + r"(.*?)" + re.escape(str(fmt.answer_close)), re.DOTALL
        )
    blocks = pattern.findall(part)
    if not blocks:
        return None, f"no {fmt.answer_open}…{fmt.answer_close} block"
    if len(blocks) > 1:
        return None, f"{len(blocks)} answer blocks: a hedge earns 0"
    return blocks[0].strip(), "answer block"


@dataclass(frozen=True)
class ReasoningGymScore:
    """The accuracy verifier of the bridged envs: reasoning-gym's scorer, bounded and binarized.

    The entry scored against is regenerated from the problem's stable key (``meta["rg"]``), never
    taken from the problem's text, so a `Problem` that travelled as JSON (TRL datasets, run
    stores) scores exactly like the original, and a problem whose prompt does not match its
    generator earns 0.
    """

    fmt: ThinkFormat = ThinkFormat(answer_tag="answer")
    think: bool = True
    strict: bool = True
    partial_credit: bool = False
    timeout: float = 10.0
    max_answer_chars: int = 20_000

    def __call__(self, completion: str, problem: Problem) -> Reward:
        key = problem.meta.get("rg") if isinstance(problem.meta, Mapping) else None
        if not isinstance(key, Mapping):
            return Reward.zero("not a reasoning-gym problem (no meta['rg'])", {"accuracy": 0.0})
        if problem.meta.get("rg_error"):
            return Reward.zero(str(problem.meta["rg_error"]), {"accuracy": 0.0})
        answer, where = _extract(completion, self.fmt, self.think)
        if answer is None:
            return Reward.zero(where, {"accuracy": 0.0})
        if len(answer) > self.max_answer_chars:
            return Reward.zero(f"answer of {len(answer)} characters exceeds {self.max_answer_chars}", {"accuracy": 0.0})
        name = str(key.get("dataset"))
        config_key = json.dumps(key.get("config") or {}, sort_keys=True)
        try:
            entry = _entry(name, config_key, int(key.get("index", -1)))
        except Exception as exc:  # noqa: BLE001 - contained: reward 0 with the reason
            return Reward.zero(f"could not regenerate the problem: {type(exc).__name__}: {exc}"[:300], {"accuracy": 0.0})
        if entry.get("question") != problem.prompt:
            return Reward.zero("the problem's text does not match its reasoning-gym generator", {"accuracy": 0.0})
        raw, scorer, reason = self._raw_score(name, config_key, answer, entry)
        info: dict[str, Any] = {"answer": answer[:500], "scorer": scorer, "rg_score": raw, "reason": reason}
        if raw is None:
            return Reward(0.0, {"accuracy": 0.0}, {**info, "error": reason})
        score = raw if self.partial_credit else (1.0 if raw >= 1.0 - 1e-9 else 0.0)
        if score < 1.0 and "error" not in info:
            info["error"] = reason if raw == 0 else f"partial credit {raw:g} from reasoning-gym is not counted as correct"
            if self.partial_credit:
                info.pop("error")
        return Reward(score, {"accuracy": score}, info)

    def _raw_score(self, name: str, config_key: str, answer: str, entry: dict[str, Any]) -> tuple[float | None, str, str]:
        """(score in [0, 1] or None when scoring failed, which scorer, why)."""
        from thinkgym.envs import _rg_strict  # here, not at import: `import thinkgym` stays lean
        checker = _rg_strict.STRICT_CHECKERS.get(name) if self.strict else None
        if checker is not None:
            try:
                score, reason = checker(answer, entry)
            except Exception as exc:  # noqa: BLE001 - a checker bug must not crash the env
                return None, f"strict:{name}", f"strict checker failed: {type(exc).__name__}: {exc}"
            return score, f"strict:{name}", reason
        guard = _rg_strict.GUARDS.get(name)
        if guard is not None and answer != str(entry.get("answer")):
            refused = guard(answer)
            if refused:
                return None, "guard", f"answer refused before scoring (reasoning-gym would evaluate it): {refused}"
        result = worker_pool().call(_score_in_worker, name, config_key, answer, entry, timeout=self.timeout)
        if not result.ok:
            return None, "reasoning-gym", f"reasoning-gym's scorer {result.status}: {result.error}"[:500]
        raw = result.value
        if not isinstance(raw, (int, float)) or not math.isfinite(raw):
            return None, "reasoning-gym", f"reasoning-gym's scorer returned {raw!r}"
        raw = min(max(float(raw), 0.0), 1.0)
        return raw, "reasoning-gym", "correct" if raw >= 1.0 - 1e-9 else "reasoning-gym scored it below 1"


# --------------------------------------------------------------------------------------------
# The env
# --------------------------------------------------------------------------------------------


#: Metadata keys where reasoning-gym keeps an example answer for families without a gold one.
_EXAMPLE_KEYS = ("possible_answer", "example_answer", "example_correct_answer")


class ReasoningGymEnv(SingleTurnEnv):
    """``rg/<name>-v0``: one reasoning-gym problem, one answer, reward = accuracy + format.

    Env options (everything else goes to the family's config; see the module docstring):
    ``think``, ``think_tag``, ``answer_tag`` (default ``"answer"``), ``accuracy_weight`` (0.9),
    ``format_weight`` (0.1), ``format_mode`` (``strict``/``partial``), ``gate`` (accuracy counts
    only with the format), ``partial_credit`` (count reasoning-gym's partial scores; farmable),
    ``strict`` (use the strict checkers; default True), ``score_timeout`` (seconds per scoring),
    ``max_answer_chars``, ``prompt_template`` (with ``{problem}`` and ``{instruction}``),
    ``level`` (curriculum level), ``seed`` and ``size`` (which problems).
    """

    success_component = "accuracy"

    def __init__(
        self,
        dataset: str,
        *,
        think: bool = True,
        think_tag: str = "think",
        answer_tag: str | None = "answer",
        accuracy_weight: float = 0.9,
        format_weight: float = 0.1,
        format_mode: str = "strict",
        gate: bool = False,
        partial_credit: bool = False,
        strict: bool = True,
        score_timeout: float = 10.0,
        max_answer_chars: int = 20_000,
        prompt_template: str = DEFAULT_TEMPLATE,
        level: int | None = None,
        max_turns: int = 1,
        system_prompt: str | None = None,
        max_action_chars: int | None = None,
        render_mode: str | None = None,
        **config: Any,
    ):
        if "{problem}" not in prompt_template:
            raise ConfigError("prompt_template must contain '{problem}'")
        if not (isinstance(score_timeout, (int, float)) and score_timeout > 0):
            raise ConfigError(f"score_timeout must be a positive number of seconds, got {score_timeout!r}")
        fields = _config_fields(dataset)
        unknown = sorted(set(config) - set(fields))
        if unknown:
            raise ConfigError(
                f"rg/{dataset}: unknown argument(s) {unknown}; config fields: {sorted(fields)}; "
                f"env options: {sorted(_ENV_OPTIONS | {'level'})}"
            )
        explicit = dict(config)
        if level is not None:
            explicit["level"] = level
        explicit.setdefault("seed", 0)
        if isinstance(explicit["seed"], bool) or not isinstance(explicit["seed"], int):
            # reasoning-gym's default (None) draws a random seed: ids would name nothing stable
            raise ConfigError(f"rg/{dataset}: seed must be an int (it fixes the problem set), got {explicit['seed']!r}")
        resolved = {**(_curriculum_fields(dataset, level) if level is not None else {}), **config}
        resolved["seed"] = explicit["seed"]
        self.dataset = dataset
        self.fmt = ThinkFormat(think_tag=think_tag, answer_tag=answer_tag)
        self.think = bool(think)
        self.prompt_template = prompt_template
        accuracy: Any = ReasoningGymScore(
            self.fmt, self.think, bool(strict), bool(partial_credit), float(score_timeout), int(max_answer_chars)
        )
        verifier = with_format_reward(
            accuracy, self.fmt, think=self.think, gate=gate, format_mode=format_mode,
            accuracy_weight=accuracy_weight, format_weight=format_weight,
        )  # fmt: skip
        source = ReasoningGymSource(dataset, resolved, _config_tag(int(explicit["seed"]), explicit))
        super().__init__(
            source, verifier, max_turns=max_turns, system_prompt=system_prompt,
            max_action_chars=max_action_chars, render_mode=render_mode,
        )

    def instruction(self) -> str:
        if self._instruction is None:
            self._instruction = self._make_instruction()
        return self._instruction

    _instruction: str | None = None

    def _make_instruction(self) -> str:
        if self.think:
            return self.fmt.instruction("your final answer")
        if self.fmt.answer_tag:
            return f"Give your final answer inside {self.fmt.answer_open}…{self.fmt.answer_close}."
        return "Give your final answer."

    def first_observation(self, problem: Problem) -> str:
        return self.prompt_template.format(problem=problem.prompt, instruction=self.instruction())

    def oracle_action(self) -> str | None:  # type: ignore[override]
        """reasoning-gym's gold answer in the asked format (earns 1 wherever the gold is checkable).

        Families without a single gold answer (``graph_color``, ``propositional_logic``,
        ``rubiks_cube``) use the example answer reasoning-gym keeps in the metadata; where there
        is none (``boxnet``, ``rush_hour``: answers are checked by simulation) it is None, which
        the env checker and `OraclePolicy` read as "no oracle offered".
        """
        if self.problem is None:
            from gymnasium.error import ResetNeeded

            raise ResetNeeded("call reset() before asking for the oracle action")
        gold = self.problem.answer
        if gold is None:
            metadata = self.problem.meta.get("metadata") or {}
            example = next((metadata[k] for k in _EXAMPLE_KEYS if metadata.get(k) is not None), None)
            gold = example if example is None or isinstance(example, str) else json.dumps(example)
        if gold is None:
            return None
        gold = str(gold)
        body = f"{self.fmt.answer_open}{gold}{self.fmt.answer_close}" if self.fmt.answer_tag else gold
        if self.think:
            return f"{self.fmt.think_open}\nThe answer follows.\n{self.fmt.think_close}\n{body}"
        return body


# --------------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------------


def _register(names: Any) -> list[str]:
    from thinkgym.registry import _REGISTRY, register

    added = []
    for name in names:
        env_id = f"{NAMESPACE}/{name}-v0"
        if env_id in _REGISTRY:
            continue
        register(
            env_id,
            "thinkgym.envs.reasoning_gym:ReasoningGymEnv",
            description=f"reasoning-gym's {name!r} family (generator and score_answer), think + <answer> format.",
            dataset=name,
        )
        added.append(env_id)
    return added


def register_envs() -> list[str]:
    """The ``thinkgym.envs`` entry point: register `DATASETS` (cheap: reasoning-gym is not
    imported). Without reasoning-gym installed, nothing is registered."""
    from thinkgym.registry import NAMESPACE_HINTS

    if not available():
        NAMESPACE_HINTS[NAMESPACE] = f"the {NAMESPACE}/ envs are reasoning-gym's families; install it: {INSTALL_HINT}"
        return []
    NAMESPACE_HINTS.pop(NAMESPACE, None)
    return _register(DATASETS)


def register_all() -> list[str]:
    """Import reasoning-gym and register every dataset it knows (newer versions, your own
    ``register_dataset`` calls); returns the ids added."""
    return _register(sorted(set(_factory().DATASETS) - NOT_FAMILIES))
