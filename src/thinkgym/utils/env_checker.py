"""`check_env`: does an env keep the thinkgym contract wherever users take it?

In the style of gymnasium's ``utils/env_checker.py``: one small function per rule, each failing
with a `CheckError` that names the rule and says what to fix. `check_env` runs them all, cheapest
first, and stops at the first broken rule (later rules build on earlier ones). Run it on every env
you write; the test suite runs it on every registered env.

>>> import thinkgym
>>> from thinkgym.utils import check_env
>>> check_env(thinkgym.make("thinkgym/Maze-v0"))  # doctest: +ELLIPSIS
['spaces', 'reset', 'step', ...]

The rules (`RULES`, in order):

- ``spaces``: text spaces that take any Unicode (`thinkgym.core.TextSpace`).
- ``reset``: ``reset(seed=)`` returns ``(str, info)`` with the observation in the space and the
  info keys every helper reads (``problem_id``, ``messages``, ``reward_components``, ``reward_info``).
- ``step``: ``step(str)`` returns the five gymnasium values with the right types, a finite float
  reward, the action recorded in ``info["messages"]``.
- ``gymnasium``: gymnasium's own `gymnasium.utils.env_checker.check_env` passes.
- ``bad_actions``: nasty text (empty, huge, control characters, lone surrogates) gets a defined
  outcome; wrong types raise `TypeError` without using a turn; a finished episode raises
  `ResetNeeded`.
- ``determinism``: the same seed gives the same problem and observation (also in a fresh env).
- ``component_keys``: ``info["reward_components"]`` has the same keys for a correct, a wrong and a
  malformed action, so trainers and reports can log them.
- ``oracle``: when the env offers ``oracle_action()``, following it earns the best reward (the
  exact optimum when the env knows it, else full ``success_component``, and never less than the
  other actions tried).
- ``pickle``: the env pickles after ``reset`` and mid-episode, and the copy continues identically.
- ``wrappers``: an oracle episode runs through gymnasium's wrappers (``OrderEnforcing``,
  ``PassiveEnvChecker``, ``TimeLimit``, ``RecordEpisodeStatistics``, a ``RewardWrapper``).
- ``vector``: ``SyncVectorEnv`` and ``AsyncVectorEnv`` (shared memory on) run the env and carry
  its observations exactly.
"""

from __future__ import annotations

import math
import pickle
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

import gymnasium
from gymnasium.error import ResetNeeded

from thinkgym.core import TextEnv, TextSpace
from thinkgym.errors import ThinkgymError

__all__ = ["CheckError", "check_env", "RULES", "NASTY_ACTIONS", "WRONG_TYPES"]

REQUIRED_INFO_KEYS = ("problem_id", "messages", "reward_components", "reward_info")
CONTROL = "".join(chr(c) for c in range(32)) + "\x7f\u200b\u202e\ufeff"
#: Text a model might emit: nothing, a flood, control characters, a lone surrogate, near-misses.
NASTY_ACTIONS: tuple[str, ...] = (
    "",
    " ",
    "x" * 1_000_000,
    CONTROL,
    "\x00" * 100,
    "\ud800",
    "\\boxed{" * 500,
    "```python\nimport os\nos._exit(0)\n```",
    "R\nL\nU\nD",
    "… é ∑ 中文 😀",
)
#: Values that are not text: ``step`` must raise `TypeError` and not use up a turn.
WRONG_TYPES: tuple[Any, ...] = (None, 1, 2.5, b"R", ["R"])
WRONG_ANSWER = "I am not sure. The answer is 0.123456789."


class CheckError(ThinkgymError, AssertionError):
    """An env broke a rule of the contract; ``rule`` names it, the message says what to fix."""

    def __init__(self, rule: str, message: str):
        super().__init__(f"[{rule}] {message}")
        self.rule = rule


def _fail(rule: str, message: str) -> CheckError:
    return CheckError(rule, message)


def _base(env: gymnasium.Env) -> Any:
    return env.unwrapped


