"""`thinkgym train` (GRPO, RLOO, PPO) and `thinkgym demo`: short real runs through the CLI."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("trl")

from typer.testing import CliRunner  # noqa: E402

from thinkgym.agents.train import TrainConfig  # noqa: E402
from thinkgym.cli import app  # noqa: E402


def _train(tmp_path, *extra):
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", "--steps", "2", "--num-generations", "4", "--n-problems", "4",
                                      "--out", str(out), *extra])  # fmt: skip
    return result, out


def _check_outputs(out, steps=2):
    rows = [json.loads(line) for line in (out / "rewards.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [float(s) for s in range(1, steps + 1)]
    assert all("reward" in r for r in rows)
    assert (out / "reward_curve.png").stat().st_size > 1000
    assert (out / "final" / "config.json").exists()
    return rows


def test_train_grpo_single_turn_with_checkpoints(tmp_path):
    result, out = _train(tmp_path, "--env", "thinkgym/MazePath-v0", "--algo", "grpo", "--max-completion-length", "8",
                         "--save-steps", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = _check_outputs(out)
    assert "rewards/goal" in rows[0]  # the component is logged next to the env's score
    assert (out / "checkpoint-1").is_dir()


def test_train_rloo_with_a_kl_penalty(tmp_path):
    result, out = _train(tmp_path, "--env", "thinkgym/MazePath-v0", "--algo", "rloo", "--max-completion-length", "8",
                         "--beta", "0.05")  # fmt: skip
    assert result.exit_code == 0, result.output
    _check_outputs(out)


def test_train_grpo_multi_turn_token_actions(tmp_path):
    result, out = _train(tmp_path, "--env", "thinkgym/Maze-v0", "--algo", "grpo", "--token-actions",
                         "--restrict-to-valid-actions", "--max-completion-length", "6")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = _check_outputs(out)
    assert all(0.0 <= r["reward"] <= 10.0 for r in rows)


def test_train_ppo(tmp_path):
    result, out = _train(tmp_path, "--env", "thinkgym/Maze-v0", "--algo", "ppo", "--token-actions",
                         "--restrict-to-valid-actions", "--max-completion-length", "6")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = _check_outputs(out)
    assert "rewards/goal" in rows[0]


def test_train_rejects_bad_settings(tmp_path):
    result, _ = _train(tmp_path, "--env", "thinkgym/MazePath-v0", "--algo", "sarsa")
    assert result.exit_code == 2 and "algo" in result.output
    result, _ = _train(tmp_path, "--env", "thinkgym/Mazee-v0")
    assert result.exit_code == 1 and "Maze" in result.output
    with pytest.raises(ValueError):
        TrainConfig(env_id="thinkgym/Maze-v0", num_generations=1)


def test_demo_tables_without_training():
    result = CliRunner().invoke(app, ["demo", "--no-train", "--episodes", "200"])
    assert result.exit_code == 0, result.output
    assert "measured vs exact" in result.output


@pytest.mark.slow
def test_demo_trains_the_tiny_model_to_the_target(tmp_path):
    """The README's main command: GRPO from scratch on the classic maze reaches >= 90 % of the optimum."""
    result = CliRunner().invoke(app, ["demo", "--episodes", "100", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "target met" in result.output
    assert (tmp_path / "demo" / "reward_curve.png").exists()
