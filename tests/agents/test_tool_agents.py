"""Policies, `thinkgym eval` and the TRL adapters on the tool env (thinkgym/ToolUse-v0).

- `OpenAIPolicy` against a local fake OpenAI-compatible server that answers with structured
  ``tool_calls`` (it follows the gold plan of the problem it is asked about): ``tools=`` is sent,
  the conversation goes back in OpenAI's shape, and the env scores the episode in full;
- `HFPolicy` renders tools and tool turns through the chat template;
- `thinkgym eval` on the tool env with every policy (random, oracle, hf tiny model, openai);
- TRL: the env's tools as typed methods (``get_json_schema`` gives the env's schemas back, MCP-style
  JSON schemas too), calls through ``env.call_tool`` in the rollout's episode, the episode scored
  with the final answer; the problem shown once; a real GRPO step with ``environment_factory`` and
  one with ``rollout_func`` (token-exact ids, tool results masked).
"""

from __future__ import annotations

import copy
import json
import os
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

import thinkgym
from thinkgym.agents import play_episode, query_for

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
ENV = "thinkgym/ToolUse-v0"

# ChatML with tools as Qwen-2.5 renders them (trim_blocks: newlines after block tags are written as '\n').
TOOL_TEMPLATE = (
    "{% if tools %}<|im_start|>system\nYou are a helpful assistant.{{ '\\n' }}\n# Tools\n<tools>"
    "{% for t in tools %}{{ '\\n' }}{{ t | tojson }}{% endfor %}{{ '\\n' }}</tools><|im_end|>\n{% endif %}"
    "{% for m in messages %}"
    "{% if m.role == 'user' or m.role == 'system' or (m.role == 'assistant' and not m.tool_calls) %}"
    "<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
    "{% elif m.role == 'assistant' %}<|im_start|>assistant{% if m.content %}{{ '\\n' }}{{ m.content }}{% endif %}"
    "{% for c in m.tool_calls %}{{ '\\n' }}<tool_call>\n{\"name\": \"{{ c.function.name }}\", \"arguments\": "
    "{{ c.function.arguments | tojson }}}\n</tool_call>{% endfor %}<|im_end|>\n"
    "{% elif m.role == 'tool' %}{% if loop.first or messages[loop.index0 - 1].role != 'tool' %}<|im_start|>user{% endif %}"
    "{{ '\\n' }}<tool_response>\n{{ m.content }}\n</tool_response>"
    "{% if loop.last or messages[loop.index0 + 1].role != 'tool' %}<|im_end|>\n{% endif %}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


# --------------------------------------------------------------------------------------------
# a fake OpenAI-compatible server that calls tools
# --------------------------------------------------------------------------------------------


def _call_message(calls: list[tuple[str, dict]], tag: str) -> dict:
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": f"call_{tag}_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        for i, (name, args) in enumerate(calls)
    ]}  # fmt: skip


def _plan_script(problem) -> list[dict]:
    """ToolUse: each gold plan step as a structured call (one per turn), then the answer."""
    steps = [_call_message([(step["tool"], step["arguments"])], f"srv{i}") for i, step in enumerate(problem.meta["plan"])]
    return [*steps, {"role": "assistant", "content": f"<answer>{problem.answer}</answer>"}]


class _ToolServer(BaseHTTPRequestHandler):
    """Answers a chat request with the next message of the script of the problem its first user
    message asks about (structured ``tool_calls`` with server-made ids, then text), the way a
    function-calling server answers when given ``tools=``."""

    scripts: dict[str, list[dict]] = {}  # prompt -> assistant messages, one per turn; filled by the tests
    requests: list[dict] = []

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        script = next((s for prompt, s in self.scripts.items() if user.startswith(prompt)), [])
        turn = sum(m["role"] == "assistant" for m in body["messages"])
        message = script[turn] if turn < len(script) else {"role": "assistant", "content": "<answer>no idea</answer>"}
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        reply = json.dumps({
            "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": finish, "message": message}],
        }).encode()  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


