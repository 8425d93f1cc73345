"""`thinkgym pipeline` (issue 17): the held-out split, the reward-model env wrapper, the exact
baseline, and every stage of a ``--quick`` run measured on mazes no stage trained on."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("trl")

from thinkgym.agents.pipeline.data import (  # noqa: E402
    POOL_ENV_ID,
    MazeSplit,
    evaluate,
    layout_key,
    observation,
    oracle_completion,
    references,
    register_pool_env,
    split_mazes,
)
from thinkgym.agents.pipeline.run import PipelineConfig, run_pipeline  # noqa: E402
from thinkgym.registry import make  # noqa: E402

# ---------------------------------------------------------------------------------------------
# The split: disjoint seeds and layouts
# ---------------------------------------------------------------------------------------------


def test_split_is_disjoint_by_problem_id_and_by_layout():
    split = split_mazes(3, 3, 400, 80, seed=0)
    assert len(split.train) == 400 and len(split.heldout) == 80
    assert all("/train/" in p.id for p in split.train) and all("/test/" in p.id for p in split.heldout)
    held = {layout_key(p) for p in split.heldout}
    assert not held & {layout_key(p) for p in split.train}
    assert len({layout_key(p) for p in split.train}) == len(split.train)  # no repeated training layout
    # 3x3 mazes repeat across seeds: some training draws had a held-out layout and were dropped
    assert split.dropped_duplicates > 0


def test_assert_disjoint_catches_a_held_out_layout_in_training():
    split = split_mazes(3, 3, 50, 20, seed=1)
    leaked = MazeSplit(3, 3, split.train + [split.heldout[3]], split.heldout)
    with pytest.raises(AssertionError, match="problem ids"):
        leaked.assert_disjoint()
    # the same layout under another id is caught too
    from thinkgym.core import Problem

    copy = Problem("maze-g0/3x3-hauto/train/999999", split.heldout[5].prompt, None, dict(split.heldout[5].meta))
    with pytest.raises(AssertionError, match="layout"):
        MazeSplit(3, 3, split.train + [copy], split.heldout).assert_disjoint()


def test_oracle_demonstrations_reach_the_goal_on_every_training_maze():
    split = split_mazes(3, 3, 60, 10, seed=2)
    env = make("thinkgym/Maze-v0", **split.env_kwargs)
    for problem in split.train:
        env.reset(options={"problem": problem})
        total = 0.0
        for move in oracle_completion(problem):
            _, reward, terminated, truncated, _ = env.step(move)
            total += reward
        assert terminated and total == 10.0


# ---------------------------------------------------------------------------------------------
# The pool env (what the RL stages train on) and the reward-model wrapper
# ---------------------------------------------------------------------------------------------


def test_pool_env_draws_only_training_mazes_and_reports_the_reward_model_beside_the_truth():
    split = split_mazes(3, 3, 30, 10, seed=3)
    seen: list[tuple[float, float]] = []
    env = make(register_pool_env(), **split.env_kwargs, pool=tuple(split.train),
               scorer=lambda prompt, moves: 7.5 if "G" in prompt and moves else -1.0, record=lambda r, t: seen.append((r, t)))
    train_ids = {p.id for p in split.train}
    for seed in range(20):
        _, info = env.reset(seed=seed)
        assert info["problem_id"] in train_ids
    problem = split.train[0]
    env.reset(options={"problem": problem})
    rewards = []
    for move in oracle_completion(problem):
        _, reward, terminated, truncated, info = env.step(move)
        rewards.append(reward)
    # intermediate steps earn 0; the episode's reward is the reward model's, the truth stays in info
    assert rewards[:-1] == [0.0] * (len(rewards) - 1) and rewards[-1] == 7.5
    assert info["true_reward"] == 10.0 and info["reward_components"]["goal"] == 1.0
    assert seen == [(7.5, 10.0)]
    # a wandering episode: the reward model still pays, the env does not (what reward hacking exploits)
    env.reset(options={"problem": problem})
    while True:
        moves = env.unwrapped.valid_actions()
        _, reward, terminated, truncated, info = env.step(moves[0] if moves[0] != oracle_completion(problem)[0] else moves[-1])
        if terminated or truncated:
            break
    if not terminated:
        assert reward == 7.5 and info["true_reward"] == 0.0


def test_pool_env_with_defaults_is_the_random_maze():
    env = make(POOL_ENV_ID if POOL_ENV_ID in _ids() else register_pool_env())
    _, info = env.reset(seed=0)
    assert "/train/" in info["problem_id"]


def _ids() -> set[str]:
    from thinkgym.registry import list_envs

    return {s.id for s in list_envs()}


def test_a_non_finite_reward_model_score_earns_zero():
    split = split_mazes(3, 3, 5, 5, seed=4)
    env = make(register_pool_env(), **split.env_kwargs, pool=tuple(split.train), scorer=lambda p, m: float("nan"))
    env.reset(seed=0)
    problem = env.unwrapped.problem
    for move in oracle_completion(problem):
        _, reward, terminated, _, _ = env.step(move)
    assert terminated and reward == 0.0


# ---------------------------------------------------------------------------------------------
# The baseline: a model with constant logits is the env's uniform policy
# ---------------------------------------------------------------------------------------------


def test_evaluation_of_a_constant_model_matches_the_exact_uniform_return():
    import torch

    from thinkgym.agents.tiny import TinyConfig, build_tiny

    split = split_mazes(3, 3, 10, 200, seed=5)
    prompts = [observation(p, split.env_kwargs) for p in split.train]  # short BPE prompts: a fast test
    model, tokenizer = build_tiny(TinyConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1), corpus=prompts)
    with torch.no_grad():
        model.lm_head.weight.zero_()  # every move equally likely: the uniform policy
    refs = references(split.heldout, split.env_kwargs)
    ev = evaluate(model, tokenizer, split.heldout, split.env_kwargs, seed=0)
    assert refs["optimum"] == 10.0 and 1.0 < refs["uniform"] < 3.5
    assert abs(ev.mean - refs["uniform"]) < 3 * ev.se + 0.05, (ev.mean, ev.se, refs)
    assert 0 < ev.fraction < 0.5 and math.isclose(ev.fraction, ev.mean / 10.0)


def test_observation_is_the_env_first_observation():
    split = split_mazes(3, 3, 2, 2, seed=6)
    text = observation(split.heldout[0], split.env_kwargs)
    assert text.startswith("Reach G.") and "Permitted moves" in text


def test_a_saved_model_folder_is_the_same_code_path_and_tokenizes_as_it_was_saved(tmp_path):
    """``--model PATH``: the folder loads back with the tokenizer it was saved with (AutoTokenizer
    would swap in the architecture's own class and re-split the maze drawing)."""
    from thinkgym.agents.pipeline.run import PipelineRun, base_stage
    from thinkgym.agents.pipeline.stages import load_policy, save
    from thinkgym.agents.tiny import TinyConfig, build_tiny

    split = split_mazes(3, 3, 20, 5, seed=7)
    prompts = [observation(p, split.env_kwargs) for p in split.train]
    model, tokenizer = build_tiny(TinyConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1), corpus=prompts)
    save(model, tokenizer, tmp_path / "saved")
    _, loaded = load_policy(tmp_path / "saved")
    assert loaded.encode(prompts[0]) == tokenizer.encode(prompts[0]) and len(tokenizer.encode(prompts[0])) < 80
    lines: list[str] = []
    run = PipelineRun(PipelineConfig(output_dir=tmp_path / "run", model=str(tmp_path / "saved"), n_train=20,
                                     n_heldout=20, seed=7), lines.append)
    base_stage(run)
    assert (tmp_path / "run" / "base" / "config.json").exists()
    assert run.result.stages[0].stage == "base" and 0.0 <= run.result.stages[0].mean <= 10.0
    assert "uniform policy" in lines[0]


