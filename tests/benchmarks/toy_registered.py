"""Importing this registers the toy envs (for `EvalSettings.imports` in worker processes)."""

from toy import register_toy_envs

register_toy_envs()
