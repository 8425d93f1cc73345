"""``compare.html``: two eval runs side by side — per-env deltas with CIs, and the problems where
the runs disagree, each openable with both runs' samples next to each other.

`thinkgym compare A B` writes it into B's folder (B is the run judged against the baseline A).
The deltas are `compare.compare_runs`'s (paired bootstrap when both runs scored the same problems);
a problem *disagrees* when the share of correct samples differs between the runs, or, with equal
shares, the mean reward does (partial credit, the maze's reward). Problems are matched by the same
unit the metrics use (`metrics.problem_keys`: the problem id; the episode for single-problem envs).
The page's safety rules are `html_page`'s; the samples use `html_report.sample_row`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from thinkgym.benchmarks.html_page import MAX_TEXT_CHARS, chunked, esc, render_page, table, tag
from thinkgym.benchmarks.html_report import Interner, sample_row
from thinkgym.benchmarks.html_summary import finite, fmt_num
from thinkgym.benchmarks.metrics import problem_keys
from thinkgym.benchmarks.store import RunDir, best_records

__all__ = ["COMPARE_HTML", "disagreements", "render_compare_html", "write_compare_html"]

COMPARE_HTML = "compare.html"
_EPS = 1e-9


def _by_problem(
    records: Sequence[Mapping[str, Any]],
) -> dict[tuple[str, str], list[Mapping[str, Any]]]:
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for record, key in zip(records, problem_keys(records), strict=True):
        groups[(str(record["env"]), key)].append(record)
    for samples in groups.values():
        samples.sort(key=lambda r: int(r.get("sample") or 0))
    return groups


def _stats(samples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    scored = [s for s in samples if not s.get("error")]
    correct = sum(1 for s in scored if s.get("correct"))
    rewards = [float(s.get("reward") or 0.0) for s in scored]
    return {
        "n": len(scored),
        "c": correct,
        "failed": len(samples) - len(scored),
        "acc": correct / len(scored) if scored else None,
        "reward": math.fsum(rewards) / len(rewards) if rewards else None,
    }


def disagreements(
    records_a: Sequence[Mapping[str, Any]], records_b: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Every problem both runs scored on which they disagree, most different first.

    Each item: ``env``, ``problem`` (the unit key), ``a`` / ``b`` stats (``n`` scored samples,
    ``c`` correct, ``acc``, mean ``reward``, ``failed``), ``kind`` (``"correctness"`` or
    ``"reward"``), ``samples_a`` / ``samples_b`` (the records)."""
    groups_a, groups_b = _by_problem(records_a), _by_problem(records_b)
    out = []
    for key in groups_a.keys() & groups_b.keys():
        a, b = _stats(groups_a[key]), _stats(groups_b[key])
        if not a["n"] or not b["n"]:
            continue  # a side with only failed samples says nothing about the problem
        if abs(a["acc"] - b["acc"]) > _EPS:
            kind = "correctness"
        elif abs(a["reward"] - b["reward"]) > _EPS:
            kind = "reward"
        else:
            continue
        out.append(
            {
                "env": key[0],
                "problem": key[1],
                "a": a,
                "b": b,
                "kind": kind,
                "samples_a": groups_a[key],
                "samples_b": groups_b[key],
            }
        )
    out.sort(
        key=lambda d: (
            -abs(d["b"]["acc"] - d["a"]["acc"]),
            -abs(d["b"]["reward"] - d["a"]["reward"]),
            d["env"],
            d["problem"],
        )
    )
    return out


# --------------------------------------------------------------------------------------------
# Markup
# --------------------------------------------------------------------------------------------


