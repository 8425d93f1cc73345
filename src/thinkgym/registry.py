"""Env ids, versions and lookup: `register`, `make`, `list_envs`, `spec`.

Ids look like ``thinkgym/Maze-v0``: an optional namespace, a name and a required version. There is
one registry and one spec type, gymnasium's: `register` adds a `gymnasium.envs.registration.EnvSpec`
to ``gymnasium.registry`` (with one extra attribute, ``description``), and `spec` and `list_envs`
return those very objects, so ``gymnasium.make(thinkgym.spec(id))``, ``gymnasium.make(id)`` and
``thinkgym.make(id)`` build the same env. ``thinkgym.make`` returns the env itself;
``gymnasium.make`` wraps it in gymnasium's default wrappers (`OrderEnforcing`,
`PassiveEnvChecker`); every thinkgym helper accepts both.

Third-party packages register through the ``thinkgym.envs`` entry-point group: each entry point
names a module (whose import registers) or a callable (called with no arguments). Plugins load at
``import thinkgym`` (so ``gymnasium.make("<plugin id>")`` works right after it; set
``THINKGYM_NO_PLUGINS=1`` to skip them), and again on demand when an id is not found.

gymnasium itself loads no plugins, so a process that never imported thinkgym (a ``spawn``
worker of `AsyncVectorEnv` given ``partial(gymnasium.make, "thinkgym/Math-v0")``) does not know
the ids: give it the spec (``gymnasium.make(thinkgym.spec(id))``: its entry point imports the
env's module), gymnasium's ``"thinkgym:thinkgym/Math-v0"`` form, or use ``gymnasium.make_vec``.

>>> import thinkgym, gymnasium
>>> env_spec = thinkgym.spec("thinkgym/Maze-v0")
>>> isinstance(env_spec, gymnasium.envs.registration.EnvSpec), bool(env_spec.description)
(True, True)
>>> type(gymnasium.make(env_spec).unwrapped) is type(thinkgym.make("thinkgym/Maze-v0"))
True
"""

from __future__ import annotations

import copy
import difflib
import importlib
import os
import re
import warnings
from collections.abc import Callable
from importlib import metadata
from typing import Any

import gymnasium
from gymnasium.envs.registration import EnvSpec

from thinkgym.errors import RegistrationError, UnknownEnvError