def _attr(env: gymnasium.Env, name: str, default: Any = None) -> Any:
    try:
        return env.get_wrapper_attr(name)
    except AttributeError:
        return default


# --------------------------------------------------------------------------------------------
# One function per rule
# --------------------------------------------------------------------------------------------


def check_spaces(env: gymnasium.Env) -> None:
    """Both spaces hold any Unicode text: a narrower charset crashes flattening and shared memory."""
    for name in ("observation_space", "action_space"):
        space = getattr(env, name, None)
        if not isinstance(space, TextSpace):
            raise _fail(
                "spaces",
                f"{name} is {space!r}; use thinkgym.core.TextSpace(max_length) (a gymnasium Text over "
                "all of Unicode): model and dataset text holds characters like '…', 'é' and emoji, "
                "which a fixed charset cannot encode in AsyncVectorEnv's shared memory",
            )


def _check_info(rule: str, info: Any, where: str) -> None:
    if not isinstance(info, dict):
        raise _fail(rule, f"{where} returned info of type {type(info).__name__}; return a dict")
    missing = [key for key in REQUIRED_INFO_KEYS if key not in info]
    if missing:
        raise _fail(rule, f"{where}: info lacks {missing}; TextEnv._info() provides them, keep its keys")
    if not isinstance(info["problem_id"], str) or not info["problem_id"]:
        raise _fail(rule, f"{where}: info['problem_id'] must be a non-empty str, got {info['problem_id']!r}")
    messages = info["messages"]
    if not isinstance(messages, list) or not all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str) for m in messages
    ):
        raise _fail(rule, f"{where}: info['messages'] must be a list of {{'role': str, 'content': str}} dicts")
    components = info["reward_components"]
    if not isinstance(components, Mapping) or not all(
        isinstance(k, str) and isinstance(v, int | float) and math.isfinite(v) for k, v in components.items()
    ):
        raise _fail(rule, f"{where}: info['reward_components'] must map names to finite floats, got {components!r}")


def _check_observation(rule: str, env: gymnasium.Env, observation: Any, where: str) -> None:
    if not isinstance(observation, str):
        raise _fail(rule, f"{where} returned an observation of type {type(observation).__name__}; return the text")
    if not env.observation_space.contains(observation):
        raise _fail(
            rule,
            f"{where} returned an observation of {len(observation)} characters outside {env.observation_space!r}; "
            "clip it (TextEnv clips to max_observation_chars)",
        )


def check_reset(env: gymnasium.Env, seed: int = 0) -> None:
    """``reset(seed=)`` returns ``(text, info)`` with the keys every helper reads."""
    result = env.reset(seed=seed)
    if not isinstance(result, tuple) or len(result) != 2:
        raise _fail("reset", f"reset() must return (observation, info), got {type(result).__name__}")
    observation, info = result
    _check_observation("reset", env, observation, "reset()")
    _check_info("reset", info, "reset()")
    if not info["messages"] or info["messages"][-1].get("role") != "user":
        raise _fail("reset", "reset(): info['messages'] must end with the user message the model answers")
    if info["messages"][-1]["content"] != observation:
        raise _fail("reset", "reset(): the last message of info['messages'] must be the observation itself")


def _check_step_result(rule: str, env: gymnasium.Env, result: Any, where: str) -> bool:
    if not isinstance(result, tuple) or len(result) != 5:
        raise _fail(rule, f"{where} must return (observation, reward, terminated, truncated, info)")
    observation, reward, terminated, truncated, info = result
    _check_observation(rule, env, observation, where)
    if not isinstance(reward, float) or not math.isfinite(reward):
        raise _fail(rule, f"{where} returned reward {reward!r}; return a finite Python float (Reward.score)")
    if not isinstance(terminated, bool) or not isinstance(truncated, bool):
        raise _fail(rule, f"{where}: terminated and truncated must be bool, got {terminated!r}, {truncated!r}")
    _check_info(rule, info, where)
    return terminated or truncated


