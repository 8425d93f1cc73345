"""thinkgym: Gymnasium-style text environments with verifiable rewards for RL of language models.

>>> import thinkgym
>>> env = thinkgym.make("thinkgym/Maze-v0")
>>> observation, info = env.reset(seed=0)
"""

from __future__ import annotations

from thinkgym.core import (
    GeneratorSource,
    ListSource,
    Problem,
    ProblemSource,
    Reward,
    SingleTurnEnv,
    TextEnv,
    Turn,
    Verifier,
)
from thinkgym.errors import ThinkgymError, UnknownEnvError
from thinkgym.registry import list_envs, make, register, spec

__version__ = "0.1.0"

__all__ = [
    "GeneratorSource",
    "ListSource",
    "Problem",
    "ProblemSource",
    "Reward",
    "SingleTurnEnv",
    "TextEnv",
    "ThinkgymError",
    "Turn",
    "UnknownEnvError",
    "Verifier",
    "list_envs",
    "make",
    "register",
    "spec",
    "__version__",
]

# Built-in envs register themselves on import; their modules keep heavy imports inside functions.
import thinkgym.envs  # noqa: E402,F401
from thinkgym.registry import load_plugins_at_import  # noqa: E402

# Plugins (the ``thinkgym.envs`` entry-point group) register now, so gymnasium.make finds them.
load_plugins_at_import()
