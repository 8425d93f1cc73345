"""Agreement of thinkgym's BFCL verdicts with bfcl-eval's own AST checker, on the same outputs.

Run:
    python3 -m venv /tmp/bfcl-venv && /tmp/bfcl-venv/bin/pip install bfcl-eval soundfile
    pip download --no-deps bfcl-eval -d /tmp/bfcl          # the data (the same wheel)
    .venv/bin/python perf/bfcl_agreement.py --data /tmp/bfcl --bfcl-python /tmp/bfcl-venv/bin/python

bfcl-eval lives in its own virtualenv (it pins numpy 1.26 and pulls torch, transformers and a dozen
API clients; its ``ast_checker`` module imports the model registry, hence all of them, and
``qwen_agent`` wants ``soundfile``, which the wheel does not declare). This file runs twice: here it
builds the model outputs from the real data (every single-turn category), scores them with
`thinkgym.verifiers.tool_calls.ToolCallVerifier` and compares; in the bfcl virtualenv
(``--bfcl-side``, stdlib and bfcl_eval only) it scores the same outputs the way bfcl-eval's
``eval_runner`` does: ``default_decode_ast_prompting`` (BFCL's decoder for prompting models) then
``ast_checker`` for the call categories, the decoder and ``is_empty_output`` for (ir)relevance, and
for function-calling ("FC") models the decoded ``{name: json arguments}`` with the FC model's name
rules (dots in gold names become ``_``).

The outputs: the gold answers (first acceptable value of each parameter, optional ones left out),
an alternative gold (the last acceptable value, optional ones given), and systematic perturbations:
reordered parallel calls, int <-> float, numbers and booleans as strings, lists as Python tuples
(an argument, or the lists inside one), a missing required / gold parameter, an unknown or undeclared extra parameter, a wrong function,
wrong values of each type, case and punctuation changes of strings, a duplicated or dropped call,
and the name spellings (``a.b`` vs ``a_b``). Prompting outputs are pythonic text; FC outputs are an
OpenAI ``tool_calls`` message (what a policy passes thinkgym; the gold, and the gold with dotted
names, also as Hermes ``<tool_call>`` blocks) and BFCL's decoded FC form. Ours is one verifier,
BFCL-v0's (`ToolCallVerifier()`): it judges a call by the format it came in (pythonic: BFCL's
prompting rules; Hermes/OpenAI: its FC rules), as BFCL judges prompting and FC models.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from typing import Any

PROMPT_MODEL = "gpt-4o-2024-11-20"  # a prompting model: names are compared as written
FC_MODEL = "gpt-4o-2024-11-20-FC"  # an FC model with underscore_to_dot: gold "a.b" is called "a_b"


# ============================================================================================
# The bfcl-eval side (runs in the bfcl virtualenv: stdlib and bfcl_eval only)
# ============================================================================================


def bfcl_side(cases_path: str, out_path: str) -> None:
    from bfcl_eval.constants.enums import Language, ReturnFormat
    from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker
    from bfcl_eval.model_handler.utils import default_decode_ast_prompting
    from bfcl_eval.utils import is_empty_output, is_function_calling_format_output

    def decode(case: dict[str, Any]) -> Any:
        if case["mode"] in ("fc", "hermes"):  # what OpenAICompletionsHandler.decode_ast does for FC models
            return [{name: json.loads(arguments)} for item in case["bfcl_fc"] for name, arguments in item.items()]
        return default_decode_ast_prompting(case["text"], ReturnFormat.PYTHON, False)

    def verdict(case: dict[str, Any]) -> tuple[bool | None, str]:
        category = case["bfcl_category"]
        if "relevance" in category:  # _evaluate_single_relevance_entry
            try:
                contains_call = not is_empty_output(decode(case))
            except Exception:
                contains_call = False
            return (not contains_call) if "irrelevance" in category else contains_call, ""
        try:
            decoded = decode(case)
        except Exception as exc:
            return False, f"ast_decoder:decoder_failed ({type(exc).__name__})"
        if not is_function_calling_format_output(decoded):
            return False, "ast_decoder:decoder_wrong_output_format"
        model = FC_MODEL if case["mode"] in ("fc", "hermes") else PROMPT_MODEL
        try:
            result = ast_checker(case["function"], decoded, case["ground_truth"], Language.PYTHON, category, model.replace("/", "_"))
        except Exception as exc:  # the checker itself crashed on this input
            return None, f"crash: {type(exc).__name__}: {exc}"
        return bool(result["valid"]), str(result.get("error_type", ""))

    with open(cases_path, encoding="utf-8") as src, open(out_path, "w", encoding="utf-8") as out:
        for line in src:
            case = json.loads(line)
            ok, why = verdict(case)
            out.write(json.dumps({"key": case["key"], "ok": ok, "why": why}) + "\n")


# ============================================================================================
# Our side: the outputs, our verdicts, the comparison
# ============================================================================================


def _blank(value: Any) -> bool:
    return isinstance(value, str) and value == ""


def _pick(answers: Any, last: bool) -> Any:
    given = [a for a in (answers if isinstance(answers, list) else [answers]) if not _blank(a)]
    return (given[-1] if last else given[0]) if given else None


def alternative_arguments(options: dict[str, list[Any]], schema: dict[str, Any] | None) -> dict[str, Any]:
    """The last acceptable answer of every parameter, optional ones included (dict answers: per key)."""
    from thinkgym.verifiers.tool_calls import _expected  # noqa: I001 - the checker's reading of the schema

    properties = ((schema or {}).get("parameters") or {}).get("properties") or {}
    arguments = {}
    for key, answers in options.items():
        value = _pick(answers, last=True)
        if value is None:
            continue
        spec = properties.get(key) if isinstance(properties.get(key), dict) else None
        if isinstance(value, dict):
            value = {k: v for k, v in ((k, _pick(a, True)) for k, a in value.items()) if v is not None}
        elif isinstance(value, list) and _expected(spec, [value])[2] is dict:
            value = [{k: v for k, v in ((k, _pick(a, True)) for k, a in item.items()) if v is not None} if isinstance(item, dict) else item for item in value]
        arguments[key] = value
    return arguments


def _first(arguments: dict[str, Any], test) -> str | None:
    return next((k for k in sorted(arguments) if test(arguments[k])), None)


def _change(calls: list[tuple[str, dict]], test, change) -> list[tuple[str, dict]] | None:
    """Apply ``change`` to the first argument (over the calls in order) that passes ``test``."""
    for index, (name, arguments) in enumerate(calls):
        key = _first(arguments, test)
        if key is not None:
            new = dict(arguments)
            new[key] = change(arguments[key])
            return calls[:index] + [(name, new)] + calls[index + 1 :]
    return None


def _is_int(v: Any) -> bool:
    return type(v) is int


def _is_float(v: Any) -> bool:
    return type(v) is float


def _wrong(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 7
    if isinstance(value, str):
        return value + " Zanzibar"
    if isinstance(value, list):
        return value[:-1] if value else ["Zanzibar"]
    if isinstance(value, dict):
        return {**value, "zz_key": "Zanzibar"}
    return "Zanzibar"


def _restyle(text: str) -> str:
    return text.upper().replace(" ", "_")


def _drop_param(calls, required_of, gold_only: bool):
    for index, (name, arguments) in enumerate(calls):
        required = required_of(name)
        candidates = [k for k in sorted(arguments) if (k not in required) == gold_only]
        if candidates:
            new = {k: v for k, v in arguments.items() if k != candidates[0]}
            return calls[:index] + [(name, new)] + calls[index + 1 :]
    return None


def _add_declared(calls, properties_of, golds, *, in_gold: bool):
    """Add a declared parameter the call lacks: one the gold does not list (``in_gold=False``: must
    fail), or one the gold marks optional, at the schema's default (``in_gold=True``)."""
    from thinkgym.envs.bfcl import _placeholder

    for index, ((name, arguments), gold) in enumerate(zip(calls, golds, strict=False)):
        properties = properties_of(name)
        for key in sorted(properties):
            if key in arguments or (key in gold.options) != in_gold:
                continue
            if in_gold and "default" not in (properties[key] if isinstance(properties[key], dict) else {}):
                continue
            new = {**arguments, key: _placeholder(properties[key])}
            return calls[:index] + [(name, new)] + calls[index + 1 :]
    return None


