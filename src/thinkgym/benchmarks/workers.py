"""The verification worker processes: where single-turn answers are judged, in parallel.

Each worker builds each env once and keeps it (a code env keeps its warm sandbox). Workers are
spawned (not forked: the parent runs threads and an event loop), so they import thinkgym afresh;
envs registered only in the parent's script are reported unavailable and judged in the parent.
"""

from __future__ import annotations

import concurrent.futures
import json
import time
from collections.abc import Sequence
from typing import Any

from thinkgym.benchmarks.judging import step_outcome
from thinkgym.core import Problem
from thinkgym.errors import ConfigError

__all__ = ["import_modules", "kill_pool", "worker_step"]


def import_modules(modules: Sequence[str]) -> None:
    """Import the modules that register user envs (``--import``), with a clear error."""
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(f"--import {name}: {exc}") from exc


def kill_pool(pool: concurrent.futures.ProcessPoolExecutor, grace_s: float) -> None:
    """Shut a pool down without waiting on a hung worker: wait ``grace_s``, then SIGKILL."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=grace_s > 0)
    deadline = time.monotonic() + grace_s
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(1.0)


# ---- process-pool worker side ------------------------------------------------------------------

_WORKER_ENVS: dict[tuple[str, str], Any] = {}


def _close_worker_envs() -> None:
    for env in _WORKER_ENVS.values():
        try:
            env.close()
        except Exception:  # closing at exit must not mask the worker's own exit
            pass
    _WORKER_ENVS.clear()


def worker_step(env_id: str, kwargs_json: str, problem: Problem, action: str) -> dict[str, Any]:
    """Runs in a verification worker: build (once) the env and judge one single-turn answer."""
    key = (env_id, kwargs_json)
    env = _WORKER_ENVS.get(key)
    if env is None:
        import thinkgym

        try:
            env = thinkgym.make(env_id, **json.loads(kwargs_json))
        except thinkgym.UnknownEnvError:
            return {"unavailable": True}
        if not _WORKER_ENVS:
            import atexit

            atexit.register(_close_worker_envs)  # sandboxes and verifier pools of the envs
        _WORKER_ENVS[key] = env
    try:
        return step_outcome(env, action, problem)
    except Exception as exc:  # reported as an env bug for this sample, not as a broken pool
        return {"step_error": f"env step raised {type(exc).__name__}: {exc}"}
