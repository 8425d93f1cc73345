"""``thinkgym/ToolUse-v0``: multi-turn tasks that need tools, with a gold answer and a gold plan.

The world is fictional (``data/tool_use/world.json``: invented countries, cities, people and
companies), so a model cannot know its facts: relations (who founded a company, where a person was
born, a city's mayor and country, a country's capital) live only in the ``search`` corpus, numbers
(populations, elevations, years, heights, headcounts) only in the ``lookup`` table. Task families,
with difficulty = the number of hops (tool calls in the gold plan):

- ``chain``: follow ``difficulty - 1`` relations through the corpus, then look a number up;
- ``arithmetic``: a product too large for the head (1 hop), or a looked-up number times a factor;
- ``convert``: a quantity in other units (1 hop), or a looked-up quantity converted;
- ``data``: a small computation over a list of numbers for ``python`` (1 hop), or over looked-up
  numbers.

A turn holds tool calls (Hermes ``<tool_call>``, an OpenAI JSON message, or pythonic calls; see
`thinkgym.tools.calls`) or a final ``<answer>…</answer>`` / ``\\boxed{}``. The env executes the
calls (each with a time limit), answers with one ``<tool_response>`` per call, and records OpenAI
messages (``assistant`` with ``tool_calls``, one ``tool`` message per call) in ``info["messages"]``.
The answer ends the episode with the reward of `thinkgym.verifiers.tool_use.score_tool_episode`;
turns before it earn the increase of the sub-goal credit (``0.2 x subgoals``), so the episode's
return is the final score. Budgets: ``max_turns`` (default plan length + 4) and ``max_calls``
(default 2 x plan length + 4); running out truncates with ``info["truncation_reason"]``.

Problem ids name the generator version: ``tooluse-g0/d2-mixed/train/17``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from functools import partial
from importlib import resources
from typing import Any

import numpy as np
from gymnasium.error import ResetNeeded

from thinkgym.core import GeneratorSource, Problem, Reward, TextEnv, Turn
from thinkgym.registry import register
from thinkgym.tools.builtin import (
    KeyValueTable,
    PythonTool,
    SearchIndex,
    calculate,
    calculator_tool,
    convert_units,
    unit_convert_tool,
)
from thinkgym.tools.calls import DEFAULT_FORMATS, ToolCall, parse_tool_calls
from thinkgym.tools.executor import Toolbox, ToolResult
from thinkgym.tools.schema import Tool
from thinkgym.verifiers.tool_use import (
    DEFAULT_WEIGHTS,
    call_matches,
    extract_final_answer,
    gives_fact,
    score_tool_episode,
    subgoal_progress,
)

__all__ = ["ToolUseEnv", "load_world", "world_corpus", "world_table", "tool_use_problem", "tool_use_source", "FAMILIES"]

GENERATOR_VERSION = 0
FAMILIES = ("chain", "arithmetic", "convert", "data")
MAX_DIFFICULTY = 5

# --------------------------------------------------------------------------------------------
# The world: corpus and table
# --------------------------------------------------------------------------------------------


@functools.cache
def load_world() -> dict[str, Any]:
    """The fictional world the tasks are about (package data, fixed for this generator version)."""
    text = resources.files("thinkgym.envs").joinpath("data/tool_use/world.json").read_text(encoding="utf-8")
    return json.loads(text)


def world_corpus(world: Mapping[str, Any]) -> list[dict[str, str]]:
    """One encyclopedia article per entity, stating its relations (and no numbers)."""
    docs = []
    for name, c in world["companies"].items():
        docs.append({"title": name, "text": f"{name} is a {c['kind']} founded by {c['founder']}. Its headquarters are in {c['headquarters']}."})
    for name, p in world["people"].items():
        founded = [c for c, v in world["companies"].items() if v["founder"] == name]
        extra = f" {name} founded {', '.join(founded)}." if founded else ""
        docs.append({"title": name, "text": f"{name} was born in {p['birthplace']}.{extra}"})
    for name, c in world["cities"].items():
        docs.append({"title": name, "text": f"{name} is a city in {c['country']}. Its mayor is {c['mayor']}."})
    for name, c in world["countries"].items():
        docs.append({"title": name, "text": f"{name} is a country whose capital is {c['capital']}; its currency is the {c['currency']}."})
    return docs


def world_table(world: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The numbers of the world, by entity and attribute (what ``lookup`` serves)."""
    numeric = {
        "cities": ("population", "elevation_m", "area_km2", "founded"),
        "people": ("born", "height_cm"),
        "companies": ("founded", "employees"),
    }
    return {name: {a: attrs[a] for a in keys} for kind, keys in numeric.items() for name, attrs in world[kind].items()}


