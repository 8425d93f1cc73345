"""TRL adapters: datasets, reward functions, rollout_func, the tool-env adapter — and short real
GRPO / RLOO runs on a single-turn env and on the multi-turn maze (CPU, tiny model, a few steps)."""

from __future__ import annotations

import inspect
import os

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

from thinkgym.agents.tiny import TinyConfig, build_tiny, env_corpus  # noqa: E402
from thinkgym.agents.trl import (  # noqa: E402
    ThinkgymToolEnv,
    reward_funcs,
    rollout_func,
    to_dataset,
    tool_environment_factory,
)

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
SMALL = TinyConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1)


def _columns(dataset):
    return {k: list(dataset[k]) for k in dataset.column_names if k != "prompt"}


@pytest.fixture(scope="module")
def maze_tiny():
    torch.set_num_threads(1)
    corpus = env_corpus("thinkgym/Maze-v0", 4) + env_corpus("thinkgym/MazePath-v0", 2)
    return corpus


def _model(corpus):
    return build_tiny(SMALL, corpus=corpus, vocab_size=200)


def _args(cls, tmp_path, **kwargs):
    base = dict(
        output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=4, max_completion_length=8,
        max_steps=2, learning_rate=1e-3, logging_steps=1, report_to=[], save_strategy="no", disable_tqdm=True,
        gradient_checkpointing=False, bf16=False, use_cpu=True, seed=0, beta=0.0,
    )  # fmt: skip
    base.update(kwargs)
    return cls(**base)


# --------------------------------------------------------------------------------------------
# datasets and reward functions
# --------------------------------------------------------------------------------------------


def test_to_dataset_rows_are_deterministic_and_carry_the_problem():
    first = to_dataset("thinkgym/MazePath-v0", 3, seed=0, env_kwargs={"layout": "random"})
    second = to_dataset("thinkgym/MazePath-v0", 3, seed=0, env_kwargs={"layout": "random"})
    assert first.column_names == ["prompt", "env_id", "problem_id", "problem"]
    assert first["problem_id"] == second["problem_id"] and first["prompt"] == second["prompt"]
    assert all(isinstance(p, str) and "Find a path" in p for p in first["prompt"])
    chat = to_dataset("thinkgym/MazePath-v0", 1, seed=0, conversational=True)
    assert chat["prompt"][0][-1]["role"] == "user"


def test_reward_functions_are_named_per_component_and_score_completions():
    dataset = to_dataset("thinkgym/MazePath-v0", 2, seed=0, repeat=True)
    funcs = reward_funcs("thinkgym/MazePath-v0", score=False)
    assert [f.__name__ for f in funcs] == ["goal"]
    goal = funcs[0]
    assert goal(prompts=list(dataset["prompt"]), completions=["RRRDDD", "LL"], **_columns(dataset)) == [1.0, 0.0]
    conversational = [[{"role": "assistant", "content": "DDRRRD"}], [{"role": "assistant", "content": ""}]]
    assert goal(prompts=list(dataset["prompt"]), completions=conversational, **_columns(dataset)) == [1.0, 0.0]
    scaled = reward_funcs("thinkgym/MazePath-v0", score=False, weights={"goal": 10.0})[0]
    assert scaled(prompts=list(dataset["prompt"]), completions=["RRRDDD", "x"], **_columns(dataset)) == [10.0, 0.0]
    score = reward_funcs("thinkgym/MazePath-v0")  # the default: the env's own score
    assert [f.__name__ for f in score] == ["maze_path_score"]
    assert score[0](prompts=list(dataset["prompt"]), completions=["RRRDDD", "R"], **_columns(dataset)) == [10.0, 0.0]


def test_mixed_envs_get_none_where_a_reward_does_not_apply():
    single = to_dataset("thinkgym/MazePath-v0", 1, seed=0)
    multi = to_dataset("thinkgym/Maze-v0", 1, seed=0)
    funcs = reward_funcs(["thinkgym/MazePath-v0", "thinkgym/Maze-v0"], score=True)
    assert [f.__name__ for f in funcs] == ["maze_path_score", "maze_score"]
    prompts = list(single["prompt"]) + list(multi["prompt"])
    columns = {k: list(single[k]) + list(multi[k]) for k in single.column_names if k != "prompt"}
    completions = ["RRRDDD", "R R R D D D"]  # a multi-turn completion: whitespace-separated actions
    assert funcs[0](prompts=prompts, completions=completions, **columns) == [10.0, None]
    assert funcs[1](prompts=prompts, completions=completions, **columns) == [None, 10.0]