# ---------------------------------------------------------------------------------------------
# Every stage, --quick: each learns something real, measured on held-out mazes
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("pipeline")
    config = PipelineConfig.quick(output_dir=out, n_train=700, n_heldout=120, rm_mazes=160, rm_heldout_mazes=60)
    lines: list[str] = []
    return run_pipeline(config, log=lines.append), out, lines


def test_quick_run_writes_the_table_plot_and_every_stage_model(quick_run):
    result, out, lines = quick_run
    assert [s.stage for s in result.stages] == ["base", "SFT", "PPO (beta=0.05)", "PPO (beta=0)", "GRPO", "DPO"]
    for stage in result.stages:
        assert stage.path and (out / stage.path.split(str(out) + "/")[-1] / "config.json").exists(), stage
    assert (out / "reward_model" / "config.json").exists()
    assert (out / "curves.png").stat().st_size > 10_000 and (out / "results.json").exists()
    table = (out / "results.md").read_text()
    assert "uniform policy (exact)" in table and "optimum (exact)" in table and "| SFT |" in table
    assert any("standing in for the human labeler" in line for line in lines)
    assert result.machine["cpus"] >= 1 and len(result.machine["load_avg"]) == 3


def test_base_stage_is_near_the_exact_uniform_return(quick_run):
    result, _, _ = quick_run
    base = result.stage("base")
    assert abs(base.mean - result.references["uniform"]) < 4 * base.se + 0.5