PROBLEMS = thinkgym.make(ENV).unwrapped.source.take(3, 0)


@pytest.fixture(scope="module")
def tool_server(local_http_server):
    _ToolServer.scripts = {p.prompt: _plan_script(p) for p in PROBLEMS}
    with local_http_server(_ToolServer) as url:
        yield url


def test_openai_policy_sends_tools_and_plays_structured_tool_calls(tool_server):
    from thinkgym.agents.openai import OpenAIPolicy

    env = thinkgym.make(ENV)
    problem = PROBLEMS[0]
    _ToolServer.requests = []
    episode = play_episode(env, OpenAIPolicy("tooler", base_url=tool_server, max_retries=0), options={"problem": problem})
    plan = problem.meta["plan"]
    assert episode.total_reward == pytest.approx(1.0) and episode.terminated
    assert len(_ToolServer.requests) == len(plan) + 1
    first = _ToolServer.requests[0]
    assert first["tools"] == env.get_wrapper_attr("tools")  # the env's schemas, as tools=
    # the action passed to the env is the protocol's "openai" text action
    assert json.loads(episode.actions[0])["tool_calls"][0]["function"]["name"] == plan[0]["tool"]
    # the next request carries the conversation in OpenAI's shape
    second = _ToolServer.requests[1]["messages"]
    assistant, tool = second[-2], second[-1]
    assert assistant["role"] == "assistant" and assistant["content"] is None  # the calls are not repeated as text
    call = assistant["tool_calls"][0]
    assert isinstance(call["function"]["arguments"], str) and json.loads(call["function"]["arguments"]) == plan[0]["arguments"]
    assert tool["role"] == "tool" and tool["tool_call_id"] == call["id"] and str(plan[0]["fact"]) in tool["content"]
    assert len(env.get_wrapper_attr("results")) == len(plan)  # every call really ran in the session


def test_openai_policy_plain_text_reply_is_the_action_and_envs_without_tools_send_none(tool_server):
    from thinkgym.agents.openai import OpenAIPolicy

    _ToolServer.requests = []
    env = thinkgym.make("thinkgym/Maze-v0")
    env.reset(seed=0)
    query = query_for(env, OpenAIPolicy("x", base_url=tool_server))
    assert query.tools is None
    generation = OpenAIPolicy("x", base_url=tool_server, max_retries=0).generate([query])[0]
    assert generation.text == "<answer>no idea</answer>" and "tools" not in _ToolServer.requests[-1]


# --------------------------------------------------------------------------------------------
# HFPolicy: tools and tool turns through the chat template
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_tools():
    import torch

    from thinkgym.agents.tiny import TinyConfig, build_tiny

    torch.set_num_threads(1)
    model, tokenizer = build_tiny(TinyConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1))
    tokenizer.chat_template = TOOL_TEMPLATE
    return model, tokenizer


def test_hf_policy_renders_tools_and_tool_turns_through_the_template(tiny_tools):
    from thinkgym.agents.hf import HFPolicy

    model, tokenizer = tiny_tools
    policy = HFPolicy(model, tokenizer, max_new_tokens=4, seed=0)
    env = thinkgym.make(ENV)
    env.reset(seed=0)
    query = query_for(env, policy)
    text = tokenizer.decode(policy.prompt_ids(query))
    assert "<tools>" in text and all(json.dumps(t) in text for t in env.get_wrapper_attr("tools"))
    env.step(env.get_wrapper_attr("oracle_action")())
    query = query_for(env, policy)
    text = tokenizer.decode(policy.prompt_ids(query))
    tool_message = query.messages[-1]
    assert tool_message["role"] == "tool"
    assert f"<tool_response>\n{tool_message['content']}\n</tool_response><|im_end|>\n<|im_start|>assistant\n" in text
    reply = text.split("<|im_start|>assistant")[1]
    assert reply.count("<tool_call>") == 1  # the structured call, not also the raw call text
    arguments = json.loads(query.messages[-2]["tool_calls"][0]["function"]["arguments"])
    assert f'"arguments": {json.dumps(arguments)}' in text  # a dict for the template, not a quoted string
    short = HFPolicy(model, tokenizer, max_new_tokens=4, seed=0, max_prompt_tokens=512)  # the tiny model's context is short
    generation = short.generate([query])[0]
    assert generation.error is None and generation.token_ids


