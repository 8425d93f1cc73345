"""The bodies of `thinkgym eval`, `thinkgym report` and `thinkgym compare` (cli.py stays thin).

Exit codes: 0 = every sample scored; 2 = refused (bad arguments, a different run in --out, an
unwritable --out); 3 = finished, but some samples failed (the policy gave no answer) — re-run the
same command to retry them.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.markup import escape

from thinkgym.errors import ThinkgymError

__all__ = [
    "run_eval_command",
    "run_report_command",
    "run_compare_command",
    "run_suites_command",
    "print_summary",
]

EXIT_OK, EXIT_REFUSED, EXIT_FAILED_SAMPLES = 0, 2, 3


def _fmt(data: Mapping[str, Any] | None, digits: int = 3) -> str:
    if not data or not data.get("n") or not math.isfinite(float(data.get("value", math.nan))):
        return "–"
    return f"{data['value']:.{digits}f} [{data['lo']:.{digits}f}, {data['hi']:.{digits}f}]"


def print_summary(summary: Mapping[str, Any], console: Any) -> None:
    """The headline table: accuracy, mean reward, pass@k and, where known, the exact reference."""
    from rich.table import Table

    run = summary.get("run", {})
    envs = summary.get("envs", {})
    max_k = max((e.get("samples_per_problem") or 0 for e in envs.values()), default=0)
    has_refs = any(e.get("reference") for e in envs.values())
    title = escape(f"{run.get('suite')} — {run.get('policy')}")
    table = Table(title=title, title_justify="left")
    for column in (
        "env",
        "problems",
        "accuracy",
        "mean reward",
        *([f"pass@{max_k}"] if max_k > 1 else []),
        *(["exact mean reward: random / optimal"] if has_refs else []),
        "failed",
    ):
        table.add_column(column)
    for name, env in envs.items():
        ref = env.get("reference") or {}
        ref_text = (
            f"{ref['random_mean_reward']:.3f} / {ref['optimal_mean_reward']:.3f}" if ref else "–"
        )
        row = [
            name,
            str(env.get("problems_scored")),
            _fmt(env.get("accuracy")),
            _fmt(env.get("mean_reward")),
        ]
        if max_k > 1:
            row.append(_fmt(env.get("pass_at_k", {}).get(str(max_k))))
        row += [*([ref_text] if has_refs else []), str(env.get("failed", 0))]
        table.add_row(*row)
    overall = summary.get("overall", {})
    row = [
        "overall (mean of envs)",
        "",
        _fmt(overall.get("accuracy")),
        _fmt(overall.get("mean_reward")),
    ]
    if max_k > 1:
        row.append(_fmt(overall.get("pass_at_k", {}).get(str(max_k))))
    row += [*([""] if has_refs else []), str(overall.get("failed", 0))]
    table.add_row(*row, style="bold")
    console.print(table)
    for warning in summary.get("warnings") or []:
        console.print(f"[yellow]warning:[/] {escape(str(warning))}")


def run_eval_command(
    *,
    policy: str,
    out: str,
    suite: str | None,
    envs: Sequence[str],
    n: int,
    samples: int,
    seed: int,
    concurrency: int,
    batch_size: int,
    verify_workers: int,
    temperature: float | None,
    max_tokens: int | None,
    progress: bool,
    console: Any,
    argv: Sequence[str] | None = None,
    imports: Sequence[str] = (),
    ray: str | None = None,
) -> int:
    """``ray``: None = no Ray; "" or "local" = find or start a local Ray; else a cluster address."""
    from thinkgym.benchmarks.runner import EvalSettings, evaluate
    from thinkgym.benchmarks.suites import load_suite, suite_from_envs
    from thinkgym.errors import ConfigError

    try:
        if suite and envs:
            raise ConfigError("give either --suite or --env, not both")
        from thinkgym.benchmarks.workers import import_modules

        import_modules(tuple(imports))  # before the suite names envs they register
        chosen = load_suite(suite) if suite else suite_from_envs(list(envs), n=n, seed=seed)
        settings = EvalSettings(
            samples=samples,
            seed=seed,
            temperature=temperature,
            max_tokens=max_tokens,
            concurrency=concurrency,
            batch_size=batch_size,
            progress=progress,
            imports=tuple(imports),
        )
        if verify_workers >= 0:
            settings.verify_workers = verify_workers
        if ray is not None:
            if verify_workers == 0:
                raise ConfigError("--verify-workers 0 verifies in this process; with --ray give a count of actors or leave it out")
            settings.ray, settings.ray_address = True, (None if ray in ("", "local") else ray)
            settings.ray_workers = verify_workers if verify_workers > 0 else None
        summary = evaluate(
            chosen, policy, out, settings, command=argv if argv is not None else sys.argv
        )
    except ThinkgymError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}")
        return EXIT_REFUSED
    except KeyboardInterrupt:
        console.print(
            f"[yellow]interrupted; every finished sample is saved. Re-run the same command to resume ({out}).[/]"
        )
        return 130
    print_summary(summary, console)
    out_dir = Path(out)
    console.print(
        f"samples: {out_dir / 'samples.jsonl'}  report: {out_dir / 'report.html'} "
        f"(and report.md)  plots: {out_dir}/*.png"
    )
    failed = summary["overall"].get("failed", 0)
    if failed:
        console.print(
            f"[bold yellow]{failed} sample(s) failed[/] (no answer from the policy; not scored). "
            "Re-run the same command to retry them."
        )
        return EXIT_FAILED_SAMPLES
    return EXIT_OK


def run_report_command(out: str, console: Any) -> int:
    from thinkgym.benchmarks.report import write_report
    from thinkgym.benchmarks.runner import build_summary
    from thinkgym.benchmarks.store import RunDir

    run_dir = RunDir(out)
    if run_dir.load_config() is None:
        console.print(
            f"[bold red]error:[/] {out} is not a `thinkgym eval` output folder (no config.json)"
        )
        return EXIT_REFUSED
    try:
        summary = build_summary(run_dir)
    except ThinkgymError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}")
        return EXIT_REFUSED
    report = write_report(run_dir.path, summary)
    print_summary(summary, console)
    console.print(f"report: {report.with_name('report.html')} (and {report.name})")
    return EXIT_OK


def run_compare_command(dir_a: str, dir_b: str, console: Any, html: str | None = None) -> int:
    """Print the comparison and write ``compare.html`` (into B's folder unless ``html`` names a file)."""
    from thinkgym.benchmarks.compare import compare_runs, render_comparison
    from thinkgym.benchmarks.html_compare import write_compare_html

    try:
        result = compare_runs(dir_a, dir_b)
    except ThinkgymError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}")
        return EXIT_REFUSED
    render_comparison(result, console)
    try:
        page = write_compare_html(result, html)
    except OSError as exc:
        console.print(f"[bold red]error:[/] cannot write compare.html: {escape(str(exc))}")
        return EXIT_REFUSED
    console.print(f"compare page: {escape(str(page))}")
    return EXIT_OK


def run_suites_command(hashes: bool, console: Any) -> int:
    from rich.table import Table

    from thinkgym.benchmarks.suites import builtin_suites, load_suite

    for suite_id in builtin_suites():
        try:
            suite = load_suite(suite_id)
        except ThinkgymError as exc:
            console.print(f"[bold red]{suite_id}[/]: {exc}")
            continue
        table = Table(title=f"{suite.id}: {suite.description}", title_justify="left")
        for column in (
            "entry",
            "env",
            "n",
            "seed",
            "kwargs",
            *(["problems sha256"] if hashes else []),
        ):
            table.add_column(column)
        try:
            digests = suite.entry_fingerprints() if hashes else {}
        except ThinkgymError as exc:  # e.g. a dataset that needs an optional package
            console.print(f"[yellow]{suite_id}: cannot generate the problems here: {exc}[/]")
            digests = {}
        for entry in suite.entries:
            row = [
                entry.label,
                entry.env,
                str(entry.n),
                str(entry.seed),
                str(dict(entry.kwargs) or ""),
            ]
            if hashes:
                row.append(digests.get(entry.label, "–"))
            table.add_row(*row)
        console.print(table)
        if digests:
            console.print(f"suite hash: {suite.fingerprint()}")
    return EXIT_OK
