"""Token-exact multi-turn: the ids of an episode are exactly what the model's own chat template
writes, turn after turn — checked on several real template behaviours, with byte-level BPE
tokenizers trained locally (no hub), the way Qwen and Llama tokenizers work:

- ChatML as Qwen-2.5 writes it, with tools in the system block and ``tool`` results folded into a
  user turn of ``<tool_response>`` blocks;
- Llama-3 headers (``<|start_header_id|>``, ``<|eot_id|>``, a BOS, content ``trim``-med);
- a Qwen3-style template that drops the ``<think>`` reasoning of turns before the last user message
  (not prefix-stable: reported as drift, never silently replaced by another format).

Each is written here as a jinja string; TRL's copies of the real templates (qwen2_5, llama3, qwen3)
are checked the same way when TRL is installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("transformers")

import thinkgym  # noqa: E402
from thinkgym.envs import token as token_module  # noqa: E402
from thinkgym.envs.token import (  # noqa: E402
    ChatTranscript,
    TemplateDriftError,
    TemplateDriftWarning,
    TokenEnv,
)

# ChatML as Qwen-2.5 renders it (tools block, tool_calls, tool results grouped into one user turn).
QWEN25 = (
    "{% if tools %}<|im_start|>system\n{% if messages[0].role == 'system' %}{{ messages[0].content }}"
    "{% else %}You are a helpful assistant.{% endif %}{{ '\\n' }}\n# Tools\n<tools>{% for t in tools %}{{ '\\n' }}{{ t | tojson }}"
    "{% endfor %}{{ '\\n' }}</tools><|im_end|>\n"
    "{% elif messages[0].role == 'system' %}<|im_start|>system\n{{ messages[0].content }}<|im_end|>\n{% endif %}"
    "{% for m in messages %}"
    "{% if m.role == 'user' or (m.role == 'system' and not loop.first) or (m.role == 'assistant' and not m.tool_calls) %}"
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

# Llama-3: a BOS, role headers, content trimmed, <|eot_id|> ends every turn.
LLAMA3 = (
    "{% for m in messages %}{% set content = '<|start_header_id|>' + m['role'] + '<|end_header_id|>\n\n'"
    " + m['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}"
    "{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)

# Qwen3-style: assistant turns after the last user message keep their <think> block; earlier ones lose it.
QWEN3 = (
    "{% set ns = namespace(last=-1) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.last = loop.index0 %}"
    "{% endif %}{% endfor %}"
    "{% for m in messages %}{% if m.role == 'assistant' %}{% set content = m.content %}{% set reasoning = '' %}"
    "{% if '</think>' in content %}{% set reasoning = content.split('</think>')[0].split('<think>')[-1].strip('\n') %}"
    "{% set content = content.split('</think>')[-1].lstrip('\n') %}{% endif %}"
    "{% if loop.index0 > ns.last and reasoning %}<|im_start|>assistant\n<think>\n{{ reasoning }}\n</think>\n\n{{ content }}"
    "{% else %}<|im_start|>assistant\n{{ content }}{% endif %}<|im_end|>\n"
    "{% else %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

SPECIALS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|start_header_id|>",
    "<|end_header_id|>", "<|eot_id|>",
]  # fmt: skip
#: Added but not special (as in Qwen): the model writes them as text.
MARKUP = ["<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"]


def _corpus() -> list[str]:
    env = thinkgym.make("thinkgym/Maze-v0")
    texts = []
    for seed in range(4):
        obs, _ = env.reset(seed=seed)
        texts.append(obs)
        for move in "RDLU":
            texts.append(env.step(move)[0])
    texts += ["You are a helpful assistant.", '{"name": "add", "arguments": {"a": 1, "b": 2}}', "I go right\n\nR"]
    return texts


def _tokenizer(template: str, eos: str, bos: str | None = None):
    """A byte-level BPE tokenizer (as Qwen's and Llama's are) trained here on maze text."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    core.train_from_iterator(_CORPUS, trainer=trainer)
    core.add_tokens(MARKUP)
    tok = PreTrainedTokenizerFast(tokenizer_object=core, eos_token=eos, pad_token="<|endoftext|>", bos_token=bos)
    tok.chat_template = template
    return tok