def test_sft_stage_beats_the_uniform_policy_on_held_out_mazes(quick_run):
    result, _, _ = quick_run
    sft = result.stage("SFT")
    assert sft.mean - 2 * sft.se > result.references["uniform"], (sft, result.references)
    assert sft.greedy_mean > result.references["uniform"] + 2.0


def test_reward_model_ranks_held_out_pairs(quick_run):
    result, _, _ = quick_run
    assert result.pairs["heldout"] >= 20 and result.pairs["train"] >= 50
    assert result.rm_accuracy_heldout >= 0.75, result.rm_accuracy_heldout  # chance is 0.5


def test_reward_hacking_is_measured_during_ppo(quick_run):
    result, _, _ = quick_run
    for name in ("PPO (beta=0.05)", "PPO (beta=0)"):
        steps = result.hacking[name]
        assert len(steps) == result.config["ppo_steps"]
        for row in steps:
            assert 0.0 <= row["disagreement"] <= 1.0 and math.isclose(row["gap"], row["rm_reward"] - row["true_reward"])
        assert set(result.disagreements[name]) >= {"rm_says_goal_env_not", "env_says_goal_rm_not", "examples"}


@pytest.mark.parametrize("stage", ["PPO (beta=0.05)", "PPO (beta=0)", "GRPO", "DPO"])
def test_rl_stages_stay_above_the_uniform_policy_on_held_out_mazes(quick_run, stage):
    result, _, _ = quick_run
    row = result.stage(stage)
    assert row.mean - 2 * row.se > result.references["uniform"], (row, result.references)


# ---------------------------------------------------------------------------------------------
# The command and the example script
# ---------------------------------------------------------------------------------------------


def test_cli_pipeline_passes_its_options_to_the_pipeline(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    import thinkgym.agents.pipeline.run as run_module
    from thinkgym.cli import app

    seen = {}

    def fake_run(config, log):  # the wiring only: the real run is the quick_run fixture above
        seen["config"] = config
        raise SystemExit(0)

    monkeypatch.setattr(run_module, "run_pipeline", fake_run)
    result = CliRunner().invoke(app, ["pipeline", "--quick", "--out", str(tmp_path), "--rows", "4", "--cols", "4",
                                      "--beta", "0.1", "--no-beta0", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    config = seen["config"]
    assert (config.rows, config.cols, config.ppo_beta, config.ppo_beta0, config.device) == (4, 4, 0.1, False, "cpu")
    assert config.n_train == PipelineConfig.quick().n_train and str(config.output_dir) == str(tmp_path)


def test_example_script_parses_its_options():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "maze_pipeline.py"
    spec = importlib.util.spec_from_file_location("maze_pipeline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    args = module.parse_args(["--quick", "--model", "some/folder", "--device", "cuda"])
    assert args.quick and args.model == "some/folder" and args.device == "cuda"
