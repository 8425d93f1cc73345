"""The summary of an eval run as HTML markup: headline numbers with their 95 % intervals drawn as
small bars, the exact references, pass@k / maj@k, lengths and timing, misses, the configuration.

Rendered on the server side from ``summary.json`` and ``config.json`` (it reads without
JavaScript); every value goes through `esc`. Used by ``report.html`` (`html_report`).
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from thinkgym.benchmarks.html_page import esc, table, tag

__all__ = ["render_summary", "estimate_cell", "ci_bar", "finite", "fmt_num"]


# --------------------------------------------------------------------------------------------
# Numbers as cells
# --------------------------------------------------------------------------------------------


def finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def fmt_num(value: Any, digits: int = 3) -> str:
    number = finite(value)
    return "–" if number is None else f"{number:.{digits}f}"


def ci_bar(
    est: Mapping[str, Any] | None,
    lo: float,
    hi: float,
    refs: Mapping[str, float] | None = None,
    width: int = 90,
) -> str:
    """A small inline SVG: the 95 % interval as a band on ``[lo, hi]``, the value as a dot, and
    the exact references (uniform random, optimal) as markers. Numbers only, no text."""
    if not est or not est.get("n") or finite(est.get("value")) is None or hi <= lo:
        return ""

    def x(v: Any) -> float:
        number = finite(v)
        number = lo if number is None else min(max(number, lo), hi)
        return round(2 + (width - 4) * (number - lo) / (hi - lo), 2)

    parts = [
        f'<line class="track" x1="2" y1="6" x2="{width - 2}" y2="6"></line>',
        f'<rect class="band" x="{x(est["lo"])}" y="2" width="{max(1.0, x(est["hi"]) - x(est["lo"]))}" height="8"></rect>',
    ]
    for key, cls in (("random_mean_reward", "ref-random"), ("optimal_mean_reward", "ref-optimal")):
        if refs and finite(refs.get(key)) is not None:
            parts.append(
                f'<rect class="{cls}" x="{x(refs[key]) - 1}" y="0" width="2" height="12"></rect>'
            )
    parts.append(f'<circle class="dot" cx="{x(est["value"])}" cy="6" r="3"></circle>')
    return (
        f'<svg class="cibar" width="{width}" height="12" viewBox="0 0 {width} 12" '
        f'aria-hidden="true">{"".join(parts)}</svg>'
    )


def estimate_cell(est: Mapping[str, Any] | None, digits: int = 3, bar: str = "") -> str:
    """``<td>`` with the value and its 95 % interval (``–`` when there is no estimate)."""
    if not est or not est.get("n") or finite(est.get("value")) is None:
        return tag("td", "–", cls="num est")
    title = f"95 % CI, {est.get('method', '')}, {est.get('n')} problem(s)"
    content = (
        esc(fmt_num(est["value"], digits))
        + bar
        + tag(
            "span",
            esc(f"[{fmt_num(est.get('lo'), digits)}, {fmt_num(est.get('hi'), digits)}]"),
            cls="ci",
        )
    )
    return tag("td", content, cls="num est", title=title)


def _td(value: Any, cls: str | None = None) -> str:
    return tag("td", esc(value), cls=cls)


def _scale(
    rows: Iterable[Mapping[str, Any] | None], floor: float = 0.0, ceil: float = 1.0
) -> tuple[float, float]:
    """The range that every interval (and reference) of a column fits in."""
    lo, hi = floor, ceil
    for data in rows:
        for key in ("lo", "hi", "value", "random_mean_reward", "optimal_mean_reward"):
            number = finite((data or {}).get(key))
            if number is not None:
                lo, hi = min(lo, number), max(hi, number)
    return lo, hi


# --------------------------------------------------------------------------------------------
# The summary (server-rendered markup)
# --------------------------------------------------------------------------------------------


def _headline_ks(max_k: int) -> list[int]:
    ks = {k for k in (2, 4, 8, 16, 32, 64, 128) if k <= max_k} | ({max_k} if max_k > 1 else set())
    return sorted(ks)


def _cards(summary: Mapping[str, Any]) -> str:
    overall = summary.get("overall") or {}
    run = summary.get("run") or {}
    cards = []
    for label, key in (
        ("accuracy (mean of envs)", "accuracy"),
        ("mean reward (mean of envs)", "mean_reward"),
    ):
        est = overall.get(key) or {}
        big = fmt_num(est.get("value")) if est.get("n") else "–"
        ci = f"95 % CI [{fmt_num(est.get('lo'))}, {fmt_num(est.get('hi'))}]" if est.get("n") else ""
        cards.append((label, big, ci))
    cards.append(
        (
            "samples scored",
            f"{run.get('scored_samples', '?')} / {run.get('expected_samples', '?')}",
            "complete" if run.get("complete") else "incomplete: resume with the same command",
        )
    )
    cards.append(("failed samples", str(overall.get("failed", 0)), "left out of every score"))
    return tag(
        "div",
        "".join(
            tag(
                "div",
                tag("div", esc(a), cls="label")
                + tag("div", esc(b), cls="big")
                + tag("div", esc(c), cls="ci"),
                cls="card",
            )
            for a, b, c in cards
        ),
        cls="cards",
    )


def _results_table(summary: Mapping[str, Any]) -> str:
    envs: Mapping[str, Mapping[str, Any]] = summary.get("envs") or {}
    overall = summary.get("overall") or {}
    max_k = max((e.get("samples_per_problem") or 0 for e in envs.values()), default=0)
    ks = _headline_ks(max_k)
    has_refs = any(e.get("reference") for e in envs.values())
    header = ["env", "#problems", "accuracy", "mean reward", *(f"pass@{k}" for k in ks)]
    header += [f"maj@{max_k}"] if max_k > 1 else []
    header += (
        ["format"] + (["exact reward: uniform random / optimal"] if has_refs else []) + ["#failed"]
    )
    rows = []
    for name, env in envs.items():
        ref = env.get("reference") or {}
        reward_scale = _scale(
            [env.get("mean_reward"), ref], ceil=max(1.0, finite(env.get("max_reward_seen")) or 1.0)
        )
        row = [
            _td(name),
            _td(env.get("problems_scored"), "num"),
            estimate_cell(env.get("accuracy"), bar=ci_bar(env.get("accuracy"), 0.0, 1.0)),
            estimate_cell(
                env.get("mean_reward"), bar=ci_bar(env.get("mean_reward"), *reward_scale, refs=ref)
            ),
            *(estimate_cell((env.get("pass_at_k") or {}).get(str(k))) for k in ks),
        ]
        if max_k > 1:
            row.append(estimate_cell((env.get("maj_at_k") or {}).get(str(max_k))))
        row.append(estimate_cell(env.get("format_rate")))
        if has_refs:
            exact = f"{fmt_num(ref.get('random_mean_reward'))} / {fmt_num(ref.get('optimal_mean_reward'))}"
            row.append(_td(exact if ref else "–", "num"))
        row.append(_td(env.get("failed", 0), "num"))
        rows.append(row)
    last = [
        _td("overall (mean of envs)"),
        _td(""),
        estimate_cell(overall.get("accuracy"), bar=ci_bar(overall.get("accuracy"), 0.0, 1.0)),
        estimate_cell(overall.get("mean_reward")),
        *(estimate_cell((overall.get("pass_at_k") or {}).get(str(k))) for k in ks),
    ]
    last += [_td("")] * (len(header) - len(last) - 1) + [_td(overall.get("failed", 0), "num")]
    body = "".join("<tr>" + "".join(r) + "</tr>" for r in rows)
    body += '<tr class="overall">' + "".join(last) + "</tr>"
    head = "".join(
        tag("th", esc(h.lstrip("#")), cls="num" if h.startswith("#") else None) for h in header
    )
    return tag(
        "div",
        tag("table", f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>", cls="results"),
        cls="scroll",
    )


def _pass_maj_tables(envs: Mapping[str, Mapping[str, Any]]) -> str:
    max_k = max((e.get("samples_per_problem") or 0 for e in envs.values()), default=0)
    if max_k <= 1:
        return ""
    all_ks = list(range(1, max_k + 1))
    out = tag("h3", "pass@k (unbiased estimator), every k")
    out += table(
        ["env", *(f"pass@{k}" for k in all_ks)],
        (
            [_td(name), *(estimate_cell((env.get("pass_at_k") or {}).get(str(k))) for k in all_ks)]
            for name, env in envs.items()
        ),
    )
    maj_ks = sorted({int(k) for env in envs.values() for k in (env.get("maj_at_k") or {})})
    if maj_ks:
        out += tag("h3", "maj@k (majority vote over the extracted answers)")
        out += table(
            ["env", *(f"maj@{k}" for k in maj_ks)],
            (
                [
                    _td(name),
                    *(estimate_cell((env.get("maj_at_k") or {}).get(str(k))) for k in maj_ks),
                ]
                for name, env in envs.items()
            ),
        )
    return out


def _dist(data: Mapping[str, Any] | None, digits: int) -> str:
    data = data or {}
    return " / ".join(fmt_num(data.get(key), digits) for key in ("mean", "p50", "p90"))


def _timing_table(envs: Mapping[str, Mapping[str, Any]]) -> str:
    rows = []
    for name, env in envs.items():
        chars = env.get("completion_chars") or {}
        rows.append(
            [
                _td(name),
                estimate_cell(env.get("mean_completion_chars"), 1),
                _td(f"{fmt_num(chars.get('p50'), 0)} / {fmt_num(chars.get('p90'), 0)}", "num"),
                _td(_dist(env.get("completion_tokens"), 0), "num"),
                estimate_cell(env.get("truncation_rate")),
                _td(fmt_num(env.get("episode_truncated_rate")), "num"),
                _td(_dist(env.get("latency_s"), 3), "num"),
                _td(fmt_num(env.get("tokens_per_s"), 1), "num"),
                _td(_dist(env.get("verify_s"), 4), "num"),
            ]
        )
    return table(
        [
            "env",
            "mean chars",
            "chars p50 / p90",
            "tokens mean / p50 / p90",
            "cut by the length limit",
            "episodes truncated",
            "latency s mean / p50 / p90",
            "tokens/s",
            "verify s mean / p50 / p90",
        ],
        rows,
    )


def _reason_tables(envs: Mapping[str, Mapping[str, Any]]) -> str:
    out = ""
    misses = [(n, r, c) for n, e in envs.items() for r, c in (e.get("miss_reasons") or {}).items()]
    if misses:
        out += tag(
            "h3", "Why samples were not correct (top reasons; click one to list its samples)"
        )
        out += table(
            ["env", "reason", "#samples"],
            (
                [
                    tag("td", esc(n)),
                    tag("td", tag("code", esc(r))),
                    _td(c, "num"),
                ]
                for n, r, c in misses
            ),
            cls="reasons",
        )
    failures = [
        (n, r, c) for n, e in envs.items() for r, c in (e.get("failure_reasons") or {}).items()
    ]
    if failures:
        out += tag("h3", "Failures (no answer from the policy; left out of the scores)")
        out += table(
            ["env", "error", "#samples"],
            ([_td(n), tag("td", tag("code", esc(r))), _td(c, "num")] for n, r, c in failures),
        )
    return out


def _kv(pairs: Iterable[tuple[str, Any]]) -> str:
    rows = "".join(
        "<tr>" + tag("th", esc(k)) + tag("td", v if isinstance(v, _Markup) else esc(v)) + "</tr>"
        for k, v in pairs
        if v not in (None, "")
    )
    return tag("table", rows, cls="kv")


class _Markup(str):
    """A string that is markup already (not escaped again by `_kv`)."""


def _config_section(summary: Mapping[str, Any], config: Mapping[str, Any]) -> str:
    run = summary.get("run") or {}
    identity = config.get("identity") or {}
    sessions = config.get("sessions") or []
    last = sessions[-1] if sessions else {}
    facts = _kv(
        [
            ("suite", run.get("suite")),
            (
                "suite hash (problems sha256)",
                _Markup(tag("code", esc(run.get("suite_hash") or config.get("suite_hash")))),
            ),
            ("policy", _Markup(tag("code", esc(run.get("policy"))))),
            ("samples per problem", run.get("samples_per_problem")),
            ("seed", run.get("seed")),
            ("temperature", run.get("temperature")),
            ("max tokens", run.get("max_tokens")),
            ("output folder", run.get("out")),
        ]
    )
    entries = table(
        ["entry", "env", "#n", "#seed", "kwargs"],
        (
            [
                _td(e.get("name")),
                tag("td", tag("code", esc(e.get("env")))),
                _td(e.get("n"), "num"),
                _td(e.get("seed"), "num"),
                tag("td", tag("code", esc(e.get("kwargs") or ""))),
            ]
            for e in identity.get("entries") or []
        ),
    )
    session_rows = [
        [
            _td(s.get("started")),
            tag("td", tag("code", esc(shlex.join(str(a) for a in s.get("command") or [])))),
            _td(s.get("samples"), "num"),
            _td(s.get("wall_s"), "num"),
            _td(s.get("samples_per_s"), "num"),
            _td(s.get("concurrency"), "num"),
        ]
        for s in sessions
    ]
    versions = _kv(sorted((last.get("versions") or {}).items()))
    return (
        tag("h3", "Run")
        + facts
        + tag("h3", "Suite entries")
        + entries
        + tag("h3", "Sessions (each start or resume of the run)")
        + table(
            ["started (UTC)", "command", "#samples", "#wall s", "#samples/s", "#concurrency"],
            session_rows,
        )
        + tag("h3", "Versions (last session)")
        + versions
    )


def render_summary(summary: Mapping[str, Any], config: Mapping[str, Any], plots: str = "") -> str:
    """The summary part of the page as markup (every value escaped)."""
    envs: Mapping[str, Mapping[str, Any]] = summary.get("envs") or {}
    warnings = "".join(tag("div", esc(w), cls="warning") for w in summary.get("warnings") or [])
    if not (summary.get("run") or {}).get("complete", True):
        warnings += tag(
            "div", "This run is incomplete: re-run the same command to resume it.", cls="warning"
        )
    refs_note = (
        tag(
            "p",
            "Where an env has an exact analysis (the maze's dynamic programming), the measured mean "
            "reward sits next to the exact expectation of the uniform random policy (red mark) and of "
            "the optimal policy (green mark) on the same problems.",
            cls="note",
        )
        if any(e.get("reference") for e in envs.values())
        else ""
    )
    return (
        tag(
            "section",
            tag("h2", "Summary")
            + warnings
            + _cards(summary)
            + tag(
                "p",
                "Intervals are 95 %: a bootstrap over problems (seed 0), or Wilson for one 0/1 sample "
                "per problem. Overall = the mean of envs (each env weighs the same). Failed samples "
                "(no answer from the policy) are left out of every score.",
                cls="note",
            )
            + _results_table(summary)
            + refs_note
            + plots
            + _pass_maj_tables(envs),
            id="summary",
        )
        + tag(
            "section",
            tag("h2", "Lengths, truncation and timing") + _timing_table(envs),
            id="timing",
        )
        + (
            tag("section", tag("h2", "Misses and failures") + _reason_tables(envs), id="reasons")
            if _reason_tables(envs)
            else ""
        )
        + tag("section", tag("h2", "Configuration") + _config_section(summary, config), id="config")
    )