def check_step(env: gymnasium.Env, seed: int = 0) -> None:
    """``step(text)`` returns the five gymnasium values and records the action in the chat."""
    env.reset(seed=seed)
    action = _first_action(env)
    result = env.step(action)
    _check_step_result("step", env, result, f"step({action[:40]!r})")
    messages = result[4]["messages"]
    if not any(m["role"] == "assistant" and m["content"] == action for m in messages):
        raise _fail("step", "after step(action), info['messages'] must hold the action as an assistant message")


def check_gymnasium(env: gymnasium.Env, skip_render_check: bool = True) -> None:
    """gymnasium's own checker (signatures, seeding, spaces; rendering unless skipped) passes on
    the bare env."""
    from gymnasium.utils.env_checker import check_env as gymnasium_check_env

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gymnasium_check_env(_base(env), skip_render_check=skip_render_check)
    except Exception as exc:  # gymnasium raises AssertionError and others; report them as one rule
        raise _fail("gymnasium", f"gymnasium.utils.env_checker.check_env failed: {type(exc).__name__}: {exc}") from exc


def check_bad_actions(env: gymnasium.Env, actions: Iterable[str] = NASTY_ACTIONS, seed: int = 0) -> None:
    """Nasty text has a defined outcome; wrong types raise `TypeError`; a finished episode `ResetNeeded`."""
    base = _base(env)
    for action in actions:
        env.reset(seed=seed)
        ended = False
        for _ in range(_turn_budget(env)):
            try:
                result = env.step(action)
            except Exception as exc:
                raise _fail(
                    "bad_actions",
                    f"step({action[:30]!r}…) raised {type(exc).__name__}: {exc}; model output must earn a reward "
                    "(0 with info['error']), never raise",
                ) from exc
            if _check_step_result("bad_actions", env, result, f"step({action[:30]!r}…)"):
                ended = True
                break
        if not ended:
            raise _fail("bad_actions", f"repeating {action[:30]!r} never ended the episode; enforce a turn limit")
        try:
            base.step(action)
        except ResetNeeded:
            pass
        else:
            raise _fail("bad_actions", "step() after the episode ended must raise gymnasium.error.ResetNeeded")
    env.reset(seed=seed)
    turn = _attr(env, "turn")
    for wrong in WRONG_TYPES:
        try:
            base.step(wrong)
        except TypeError:
            continue
        raise _fail("bad_actions", f"step({wrong!r}) must raise TypeError (actions are text)")
    if _attr(env, "turn") != turn or _attr(env, "done", False):
        raise _fail("bad_actions", "a step rejected with TypeError must not use up a turn")


def check_determinism(env: gymnasium.Env, seeds: Sequence[int] = (0, 1, 7)) -> None:
    """The same seed gives the same problem and first observation, in this env and a fresh one;
    different seeds reach different problems (when the source holds more than one)."""
    _check_seed_is_used(env)
    fresh = _fresh_copy(env)
    for seed in seeds:
        first, first_info = env.reset(seed=seed)
        again, again_info = env.reset(seed=seed)
        other, other_info = fresh.reset(seed=seed)
        ids = {first_info["problem_id"], again_info["problem_id"], other_info["problem_id"]}
        if len(ids) != 1 or not first == again == other:
            raise _fail(
                "determinism",
                f"reset(seed={seed}) gave problems {sorted(ids)} or different observations; draw problems only "
                "from self.np_random (seeded by reset), never from the global RNG or the clock",
            )


def _check_seed_is_used(env: gymnasium.Env, tries: int = 16) -> None:
    source = _attr(env, "source")
    size = getattr(source, "size", 0)
    if source is None or size == 1:
        return  # one problem (the classic maze), or not a TextEnv: nothing to vary
    ids = {env.reset(seed=seed)[1]["problem_id"] for seed in range(tries)}
    if len(ids) == 1:
        raise _fail(
            "determinism",
            f"reset(seed=) gave the same problem {ids.pop()!r} for {tries} different seeds, but the source holds "
            f"{size or 'unboundedly many'}; draw the problem from self.np_random after super().reset(seed=seed)",
        )


