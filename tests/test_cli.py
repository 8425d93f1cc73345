"""The `thinkgym` command: list, show, play (a person typing on stdin) and demo."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from thinkgym.cli import app

runner = CliRunner()


class Run:
    """A CliRunner result with the output's whitespace normalised (rich wraps long lines)."""

    def __init__(self, result):
        self.exit_code = result.exit_code
        self.raw = result.output
        self.output = " ".join(result.output.split())


def run(*args: str, stdin: str | None = None) -> Run:
    return Run(runner.invoke(app, list(args), input=stdin))


def test_list_shows_every_env_with_description():
    result = run("list")
    assert result.exit_code == 0, result.output
    assert "thinkgym/Maze-v0" in result.output and "thinkgym/MazePath-v0" in result.output
    assert "one move" in result.output


def test_show_prints_problem_gold_answer_and_oracle_reward():
    result = run("show", "thinkgym/Maze-v0")
    assert result.exit_code == 0, result.output
    assert "maze/classic" in result.output and "RRRDDD" in result.output
    assert "reward: 10" in result.output
    result = run("show", "thinkgym/MazePath-v0", "--arg", "layout=random", "--arg", "rows=3", "--seed", "4")
    assert result.exit_code == 0, result.output
    assert "maze-g0/3x5-hauto/train/" in result.output and "reward: 10" in result.output


def test_show_unknown_id_and_bad_args_fail_cleanly():
    result = run("show", "thinkgym/Maz-v0")
    assert result.exit_code == 1 and "Did you mean" in result.output and "thinkgym/Maze-v0" in result.output
    result = run("show", "thinkgym/Maze-v0", "--arg", "layout=spiral")
    assert result.exit_code == 1 and "layout" in result.output
    result = run("show", "thinkgym/Maze-v0", "--arg", "no_equals_sign")
    assert result.exit_code == 2 and "KEY=VALUE" in result.output


def test_play_reaches_the_goal_from_typed_moves():
    result = run("play", "thinkgym/Maze-v0", stdin="R\nr\nright\nD\nD\nD\n")
    assert result.exit_code == 0, result.output
    assert "one of R, D" in result.output  # the permitted moves are offered
    assert "reached the goal" in result.output and "finished: return 10" in result.output


def test_play_reports_errors_truncation_and_end_of_input():
    result = run("play", "thinkgym/Maze-v0", stdin="U\nhello\nR\nR\nR\nD\n")
    assert result.exit_code == 0, result.output
    assert "wall blocks up" in result.output and "not a move" in result.output
    assert "cut off (turn limit): return 0" in result.output
    result = run("play", "thinkgym/Maze-v0", stdin="R\n")
    assert result.exit_code == 0 and "end of input" in result.output


def test_play_multiline_single_turn():
    result = run("play", "thinkgym/MazePath-v0", "--multiline", stdin="R R R\nD D D\n.\n")
    assert result.exit_code == 0, result.output
    assert "finished: return 10" in result.output


def test_demo_prints_measured_and_exact_side_by_side():
    result = run("demo", "--episodes", "150", "--no-train")  # the maze tables only, no training
    assert result.exit_code == 0, result.output
    for text in ("measured mean", "exact", "random", "oracle", "0.1389", "10.0000", "3.3333", "1.6667"):
        assert text in result.output


@pytest.mark.parametrize("command", ["list", "show", "play", "demo"])
def test_help_teaches(command):
    result = run(command, "--help")
    assert result.exit_code == 0 and "Usage" in result.output
    assert len(result.output) > 200


def test_python_dash_m_entry_point():
    out = subprocess.run([sys.executable, "-m", "thinkgym", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "thinkgym play" in out.stdout


def test_check_of_every_env_skips_one_whose_data_is_absent_and_names_why(monkeypatch):
    """``thinkgym check`` with no ids: an env that needs data this machine lacks (BFCL's) is a
    "skip" with the reason, not a failure; named explicitly it is still an error."""
    import thinkgym

    monkeypatch.delenv("THINKGYM_BFCL_DATA", raising=False)
    chosen = [thinkgym.spec("thinkgym/BFCL-v0"), thinkgym.spec("thinkgym/MazePath-v0")]
    monkeypatch.setattr(thinkgym, "list_envs", lambda *a, **k: chosen)
    result = run("check", "--skip", "vector")
    assert result.exit_code == 0, result.output
    assert "skip thinkgym/BFCL-v0" in result.output and "pip download --no-deps bfcl-eval" in result.output
    assert "ok thinkgym/MazePath-v0" in result.output
    named = run("check", "thinkgym/BFCL-v0")
    assert named.exit_code == 1 and "BFCL's data" in named.output
