"""`thinkgym.utils.check_env`: each rule fires on an env broken in exactly that way, and passes on
a sound one (the registered envs are checked in tests/envs/test_all_envs.py)."""

from __future__ import annotations

import os
import random

import gymnasium
import pytest
from gymnasium import spaces

import thinkgym
from thinkgym.core import ListSource, Problem, Reward, SingleTurnEnv, TextEnv, Turn
from thinkgym.errors import ThinkgymError
from thinkgym.utils import RULES, CheckError, check_env
from thinkgym.utils import env_checker as checker

PROBLEMS = [Problem(f"add/{a}+{b}", f"What is {a}+{b}? … é ∑ 中 😀", str(a + b)) for a in range(4) for b in range(3)]


def exact(completion: str, problem: Problem) -> Reward:
    correct = float(completion.strip() == problem.answer)
    return Reward(correct, {"exact": correct})


class Sound(SingleTurnEnv):
    """A correct single-turn env: the baseline every broken env below departs from once."""

    success_component = "exact"

    def __init__(self, **kwargs):
        super().__init__(ListSource(PROBLEMS), exact, **kwargs)


class NarrowSpace(Sound):
    def __init__(self):
        super().__init__()
        self.observation_space = spaces.Text(10_000)  # gymnasium's default charset: no '…'


class ResetWithoutMessages(Sound):
    def reset(self, *, seed=None, options=None):
        observation, info = super().reset(seed=seed, options=options)
        info.pop("messages")
        return observation, info


class IntegerReward(Sound):
    def step(self, action):
        observation, reward, terminated, truncated, info = super().step(action)
        return observation, int(reward), terminated, truncated, info


class NoOptionsReset(Sound):
    def reset(self, *, seed=None):  # gymnasium's reset takes options=
        return super().reset(seed=seed)


class RaisesOnEmpty(Sound):
    def respond(self, action):
        int(action.strip() or "not a number")  # model text must never raise
        return super().respond(action)


class GlobalRandom(Sound):
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed, options=options)
        return super().reset(options={"index": random.randrange(len(PROBLEMS))})


def keys_only_when_right(completion: str, problem: Problem) -> Reward:
    if completion.strip() == problem.answer:
        return Reward(1.0, {"exact": 1.0})
    return Reward.zero("wrong")


class IgnoresSeed(Sound):
    def reset(self, *, seed=None, options=None):
        return super().reset(seed=seed, options=options or {"index": 0})


class UnstableKeys(Sound):
    def __init__(self):
        SingleTurnEnv.__init__(self, ListSource(PROBLEMS), keys_only_when_right)


class WrongOracle(Sound):
    def oracle_action(self):
        return "-1"


class LambdaVerifier(Sound):
    def __init__(self):
        SingleTurnEnv.__init__(self, ListSource(PROBLEMS), lambda c, p: exact(c, p))


class ValidActionsAttribute(Sound):
    """Exposes valid_actions as a list, where helpers call valid_actions()."""

    def __init__(self):
        super().__init__()
        self.valid_actions = ["0", "1"]


class ProcessDependent(Sound):
    def first_observation(self, problem):
        return f"{problem.prompt} (pid {os.getpid()})"


BROKEN = [
    ("spaces", NarrowSpace),
    ("reset", ResetWithoutMessages),
    ("step", IntegerReward),
    ("gymnasium", NoOptionsReset),
    ("bad_actions", RaisesOnEmpty),
    ("determinism", GlobalRandom),
    ("component_keys", UnstableKeys),
    ("oracle", WrongOracle),
    ("pickle", LambdaVerifier),
    ("wrappers", ValidActionsAttribute),
    ("vector", ProcessDependent),
]


def test_every_rule_has_a_broken_env():
    assert [rule for rule, _ in BROKEN] == list(RULES)


@pytest.mark.parametrize("rule,cls", BROKEN, ids=[rule for rule, _ in BROKEN])
def test_each_rule_fires_on_its_broken_env(rule, cls):
    RULES[rule](Sound())  # the rule holds for the sound env ...
    with pytest.raises(CheckError) as caught:
        RULES[rule](cls())  # ... and fails for the env broken in its way
    assert caught.value.rule == rule and str(caught.value).startswith(f"[{rule}] ")
    assert isinstance(caught.value, ThinkgymError)


