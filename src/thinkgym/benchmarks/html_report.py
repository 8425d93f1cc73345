"""``report.html``: one self-contained page per eval run — the summary and every sample, browsable.

Why: benchmarking a reasoning model means reading its failures (which problems, what it wrote,
where the answer was taken from, why the verifier said no). ``report.md`` and the plots give the
numbers; this page adds the samples: a table of all of them, filterable by env, outcome, reason
and text, sortable, paged (so 100,000 samples open and filter without freezing the browser), and
a view of one sample with its prompt, its completion with the extracted answer marked, the gold
answer, the reward components and ``reward_info``, and every turn of a multi-turn episode.

The summary is rendered here as plain markup (it reads without JavaScript); the samples travel
as JSON and are drawn by ``report_assets/browser.js`` + ``report.js``. The safety rules for model
text are in `thinkgym.benchmarks.html_page`. Like ``report.md``, the page is rebuilt from
``summary.json``, ``config.json`` and ``samples.jsonl`` alone (`thinkgym report DIR`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from thinkgym.benchmarks.html_page import (
    CHUNK_ITEMS,
    MAX_TEXT_CHARS,
    chunked,
    clip_text,
    data_uri,
    esc,
    render_page,
    tag,
)
from thinkgym.benchmarks.html_summary import render_summary
from thinkgym.benchmarks.store import RunDir, best_records

__all__ = [
    "REPORT_HTML",
    "write_html_report",
    "render_html_report",
    "samples_payload",
    "sample_row",
    "Interner",
]

REPORT_HTML = "report.html"
#: Reasons are grouped by their first characters, as in ``summary.json``'s ``miss_reasons``.
REASON_GROUP_CHARS = 120


# --------------------------------------------------------------------------------------------
# The samples (JSON for the page's script)
# --------------------------------------------------------------------------------------------


def _outcome(record: Mapping[str, Any]) -> int:
    """1 = correct, 0 = not correct, -1 = failed (no answer from the policy; not scored)."""
    if record.get("error"):
        return -1
    return 1 if record.get("correct") else 0


def _reason(record: Mapping[str, Any]) -> str:
    if record.get("error"):
        return f"failed: {record['error']}"
    return str(record.get("reason") or "")


class Interner:
    """Index of distinct values (prompts, reasons), so repeated ones are stored once."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}
        self.values: list[Any] = []

    def __call__(self, key: Any, value: Any = None) -> int:
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = len(self.values)
            self.values.append(key if value is None else value)
        return found


def sample_row(
    record: Mapping[str, Any],
    *,
    env_index: Mapping[str, int],
    problems: Interner,
    reasons: Interner,
    max_text_chars: int = MAX_TEXT_CHARS,
) -> dict[str, Any]:
    """One sample as the page's script reads it (short keys: the data of 100,000 samples is big).

    ``e`` env index, ``p`` problem id, ``i`` problem index, ``s`` sample number, ``r`` reward,
    ``c`` outcome (1 / 0 / -1 failed), ``w`` reason group, ``n`` completion length in characters,
    ``q`` index of the (prompt, gold answer) pair, ``x`` completion, ``a`` extracted answer,
    ``k`` components, ``f`` reward_info, then the details of the sample view."""
    completion = record.get("completion") or ""
    prompt = clip_text(record.get("prompt") or "", max_text_chars)
    gold = record.get("answer")
    reason = _reason(record)
    row: dict[str, Any] = {
        "key": str(record.get("key", "")),
        "e": env_index[str(record.get("env"))],
        "p": str(
            record.get("problem_id")
            if record.get("problem_id") is not None
            else f"#{record.get('problem_index')}"
        ),
        "i": record.get("problem_index"),
        "s": record.get("sample"),
        "r": record.get("reward"),
        "c": _outcome(record),
        "w": reasons(reason[:REASON_GROUP_CHARS]) if reason else -1,
        "n": len(completion),
        "t": record.get("completion_tokens"),
        "q": problems((prompt, repr(gold)), {"prompt": prompt, "answer": gold}),
        "x": clip_text(completion, max_text_chars),
        "a": record.get("extracted_answer"),
        "k": record.get("components") or {},
        "f": record.get("reward_info") or {},
    }
    if len(reason) > REASON_GROUP_CHARS:
        row["why"] = clip_text(reason, max_text_chars)
    if record.get("actions") is not None:
        row["turns"] = {
            "actions": [clip_text(a, max_text_chars) for a in record.get("actions") or []],
            "observations": [
                clip_text(o, max_text_chars) for o in record.get("observations") or []
            ],
            "rewards": record.get("step_rewards") or [],
        }
    row["meta"] = {
        "finish reasons": record.get("finish_reasons"),
        "turns": record.get("turns"),
        "terminated": record.get("terminated"),
        "truncated": record.get("truncated"),
        "prompt tokens": record.get("prompt_tokens"),
        "completion tokens": record.get("completion_tokens"),
        "latency s": record.get("latency_s"),
        "timings": record.get("timings"),
        "error": record.get("error"),
    }
    return row


