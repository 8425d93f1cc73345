"""Tool envs as TRL's ``environment_factory``: the env's tools become the model's tools.

``GRPOTrainer(environment_factory=tool_environment_factory("thinkgym/ToolUse-v0"))`` builds one
adapter per rollout. TRL exposes every public method of the adapter's class as a tool, renders their
schemas into the prompt with the chat template (``transformers.utils.get_json_schema`` on each
method: type hints + Google-style docstring), parses the model's calls, calls the methods and
appends the results as ``tool`` messages (masked out of the loss).

- **Env with tools** (``env.tools``, the OpenAI function-calling schemas): one method per tool,
  named after it, whose signature and docstring are built from its JSON schema so that
  ``get_json_schema`` gives back the same schema (types, enums, required arguments, descriptions;
  what a signature cannot say — nested object fields, bounds, patterns — is appended to the
  argument's description as JSON, and the env still validates the full schema). A call goes to
  ``env.call_tool(name, arguments)``, inside the rollout's own episode, so it counts for the
  session-verified rewards exactly like a call the env parsed itself. The reward comes from
  `thinkgym.agents.trl.reward_funcs` (``reward_funcs=reward_funcs(env_id)``): TRL hands the
  rollout's adapters to reward functions (``environments=``), and each adapter ends its episode with
  the model's final message (the ``<answer>``), so the env scores what the model finally said
  together with the calls it actually made.
- **Env without tools** (the maze): one tool, ``step(action)``, that plays a move; ``get_reward()``
  (TRL's own hook) is the episode's total.

The problem appears once: TRL appends what ``reset`` returns to the prompt's last message, so
``reset`` returns None when the row's prompt (a `to_dataset` row) already shows the env's first
observation, and the observation only for rows without it. TRL needs a conversational dataset
(``to_dataset(env_id, n, conversational=True)``) and a chat template with tool support.
"""

from __future__ import annotations

import inspect
import json
import keyword
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Union

from thinkgym.agents.base import env_attr
from thinkgym.agents.trl import (
    ENV_COLUMN,
    PROBLEM_COLUMN,
    PROBLEM_ID_COLUMN,
    _short_name,
    completion_text,
    problem_from_row,
)
from thinkgym.core import TextEnv
from thinkgym.envs.token import env_tools
from thinkgym.errors import ConfigError
from thinkgym.registry import make

__all__ = ["ThinkgymToolEnv", "ThinkgymTools", "tool_environment_factory", "tool_method"]

_JSON_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "null": type(None),
    "array": list,
    "object": dict,
}
_SCALARS = (str, int, float, bool, type(None))
#: Names TRL treats specially (or hides): a tool cannot be exposed under them.
_RESERVED = ("reset", "get_reward")


