"""Preference export: pairs ranked by the env's verifier, loaded by TRL's DPOTrainer for a few steps."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

from typer.testing import CliRunner  # noqa: E402

from thinkgym.agents import OraclePolicy, RandomPolicy  # noqa: E402
from thinkgym.agents.base import Generation, Policy  # noqa: E402
from thinkgym.agents.preferences import collect_preferences, save_preferences  # noqa: E402
from thinkgym.agents.tiny import TinyConfig, save_tiny  # noqa: E402
from thinkgym.cli import app  # noqa: E402


class _Failing(Policy):
    def generate(self, queries):
        return [Generation("", finish_reason="error", error="server down") for _ in queries]


def test_pairs_rank_the_verifier_best_over_worst():
    dataset, stats = collect_preferences(
        "thinkgym/MazePath-v0", [OraclePolicy(), RandomPolicy(0)], 4, samples=4, env_kwargs={"layout": "random", "rows": 3, "cols": 3}
    )
    assert stats.problems == 4 and stats.pairs == len(dataset) == 4
    assert set(dataset.column_names) >= {"prompt", "chosen", "rejected"}
    for row in dataset:
        assert row["score_chosen"] == 10.0 and row["score_rejected"] == 0.0
        assert row["chosen"] != row["rejected"]


def test_ties_and_failed_generations_are_counted_not_written():
    dataset, stats = collect_preferences("thinkgym/MazePath-v0", OraclePolicy(), 2, samples=3)
    assert len(dataset) == 0 and stats.ties == 2
    dataset, stats = collect_preferences("thinkgym/MazePath-v0", [OraclePolicy(), _Failing()], 1, samples=4)
    assert stats.errors == 2 and stats.ties == 1 and stats.error_examples == ["server down", "server down"]
    with pytest.raises(TypeError):
        collect_preferences("thinkgym/MazePath-v0", "oracle", 1)  # type: ignore[arg-type]


def test_exported_pairs_train_with_dpo(tmp_path):
    from datasets import load_from_disk
    from trl import DPOConfig, DPOTrainer

    torch.set_num_threads(1)
    dataset, _ = collect_preferences("thinkgym/MazePath-v0", [OraclePolicy(), RandomPolicy(1)], 4, samples=2,
                                     env_kwargs={"layout": "random", "rows": 3, "cols": 3})  # fmt: skip
    loaded = load_from_disk(str(save_preferences(dataset, tmp_path / "prefs")))
    assert loaded.num_rows == dataset.num_rows == 4
    model_dir = save_tiny(tmp_path / "tiny", TinyConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1))
    args = DPOConfig(output_dir=str(tmp_path / "dpo"), per_device_train_batch_size=2, max_steps=2, learning_rate=1e-3,
                     logging_steps=1, report_to=[], save_strategy="no", disable_tqdm=True, bf16=False, use_cpu=True,
                     gradient_checkpointing=False)  # fmt: skip
    # a model folder, as with a real model: DPOTrainer loads its frozen reference from the same path
    trainer = DPOTrainer(model=str(model_dir), args=args, train_dataset=loaded)
    trainer.train()
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    assert len(losses) == 2 and all(loss == loss for loss in losses)


def test_export_preferences_command(tmp_path):
    out = tmp_path / "prefs"
    result = CliRunner().invoke(app, ["export-preferences", "--env", "thinkgym/MazePath-v0", "--policy", "oracle",
                                      "--policy", "random", "--n", "3", "--samples", "2", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "3 pairs from 3 problems" in result.output
    assert (out / "preferences.jsonl").read_text().count("\n") == 3
    tied = CliRunner().invoke(app, ["export-preferences", "--env", "thinkgym/MazePath-v0", "--policy", "oracle",
                                    "--n", "1", "--out", str(tmp_path / "tied")])  # fmt: skip
    assert tied.exit_code == 1 and "no pairs" in tied.output


def test_conversational_pairs_are_chat_messages():
    dataset, _ = collect_preferences("thinkgym/MazePath-v0", [OraclePolicy(), RandomPolicy(2)], 1, samples=2,
                                     conversational=True)  # fmt: skip
    row = dataset[0]
    assert row["prompt"][-1]["role"] == "user"
    assert row["chosen"] == [{"role": "assistant", "content": "RRRDDD"}]
    assert row["rejected"][0]["role"] == "assistant"