_CORPUS = _corpus()
FAMILIES = {
    "qwen2.5": (QWEN25, "<|im_end|>", None),
    "llama3": (LLAMA3, "<|eot_id|>", "<|begin_of_text|>"),
    "qwen3": (QWEN3, "<|im_end|>", None),
}
_TRL_TEMPLATES = {"qwen2.5": "qwen2_5.jinja", "llama3": "llama3.jinja", "qwen3": "qwen3.jinja"}


def _real_template(family: str) -> str | None:
    try:
        import trl
    except ImportError:
        return None
    path = Path(trl.__file__).parent / "chat_templates" / _TRL_TEMPLATES[family]
    return path.read_text() if path.exists() else None


@pytest.fixture(scope="module", params=["local", "trl"])
def tokenizers(request):
    out = {}
    for family, (template, eos, bos) in FAMILIES.items():
        if request.param == "trl":
            template = _real_template(family)
            if template is None:
                pytest.skip("TRL's copies of the real templates are not installed")
        out[family] = _tokenizer(template, eos, bos)
    return out


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch):
    monkeypatch.setattr(token_module, "_WARNED", set())  # drift is warned once per template per process


def template_ids(tok, messages, tools=None) -> list[int]:
    out = tok.apply_chat_template(messages, tools=tools, tokenize=True, add_generation_prompt=True)
    return list(out["input_ids"] if hasattr(out, "keys") else out)


def play(env: TokenEnv, tok, turns: list[str]):
    """Feed each turn's text (its canonical ids, then EOS); yields each step's results."""
    for text in turns:
        ids = tok.encode(text, add_special_tokens=False) + [tok.eos_token_id]
        yield env.step(ids)


# --------------------------------------------------------------------------------------------
# prefix-stable templates: the context is the template's own rendering, token for token
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["qwen2.5", "llama3", "qwen3"])
def test_context_is_the_templates_own_ids_turn_after_turn(tokenizers, family):
    tok = tokenizers[family]
    env = TokenEnv(thinkgym.make("thinkgym/Maze-v0"), tok, chunk=True, max_new_tokens=64, on_drift="error")
    obs, info = env.reset(seed=0)
    assert obs.tolist() == template_ids(tok, info["text_info"]["messages"])
    steps = 0
    for obs, _, terminated, truncated, info in play(env, tok, list("RRRDDD")):
        steps += 1
        assert info["template_drift"] is False
        if terminated or truncated:
            break
        messages = info["text_info"]["messages"]
        assert obs.tolist() == template_ids(tok, messages)  # token-exact, not only text-exact
        # the mask is 1 exactly on what the model sampled: each move and its EOS
        policy = [t for t, m in zip(obs.tolist(), info["policy_mask"], strict=True) if m]
        assert tok.decode(policy) == (tok.eos_token).join(m["content"] for m in messages if m["role"] == "assistant") + tok.eos_token
    assert terminated and steps == 6


def test_chatml_separator_after_the_eos_is_the_templates_newline(tokenizers):
    """The bug of the old rollout: '<|im_end|><|im_start|>user' where the template writes
    '<|im_end|>\\n<|im_start|>user'."""
    tok = tokenizers["qwen2.5"]
    env = TokenEnv(thinkgym.make("thinkgym/Maze-v0"), tok, chunk=True, max_new_tokens=16)
    obs, _ = env.reset(seed=0)
    prompt_len = len(obs)
    (obs, *_), = play(env, tok, ["R"])
    added = tok.decode(obs[prompt_len:].tolist())
    assert added.startswith("R<|im_end|>\n<|im_start|>user\n") and added.endswith("<|im_end|>\n<|im_start|>assistant\n")


def test_a_turn_ended_by_a_stop_string_gets_the_whole_closing_markup(tokenizers):
    tok = tokenizers["qwen2.5"]
    env = TokenEnv(thinkgym.make("thinkgym/Maze-v0"), tok, chunk=True, stop_strings=("\n",), on_drift="error")
    obs, _ = env.reset(seed=0)
    obs, _, _, _, info = env.step(tok.encode("R\n", add_special_tokens=False))
    assert info["turn_end"] == "stop" and info["template_drift"] is False
    assert obs.tolist() == template_ids(tok, info["text_info"]["messages"])  # <|im_end|> came from the env
    mask = info["policy_mask"].tolist()
    eos_at = obs.tolist().index(tok.eos_token_id, len(mask) - mask[::-1].index(1) - 1)
    assert mask[eos_at] == 0  # the env wrote the end of turn, the model did not