# --------------------------------------------------------------------------------------------
# thinkgym eval on the tool env, every policy
# --------------------------------------------------------------------------------------------


def _eval(tmp_path, policy: str, n: int = 3, env_id: str = ENV) -> tuple[dict, list[dict]]:
    from rich.console import Console

    from thinkgym.benchmarks.commands import run_eval_command

    out = tmp_path / policy.split(":")[0]
    code = run_eval_command(
        policy=policy, out=str(out), suite=None, envs=[env_id], n=n, samples=1, seed=0, concurrency=2, batch_size=1,
        verify_workers=0, temperature=None, max_tokens=8, progress=False, console=Console(quiet=True), argv=["test"],
    )  # fmt: skip
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())["envs"][env_id]
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    return summary, samples


def test_eval_runs_the_tool_env_with_every_policy(tmp_path, tool_server, tiny_tools):
    from thinkgym.agents.tiny import save_tiny

    oracle, _ = _eval(tmp_path, "oracle")
    assert oracle["mean_reward"]["value"] == pytest.approx(1.0) and oracle["failed"] == 0
    random, _ = _eval(tmp_path, "random")
    assert random["mean_reward"]["value"] < 0.1 and random["failed"] == 0
    served, samples = _eval(tmp_path, f"openai:{tool_server}#tooler")
    assert served["mean_reward"]["value"] == pytest.approx(1.0) and served["failed"] == 0
    assert all(json.loads(s["actions"][0])["tool_calls"] for s in samples)  # structured calls, as actions
    folder = save_tiny(tmp_path / "tiny-model")
    hf, samples = _eval(tmp_path, f"hf:{folder}", n=2)
    assert hf["failed"] == 0 and len(samples) == 2 and all(s["actions"] for s in samples)


BFCL_DATA = Path(__file__).resolve().parent.parent / "envs" / "data" / "bfcl"


@pytest.mark.skipif(not BFCL_DATA.is_dir(), reason="the small BFCL-format files of tests/envs are not there")
def test_eval_runs_bfcl_with_every_policy_and_the_server_gets_each_problems_tools(tmp_path, monkeypatch, tool_server, tiny_tools):
    """BFCL-v0 (single turn, its own functions per problem): the server gets them as tools= and
    answers with structured calls (the gold ones, from the env's oracle), which BFCL's AST rules
    judge; every policy runs through `thinkgym eval`."""
    from thinkgym.agents.tiny import save_tiny
    from thinkgym.tools import parse_tool_calls

    monkeypatch.setenv("THINKGYM_BFCL_DATA", str(BFCL_DATA))
    env = thinkgym.make("thinkgym/BFCL-v0")
    problems = env.unwrapped.source.take(3, 0)
    tools_of = {}
    for problem in problems:
        _, info = env.reset(options={"problem": problem})
        user = next(m["content"] for m in info["messages"] if m["role"] == "user")
        calls = parse_tool_calls(env.get_wrapper_attr("oracle_action")()).calls
        names = {t["function"]["name"] for t in env.get_wrapper_attr("tools")}
        served = [(c.name if c.name in names else c.name.replace(".", "_"), c.arguments) for c in calls]
        _ToolServer.scripts[user] = [_call_message(served, "bfcl")] if served else [{"role": "assistant", "content": "No call fits."}]
        tools_of[user] = env.get_wrapper_attr("tools")
    _ToolServer.requests = []
    results = {}
    for policy in ("oracle", "random", f"openai:{tool_server}#tooler", f"hf:{save_tiny(tmp_path / 'tiny-model')}"):
        summary, samples = _eval(tmp_path / policy.split(":")[0], policy, env_id="thinkgym/BFCL-v0")
        assert summary["failed"] == 0 and len(samples) == 3
        results[policy.split(":")[0]] = summary["mean_reward"]["value"]
    assert results["oracle"] == 1.0 and results["openai"] == 1.0
    for request in _ToolServer.requests:
        user = next(m["content"] for m in request["messages"] if m["role"] == "user")
        assert request["tools"] == tools_of[user]  # each problem's own functions