@pytest.mark.parametrize("rule,cls", BROKEN[:4], ids=[rule for rule, _ in BROKEN[:4]])
def test_check_env_reports_the_first_broken_rule(rule, cls):
    with pytest.raises(CheckError) as caught:
        check_env(cls())
    assert caught.value.rule == rule


def test_sound_env_passes_every_rule_bare_and_wrapped():
    assert check_env(Sound()) == list(RULES)
    wrapped = gymnasium.wrappers.RecordEpisodeStatistics(gymnasium.wrappers.OrderEnforcing(Sound()))
    assert check_env(wrapped, skip={"vector"}) == [r for r in RULES if r != "vector"]


def test_messages_say_what_to_fix():
    with pytest.raises(CheckError, match="TextSpace"):
        checker.check_spaces(NarrowSpace())
    with pytest.raises(CheckError, match="closures"):
        checker.check_pickle(LambdaVerifier())
    with pytest.raises(CheckError, match="np_random"):
        checker.check_determinism(GlobalRandom())
    with pytest.raises(CheckError, match="same problem 'add/0\\+0' for 16 different seeds"):
        checker.check_determinism(IgnoresSeed())
    with pytest.raises(CheckError, match=r"exact.*not 1\.0"):
        checker.check_oracle(WrongOracle())


def test_oracle_rule_uses_exact_references():
    class OffByOne(Sound):
        def exact_references(self, problem):
            return {"optimal_mean_reward": 2.0}

    with pytest.raises(CheckError, match="exact optimum is 2"):
        checker.check_oracle(OffByOne())


def test_render_check_can_run():
    assert "gymnasium" in check_env(Sound(render_mode="ansi"), skip={"vector"}, skip_render_check=False)


def test_check_env_argument_errors():
    with pytest.raises(ValueError, match="unknown rules"):
        check_env(Sound(), skip={"nope"})
    with pytest.raises(TypeError):
        check_env("thinkgym/Maze-v0")


class MultiTurnCounter(TextEnv):
    """Multi-turn: say numbers up to the answer; checks the mid-episode pickle path."""

    def __init__(self):
        super().__init__(ListSource(PROBLEMS), max_turns=3)

    def respond(self, action: str) -> Turn:
        right = action.strip() == self.problem.answer
        reward = Reward(float(right), {"exact": float(right)})
        return Turn("" if right else f"not {action[:20]!r}, try again", reward, right)


def test_multi_turn_env_passes():
    assert check_env(MultiTurnCounter()) == list(RULES)
    assert check_env(thinkgym.make("thinkgym/Maze-v0"), skip={"vector"})[-1] == "wrappers"


def test_thinkgym_check_command():
    """`thinkgym check ID...`: every rule per env, exit 1 naming the broken rule."""
    from typer.testing import CliRunner

    from thinkgym import registry
    from thinkgym.cli import app

    ids = {"checktest/Sound-v0": Sound, "checktest/WrongOracle-v0": WrongOracle}
    for env_id, cls in ids.items():
        thinkgym.register(env_id, cls, description="check command test", override=True)
    try:
        ok = CliRunner().invoke(app, ["check", "checktest/Sound-v0", "--skip", "vector"])
        assert ok.exit_code == 0 and "ok" in ok.output and "wrappers" in ok.output and "vector" not in ok.output
        bad = CliRunner().invoke(app, ["check", "checktest/Sound-v0", "checktest/WrongOracle-v0", "--skip", "vector"])
        assert bad.exit_code == 1 and "FAIL" in bad.output and "[oracle]" in bad.output
        unknown = CliRunner().invoke(app, ["check", "checktest/Nope-v0"])
        assert unknown.exit_code == 1 and "cannot make" in unknown.output
    finally:
        for env_id in ids:
            registry._REGISTRY.pop(env_id, None)
            gymnasium.registry.pop(env_id, None)