def _delta_bar(d: Mapping[str, Any], scale: float, width: int = 120) -> str:
    """The interval of a difference as a band around 0 (the grey tick): red/green when it
    excludes 0."""
    if scale <= 0 or finite(d.get("delta")) is None:
        return ""

    def x(v: Any) -> float:
        number = finite(v) or 0.0
        return round(width / 2 + (width / 2 - 3) * max(-1.0, min(1.0, number / scale)), 2)

    cls = "ref-optimal" if d["lo"] > 0 else ("ref-random" if d["hi"] < 0 else "band")
    return (
        f'<svg class="cibar" width="{width}" height="12" viewBox="0 0 {width} 12" aria-hidden="true">'
        f'<line class="track" x1="2" y1="6" x2="{width - 2}" y2="6"></line>'
        f'<rect class="{cls}" x="{x(d["lo"])}" y="2" width="{max(1.0, x(d["hi"]) - x(d["lo"]))}" height="8"></rect>'
        f'<rect class="track" x="{width / 2 - 0.5}" y="0" width="1" height="12"></rect>'
        f'<circle class="dot" cx="{x(d["delta"])}" cy="6" r="3"></circle></svg>'
    )


def _deltas_table(deltas: Sequence[Mapping[str, Any]]) -> str:
    scales: dict[str, float] = defaultdict(float)
    for d in deltas:
        group = "reward" if d["metric"] == "mean_reward" else "rate"
        for key in ("lo", "hi", "delta"):
            scales[group] = max(scales[group], abs(finite(d.get(key)) or 0.0))
    rows = []
    for d in deltas:
        group = "reward" if d["metric"] == "mean_reward" else "rate"
        cls = (
            "delta-noise"
            if d.get("within_noise")
            else ("delta-pos" if d["delta"] > 0 else "delta-neg")
        )
        rows.append(
            [
                tag("td", esc(d["env"])),
                tag("td", esc(d["metric"])),
                tag("td", esc(fmt_num(d["a"])), cls="num"),
                tag("td", esc(fmt_num(d["b"])), cls="num"),
                tag("td", esc(f"{d['delta']:+.3f}"), cls=f"num {cls}"),
                tag(
                    "td",
                    esc(f"[{d['lo']:+.3f}, {d['hi']:+.3f}]") + _delta_bar(d, scales[group]),
                    cls="num",
                ),
                tag("td", esc(d.get("verdict", "")), cls=cls),
                tag("td", esc(d.get("problems")), cls="num"),
            ]
        )
    return table(
        ["env", "metric", "#A", "#B", "#Δ (B − A)", "95 % CI of Δ", "verdict", "#problems"], rows
    )


def _runs_table(result: Mapping[str, Any], configs: Mapping[str, Mapping[str, Any]]) -> str:
    rows = []
    for side in ("a", "b"):
        info = result[side]
        config = configs.get(side) or {}
        rows.append(
            [
                tag("td", tag("b", side.upper())),
                tag("td", tag("code", esc(info.get("policy")))),
                tag("td", esc(info.get("suite"))),
                tag("td", tag("code", esc(str(config.get("suite_hash") or "")[:16]))),
                tag("td", tag("code", esc(info.get("dir")))),
            ]
        )
    return table(["run", "policy", "suite", "suite hash", "folder"], rows)


def _summary(
    result: Mapping[str, Any], configs: Mapping[str, Mapping[str, Any]], found: int
) -> str:
    kind = (
        "paired over the same problems"
        if result.get("paired")
        else "unpaired (the runs used different problems)"
    )
    only = "".join(
        tag(
            "div", esc(f"envs only in {side[-1].upper()}: {', '.join(result[side])}"), cls="warning"
        )
        for side in ("only_in_a", "only_in_b")
        if result.get(side)
    )
    return tag(
        "section",
        tag("h2", "The runs")
        + _runs_table(result, configs)
        + only
        + tag("h2", "Differences per env (B − A)")
        + tag(
            "p",
            esc(
                f"Intervals: 95 % bootstrap, {kind}. A difference whose interval contains 0 is "
                "within noise (grey); green: B higher, red: B lower."
            ),
            cls="note",
        )
        + _deltas_table(result.get("deltas") or []),
        id="summary",
    ) + tag(
        "section",
        tag("h2", f"Problems where the runs disagree ({found})")
        + tag(
            "p",
            "A problem disagrees when the share of correct samples differs between the runs (or, "
            "with equal shares, the mean reward). Most different first; click a row to see both "
            "runs' samples side by side.",
            cls="note",
        )
        + '<div id="tg-compare"><noscript><div class="warning">The problem browser needs '
        "JavaScript.</div></noscript></div>",
        id="problems",
    )