# relation: (kind of subject, field, kind of object, question phrase)
_RELATIONS = {
    "companies": [("founder", "people", "the founder of {}"), ("headquarters", "cities", "the city where {} has its headquarters")],
    "people": [("birthplace", "cities", "the birthplace of {}")],
    "cities": [("mayor", "people", "the mayor of {}"), ("country", "countries", "the country {} lies in")],
    "countries": [("capital", "cities", "the capital of {}")],
}
_NUMBERS = {
    "cities": [("population", "the population"), ("elevation_m", "the elevation in metres"), ("area_km2", "the area in km2"), ("founded", "the founding year")],
    "people": [("born", "the birth year"), ("height_cm", "the height in cm")],
    "companies": [("founded", "the founding year"), ("employees", "the number of employees")],
}
_CONVERSIONS = {"elevation_m": ("m", "ft", "feet"), "height_cm": ("cm", "in", "inches"), "area_km2": ("km2", "mi2", "square miles")}
_UNIT_TASKS = [("mi", "km", "miles", "kilometres"), ("lb", "kg", "pounds", "kilograms"), ("gal", "l", "US gallons", "litres"),
               ("F", "C", "degrees Fahrenheit", "degrees Celsius"), ("acre", "ha", "acres", "hectares"), ("mph", "km/h", "mph", "km/h")]


def _walk(world: Mapping[str, Any], hops: int, rng: np.random.Generator, end_kinds: Sequence[str]) -> tuple[str, list[dict[str, Any]], str, str]:
    """A chain of ``hops`` relations ending on an entity of one of ``end_kinds``: (phrase, plan, entity, kind)."""
    for _ in range(200):
        kind = str(rng.choice(sorted(_RELATIONS)))
        entity = str(rng.choice(sorted(world[kind])))
        phrase, plan, seen = entity, [], {entity}
        for _ in range(hops):
            field_, target, template = _RELATIONS[kind][int(rng.integers(len(_RELATIONS[kind])))]
            nxt = world[kind][entity][field_]
            if nxt in seen:  # a chain that comes back is not a harder question
                break
            seen.add(nxt)
            plan.append({"tool": "search", "arguments": {"query": entity}, "match": {"query": entity}, "contains": ["query"], "fact": nxt})
            phrase, entity, kind = template.format(phrase), nxt, target
        if kind in end_kinds and len(plan) == hops:
            return phrase, plan, entity, kind
    raise RuntimeError("no chain found")  # unreachable with the shipped world


def _lookup_step(entity: str, attribute: str, value: Any) -> dict[str, Any]:
    return {"tool": "lookup", "arguments": {"entity": entity, "attribute": attribute}, "match": {"entity": entity, "attribute": attribute}, "fact": value}


def _chain(world: Mapping[str, Any], d: int, rng: np.random.Generator) -> tuple[str, list[dict[str, Any]]]:
    phrase, plan, entity, kind = _walk(world, d - 1, rng, tuple(_NUMBERS))
    attribute, label = _NUMBERS[kind][int(rng.integers(len(_NUMBERS[kind])))]
    value = world_table(world)[entity][attribute]
    plan.append(_lookup_step(entity, attribute, value))
    return f"What is {label} ({attribute}) of {phrase}?", plan