def _wrong_function(calls, names):
    name, arguments = calls[0]
    others = [n for n in names if n != name]
    return [(others[0] if others else name + "_v2", arguments)] + calls[1:]


def _inner_tuples(value: Any) -> Any:
    """The lists inside a list or a dict written as Python tuples (the outer one kept a list)."""
    if isinstance(value, dict):
        return {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
    return [tuple(v) if isinstance(v, list) else v for v in value]


def _has_inner_list(value: Any) -> bool:
    inner = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return any(isinstance(v, list) for v in inner)


def perturbations(problem, golds, gold_calls, alt_calls) -> dict[str, list[tuple[str, dict]] | None]:
    """Model outputs (calls) for one call problem, by family; None: the family does not apply."""
    functions = {f["name"]: f for f in problem.meta["functions"]}

    def properties_of(name: str) -> dict:
        return ((functions.get(name) or {}).get("parameters") or {}).get("properties") or {}

    def required_of(name: str) -> set[str]:
        return set(((functions.get(name) or {}).get("parameters") or {}).get("required") or [])

    calls = gold_calls
    out: dict[str, list | None] = {
        "gold": calls,
        "gold_alternative": alt_calls,
        "reorder_calls": list(reversed(calls)) if len(calls) > 1 else None,
        "int_as_float": _change(calls, _is_int, float),
        "integral_float_as_int": _change(calls, lambda v: _is_float(v) and v.is_integer(), int),
        "number_as_string": _change(calls, lambda v: _is_int(v) or _is_float(v), str),
        "bool_as_string": _change(calls, lambda v: isinstance(v, bool), lambda v: str(v).lower()),
        "list_as_tuple": _change(calls, lambda v: isinstance(v, list), tuple),
        "inner_list_as_tuple": _change(calls, _has_inner_list, _inner_tuples),
        "missing_required": _drop_param(calls, required_of, gold_only=False),
        "missing_gold_param": _drop_param(calls, required_of, gold_only=True),
        "extra_unknown_param": [(calls[0][0], {**calls[0][1], "zz_extra": 1})] + calls[1:],
        "extra_declared_param": _add_declared(calls, properties_of, golds, in_gold=False),
        "optional_param_at_default": _add_declared(calls, properties_of, golds, in_gold=True),
        "wrong_function": _wrong_function(calls, list(functions)),
        "wrong_string": _change(calls, lambda v: isinstance(v, str), _wrong),
        "wrong_number": _change(calls, lambda v: type(v) in (int, float), _wrong),
        "wrong_bool": _change(calls, lambda v: isinstance(v, bool), _wrong),
        "wrong_list": _change(calls, lambda v: isinstance(v, list), _wrong),
        "wrong_dict": _change(calls, lambda v: isinstance(v, dict), _wrong),
        "string_case_punct": _change(calls, lambda v: isinstance(v, str) and any(c.isalpha() for c in v), _restyle),
        "duplicate_call": calls + [calls[0]],
        "drop_call": calls[:-1] if len(calls) > 1 else None,
        "dotted_name_as_underscores": [(n.replace(".", "_"), a) for n, a in calls] if any("." in n for n, _ in calls) else None,
    }
    return out


#: Families that probe where thinkgym differs from bfcl-eval on purpose (perf/RESULTS.md says why).
DELIBERATE = ("call_unknown_function",)
FC_FAMILIES = ("gold", "gold_alternative", "reorder_calls", "int_as_float", "number_as_string", "missing_required", "wrong_function", "wrong_string", "duplicate_call")


#: Families that write the gold differently as *text*: they compare thinkgym's call parsers
#: (`thinkgym.tools`) with BFCL's decoder, not the checkers, and are reported apart.
PARSER_FAMILIES = ("prose_around_calls", "fenced_python", "positional_argument", "expression_value", "bare_name_value")


def _render(calls: list[tuple[str, dict]], raw: dict[tuple[int, str], str] | None = None, positional: int | None = None) -> str:
    raw = raw or {}
    rendered = []
    for index, (name, arguments) in enumerate(calls):
        parts = [f"{k}={raw.get((index, k), repr(v))}" for k, v in arguments.items()]
        if positional == index and parts:
            parts[0] = parts[0].split("=", 1)[1]
        rendered.append(f"{name}({', '.join(parts)})")
    return "[" + ", ".join(rendered) + "]"


def parser_variants(calls: list[tuple[str, dict]]) -> dict[str, str]:
    """The gold calls written in ways the two parsers read differently (or alike)."""
    text = _pythonic(calls)
    out = {"prose_around_calls": f"Sure, here are the calls: {text} Let me know if you need more.", "fenced_python": f"```python\n{text}\n```"}
    if calls[0][1]:
        out["positional_argument"] = _render(calls, positional=0)
    for index, (_, arguments) in enumerate(calls):
        ints = [k for k, v in arguments.items() if type(v) is int]
        if ints and "expression_value" not in out:
            out["expression_value"] = _render(calls, {(index, ints[0]): f"{arguments[ints[0]] - 1} + 1"})
        names = [k for k, v in arguments.items() if isinstance(v, str) and v.isidentifier() and v not in ("True", "False", "None")]
        if names and "bare_name_value" not in out:
            out["bare_name_value"] = _render(calls, {(index, names[0]): arguments[names[0]]})
    return out


def _pythonic(calls: list[tuple[str, dict]]) -> str:
    from thinkgym.envs.bfcl import render_pythonic

    return render_pythonic(calls)


def _openai_message(calls: list[tuple[str, dict]]) -> str:
    return json.dumps({"role": "assistant", "content": None, "tool_calls": [
        {"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": json.dumps(a)}} for i, (n, a) in enumerate(calls)
    ]})


