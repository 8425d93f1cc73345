"""Exceptions raised by thinkgym.

Model output never raises: it earns a reward and an explanation. These errors are for the people
and programs *using* thinkgym (unknown env ids, bad configuration, missing isolation layers), and
every message says what to do next.
"""

from __future__ import annotations


class ThinkgymError(Exception):
    """Base class of every error thinkgym raises on purpose."""


class UnknownEnvError(ThinkgymError, KeyError):
    """An env id that is not registered; the message names the closest registered ids."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class RegistrationError(ThinkgymError, ValueError):
    """A malformed id or a conflicting registration."""


class ConfigError(ThinkgymError, ValueError):
    """A configuration value that cannot work (a bad path, a refused option, a changed config)."""


class SandboxUnavailableError(ThinkgymError, RuntimeError):
    """A requested isolation layer or backend is not available on this machine."""