def _order(
    records: Iterable[Mapping[str, Any]], env_order: Sequence[str]
) -> list[Mapping[str, Any]]:
    rank = {name: i for i, name in enumerate(env_order)}

    def key(r: Mapping[str, Any]) -> tuple[int, str, int, int]:
        env = str(r.get("env"))
        return (
            rank.get(env, len(rank)),
            env,
            int(r.get("problem_index") or 0),
            int(r.get("sample") or 0),
        )

    return sorted(records, key=key)


def samples_payload(
    records: Iterable[Mapping[str, Any]],
    env_order: Sequence[str] = (),
    *,
    max_text_chars: int = MAX_TEXT_CHARS,
) -> dict[str, Any]:
    """The page's sample data: envs, the distinct (prompt, gold) pairs, reason groups, samples."""
    ordered = _order(records, env_order)
    present = {str(r.get("env")) for r in ordered}
    envs = [
        e
        for e in dict.fromkeys([*env_order, *(str(r.get("env")) for r in ordered)])
        if e in present
    ]
    env_index = {name: i for i, name in enumerate(envs)}
    problems, reasons = Interner(), Interner()
    rows = [
        sample_row(
            r,
            env_index=env_index,
            problems=problems,
            reasons=reasons,
            max_text_chars=max_text_chars,
        )
        for r in ordered
    ]
    return {"envs": envs, "problems": problems.values, "reasons": reasons.values, "samples": rows}


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


def _plots(out: Path) -> str:
    from thinkgym.benchmarks.report import ACCURACY_PNG, PASS_AT_K_PNG

    images = []
    for name, alt in (
        (ACCURACY_PNG, "accuracy and mean reward per env, 95 % CI"),
        (PASS_AT_K_PNG, "pass@k against k"),
    ):
        uri = data_uri(out / name)
        if uri:
            images.append(f'<img class="plot" alt="{esc(alt)}" src="{esc(uri)}">')
    return tag("div", "".join(images), cls="plots") if images else ""


def _header(summary: Mapping[str, Any]) -> str:
    run = summary.get("run") or {}
    has_reasons = any(
        e.get("miss_reasons") or e.get("failure_reasons")
        for e in (summary.get("envs") or {}).values()
    )
    nav = "".join(
        f'<a href="#{anchor}">{esc(label)}</a>'
        for anchor, label in (
            ("summary", "Summary"),
            ("timing", "Lengths & timing"),
            *([("reasons", "Misses")] if has_reasons else []),
            ("samples", "Samples"),
            ("config", "Configuration"),
        )
    )
    return tag(
        "header",
        tag("h1", esc(f"thinkgym eval: {run.get('suite', '?')} — {run.get('policy', '?')}"))
        + tag(
            "div",
            esc(
                f"suite hash {str(run.get('suite_hash') or '')[:16]} · {run.get('scored_samples', '?')} samples scored · {run.get('samples_per_problem', '?')} per problem"
            ),
            cls="sub",
        )
        + tag("nav", nav, cls="tabs"),
        cls="page",
    )


_SAMPLES_SECTION = (
    '<section id="samples"><h2>Samples</h2>'
    '<p class="note">Every sample of the run. Filter by env, outcome, reason or text (searches the '
    "completion, prompt, answers, problem id and reason); click a column to sort, a row to open the "
    "sample (arrow keys: previous / next).</p>"
    '<div id="tg-samples"><noscript><div class="warning">The sample browser needs JavaScript.'
    "</div></noscript></div></section>"
)


def render_html_report(
    summary: Mapping[str, Any],
    config: Mapping[str, Any],
    records: Iterable[Mapping[str, Any]],
    *,
    plots: str = "",
    max_text_chars: int = MAX_TEXT_CHARS,
    chunk_size: int = CHUNK_ITEMS,
) -> str:
    """The whole ``report.html`` as a string (see the module docstring)."""
    env_order = list((summary.get("envs") or {}).keys())
    payload = samples_payload(records, env_order, max_text_chars=max_text_chars)
    chunks = chunked(payload.pop("samples"), chunk_size)
    payload["chunks"] = len(chunks)
    run = summary.get("run") or {}
    body = render_summary(summary, config, plots) + _SAMPLES_SECTION
    body += tag(
        "footer",
        esc(
            f"written by thinkgym from {run.get('out', 'the run folder')}: summary.json, config.json, samples.jsonl"
        ),
    )
    return render_page(
        title=f"thinkgym eval: {run.get('suite', '?')} — {run.get('policy', '?')}",
        header=_header(summary),
        body=body,
        data=payload,
        chunks=chunks,
        scripts=("browser.js", "report.js"),
    )


def write_html_report(
    out: str | Path,
    summary: Mapping[str, Any],
    *,
    records: Iterable[Mapping[str, Any]] | None = None,
    max_text_chars: int = MAX_TEXT_CHARS,
) -> Path:
    """Write ``report.html`` into the run folder ``out`` (samples read from ``samples.jsonl``
    unless given; the plots are embedded when ``report.md``'s PNGs are there)."""
    run_dir = RunDir(out)
    config = run_dir.load_config() or {}
    if records is None:
        records = best_records(run_dir.read_samples()).values()
    page = render_html_report(
        summary, config, records, plots=_plots(run_dir.path), max_text_chars=max_text_chars
    )
    target = run_dir.path / REPORT_HTML
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8", errors="replace")  # a lone surrogate: shown as "?"
    tmp.replace(target)
    return target