def _side(stats: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "n": stats["n"],
        "c": stats["c"],
        "acc": stats["acc"],
        "r": stats["reward"],
        "failed": stats["failed"],
    }


def render_compare_html(
    result: Mapping[str, Any],
    records_a: Iterable[Mapping[str, Any]],
    records_b: Iterable[Mapping[str, Any]],
    *,
    configs: Mapping[str, Mapping[str, Any]] | None = None,
    max_text_chars: int = MAX_TEXT_CHARS,
) -> str:
    """The whole ``compare.html`` for ``result`` (from `compare.compare_runs`) and both runs'
    sample records."""
    configs = configs or {}
    found = disagreements(list(records_a), list(records_b))
    envs = list(dict.fromkeys(d["env"] for d in found))
    env_index = {name: i for i, name in enumerate(envs)}
    problems, reasons = Interner(), Interner()

    def rows(samples: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [
            sample_row(
                s,
                env_index=env_index,
                problems=problems,
                reasons=reasons,
                max_text_chars=max_text_chars,
            )
            for s in samples
        ]

    items = []
    for d in found:
        sa, sb = rows(d["samples_a"]), rows(d["samples_b"])
        first = (sa or sb)[0]
        items.append(
            {
                "e": env_index[d["env"]],
                "p": first["p"],
                "u": d["problem"],
                "kind": d["kind"],
                "a": _side(d["a"]),
                "b": _side(d["b"]),
                "q": first["q"],
                "sa": sa,
                "sb": sb,
            }
        )
    payload = {
        "envs": envs,
        "problems": problems.values,
        "reasons": reasons.values,
        "runs": {side: result[side] for side in ("a", "b")},
    }
    chunks = chunked(items, 200)  # an item holds every sample of a problem in both runs
    payload["chunks"] = len(chunks)
    a, b = result["a"], result["b"]
    title = f"thinkgym compare: {a.get('policy')} (A) vs {b.get('policy')} (B)"
    header = tag(
        "header",
        tag("h1", esc(title))
        + tag("div", esc(f"A = {a.get('dir')}   B = {b.get('dir')}"), cls="sub")
        + tag(
            "nav",
            '<a href="#summary">Differences</a><a href="#problems">Disagreements</a>',
            cls="tabs",
        ),
        cls="page",
    )
    return render_page(
        title=title,
        header=header,
        body=_summary(result, configs, len(found)),
        data=payload,
        chunks=chunks,
        scripts=("browser.js", "compare.js"),
    )


def write_compare_html(
    result: Mapping[str, Any],
    path: str | Path | None = None,
    *,
    max_text_chars: int = MAX_TEXT_CHARS,
) -> Path:
    """Write ``compare.html`` for ``result`` (default: into B's folder); returns its path."""
    runs = {side: RunDir(result[side]["dir"]) for side in ("a", "b")}
    records = {side: list(best_records(run.read_samples()).values()) for side, run in runs.items()}
    configs = {side: run.load_config() or {} for side, run in runs.items()}
    page = render_compare_html(
        result, records["a"], records["b"], configs=configs, max_text_chars=max_text_chars
    )
    target = Path(path) if path is not None else runs["b"].path / COMPARE_HTML
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(page, encoding="utf-8", errors="replace")  # a lone surrogate: shown as "?"
    tmp.replace(target)
    return target
