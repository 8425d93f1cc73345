"""``thinkgym/BFCL-v0``: the Berkeley Function Calling Leaderboard's single-turn categories.

Each problem is one BFCL entry: a conversation, the functions the model may call, and (for the
call categories) the gold calls as BFCL's *possible answers*. The model answers with calls in any
format `thinkgym.tools.parse_tool_calls` reads (BFCL's pythonic ``[f(a=1)]``, Hermes
``<tool_call>``, an OpenAI ``tool_calls`` message); they are judged by BFCL's AST rules
(`thinkgym.verifiers.tool_calls`). Nothing is executed: these categories are judged on the calls.

**Data.** Not shipped (and ``bfcl-eval`` is never a dependency: it pins old numpy and many heavy
packages). Get it with ``pip download --no-deps bfcl-eval -d bfcl`` and pass ``data_dir=`` (or set
``THINKGYM_BFCL_DATA``) to the wheel itself, the folder holding it, the unpacked package, or its
``data/`` folder: the question files ``BFCL_v<N>_<category>.json`` (JSON Lines) and
``possible_answer/BFCL_v<N>_<category>.json``. v3 and v4 names both work (``simple`` is v4's
``simple_python``).

**Categories.** ``simple``, ``multiple``, ``parallel``, ``parallel_multiple``, ``irrelevance``,
``live_simple``, ``live_multiple``, ``live_parallel``, ``live_parallel_multiple``,
``live_irrelevance``, ``live_relevance``; ``categories="all"`` (default) takes every one the folder
holds. Java/JavaScript and the multi-turn, memory and web-search categories are not supported (a
`ConfigError` says so).

**Reward** (components of `ToolCallVerifier`): ``accuracy`` is BFCL's verdict (every gold call
matched, nothing else; for the irrelevance categories: no call; for ``live_relevance``: at least
one call to a listed function, where BFCL accepts any call: a call to a tool that does not exist
earns nothing here, on purpose), ``f1``/``precision``/``recall``
the multiset match, ``format`` whether every call attempt could be read. The score is
``accuracy``, or ``f1`` with ``reward="f1"`` (partial credit for RL). A policy that never calls
earns the irrelevance share of the mix (about a third of ``"all"`` in v4): train on the call
categories, or mix them on purpose.

**Tools and the two modes, as in BFCL.** ``env.tools`` are the current problem's functions as
OpenAI schemas, converted the way BFCL converts them for function-calling models (``dict`` →
``object``, ``float`` → ``number``, ``tuple`` → ``array``, ``any`` → ``string``; dots in names →
``_``, `thinkgym.verifiers.tool_calls.fc_names`). With ``tools_in_prompt=True`` (default) the
system prompt also lists them in BFCL's prompting style, so a plain text policy can answer. Each
call is judged in the mode its format belongs to, with BFCL's name rule for that mode: pythonic
text is *prompting* (``[math.factorial(n=5)]``: the name as listed; ``math_factorial`` is another
function) and Hermes / OpenAI ``tool_calls`` are *function calling* (``math_factorial``: the tool's
name; the dotted spelling names no tool). In the pythonic format a Python tuple is accepted only
for a ``tuple`` parameter (BFCL's rule; the JSON formats have no tuples). A policy that calls
through ``env.tools`` is best run with ``tools_in_prompt=False``, BFCL's FC setting, so that it
sees one spelling. ``env.call_tool(name, arguments)`` records a call for this episode (BFCL's
functions do not run; the answer says so) under its tool name; recorded calls are judged together
with the calls in the final action.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from thinkgym.core import ListSource, Problem, SingleTurnEnv, Turn
from thinkgym.errors import ConfigError
from thinkgym.registry import register
from thinkgym.tools.calls import DEFAULT_FORMATS, ToolCall

__all__ = [
    "BFCLEnv",
    "CATEGORIES",
    "DATA_ENV_VAR",
    "load_bfcl",
    "openai_tools",
    "render_pythonic",
]

DATA_ENV_VAR = "THINKGYM_BFCL_DATA"
#: Category -> the file stems it may have (v4 first), and what it expects of the model.
CATEGORIES: dict[str, tuple[tuple[str, ...], str]] = {
    "simple": (("simple_python", "simple"), "calls"),
    "multiple": (("multiple",), "calls"),
    "parallel": (("parallel",), "calls"),
    "parallel_multiple": (("parallel_multiple",), "calls"),
    "irrelevance": (("irrelevance",), "no_call"),
    "live_simple": (("live_simple",), "calls"),
    "live_multiple": (("live_multiple",), "calls"),
    "live_parallel": (("live_parallel",), "calls"),
    "live_parallel_multiple": (("live_parallel_multiple",), "calls"),
    "live_irrelevance": (("live_irrelevance",), "no_call"),
    "live_relevance": (("live_relevance",), "any_call"),
}
_ALIASES = {"simple_python": "simple"}
_UNSUPPORTED = ("java", "javascript", "multi_turn", "memory", "web_search", "format_sensitivity", "exec", "rest", "sql", "chatable")
_FILE_RE = re.compile(r"^BFCL_v(\d+)_(\w+)\.json$")
HOW_TO_GET = (
    "BFCL's data is not shipped with thinkgym. Get it with `pip download --no-deps bfcl-eval -d ~/bfcl` and "
    f"pass data_dir=~/bfcl (the wheel, its folder, or the unpacked bfcl_eval/data folder), or set {DATA_ENV_VAR}."
)
#: BFCL's types as the OpenAI (JSON schema) types its function-calling handlers send.
OPENAI_TYPES = {
    "dict": "object",
    "object": "object",
    "float": "number",
    "number": "number",
    "double": "number",
    "tuple": "array",
    "array": "array",
    "list": "array",
    "integer": "integer",
    "long": "integer",
    "boolean": "boolean",
    "bool": "boolean",
    "string": "string",
    "any": "string",
}

SYSTEM_PROMPT = (
    "You are an expert in composing functions. You are given a question and a set of possible functions. "
    "Based on the question, you will need to make one or more function/tool calls to achieve the purpose. "
    "If none of the functions can be used, point it out. If the given question lacks the parameters required "
    "by the function, also point it out.\n"
    "You should only return the function calls in your response.\n\n"
    "If you decide to invoke any of the function(s), you MUST put it in the format of "
    "[func_name1(params_name1=params_value1, params_name2=params_value2...), func_name2(params)]\n"
    "You SHOULD NOT include any other text in the response."
)
NO_CALL_ANSWER = "None of the available functions fits this request, so I will not call any of them."


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


class _Files:
    """BFCL's JSON files in a folder or inside the ``bfcl_eval`` wheel: ``{relative name: reader}``."""

    def __init__(self, root: Path):
        self.root = root
        self.names: dict[str, str] = {}  # "BFCL_v4_x.json" or "possible_answer/BFCL_v4_x.json" -> locator
        self._zip: Path | None = None
        wheel = root if root.is_file() else self._one_wheel(root)
        if wheel is not None:
            self._zip = wheel
            try:
                with zipfile.ZipFile(wheel) as archive:
                    for name in archive.namelist():
                        self._add(name, name)
            except (zipfile.BadZipFile, OSError) as exc:
                raise ConfigError(f"{str(wheel)!r} is not a readable bfcl-eval wheel ({exc}). {HOW_TO_GET}") from exc
        elif root.is_dir():
            for base in (root, root / "data", root / "bfcl_eval" / "data"):
                if any(base.glob("BFCL_v*_*.json")):
                    for path in sorted(base.glob("BFCL_v*_*.json")) + sorted(base.glob("possible_answer/BFCL_v*_*.json")):
                        self._add(str(path.relative_to(base)), str(path))
                    break

    @staticmethod
    def _one_wheel(root: Path) -> Path | None:
        wheels = sorted(root.glob("bfcl_eval-*.whl")) if root.is_dir() else []
        return wheels[-1] if wheels else None

    def _add(self, relative: str, locator: str) -> None:
        parts = relative.replace("\\", "/").split("/")
        if parts[0] == "bfcl_eval" and len(parts) > 1 and parts[1] == "data":
            parts = parts[2:]
        if len(parts) == 1 or (len(parts) == 2 and parts[0] == "possible_answer"):
            if _FILE_RE.match(parts[-1]):
                self.names["/".join(parts)] = locator

    def read_lines(self, name: str) -> list[str]:
        locator = self.names[name]
        if self._zip is not None:
            with zipfile.ZipFile(self._zip) as archive:
                text = archive.read(locator).decode("utf-8")
        else:
            text = Path(locator).read_text(encoding="utf-8")
        return text.splitlines()

    def question_file(self, stems: Sequence[str]) -> tuple[str, str] | None:
        """(file name, stem) of the newest BFCL version that has one of ``stems``."""
        found = []
        for name in self.names:
            match = _FILE_RE.match(name)
            if match and "/" not in name and match.group(2) in stems:
                found.append((int(match.group(1)), -stems.index(match.group(2)), name, match.group(2)))
        if not found:
            return None
        _, _, name, stem = max(found)
        return name, stem

    def categories(self) -> list[str]:
        stems = {_FILE_RE.match(n).group(2) for n in self.names if "/" not in n}  # type: ignore[union-attr]
        return [c for c, (options, _) in CATEGORIES.items() if stems & set(options)]


