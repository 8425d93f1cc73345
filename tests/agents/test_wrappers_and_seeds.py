"""Issue 14: every policy and the eval runner work through gymnasium's wrappers (item 1), sampling
is seeded per query so a sample never depends on its batch (item 5), and the tiny model samples by
default (item 6)."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

import gymnasium
import pytest
from gymnasium.wrappers import RecordEpisodeStatistics, TimeLimit, TransformReward

import thinkgym
from thinkgym.agents import OraclePolicy, Query, RandomPolicy, play_episode, query_for
from thinkgym.benchmarks.runner import EvalSettings, evaluate
from thinkgym.benchmarks.store import RunDir
from thinkgym.benchmarks.suites import suite_from_envs

torch = pytest.importorskip("torch")

from thinkgym.agents.hf import HFPolicy  # noqa: E402
from thinkgym.agents.tiny import build_tiny, save_tiny  # noqa: E402


class _DoubleReward(gymnasium.RewardWrapper):
    def reward(self, reward):
        return 2 * reward


class _OnlyRight(gymnasium.Wrapper):
    """A wrapper that narrows the permitted actions: helpers must ask the wrapper, not the env."""

    def valid_actions(self):
        return ["R"]


WRAPPERS = {
    "gymnasium.make": lambda env: env,
    "RecordEpisodeStatistics": RecordEpisodeStatistics,
    "TimeLimit": lambda env: TimeLimit(env, max_episode_steps=3),
    "RewardWrapper": _DoubleReward,
    "TransformReward": lambda env: TransformReward(env, lambda r: r + 1),
}


@pytest.fixture(scope="module")
def tiny():
    torch.set_num_threads(1)
    return build_tiny()


class _MoveServer(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that always answers the classic maze's optimal next move."""

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        moves_made = sum(m["role"] == "assistant" for m in body["messages"])
        move = "RRRDDD"[moves_made] if moves_made < 6 else "R"
        reply = json.dumps({
            "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": move}}],
        }).encode()  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


@pytest.fixture(scope="module")
def move_server(local_http_server):
    with local_http_server(_MoveServer) as url:
        yield url


def _policies(tiny, url):
    from thinkgym.agents.openai import OpenAIPolicy

    model, tokenizer = tiny
    return {
        "random": RandomPolicy(seed=0),
        "oracle": OraclePolicy(),
        "hf": HFPolicy(model, tokenizer, max_new_tokens=1, allowed_tokens=list("RLUD"), seed=0),
        "openai": OpenAIPolicy("mover", base_url=url, max_tokens=2),
    }


@pytest.mark.parametrize("wrapper", list(WRAPPERS))
def test_every_policy_plays_through_gymnasium_wrappers(wrapper, tiny, move_server):
    for name, policy in _policies(tiny, move_server).items():
        env = WRAPPERS[wrapper](gymnasium.make("thinkgym/Maze-v0"))
        episode = play_episode(env, policy, seed=0)
        assert episode.problem_id == "maze/classic", name
        # (hf may also end its turn at once: EOS stays allowed, and an empty move wastes the step)
        assert all(a in ("R", "L", "U", "D") or (name == "hf" and a == "") for a in episode.actions), (name, episode.actions)
        if wrapper == "TimeLimit":
            assert len(episode.actions) <= 3 and (episode.truncated or episode.terminated)
        if name in ("oracle", "openai") and wrapper != "TimeLimit":
            # the optimal path, and the reward the *wrapped* env returns
            expected = {"RewardWrapper": 20.0, "TransformReward": 10.0 + 6}.get(wrapper, 10.0)
            assert episode.total_reward == expected, (name, wrapper, episode.rewards)


def test_queries_read_hints_from_the_outermost_wrapper_that_has_them():
    env = _OnlyRight(gymnasium.make("thinkgym/Maze-v0"))
    env.reset(seed=0)
    query = query_for(env, RandomPolicy(0))
    assert query.valid_actions == ("R",)
    assert query.messages[-1]["role"] == "user" and query.problem.id == "maze/classic"
    assert all(a == "R" for a in play_episode(env, RandomPolicy(seed=1), seed=0).actions)
    assert query_for(env, OraclePolicy()).oracle_action in "RLUD"


def _register_wrapped():
    def factory():
        return RecordEpisodeStatistics(_DoubleReward(thinkgym.make("thinkgym/Maze-v0")))

    thinkgym.register("wrapped/DoubledMaze-v0", factory, description="the maze behind two wrappers", override=True)