# --------------------------------------------------------------------------------------------
# TRL: tools as typed methods
# --------------------------------------------------------------------------------------------

MCP_STYLE = {
    "type": "function",
    "function": {
        "name": "book-flight",
        "description": "Book a flight.\nArgs: are checked by the server.",
        "parameters": {
            "type": "object",
            "properties": {
                "from-city": {"type": "string", "description": "where from"},
                "class": {"type": "string", "enum": ["economy", "business"], "description": "cabin"},
                "passengers": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
                "when": {"anyOf": [{"type": "string"}, {"type": "integer"}], "description": "date or timestamp"},
                "seats": {"type": "integer", "minimum": 1, "maximum": 9, "description": "how many"},
                "note": {"type": ["string", "null"], "description": "free text"},
            },
            "required": ["from-city", "class"],
        },
    },
}


def test_tool_methods_give_back_the_envs_schemas():
    pytest.importorskip("transformers")
    from transformers.utils import get_json_schema

    from thinkgym.agents.trl_tools import tool_method

    env = thinkgym.make(ENV)
    for schema in env.get_wrapper_attr("tools"):
        assert get_json_schema(tool_method(schema)) == schema


def test_json_schema_tools_become_callable_methods_with_valid_names():
    pytest.importorskip("transformers")
    import inspect

    from transformers.utils import get_json_schema

    from thinkgym.agents.trl_tools import tool_method

    method = tool_method(MCP_STYLE)
    assert method.__name__ == "book-flight"
    assert list(inspect.signature(method).parameters) == ["self", "from_city", "class_", "passengers", "when", "seats", "note"]
    got = get_json_schema(method)["function"]
    properties = got["parameters"]["properties"]
    assert got["parameters"]["required"] == ["from_city", "class_"]
    assert properties["class_"]["enum"] == ["economy", "business"] and properties["from_city"]["type"] == "string"
    assert properties["when"]["type"] == ["integer", "string"] and properties["when"]["description"].startswith("date or timestamp")
    assert properties["note"]["type"] == "string" and properties["note"]["nullable"] is True
    # what a signature cannot say is in the description, as JSON
    assert '"maximum": 9' in properties["seats"]["description"] and '"name"' in properties["passengers"]["description"]
    assert got["description"].startswith("Book a flight.")

    class Recorder:
        def _call(self, name, arguments):
            return json.dumps([name, arguments])

    name, arguments = json.loads(method(Recorder(), from_city="Oslo", class_="business", seats=2))
    assert name == "book-flight" and arguments == {"from-city": "Oslo", "class": "business", "seats": 2}


def test_reserved_tool_names_are_refused():
    from thinkgym.agents.trl_tools import tool_method
    from thinkgym.errors import ConfigError

    for name in ("reset", "get_reward", "_hidden"):
        bad = copy.deepcopy(MCP_STYLE)
        bad["function"]["name"] = name
        with pytest.raises(ConfigError, match="rename the tool"):
            tool_method(bad)