def check_component_keys(env: gymnasium.Env, seed: int = 0) -> None:
    """One set of reward component keys for a correct, a wrong and a malformed action."""
    outcomes: dict[str, set[str]] = {}
    candidates = {"wrong": WRONG_ANSWER, "malformed": "", "oversized": "x" * 1_000_000}
    oracle = _oracle(env, seed)
    if oracle is not None:
        candidates = {"correct": oracle, **candidates}
    for name, action in candidates.items():
        env.reset(seed=seed)
        info = env.step(action)[4]
        outcomes[name] = set(info["reward_components"])
    if len({frozenset(keys) for keys in outcomes.values()}) > 1:
        shown = ", ".join(f"{name}: {sorted(keys)}" for name, keys in outcomes.items())
        raise _fail(
            "component_keys",
            f"info['reward_components'] keys differ between outcomes ({shown}); report every component on every "
            "step (0.0 when it does not apply) so trainers and reports can log them",
        )


def check_oracle(env: gymnasium.Env, seeds: Sequence[int] = (0, 1)) -> None:
    """Following ``oracle_action()`` earns the best reward the env knows of."""
    base = _base(env)
    for seed in seeds:
        if _oracle(env, seed) is None:
            return
        total, info, problem = _play(env, seed, lambda: env.get_wrapper_attr("oracle_action")())
        references = _references(base, problem)
        if references and "optimal_mean_reward" in references:
            best = float(references["optimal_mean_reward"])
            if not math.isclose(total, best, rel_tol=1e-9, abs_tol=1e-9):
                raise _fail("oracle", f"seed {seed}: the oracle earned {total:g} but the exact optimum is {best:g}")
            continue
        success = getattr(base, "success_component", None)
        if success is not None and info["reward_components"].get(success, 0.0) < 1.0 - 1e-9:
            raise _fail(
                "oracle",
                f"seed {seed}: the oracle's {success!r} component is {info['reward_components'].get(success)!r}, not 1.0 "
                f"({info.get('error') or info['reward_info']}); oracle_action() must be a correct answer",
            )
        if total <= 0:
            raise _fail("oracle", f"seed {seed}: the oracle earned {total:g}; oracle_action() must earn the best reward")
        for action in (WRONG_ANSWER, ""):
            other, _, _ = _play(env, seed, lambda action=action: action)
            if other > total + 1e-9:
                raise _fail("oracle", f"seed {seed}: the action {action!r} earned {other:g}, more than the oracle's {total:g}")


def check_pickle(env: gymnasium.Env, seed: int = 0) -> None:
    """The env pickles after reset and mid-episode; the copy continues exactly like the original."""
    env.reset(seed=seed)
    action = _first_action(env)
    for stage in ("after reset", "mid-episode"):
        try:
            copy = pickle.loads(pickle.dumps(env))
        except Exception as exc:
            raise _fail(
                "pickle",
                f"the env does not pickle {stage}: {type(exc).__name__}: {exc}. Vector envs, multiprocessing and Ray "
                "need it: use module-level functions (or functools.partial of them) for problem sources and "
                "verifiers, no lambdas or closures, and drop live resources in __getstate__",
            ) from exc
        mine, theirs = env.step(action), copy.step(action)
        if not _same_step(mine, theirs):
            raise _fail("pickle", f"{stage}: the unpickled env answered step({action[:30]!r}) differently")
        if mine[2] or mine[3]:
            break
    again = pickle.loads(pickle.dumps(env))
    if env.reset()[1]["problem_id"] != again.reset()[1]["problem_id"]:
        raise _fail("pickle", "an unpickled env drew a different next problem: its np_random state must pickle")


class _DoubleReward(gymnasium.RewardWrapper):
    """A `RewardWrapper` (twice the reward), to see that rewards flow through wrappers."""

    def reward(self, reward: Any) -> float:
        return 2.0 * float(reward)


