"""Reward-model verifier on a tiny model built from a config and a tokenizer built locally."""

from __future__ import annotations

import pickle

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from thinkgym.core import Problem  # noqa: E402
from thinkgym.verifiers.reward_model import RewardModelVerifier  # noqa: E402

PROBLEM = Problem("p0", "What is 6 times 7?", "42")
COMPLETIONS = ["The answer is 42.", "x", "I think it is forty two, so 42 it is, definitely 42.", ""]


@pytest.fixture(scope="module")
def tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=["[PAD]", "[UNK]", "[EOS]"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(COMPLETIONS * 5 + [PROBLEM.prompt] * 5, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", eos_token="[EOS]", unk_token="[UNK]")


def _model(tokenizer, num_labels: int = 1):
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=len(tokenizer), n_layer=1, n_embd=16, n_head=2, n_positions=256,
        num_labels=num_labels, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
    )
    return transformers.GPT2ForSequenceClassification(config).eval()


def _reference(model, tokenizer, prompt: str, completion: str) -> float:
    ids = tokenizer(prompt, completion, return_tensors="pt")
    with torch.inference_mode():
        return float(model(**ids).logits[0, 0])


def test_scores_equal_an_unpadded_forward_pass(tokenizer) -> None:
    model = _model(tokenizer)
    rm = RewardModelVerifier(model, tokenizer, batch_size=3, max_length=128)
    rewards = rm.batch(COMPLETIONS, [PROBLEM] * len(COMPLETIONS))
    for completion, reward in zip(COMPLETIONS, rewards, strict=True):
        assert reward.score == pytest.approx(_reference(model, tokenizer, PROBLEM.prompt, completion), abs=1e-5)
        assert reward.components == {"reward_model": reward.score}
    singles = [rm(c, PROBLEM).score for c in COMPLETIONS]
    assert singles == pytest.approx([r.score for r in rewards], abs=1e-5)
    assert len({round(r.score, 6) for r in rewards}) > 1  # the model distinguishes inputs


def test_left_truncation_keeps_the_end_of_the_completion(tokenizer) -> None:
    model = _model(tokenizer)
    rm = RewardModelVerifier(model, tokenizer, max_length=16, input_format="concat")
    tail = " The answer is 42." * 6
    long_a = "x " * 100 + tail
    long_b = "I think " * 50 + tail
    assert len(tokenizer(tail)["input_ids"]) > 16
    assert rm(long_a, PROBLEM).score == pytest.approx(rm(long_b, PROBLEM).score, abs=1e-5)
    assert tokenizer.truncation_side == "right"  # restored after the call


def test_sigmoid_scale_shift_and_multi_label(tokenizer) -> None:
    model = _model(tokenizer)
    raw = RewardModelVerifier(model, tokenizer)("The answer is 42.", PROBLEM).score
    squashed = RewardModelVerifier(model, tokenizer, sigmoid=True, scale=2.0, shift=-1.0)("The answer is 42.", PROBLEM)
    assert squashed.score == pytest.approx(2.0 * float(torch.sigmoid(torch.tensor(raw))) - 1.0, abs=1e-6)
    two = _model(tokenizer, num_labels=2)
    prob = RewardModelVerifier(two, tokenizer, label=1)("The answer is 42.", PROBLEM).score
    assert 0.0 < prob < 1.0
    with pytest.raises(TypeError, match="label"):
        RewardModelVerifier(two, tokenizer)("x", PROBLEM)


def test_chat_template_input(tokenizer) -> None:
    import copy

    chat_tokenizer = copy.deepcopy(tokenizer)
    chat_tokenizer.chat_template = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    model = _model(tokenizer)
    rm = RewardModelVerifier(model, chat_tokenizer)
    expected_text = f"user: {PROBLEM.prompt}\nassistant: 42\n"
    ids = chat_tokenizer(expected_text, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        expected = float(model(**ids).logits[0, 0])
    assert rm("42", PROBLEM).score == pytest.approx(expected, abs=1e-5)


def test_pickles_with_its_model(tokenizer) -> None:
    rm = RewardModelVerifier(_model(tokenizer), tokenizer)
    clone = pickle.loads(pickle.dumps(rm))
    assert clone("The answer is 42.", PROBLEM).score == pytest.approx(rm("The answer is 42.", PROBLEM).score, abs=1e-6)


def test_loads_lazily_from_a_saved_directory(tokenizer, tmp_path) -> None:
    model = _model(tokenizer)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    rm = RewardModelVerifier(str(tmp_path))
    assert rm._model is None  # nothing loaded until first use
    score = rm("The answer is 42.", PROBLEM).score
    assert score == pytest.approx(_reference(model, tokenizer, PROBLEM.prompt, "The answer is 42."), abs=1e-5)
    state = pickle.dumps(rm)
    assert len(state) < 20_000  # a path-built verifier travels without its weights
    assert pickle.loads(state)("The answer is 42.", PROBLEM).score == pytest.approx(score, abs=1e-6)


def test_bad_arguments(tokenizer) -> None:
    model = _model(tokenizer)
    with pytest.raises(ValueError):
        RewardModelVerifier(model, tokenizer, batch_size=0)
    with pytest.raises(ValueError):
        RewardModelVerifier(model, tokenizer, input_format="xml")  # type: ignore[arg-type]
    rm = RewardModelVerifier(model, tokenizer)
    with pytest.raises(TypeError):
        rm(None, PROBLEM)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        rm.batch(["a", "b"], [PROBLEM])
    assert rm.batch([], []) == []


def test_concurrent_calls_from_threads_agree_with_sequential(tokenizer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    rm = RewardModelVerifier(_model(tokenizer), tokenizer, max_length=16, input_format="concat")
    texts = [c * (i + 1) for i, c in enumerate(COMPLETIONS)] * 3
    sequential = [rm(t, PROBLEM).score for t in texts]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda t: rm(t, PROBLEM).score, texts))
    assert threaded == pytest.approx(sequential, abs=1e-6)
    assert tokenizer.truncation_side == "right"