def test_the_eval_runner_works_on_an_env_behind_wrappers(tmp_path):
    _register_wrapped()
    suite = suite_from_envs(["wrapped/DoubledMaze-v0"], n=1)
    summary = evaluate(suite, "oracle", tmp_path / "oracle", EvalSettings(progress=False, verify_workers=0))
    (record,) = list(RunDir(tmp_path / "oracle").read_samples())
    assert record["error"] is None and record["actions"] == list("RRRDDD")  # multi-turn, seen through the wrappers
    assert record["reward"] == 20.0 and summary["run"]["complete"]
    random_run = evaluate(suite, "random", tmp_path / "random", EvalSettings(progress=False, verify_workers=0, samples=3))
    assert random_run["run"]["complete"]


# --------------------------------------------------------------------------------------------
# per-query seeds
# --------------------------------------------------------------------------------------------


def _q(text: str, seed: int | None) -> Query:
    return Query(messages=({"role": "user", "content": text},), seed=seed)


def test_hf_samples_depend_on_the_query_seed_not_on_the_batch(tiny):
    model, tokenizer = tiny
    queries = [_q("go" + "!" * i, seed=100 + i) for i in range(6)]
    batched = HFPolicy(model, tokenizer, max_new_tokens=10, batch_size=6, seed=1)
    alone = HFPolicy(model, tokenizer, max_new_tokens=10, batch_size=1, seed=2)
    first = [g.text for g in batched.generate(queries)]
    assert [g.text for g in batched.generate(queries[::-1])][::-1] == first  # order in the batch
    assert [g.text for g in alone.generate(queries)] == first  # batch size; the policy's own seed unused
    assert [alone.generate([q])[0].text for q in queries[3:]] == first[3:]  # which queries share a batch
    others = [g.text for g in batched.generate([_q(q.messages[0]["content"], q.seed + 1) for q in queries])]
    assert sum(a != b for a, b in zip(first, others, strict=True)) >= 4  # another seed, other samples


def test_hf_per_query_sampling_keeps_the_sampling_logprobs(tiny):
    model, tokenizer = tiny
    policy = HFPolicy(model, tokenizer, max_new_tokens=6)
    query = _q("go", seed=5)
    generation = policy.generate([query])[0]
    recomputed = policy.sequence_logprobs(policy.prompt_ids(query), generation.token_ids)
    assert recomputed.tolist() == pytest.approx(generation.logprobs, abs=1e-4)
    cold = HFPolicy(model, tokenizer, max_new_tokens=6, temperature=0.5)
    hot = cold.generate([query])[0]
    # at temperature 0.5 the recorded log-probs are those of the sharpened distribution
    raw = cold.sequence_logprobs(cold.prompt_ids(query), hot.token_ids)
    assert hot.logprobs != pytest.approx(raw.tolist(), abs=1e-3)


def test_random_policy_answers_a_seeded_query_the_same_way_in_any_order():
    queries = [Query(messages=(), valid_actions=tuple("RLUD"), seed=s) for s in range(40)]
    forward = [g.text for g in RandomPolicy(seed=0).generate(queries)]
    backward = [g.text for g in RandomPolicy(seed=9).generate(queries[::-1])][::-1]
    assert forward == backward and len(set(forward)) == 4


def test_eval_with_a_saved_tiny_model_is_reproducible_at_any_concurrency(tmp_path):
    path = save_tiny(tmp_path / "tiny")
    suite = suite_from_envs(["thinkgym/MazePath-v0"], n=1)
    outs = []
    for concurrency in (1, 4):
        out = tmp_path / f"c{concurrency}"
        evaluate(suite, f"hf:{path}", out, EvalSettings(seed=3, samples=4, max_tokens=8, concurrency=concurrency, **{"progress": False}))
        outs.append({r["key"]: r["completion"] for r in RunDir(out).read_samples()})
    assert len(outs[0]) == 4 and outs[0] == outs[1]
    assert len(set(outs[0].values())) > 1  # the four samples of the problem differ


def test_the_saved_tiny_model_samples_by_default(tmp_path):
    from transformers import GenerationConfig

    config = GenerationConfig.from_pretrained(save_tiny(tmp_path / "tiny"))
    assert config.do_sample is True and config.temperature == 1.0