def test_token_actions_replay_each_completion_token_as_a_move(maze_tiny):
    _, tokenizer = _model(maze_tiny)
    dataset = to_dataset("thinkgym/Maze-v0", 1, seed=0)
    goal = reward_funcs("thinkgym/Maze-v0", score=False, actions="tokens", tokenizer=tokenizer)[0]
    ids = [tokenizer.convert_tokens_to_ids(m) for m in "RRRDDD"] + [tokenizer.eos_token_id]
    wrong = [tokenizer.convert_tokens_to_ids(m) for m in "DDDRRR"]
    columns = {k: list(dataset[k]) * 2 for k in dataset.column_names if k != "prompt"}
    out = goal(prompts=list(dataset["prompt"]) * 2, completions=["RRRDDD", "DDDRRR"], completion_ids=[ids, wrong], **columns)
    assert out == [1.0, 0.0]
    with pytest.raises(ValueError, match="tokenizer"):
        reward_funcs("thinkgym/Maze-v0", actions="tokens")


def test_reward_function_without_problem_columns_explains_what_to_do():
    goal = reward_funcs("thinkgym/MazePath-v0", score=False)[0]
    with pytest.raises(ValueError, match="to_dataset"):
        goal(prompts=["a prompt nobody handed out"], completions=["R"])


# --------------------------------------------------------------------------------------------
# rollout_func and the tool env adapter
# --------------------------------------------------------------------------------------------


class _FakeTrainer:
    """The attributes of GRPOTrainer that rollout_func reads."""

    def __init__(self, model, tokenizer, max_completion_length):
        self.model, self.processing_class = model, tokenizer
        self.max_completion_length = max_completion_length
        self.eos_token_ids = [tokenizer.eos_token_id]
        self.temperature = 1.0


def test_rollout_plays_whole_episodes_and_masks_environment_tokens(maze_tiny):
    model, tokenizer = _model(maze_tiny)
    dataset = to_dataset("thinkgym/Maze-v0", 1, seed=0)
    rollout = rollout_func("thinkgym/Maze-v0", max_tokens_per_turn=2)
    out = rollout(list(dataset["prompt"]) * 3, _FakeTrainer(model, tokenizer, 200))
    assert len(out["completion_ids"]) == 3
    for ids, logprobs, mask in zip(out["completion_ids"], out["logprobs"], out["env_mask"], strict=True):
        assert len(ids) == len(logprobs) == len(mask) <= 200
        assert 0 in mask and 1 in mask  # observations came back as env tokens
        assert all(lp == 0.0 for lp, m in zip(logprobs, mask, strict=True) if m == 0)
    assert all(0.0 <= s <= 10.0 for s in out["thinkgym_score"])


def test_rollout_token_actions_with_masking_only_plays_permitted_moves(maze_tiny):
    model, tokenizer = _model(maze_tiny)
    dataset = to_dataset("thinkgym/Maze-v0", 1, seed=0)
    rollout = rollout_func("thinkgym/Maze-v0", token_actions=True, restrict_to_valid_actions=True)
    out = rollout(list(dataset["prompt"]) * 16, _FakeTrainer(model, tokenizer, 6))
    import thinkgym
    from thinkgym.envs.maze import classic_maze

    maze = classic_maze()
    for ids, score in zip(out["completion_ids"], out["thinkgym_score"], strict=True):
        assert len(ids) == 6 and set(out["env_mask"][0]) == {1}
        env = thinkgym.make("thinkgym/Maze-v0")
        env.reset(seed=0)
        for token in ids:
            move = tokenizer.decode([token])
            assert move in env.valid_actions()  # never a wall
            _, reward, terminated, truncated, _ = env.step(move)
            if terminated or truncated:
                break
        assert (score == 10.0) == (env.position == maze.goal)