class _Adapter:
    """What both adapters share: the env, the episode's start on a dataset row, its outcome."""

    def __init__(self, env_id: str, env_kwargs: Mapping[str, Any] | None = None):
        self._env_id = env_id
        self._env: TextEnv = make(env_id, **dict(env_kwargs or {}))
        self._started = False
        self._done = True
        self._total = 0.0
        self._components: dict[str, float] = {}
        self._outcome: tuple[float, dict[str, float]] | None = None

    def reset(self, **row: Any) -> str | None:
        """Start an episode on the row's problem. Returns None when the row's prompt already shows
        the problem (TRL would append a second copy), else the env's first observation."""
        if isinstance(row.get("prompt"), str):
            raise ConfigError(
                "TRL's tool loop needs a conversational dataset (chat messages as prompts): build it with "
                f"to_dataset({self._env_id!r}, n, conversational=True)"
            )
        problem = problem_from_row(row.get(ENV_COLUMN, self._env_id), row.get(PROBLEM_ID_COLUMN), row.get(PROBLEM_COLUMN))
        observation, _ = self._env.reset(options={"problem": problem} if problem is not None else None)
        self._started, self._done = True, False
        self._total, self._components, self._outcome = 0.0, {}, None
        self._after_reset()
        return None if _shown(row.get("prompt"), observation) else observation

    def _after_reset(self) -> None:
        """Hook for subclasses (the tool adapter checks the env's tools)."""

    def _step(self, action: str) -> tuple[str, float, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self._env.step(action)
        self._total += float(reward)
        for name, value in info.get("reward_components", {}).items():
            self._components[name] = self._components.get(name, 0.0) + float(value)
        self._done = bool(terminated or truncated)
        return observation, float(reward), info


class ThinkgymToolEnv(_Adapter):
    """A thinkgym env without tools (the maze) in the shape TRL's ``environment_factory`` expects.

    TRL turns the public methods into tools: here one, `step`, which sends an action to the env;
    ``get_reward()`` is the episode's total reward so far.
    """

    def step(self, action: str) -> str:
        """Send one action to the environment and get back what it answers.

        Args:
            action: The action, as text (for example a move such as "R", or an answer).

        Returns:
            The environment's observation after the action, with the reward it earned.
        """
        if not self._started or self._done:
            return "The episode is over; no further actions are accepted."
        observation, reward, info = self._step(action if isinstance(action, str) else str(action))
        status = " The episode is over." if self._done else ""
        error = f" ({info['error']})" if "error" in info else ""
        return f"{observation}\n[reward {reward:g}{error}]{status}"

    def get_reward(self) -> float:
        """The total reward of the episode so far."""
        return self._total


class ThinkgymTools(_Adapter):
    """Base of the adapters of tool envs: `tool_environment_factory` adds one method per tool."""

    #: Tool names exposed as methods (set on each generated class).
    _tool_names: tuple[str, ...] = ()

    def _after_reset(self) -> None:
        names = {t["function"]["name"] for t in env_tools(self._env) or ()}
        missing = sorted(names - set(self._tool_names))
        if missing:
            raise ConfigError(
                f"{self._env_id} offers tools {missing} for this problem that were not among its tools when the "
                "trainer was built; TRL renders one fixed tool set per environment, so use rollout_func "
                "(thinkgym.agents.trl.rollout_func) for envs whose tools change per problem"
            )

    def _call(self, name: str, arguments: dict[str, Any]) -> str:
        if not self._started or self._done:
            return "The episode is over; no further tool calls are accepted."
        call_tool = env_attr(self._env, "call_tool")
        if call_tool is None:
            raise ConfigError(f"{self._env_id} has tools but no call_tool(name, arguments) to run them")
        return str(call_tool(name, arguments))

    def _thinkgym_outcome(self, completion: Any) -> tuple[float, dict[str, float]]:
        """The episode's (score, components) once the model's final message has been judged.

        Called by `thinkgym.agents.trl.reward_funcs` (once per reward function: the first call
        ends the episode, later ones read the same outcome)."""
        if self._outcome is None:
            if self._started and not self._done:
                self._step(_final_message(completion))
            self._outcome = (self._total, dict(self._components))
        return self._outcome


def tool_environment_factory(env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> Callable[[], _Adapter]:
    """``GRPOTrainer(environment_factory=tool_environment_factory("thinkgym/..."))``.

    An env with tools gets an adapter class whose methods are its tools (module docstring); pair it
    with ``reward_funcs=reward_funcs(env_id)``. An env without tools gets `ThinkgymToolEnv` (a
    ``step`` tool and ``get_reward``).
    """
    env_kwargs = dict(env_kwargs or {})
    tools = _probe_tools(env_id, env_kwargs)
    if tools:
        cls: type[_Adapter] = _tool_class(env_id, tools)
    else:
        cls = ThinkgymToolEnv

    def factory() -> _Adapter:
        return cls(env_id, env_kwargs)

    factory.__name__ = f"{_short_name(env_id)}_environment"
    return factory


def _probe_tools(env_id: str, env_kwargs: Mapping[str, Any]) -> list[dict[str, Any]]:
    env = make(env_id, **dict(env_kwargs))
    try:
        tools = env_tools(env)
        if not tools and env_attr(env, "call_tool") is not None:
            env.reset(seed=0)  # an env that lists its tools once an episode has started
            tools = env_tools(env)
        return tools or []
    finally:
        env.close()


def _tool_class(env_id: str, tools: Sequence[Mapping[str, Any]]) -> type[ThinkgymTools]:
    methods: dict[str, Any] = {}
    for schema in tools:
        method = tool_method(schema)
        if method.__name__ in methods:
            raise ConfigError(f"{env_id} declares the tool {method.__name__!r} twice")
        methods[method.__name__] = method
    name = "".join(part.capitalize() for part in _short_name(env_id).split("_")) + "Tools"
    methods["_tool_names"] = tuple(methods)
    methods["__doc__"] = f"TRL environment adapter of {env_id}: its tools {sorted(methods['_tool_names'])} as methods."
    return type(name, (ThinkgymTools,), methods)


# --------------------------------------------------------------------------------------------
# JSON schema -> a typed, documented method that get_json_schema reads back
# --------------------------------------------------------------------------------------------


def tool_method(schema: Mapping[str, Any]) -> Callable[..., str]:
    """A method ``(self, **arguments) -> str`` standing for one tool, for TRL.

    Its ``__signature__`` and ``__annotations__`` are built from the tool's JSON schema (``string``
    → ``str``, ``integer`` → ``int``, ``array`` of X → ``list[X]``, ``enum`` → ``Literal``,
    ``anyOf``/type lists → ``Union``; arguments not ``required`` default to None) and its docstring
    says the description of the tool and of each argument, so ``get_json_schema`` gives back the
    schema. Argument names that are not Python identifiers (``from-date``, ``class``) get one
    (``from_date``, ``class_``) — that is what the model sees and writes — and are mapped back to the
    schema's names for the call. The method runs ``self._call(name, arguments)``.
    """
    from thinkgym.tools import function_schema, schema_from_dict

    function = schema_from_dict(schema)["function"]
    name = function["name"]
    if name in _RESERVED or name.startswith("_"):
        raise ConfigError(
            f"the tool name {name!r} cannot be a TRL tool method (TRL reserves reset and get_reward and hides "
            "names starting with '_'): rename the tool"
        )
    parameters = function.get("parameters") or {}
    properties = parameters.get("properties") or {}
    required = set(parameters.get("required") or ())
    py_names = _identifiers(list(properties))
    signature = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for original, py_name in py_names.items():
        default = inspect.Parameter.empty if original in required else None
        signature.append(inspect.Parameter(py_name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=_hint(properties[original])))
    to_schema = {py: original for original, py in py_names.items()}

    def method(self: ThinkgymTools, **kwargs: Any) -> str:
        return self._call(name, {to_schema.get(k, k): v for k, v in kwargs.items()})

    method.__name__ = method.__qualname__ = name
    method.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    method.__annotations__ = {p.name: p.annotation for p in signature[1:]}
    returns = function.get("return")
    if isinstance(returns, Mapping):  # what the tool gives back, as the schema says (templates may show it)
        method.__annotations__["return"] = _hint(returns)
    descriptions = {original: _text(properties[original].get("description")) or f"The {original} argument." for original in properties}
    method.__doc__ = _docstring(function.get("description"), name, py_names, descriptions, returns)
    # what a signature cannot say goes into the argument's description, as JSON
    derived = function_schema(method)["function"]["parameters"]["properties"]
    for original, py_name in py_names.items():
        wanted = {k: v for k, v in properties[original].items() if k != "description"}
        got = {k: v for k, v in derived[py_name].items() if k != "description"}
        if wanted != got:
            descriptions[original] += " JSON schema: " + json.dumps(wanted, sort_keys=True, ensure_ascii=False)
    method.__doc__ = _docstring(function.get("description"), name, py_names, descriptions, returns)
    return method


def _identifiers(names: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    taken = {"self"}
    for original in names:
        py = re.sub(r"\W", "_", original) or "arg"
        if py[0].isdigit():
            py = "_" + py
        if keyword.iskeyword(py) or py == "self":
            py += "_"
        base, n = py, 1
        while py in taken:
            n += 1
            py = f"{base}_{n}"
        taken.add(py)
        out[original] = py
    return out


def _hint(schema: Any) -> Any:  # noqa: C901 - one branch per JSON schema construct
    """The Python type hint of a JSON schema (as far as a hint can say it)."""
    if not isinstance(schema, Mapping):
        return Any
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and all(isinstance(v, _SCALARS) for v in enum):
        hint: Any = Literal[tuple(enum)]  # type: ignore[valid-type]
    elif isinstance(schema.get("anyOf") or schema.get("oneOf"), list):
        options = [_hint(s) for s in schema.get("anyOf") or schema.get("oneOf")]
        hint = Union[tuple(options)] if options else Any  # noqa: UP007 - built at run time
    elif isinstance(schema.get("type"), list):
        options = [_hint({**schema, "type": kind}) for kind in schema["type"]]
        hint = Union[tuple(options)] if options else Any  # noqa: UP007
    elif schema.get("type") == "array":
        items = schema.get("items")
        hint = list[_hint(items)] if isinstance(items, Mapping) else list
    elif schema.get("type") == "object":
        extra = schema.get("additionalProperties")
        hint = dict[str, _hint(extra)] if isinstance(extra, Mapping) else dict
    else:
        hint = _JSON_TYPES.get(schema.get("type"), Any)
    if schema.get("nullable") is True:
        hint = Union[hint, None]  # noqa: UP007
    return hint


def _text(value: Any) -> str:
    """One line of docstring text that Google-style parsing reads back unchanged."""
    text = " ".join(str(value or "").split())
    return re.sub(r"\b(Args|Returns|Raises):", r"\1 -", text)


def _docstring(
    description: Any, name: str, py_names: Mapping[str, str], descriptions: Mapping[str, str], returns: Any = None
) -> str:
    lines = [_text(description) or f"The {name} tool."]
    if py_names:
        lines += ["", "Args:"]
        lines += [f"    {py}: {descriptions[original]}" for original, py in py_names.items()]
    if isinstance(returns, Mapping) and _text(returns.get("description")):
        lines += ["", "Returns:", f"    {_text(returns.get('description'))}"]
    return "\n".join(lines) + "\n"


def _shown(prompt: Any, observation: str) -> bool:
    """Whether a dataset row's prompt already shows the env's first observation."""
    if not observation:
        return True
    if isinstance(prompt, str):
        return observation in prompt
    if isinstance(prompt, Sequence):
        return any(isinstance(m, Mapping) and observation in str(m.get("content", "")) for m in prompt)
    return False


def _final_message(completion: Any) -> str:
    """The model's final answer in a TRL completion: the content of its last assistant message."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence):
        for message in reversed(list(completion)):
            if isinstance(message, Mapping) and message.get("role") == "assistant":
                content = message.get("content")
                return content if isinstance(content, str) else completion_text([message])
            if isinstance(message, Mapping) and message.get("role") == "tool":
                return ""  # the model never answered after its last tool results
    return ""