def _arithmetic(world: Mapping[str, Any], d: int, rng: np.random.Generator) -> tuple[str, list[dict[str, Any]]]:
    if d == 1:
        a, b, c = (int(rng.integers(10_000_000, 99_999_999)) for _ in range(3))
        expression = f"{a} * {b} - {c}"
        return f"What is {a} × {b} − {c}? Compute it exactly.", [
            {"tool": "calculator", "arguments": {"expression": expression}, "match": {}, "fact": calculate(expression)}
        ]
    phrase, plan, entity, kind = _walk(world, d - 2, rng, tuple(_NUMBERS))
    attribute, label = _NUMBERS[kind][int(rng.integers(len(_NUMBERS[kind])))]
    value = world_table(world)[entity][attribute]
    factor = int(rng.integers(1_001, 99_999))
    plan.append(_lookup_step(entity, attribute, value))
    expression = f"{value} * {factor}"
    plan.append({"tool": "calculator", "arguments": {"expression": expression}, "match": {}, "fact": calculate(expression)})
    return f"What is {label} ({attribute}) of {phrase}, multiplied by {factor}? Compute it exactly.", plan


def _convert(world: Mapping[str, Any], d: int, rng: np.random.Generator) -> tuple[str, list[dict[str, Any]]]:
    if d == 1:
        source, target, source_name, target_name = _UNIT_TASKS[int(rng.integers(len(_UNIT_TASKS)))]
        amount = round(float(rng.integers(100, 99_999)) / 10, 1)
        result = convert_units(amount, source, target)
        args = {"value": amount, "from_unit": source, "to_unit": target}
        return f"How many {target_name} is {amount} {source_name}? Round to 4 decimal places.", [
            {"tool": "unit_convert", "arguments": args, "match": args, "fact": result}
        ]
    for _ in range(200):
        phrase, plan, entity, kind = _walk(world, d - 2, rng, ("cities", "people"))
        options = [a for a, _ in _NUMBERS[kind] if a in _CONVERSIONS]
        if options:
            break
    attribute = options[int(rng.integers(len(options)))]
    source, target, target_name = _CONVERSIONS[attribute]
    value = world_table(world)[entity][attribute]
    plan.append(_lookup_step(entity, attribute, value))
    args = {"value": value, "from_unit": source, "to_unit": target}
    plan.append({"tool": "unit_convert", "arguments": args, "match": args, "fact": convert_units(value, source, target)})
    return f"What is the {attribute} of {phrase}, converted to {target_name}? Round to 4 decimal places.", plan


_DATA_TASKS = [
    ("the sum of the squares of the odd numbers", "print(sum(x * x for x in xs if x % 2))", lambda xs: sum(x * x for x in xs if x % 2)),
    ("the largest difference between two consecutive numbers (later minus earlier)", "print(max(b - a for a, b in zip(xs, xs[1:])))", lambda xs: max(b - a for a, b in zip(xs, xs[1:], strict=False))),
    ("the number of distinct remainders modulo 7", "print(len({x % 7 for x in xs}))", lambda xs: len({x % 7 for x in xs})),
]


def _data(world: Mapping[str, Any], d: int, rng: np.random.Generator) -> tuple[str, list[dict[str, Any]]]:
    what, program, fn = _DATA_TASKS[int(rng.integers(len(_DATA_TASKS)))]
    plan: list[dict[str, Any]] = []
    if d == 1:
        xs = [int(x) for x in rng.integers(1, 1000, size=int(rng.integers(12, 25)))]
        intro = f"Here is a list of numbers: {xs}."
    else:
        cities = [str(c) for c in rng.choice(sorted(world["cities"]), size=d - 1, replace=False)]
        given = [int(x) for x in rng.integers(1, 1000, size=5)]
        found = [world["cities"][c]["population"] for c in cities]
        plan = [_lookup_step(c, "population", v) for c, v in zip(cities, found, strict=True)]
        xs = given + found
        intro = f"Take the list {given} and append the populations of {', '.join(cities)}, in that order."
    code = f"xs = {xs}\n{program}"
    plan.append({"tool": "python", "arguments": {"code": code}, "match": {}, "fact": fn(xs)})
    return f"{intro} What is {what}? Use the python tool.", plan


_MAKERS = {"chain": _chain, "arithmetic": _arithmetic, "convert": _convert, "data": _data}

_INSTRUCTIONS = (
    "You can use these tools: {tools}. Call a tool with "
    '<tool_call>{{"name": "<tool>", "arguments": {{...}}}}</tool_call> (several per turn if you like); '
    "you will get each result in a <tool_response>. Facts about these places, people and companies are "
    "only in the tools. When you know the answer, reply with <answer>your answer</answer>."
)