def _jsonable(calls) -> bool:
    try:
        return all(json.loads(json.dumps(a)) == a for _, a in calls)
    except (TypeError, ValueError):
        return False


def build_cases(data: str) -> list[dict[str, Any]]:
    from thinkgym.envs.bfcl import CATEGORIES, gold_answer, load_bfcl
    from thinkgym.verifiers.tool_calls import GoldCall, function_index

    cases = []
    for problem in load_bfcl(data):
        category = problem.meta["category"]
        stem = "simple_python" if category == "simple" else category
        base = {"id": problem.meta["bfcl_id"], "category": category, "bfcl_category": stem, "function": problem.meta["functions"], "ground_truth": problem.answer, "expects": problem.meta["expects"]}
        expects = CATEGORIES[category][1]
        if expects != "calls":
            outputs = {
                "no_call_text": NO_CALL_TEXT,
                "call_unknown_function": "[zz_not_a_listed_function(q='x')]",
                "empty_list": "[]",
            }
            if problem.meta["functions"]:
                first = problem.meta["functions"][0]["name"]
                outputs["call_first_function"] = gold_answer(_as_relevance(problem))
                outputs["broken_call"] = f"[{first}(q='x'"
            for family, text in outputs.items():
                cases.append({**base, "key": f"{base['id']}|{family}|prompt", "family": family, "mode": "prompt", "text": text})
            continue
        schemas = function_index(problem.meta["functions"])
        golds = [GoldCall.from_bfcl(g) for g in problem.answer]
        gold_calls = [(g.name, g.example_arguments(schemas.get(g.name))) for g in golds]
        alt_calls = [(g.name, alternative_arguments(dict(g.options), schemas.get(g.name))) for g in golds]
        for family, calls in perturbations(problem, golds, gold_calls, alt_calls).items():
            if calls is None:
                continue
            cases.append({**base, "key": f"{base['id']}|{family}|prompt", "family": family, "mode": "prompt", "text": _pythonic(calls)})
            if family in FC_FAMILIES and _jsonable(calls):
                fc_calls = [(n.replace(".", "_"), a) for n, a in calls]
                cases.append({**base, "key": f"{base['id']}|{family}|fc", "family": family, "mode": "fc", "text": _openai_message(fc_calls),
                              "bfcl_fc": [{n: json.dumps(a)} for n, a in fc_calls]})
        for family, text in parser_variants(gold_calls).items():
            cases.append({**base, "key": f"{base['id']}|{family}|prompt", "family": family, "mode": "prompt", "text": text})
        if _jsonable(gold_calls):  # the gold as Hermes <tool_call> blocks (ours) = BFCL's FC decoding
            fc_calls = [(n.replace(".", "_"), a) for n, a in gold_calls]
            hermes = "".join(f"<tool_call>{json.dumps({'name': n, 'arguments': a})}</tool_call>\n" for n, a in fc_calls)
            cases.append({**base, "key": f"{base['id']}|gold|hermes", "family": "gold", "mode": "hermes", "text": hermes,
                          "bfcl_fc": [{n: json.dumps(a)} for n, a in fc_calls]})
        if any("." in n for n, _ in gold_calls) and _jsonable(gold_calls):  # FC output that keeps the dots
            cases.append({**base, "key": f"{base['id']}|dotted_name_kept|fc", "family": "dotted_name_kept", "mode": "fc",
                          "text": _openai_message(gold_calls), "bfcl_fc": [{n: json.dumps(a)} for n, a in gold_calls]})
            hermes = "".join(f"<tool_call>{json.dumps({'name': n, 'arguments': a})}</tool_call>\n" for n, a in gold_calls)
            cases.append({**base, "key": f"{base['id']}|dotted_name_kept|hermes", "family": "dotted_name_kept", "mode": "hermes",
                          "text": hermes, "bfcl_fc": [{n: json.dumps(a)} for n, a in gold_calls]})
    return cases