def test_environment_factory_adapter_runs_calls_in_the_episode_and_scores_the_final_answer():
    from thinkgym.agents.trl import reward_funcs, to_dataset
    from thinkgym.agents.trl_tools import ThinkgymTools, tool_environment_factory

    dataset = to_dataset(ENV, 2, seed=0, conversational=True)
    factory = tool_environment_factory(ENV)
    adapters = [factory(), factory()]
    assert isinstance(adapters[0], ThinkgymTools)
    tools = {n for n in dir(type(adapters[0])) if not n.startswith("_") and n not in ("reset", "get_reward")}
    assert tools == {t["function"]["name"] for t in thinkgym.make(ENV).get_wrapper_attr("tools")}
    assert not hasattr(adapters[0], "get_reward")  # the reward needs the final answer: reward_funcs gives it
    completions = []
    for adapter, row in zip(adapters, dataset, strict=True):
        assert adapter.reset(**row) is None  # the row's prompt shows the problem: TRL must not add it again
        problem = adapter._env.get_wrapper_attr("problem")
        for step in problem.meta["plan"]:  # what TRL does with a parsed call: method(**arguments)
            assert str(step["fact"]) in getattr(adapter, step["tool"])(**step["arguments"])
        completions.append([{"role": "assistant", "content": f"<answer>{problem.answer}</answer>"}])
    completions[1] = [{"role": "assistant", "content": "<answer>0</answer>"}]
    score = reward_funcs(ENV)[0]
    columns = {k: list(dataset[k]) for k in dataset.column_names if k != "prompt"}
    rewards = score(prompts=list(dataset["prompt"]), completions=completions, environments=adapters, **columns)
    assert rewards[0] == pytest.approx(1.0) and rewards[1] < 1.0  # session-verified calls, wrong answer
    assert score(prompts=list(dataset["prompt"]), completions=completions, environments=adapters, **columns) == rewards
    assert "over" in adapters[0].lookup(entity="x", attribute="y")  # after the end: a defined answer
    from thinkgym.errors import ConfigError

    with pytest.raises(ConfigError, match="conversational=True"):
        adapters[0].reset(**to_dataset(ENV, 1, seed=0)[0])  # plain-text prompts: TRL's tool loop cannot use them


def test_environment_factory_adapter_refuses_tools_that_change_per_problem(monkeypatch):
    from thinkgym.agents.trl import to_dataset
    from thinkgym.agents.trl_tools import tool_environment_factory
    from thinkgym.errors import ConfigError

    adapter = tool_environment_factory(ENV)()
    extra = copy.deepcopy(MCP_STYLE)
    extra["function"]["name"] = "teleport"
    env_cls = type(adapter._env.unwrapped)
    monkeypatch.setattr(env_cls, "tools", property(lambda self: [*self.toolbox.schemas, extra]))
    with pytest.raises(ConfigError, match="rollout_func"):
        adapter.reset(**to_dataset(ENV, 1, seed=0, conversational=True)[0])


def test_grpo_with_environment_factory_on_the_tool_env_shows_the_problem_once(tmp_path, tiny_tools):
    pytest.importorskip("trl")
    import trl
    from trl import GRPOConfig, GRPOTrainer

    from thinkgym.agents.tiny import TinyConfig, build_tiny
    from thinkgym.agents.trl import reward_funcs, to_dataset
    from thinkgym.agents.trl_tools import tool_environment_factory

    model, tokenizer = build_tiny(TinyConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1))
    tokenizer.chat_template = (Path(trl.__file__).parent / "chat_templates" / "qwen3_instruct_2507.jinja").read_text()
    dataset = to_dataset(ENV, 2, seed=0, conversational=True)
    trainer = GRPOTrainer(
        model=model, processing_class=tokenizer, train_dataset=dataset, reward_funcs=reward_funcs(ENV),
        environment_factory=tool_environment_factory(ENV),
        args=GRPOConfig(
            output_dir=str(tmp_path), per_device_train_batch_size=2, num_generations=2, max_completion_length=12,
            max_steps=1, learning_rate=1e-3, logging_steps=1, report_to=[], save_strategy="no", disable_tqdm=True,
            use_cpu=True, seed=0, beta=0.0,
        ),
    )  # fmt: skip
    assert sorted(t.__name__ for t in trainer.tools) == ["calculator", "lookup", "python", "search", "unit_convert"]
    seen = []
    generate = trainer._generate

    def spy(prompts):
        seen.extend(copy.deepcopy(prompts))
        return generate(prompts)

    trainer._generate = spy
    trainer.train()
    problems = {p: thinkgym.make(ENV).unwrapped.source.take(2, 0)[i].prompt for i, p in enumerate(dataset["problem_id"])}
    assert seen
    for prompt in seen:
        text = "".join(m["content"] for m in prompt)
        assert sum(text.count(p) for p in problems.values()) == 1  # once, not twice
    assert any("thinkgym_score" in k or "tool_use_score" in k for e in trainer.state.log_history for k in e)


