"""Registry: ids, make, gymnasium.make, closest-name errors, entry-point plugins, golden problems."""

from __future__ import annotations

import hashlib
import textwrap
import warnings

import gymnasium
import pytest

import thinkgym
from thinkgym import registry
from thinkgym.envs.maze import MazeEnv
from thinkgym.errors import RegistrationError, UnknownEnvError


@pytest.fixture
def scratch_ids():
    """Ids a test registers, removed again afterwards so other tests see the real registry."""
    ids: list[str] = []
    yield ids
    for env_id in ids:
        registry._REGISTRY.pop(env_id, None)
        if env_id in gymnasium.registry:
            del gymnasium.registry[env_id]


def test_make_and_kwargs_override():
    env = thinkgym.make("thinkgym/Maze-v0")
    assert isinstance(env, MazeEnv) and env.mode == "multi" and env.layout == "classic"
    assert env.spec.id == "thinkgym/Maze-v0"
    env = thinkgym.make("thinkgym/Maze-v0", layout="random", rows=3, cols=3)
    env.reset(seed=0)
    assert (env.maze.rows, env.maze.cols) == (3, 3)
    assert thinkgym.make("thinkgym/MazePath-v0").mode == "single"


def test_gymnasium_make_after_import_thinkgym():
    env = gymnasium.make("thinkgym/Maze-v0", layout="random")
    assert isinstance(env.unwrapped, MazeEnv) and env.unwrapped.layout == "random"
    obs, info = env.reset(seed=0)
    assert isinstance(obs, str) and "action_mask" in info
    env.step("R")


def test_one_spec_type_that_gymnasium_make_accepts():
    """Issue 14 item 8: list_envs() gives gymnasium's own EnvSpec objects, which gymnasium.make takes."""
    for env_spec in thinkgym.list_envs():
        assert type(env_spec) is gymnasium.envs.registration.EnvSpec
        assert gymnasium.registry[env_spec.id] is env_spec is thinkgym.spec(env_spec.id)
    env = gymnasium.make(thinkgym.spec("thinkgym/Maze-v0"), layout="random")
    assert isinstance(env.unwrapped, MazeEnv) and env.unwrapped.layout == "random"
    assert registry.EnvSpec is gymnasium.envs.registration.EnvSpec


def test_thinkgym_make_and_gymnasium_make_build_the_same_env():
    ours = thinkgym.make("thinkgym/Maze-v0", layout="random", rows=3)
    theirs = gymnasium.make("thinkgym/Maze-v0", layout="random", rows=3)
    assert type(ours) is type(theirs.unwrapped)
    assert ours.spec.kwargs == theirs.spec.kwargs == {"mode": "multi", "layout": "random", "rows": 3}
    assert ours.reset(seed=4)[0] == theirs.reset(seed=4)[0]
    again = gymnasium.make(ours.spec)  # the spec an env carries rebuilds it
    assert again.reset(seed=4)[0] == ours.reset(seed=4)[0]
    assert thinkgym.make(thinkgym.spec("thinkgym/MazePath-v0")).mode == "single"
    assert thinkgym.spec("thinkgym/Maze-v0").kwargs == {"mode": "multi", "layout": "classic"}  # untouched


def test_list_envs_has_descriptions():
    specs = {s.id: s for s in thinkgym.list_envs()}
    assert {"thinkgym/Maze-v0", "thinkgym/MazePath-v0"} <= set(specs)
    assert all(s.description for s in specs.values())
    assert [s.id for s in thinkgym.list_envs()] == sorted(specs)


def test_unknown_id_names_the_closest():
    with pytest.raises(UnknownEnvError) as err:
        thinkgym.make("thinkgym/Maz-v0")
    assert "thinkgym/Maze-v0" in str(err.value) and "thinkgym list" in str(err.value)
    with pytest.raises(KeyError):  # UnknownEnvError is also a KeyError, for dict-like callers
        thinkgym.make("thinkgym/MazePth-v0")
    with pytest.raises(UnknownEnvError, match="MazePath-v0"):
        thinkgym.make("thinkgym/MazePath-v7")
    with pytest.raises(TypeError):
        thinkgym.make(42)