def _resolve_root(data_dir: str | os.PathLike[str] | None) -> Path:
    if data_dir is None:
        data_dir = os.environ.get(DATA_ENV_VAR) or None
    if data_dir is None:
        raise ConfigError(f"thinkgym/BFCL-v0 needs BFCL's data: no data_dir given and {DATA_ENV_VAR} is not set. {HOW_TO_GET}")
    root = Path(os.path.expanduser(str(data_dir)))
    if not root.exists():
        raise ConfigError(f"BFCL data folder {str(root)!r} does not exist. {HOW_TO_GET}")
    return root


def _json_lines(files: _Files, name: str) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(files.read_lines(name), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ConfigError(f"{files.root}/{name}, line {number}: not valid JSON ({exc})") from exc
        if not isinstance(row, dict) or "id" not in row:
            raise ConfigError(f"{files.root}/{name}, line {number}: a BFCL entry is a JSON object with an 'id'")
        rows.append(row)
    return rows


def _conversation(entry: Mapping[str, Any], where: str) -> list[dict[str, str]]:
    question = entry.get("question")
    turns = question if isinstance(question, list) else []
    if len(turns) != 1 or not isinstance(turns[0], list) or not turns[0]:
        raise ConfigError(f"{where}: 'question' must hold exactly one turn of messages (multi-turn entries are not supported)")
    messages = []
    for message in turns[0]:
        if not isinstance(message, Mapping) or not isinstance(message.get("content"), str):
            raise ConfigError(f"{where}: each message needs a string 'content'")
        messages.append({"role": str(message.get("role", "user")), "content": message["content"]})
    return messages


def _prompt(messages: Sequence[Mapping[str, str]]) -> str:
    """What the model reads: the user's text, or the whole exchange when there is more than one message."""
    shown = [m for m in messages if m["role"] != "system"]
    if len(shown) == 1 and shown[0]["role"] == "user":
        return shown[0]["content"]
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in shown)


