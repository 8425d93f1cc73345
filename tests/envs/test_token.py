"""TokenEnv: the token-level view, with character-level tokenizers built locally (no hub)."""

from __future__ import annotations

import string

import gymnasium
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import thinkgym
from thinkgym.envs.maze import GOAL_REWARD, verify_path
from thinkgym.envs.token import TokenEnv

ALPHABET = string.ascii_letters + string.digits + string.punctuation + " \n\t"
TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<eos>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def raw_char_tokenizer():
    """A bare `tokenizers.Tokenizer`: one token per character, plus <pad>, <eos>, <unk>."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2}
    for ch in ALPHABET:
        vocab.setdefault(ch, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tok.decoder = decoders.Fuse()
    tok.add_special_tokens(["<pad>", "<eos>", "<unk>"])
    return tok


def hf_char_tokenizer(template: bool = True):
    """The same tokenizer behind transformers' `PreTrainedTokenizerFast`, optionally with a chat template."""
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(
        tokenizer_object=raw_char_tokenizer(), eos_token="<eos>", unk_token="<unk>", pad_token="<pad>"
    )
    if template:
        tok.chat_template = TEMPLATE
    return tok


@pytest.fixture(scope="module")
def raw_tok():
    return raw_char_tokenizer()


@pytest.fixture(scope="module")
def hf_tok():
    return hf_char_tokenizer()


def ids_of(tok, text: str) -> list[int]:
    if hasattr(tok, "convert_tokens_to_ids"):
        return tok.encode(text, add_special_tokens=False)
    return tok.encode(text, add_special_tokens=False).ids


def test_single_turn_plain_concatenation(raw_tok):
    env = TokenEnv(thinkgym.make("thinkgym/MazePath-v0"), raw_tok, eos_token_id=1, max_new_tokens=32)
    obs, info = env.reset(seed=0)
    assert raw_tok.decode(obs.tolist()) == env.env.problem.prompt + "\n"
    assert info["policy_mask"].tolist() == [0] * len(obs)
    rewards = []
    for token in ids_of(raw_tok, "RRRDDD"):
        obs, reward, terminated, truncated, info = env.step(token)
        rewards.append(reward)
        assert not (terminated or truncated)
    obs, reward, terminated, truncated, info = env.step(1)
    assert rewards == [0.0] * 6 and reward == GOAL_REWARD and terminated and not truncated
    assert info["turn_end"] == "eos" and info["action_text"] == "RRRDDD"
    mask = info["policy_mask"]
    assert len(mask) == len(obs) and int(mask.sum()) == 7
    assert raw_tok.decode(obs[mask == 1][:-1].tolist()) == "RRRDDD"
    assert info["text_info"]["messages"][-1] == {"role": "assistant", "content": "RRRDDD"}
    with pytest.raises(ResetNeeded):
        env.step(5)


def test_multi_turn_chat_template_and_mask(hf_tok):
    env = TokenEnv(gymnasium.make("thinkgym/Maze-v0"), hf_tok, max_new_tokens=4)
    obs, info = env.reset(seed=0)
    messages = info["text_info"]["messages"]
    assert hf_tok.decode(obs.tolist()) == hf_tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    total = 0.0
    for move in "RRRDDD":
        for token in ids_of(hf_tok, move) + [hf_tok.eos_token_id]:
            obs, reward, terminated, truncated, info = env.step(token)
            total += reward
        assert info["action_text"] == move and info["turn_end"] == "eos"
        if not terminated:
            # the context is exactly the rendered conversation: no drift between turns
            rendered = hf_tok.apply_chat_template(info["text_info"]["messages"], tokenize=False, add_generation_prompt=True)
            assert hf_tok.decode(obs.tolist()) == rendered
    assert terminated and total == GOAL_REWARD
    mask = info["policy_mask"]
    assert int(mask.sum()) == 12  # six moves, each one letter plus EOS
    policy_text = hf_tok.decode(obs[mask == 1].tolist())
    assert policy_text == "<eos>".join("RRRDDD") + "<eos>"
    assert 0 in mask[np.flatnonzero(mask)[0] :]  # environment tokens sit between policy turns


def test_multi_turn_plain_with_transformers_tokenizer_without_template():
    tok = hf_char_tokenizer(template=False)
    env = TokenEnv(thinkgym.make("thinkgym/Maze-v0"), tok, max_new_tokens=4)
    env.reset(seed=0)
    for token in ids_of(tok, "R") + [tok.eos_token_id]:
        obs, *_, info = env.step(token)
    text = tok.decode(obs.tolist())
    assert text.endswith("R<eos>\n" + info["text_info"]["messages"][-1]["content"] + "\n")