# --------------------------------------------------------------------------------------------
# tool turns (ChatML / Qwen-2.5): tools in the prompt, tool results as the template groups them
# --------------------------------------------------------------------------------------------

CALC = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two integers.",
        "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]},
    },
}


def test_tool_results_are_rendered_as_the_template_groups_them(tokenizers):
    tok = tokenizers["qwen2.5"]
    messages = [{"role": "user", "content": "What is 2+3 and 4+5?"}]
    transcript = ChatTranscript(tok, messages, tools=[CALC], on_drift="error")
    assert '"name": "add"' in transcript.prompt and transcript.prompt.endswith("<|im_start|>assistant\n")
    turn = '<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n</tool_call>\n<tool_call>\n{"name": "add", "arguments": {"a": 4, "b": 5}}\n</tool_call>'
    results = [
        {"role": "tool", "tool_call_id": "call_0", "name": "add", "content": "5"},
        {"role": "tool", "tool_call_id": "call_1", "name": "add", "content": "9"},
    ]
    segment = transcript.segment(turn, results, eos_text="<|im_end|>")
    assert segment == (
        "\n<|im_start|>user\n<tool_response>\n5\n</tool_response>\n<tool_response>\n9\n</tool_response><|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    assert transcript.drift_turns == []
    ids = (
        tok.encode(transcript.prompt, add_special_tokens=False)
        + tok.encode(turn, add_special_tokens=False) + [tok.eos_token_id]
        + tok.encode(segment, add_special_tokens=False)
    )  # fmt: skip
    assert ids == template_ids(tok, transcript.history, tools=[CALC])
    # the structured form of the same turn (what an OpenAI server returns) renders the same text
    structured = {"role": "assistant", "content": "", "tool_calls": [
        {"id": f"call_{i}", "type": "function", "function": {"name": "add", "arguments": args}}
        for i, args in enumerate([{"a": 2, "b": 3}, {"a": 4, "b": 5}])
    ]}  # fmt: skip
    assert tok.apply_chat_template([*messages, structured, *results], tools=[CALC], tokenize=False, add_generation_prompt=True) == transcript.text


# --------------------------------------------------------------------------------------------
# templates that are not prefix-stable: drift is reported, the sampled ids stay the context
# --------------------------------------------------------------------------------------------


def test_qwen3_dropping_earlier_reasoning_is_reported_and_the_sampled_ids_kept(tokenizers):
    tok = tokenizers["qwen3"]
    env = TokenEnv(thinkgym.make("thinkgym/Maze-v0"), tok, chunk=True, max_new_tokens=64)
    obs, _ = env.reset(seed=0)
    prompt_len = len(obs)
    turn = "<think>\nThe way right is open.\n</think>\n\nR"
    with pytest.warns(TemplateDriftWarning, match="not prefix-stable"):
        (obs, _, _, _, info), = play(env, tok, [turn])
    assert info["template_drift"] is True and info["action_text"] == turn
    text = tok.decode(obs[prompt_len:].tolist())
    assert text.startswith(turn + "<|im_end|>\n<|im_start|>user\n")  # the reasoning stays in the context
    assert tok.apply_chat_template(info["text_info"]["messages"], tokenize=False) .count("<think>") == 0  # the template drops it
    policy = [t for t, m in zip(obs.tolist(), info["policy_mask"], strict=True) if m]
    assert policy == tok.encode(turn, add_special_tokens=False) + [tok.eos_token_id]  # never re-tokenized
    # warned once per template: a second drifting episode adds the flag but no new warning
    import warnings

    env.reset(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TemplateDriftWarning)
        (_, _, _, _, info), = play(env, tok, [turn])
    assert info["template_drift"] is True


def test_qwen3_without_reasoning_is_prefix_stable(tokenizers):
    tok = tokenizers["qwen3"]
    env = TokenEnv(thinkgym.make("thinkgym/Maze-v0"), tok, chunk=True, on_drift="error")
    env.reset(seed=0)
    (obs, _, _, _, info), = play(env, tok, ["R"])
    assert info["template_drift"] is False and obs.tolist() == template_ids(tok, info["text_info"]["messages"])


def test_llama3_trim_is_drift_and_on_drift_error_raises(tokenizers):
    tok = tokenizers["llama3"]
    strict = TokenEnv(thinkgym.make("thinkgym/Maze-v0"), tok, chunk=True, on_drift="error")
    strict.reset(seed=0)
    with pytest.raises(TemplateDriftError, match="prefix-stable"):
        list(play(strict, tok, ["R "]))  # the template trims the trailing space away
    env = TokenEnv(thinkgym.make("thinkgym/Maze-v0"), tok, chunk=True)
    env.reset(seed=0)
    with pytest.warns(TemplateDriftWarning):
        (obs, _, _, _, info), = play(env, tok, ["R "])
    assert info["template_drift"] is True
    assert tok.decode(obs.tolist()).count("R <|eot_id|><|start_header_id|>user<|end_header_id|>\n\n") == 1


def test_a_template_that_drops_assistant_text_is_a_clear_error():
    tok = _tokenizer(QWEN25.replace("{{ m.content }}<|im_end|>", "{% if m.role != 'assistant' %}{{ m.content }}{% endif %}<|im_end|>"), "<|im_end|>")
    transcript = ChatTranscript(tok, [{"role": "user", "content": "hi"}])
    with pytest.raises(TemplateDriftError, match="does not write the assistant's text"):
        transcript.segment("hello", [{"role": "user", "content": "again"}], eos_text="<|im_end|>")


def test_model_text_that_contains_the_stand_in_does_not_confuse_the_segment(tokenizers):
    tok = tokenizers["qwen2.5"]
    transcript = ChatTranscript(tok, [{"role": "user", "content": "7305198264"}], on_drift="error")
    segment = transcript.segment("7305198264 7305198264", [{"role": "user", "content": "x 7305198264"}], eos_text="<|im_end|>")
    assert segment == "\n<|im_start|>user\nx 7305198264<|im_end|>\n<|im_start|>assistant\n"


def test_bad_on_drift_value():
    tok = _tokenizer(QWEN25, "<|im_end|>")
    with pytest.raises(ValueError, match="on_drift"):
        TokenEnv(thinkgym.make("thinkgym/Maze-v0"), tok, on_drift="ignore")
    with pytest.raises(ValueError, match="on_drift"):
        ChatTranscript(tok, [{"role": "user", "content": "x"}], on_drift="silent")
    json.dumps(CALC)  # the tool schema used above is plain JSON


def test_token_env_on_the_tool_env_is_the_templates_tool_conversation(tokenizers):
    """TokenEnv on ToolUse-v0 with the oracle's turns: tools in the prompt, tool results grouped into
    one user turn as Qwen-2.5 renders them, token for token; the answer ends the episode in full."""
    tok = tokenizers["qwen2.5"]
    env = TokenEnv(thinkgym.make("thinkgym/ToolUse-v0", difficulty=2), tok, chunk=True, max_new_tokens=256, on_drift="error")
    obs, info = env.reset(seed=1)
    tools = env.env.get_wrapper_attr("tools")
    assert obs.tolist() == template_ids(tok, info["text_info"]["messages"], tools=tools)
    while True:
        action = env.env.get_wrapper_attr("oracle_action")()
        obs, reward, terminated, truncated, info = env.step(tok.encode(action, add_special_tokens=False) + [tok.eos_token_id])
        if terminated or truncated:
            break
        messages = info["text_info"]["messages"]
        raw = [{"role": "assistant", "content": m["content"]} if m["role"] == "assistant" else m for m in messages]
        assert messages[-1]["role"] == "tool" and obs.tolist() == template_ids(tok, raw, tools=tools)
        assert info["template_drift"] is False
    assert terminated and info["text_info"]["reward_info"]["episode_score"] == pytest.approx(1.0)


def test_a_template_that_refuses_tool_messages_is_a_clear_error():
    from thinkgym.errors import ConfigError

    refusing = "{% for m in messages %}{% if m.role == 'tool' %}{{ raise_exception('no tool role') }}{% endif %}" + QWEN25[QWEN25.index("{% for m in messages %}") + len("{% for m in messages %}") :]
    tok = _tokenizer(refusing, "<|im_end|>")
    transcript = ChatTranscript(tok, [{"role": "user", "content": "add 2 and 3"}])
    with pytest.raises(ConfigError, match="no tool role"):
        transcript.segment('<tool_call>{"name": "add"}</tool_call>', [{"role": "tool", "tool_call_id": "c", "content": "5"}])