def test_malformed_and_duplicate_ids(scratch_ids):
    with pytest.raises(RegistrationError, match="malformed"):
        thinkgym.register("no-version", "thinkgym.envs.maze:MazeEnv")
    scratch_ids.append("scratch/Maze-v3")
    thinkgym.register("scratch/Maze-v3", "thinkgym.envs.maze:MazeEnv", description="test", layout="random")
    with pytest.raises(RegistrationError, match="already registered"):
        thinkgym.register("scratch/Maze-v3", "thinkgym.envs.maze:MazeEnv")
    thinkgym.register("scratch/Maze-v3", MazeEnv, override=True, mode="single")
    assert thinkgym.make("scratch/Maze-v3").mode == "single"
    assert registry.parse_id("scratch/Maze-v3") == ("scratch", "Maze", 3)
    with pytest.raises(RegistrationError, match="package.module:Name"):
        registry._load("thinkgym.envs.maze")


PLUGIN_MODULE = '''
"""A third-party package that registers one env through the thinkgym.envs entry point."""
import thinkgym
from thinkgym import ListSource, Problem, Reward, SingleTurnEnv

def echo_verifier(completion, problem):
    return Reward(1.0 if completion.strip() == problem.answer else 0.0, {"accuracy": 1.0})

def make_echo(**kwargs):
    return SingleTurnEnv(ListSource([Problem("echo/0", "Say hi.", "hi")]), echo_verifier, **kwargs)

thinkgym.register("tgplugin/Echo-v0", "tgplugin_demo:make_echo", description="Echo plugin")
'''


def _install_plugin(root, dist: str, module: str, source: str, entry_value: str) -> None:
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[thinkgym.envs]\n{dist} = {entry_value}\n")


def test_entry_point_plugin_is_discovered_lazily(tmp_path, monkeypatch, scratch_ids):
    _install_plugin(tmp_path, "tgplugin_demo", "tgplugin_demo", PLUGIN_MODULE, "tgplugin_demo")
    _install_plugin(tmp_path, "tgplugin_broken", "tgplugin_broken", "raise ImportError('boom')\n", "tgplugin_broken")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    scratch_ids.append("tgplugin/Echo-v0")
    assert "tgplugin/Echo-v0" not in registry._REGISTRY  # nothing is imported until asked for
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env = thinkgym.make("tgplugin/Echo-v0")  # an unknown id triggers discovery
    assert any("tgplugin_broken" in str(w.message) for w in caught)  # a broken plugin only warns
    env.reset(seed=0)
    assert env.step("hi")[1] == 1.0
    assert "tgplugin/Echo-v0" in {s.id for s in thinkgym.list_envs()}
    assert isinstance(gymnasium.make("tgplugin/Echo-v0").unwrapped, thinkgym.SingleTurnEnv)


def test_gymnasium_make_finds_a_plugin_right_after_import_thinkgym(tmp_path):
    """Issue 14 item 9: an installed entry-point plugin, no thinkgym lookup first, gymnasium.make."""
    import os
    import subprocess
    import sys

    _install_plugin(tmp_path, "tgplugin_demo", "tgplugin_demo", PLUGIN_MODULE, "tgplugin_demo")
    script = (
        "import gymnasium, thinkgym\n"
        "env = gymnasium.make('tgplugin/Echo-v0')\n"
        "env.reset(seed=0)\n"
        "print(env.step('hi')[1])\n"
    )
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environ, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1.0"
    environ["THINKGYM_NO_PLUGINS"] = "1"  # the opt-out: then gymnasium does not know the id
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environ, timeout=120)
    assert done.returncode != 0 and "NamespaceNotFound" in done.stderr  # what issue 14 saw