def tool_use_problem(difficulty: int, families: Sequence[str], rng: np.random.Generator, problem_id: str) -> Problem:
    """One task: ``difficulty`` hops, a family drawn from ``families`` (module docstring)."""
    family = str(families[int(rng.integers(len(families)))])
    question, plan = _MAKERS[family](load_world(), difficulty, rng)
    answer = plan[-1]["fact"]
    meta = {"family": family, "difficulty": difficulty, "plan": plan, "generator": GENERATOR_VERSION}
    return Problem(problem_id, question, str(answer), meta)


def tool_use_source(difficulty: int | None = None, families: Sequence[str] | str = FAMILIES, split: str = "train") -> GeneratorSource:
    """Unbounded, seeded tasks; ``difficulty`` None mixes 1..3 hops (drawn per problem)."""
    families = (families,) if isinstance(families, str) else tuple(families)
    unknown = [f for f in families if f not in FAMILIES]
    if unknown or not families:
        raise ValueError(f"families must be among {FAMILIES}, got {families}")
    if difficulty is not None and not 1 <= int(difficulty) <= MAX_DIFFICULTY:
        raise ValueError(f"difficulty must be 1..{MAX_DIFFICULTY}, got {difficulty}")
    tag = "mixed" if set(families) == set(FAMILIES) else "+".join(families)
    name = f"tooluse-g{GENERATOR_VERSION}/d{difficulty or 'mix'}-{tag}"
    return GeneratorSource(name, partial(_make, None if difficulty is None else int(difficulty), families), split=split)


def _make(difficulty: int | None, families: tuple[str, ...], rng: np.random.Generator, pid: str) -> Problem:
    d = int(rng.integers(1, 4)) if difficulty is None else difficulty
    return tool_use_problem(d, families, rng, pid)


# --------------------------------------------------------------------------------------------
# The environment
# --------------------------------------------------------------------------------------------


def default_tools(python_backend: str = "local") -> list[Tool]:
    """The five built-in tools over the shipped world."""
    world = load_world()
    return [
        calculator_tool(),
        SearchIndex(world_corpus(world)).tool(),
        KeyValueTable(world_table(world)).tool(),
        unit_convert_tool(),
        PythonTool(python_backend).tool(),
    ]


_THINK = re.compile(r"<think>.*?</think>", re.S)


def _outside_reasoning(action: str) -> str:
    """The action without its reasoning: a call or an answer written while thinking is not one.
    Closed ``<think>`` blocks go; text before a lone ``</think>`` (templates that open the block
    in the prompt) goes too."""
    text = _THINK.sub("", action)
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    return text


def _render_responses(results: Sequence[ToolResult], errors: Sequence[str]) -> str:
    parts = [f"<tool_response>\n{r.content}\n</tool_response>" for r in results]
    parts += [f"Error: {e}" for e in errors]
    return "\n".join(parts)


def _mcp_tools(servers: Sequence[str], toolbox: Toolbox) -> list[Tool]:
    """Connect to each MCP server (a ``http(s)://`` URL, else a command line for stdio) and list
    its tools; each connection closes with the toolbox."""
    if isinstance(servers, str):
        servers = [servers]
    out: list[Tool] = []
    for spec in servers:
        from thinkgym.tools.mcp import MCPServer

        server = MCPServer.http(spec) if spec.startswith(("http://", "https://")) else MCPServer.stdio(spec)
        toolbox.add_closer(server.close)
        out += server.tools()
    return out