# --------------------------------------------------------------------------------------------
# TRL: rollout_func on the tool env, token-exact
# --------------------------------------------------------------------------------------------


def test_rollout_episodes_on_the_tool_env_are_the_templates_ids(tiny_tools):
    from thinkgym.agents.trl import to_dataset
    from thinkgym.agents.trl_rollout import play_token_episodes

    model, tokenizer = tiny_tools
    rows = to_dataset(ENV, 2, seed=0, conversational=True)
    envs = []
    for problem_json in rows["problem"]:
        env = thinkgym.make(ENV)
        data = json.loads(problem_json)
        env.reset(options={"problem": thinkgym.core.Problem(data["id"], data["prompt"], data["answer"], data["meta"])})
        envs.append(env)
    episodes = play_token_episodes(
        model, tokenizer, envs, list(rows["prompt"]), max_completion_tokens=6000, max_tokens_per_turn=6,
        eos_token_ids=[tokenizer.eos_token_id],
    )  # fmt: skip
    for env, prompt, episode in zip(envs, rows["prompt"], episodes, strict=True):
        tools = env.get_wrapper_attr("tools")
        prompt_text = tokenizer.apply_chat_template(prompt, tools=tools, tokenize=False, add_generation_prompt=True)
        assert tokenizer.decode(episode.prompt_ids) == prompt_text and "<tools>" in prompt_text
        assert len(episode.actions) >= 2 and episode.truncated  # the tiny model's junk runs out of turns
        # rebuild the conversation from what the model said and what the env answered
        history = list(prompt)
        messages = env.get_wrapper_attr("messages")
        assistant_at = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
        for turn, (action, at) in enumerate(zip(episode.actions, assistant_at, strict=False)):
            history.append({"role": "assistant", "content": action})
            following = assistant_at[turn + 1] if turn + 1 < len(assistant_at) else len(messages)
            history.extend(messages[at + 1 : following])
        closed = len(assistant_at) == len(episode.actions) and not (episode.terminated or episode.truncated)
        expected = tokenizer.apply_chat_template(history, tools=tools, tokenize=False, add_generation_prompt=closed)
        full = tokenizer.decode(episode.prompt_ids + episode.completion_ids)
        assert expected.startswith(full)  # the episode's text is the template's, as far as it went
        assert "<|im_end|><|im_start|>" not in full  # the template's newline is there
        # the env's tokens are masked, the model's are not
        model_text = tokenizer.decode([t for t, m in zip(episode.completion_ids, episode.env_mask, strict=True) if m])
        assert "<|im_start|>user" not in model_text and episode.template_drift == []


