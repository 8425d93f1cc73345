"""Env ids, versions and lookup: `register`, `make`, `list_envs`, `spec`.

Ids look like ``thinkgym/Maze-v0``: an optional namespace, a name and a required version. Each
registration is mirrored into gymnasium's registry so ``gymnasium.make(id)`` works as well.
Third-party packages register through the ``thinkgym.envs`` entry-point group: each entry point
names a module (whose import registers) or a callable (called with no arguments). Plugins are
loaded lazily, the first time an id is not found or the full list is asked for.
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import gymnasium

from thinkgym.errors import RegistrationError, UnknownEnvError

__all__ = ["EnvSpec", "register", "make", "spec", "list_envs", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "thinkgym.envs"
_ID_RE = re.compile(r"^(?:(?P<namespace>[\w.-]+)/)?(?P<name>[\w.:-]+?)-v(?P<version>\d+)$")


@dataclass(frozen=True)
class EnvSpec:
    """Everything needed to build one registered env."""

    id: str
    entry_point: str | Callable[..., Any]
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    namespace: str | None = None
    name: str = ""
    version: int = 0

    def make(self, **kwargs: Any) -> Any:
        factory = _load(self.entry_point)
        env = factory(**{**self.kwargs, **kwargs})
        try:
            env.spec = gymnasium.envs.registration.EnvSpec(
                id=self.id, entry_point=self.entry_point, kwargs={**self.kwargs, **kwargs}
            )
        except (AttributeError, TypeError):
            pass
        return env


_REGISTRY: dict[str, EnvSpec] = {}
_plugins_loaded = False


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
    namespace, name, version = parse_id(id)
    if id in _REGISTRY and not override:
        raise RegistrationError(f"{id!r} is already registered; pass override=True to replace it")
    env_spec = EnvSpec(id, entry_point, dict(defaults), description, namespace, name, version)
    _REGISTRY[id] = env_spec
    if id in gymnasium.registry:
        del gymnasium.registry[id]
    gymnasium.register(id=id, entry_point=entry_point, kwargs=dict(defaults), disable_env_checker=False)
    return env_spec


def spec(env_id: str) -> EnvSpec:
    """The `EnvSpec` of a registered id, or an `UnknownEnvError` naming the closest ids."""
    if not isinstance(env_id, str):
        raise TypeError(f"env id must be a str, got {type(env_id).__name__}")
    if env_id in _REGISTRY:
        return _REGISTRY[env_id]
    load_plugins()
    if env_id in _REGISTRY:
        return _REGISTRY[env_id]
    raise UnknownEnvError(_unknown_message(env_id))


def make(env_id: str, **kwargs: Any) -> Any:
    """Build the env registered as ``env_id``; ``kwargs`` override its registered defaults."""
    return spec(env_id).make(**kwargs)


def list_envs() -> list[EnvSpec]:
    """Every registered env (built-in and plugins), sorted by id."""
    load_plugins()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def load_plugins(force: bool = False) -> list[str]:
    """Import every ``thinkgym.envs`` entry point once; returns the names loaded this call.

    A plugin that fails to import is reported as a warning, never breaks the built-in envs.
    """
    global _plugins_loaded
    if _plugins_loaded and not force:
        return []
    _plugins_loaded = True
    loaded = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            if callable(obj):
                obj()
            loaded.append(ep.name)
        except Exception as exc:  # a broken plugin must not take the registry down
            import warnings

            warnings.warn(f"thinkgym plugin {ep.name!r} ({ep.value}) failed to load: {exc}", stacklevel=2)
    return loaded


def _unknown_message(env_id: str) -> str:
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