def test_stop_string_ends_turn_and_is_judged(raw_tok):
    env = TokenEnv(thinkgym.make("thinkgym/Maze-v0"), raw_tok, stop_strings=("\n",))
    env.reset(seed=0)
    for token in ids_of(raw_tok, "D\n"):
        _, reward, terminated, truncated, info = env.step(token)
    assert info["turn_end"] == "stop" and info["action_text"] == "D\n"
    assert info["text_info"]["position"] == (1, 0)  # the move was judged and taken


def test_token_budget_truncates(raw_tok):
    env = TokenEnv(thinkgym.make("thinkgym/Maze-v0"), raw_tok, eos_token_id=1, max_new_tokens=3)
    env.reset(seed=0)
    results = [env.step(t) for t in ids_of(raw_tok, "abc")]
    _, reward, terminated, truncated, info = results[-1]
    assert [r[3] for r in results] == [False, False, True]
    assert reward == 0.0 and not terminated and info["turn_end"] == "length"
    assert info["action_text"] == "abc" and "not a move" in info["text_info"]["error"]


def test_chunk_mode_drops_tokens_after_the_turn_end(raw_tok):
    env = TokenEnv(thinkgym.make("thinkgym/MazePath-v0"), raw_tok, eos_token_id=1, chunk=True)
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(np.array(ids_of(raw_tok, "RRRDDD") + [1] + ids_of(raw_tok, "xyz")))
    assert reward == GOAL_REWARD and terminated and info["dropped_tokens"] == 3
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step([])
    assert (reward, terminated, truncated) == (0.0, False, False)


def test_bad_actions_and_arguments(raw_tok):
    env = TokenEnv(thinkgym.make("thinkgym/Maze-v0"), raw_tok, eos_token_id=1)
    with pytest.raises(ResetNeeded):
        env.step(3)
    env.reset(seed=0)
    for bad in ("R", 1.5, True, [3, 4], None):
        with pytest.raises(TypeError):
            env.step(bad)
    with pytest.raises(ValueError, match="vocabulary"):
        env.step(10_000)
    with pytest.raises(ValueError, match="vocabulary"):
        env.step(-1)
    chunky = TokenEnv(thinkgym.make("thinkgym/Maze-v0"), raw_tok, chunk=True)
    chunky.reset(seed=0)
    with pytest.raises(TypeError):
        chunky.step(np.array([[1, 2]]))
    with pytest.raises(TypeError):
        chunky.step([1.0, 2.0])
    with pytest.raises(TypeError, match="TextEnv"):
        TokenEnv(gymnasium.make("CartPole-v1"), raw_tok)
    with pytest.raises(TypeError, match="tokenizer"):
        TokenEnv(thinkgym.make("thinkgym/Maze-v0"), object())
    with pytest.raises(ValueError, match="chat template"):
        TokenEnv(thinkgym.make("thinkgym/Maze-v0"), raw_tok, chat_template=True)


@pytest.mark.parametrize("chunk", [False, True])
@pytest.mark.parametrize("env_id", ["thinkgym/Maze-v0", "thinkgym/MazePath-v0"])
def test_check_env(env_id, chunk, raw_tok):
    check_env(TokenEnv(thinkgym.make(env_id), raw_tok, eos_token_id=1, max_new_tokens=8, chunk=chunk), skip_render_check=True)


@settings(max_examples=40)
@given(text=st.text(alphabet=ALPHABET, max_size=40), with_template=st.booleans())
def test_round_trip_decoded_policy_tokens_are_the_verified_text(text, with_template):
    assume(not any(special in text for special in ("<eos>", "<pad>", "<unk>")))  # those spell special tokens
    tok = _HF_TOK if with_template else _RAW_TOK
    env = TokenEnv(thinkgym.make("thinkgym/MazePath-v0"), tok, eos_token_id=1, chunk=True, max_new_tokens=64)
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(ids_of(tok, text) + [1])
    verified = info["text_info"]["messages"][-1]["content"]
    assert verified == info["action_text"] == text
    assert tok.decode(obs[info["policy_mask"] == 1][:-1].tolist()) == text
    assert reward == verify_path(text, env.env.problem).score
    assert terminated


_RAW_TOK = raw_char_tokenizer()
_HF_TOK = hf_char_tokenizer()