def test_tool_env_adapter_has_the_shape_trl_expects():
    dataset = to_dataset("thinkgym/Maze-v0", 1, seed=0, conversational=True)  # what TRL's tool loop needs
    env = tool_environment_factory("thinkgym/Maze-v0")()
    assert isinstance(env, ThinkgymToolEnv)
    # what GRPOTrainer does with environment_factory: public methods other than reset/get_reward are tools
    tools = [n for n, _ in inspect.getmembers(type(env), predicate=inspect.isfunction)
             if n not in ("reset", "get_reward") and not n.startswith("_")]  # fmt: skip
    assert tools == ["step"]
    assert env.reset(**dataset[0]) is None  # the row's prompt shows the maze: TRL must not append it again
    row = {k: v for k, v in dataset[0].items() if k != "prompt"}
    assert "Permitted moves" in env.reset(**row)  # a row without the problem gets it from reset
    for move in "RRRDDD":
        text = env.step(move)
    assert "The episode is over" in text
    assert env.get_reward() == 10.0
    assert "over" in env.step("R")  # after the end: a defined answer, no exception


# --------------------------------------------------------------------------------------------
# real trainer runs
# --------------------------------------------------------------------------------------------


def _reward_logged(trainer, name):
    return [e[f"rewards/{name}/mean"] for e in trainer.state.log_history if f"rewards/{name}/mean" in e]


def test_grpo_trains_on_a_single_turn_env(tmp_path, maze_tiny):
    from trl import GRPOConfig, GRPOTrainer

    model, tokenizer = _model(maze_tiny)
    trainer = GRPOTrainer(
        model=model, processing_class=tokenizer, reward_funcs=reward_funcs("thinkgym/MazePath-v0"),
        train_dataset=to_dataset("thinkgym/MazePath-v0", 4, seed=0, repeat=True), args=_args(GRPOConfig, tmp_path),
    )  # fmt: skip
    trainer.train()
    assert len(_reward_logged(trainer, "maze_path_score")) == 2
    assert sum("thinkgym/maze_path/goal" in e for e in trainer.state.log_history) == 2  # components logged


def test_rloo_trains_on_a_single_turn_env(tmp_path, maze_tiny):
    from trl import RLOOConfig, RLOOTrainer

    model, tokenizer = _model(maze_tiny)
    trainer = RLOOTrainer(
        model=model, processing_class=tokenizer, reward_funcs=reward_funcs("thinkgym/MazePath-v0"),
        train_dataset=to_dataset("thinkgym/MazePath-v0", 4, seed=0, repeat=True), args=_args(RLOOConfig, tmp_path),
    )  # fmt: skip
    trainer.train()
    assert len(_reward_logged(trainer, "maze_path_score")) == 2
    assert sum("thinkgym/maze_path/goal" in e for e in trainer.state.log_history) == 2  # components logged


def test_grpo_trains_on_the_multi_turn_maze_with_rollout_func(tmp_path, maze_tiny):
    from trl import GRPOConfig, GRPOTrainer

    model, tokenizer = _model(maze_tiny)
    rollout = rollout_func("thinkgym/Maze-v0", max_tokens_per_turn=2)
    seen = []

    def spy(prompts, trainer):
        out = rollout(prompts, trainer)
        seen.append((len(prompts), len(out["completion_ids"]), out["env_mask"]))
        return out

    trainer = GRPOTrainer(
        model=model, processing_class=tokenizer, reward_funcs=reward_funcs("thinkgym/Maze-v0", score=True),
        train_dataset=to_dataset("thinkgym/Maze-v0", 2, seed=0, repeat=True), rollout_func=spy,
        args=_args(GRPOConfig, tmp_path, max_completion_length=120),
    )  # fmt: skip
    trainer.train()
    assert seen and all(n_prompts == n_out == 4 for n_prompts, n_out, _ in seen)  # repeated per generation
    assert any(0 in mask for _, _, masks in seen for mask in masks)  # env tokens were masked
    assert len(_reward_logged(trainer, "maze_score")) == 2


def test_rloo_trains_on_the_multi_turn_maze_with_token_actions(tmp_path, maze_tiny):
    from trl import RLOOConfig, RLOOTrainer

    model, tokenizer = _model(maze_tiny)
    trainer = RLOOTrainer(
        model=model, processing_class=tokenizer,
        reward_funcs=reward_funcs("thinkgym/Maze-v0", score=False, actions="tokens", tokenizer=tokenizer),
        train_dataset=to_dataset("thinkgym/Maze-v0", 2, seed=0, repeat=True), args=_args(RLOOConfig, tmp_path, max_completion_length=6),
    )  # fmt: skip
    trainer.train()
    assert len(_reward_logged(trainer, "goal")) == 2


