"""Tool calls against gold calls: BFCL's AST rules for one call, a multiset match for several.

**One call** (`check_call`) follows the Berkeley Function Calling Leaderboard's AST checker
(``bfcl_eval/eval_checker/ast_eval/ast_checker.py``) for Python, rule for rule, so that a reward
here means what a BFCL score means. A gold call is a `GoldCall`: a function name and, per
parameter, the list of *possible answers*; ``""`` among them means the parameter may be omitted.
In order, a predicted call fails on:

1. ``wrong_name``: another function. How a dotted name is spelled depends on how the model was
   asked, as in BFCL (``names``): a *prompting* call (BFCL's pythonic text) names the function as
   BFCL lists it, ``math.factorial``; a *function-calling* ("FC") call (Hermes, OpenAI
   ``tool_calls``, JSON) names the tool it was given, ``math_factorial`` (OpenAI's tool names
   cannot hold dots, so BFCL renames them for FC models and accepts only that spelling;
   `fc_names` is the renaming, and it keeps the dots where the rename would collide). ``"either"``
   accepts both spellings (a leniency, off in `ToolCallVerifier`);
2. ``missing_required``: a parameter the schema's ``required`` lists is absent;
3. ``unexpected_param``: a parameter that the schema does not declare, or the gold does not list;
4. ``type``: the value's type is not the declared one. Types are BFCL's (``string``, ``integer``,
   ``float``, ``boolean``, ``array``, ``tuple``, ``dict``, ``any`` = string) plus JSON schema's
   ``number`` (= float) and ``object`` (= dict). An ``int`` is accepted for a float (and compared as
   one); a ``bool`` is never an integer. A Python tuple (a `TupleValue` from the pythonic parser)
   is accepted only as the whole value of a ``tuple`` parameter: BFCL's decoder keeps tuples, and
   a tuple is not the JSON array an ``array`` parameter (or a list or dict inside a value) asks
   for. Arrays check their items' type one level deep. A value whose type is the type of the gold
   answers (not the declared one) is a *variable*: it must equal a gold answer exactly;
5. ``value``: strings compare after BFCL's normalisation (case, spaces and ``,./-_*^`` ignored,
   ``'`` read as ``"``), at the top level and inside lists and dicts; lists compare in order;
   dicts key by key (keys the gold marks optional may be missing); a list of dicts dict by dict;
   numbers and booleans by equality;
6. ``missing_param``: a gold parameter without ``""`` among its answers was not given.

Without a schema (``schema=None``) the type a parameter must have is the type of its gold answers,
and nothing beyond the gold's parameters is required.

**Several calls** (`match_calls`) are matched as a multiset: a bipartite graph joins a predicted
call to each gold call it passes, and a maximum matching (augmenting paths, exact) pairs them, so
parallel calls count in any order and a duplicate or junk call matches nothing. Precision, recall
and F1 follow. ``exact`` (every gold call matched, nothing extra) is BFCL's verdict for its
``simple``, ``multiple``, ``parallel`` and ``parallel_multiple`` categories, with one deliberate
difference: BFCL pairs parallel calls greedily (the first predicted call that fits each gold call in
turn), which can miss a full matching that exists; the maximum matching never does.

`ToolCallVerifier` wraps both as a `Verifier` over model text (the calls are read with
`thinkgym.tools.parse_tool_calls`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from thinkgym.core import Problem, Reward
from thinkgym.tools.calls import (
    DEFAULT_FORMATS,
    CallError,
    ParsedTurn,
    ToolCall,
    TupleValue,
    parse_tool_calls,
)

__all__ = [
    "GoldCall",
    "CallCheck",
    "CallMatch",
    "check_call",
    "match_calls",
    "max_matching",
    "standardize_string",
    "function_index",
    "fc_names",
    "NAME_STYLES",
    "ToolCallVerifier",
    "PYTHON_TYPES",
]

#: BFCL's parameter types (and JSON schema's ``number``/``object``) as the Python type of a value.
PYTHON_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "float": float,
    "number": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "object": dict,
    "any": str,
}
_NESTED = ("array", "tuple")
_FLOATS = ("float", "number")
_STANDARDIZE = re.compile(r"[ \,\.\/\-\_\*\^]")
#: Predicted calls beyond this many are not checked (they still count against precision).
MAX_CHECKED_CALLS = 64


# --------------------------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldCall:
    """A gold call: ``name`` and, per parameter, its possible answers (``""``: may be omitted)."""

    name: str
    options: Mapping[str, Sequence[Any]] = field(default_factory=dict)

    @classmethod
    def exact(cls, name: str, arguments: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> GoldCall:
        """A gold call with exactly these arguments, each one required (an empty string, in BFCL's
        format, also allows the parameter to be left out). A dict value becomes BFCL's per-key
        answers, and so does each dict of a list when ``schema`` declares an array of objects."""
        properties, _ = _function(schema)
        options = {}
        for key, value in arguments.items():
            spec = properties.get(key) if properties else None
            options[key] = [_as_answer(value, spec if isinstance(spec, Mapping) else None)]
        return cls(name, options)

    @classmethod
    def from_bfcl(cls, entry: Mapping[str, Any]) -> GoldCall:
        """One entry of a BFCL ``ground_truth`` list: ``{"name": {"param": [answers...]}}``."""
        if not isinstance(entry, Mapping) or len(entry) != 1:
            raise ValueError(f"a BFCL ground-truth call is a one-key dict {{name: {{param: [answers]}}}}, got {entry!r:.200}")
        ((name, params),) = entry.items()
        if not isinstance(params, Mapping):
            raise ValueError(f"BFCL ground truth for {name!r}: parameters must be a dict, got {type(params).__name__}")
        options = {key: list(value) if isinstance(value, (list, tuple)) else [value] for key, value in params.items()}
        return cls(str(name), options)

    def to_bfcl(self) -> dict[str, dict[str, list[Any]]]:
        return {self.name: {key: list(value) for key, value in self.options.items()}}

    def example_arguments(self, schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Arguments that pass this gold call (given the function's ``schema``, as `check_call`
        takes it): the first non-empty answer of each parameter, no value for optional ones
        (``""`` among the answers) unless the schema requires them. A dict answer (and, for an
        array of dicts, each dict in it) holds answers per key, so one value per key is chosen."""
        properties, required = _function(schema)
        arguments: dict[str, Any] = {}
        for key, answers in self.options.items():
            given = [a for a in answers if not _is_blank(a)]
            if given and (key in required or not any(_is_blank(a) for a in answers)):
                spec = properties.get(key) if properties else None
                arguments[key] = _example_value(given[0], spec if isinstance(spec, Mapping) else None)
        return arguments