def check_wrappers(env: gymnasium.Env, seed: int = 0) -> None:
    """An oracle episode runs through gymnasium's wrappers, and the wrappers see its rewards."""
    from gymnasium.wrappers import (
        OrderEnforcing,
        PassiveEnvChecker,
        RecordEpisodeStatistics,
        TimeLimit,
    )

    from thinkgym.agents.base import play_episode
    from thinkgym.agents.oracle import OraclePolicy
    from thinkgym.agents.random import RandomPolicy

    inner = PassiveEnvChecker(_fresh_copy(env))
    stack = RecordEpisodeStatistics(_DoubleReward(TimeLimit(OrderEnforcing(inner), max_episode_steps=10_000)))
    for policy in (OraclePolicy(), RandomPolicy(seed)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                episode = play_episode(stack, policy, seed=seed)
        except Exception as exc:
            raise _fail(
                "wrappers",
                f"{policy.name} policy through gymnasium wrappers raised {type(exc).__name__}: {exc}; helpers read env "
                "state with env.get_wrapper_attr(name), never plain attributes of the outer wrapper",
            ) from exc
        statistics = episode.info.get("episode")
        if statistics is None or not math.isclose(float(statistics["r"]), episode.total_reward, abs_tol=1e-6):
            raise _fail("wrappers", "RecordEpisodeStatistics did not see the episode's (wrapped) rewards")


def _make_copy(blob: bytes) -> gymnasium.Env:
    return pickle.loads(blob)


def _mirror(blob: bytes, seed: int, num_envs: int, actions: Sequence[str], steps: int) -> list[list[str]]:
    """The observations a vector env must return: single envs stepped by hand, with gymnasium's
    default next-step autoreset (the step after an episode ends resets it, ignoring the action)."""
    envs = [pickle.loads(blob) for _ in range(num_envs)]
    rows = [[env.reset(seed=seed + i)[0] for i, env in enumerate(envs)]]
    done = [False] * num_envs
    for _ in range(steps):
        row = []
        for i, env in enumerate(envs):
            if done[i]:
                row.append(env.reset()[0])
                done[i] = False
            else:
                observation, _, terminated, truncated, _ = env.step(actions[i])
                row.append(observation)
                done[i] = terminated or truncated
        rows.append(row)
    return rows


def check_vector(env: gymnasium.Env, seed: int = 0, steps: int = 3, num_envs: int = 2) -> None:
    """Sync and async vector envs (shared memory on) run the env and carry its text exactly."""
    blob = pickle.dumps(_fresh_copy(env))
    factory = partial(_make_copy, blob)
    actions = tuple([WRONG_ANSWER, "R … é ∑ 中 😀"][i % 2] for i in range(num_envs))
    expected = _mirror(blob, seed, num_envs, actions, steps)
    for name, make in (
        ("SyncVectorEnv", lambda: gymnasium.vector.SyncVectorEnv([factory] * num_envs)),
        ("AsyncVectorEnv(shared_memory=True)", lambda: gymnasium.vector.AsyncVectorEnv([factory] * num_envs, shared_memory=True)),
    ):
        try:
            vector = make()
            try:
                got = [list(vector.reset(seed=seed)[0])]
                for _ in range(steps):
                    observations, rewards, _, _, _ = vector.step(actions)
                    if len(rewards) != num_envs or not all(math.isfinite(float(r)) for r in rewards):
                        raise _fail("vector", f"{name} returned rewards {rewards!r}")
                    got.append(list(observations))
            finally:
                vector.close()
        except CheckError:
            raise
        except Exception as exc:
            raise _fail("vector", f"{name} failed: {type(exc).__name__}: {exc}") from exc
        if got != expected:
            step = next(i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
            raise _fail(
                "vector",
                f"{name} returned other observations than the env itself at step {step} (text lost in encoding, "
                "or an env whose episodes depend on more than its seed)",
            )


# --------------------------------------------------------------------------------------------
# Helpers and the entry point
# --------------------------------------------------------------------------------------------


def _turn_budget(env: gymnasium.Env) -> int:
    return int(_attr(env, "max_turns", 100) or 100) + 1


def _first_action(env: gymnasium.Env) -> str:
    valid = _attr(env, "valid_actions")
    options = valid() if callable(valid) else None
    return options[0] if options else WRONG_ANSWER


def _oracle(env: gymnasium.Env, seed: int) -> str | None:
    """The oracle action at the start of an episode seeded ``seed``, or None when none is offered."""
    oracle = _attr(env, "oracle_action")
    if not callable(oracle):
        return None
    env.reset(seed=seed)
    try:
        action = oracle()
    except NotImplementedError:
        return None
    return action if isinstance(action, str) else None


def _references(base: Any, problem: Any) -> Mapping[str, float] | None:
    hook = getattr(base, "exact_references", None)
    return hook(problem) if callable(hook) and problem is not None else None


def _play(env: gymnasium.Env, seed: int, choose: Callable[[], str]) -> tuple[float, dict[str, Any], Any]:
    """Total reward and last info of one episode whose actions ``choose()`` picks."""
    env.reset(seed=seed)
    problem = _attr(env, "problem")
    total = 0.0
    for _ in range(_turn_budget(env)):
        _, reward, terminated, truncated, info = env.step(choose())
        total += float(reward)
        if terminated or truncated:
            return total, info, problem
    raise _fail("oracle", "the episode did not end within max_turns steps")


def _same_step(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return a[:4] == b[:4] and all(a[4].get(k) == b[4].get(k) for k in ("problem_id", "messages", "reward_components"))


def _fresh_copy(env: gymnasium.Env) -> gymnasium.Env:
    """A new env like ``env``: made again from its spec when it has one, else an unpickled copy."""
    spec = getattr(_base(env), "spec", None)
    if spec is not None:
        from thinkgym.registry import _REGISTRY, make

        if spec.id in _REGISTRY:
            return make(spec.id, **dict(spec.kwargs))
    try:
        return pickle.loads(pickle.dumps(_base(env)))
    except Exception as exc:
        raise _fail("pickle", f"the env does not pickle: {type(exc).__name__}: {exc}") from exc


#: Every rule, in the order `check_env` runs them.
RULES: dict[str, Callable[[gymnasium.Env], None]] = {
    "spaces": check_spaces,
    "reset": check_reset,
    "step": check_step,
    "gymnasium": check_gymnasium,
    "bad_actions": check_bad_actions,
    "determinism": check_determinism,
    "component_keys": check_component_keys,
    "oracle": check_oracle,
    "pickle": check_pickle,
    "wrappers": check_wrappers,
    "vector": check_vector,
}


def check_env(env: gymnasium.Env, *, skip: Iterable[str] = (), skip_render_check: bool = True) -> list[str]:
    """Check ``env`` (a thinkgym env, bare or wrapped) against every rule in `RULES`.

    Raises `CheckError` at the first broken rule (its ``rule`` says which); returns the names of
    the rules that ran. ``skip`` names rules to leave out (e.g. ``{"vector"}`` where processes
    cannot start); ``skip_render_check=False`` lets gymnasium's checker render too. The env is
    reset many times; its state afterwards is unspecified.
    """
    if not isinstance(env, gymnasium.Env):
        raise TypeError(f"check_env expects a gymnasium.Env, got {type(env).__name__}")
    if not isinstance(env.unwrapped, TextEnv):
        warnings.warn(
            f"{type(env.unwrapped).__name__} is not a thinkgym.TextEnv: the rules assume its contract",
            stacklevel=2,
        )
    skipped = set(skip)
    unknown = skipped - set(RULES)
    if unknown:
        raise ValueError(f"unknown rules {sorted(unknown)}; the rules are {list(RULES)}")
    ran = []
    for name, rule in RULES.items():
        if name in skipped:
            continue
        if rule is check_gymnasium:
            check_gymnasium(env, skip_render_check=skip_render_check)
        else:
            rule(env)
        ran.append(name)
    return ran
