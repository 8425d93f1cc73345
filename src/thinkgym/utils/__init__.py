"""What users call on their own envs: the contract checker `check_env` (see `env_checker`)."""

from __future__ import annotations

from thinkgym.utils.env_checker import RULES, CheckError, check_env

__all__ = ["CheckError", "RULES", "check_env"]