def _problem(entry: Mapping[str, Any], category: str, expects: str, answers: Mapping[str, Any], where: str) -> Problem:
    functions = entry.get("function")
    if not isinstance(functions, list) or not all(
        isinstance(f, Mapping) and isinstance(f.get("name"), str) and isinstance(f.get("parameters", {}), Mapping) for f in functions
    ):
        raise ConfigError(f"{where}: 'function' must be a list of function descriptions, each with a 'name' and a dict of 'parameters'")
    messages = _conversation(entry, where)
    gold = None
    if expects == "calls":
        if entry["id"] not in answers:
            raise ConfigError(f"{where}: no possible answer for {entry['id']!r} in possible_answer/")
        gold = answers[entry["id"]]
        if not isinstance(gold, list) or not gold:
            raise ConfigError(f"{where}: the ground truth of {entry['id']!r} must be a non-empty list of calls")
        from thinkgym.verifiers.tool_calls import GoldCall

        for call in gold:
            try:
                GoldCall.from_bfcl(call)
            except ValueError as exc:
                raise ConfigError(f"{where}: the ground truth of {entry['id']!r}: {exc}") from exc
    meta = {"category": category, "expects": expects, "functions": functions, "messages": messages, "bfcl_id": entry["id"]}
    return Problem(f"bfcl/{entry['id']}", _prompt(messages), gold, meta)


