"""thinkgym.sandbox: one interface (`Sandbox.run`, `map`, `arun`) over every backend.

``make_sandbox("local")`` (the default: a warm Linux fork-server with namespaces, seccomp, rlimits
and cgroups) or ``make_sandbox("docker")`` (a warm container pool), or ``make_sandbox("ray", address=...)`` (a
warm local sandbox on every slot of a Ray cluster). Backends import lazily, so
``import thinkgym.sandbox`` stays cheap and the docker SDK is loaded only when asked for.
A distributed backend plugs in by adding one entry to `_BACKENDS`.
"""

from __future__ import annotations

import importlib
from typing import Any

from thinkgym.errors import ConfigError, SandboxUnavailableError
from thinkgym.sandbox.base import Files, Job, Limits, Sandbox, SandboxResult, StartedJob

__all__ = [
    "Files",
    "Job",
    "Limits",
    "Sandbox",
    "SandboxResult",
    "StartedJob",
    "LocalSandbox",
    "make_sandbox",
    "available_backends",
]

#: backend name -> "module:class"
_BACKENDS: dict[str, str] = {
    "local": "thinkgym.sandbox.local:LocalSandbox",
    "docker": "thinkgym.sandbox.docker:DockerSandbox",
    "ray": "thinkgym.sandbox.ray:RaySandbox",
}


def _backend_class(name: str) -> type[Sandbox]:
    if not isinstance(name, str):
        raise TypeError(f"backend must be a str, got {type(name).__name__}")
    target = _BACKENDS.get(name)
    if target is None:
        raise ConfigError(f"unknown sandbox backend {name!r}; choose one of {sorted(_BACKENDS)}")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SandboxUnavailableError(f"sandbox backend {name!r} cannot be imported here: {exc}") from exc
    return getattr(module, class_name)


def make_sandbox(backend: str = "local", **kwargs: Any) -> Sandbox:
    """Create a sandbox of the named backend; keyword arguments go to its constructor."""
    return _backend_class(backend)(**kwargs)


def available_backends() -> list[str]:
    """Backends whose code imports here and that report themselves usable on this machine.

    A backend class may define a ``usable()`` classmethod (e.g. docker: is an engine reachable or
    startable?); without one, importing is enough.
    """
    names = []
    for name in _BACKENDS:
        try:
            cls = _backend_class(name)
        except SandboxUnavailableError:
            continue
        usable = getattr(cls, "usable", None)
        try:
            if usable is None or usable():
                names.append(name)
        except Exception:  # a probe that fails means "not usable", never a crash here
            continue
    return names


def __getattr__(name: str) -> Any:
    if name == "LocalSandbox":
        from thinkgym.sandbox.local import LocalSandbox

        return LocalSandbox
    raise AttributeError(f"module 'thinkgym.sandbox' has no attribute {name!r}")