NO_CALL_TEXT = "None of the available functions can answer this, so I will not call any."


def _as_relevance(problem):
    from thinkgym.core import Problem

    return Problem(problem.id, problem.prompt, None, {**problem.meta, "expects": "any_call"})


def our_verdicts(cases: list[dict[str, Any]]) -> dict[str, tuple[bool, str]]:
    from thinkgym.core import Problem
    from thinkgym.verifiers.tool_calls import ToolCallVerifier

    verifier = ToolCallVerifier()  # BFCL-v0's: the name rule follows the format (pythonic: prompting; JSON: FC)
    out = {}
    for case in cases:
        problem = Problem(case["id"], "", case["ground_truth"], {"functions": case["function"], "expects": case["expects"]})
        reward = verifier(case["text"], problem)
        out[case["key"]] = (reward.components["accuracy"] == 1.0, str(reward.info.get("error", "")))
    return out


def run_bfcl(python: str, cases: list[dict[str, Any]]) -> dict[str, tuple[bool | None, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "cases.jsonl"), os.path.join(tmp, "verdicts.jsonl")
        with open(src, "w", encoding="utf-8") as f:
            for case in cases:
                f.write(json.dumps(case) + "\n")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        subprocess.run([python, os.path.abspath(__file__), "--bfcl-side", src, dst], check=True, env=env)
        with open(dst, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f]
    return {r["key"]: (r["ok"], r["why"]) for r in rows}


def report(cases, ours, theirs, show: int) -> dict[str, Any]:
    by_family: dict[str, Counter] = defaultdict(Counter)
    disagreements = []
    for case in cases:
        mine, (bfcl_ok, bfcl_why) = ours[case["key"]], theirs[case["key"]]
        row = by_family[f"{case['family']} ({case['mode']})"]
        row["n"] += 1
        row["ours_pass"] += mine[0]
        row["bfcl_pass"] += bool(bfcl_ok)
        row["bfcl_crash"] += bfcl_ok is None
        if mine[0] == bool(bfcl_ok) and bfcl_ok is not None:
            row["agree"] += 1
        else:
            disagreements.append({"key": case["key"], "category": case["category"], "ours": mine, "bfcl": (bfcl_ok, bfcl_why), "text": case["text"][:300]})
    total = sum(r["n"] for r in by_family.values())
    agree = sum(r["agree"] for r in by_family.values())
    print(f"\n{'family (mode)':34} {'n':>6} {'agree':>8} {'ours pass':>10} {'bfcl pass':>10} {'bfcl crash':>10}")
    for family, row in sorted(by_family.items()):
        print(f"{family:34} {row['n']:>6} {100 * row['agree'] / row['n']:>7.2f}% {row['ours_pass']:>10} {row['bfcl_pass']:>10} {row['bfcl_crash']:>10}")
    print(f"{'ALL':34} {total:>6} {100 * agree / total:>7.2f}%")
    for label, chosen in (
        ("checkers (all but the parser families)", lambda f: f not in PARSER_FAMILIES),
        ("checkers, but the deliberate differences", lambda f: f not in PARSER_FAMILIES and f not in DELIBERATE),
        ("parser families only", lambda f: f in PARSER_FAMILIES),
    ):
        rows = [r for f, r in by_family.items() if chosen(f.split(" (")[0])]
        n_rows, agree_rows = sum(r["n"] for r in rows), sum(r["agree"] for r in rows)
        print(f"{label:42} {n_rows:>6} {100 * agree_rows / max(n_rows, 1):>7.3f}%")
    gold = [r for f, r in by_family.items() if f.startswith("gold (")]
    print(f"gold answers: {sum(r['agree'] for r in gold)}/{sum(r['n'] for r in gold)} agree")
    kinds = Counter((d["key"].split("|")[1] + "|" + d["key"].split("|")[2], d["ours"][0], d["bfcl"][0]) for d in disagreements)
    print(f"\n{len(disagreements)} disagreements by (family|mode, ours, bfcl):")
    for (family, mine, bfcl_ok), count in kinds.most_common():
        print(f"  {count:5}  {family:40} ours={mine!s:5} bfcl={bfcl_ok!s}")
    for d in disagreements[:show]:
        print(json.dumps(d, ensure_ascii=False)[:700])
    return {"total": total, "agree": agree, "families": {f: dict(r) for f, r in by_family.items()}, "disagreements": disagreements}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("THINKGYM_BFCL_DATA", "/tmp/bfcl"), help="BFCL data: the bfcl-eval wheel, its folder or its data/ folder")
    parser.add_argument("--bfcl-python", default="/tmp/bfcl-venv/bin/python", help="the python of a virtualenv with bfcl-eval installed")
    parser.add_argument("--show", type=int, default=40, help="disagreements to print in full")
    parser.add_argument("--json", help="write the summary and every disagreement here")
    parser.add_argument("--bfcl-side", nargs=2, metavar=("CASES", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bfcl_side:
        bfcl_side(*args.bfcl_side)
        return
    start = time.perf_counter()
    cases = build_cases(args.data)
    built = time.perf_counter()
    ours = our_verdicts(cases)
    mine = time.perf_counter()
    theirs = run_bfcl(args.bfcl_python, cases)
    done = time.perf_counter()
    print(f"{len(cases)} outputs built in {built - start:.1f} s; ours judged them in {mine - built:.2f} s "
          f"({len(cases) / (mine - built):,.0f}/s); bfcl-eval (its process, imports included) in {done - mine:.1f} s")
    summary = report(cases, ours, theirs, args.show)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=1, ensure_ascii=False, default=str)


if __name__ == "__main__":
    sys.exit(main())