def _category_name(name: str) -> str:
    name = _ALIASES.get(name, name)
    if name in CATEGORIES:
        return name
    if any(word in name for word in _UNSUPPORTED):
        raise ConfigError(
            f"BFCL category {name!r} is not supported by thinkgym/BFCL-v0 (Java/JavaScript type rules, multi-turn, "
            f"memory and web-search categories are not); supported: {sorted(CATEGORIES)}"
        )
    raise ConfigError(f"unknown BFCL category {name!r}; supported: {sorted(CATEGORIES)} (or 'all')")


@functools.lru_cache(maxsize=16)
def _load(root: str, categories: tuple[str, ...] | None, stamp: float) -> tuple[Problem, ...]:
    files = _Files(Path(root))
    if not files.names:
        raise ConfigError(f"no BFCL data files (BFCL_v<N>_<category>.json) found under {root!r}. {HOW_TO_GET}")
    wanted = list(categories) if categories is not None else files.categories()
    if not wanted:
        raise ConfigError(f"{root!r} holds none of the supported BFCL categories {sorted(CATEGORIES)}")
    problems: list[Problem] = []
    for category in wanted:
        stems, expects = CATEGORIES[category]
        found = files.question_file(stems)
        if found is None:
            raise ConfigError(f"BFCL category {category!r}: no file BFCL_v<N>_{stems[0]}.json under {root!r}; it holds {files.categories()}")
        name, _ = found
        answers: dict[str, Any] = {}
        if expects == "calls":
            answer_name = f"possible_answer/{name}"
            if answer_name not in files.names:
                raise ConfigError(f"BFCL category {category!r}: {answer_name} is missing under {root!r}")
            answers = {row["id"]: row.get("ground_truth") for row in _json_lines(files, answer_name)}
        for number, entry in enumerate(_json_lines(files, name), 1):
            problems.append(_problem(entry, category, expects, answers, f"{root}/{name}, entry {number}"))
    return tuple(problems)


def _chosen(categories: str | Iterable[str]) -> tuple[str, ...] | None:
    if isinstance(categories, str):
        return None if categories == "all" else (_category_name(categories),)
    return tuple(dict.fromkeys(_category_name(str(c)) for c in categories)) or None


def load_bfcl(data_dir: str | os.PathLike[str] | None = None, categories: str | Iterable[str] = "all") -> list[Problem]:
    """The BFCL problems of ``categories`` under ``data_dir`` (module docstring), in file order."""
    root = _resolve_root(data_dir)
    return list(_load(str(root.resolve()), _chosen(categories), root.stat().st_mtime))


@functools.lru_cache(maxsize=16)
def _split_satisfiable(root: str, categories: tuple[str, ...] | None, stamp: float) -> tuple[tuple[Problem, ...], tuple[tuple[str, str], ...]]:
    from thinkgym.verifiers.tool_calls import ToolCallVerifier

    verifier = ToolCallVerifier()
    kept, skipped = [], []
    for problem in _load(root, categories, stamp):
        reward = verifier(gold_answer(problem), problem)
        if reward.score == 1.0:
            kept.append(problem)
        else:
            skipped.append((problem.id, str(reward.info.get("error", "the gold answer does not pass"))))
    return tuple(kept), tuple(skipped)


# --------------------------------------------------------------------------------------------
# Tools and answers
# --------------------------------------------------------------------------------------------