def test_a_plugin_loads_once_even_when_looked_up_again(tmp_path, monkeypatch, scratch_ids):
    _install_plugin(tmp_path, "tgplugin_once", "tgplugin_once", PLUGIN_MODULE.replace("Echo-v0", "Once-v0").replace(
        "tgplugin_demo:make_echo", "tgplugin_once:make_echo"), "tgplugin_once")
    monkeypatch.syspath_prepend(str(tmp_path))
    scratch_ids.append("tgplugin/Once-v0")
    assert "tgplugin_once" in registry.load_plugins(force=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # loading it twice would warn 'already registered'
        assert registry.load_plugins(force=True) == []
        with pytest.raises(UnknownEnvError):
            thinkgym.make("tgplugin/Nothing-v0")  # a miss looks again, loads nothing twice
    assert thinkgym.make("tgplugin/Once-v0").source.get(0).answer == "hi"


def test_plugin_callable_entry_point(tmp_path, monkeypatch, scratch_ids):
    source = PLUGIN_MODULE.replace("tgplugin/Echo-v0", "tgplugin/Echo-v1").replace(
        'thinkgym.register("tgplugin/Echo-v1"', 'def setup():\n    thinkgym.register("tgplugin/Echo-v1"'
    ).replace("tgplugin_demo:make_echo", "tgplugin_call:make_echo")
    _install_plugin(tmp_path, "tgplugin_call", "tgplugin_call", source, "tgplugin_call:setup")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    scratch_ids.append("tgplugin/Echo-v1")
    assert "tgplugin_call" in registry.load_plugins()
    assert thinkgym.make("tgplugin/Echo-v1").source.get(0).answer == "hi"


# Golden problems: these values must never change for an existing id+version. If generation
# changes on purpose, bump the env version (and GENERATOR_VERSION) instead of editing them.
GOLDEN = [
    ("thinkgym/Maze-v0", {}, [("maze/classic", "abfbb481b7eefb52", "RRRDDD")] * 3),
    (
        "thinkgym/Maze-v0",
        {"layout": "random"},
        [
            ("maze-g0/5x5-hauto/train/1826701615", "3ff47c911f012526", "RUULLUL"),
            ("maze-g0/5x5-hauto/train/1016164991", "065f6470aeae5e02", "LLULUU"),
            ("maze-g0/5x5-hauto/train/1798679648", "0867d9e4af940de4", "RRULLLLD"),
        ],
    ),
    (
        "thinkgym/MazePath-v0",
        {"layout": "random", "rows": 3, "cols": 4},
        [
            ("maze-g0/3x4-hauto/train/1826701615", "e748668cb28739d8", "LUR"),
            ("maze-g0/3x4-hauto/train/1016164991", "9ef805a865fed89b", "URRD"),
            ("maze-g0/3x4-hauto/train/1798679648", "f5fd17fa229bc796", "RULU"),
        ],
    ),
]


@pytest.mark.parametrize("env_id,kwargs,expected", GOLDEN)
def test_golden_problem_ids_and_prompt_hashes(env_id, kwargs, expected):
    env = thinkgym.make(env_id, **kwargs)
    got = []
    for seed in (0, 1, 2):
        _, info = env.reset(seed=seed)
        prompt_hash = hashlib.sha256(env.problem.prompt.encode()).hexdigest()[:16]
        got.append((info["problem_id"], prompt_hash, env.problem.answer))
    assert got == expected


def test_golden_take_and_problem_seed():
    source = thinkgym.make("thinkgym/Maze-v0", layout="random").source
    assert [p.id for p in source.take(3, seed=1)] == [
        "maze-g0/5x5-hauto/train/1000003",
        "maze-g0/5x5-hauto/train/1000004",
        "maze-g0/5x5-hauto/train/1000005",
    ]
    assert thinkgym.core.problem_seed("thinkgym", 7).integers(10**9, size=3).tolist() == [996263455, 478352147, 115858835]


def test_add_env_example_works_end_to_end(scratch_ids):
    """examples/add_env.py: one file, and make, gymnasium.make, check_env and policies all work."""
    import importlib.util
    import pickle
    import sys
    from pathlib import Path

    from thinkgym.agents import OraclePolicy, play_episode
    from thinkgym.utils import RULES, check_env

    path = Path(__file__).resolve().parents[1] / "examples" / "add_env.py"
    assert len(path.read_text().splitlines()) < 100
    module_spec = importlib.util.spec_from_file_location("thinkgym_example_add_env", path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module
    scratch_ids.append("examples/SortWords-v0")
    try:
        module_spec.loader.exec_module(module)
        env = thinkgym.make("examples/SortWords-v0")
        assert check_env(env) == list(RULES)  # every rule of the public checker
        assert isinstance(gymnasium.make("examples/SortWords-v0").unwrapped, thinkgym.SingleTurnEnv)
        assert play_episode(env, OraclePolicy(), seed=1).total_reward == 1.0
        env.reset(options={"index": 0})
        words = sorted(env.problem.meta["words"])
        swapped = ", ".join(words[1::-1] + words[2:])  # first two swapped: only partial credit
        _, reward, _, _, info = env.step(swapped)
        assert 0 < reward < 1 and info["reward_components"]["exact"] == 0.0
        assert pickle.loads(pickle.dumps(module.VERIFIER))(swapped, env.problem).score == reward
        assert "examples/SortWords-v0" in {s.id for s in thinkgym.list_envs()}
    finally:
        sys.modules.pop(module_spec.name, None)
