"""`report.md` and PNG plots of an eval run, rendered from ``summary.json`` alone.

Everything here reads the summary dict (see `metrics.summarize` and `runner.build_summary`), so a
report can be re-rendered at any time with `thinkgym report DIR` without touching the policy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "write_report",
    "render_markdown",
    "plot_accuracy",
    "plot_pass_at_k",
    "ACCURACY_PNG",
    "PASS_AT_K_PNG",
]

ACCURACY_PNG = "accuracy.png"
PASS_AT_K_PNG = "pass_at_k.png"


def _est(data: Mapping[str, Any] | None, digits: int = 3) -> str:
    if not data or data.get("n", 0) == 0 or not math.isfinite(float(data.get("value", math.nan))):
        return "–"
    return f"{data['value']:.{digits}f} [{data['lo']:.{digits}f}, {data['hi']:.{digits}f}]"


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    try:
        return f"{float(value):.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def _headline_ks(max_k: int) -> list[int]:
    ks = sorted({1, *(k for k in (2, 4, 8, 16, 32, 64, 128) if k <= max_k), max_k} - {0})
    return [k for k in ks if k <= max_k]


def render_markdown(summary: Mapping[str, Any]) -> str:
    """The report as Markdown: run facts, headline table, per-env details, timings, failures."""
    run = summary.get("run", {})
    envs: Mapping[str, Mapping[str, Any]] = summary.get("envs", {})
    overall = summary.get("overall", {})
    max_k = max((e.get("samples_per_problem") or 0 for e in envs.values()), default=0)
    lines = [f"# thinkgym eval: {run.get('suite', '?')} — {run.get('policy', '?')}", ""]
    lines += [
        f"- suite `{run.get('suite')}`, problems hash `{str(run.get('suite_hash', ''))[:16]}`",
        f"- policy `{run.get('policy')}`, {run.get('samples_per_problem')} sample(s) per problem, "
        f"seed {run.get('seed')}, temperature {run.get('temperature')}, max tokens {run.get('max_tokens')}",
        f"- samples scored {run.get('scored_samples')} of {run.get('expected_samples')} expected"
        + ("" if run.get("complete") else " — **incomplete run: resume it with the same command**"),
        "- intervals are 95 % (bootstrap over problems, seed 0; Wilson for one 0/1 sample per problem)",
    ]
    for warning in summary.get("warnings") or []:
        lines.append(f"- **warning:** {warning}")
    failed = overall.get("failed", 0)
    if failed:
        lines.append(
            f"- **{failed} sample(s) failed** (the policy gave no answer; see *Failures*). They are left "
            "out of every score, not counted as zeros."
        )
    lines += ["", f"![accuracy per env]({ACCURACY_PNG})", "", f"![pass@k]({PASS_AT_K_PNG})", ""]

    ks = _headline_ks(max_k)
    header = ["env", "problems", "accuracy", "mean reward", *(f"pass@{k}" for k in ks if k > 1)]
    if max_k > 1:
        header.append(f"maj@{max_k}")
    header += ["format", "failed"]
    rows = []
    for name, env in envs.items():
        row = [
            name,
            str(env.get("problems_scored")),
            _est(env.get("accuracy")),
            _est(env.get("mean_reward")),
            *(_est(env.get("pass_at_k", {}).get(str(k))) for k in ks if k > 1),
        ]
        if max_k > 1:
            row.append(_est(env.get("maj_at_k", {}).get(str(max_k))))
        row += [_est(env.get("format_rate")), str(env.get("failed", 0))]
        rows.append(row)
    overall_row = [
        "**overall (mean of envs)**",
        "",
        _est(overall.get("accuracy")),
        _est(overall.get("mean_reward")),
    ]
    overall_row += [_est(overall.get("pass_at_k", {}).get(str(k))) for k in ks if k > 1]
    overall_row += [""] * (len(header) - len(overall_row))
    overall_row[-1] = str(failed)
    rows.append(overall_row)
    lines += ["## Results", ""] + _table(header, rows) + [""]

    refs = {name: env["reference"] for name, env in envs.items() if env.get("reference")}
    if refs:
        lines += [
            "## Against the exact values",
            "",
            "Where an env has an exact analysis (the maze's dynamic programming), the measured mean "
            "reward sits next to the exact expectation of the uniform random policy and of the "
            "optimal one on the same problems.",
            "",
        ]
        rows = [
            [
                name,
                _est(envs[name].get("mean_reward")),
                _num(ref.get("random_mean_reward"), 3),
                _num(ref.get("optimal_mean_reward"), 3),
            ]
            for name, ref in refs.items()
        ]
        lines += _table(
            ["env", "measured mean reward", "exact: uniform random", "exact: optimal"], rows
        ) + [""]

    if max_k > 1:
        lines += ["## pass@k (unbiased estimator) and maj@k", ""]
        all_ks = list(range(1, max_k + 1))
        rows = [
            [name, *(_est(env.get("pass_at_k", {}).get(str(k))) for k in all_ks)]
            for name, env in envs.items()
        ]
        lines += _table(["env", *(f"pass@{k}" for k in all_ks)], rows) + [""]
        maj_ks = sorted({int(k) for env in envs.values() for k in env.get("maj_at_k", {})})
        if maj_ks:
            rows = [
                [name, *(_est(env.get("maj_at_k", {}).get(str(k))) for k in maj_ks)]
                for name, env in envs.items()
            ]
            lines += _table(["env", *(f"maj@{k}" for k in maj_ks)], rows) + [""]

    lines += ["## Completions and timing", ""]
    rows = []
    for name, env in envs.items():
        chars = env.get("completion_chars") or {}
        toks = env.get("completion_tokens") or {}
        lat = env.get("latency_s") or {}
        ver = env.get("verify_s") or {}
        rows.append(
            [
                name,
                _est(env.get("mean_completion_chars"), 1),
                f"{_num(chars.get('p50'), 0)} / {_num(chars.get('p90'), 0)}",
                f"{_num(toks.get('mean'), 1)} / {_num(toks.get('p50'), 0)} / {_num(toks.get('p90'), 0)}",
                _est(env.get("truncation_rate")),
                f"{_num(lat.get('mean'), 3)} / {_num(lat.get('p50'), 3)} / {_num(lat.get('p90'), 3)}",
                _num(env.get("tokens_per_s"), 1),
                f"{_num(ver.get('mean'), 4)} / {_num(ver.get('p90'), 4)}",
            ]
        )
    lines += _table(
        [
            "env",
            "mean chars",
            "chars p50 / p90",
            "tokens mean / p50 / p90",
            "truncated (length)",
            "latency s mean / p50 / p90",
            "tokens/s",
            "verify s mean / p90",
        ],
        rows,
    ) + [""]

    reasons = [
        (name, r, c)
        for name, env in envs.items()
        for r, c in (env.get("miss_reasons") or {}).items()
    ]
    if reasons:
        lines += ["## Why samples were not correct (top reasons)", ""]
        lines += _table(["env", "reason", "samples"], [[n, r, str(c)] for n, r, c in reasons]) + [
            ""
        ]
    failures = [
        (name, r, c)
        for name, env in envs.items()
        for r, c in (env.get("failure_reasons") or {}).items()
    ]
    if failures:
        lines += ["## Failures (no answer from the policy; not scored)", ""]
        lines += _table(["env", "error", "samples"], [[n, r, str(c)] for n, r, c in failures]) + [
            ""
        ]
    return "\n".join(lines)


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _mark_references(ax: Any, names: list[str], envs: Mapping[str, Any]) -> None:
    """Exact expectations (maze DP) as markers, so a run can be read against the truth."""
    labelled: set[str] = set()
    for yi, name in enumerate(names):
        ref = (envs.get(name) or {}).get("reference") or {}
        for key, marker, color, label in (
            ("random_mean_reward", "D", "#d62728", "exact: uniform random"),
            ("optimal_mean_reward", "*", "#2ca02c", "exact: optimal"),
        ):
            if key in ref:
                ax.plot(
                    [ref[key]],
                    [yi],
                    marker=marker,
                    color=color,
                    ms=8,
                    ls="none",
                    label=None if label in labelled else label,
                )
                labelled.add(label)
    if labelled:
        ax.legend(fontsize=7, loc="lower right")


def plot_accuracy(summary: Mapping[str, Any], path: str | Path) -> Path:
    """Accuracy and mean reward per env (and the overall mean) with 95 % error bars."""
    plt = _plt()
    envs = summary.get("envs", {})
    overall = summary.get("overall", {})
    names = list(envs) + ["overall"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.55 * len(names) + 1.8), squeeze=False)
    for ax, metric, title in (
        (axes[0][0], "accuracy", "accuracy"),
        (axes[0][1], "mean_reward", "mean reward"),
    ):
        values, lows, highs, colors = [], [], [], []
        for name in names:
            data = (overall if name == "overall" else envs[name]).get(metric) or {}
            value = float(data.get("value", math.nan)) if data.get("n") else math.nan
            values.append(value)
            lows.append(
                max(0.0, value - float(data.get("lo", value))) if math.isfinite(value) else 0.0
            )
            highs.append(
                max(0.0, float(data.get("hi", value)) - value) if math.isfinite(value) else 0.0
            )
            colors.append("#888888" if name == "overall" else "#3b75af")
        y = list(range(len(names)))
        ax.barh(
            y,
            [v if math.isfinite(v) else 0 for v in values],
            xerr=[lows, highs],
            color=colors,
            capsize=4,
        )
        for yi, v, hi in zip(y, values, highs, strict=True):
            if math.isfinite(v):
                ax.text(v + hi, yi, f"  {v:.3g}", va="center", ha="left", fontsize=8)
        if metric == "mean_reward":
            _mark_references(ax, names, envs)
        ax.set_yticks(y, names, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"{title} (95 % CI)")
        if metric == "accuracy":
            ax.set_xlim(0, 1.08)
        ax.grid(axis="x", alpha=0.3)
    run = summary.get("run", {})
    fig.suptitle(f"{run.get('suite', '')} — {run.get('policy', '')}", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_pass_at_k(summary: Mapping[str, Any], path: str | Path) -> Path:
    """pass@k against k for each env, with the 95 % band; maj@k dashed where measured."""
    plt = _plt()
    envs = summary.get("envs", {})
    fig, ax = plt.subplots(figsize=(9.5, 4.8))
    max_k = 1
    for i, (name, env) in enumerate(envs.items()):
        color = f"C{i % 10}"
        points = sorted((int(k), v) for k, v in (env.get("pass_at_k") or {}).items() if v.get("n"))
        if points:
            ks = [k for k, _ in points]
            max_k = max(max_k, ks[-1])
            ax.plot(
                ks, [v["value"] for _, v in points], marker="o", color=color, label=f"{name} pass@k"
            )
            ax.fill_between(
                ks,
                [v["lo"] for _, v in points],
                [v["hi"] for _, v in points],
                color=color,
                alpha=0.15,
            )
        maj = sorted((int(k), v) for k, v in (env.get("maj_at_k") or {}).items() if v.get("n"))
        if len(maj) > 1:
            ax.plot(
                [k for k, _ in maj],
                [v["value"] for _, v in maj],
                ls="--",
                marker="x",
                color=color,
                label=f"{name} maj@k",
            )
    if max_k > 8:
        ax.set_xscale("log", base=2)
    ticks = (
        sorted({1, max_k, *(2**i for i in range(12) if 2**i <= max_k)})
        if max_k > 8
        else list(range(1, max_k + 1))
    )
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.set_xlabel("k (samples)")
    ax.set_ylabel("probability")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title("pass@k (unbiased estimator) with 95 % bands")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(out: str | Path, summary: Mapping[str, Any]) -> Path:
    """Write ``report.md``, the two PNGs and ``report.html`` (the summary and every sample, see
    `thinkgym.benchmarks.html_report`) into ``out``; returns the path of ``report.md``."""
    from thinkgym.benchmarks.html_report import write_html_report

    out = Path(out)
    plot_accuracy(summary, out / ACCURACY_PNG)
    plot_pass_at_k(summary, out / PASS_AT_K_PNG)
    report = out / "report.md"
    report.write_text(render_markdown(summary) + "\n", encoding="utf-8")
    write_html_report(out, summary)
    return report