def test_grpo_mixes_math_and_maze_in_one_run(tmp_path):
    from datasets import concatenate_datasets
    from trl import GRPOConfig, GRPOTrainer

    import thinkgym

    if "thinkgym/Math-v0" not in {e.id for e in thinkgym.list_envs()}:
        pytest.skip("thinkgym/Math-v0 is not registered in this build")
    env_ids = ["thinkgym/Math-v0", "thinkgym/MazePath-v0"]
    funcs = reward_funcs(env_ids, score=False)
    names = [f.__name__ for f in funcs]
    assert {"accuracy", "format", "goal"} <= set(names)
    math_rows = to_dataset("thinkgym/Math-v0", 2, seed=0)
    maze_rows = to_dataset("thinkgym/MazePath-v0", 2, seed=0, repeat=True)
    accuracy = funcs[names.index("accuracy")]
    goal = funcs[names.index("goal")]
    prompts = list(math_rows["prompt"]) + list(maze_rows["prompt"])
    columns = {k: list(math_rows[k]) + list(maze_rows[k]) for k in math_rows.column_names if k != "prompt"}
    completions = ["no idea", "no idea", "RRRDDD", "L"]
    assert accuracy(prompts=prompts, completions=completions, **columns)[2:] == [None, None]
    assert goal(prompts=prompts, completions=completions, **columns) == [None, None, 1.0, 0.0]
    model, tokenizer = build_tiny(SMALL)
    trainer = GRPOTrainer(
        model=model, processing_class=tokenizer, reward_funcs=funcs,
        train_dataset=concatenate_datasets([math_rows, maze_rows]).shuffle(seed=0), args=_args(GRPOConfig, tmp_path),
    )  # fmt: skip
    trainer.train()
    assert len(_reward_logged(trainer, "goal")) == 2


def test_grpo_runs_with_the_environment_factory_adapter(tmp_path):
    """TRL's own tool loop with our env adapter (a tool-calling chat template TRL can parse)."""
    from pathlib import Path

    import trl
    from trl import GRPOConfig, GRPOTrainer

    model, tokenizer = build_tiny(SMALL)
    tokenizer.chat_template = (Path(trl.__file__).parent / "chat_templates" / "qwen3_instruct_2507.jinja").read_text()
    trainer = GRPOTrainer(
        model=model, processing_class=tokenizer, train_dataset=to_dataset("thinkgym/Maze-v0", 2, seed=0, conversational=True, repeat=True),
        environment_factory=tool_environment_factory("thinkgym/Maze-v0"),
        args=_args(GRPOConfig, tmp_path, max_steps=1, max_completion_length=12),
    )  # fmt: skip
    assert [t.__name__ for t in trainer.tools] == ["step"]
    trainer.train()
    assert len(_reward_logged(trainer, "ThinkgymToolEnv")) == 1  # get_reward() scored every rollout


# --------------------------------------------------------------------------------------------
# issue 14: TRL trains on what the env scores; reward functions have proper names
# --------------------------------------------------------------------------------------------


def _env_score(env_id, problem, completion):
    import thinkgym

    env = thinkgym.make(env_id)
    env.reset(options={"problem": problem})
    return env.step(completion)[1]


def _trained_rewards(tmp_path, funcs, dataset, completions, **config):
    """The reward GRPOTrainer trains on for each completion: TRL's own `_calculate_rewards` and its
    weighting (``rewards_per_func * reward_weights``, nansum), on a trainer built from the config."""
    from trl import GRPOConfig, GRPOTrainer

    model, tokenizer = build_tiny(SMALL)
    trainer = GRPOTrainer(
        model=model, processing_class=tokenizer, reward_funcs=funcs, train_dataset=dataset,
        args=_args(GRPOConfig, tmp_path, per_device_train_batch_size=3, num_generations=3, **config),
    )  # fmt: skip
    inputs = [dict(row) for row in dataset]
    per_func = trainer._calculate_rewards(inputs, [r["prompt"] for r in inputs], completions, [[1]] * len(inputs))
    rewards = (per_func * trainer.reward_weights.to(per_func.device).unsqueeze(0)).nansum(dim=1)
    return [round(float(r), 6) for r in rewards], trainer