def _as_answer(value: Any, spec: Mapping[str, Any] | None) -> Any:
    """An exact value in BFCL's answer form (dicts hold a list of answers per key)."""
    if isinstance(value, Mapping):
        return {key: [item] for key, item in value.items()}
    if isinstance(value, list) and _expected(spec, [value])[2] is dict:
        return [{k: [v] for k, v in item.items()} if isinstance(item, Mapping) else item for item in value]
    return value


def _example_dict(option: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key, answers in option.items():
        answers = answers if isinstance(answers, (list, tuple)) else [answers]
        given = [a for a in answers if not _is_blank(a)]
        if given and not any(_is_blank(a) for a in answers):
            out[key] = given[0]
    return out


def _example_value(answer: Any, spec: Mapping[str, Any] | None) -> Any:
    if isinstance(answer, Mapping):
        return _example_dict(answer)
    _, expected, nested = _expected(spec, [answer])
    if isinstance(answer, list) and expected is list and nested is dict:
        return [_example_dict(item) if isinstance(item, Mapping) else item for item in answer]
    return answer


@dataclass(frozen=True)
class CallCheck:
    """The verdict on one predicted call against one gold call: ``ok``, else a ``kind`` and why."""

    ok: bool
    kind: str = ""
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


_OK = CallCheck(True)


@dataclass(frozen=True)
class CallMatch:
    """A maximum matching of predicted calls to gold calls, and the scores it gives.

    ``pairs`` holds ``(predicted index, gold index)``; ``reasons`` says, for each unmatched gold
    call, why the closest predicted call did not pass.
    """

    precision: float
    recall: float
    f1: float
    pairs: tuple[tuple[int, int], ...]
    n_predicted: int
    n_gold: int
    reasons: tuple[str, ...] = ()

    @property
    def exact(self) -> bool:
        """Every gold call matched and no predicted call left over (BFCL's all-or-nothing)."""
        return len(self.pairs) == self.n_gold == self.n_predicted

    @property
    def unmatched_predicted(self) -> tuple[int, ...]:
        used = {p for p, _ in self.pairs}
        return tuple(i for i in range(self.n_predicted) if i not in used)

    @property
    def unmatched_gold(self) -> tuple[int, ...]:
        used = {g for _, g in self.pairs}
        return tuple(j for j in range(self.n_gold) if j not in used)


# --------------------------------------------------------------------------------------------
# Values (BFCL's rules)
# --------------------------------------------------------------------------------------------


def standardize_string(text: str) -> str:
    """BFCL's string normalisation: drop spaces and ``,./-_*^``, lower-case, ``'`` → ``"``."""
    return _STANDARDIZE.sub("", text).lower().replace("'", '"')


def _is_blank(value: Any) -> bool:
    return isinstance(value, str) and value == ""


def _contains(container: Any, value: Any) -> bool:
    """``value in container`` as Python has it, and False where Python would raise."""
    try:
        return value in container
    except Exception:  # an unhashable or uncomparable gold entry: not a match
        return False


def _answer_type(answers: Any) -> type | None:
    """The type of the first answer that is not ``""`` (BFCL's ``get_possible_answer_type``)."""
    if not isinstance(answers, (list, tuple, str)):
        return None
    for answer in answers:
        if not _is_blank(answer):
            return type(answer)
    return None


def _std(value: Any) -> Any:
    return standardize_string(value) if type(value) is str else value


def _std_sequence(option: Any) -> list[Any] | None:
    return [_std(x) for x in option] if isinstance(option, (list, tuple, str)) else None


def _string_check(param: str, value: str, answers: Sequence[Any]) -> CallCheck:
    wanted = [standardize_string(a) for a in answers if type(a) is str]
    if standardize_string(value) in wanted:
        return _OK
    return CallCheck(False, "value", f"{param!r} = {value!r}; expected one of {_shown(answers)} (case and punctuation ignored)")


def _list_check(param: str, value: list[Any], answers: Sequence[Any]) -> CallCheck:
    options = [o for o in (_std_sequence(a) for a in answers) if o is not None]
    if _contains(options, [_std(x) for x in value]):
        return _OK
    return CallCheck(False, "value", f"{param!r} = {_shown(value)}; expected one of {_shown(answers)}")


def _dict_against(value: Mapping[str, Any], option: Mapping[str, Any]) -> str | None:
    for key, item in value.items():
        if key not in option:
            return f"unexpected key {key!r}"
        allowed = _std_sequence(option[key])
        if allowed is None or not _contains(allowed, _std(item)):
            return f"key {key!r} = {_shown(item)}; expected one of {_shown(option[key])}"
    for key, allowed in option.items():
        if key not in value and not _contains(allowed, ""):
            return f"missing key {key!r}"
    return None


def _dict_check(param: str, value: Mapping[str, Any], answers: Sequence[Any]) -> CallCheck:
    why = "no gold dict to compare with"
    for option in answers:
        if _is_blank(option):
            continue
        if not isinstance(option, Mapping):
            why = f"gold answer {_shown(option)} is not a dict"
            continue
        problem = _dict_against(value, option)
        if problem is None:
            return _OK
        why = problem
    return CallCheck(False, "value", f"{param!r}: {why}")


def _list_dict_check(param: str, value: list[Any], answers: Sequence[Any]) -> CallCheck:
    why = "wrong number of dicts in the list"
    for option in answers:
        if not isinstance(option, (list, tuple, str)) or len(option) != len(value):
            continue
        problem = None
        for item, wanted in zip(value, option, strict=True):
            if not isinstance(item, Mapping) or not isinstance(wanted, Mapping):
                problem = f"{_shown(item)} does not match {_shown(wanted)}"
            else:
                problem = _dict_against(item, wanted)
            if problem is not None:
                break
        if problem is None:
            return _OK
        why = problem
    return CallCheck(False, "value", f"{param!r}: {why}")


def _expected(spec: Mapping[str, Any] | None, answers: Sequence[Any]) -> tuple[str | None, type | None, type | None]:
    """(declared type name, Python type a value must have, Python type of array items)."""
    declared = spec.get("type") if isinstance(spec, Mapping) else None
    if isinstance(declared, str) and declared in PYTHON_TYPES:
        nested = None
        if declared in _NESTED:
            items = spec.get("items") if isinstance(spec, Mapping) else None
            item_type = items.get("type") if isinstance(items, Mapping) else None
            nested = PYTHON_TYPES.get(item_type) if isinstance(item_type, str) else None
        return declared, PYTHON_TYPES[declared], nested
    answer_type = _answer_type(answers)  # no (known) declared type: the gold answers' type
    return (None, answer_type, None)


def _items_fit(value: list[Any], option: Any, nested: type) -> bool:
    if type(option) is not list:  # BFCL checks items only against list answers
        return True
    option_type = _answer_type(option)
    return all(type(item) is nested or (option_type is not None and type(item) is option_type) for item in value)


def _type_check(param: str, value: Any, answers: Sequence[Any], expected: type | None, nested: type | None) -> tuple[CallCheck, bool]:
    """BFCL's ``type_checker``: (verdict, whether the value is a *variable*)."""
    if expected is None:
        return _OK, False
    answer_type = _answer_type(answers)
    variable = answer_type is not None and answer_type is not expected
    if type(value) is expected:
        if nested is None or any(_items_fit(value, option, nested) for option in answers):
            return _OK, variable
        return CallCheck(False, "type", f"{param!r}: items of {_shown(value)} are not all {nested.__name__}"), False
    if answer_type is not None and type(value) is answer_type:
        return _OK, True
    return CallCheck(False, "type", f"{param!r} = {_shown(value)} is a {type(value).__name__}, expected {expected.__name__}"), False


#: Nesting below which `_as_written` looks for tuples (a pythonic value cannot nest deeper: Python's
#: parser stops at 200 brackets; JSON values, which can, hold no tuples).
_TUPLE_DEPTH = 250


def _as_written(value: Any, depth: int = 0) -> Any:
    """The value as BFCL's decoder reads it: a `TupleValue` becomes a real ``tuple`` again (at any
    depth), so that it fails every comparison with a JSON list, as in BFCL. Values without one are
    returned as they are (no copy)."""
    if depth > _TUPLE_DEPTH:
        return value
    if isinstance(value, TupleValue):
        return tuple(_as_written(v, depth + 1) for v in value)
    if isinstance(value, list):
        items = [_as_written(v, depth + 1) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, dict):
        pairs = {k: _as_written(v, depth + 1) for k, v in value.items()}
        return value if all(pairs[k] is v for k, v in value.items()) else pairs
    return value


def _check_value(param: str, value: Any, answers: Sequence[Any], spec: Mapping[str, Any] | None) -> CallCheck:
    value = _as_written(value)
    declared, expected, nested = _expected(spec, answers)
    if declared in _FLOATS or (declared is None and expected is float):
        if type(value) is int:  # Python's int → float promotion, as BFCL allows
            value = float(value)
    elif declared == "tuple" and isinstance(value, tuple):
        value = list(value)
    verdict, variable = _type_check(param, value, answers, expected, nested)
    if not verdict.ok:
        return verdict
    if not variable:
        kind = expected if expected is not None else type(value)
        if kind is dict and isinstance(value, Mapping):
            return _dict_check(param, value, answers)
        if kind is list and isinstance(value, list):
            if nested is dict:
                return _list_dict_check(param, value, answers)
            return _list_check(param, value, answers)
        if kind is str and isinstance(value, str):
            return _string_check(param, value, answers)
    if _contains(answers, value):
        return _OK
    return CallCheck(False, "value", f"{param!r} = {_shown(value)}; expected one of {_shown(answers)}")


# --------------------------------------------------------------------------------------------
# One call
# --------------------------------------------------------------------------------------------


def _name_args(call: Any) -> tuple[str, Mapping[str, Any]] | None:
    """``(name, arguments)`` of a `ToolCall`, ``{"name", "arguments"}`` or BFCL's ``{name: args}``."""
    if isinstance(call, ToolCall):
        return call.name, call.arguments
    if isinstance(call, Mapping):
        if isinstance(call.get("name"), str) and isinstance(call.get("arguments", {}), Mapping):
            return call["name"], call.get("arguments", {})
        if len(call) == 1:
            ((name, arguments),) = call.items()
            if isinstance(name, str) and isinstance(arguments, Mapping):
                return name, arguments
    return None


#: How calls read in each format name functions (module docstring): pythonic text is BFCL's
#: prompting format, the JSON formats are function calling. Formats not listed: ``"either"``.
NAME_STYLES: dict[str, str] = {"pythonic": "prompting", "hermes": "fc", "openai": "fc", "json": "fc"}
_STYLES = ("prompting", "fc", "either")


def fc_names(names: Iterable[str]) -> dict[str, str]:
    """The name a function-calling model is given for each function: dots become ``_`` (OpenAI's
    ``^[a-zA-Z0-9_-]+$``; BFCL's rename for FC models), unless another function already has that
    name (then the dotted name is kept rather than make two tools one)."""
    listed = [str(n) for n in names]
    taken = set(listed)
    out = {}
    for name in listed:
        renamed = name.replace(".", "_")
        out[name] = name if renamed != name and renamed in taken else renamed
    return out


def _accepted(gold_name: str, names: str, fc_name: str | None = None) -> frozenset[str]:
    """The spellings of ``gold_name`` that name it in the style ``names``."""
    fc = fc_name if fc_name is not None else gold_name.replace(".", "_")
    if names == "prompting":
        return frozenset((gold_name,))
    if names == "fc":
        return frozenset((fc,))
    return frozenset((gold_name, fc))


def _style(names: str) -> str:
    if names not in _STYLES:
        raise ValueError(f"names must be one of {_STYLES}, got {names!r}")
    return names


def _styles(names: str | Sequence[str], n: int) -> list[str]:
    """One name style per predicted call: ``names`` for all, or given one by one."""
    if isinstance(names, str):
        return [_style(names)] * n
    styles = [_style(name) for name in names]
    if len(styles) != n:
        raise ValueError(f"names gives {len(styles)} styles for {n} predicted calls")
    return styles


def _function(schema: Mapping[str, Any] | None) -> tuple[Mapping[str, Any] | None, list[str]]:
    """(declared properties or None, required names) of a BFCL or OpenAI function description."""
    if not isinstance(schema, Mapping):
        return None, []
    function = schema.get("function") if schema.get("type") == "function" else schema
    parameters = function.get("parameters") if isinstance(function, Mapping) else None
    if not isinstance(parameters, Mapping):
        return {}, []
    properties = parameters.get("properties")
    required = parameters.get("required")
    return (
        properties if isinstance(properties, Mapping) else {},
        [r for r in required if isinstance(r, str)] if isinstance(required, list) else [],
    )


def check_call(call: Any, gold: GoldCall, schema: Mapping[str, Any] | None = None, *, names: str = "either") -> CallCheck:
    """Whether one predicted call passes one gold call (BFCL's AST rules; module docstring).

    ``call`` is a `ToolCall`, ``{"name", "arguments"}`` or BFCL's ``{name: {param: value}}``;
    ``schema`` the function's description (BFCL's or OpenAI's form), None to check by the gold
    alone; ``names`` how a dotted gold name must be spelled: ``"prompting"`` (as written),
    ``"fc"`` (dots as ``_``) or ``"either"``. Never raises on any call.
    """
    return _check_call(call, gold, schema, _accepted(gold.name, _style(names)))


def _check_call(call: Any, gold: GoldCall, schema: Mapping[str, Any] | None, accepted: frozenset[str]) -> CallCheck:
    pair = _name_args(call)
    if pair is None:
        return CallCheck(False, "malformed", f"not a call: {_shown(call)}")
    name, arguments = pair
    if name not in accepted:
        return CallCheck(False, "wrong_name", f"called {name!r}, expected {' or '.join(repr(n) for n in sorted(accepted))}")
    properties, required = _function(schema)
    for param in required:
        if param not in arguments:
            return CallCheck(False, "missing_required", f"{gold.name}: required parameter {param!r} is missing")
    for param, value in arguments.items():
        if (properties is not None and param not in properties) or param not in gold.options:
            return CallCheck(False, "unexpected_param", f"{gold.name}: unexpected parameter {param!r}")
        spec = properties.get(param) if properties is not None else None
        verdict = _check_value(param, value, gold.options[param], spec if isinstance(spec, Mapping) else None)
        if not verdict.ok:
            return CallCheck(False, verdict.kind, f"{gold.name}: {verdict.reason}")
    for param, answers in gold.options.items():
        if param not in arguments and not _contains(answers, ""):
            return CallCheck(False, "missing_param", f"{gold.name}: parameter {param!r} is missing")
    return _OK


# --------------------------------------------------------------------------------------------
# Several calls
# --------------------------------------------------------------------------------------------


def max_matching(adjacent: Sequence[Sequence[bool]]) -> list[tuple[int, int]]:
    """A maximum matching of a bipartite graph given as ``adjacent[left][right]`` (Kuhn's
    augmenting paths: exact, O(V·E), plenty for tens of calls). Returns ``(left, right)`` pairs."""
    n_left = len(adjacent)
    n_right = max((len(row) for row in adjacent), default=0)
    owner: list[int] = [-1] * n_right  # right -> left

    def augment(left: int, seen: list[bool]) -> bool:
        for right, edge in enumerate(adjacent[left]):
            if edge and not seen[right]:
                seen[right] = True
                if owner[right] < 0 or augment(owner[right], seen):
                    owner[right] = left
                    return True
        return False

    for left in range(n_left):
        augment(left, [False] * n_right)
    return sorted((left, right) for right, left in enumerate(owner) if left >= 0)


def function_index(functions: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """Function descriptions by name, from a list (BFCL's or OpenAI's form) or a name → dict map."""
    if functions is None:
        return {}
    if isinstance(functions, Mapping):
        return {str(k): v for k, v in functions.items()}
    index: dict[str, Mapping[str, Any]] = {}
    for entry in functions:
        if not isinstance(entry, Mapping):
            continue
        function = entry.get("function") if entry.get("type") == "function" else entry
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            index.setdefault(function["name"], entry)
    return index


def _scores(matched: int, n_predicted: int, n_gold: int) -> tuple[float, float, float]:
    precision = matched / n_predicted if n_predicted else (1.0 if n_gold == 0 else 0.0)
    recall = matched / n_gold if n_gold else (1.0 if n_predicted == 0 else 0.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f1


_KIND_RANK = {"malformed": 0, "wrong_name": 1, "missing_required": 2, "unexpected_param": 3, "type": 4, "value": 5, "missing_param": 6}


def match_calls(
    predicted: Sequence[Any],
    gold: Sequence[GoldCall],
    functions: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    *,
    names: str | Sequence[str] = "either",
) -> CallMatch:
    """Match predicted calls to gold calls as multisets (module docstring); never raises on calls.

    ``predicted`` items are what `check_call` takes, or `CallError` (a call that could not be read:
    it matches nothing and counts against precision). ``functions`` gives the schemas by gold name
    (and the FC names, `fc_names`); ``names`` is `check_call`'s, for every call or one per
    predicted item (calls that came in different modes; a `ValueError` if the lengths differ).
    """
    styles = _styles(names, len(predicted))
    schemas = function_index(functions)
    renamed = fc_names(schemas)
    accepted = {style: [_accepted(g.name, style, renamed.get(g.name)) for g in gold] for style in set(styles)}
    checked = list(predicted)[:MAX_CHECKED_CALLS]
    verdicts = [
        [
            _check_call(call, g, schemas.get(g.name), accepted[styles[i]][j])
            if not isinstance(call, CallError)
            else CallCheck(False, "malformed", call.reason)
            for j, g in enumerate(gold)
        ]
        for i, call in enumerate(checked)
    ]
    pairs = max_matching([[v.ok for v in row] for row in verdicts])
    used_pred = {p for p, _ in pairs}
    used_gold = {g for _, g in pairs}
    reasons = []
    for j, g in enumerate(gold):
        if j in used_gold:
            continue
        near = [verdicts[i][j] for i in range(len(checked)) if i not in used_pred] or [verdicts[i][j] for i in range(len(checked))]
        best = max(near, key=lambda v: _KIND_RANK.get(v.kind, 0), default=None)
        reasons.append(best.reason if best is not None else f"no call to {g.name!r}")
    precision, recall, f1 = _scores(len(pairs), len(predicted), len(gold))
    return CallMatch(precision, recall, f1, tuple(pairs), len(predicted), len(gold), tuple(reasons))


def _shown(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# --------------------------------------------------------------------------------------------
# The verifier
# --------------------------------------------------------------------------------------------

#: What a problem expects: calls that match the gold, no call at all, or any call to a listed function.
EXPECTS = ("calls", "no_call", "any_call")


@dataclass(frozen=True)
class ToolCallVerifier:
    """Reward for the tool calls in a completion, against ``problem.answer``.

    ``problem.answer`` is a list of gold calls (`GoldCall`, or BFCL ``{name: {param: [answers]}}``
    dicts); ``problem.meta["functions"]`` the function descriptions (BFCL's or OpenAI's form);
    ``problem.meta["expects"]`` one of ``"calls"`` (default), ``"no_call"`` (BFCL's irrelevance:
    any call is wrong) and ``"any_call"`` (BFCL's relevance: at least one call to a listed
    function). Components: ``accuracy`` (BFCL's verdict: every gold call matched, nothing else, and
    every call readable), ``f1``, ``precision``, ``recall`` (the multiset match; an unreadable call
    counts as a wrong one) and ``format`` (every call attempt could be read). ``score`` is the
    component named by ``reward`` (``"accuracy"`` or ``"f1"``).

    ``names`` says how a dotted function name must be spelled (module docstring): ``"auto"``
    (default) by the format the calls were read in, as BFCL scores prompting and FC models
    (`NAME_STYLES`: pythonic → as listed, ``a.b``; Hermes/OpenAI/JSON → the tool name, ``a_b``);
    or ``"prompting"``, ``"fc"``, ``"either"`` for every call.

    ``"any_call"`` is stricter than BFCL on purpose: BFCL's relevance check passes *any* decodable
    call, even to a function that is not listed; here the call must name a listed function (in the
    format's spelling). A call to a tool that does not exist is not a relevant answer, and a reward
    that pays for one teaches a policy to invent tools.
    """

    formats: tuple[str, ...] = DEFAULT_FORMATS
    reward: str = "accuracy"
    names: str = "auto"

    def __post_init__(self) -> None:
        if self.reward not in ("accuracy", "f1"):
            raise ValueError(f"reward must be 'accuracy' or 'f1', got {self.reward!r}")
        if self.names != "auto":
            _style(self.names)

    def style(self, parsed: ParsedTurn) -> str:
        """The name style for the calls of ``parsed`` (``names``, or by its format when "auto")."""
        if self.names != "auto":
            return self.names
        return NAME_STYLES.get(parsed.format or "", "either")

    def parse(self, completion: str) -> ParsedTurn:
        return parse_tool_calls(completion, self.formats)

    def __call__(self, completion: str, problem: Problem) -> Reward:
        if not isinstance(completion, str):
            return Reward.zero(f"the completion must be a str, got {type(completion).__name__}", _zeros())
        parsed = self.parse(completion)
        return self.score(parsed, problem)

    def score(self, parsed: ParsedTurn, problem: Problem, *, names: str | Sequence[str] | None = None) -> Reward:
        """The reward for calls already parsed from a completion. ``names``: the name style of
        every call or of each of ``parsed.calls`` (an env that merged calls made another way
        says how each was made); default `style`."""
        styles = _styles(names if names is not None else self.style(parsed), len(parsed.calls))
        expects = problem.meta.get("expects", "calls")
        functions = problem.meta.get("functions")
        fmt = 0.0 if parsed.errors else 1.0
        info: dict[str, Any] = {"calls": [{"name": c.name, "arguments": c.arguments} for c in parsed.calls]}
        if parsed.errors:
            info["call_errors"] = [e.reason for e in parsed.errors]
        if expects == "no_call":
            ok = float(not parsed.calls)
            components = {"accuracy": ok, "f1": ok, "precision": ok, "recall": ok, "format": fmt}
            if not ok:
                info["error"] = f"expected no call, got {len(parsed.calls)}"
            return Reward(components[self.reward], components, info)
        if expects == "any_call":
            renamed = fc_names(function_index(functions))
            listed = {s: frozenset().union(*(_accepted(n, s, fc) for n, fc in renamed.items())) for s in set(styles)}
            named = [c for c, s in zip(parsed.calls, styles, strict=True) if c.name in listed[s]]
            ok = float(bool(named))
            components = {"accuracy": ok, "f1": ok, "precision": ok, "recall": ok, "format": fmt}
            if not ok:
                info["error"] = "expected a call to one of the listed functions"
            return Reward(components[self.reward], components, info)
        try:
            gold = [g if isinstance(g, GoldCall) else GoldCall.from_bfcl(g) for g in (problem.answer or [])]
        except (ValueError, TypeError) as exc:  # the problem's fault, not the model's: 0 with the reason
            return Reward.zero(f"the problem's gold calls are malformed: {exc}", _zeros(), **info)
        match = match_calls([*parsed.calls, *parsed.errors], gold, functions, names=styles + ["prompting"] * len(parsed.errors))
        accuracy = float(match.exact and not parsed.errors)
        components = {"accuracy": accuracy, "f1": match.f1, "precision": match.precision, "recall": match.recall, "format": fmt}
        if match.reasons:
            info["unmatched"] = list(match.reasons)
        if not accuracy:
            info["error"] = "; ".join(match.reasons) or (
                f"{len(match.unmatched_predicted)} call(s) beyond the gold" if match.unmatched_predicted else "unreadable call"
            )
        return Reward(components[self.reward], components, info)


def _zeros() -> dict[str, float]:
    return {"accuracy": 0.0, "f1": 0.0, "precision": 0.0, "recall": 0.0, "format": 0.0}
