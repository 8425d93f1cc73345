"""thinkgym/BFCL-v0 on small files in BFCL's format (tests/envs/data/bfcl), and on the real data
when a downloaded bfcl-eval wheel is at /tmp/bfcl (or THINKGYM_BFCL_REAL names one)."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import zipfile
from pathlib import Path

import gymnasium
import pytest

import thinkgym
from thinkgym.agents import OraclePolicy, RandomPolicy, play_episode
from thinkgym.envs.bfcl import (
    CATEGORIES,
    DATA_ENV_VAR,
    BFCLEnv,
    load_bfcl,
    openai_tools,
    render_pythonic,
)
from thinkgym.errors import ConfigError
from thinkgym.tools import schema_from_dict
from thinkgym.utils import RULES, check_env

DATA = Path(__file__).parent / "data" / "bfcl"
REAL = Path(os.environ.get("THINKGYM_BFCL_REAL", "/tmp/bfcl"))


def make(**kwargs) -> BFCLEnv:
    return BFCLEnv(DATA, **kwargs)


def play(env: BFCLEnv, index: int, action: str):
    env.reset(options={"index": index})
    return env.step(action)


def index_of(env: BFCLEnv, bfcl_id: str) -> int:
    return next(i for i in range(env.source.size) if env.source.get(i).meta["bfcl_id"] == bfcl_id)


def test_check_env_passes_on_every_rule():
    assert check_env(make()) == list(RULES)
    assert check_env(gymnasium.make("thinkgym/BFCL-v0", data_dir=str(DATA)), skip={"vector"}) == [r for r in RULES if r != "vector"]


def test_every_category_loads_from_the_test_files():
    env = make()
    categories = [env.source.get(i).meta["category"] for i in range(env.source.size)]
    assert set(categories) == set(CATEGORIES)
    assert env.skipped == ()
    only = make(categories=["parallel", "simple_python"])  # v4's name of "simple" works too
    assert {only.source.get(i).meta["category"] for i in range(only.source.size)} == {"parallel", "simple"}


def test_oracle_earns_full_reward_on_every_problem_and_random_near_zero():
    env = make()
    call_problems = 0
    random_total = 0.0
    for index in range(env.source.size):
        env.reset(options={"index": index})
        problem = env.problem
        _, reward, terminated, _, info = env.step(env.oracle_action())
        assert reward == 1.0 and terminated, (problem.id, info.get("error"))
        assert info["reward_components"]["accuracy"] == 1.0
        if problem.meta["expects"] != "no_call":
            call_problems += 1
            for seed in range(3):
                random_total += play_episode(make(), RandomPolicy(seed), seed=seed, options={"index": index}).total_reward
    assert random_total / (3 * call_problems) < 0.05


def test_through_make_and_the_env_var(monkeypatch):
    monkeypatch.setenv(DATA_ENV_VAR, str(DATA))
    episode = play_episode(thinkgym.make("thinkgym/BFCL-v0"), OraclePolicy(), seed=3)
    assert episode.total_reward == 1.0


def test_missing_data_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv(DATA_ENV_VAR, raising=False)
    with pytest.raises(ConfigError, match="pip download --no-deps bfcl-eval"):
        thinkgym.make("thinkgym/BFCL-v0")
    with pytest.raises(ConfigError, match="does not exist.*pip download"):
        BFCLEnv(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="no BFCL data files"):
        BFCLEnv(tmp_path)
    (tmp_path / "bfcl_eval-1.0-py3-none-any.whl").write_text("not a zip")
    with pytest.raises(ConfigError, match="not a readable"):
        BFCLEnv(tmp_path)


def test_bad_files_and_categories_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="not supported"):
        make(categories="multi_turn_base")
    with pytest.raises(ConfigError, match="not supported"):
        make(categories="simple_java")
    with pytest.raises(ConfigError, match="unknown BFCL category"):
        make(categories="simpel")
    shutil.copytree(DATA, tmp_path / "d")
    (tmp_path / "d" / "possible_answer" / "BFCL_v4_parallel.json").unlink()
    with pytest.raises(ConfigError, match="possible_answer/BFCL_v4_parallel.json is missing"):
        BFCLEnv(tmp_path / "d", categories="parallel")
    with pytest.raises(ConfigError, match="no file BFCL_v<N>_multiple"):
        BFCLEnv(_only(tmp_path, "irrelevance"), categories="multiple")
    broken = _only(tmp_path, "irrelevance", name="broken")
    (broken / "BFCL_v4_irrelevance.json").write_text('{"id": "irrelevance_0", "question": [[{"role": "user", "content": "hi"}]], "function": []}\n{oops\n')
    with pytest.raises(ConfigError, match="line 2: not valid JSON"):
        BFCLEnv(broken)
    bad_gold = tmp_path / "bad_gold"
    shutil.copytree(DATA, bad_gold)
    (bad_gold / "possible_answer" / "BFCL_v4_parallel.json").write_text(
        '{"id": "parallel_0", "ground_truth": [{"a": {}, "b": {}}]}\n{"id": "parallel_1", "ground_truth": []}\n'
    )
    with pytest.raises(ConfigError, match="ground truth of 'parallel_0'.*one-key dict"):
        BFCLEnv(bad_gold, categories="parallel")


def _only(tmp_path: Path, category: str, name: str = "only") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(DATA / f"BFCL_v4_{category}.json", folder)
    return folder


def test_reads_the_wheel_directly(tmp_path):
    wheel = tmp_path / "bfcl_eval-2099.1.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path in DATA.rglob("*.json"):
            archive.write(path, f"bfcl_eval/data/{path.relative_to(DATA)}")
        archive.writestr("bfcl_eval/__init__.py", "")
    for where in (wheel, tmp_path):
        env = BFCLEnv(where)
        assert env.source.size == make().source.size
        assert play_episode(env, OraclePolicy(), seed=1).total_reward == 1.0


def test_tools_are_openai_schemas_with_bfcl_types_converted():
    env = make(categories="simple")
    env.reset(options={"index": index_of(env, "simple_python_3")})  # hotel.book: dict and tuple parameters
    (tool,) = env.tools
    assert tool["type"] == "function" and tool["function"]["name"] == "hotel_book"
    parameters = tool["function"]["parameters"]
    assert parameters["type"] == "object"
    assert parameters["properties"]["guests"]["type"] == "object"
    assert parameters["properties"]["guests"]["properties"]["adults"]["type"] == "integer"
    assert parameters["properties"]["dates"] == {"type": "array", "items": {"type": "string"}, "description": parameters["properties"]["dates"]["description"]}
    schema_from_dict(tool)  # a valid JSON schema (jsonschema's own check)
    assert env.get_wrapper_attr("tools") == env.tools
    floats = openai_tools([{"name": "a.b", "parameters": {"type": "dict", "properties": {"x": {"type": "float"}, "y": {"type": "any"}}}}, {"name": "a_b"}])
    assert floats[0]["function"]["name"] == "a.b"  # renaming would collide with a_b
    assert floats[0]["function"]["parameters"]["properties"] == {"x": {"type": "number"}, "y": {"type": "string"}}


def test_prompt_messages_and_system_prompt():
    env = make(categories="live_simple")
    observation, info = env.reset(options={"index": index_of(env, "live_simple_0-0-0")})
    assert observation == "price of tsla on nyse"
    system = info["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("You are a trading assistant.")
    assert "stock_price" in system["content"] and "func_name1(params_name1" in system["content"]
    observation, info = env.reset(options={"index": index_of(env, "live_simple_1-1-0")})
    assert [m["role"] for m in info["messages"]] == ["system", "user", "assistant", "user"]
    assert "user: I'm in Austin, TX." in observation and observation.endswith("user: And the weather there in fahrenheit?")
    bare = make(categories="simple", tools_in_prompt=False)
    _, info = bare.reset(seed=0)
    assert [m["role"] for m in info["messages"]] == ["user"]


def test_every_call_format_is_accepted():
    env = make(categories="parallel")
    index = index_of(env, "parallel_0")
    pythonic = "[get_weather(city='Rome, Italy'), get_weather(city='paris')]"
    hermes = (
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris, France"}}</tool_call>'
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Rome"}}</tool_call>'
    )
    openai = json.dumps({"role": "assistant", "content": None, "tool_calls": [
        {"id": "x", "type": "function", "function": {"name": "get_weather", "arguments": json.dumps({"city": "Rome"})}},
        {"id": "y", "type": "function", "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris"})}},
    ]})
    for action in (pythonic, hermes, openai):
        _, reward, _, _, info = play(env, index, action)
        assert reward == 1.0, info.get("error")
        assistant = info["messages"][-1]
        assert assistant["role"] == "assistant" and [c["function"]["name"] for c in assistant["tool_calls"]] == ["get_weather"] * 2


def test_perturbations_fail_as_they_should():
    env = make()
    cases = {
        "simple_python_1": [
            "[finance.compound_interest(principal=1000, rate=0.05, years=10)]",  # gold says monthly: not optional
            "[finance.compound_interest(principal=1000.0, rate=0.05, years=10, compounding='monthly')]",  # float for int
            "[finance.compound_interest(principal=1000, rate=0.05, years=10, compounding='monthly', tax=0.2)]",  # extra
            "[finance.simple_interest(principal=1000, rate=0.05, years=10, compounding='monthly')]",  # wrong function
            "[finance.compound_interest(principal=1000, rate=5, years=10, compounding='monthly')]",  # wrong value
            "[finance.compound_interest(principal='1000', rate=0.05, years=10, compounding='monthly')]",  # str for int
        ],
        "simple_python_2": ["[sort_numbers(numbers=[1.5, 2.0, 3.0], descending=True)]"],  # list order
        "parallel_1": ["[stock_price(ticker='AAPL')]", "[stock_price(ticker='AAPL'), stock_price(ticker='AAPL')]"],
        "irrelevance_0": ["[geometry.rectangle_area(width=1.0, height=1.0)]"],
        "live_relevance_0-0-0": ["I don't know."],
    }
    for bfcl_id, actions in cases.items():
        index = index_of(env, bfcl_id)
        for action in actions:
            _, reward, _, _, info = play(env, index, action)
            assert reward == 0.0 and info["reward_components"]["accuracy"] == 0.0, (bfcl_id, action)
            assert "error" in info
    # what should still pass: reordered parallel calls, int for float, optional parameter left out, normalised strings
    for bfcl_id, action in {
        "parallel_1": "[stock_price(ticker='MSFT', exchange='nasdaq'), stock_price(ticker='AAPL')]",
        "simple_python_0": "[geometry.rectangle_area(width=3, height=4.5)]",
        "simple_python_1": "[finance.compound_interest(principal=1000, rate=0.05, years=10, compounding='MONTHLY')]",
    }.items():
        _, reward, _, _, info = play(env, index_of(env, bfcl_id), action)
        assert reward == 1.0, (bfcl_id, info.get("error"))


def _hermes(*calls):
    return "".join("<tool_call>" + json.dumps({"name": n, "arguments": a}) + "</tool_call>" for n, a in calls)


def test_names_follow_bfcl_prompting_and_function_calling_rules():
    """Pythonic text is BFCL's prompting mode (the name as listed); Hermes / OpenAI tool calls are
    its function-calling mode (the tool's name, dots as underscores): the other spelling fails."""
    env = make()
    index = index_of(env, "simple_python_0")
    env.reset(options={"index": index})
    assert [t["function"]["name"] for t in env.tools] == ["geometry_rectangle_area"]
    area = {"width": 3, "height": 4.5}
    openai = json.dumps({"role": "assistant", "content": None, "tool_calls": [
        {"id": "x", "type": "function", "function": {"name": "geometry_rectangle_area", "arguments": json.dumps(area)}}]})
    for action, expected in (
        ("[geometry.rectangle_area(width=3, height=4.5)]", 1.0),
        ("[geometry_rectangle_area(width=3, height=4.5)]", 0.0),
        (_hermes(("geometry_rectangle_area", area)), 1.0),
        (_hermes(("geometry.rectangle_area", area)), 0.0),
        (openai, 1.0),
        (openai.replace("geometry_rectangle_area", "geometry.rectangle_area"), 0.0),
    ):
        _, reward, _, _, info = play(env, index, action)
        assert reward == expected, (action, info.get("error"))
        if not reward:
            assert "wrong" in info["error"] or "expected" in info["error"]


def test_python_tuples_pass_only_for_tuple_parameters():
    env = make(categories="simple")
    book = index_of(env, "simple_python_3")  # dates: a "tuple" parameter
    tail = "hotel='Grand Budapest', guests={'adults': 2, 'children': 1}"
    assert play(env, book, f"[hotel.book({tail}, dates=('2025-06-01', '2025-06-04'))]")[1] == 1.0
    assert play(env, book, f"[hotel.book({tail}, dates=['2025-06-01', '2025-06-04'])]")[1] == 1.0
    numbers = index_of(env, "simple_python_2")  # numbers: an "array" parameter
    assert play(env, numbers, "[sort_numbers(numbers=[3.0, 1.5, 2.0], descending=True)]")[1] == 1.0
    _, reward, _, _, info = play(env, numbers, "[sort_numbers(numbers=(3.0, 1.5, 2.0), descending=True)]")
    assert reward == 0.0 and "tuple" in info["error"]
    # the tuple is still a JSON array for everything else (the message the trainer sees)
    assert json.loads(info["messages"][-1]["tool_calls"][0]["function"]["arguments"])["numbers"] == [3.0, 1.5, 2.0]


def test_calls_recorded_through_call_tool_are_judged_by_their_tool_names():
    """call_tool is function calling (the names of env.tools); the final answer's own calls are
    judged by their format, so one turn may mix the two spellings, each in its own mode."""
    env = make(categories="parallel_multiple")
    index = index_of(env, "parallel_multiple_1")  # two geometry.rectangle_area calls and translate_text
    first, second = {"width": 2.0, "height": 2.0}, {"width": 1.0, "height": 3.0}
    translate = {"text": "area", "target": "fr"}
    for recorded, final, expected in (
        ("geometry_rectangle_area", render_pythonic([("geometry.rectangle_area", second), ("translate_text", translate)]), 1.0),
        ("geometry_rectangle_area", _hermes(("geometry_rectangle_area", second), ("translate_text", translate)), 1.0),
        ("geometry.rectangle_area", render_pythonic([("geometry.rectangle_area", second), ("translate_text", translate)]), 0.0),
        ("geometry_rectangle_area", render_pythonic([("geometry_rectangle_area", second), ("translate_text", translate)]), 0.0),
    ):
        env.reset(options={"index": index})
        env.call_tool(recorded, first)
        _, reward, _, _, info = env.step(final)
        assert reward == expected, (recorded, final, info.get("error"))
        assert info["messages"][-1]["tool_calls"][0]["function"]["name"] == recorded  # kept as the model wrote it
    env.reset(options={"index": index})
    for arguments in (first, second, translate):
        env.call_tool("translate_text" if arguments is translate else "geometry_rectangle_area", arguments)
    assert env.step("Done.")[1] == 1.0  # only recorded calls: all function calling


def test_f1_reward_gives_partial_credit():
    env = make(reward="f1", categories="parallel")
    _, reward, _, _, info = play(env, index_of(env, "parallel_1"), "[stock_price(ticker='AAPL')]")
    assert reward == pytest.approx(2 / 3) and info["reward_components"]["accuracy"] == 0.0


def test_call_tool_records_calls_judged_at_the_end():
    env = make(categories="parallel")
    env.reset(options={"index": index_of(env, "parallel_1")})
    assert "Recorded" in env.call_tool("stock_price", {"ticker": "AAPL"})
    assert "must be a JSON object" in env.call_tool("stock_price", "AAPL")  # type: ignore[arg-type]
    _, reward, _, _, info = env.step("[stock_price(ticker='MSFT')]")
    assert reward == 1.0 and [c["id"] for c in info["messages"][-1]["tool_calls"]] == ["call_0", "call_1"]
    env.reset(options={"index": index_of(env, "parallel_1")})
    assert env.recorded == []  # a new episode starts clean
    with pytest.raises(RuntimeError):
        make().call_tool("stock_price", {})


def test_pickles_and_renders_pythonic():
    env = make()
    env.reset(seed=4)
    copy = pickle.loads(pickle.dumps(env))
    assert copy.step(copy.oracle_action())[1] == env.step(env.oracle_action())[1] == 1.0
    assert render_pythonic([("a.b", {"x": 1.5, "s": "it's", "l": [True, None]})]) == "[a.b(x=1.5, s=\"it's\", l=[True, None])]"


# ---- the real data (when downloaded) -------------------------------------------------------


def _real_root() -> Path:
    if not (REAL.exists() and (list(REAL.glob("bfcl_eval-*.whl")) or REAL.is_file())):
        pytest.skip(f"the real BFCL data is not here: `pip download --no-deps bfcl-eval -d {REAL}` to run this test")
    return REAL


def test_real_data_oracle_scores_full_reward_and_tools_are_valid_schemas():
    root = _real_root()
    everything = load_bfcl(root)
    env = BFCLEnv(root)
    assert {p.meta["category"] for p in everything} == set(CATEGORIES)
    assert len(env.skipped) <= 10 and env.source.size + len(env.skipped) == len(everything)
    schemas_seen = set()
    for index in range(env.source.size):
        env.reset(options={"index": index})
        _, reward, _, _, info = env.step(env.oracle_action())
        assert reward == 1.0, (env.problem.id, info.get("error"))
        for tool in env.tools if index % 10 == 0 else ():  # jsonschema's meta-check is slow: a tenth of them
            key = json.dumps(tool, sort_keys=True)
            if key not in schemas_seen:
                schemas_seen.add(key)
                schema_from_dict(tool)