def _openai_node(node: Any) -> Any:
    if not isinstance(node, Mapping):
        return copy.deepcopy(node)
    out = {key: copy.deepcopy(value) for key, value in node.items() if key not in ("properties", "items", "type")}
    kind = node.get("type")
    if isinstance(kind, str):
        out["type"] = OPENAI_TYPES.get(kind, "string")
    if isinstance(node.get("properties"), Mapping):
        out["properties"] = {name: _openai_node(spec) for name, spec in node["properties"].items()}
    if isinstance(node.get("items"), Mapping):
        out["items"] = _openai_node(node["items"])
    if isinstance(out.get("required"), bool):  # a per-property flag some entries carry: not JSON schema
        out.pop("required")
    return out


def openai_tools(functions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """BFCL function descriptions as OpenAI tool schemas (module docstring: types, dotted names)."""
    from thinkgym.verifiers.tool_calls import fc_names

    names = [str(f.get("name", "")) for f in functions]
    renaming = fc_names(names)
    tools = []
    for function, name in zip(functions, names, strict=True):
        renamed = renaming[name]
        parameters = _openai_node(function.get("parameters") or {"type": "object", "properties": {}})
        parameters["type"] = "object"
        parameters.setdefault("properties", {})
        spec = {"name": renamed, "description": str(function.get("description") or ""), "parameters": parameters}
        tools.append({"type": "function", "function": spec})
    return tools


def render_pythonic(calls: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """``[f(a=1), g(b='x')]``: calls in BFCL's prompting format (values as Python literals)."""
    rendered = [f"{name}({', '.join(f'{key}={value!r}' for key, value in arguments.items())})" for name, arguments in calls]
    return "[" + ", ".join(rendered) + "]"


def _placeholder(spec: Any) -> Any:
    spec = spec if isinstance(spec, Mapping) else {}
    if "default" in spec:
        return spec["default"]
    if isinstance(spec.get("enum"), list) and spec["enum"]:
        return spec["enum"][0]
    kind = OPENAI_TYPES.get(str(spec.get("type")), "string")
    return {"integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {}}.get(kind, "example")


def _required(functions: Sequence[Mapping[str, Any]], name: str) -> list[str]:
    for function in functions:
        if function.get("name") == name:
            required = (function.get("parameters") or {}).get("required")
            return [r for r in required if isinstance(r, str)] if isinstance(required, list) else []
    return []


def gold_answer(problem: Problem) -> str:
    """An answer that earns full reward on ``problem``: its gold calls (pythonic), no call, or a
    call to its first function (``live_relevance``, where any call to a listed function counts)."""
    from thinkgym.verifiers.tool_calls import GoldCall, function_index

    expects = problem.meta.get("expects", "calls")
    functions = problem.meta.get("functions") or []
    if expects == "no_call" or (expects == "any_call" and not functions):
        return NO_CALL_ANSWER
    if expects == "any_call":
        first = functions[0]
        properties = (first.get("parameters") or {}).get("properties") or {}
        arguments = {key: _placeholder(properties.get(key)) for key in _required(functions, first["name"])}
        return render_pythonic([(first["name"], arguments)])
    schemas = function_index(functions)
    calls = []
    for entry in problem.answer or []:
        gold = GoldCall.from_bfcl(entry)
        calls.append((gold.name, gold.example_arguments(schemas.get(gold.name))))
    return render_pythonic(calls)


# --------------------------------------------------------------------------------------------
# The env
# --------------------------------------------------------------------------------------------


class BFCLEnv(SingleTurnEnv):
    """BFCL's single-turn categories as one env (module docstring): one answer, judged by AST.

    ``skip_unsatisfiable=True`` (default) leaves out the few entries whose own ground truth cannot
    pass BFCL's rules (in BFCL v4, five: a parameter the schema requires is missing from the
    possible answers, or a possible answer names an undeclared parameter; every model scores 0 on
    them, in BFCL too). They are listed in ``env.skipped`` as ``(id, reason)``; pass False to keep
    BFCL's denominators exactly.
    """

    success_component = "accuracy"

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        categories: str | Iterable[str] = "all",
        *,
        reward: str = "accuracy",
        formats: Sequence[str] = DEFAULT_FORMATS,
        tools_in_prompt: bool = True,
        skip_unsatisfiable: bool = True,
        max_action_chars: int | None = None,
        render_mode: str | None = None,
    ):
        from thinkgym.verifiers.tool_calls import ToolCallVerifier

        root = _resolve_root(data_dir)
        key = (str(root.resolve()), _chosen(categories), root.stat().st_mtime)
        if skip_unsatisfiable:
            problems, self.skipped = _split_satisfiable(*key)
        else:
            problems, self.skipped = _load(*key), ()
        if not problems:
            raise ConfigError(f"no BFCL problem left under {str(root)!r} for categories {categories!r}")
        verifier = ToolCallVerifier(formats=tuple(formats), reward=reward)
        super().__init__(ListSource(problems), verifier, max_action_chars=max_action_chars, render_mode=render_mode)
        self.data_dir = data_dir
        self.categories = categories
        self.tools_in_prompt = bool(tools_in_prompt)
        self.recorded: list[ToolCall] = []
        self._tools: list[dict[str, Any]] = []

    @property
    def tools(self) -> list[dict[str, Any]]:
        """The current problem's functions as OpenAI tool schemas (empty before the first reset)."""
        return copy.deepcopy(self._tools)

    def _on_reset(self, problem: Problem) -> None:
        self.recorded = []
        functions = problem.meta.get("functions") or []
        self._tools = openai_tools(functions)
        own = [m["content"] for m in problem.meta.get("messages", []) if m["role"] == "system"]
        parts = [SYSTEM_PROMPT] if self.tools_in_prompt else []
        if self.tools_in_prompt:
            parts.append(f"Here is a list of functions in JSON format that you can invoke.\n{json.dumps(functions, ensure_ascii=False)}")
        self.system_prompt = "\n\n".join([*own, *parts]) or None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        observation, info = super().reset(seed=seed, options=options)
        assert self.problem is not None
        conversation = [dict(m) for m in self.problem.meta.get("messages", []) if m["role"] != "system"]
        if len(conversation) > 1:  # keep the earlier turns as the messages they were
            self.messages = self.messages[:1] if self.system_prompt else []
            self.messages += conversation
            info = self._info()
        return observation, info

    def call_tool(self, name: str, arguments: dict[str, Any]) -> str:
        """Record one call in this episode (judged with the final action's calls; BFCL's functions
        are not executed). Returns what the model sees."""
        if self.problem is None or self.done:
            raise RuntimeError("call_tool needs a running episode: call reset() first")
        if not isinstance(arguments, Mapping):
            return f"Error: the arguments of {name!r} must be a JSON object"
        call = ToolCall(str(name), dict(arguments), f"call_{len(self.recorded)}")
        self.recorded.append(call)
        return f"Recorded {name}. (BFCL's functions are not executed: the calls are judged when the turn ends.)"

    def respond(self, action: str) -> Turn:
        assert self.problem is not None
        parsed = self.verifier.parse(action)
        styles = None
        if self.recorded:  # calls made through call_tool come first, ids renumbered in order
            merged = [*self.recorded, *parsed.calls]
            # a recorded call was made by tool name (function calling); the rest as their format says
            recorded = "fc" if self.verifier.names == "auto" else self.verifier.names
            styles = [recorded] * len(self.recorded) + [self.verifier.style(parsed)] * len(parsed.calls)
            parsed.calls = [ToolCall(c.name, c.arguments, f"call_{i}", c.raw) for i, c in enumerate(merged)]
        if parsed.calls and self.messages and self.messages[-1]["role"] == "assistant":
            self.messages[-1] = {"role": "assistant", "content": parsed.content, "tool_calls": [c.to_openai() for c in parsed.calls]}
        return Turn("", self.verifier.score(parsed, self.problem, names=styles), True)

    def oracle_action(self) -> str:
        if self.problem is None:
            return super().oracle_action()
        return gold_answer(self.problem)


register(
    "thinkgym/BFCL-v0",
    "thinkgym.envs.bfcl:BFCLEnv",
    description="Berkeley Function Calling Leaderboard (single-turn categories, data from `pip download --no-deps bfcl-eval`): calls judged by BFCL's AST rules.",
)