def test_grpo_with_rollout_func_on_the_tool_env_masks_tool_results(tmp_path, tiny_tools):
    pytest.importorskip("trl")
    from trl import GRPOConfig, GRPOTrainer

    from thinkgym.agents.trl import reward_funcs, to_dataset
    from thinkgym.agents.trl_rollout import rollout_func

    model, tokenizer = tiny_tools
    rollout = rollout_func(ENV, max_tokens_per_turn=4)
    seen = []

    def spy(prompts, trainer):
        out = rollout(prompts, trainer)
        seen.append(out)
        return out

    trainer = GRPOTrainer(
        model=model, processing_class=tokenizer, train_dataset=to_dataset(ENV, 2, seed=0, conversational=True),
        reward_funcs=reward_funcs(ENV), rollout_func=spy,
        args=GRPOConfig(
            output_dir=str(tmp_path), per_device_train_batch_size=2, num_generations=2, max_completion_length=300,
            max_steps=1, learning_rate=1e-3, logging_steps=1, report_to=[], save_strategy="no", disable_tqdm=True,
            use_cpu=True, seed=0, beta=0.0,
        ),
    )  # fmt: skip
    trainer.train()
    out = seen[0]
    for prompt_ids, ids, mask in zip(out["prompt_ids"], out["completion_ids"], out["env_mask"], strict=True):
        assert "<tools>" in tokenizer.decode(prompt_ids)  # the tools are in the prompt, through the template
        env_text = tokenizer.decode([t for t, m in zip(ids, mask, strict=True) if not m])
        assert env_text.startswith("<|im_end|>\n<|im_start|>user\n") or env_text.startswith("\n<|im_start|>user\n")
    assert any("tool_use_score" in k for e in trainer.state.log_history for k in e)


def test_rollout_of_a_tool_calling_policy_is_token_exact_with_tool_results_masked(tiny_tools, monkeypatch):
    """A policy that follows the gold plan (the sampler replaced by the env's oracle, written as the
    model would write it): the episode's ids are the template's rendering of the whole tool
    conversation, the tool results are masked, the reward is the env's full score."""
    from thinkgym.agents import trl_rollout
    from thinkgym.agents.trl import to_dataset

    _, tokenizer = tiny_tools
    rows = to_dataset(ENV, 2, seed=0, conversational=True)
    envs = []
    for problem_id in rows["problem_id"]:
        env = thinkgym.make(ENV)
        env.reset(options={"problem": next(p for p in PROBLEMS if p.id == problem_id)})
        envs.append(env)
    eos = tokenizer.eos_token_id

    active_envs = list(envs)
    monkeypatch.setattr(trl_rollout, "sample_turns", lambda model, tok, contexts, **kw: [
        (ids, [0.0] * len(ids)) for ids in (
            tok.encode(e.get_wrapper_attr("oracle_action")(), add_special_tokens=False) + [eos]
            for e in active_envs if not e.get_wrapper_attr("done")
        )
    ])  # fmt: skip
    episodes = trl_rollout.play_token_episodes(None, tokenizer, envs, list(rows["prompt"]), max_completion_tokens=20_000, eos_token_ids=[eos])
    for env, prompt, episode in zip(envs, rows["prompt"], episodes, strict=True):
        assert episode.terminated and episode.score == pytest.approx(1.0) and episode.template_drift == []
        history = list(prompt)
        for message in env.get_wrapper_attr("messages")[len(prompt) :]:
            raw = {"role": "assistant", "content": message["content"]} if message["role"] == "assistant" else message
            history.append(raw)  # the model's own text (its Hermes calls), the env's tool messages
        tools = env.get_wrapper_attr("tools")
        rendered = tokenizer.apply_chat_template(history, tools=tools, tokenize=False)
        full = episode.prompt_ids + episode.completion_ids
        assert tokenizer.decode(full) + "\n" == rendered  # the template closes the last turn with its newline
        assert full == tokenizer.encode(rendered, add_special_tokens=False)[:-1]  # token for token
        masked = tokenizer.decode([t for t, m in zip(episode.completion_ids, episode.env_mask, strict=True) if not m])
        for result in (m["content"] for m in history if m["role"] == "tool"):
            assert f"<tool_response>\n{result}\n</tool_response>" in masked  # tool output is not trained on
        trained = tokenizer.decode([t for t, m in zip(episode.completion_ids, episode.env_mask, strict=True) if m])
        assert "<tool_response>" not in trained and trained.count("<tool_call>") == len(env.get_wrapper_attr("results"))
