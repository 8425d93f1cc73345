"""`--policy` strings: parsing, building, and clear errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from thinkgym.agents import OraclePolicy, RandomPolicy
from thinkgym.benchmarks.policy_spec import make_policy, parse_policy_spec
from thinkgym.errors import ConfigError

sys.path.insert(0, str(Path(__file__).parent))


def test_parse_forms():
    assert parse_policy_spec("random").kind == "random"
    assert parse_policy_spec(" oracle ").kind == "oracle"
    spec = parse_policy_spec("openai:http://127.0.0.1:8000/v1#Qwen/Qwen3-0.6B")
    assert (spec.kind, spec.target, spec.model) == (
        "openai",
        "http://127.0.0.1:8000/v1",
        "Qwen/Qwen3-0.6B",
    )
    assert parse_policy_spec("openai:https://api.example.com/v1").model is None
    spec = parse_policy_spec("hf:/models/my-model")
    assert (spec.kind, spec.target, spec.batches_on_one_device) == ("hf", "/models/my-model", True)
    assert parse_policy_spec("py:toy:slow_hash_policy").target == "toy:slow_hash_policy"


@pytest.mark.parametrize(
    "bad", ["", "rand", "gpt4", "openai:", "openai:127.0.0.1:8000", "hf:", "py:nomodule"]
)
def test_bad_specs_say_what_to_write(bad):
    with pytest.raises(ConfigError):
        parse_policy_spec(bad)
    with pytest.raises(TypeError):
        parse_policy_spec(3)  # type: ignore[arg-type]


def test_make_light_policies():
    assert isinstance(make_policy("random", seed=1), RandomPolicy)
    assert isinstance(make_policy("oracle"), OraclePolicy)
    policy = make_policy("py:toy:slow_hash_policy")
    assert policy.delay_s > 0
    with pytest.raises(ConfigError, match="cannot load"):
        make_policy("py:toy:missing_name")
    with pytest.raises(ConfigError, match="did not give a thinkgym Policy"):
        make_policy("py:os:getcwd")


def test_openai_spec_builds_the_client_policy_lazily():
    pytest.importorskip("openai")
    policy = make_policy(
        "openai:http://127.0.0.1:9/v1#some-model",
        seed=5,
        temperature=0.6,
        max_tokens=64,
        concurrency=3,
    )
    try:
        assert type(policy).__name__ == "OpenAIPolicy"
        assert policy.temperature == 0.6 and policy.max_tokens == 64 and policy.max_concurrency == 3
        # one seed on every request would make all samples of a problem identical on vLLM
        assert policy.seed is None
    finally:
        policy.close()


def test_openai_without_model_and_no_server_is_a_clear_error():
    pytest.importorskip("openai")
    with pytest.raises(ConfigError, match="#MODEL"):
        make_policy("openai:http://127.0.0.1:9/v1")