def test_grpo_trains_on_the_envs_weighted_score_by_default(tmp_path):
    from datasets import Dataset

    rows = to_dataset("thinkgym/Math-v0", 1, seed=0)
    dataset = Dataset.from_list([dict(rows[0])] * 3)
    import thinkgym
    from thinkgym.agents.trl import problem_from_row

    problem = problem_from_row("thinkgym/Math-v0", rows[0]["problem_id"], rows[0]["problem"])

    env = thinkgym.make("thinkgym/Math-v0")
    env.reset(options={"problem": problem})
    right_formatted = env.unwrapped.oracle_action()
    wrong_formatted = "<think>\nI guess.\n</think>\n\nThe final answer is $\\boxed{987654}$."
    right_bare = f"The final answer is $\\boxed{{{problem.answer}}}$."
    completions = [right_formatted, wrong_formatted, right_bare]
    scores = [round(_env_score("thinkgym/Math-v0", problem, c), 6) for c in completions]
    assert scores[0] == 1.0 and 0 < scores[1] < 0.5 and scores[2] < 1.0  # the env weighs accuracy over format

    funcs = reward_funcs("thinkgym/Math-v0")
    assert [f.__name__ for f in funcs] == ["math_score"]
    trained, trainer = _trained_rewards(tmp_path / "default", funcs, dataset, completions)
    assert trained == scores  # a well-formatted wrong answer is worth what the env says, not 1 of 2
    logged = dict(trainer._pending_metrics)
    # the bare answer earns no accuracy: Math-v0 reads the answer after </think> only
    assert logged["thinkgym/math/accuracy"] == [pytest.approx(1 / 3)]
    assert logged["thinkgym/math/format"] == [pytest.approx(2 / 3)]

    # per component: TRL sums the functions 1:1 unless given the weights (how the README says to change it)
    parts = reward_funcs("thinkgym/Math-v0", score=False)
    assert [f.__name__ for f in parts] == ["accuracy", "format"]
    unweighted, _ = _trained_rewards(tmp_path / "parts", parts, dataset, completions)
    assert unweighted[1] == 1.0 != scores[1]
    weighted, _ = _trained_rewards(tmp_path / "weighted", parts, dataset, completions, reward_weights=[0.9, 0.1])
    assert weighted == scores


def test_reward_function_names_are_python_names_derived_from_env_ids():
    import thinkgym
    from thinkgym.agents.trl import _score_names, _short_name

    assert _short_name("thinkgym/GSM8K-v0") == "gsm8k"
    assert _short_name("thinkgym/MazePath-v0") == "maze_path"
    assert _short_name("thinkgym/MATH-v0") == "math"
    assert _short_name("mylib/BFCLSimple-v12") == "bfcl_simple"
    assert _short_name("mylib/my-env-v1") == "my_env"
    assert _short_name("mylib/3Body-v0") == "env_3body"
    ids = [spec.id for spec in thinkgym.list_envs()]
    names = _score_names(ids)
    assert all(name.isidentifier() for name in names.values())
    assert len(set(names.values())) == len(ids)  # unique even where short names collide (MATH / Math)


def test_gsm8k_reward_function_is_gsm8k_score():
    dataset = to_dataset("thinkgym/GSM8K-v0", 2, seed=0)
    funcs = reward_funcs("thinkgym/GSM8K-v0")
    assert [f.__name__ for f in funcs] == ["gsm8k_score"]
    out = funcs[0](prompts=list(dataset["prompt"]), completions=["no idea", "none"], **_columns(dataset))
    assert out == [0.0, 0.0]


