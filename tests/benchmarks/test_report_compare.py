"""The CLI round trip: eval -> report -> compare, and what the report and plots contain."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from thinkgym.benchmarks.compare import compare_runs
from thinkgym.cli import app

runner = CliRunner()


SUITE = """
id = "small-v0"
[[envs]]
env = "thinkgym/Maze-v0"
name = "maze-4x4"
n = 40
kwargs = { layout = "random", rows = 4, cols = 4 }

[[envs]]
env = "thinkgym/Math-v0"
name = "math"
n = 10
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    suite = base / "small.toml"
    suite.write_text(SUITE)
    out = {"suite": suite}
    for policy in ("oracle", "random"):
        out[policy] = base / policy
        result = runner.invoke(
            app,
            [
                "eval",
                "--suite",
                str(suite),
                "--policy",
                policy,
                "--samples",
                "2",
                "--out",
                str(out[policy]),
                "--no-progress",
            ],
        )
        assert result.exit_code == 0, result.output
        assert "small-v0" in result.output
    return out


def test_report_and_plots_are_written(runs):
    report = (runs["random"] / "report.md").read_text()
    for text in ("# thinkgym eval: small-v0 — random", "## Results", "pass@2", "maj@2", "maze-4x4",
                 "accuracy.png", "pass_at_k.png", "Why samples were not correct", "Against the exact values"):  # fmt: skip
        assert text in report, text
    for png in ("accuracy.png", "pass_at_k.png"):
        data = (runs["random"] / png).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000


def test_report_rerenders_from_the_samples(runs):
    summary_path = runs["oracle"] / "summary.json"
    before = json.loads(summary_path.read_text())
    summary_path.unlink()
    (runs["oracle"] / "accuracy.png").unlink()
    result = runner.invoke(app, ["report", str(runs["oracle"])])
    assert result.exit_code == 0, result.output
    after = json.loads(summary_path.read_text())
    assert after["envs"] == before["envs"] and (runs["oracle"] / "accuracy.png").exists()
    assert runner.invoke(app, ["report", str(runs["oracle"] / "nope")]).exit_code == 2


def test_compare_flags_real_differences_and_noise(runs):
    result = compare_runs(runs["random"], runs["oracle"])
    assert result["paired"]
    acc = {d["env"]: d for d in result["deltas"] if d["metric"] == "accuracy"}
    assert acc["maze-4x4"]["verdict"] == "B higher" and acc["maze-4x4"]["lo"] > 0
    same = compare_runs(runs["oracle"], runs["oracle"])
    assert all(d["within_noise"] and d["delta"] == 0 for d in same["deltas"])
    cli = runner.invoke(app, ["compare", str(runs["random"]), str(runs["oracle"])])
    assert cli.exit_code == 0 and "B higher" in cli.output


def test_eval_refuses_a_changed_config_with_exit_code_2(runs):
    result = runner.invoke(
        app,
        [
            "eval",
            "--suite",
            str(runs["suite"]),
            "--policy",
            "oracle",
            "--samples",
            "3",
            "--out",
            str(runs["oracle"]),
            "--no-progress",
        ],
    )
    assert result.exit_code == 2
    assert "different configuration" in result.output