def test_template_that_rewrites_history_is_reported_not_papered_over(monkeypatch):
    """A template that does not echo the assistant's text verbatim (as some strip reasoning): the
    segment still comes from the template, the sampled tokens stay the context, and the drift is
    reported (info flag + one warning; on_drift="error" raises) instead of a silent plain-text fallback."""
    from thinkgym.envs import token
    from thinkgym.envs.token import TemplateDriftError, TemplateDriftWarning

    monkeypatch.setattr(token, "_WARNED", set())  # warned once per template per process
    tok = hf_char_tokenizer(template=False)
    tok.chat_template = TEMPLATE.replace("{{ m['content'] }}", "{{ m['content'] | upper }}")
    env = TokenEnv(thinkgym.make("thinkgym/Maze-v0"), tok, max_new_tokens=4)
    obs, _ = env.reset(seed=0)
    prompt_len = len(obs)
    with pytest.warns(TemplateDriftWarning, match="not prefix-stable"):
        for token in ids_of(tok, "r") + [tok.eos_token_id]:
            obs, *_, info = env.step(token)
    assert info["action_text"] == "r" and info["text_info"]["position"] == (0, 1)
    assert info["template_drift"] is True
    observation = info["text_info"]["messages"][-1]["content"]
    assert tok.decode(obs[prompt_len:].tolist()) == "r<eos><|user|>" + observation.upper() + "<eos><|assistant|>"
    assert info["policy_mask"][prompt_len : prompt_len + 2].tolist() == [1, 1]
    assert int(info["policy_mask"].sum()) == 2
    strict = TokenEnv(thinkgym.make("thinkgym/Maze-v0"), tok, max_new_tokens=4, on_drift="error")
    strict.reset(seed=0)
    strict.step(ids_of(tok, "r")[0])
    with pytest.raises(TemplateDriftError, match="prefix-stable"):
        strict.step(tok.eos_token_id)


@settings(max_examples=30)
@given(
    tokens=st.lists(st.integers(0, _RAW_TOK.get_vocab_size() - 1), max_size=60),
    env_id=st.sampled_from(["thinkgym/Maze-v0", "thinkgym/MazePath-v0"]),
    chunk=st.integers(1, 7),
)
def test_fuzz_token_streams_keep_the_invariants(tokens, env_id, chunk):
    """Any token stream, in any chunking: aligned mask, finite rewards, a clean end."""
    env = TokenEnv(thinkgym.make(env_id), _RAW_TOK, eos_token_id=1, chunk=True, max_new_tokens=5)
    obs, info = env.reset(seed=0)
    prompt_len = len(obs)
    for start in range(0, len(tokens), chunk):
        obs, reward, terminated, truncated, info = env.step(tokens[start : start + chunk])
        assert len(info["policy_mask"]) == len(obs) and np.isfinite(reward)
        assert info["policy_mask"][:prompt_len].sum() == 0
        if terminated or truncated:
            with pytest.raises(ResetNeeded):
                env.step([0])
            break


class _DoubleReward(gymnasium.RewardWrapper):
    def reward(self, reward):
        return 2.0 * reward


def _play_moves(tenv, tok, moves: str) -> tuple[float, int, bool, bool, dict]:
    """One move per turn: the move's token, then EOS ends the turn."""
    eos = ids_of(tok, "<eos>")[0]
    total, turns = 0.0, 0
    for move in moves:
        tenv.step(ids_of(tok, move)[0])
        _, reward, terminated, truncated, info = tenv.step(eos)
        total, turns = total + reward, turns + 1
        if terminated or truncated:
            break
    return total, turns, terminated, truncated, info


def test_token_env_works_through_gymnasium_wrappers(raw_tok):
    """Issue 14 item 1: TokenEnv over gymnasium.make + TimeLimit + a RewardWrapper, and wrapped itself."""
    inner = _DoubleReward(gymnasium.wrappers.TimeLimit(gymnasium.make("thinkgym/Maze-v0"), max_episode_steps=4))
    tenv = gymnasium.wrappers.RecordEpisodeStatistics(TokenEnv(inner, raw_tok, max_new_tokens=4, eos_token_id=1))
    tenv.reset(seed=0)
    total, turns, terminated, truncated, info = _play_moves(tenv, raw_tok, "RRRDDD")
    assert turns == 4 and truncated and not terminated  # the TimeLimit around the inner env cut it
    assert total == 0.0 and info["episode"]["l"] == 8  # 8 token steps
    tenv = TokenEnv(_DoubleReward(gymnasium.make("thinkgym/Maze-v0")), raw_tok, max_new_tokens=4, eos_token_id=1)
    tenv.reset(seed=0)
    total, turns, terminated, _, info = _play_moves(tenv, raw_tok, "RRRDDD")  # the shortest path
    assert terminated and turns == 6 and total == 2 * GOAL_REWARD  # the wrapper's reward reached TokenEnv
    assert info["text_info"]["reward_components"] == {"goal": 1.0}