def test_adapters_work_through_gymnasium_wrappers(maze_tiny):
    import gymnasium
    from gymnasium.wrappers import RecordEpisodeStatistics, TimeLimit, TransformReward

    from thinkgym.agents.trl import play_token_episodes

    model, tokenizer = _model(maze_tiny)
    wrapped = [
        gymnasium.make("thinkgym/Maze-v0"),
        RecordEpisodeStatistics(gymnasium.make("thinkgym/Maze-v0")),
        TimeLimit(gymnasium.make("thinkgym/Maze-v0"), max_episode_steps=2),
        TransformReward(gymnasium.make("thinkgym/Maze-v0"), lambda r: r + 1.0),
    ]
    prompts = [env.reset(seed=0)[0] for env in wrapped]
    torch.manual_seed(0)
    episodes = play_token_episodes(
        model, tokenizer, wrapped, prompts, max_completion_tokens=6, token_actions=True, restrict_to_valid_actions=True
    )
    assert all(e.env_id == "thinkgym/Maze-v0" and e.problem_id == "maze/classic" for e in episodes)
    assert all(set(e.actions) <= set("RLUD") for e in episodes)  # valid_actions reached through the wrappers
    assert len(episodes[2].actions) == 2 and episodes[2].truncated  # TimeLimit ended it
    assert episodes[3].step_rewards[0] >= 1.0  # the wrapped reward is what the episode records


def test_component_reward_functions_for_an_env_whose_oracle_has_no_answer():
    """reasoning-gym's boxnet has no reference answer (``oracle_action()`` is None): the component
    functions are still found (from an empty answer) and score completions."""
    pytest.importorskip("reasoning_gym")
    funcs = reward_funcs("rg/boxnet-v0", score=False)
    assert {"accuracy", "format"} <= {f.__name__ for f in funcs}
    dataset = to_dataset("rg/boxnet-v0", 1, seed=0)
    scores = {f.__name__: f(prompts=list(dataset["prompt"]), completions=["<think>x</think><answer>[]</answer>"], **_columns(dataset)) for f in funcs}
    assert scores["accuracy"] == [0.0] and scores["format"] == [1.0], scores


_ATTEMPTS: dict[tuple[str, str], int] = {}


def _flaky_verifier(completion, problem):
    """Fails to judge ("once": the first try of each completion; "always": every try), as a math
    worker pool that cannot start would; otherwise exact match."""
    from thinkgym.core import Reward

    key = (problem.id, completion)
    _ATTEMPTS[key] = _ATTEMPTS.get(key, 0) + 1
    if problem.id == "always" or (problem.id == "once" and _ATTEMPTS[key] == 1):
        return Reward.zero("the worker pool could not start", verification_failed=True)
    right = float(completion.strip() == problem.answer)
    return Reward(right, {"exact": right})


def _flaky_env(**kwargs):
    from thinkgym.core import ListSource, Problem, SingleTurnEnv

    return SingleTurnEnv(ListSource([Problem("once", "1 + 1?", "2"), Problem("always", "2 + 2?", "4")]), verifier=_flaky_verifier, **kwargs)


def test_a_reward_the_verifier_could_not_judge_is_tried_again_then_left_out():
    """A `verification_failed` reward is not a wrong answer: the reward function tries once more,
    and when that fails too the row gets None (TRL leaves it out) with a warning, never a cached 0."""
    import thinkgym

    thinkgym.register("scratch/Flaky-v0", _flaky_env, override=True, description="a verifier that fails to judge (test)")
    try:
        _judge_flaky_rows()
    finally:  # out of the registry again: tests that walk every registered env must not meet it
        import gymnasium

        from thinkgym import registry

        registry._REGISTRY.pop("scratch/Flaky-v0", None)
        gymnasium.registry.pop("scratch/Flaky-v0", None)


def _judge_flaky_rows() -> None:
    dataset = to_dataset("scratch/Flaky-v0", 2, seed=0)
    answers = {"once": "2", "always": "4"}
    completions = [answers[pid] for pid in dataset["problem_id"]]
    (score,) = reward_funcs("scratch/Flaky-v0")
    _ATTEMPTS.clear()
    with pytest.warns(RuntimeWarning, match="could not verify a completion for problem 'always' twice"):
        rewards = score(prompts=list(dataset["prompt"]), completions=completions, **_columns(dataset))
    by_id = dict(zip(dataset["problem_id"], rewards, strict=True))
    assert by_id == {"once": 1.0, "always": None}
    assert _ATTEMPTS == {("once", "2"): 2, ("always", "4"): 2}  # each failed first try was tried again
    with pytest.warns(RuntimeWarning):  # not cached: judged again (and failing again) on the next call
        score(prompts=list(dataset["prompt"]), completions=completions, **_columns(dataset))
    assert _ATTEMPTS[("always", "4")] == 4 and _ATTEMPTS[("once", "2")] == 2  # the right answer came from the cache
