"""Built-in environment families. Importing this package registers every built-in env.

Each module registers its own ids with one `thinkgym.register(...)` call per env and keeps heavy
imports (sympy, torch, docker) inside functions, so `import thinkgym` stays fast.
"""

from __future__ import annotations

import importlib

BUILTIN_MODULES: tuple[str, ...] = ("maze", "math", "code", "tool_use", "bfcl")

for _name in BUILTIN_MODULES:
    importlib.import_module(f"thinkgym.envs.{_name}")
