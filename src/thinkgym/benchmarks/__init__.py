"""Benchmarking reasoning models: versioned suites, a resumable concurrent runner, honest metrics.

>>> from thinkgym.benchmarks import load_suite, evaluate, EvalSettings
>>> summary = evaluate(load_suite("quick-v0"), "oracle", "runs/oracle", EvalSettings(progress=False))

The same from the shell: ``thinkgym eval --suite quick-v0 --policy oracle --out runs/oracle``.
"""

from __future__ import annotations

from thinkgym.benchmarks.metrics import Estimate, maj_at_k, pass_at_k, summarize, wilson_interval
from thinkgym.benchmarks.runner import EvalSettings, build_summary, evaluate
from thinkgym.benchmarks.suites import (
    Suite,
    SuiteEntry,
    builtin_suites,
    load_suite,
    suite_from_envs,
)

__all__ = [
    "Estimate",
    "EvalSettings",
    "Suite",
    "SuiteEntry",
    "build_summary",
    "builtin_suites",
    "evaluate",
    "load_suite",
    "maj_at_k",
    "pass_at_k",
    "suite_from_envs",
    "summarize",
    "wilson_interval",
]