__all__ = ["EnvSpec", "register", "make", "spec", "list_envs", "load_plugins", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "thinkgym.envs"
_ID_RE = re.compile(r"^(?:(?P<namespace>[\w.-]+)/)?(?P<name>[\w.:-]+?)-v(?P<version>\d+)$")

#: The ids registered through thinkgym, mapped to their spec (the same object gymnasium holds).
_REGISTRY: dict[str, EnvSpec] = {}
_plugins_loaded = False
_LOADED_ENTRY_POINTS: set[tuple[str, str]] = set()


def parse_id(env_id: str) -> tuple[str | None, str, int]:
    """Split ``ns/Name-vN`` into its parts; a clear error when the id is malformed."""
    m = _ID_RE.match(env_id)
    if not m:
        raise RegistrationError(
            f"malformed env id {env_id!r}: ids look like 'thinkgym/Name-v0' (namespace optional, version required)"
        )
    return m.group("namespace"), m.group("name"), int(m.group("version"))


def register(
    id: str,
    entry_point: str | Callable[..., Any],
    *,
    description: str = "",
    override: bool = False,
    **defaults: Any,
) -> EnvSpec:
    """Register an env under ``id``; ``defaults`` become keyword arguments of its constructor.

    ``entry_point`` is ``"package.module:Class"`` (imported only when the env is made) or a
    callable. Re-registering an id raises unless ``override=True``.
    """
    parse_id(id)
    if id in _REGISTRY and not override:
        raise RegistrationError(f"{id!r} is already registered; pass override=True to replace it")
    if not (isinstance(entry_point, str) or callable(entry_point)):
        raise RegistrationError(f"entry point of {id!r} must be 'package.module:Name' or a callable")
    env_spec = EnvSpec(id=id, entry_point=entry_point, kwargs=dict(defaults), disable_env_checker=False)
    env_spec.description = description  # type: ignore[attr-defined]  # thinkgym's one extra field
    gymnasium.registry.pop(id, None)
    gymnasium.registry[id] = env_spec
    _REGISTRY[id] = env_spec
    return env_spec


def spec(env_id: str) -> EnvSpec:
    """The gymnasium `EnvSpec` of a registered id, or an `UnknownEnvError` naming the closest ids."""
    if not isinstance(env_id, str):
        raise TypeError(f"env id must be a str, got {type(env_id).__name__}")
    if env_id not in _REGISTRY:
        load_plugins(force=True)  # entry points installed since the last look
    if env_id in _REGISTRY:
        return _REGISTRY[env_id]
    raise UnknownEnvError(_unknown_message(env_id))


def make(env_id: str | EnvSpec, **kwargs: Any) -> Any:
    """Build the env registered as ``env_id`` (an id or its spec); ``kwargs`` override its defaults.

    Returns the env itself, its ``spec`` set as ``gymnasium.make`` sets it (the kwargs merged), so
    ``gymnasium.make(env.spec)`` builds the same env again inside gymnasium's default wrappers.
    """
    env_spec = env_id if isinstance(env_id, EnvSpec) else spec(env_id)
    factory = _load(env_spec.entry_point)  # type: ignore[arg-type]
    merged = {**env_spec.kwargs, **kwargs}
    env = factory(**merged)
    made = copy.deepcopy(env_spec)
    made.kwargs = merged
    try:
        env.unwrapped.spec = made
    except AttributeError:  # an entry point that returns something without a settable spec
        pass
    return env


def list_envs() -> list[EnvSpec]:
    """Every registered env (built-in and plugins), sorted by id."""
    load_plugins()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def load_plugins(force: bool = False) -> list[str]:
    """Load the ``thinkgym.envs`` entry points not loaded yet; returns the names loaded this call.

    Without ``force`` this looks once per process; with it (or when an id is not found) it looks
    again for entry points installed since, never loading one twice. A plugin that fails to load
    is reported as a warning and never breaks the built-in envs.
    """
    global _plugins_loaded
    if _plugins_loaded and not force:
        return []
    _plugins_loaded = True
    loaded = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        key = (ep.name, ep.value)
        if key in _LOADED_ENTRY_POINTS:
            continue
        _LOADED_ENTRY_POINTS.add(key)
        try:
            obj = ep.load()
            if callable(obj):
                obj()
            loaded.append(ep.name)
        except Exception as exc:  # a broken plugin must not take the registry down
            warnings.warn(f"thinkgym plugin {ep.name!r} ({ep.value}) failed to load: {exc}", stacklevel=2)
    return loaded


def load_plugins_at_import() -> None:
    """Called by ``import thinkgym``: plugins register before anyone asks gymnasium for their ids."""
    if os.environ.get("THINKGYM_NO_PLUGINS", "").strip() not in ("", "0"):
        return
    load_plugins()


#: ``{namespace: sentence}``: what to do when an id of that namespace is unknown, set by a plugin
#: whose ids need an optional dependency (``rg/`` without reasoning-gym names the extra to install).
NAMESPACE_HINTS: dict[str, str] = {}


def _unknown_message(env_id: str) -> str:
    namespace = env_id.split("/", 1)[0] if "/" in env_id else None
    if namespace in NAMESPACE_HINTS:
        return f"no env registered as {env_id!r}: {NAMESPACE_HINTS[namespace]}"
    known = sorted(_REGISTRY)
    close = difflib.get_close_matches(env_id, known, n=3, cutoff=0.4)
    if not close:
        lowered = env_id.lower()
        close = [k for k in known if lowered.split("/")[-1].split("-v")[0] in k.lower()][:3]
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"no env registered as {env_id!r}.{hint} Run `thinkgym list` to see every env."


def _load(entry_point: str | Callable[..., Any]) -> Callable[..., Any]:
    if callable(entry_point):
        return entry_point
    module_name, _, attr = entry_point.partition(":")
    if not attr:
        raise RegistrationError(f"entry point {entry_point!r} must look like 'package.module:Name'")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj
