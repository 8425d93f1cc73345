"""Turn a ``--policy`` string into a `Policy`.

Accepted forms::

    random                      uniform over permitted moves / random text (RandomPolicy)
    oracle                      the env's best action (OraclePolicy)
    hf:PATH                     a local transformers model folder (HFPolicy)
    openai:URL[#MODEL]          an OpenAI-compatible server, e.g. vLLM (OpenAIPolicy)
    py:MODULE:NAME              any Policy subclass or factory you wrote

Model-backed policies are imported only when asked for, so `thinkgym eval --policy oracle` needs
neither torch nor the openai client.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from thinkgym.agents.base import Policy
from thinkgym.errors import ConfigError

__all__ = ["PolicySpec", "parse_policy_spec", "make_policy"]

KINDS = ("random", "oracle", "hf", "openai", "py")


@dataclass(frozen=True)
class PolicySpec:
    """A parsed ``--policy`` value."""

    kind: str
    target: str = ""
    model: str | None = None
    raw: str = ""

    @property
    def batches_on_one_device(self) -> bool:
        """A local model generates best in batches, one batch at a time."""
        return self.kind == "hf"


def parse_policy_spec(spec: str) -> PolicySpec:
    """Parse (and validate the shape of) a policy string; see the module docstring."""
    if not isinstance(spec, str):
        raise TypeError(f"policy spec must be a str, got {type(spec).__name__}")
    text = spec.strip()
    if text in ("random", "oracle"):
        return PolicySpec(text, raw=text)
    kind, sep, rest = text.partition(":")
    if not sep or kind not in KINDS or not rest:
        raise ConfigError(
            f"cannot read --policy {spec!r}. Use one of: random | oracle | hf:PATH | "
            "openai:URL[#MODEL] (e.g. openai:http://127.0.0.1:8000/v1#Qwen/Qwen3-0.6B) | py:MODULE:NAME"
        )
    if kind == "openai":
        url, _, model = rest.partition("#")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"--policy openai:URL needs an http(s) URL, got {url!r}")
        return PolicySpec("openai", url, model or None, raw=text)
    if kind == "py" and ":" not in rest:
        raise ConfigError(f"--policy py:MODULE:NAME needs a module and a name, got {rest!r}")
    return PolicySpec(kind, rest, raw=text)


@dataclass
class _Options:
    seed: int = 0
    temperature: float | None = None
    max_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _import(module: str, name: str, what: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the {what} policy is not available: {exc}. Install the extra it needs "
            "(pip install 'thinkgym[train]') or choose another --policy."
        ) from exc
    except AttributeError as exc:
        raise ConfigError(
            f"the {what} policy is not available in this thinkgym build ({module}.{name})"
        ) from exc


def _call_with_supported(factory: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``factory`` with the keyword arguments it accepts (None values left out)."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return factory(*args)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        accepted = {k: v for k, v in kwargs.items() if v is not None}
    else:
        accepted = {k: v for k, v in kwargs.items() if k in params and v is not None}
    return factory(*args, **accepted)


def _served_model(base_url: str) -> str:
    """The one model an OpenAI-compatible server serves (vLLM serves one), for ``openai:URL``."""
    try:
        import openai

        client = openai.OpenAI(
            base_url=base_url,
            api_key=os.environ.get("OPENAI_API_KEY", "EMPTY"),
            timeout=10.0,
            max_retries=2,
        )
        models = [m.id for m in client.models.list()]
    except Exception as exc:
        from thinkgym.agents.openai import _server_explanation

        why = _server_explanation(exc) if getattr(exc, "status_code", None) else str(exc)
        raise ConfigError(
            f"could not ask {base_url} which model it serves ({type(exc).__name__}: {why}); "
            "name it: --policy openai:URL#MODEL"
        ) from exc
    if len(models) != 1:
        raise ConfigError(
            f"{base_url} serves {len(models)} models ({', '.join(models[:10])}); choose one: --policy openai:URL#MODEL"
        )
    return models[0]


def make_policy(
    spec: str | PolicySpec,
    *,
    seed: int = 0,
    temperature: float | None = None,
    max_tokens: int | None = None,
    concurrency: int | None = None,
    batch_size: int | None = None,
    **extra: Any,
) -> Policy:
    """Build the policy a spec names; sampling settings go to the policies that take them."""
    parsed = parse_policy_spec(spec) if isinstance(spec, str) else spec
    common = {
        "seed": seed,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "max_new_tokens": max_tokens,
        **extra,
    }
    if parsed.kind == "random":
        cls = _import("thinkgym.agents", "RandomPolicy", "random")
        policy = _call_with_supported(cls, seed=seed)
    elif parsed.kind == "oracle":
        cls = _import("thinkgym.agents", "OraclePolicy", "oracle")
        policy = _call_with_supported(cls)
    elif parsed.kind == "hf":
        cls = _import("thinkgym.agents.hf", "HFPolicy", "transformers (hf:)")
        import torch

        device = (
            "cuda" if torch.cuda.is_available() else None
        )  # a local model on the GPU when there is one
        policy = _call_with_supported(cls, parsed.target, device=device, **common)
    elif parsed.kind == "openai":
        cls = _import("thinkgym.agents.openai", "OpenAIPolicy", "OpenAI-compatible (openai:)")
        model = parsed.model or _served_model(parsed.target)
        # No policy-wide seed: every request would carry the same one, and a server that honours
        # it (vLLM does) would return the same completion for every sample of a problem (pass@k
        # silently pass@1). The runner sends each sample's own seed instead (`Query.seed`).
        openai_kwargs = {k: v for k, v in common.items() if k != "seed"}
        policy = _call_with_supported(
            cls, model, base_url=parsed.target, max_concurrency=concurrency, **openai_kwargs
        )
    else:
        module, _, name = parsed.target.rpartition(":")
        try:
            factory = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"cannot load --policy py:{parsed.target}: {exc}") from exc
        policy = _call_with_supported(factory, **common) if callable(factory) else factory
    if not isinstance(policy, Policy):
        raise ConfigError(
            f"--policy {parsed.raw!r} did not give a thinkgym Policy (got {type(policy).__name__})"
        )
    return policy