class ToolUseEnv(TextEnv):
    """Tool-use episodes (module docstring). ``tools`` adds tools (`Tool`, typed functions, an
    `MCPServer`'s ``tools()``) to the built-ins — one with a built-in's name replaces it —
    (``builtin_tools=False`` leaves only yours); ``mcp_servers`` connects to MCP servers by URL
    (streamable HTTP) or command line (stdio) and adds their tools, closed with the env (and
    reconnected in a pickled copy); ``call_formats`` limits the parsers;
    ``source`` replaces the generated tasks (any `ProblemSource` of problems with a gold plan)."""

    success_component = "accuracy"

    def __init__(
        self,
        difficulty: int | None = None,
        families: Sequence[str] | str = FAMILIES,
        split: str = "train",
        *,
        tools: Sequence[Tool | Any] = (),
        mcp_servers: Sequence[str] = (),
        builtin_tools: bool = True,
        source: Any = None,
        max_turns: int | None = None,
        max_calls: int | None = None,
        call_formats: Sequence[str] = DEFAULT_FORMATS,
        tool_timeout: float = 10.0,
        max_result_chars: int = 8_000,
        python_backend: str = "local",
        weights: Mapping[str, float] = DEFAULT_WEIGHTS,
        **kwargs: Any,
    ):
        kwargs.setdefault("max_action_chars", 2_097_152)  # 1 MB arguments reach the toolbox and get its own error
        super().__init__(source or tool_use_source(difficulty, families, split), max_turns=1, **kwargs)
        self.toolbox = Toolbox((default_tools(python_backend) if builtin_tools else []), timeout=tool_timeout, max_result_chars=max_result_chars)
        for item in [*tools, *_mcp_tools(mcp_servers, self.toolbox)]:
            self.toolbox.add(item, replace=True)
        for name in self.toolbox.names:  # the python tool's sandbox closes with the env
            owner = getattr(self.toolbox[name].fn, "__self__", None)
            if isinstance(owner, PythonTool):
                self.toolbox.add_closer(owner.close)
        self.turn_budget, self.call_budget = max_turns, max_calls
        self.call_formats = tuple(call_formats)
        self.weights = dict(weights)
        self.results: list[ToolResult] = []
        self.attempts = 0
        self.max_calls = 0
        self._paid = 0.0
        self._pending: list[dict[str, Any]] | None = None
        self._truncation: str | None = None

    @property
    def tools(self) -> list[dict[str, Any]]:
        """The tools' OpenAI function-calling schemas (what ``tools=`` of a chat template takes)."""
        return self.toolbox.schemas

    # ---- episode ---------------------------------------------------------------------------

    def _on_reset(self, problem: Problem) -> None:
        plan = problem.meta.get("plan") or []
        self.max_turns = int(self.turn_budget or len(plan) + 4)
        self.max_calls = int(self.call_budget or 2 * len(plan) + 4)
        self.results, self.attempts, self._paid = [], 0, 0.0
        self._pending, self._truncation = None, None

    def first_observation(self, problem: Problem) -> str:
        names = ", ".join(self.toolbox.names)
        return f"{problem.prompt}\n\n{_INSTRUCTIONS.format(tools=names)}"

    def call_tool(self, name: str, arguments: dict[str, Any]) -> str:
        """Execute one call in this episode's session (recorded like a parsed call; counts toward
        the call budget and the session-verified rewards). Returns the text the model sees."""
        if self.problem is None:
            raise ResetNeeded("call_tool needs a running episode: call reset() first")
        if self.done:
            return "Error: the episode has ended; no tool was run."
        call = ToolCall(str(name), dict(arguments) if isinstance(arguments, Mapping) else {}, f"call_{len(self.results)}")
        if not isinstance(arguments, Mapping):
            self.attempts += 1
            return "Error: arguments must be a JSON object"
        return self._execute([call])[0][0].content if self.attempts < self.max_calls else "Error: the call budget is spent."

    def _execute(self, calls: Sequence[ToolCall]) -> tuple[list[ToolResult], list[str]]:
        results, errors = [], []
        for call in calls:
            if self.attempts >= self.max_calls:
                errors.append(f"call budget of {self.max_calls} calls spent: {call.name} was not run")
                self._truncation = f"call budget exhausted ({self.max_calls} calls)"
                continue
            self.attempts += 1
            used = {r.call.id for r in self.results}
            fresh = call.id if call.id and not call.id.startswith("call_") and call.id not in used else f"call_{len(self.results)}"
            call = ToolCall(call.name, call.arguments, fresh, call.raw)
            result = self.toolbox.call(call)
            self.results.append(result)
            results.append(result)
        return results, errors

    def _potential(self) -> float:
        plan = self.problem.meta.get("plan") or [] if self.problem else []
        return self.weights["subgoals"] * (subgoal_progress(plan, self.results) / len(plan)) if plan else 0.0

    def _final(self, answer_text: str | None, reason: str | None) -> Reward:
        assert self.problem is not None
        reward = score_tool_episode(answer_text, self.problem, self.results, attempts=self.attempts, truncated=reason, weights=self.weights)
        paid, self._paid = self._paid, reward.score
        info = dict(reward.info, episode_score=reward.score)
        if reason:
            info["truncation_reason"] = reason
        return Reward(reward.score - paid, reward.components, info)

    def respond(self, action: str) -> Turn:
        assert self.problem is not None
        visible = _outside_reasoning(action)
        parsed = parse_tool_calls(visible, self.call_formats)
        if parsed.format == "openai":  # a structured message: its answer is in its content
            visible = parsed.content
        answer = extract_final_answer(visible)
        if answer is not None:
            self._pending = [{"role": "assistant", "content": action}]
            reward = self._final(visible, None)
            if parsed.calls:
                reward = Reward(reward.score, reward.components, {**reward.info, "ignored_calls": len(parsed.calls)})
            return Turn("", reward, True)
        self.attempts += len(parsed.errors)
        results, budget_errors = self._execute(parsed.calls)
        errors = [f"could not read a tool call: {e.reason}" for e in parsed.errors] + budget_errors
        if not parsed.calls and not parsed.errors:
            errors.append("no tool call and no final answer: call a tool with <tool_call>{...}</tool_call> or answer with <answer>...</answer>")
        self._pending = [{"role": "assistant", "content": action}]
        if results:
            self._pending[0]["tool_calls"] = [r.call.to_openai() for r in results]
        self._pending += [r.to_message() for r in results]
        observation = _render_responses(results, errors)
        if self._truncation is not None or self.turn >= self.max_turns:
            reason = self._truncation or f"turn budget exhausted ({self.max_turns} turns) without an answer"
            self._truncation = reason
            self.max_turns = self.turn  # the base class truncates now
            return Turn(observation, self._final(None, reason), False)
        potential = self._potential()
        gain, self._paid = potential - self._paid, potential
        components = {"subgoals": potential / self.weights["subgoals"] if self.weights["subgoals"] else 0.0}
        info: dict[str, Any] = {"calls": len(results), "call_errors": errors} if errors else {"calls": len(results)}
        return Turn(observation, Reward(gain, components, info), False)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """`TextEnv.step`, with the turn's messages in OpenAI form (assistant ``tool_calls``, one
        ``tool`` message per call, a ``user`` message for errors the calls did not answer)."""
        before = len(self.messages)
        self._pending = None
        observation, reward, terminated, truncated, info = super().step(action)
        if self._pending is not None:
            tail = list(self._pending)
            errors_only = len(tail) == 1 and observation
            if errors_only and not (terminated or truncated):
                tail.append({"role": "user", "content": observation})
            elif not (terminated or truncated) and info.get("reward_info", {}).get("call_errors"):
                tail.append({"role": "user", "content": "\n".join(f"Error: {e}" for e in info["reward_info"]["call_errors"])})
            self.messages[before:] = tail
            info["messages"] = [dict(m) for m in self.messages]
        if truncated and self._truncation:
            info["truncation_reason"] = self._truncation
        return observation, reward, terminated, truncated, info

    def oracle_action(self) -> str:
        """The next step of the gold plan as a Hermes call, or the gold answer once the plan is done."""
        if self.problem is None:
            return super().oracle_action()
        plan = self.problem.meta.get("plan") or []
        ok = [r for r in self.results if r.ok]

        def done(step: Mapping[str, Any]) -> bool:  # called as planned, and its fact came back
            return any(call_matches(r.call, step) for r in ok) and any(gives_fact(r, step) for r in ok)

        step = next((s for s in plan if not done(s)), None)
        if step is None:
            return f"<answer>{self.problem.answer}</answer>"
        return f"<tool_call>{json.dumps({'name': step['tool'], 'arguments': step['arguments']})}</tool_call>"

    def extra_info(self) -> dict[str, Any]:
        return {"tool_calls_made": len(self.results), "calls_left": max(0, self.max_calls - self.attempts)}

    def close(self) -> None:
        self.toolbox.close()
        super().close()


register(
    "thinkgym/ToolUse-v0",
    "thinkgym.envs.tool_use:ToolUseEnv",
    description="Multi-turn tool use over a fictional world (calculator, python, search, lookup, unit_convert); difficulty = hops; session-verified rewards.",
)
