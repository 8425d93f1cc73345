"""Math envs: procedural problems (exact, seeded, versioned), GSM8K/MATH loaders, rewards, oracle."""

from __future__ import annotations

import hashlib
import json
import pickle
import re
from fractions import Fraction

import pytest
from gymnasium.utils.env_checker import check_env

import thinkgym
from thinkgym.core import Problem
from thinkgym.envs.math import (
    KINDS,
    MathEnv,
    generate_problem,
    gsm8k_problems,
    last_boxed,
    load_records,
    math_problems,
    procedural_source,
)
from thinkgym.errors import ConfigError
from thinkgym.verifiers.process import ArithmeticChecker

MATH_IDS = ["thinkgym/Math-v0", "thinkgym/GSM8K-v0", "thinkgym/MATH-v0"]


# ---- registration and the env contract -------------------------------------------------------


@pytest.mark.parametrize("env_id", MATH_IDS)
def test_registered_and_checked(env_id: str) -> None:
    assert env_id in [s.id for s in thinkgym.list_envs()]
    check_env(thinkgym.make(env_id), skip_render_check=True)


@pytest.mark.parametrize("kwargs", [{"think": False}, {"answer_tag": "answer", "gate": True}, {"level": 5, "kinds": ["system"]}])
def test_variants_pass_check_env(kwargs: dict) -> None:
    check_env(thinkgym.make("thinkgym/Math-v0", **kwargs), skip_render_check=True)


# ---- procedural problems ---------------------------------------------------------------------


def _fingerprint(problems: list[Problem]) -> str:
    text = "\n".join(f"{p.id}|{p.prompt}|{p.answer}" for p in problems)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_generation_is_stable_forever() -> None:
    """Golden values: if generation changes on purpose, bump GENERATOR_VERSION and the env version."""
    source = procedural_source()
    first = [source.get(i) for i in range(3)]
    assert [p.id for p in first] == ["math-g0/all/Lmix/train/0", "math-g0/all/Lmix/train/1", "math-g0/all/Lmix/train/2"]
    assert _fingerprint(first) == GOLDEN_MIX
    assert _fingerprint([procedural_source(level=3, kinds=["linear"]).get(i) for i in range(5)]) == GOLDEN_LINEAR_L3
    assert _fingerprint(procedural_source(split="test").take(4, seed=1)) == GOLDEN_TEST_TAKE


GOLDEN_MIX = "149309c97e023e96"
GOLDEN_LINEAR_L3 = "9430fe3bbb4da689"
GOLDEN_TEST_TAKE = "c781af7c4612c361"


def test_same_index_same_problem_and_seeded_reset() -> None:
    a, b = procedural_source(level=2), procedural_source(level=2)
    assert [a.get(i) for i in range(20)] == [b.get(i) for i in range(20)]
    env = thinkgym.make("thinkgym/Math-v0")
    first = env.reset(seed=5)
    again = env.reset(seed=5)
    assert first == again
    assert env.reset(seed=6)[1]["problem_id"] != first[1]["problem_id"]


def test_configuration_is_part_of_the_id_and_validated() -> None:
    assert procedural_source(level=4, kinds=["fractions", "word"]).get(7).id == "math-g0/fractions+word/L4/train/7"
    for bad in ({"level": 0}, {"level": 6}, {"level": "3"}, {"kinds": ["calculus"]}, {"kinds": []}):
        with pytest.raises(ConfigError):
            procedural_source(**bad)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_and_level_generates(kind: str) -> None:
    source = procedural_source(kinds=[kind])
    levels = set()
    for i in range(40):
        problem = source.get(i)
        assert problem.meta["kind"] == kind
        levels.add(problem.meta["level"])
        assert problem.prompt and problem.answer
    assert levels == {1, 2, 3, 4, 5}


def _latex_between_dollars(prompt: str) -> list[str]:
    return re.findall(r"\$\$(.+?)\$\$|\$(.+?)\$", prompt)


def _sympy_gold(problem: Problem):
    """Solve our own prompt independently with latex2sympy + sympy (test-only, our own text)."""
    import sympy
    from latex2sympy2_extended import latex2sympy

    kind = problem.meta["kind"]
    if kind in ("arithmetic", "fractions"):
        expr = re.search(r"Compute \$(.+?)\$", problem.prompt).group(1)
        return [sympy.nsimplify(latex2sympy(expr))]
    if kind == "linear":
        eq = re.search(r"Solve for \$x\$: \$(.+?)\$\.", problem.prompt).group(1)
        left, right = eq.split("=")
        x = sympy.Symbol("x")
        return sympy.solve(sympy.Eq(latex2sympy(left), latex2sympy(right)), x)
    if kind == "system":
        equations = re.findall(r"\$\$(.+?)\$\$", problem.prompt)
        names = sympy.symbols("x y z")[: len(equations)]
        eqs = [sympy.Eq(latex2sympy(e.split("=")[0]), latex2sympy(e.split("=")[1])) for e in equations]
        solved = sympy.solve(eqs, names, dict=True)
        assert len(solved) == 1
        return [tuple(solved[0][n] for n in names)]
    if kind == "polynomial":
        poly = re.search(r"roots of \$(.+?) = 0\$", problem.prompt).group(1)
        x = sympy.Symbol("x")
        return sorted(set(sympy.solve(latex2sympy(poly), x)))
    return None


def _exact(value) -> Fraction:
    import sympy

    return Fraction(str(sympy.nsimplify(sympy.simplify(value))))


def _gold_values(problem: Problem):
    kind = problem.meta["kind"]
    if kind == "system":
        return [tuple(Fraction(v) for v in problem.answer.strip("()").split(", "))]
    return [Fraction(v) for v in problem.answer.split(", ")]


@pytest.mark.parametrize("kind", ["arithmetic", "fractions", "linear", "system", "polynomial"])
def test_gold_answers_agree_with_sympy(kind: str) -> None:
    source = procedural_source(kinds=[kind])
    for i in range(25):
        problem = source.get(i)
        expected = _sympy_gold(problem)
        got = _gold_values(problem)
        normalized = [tuple(_exact(v) for v in e) if isinstance(e, tuple) else _exact(e) for e in expected]
        assert normalized == got, (problem.prompt, problem.answer, expected)


def test_worked_solutions_make_no_arithmetic_mistakes() -> None:
    """Every claim like '12 + 5 = 17' in our own solutions holds (and the last one is the answer)."""
    checker = ArithmeticChecker()
    source = procedural_source()
    checked = 0
    for i in range(150):
        problem = source.get(i)
        reward = checker(problem.meta["solution"], problem)
        assert reward.score == 1.0, (problem.meta, reward.info["wrong_claims"])
        checked += reward.info["claims_checked"]
    assert checked > 200
    for kind in ("percent", "word"):  # the last claim of these solutions states the gold answer
        for i in range(20):
            problem = procedural_source(kinds=[kind]).get(i)
            last = problem.meta["solution"].splitlines()[-1]
            assert Fraction(last.split("=")[-1].strip()) == Fraction(problem.answer)


# ---- rewards -------------------------------------------------------------------------------


def _play(env: MathEnv, action: str, index: int = 0) -> tuple[float, dict]:
    env.reset(options={"index": index})
    _, reward, terminated, truncated, info = env.step(action)
    assert terminated and not truncated
    return reward, info


@pytest.mark.parametrize("env_id", MATH_IDS)
def test_oracle_earns_full_reward_on_many_problems(env_id: str) -> None:
    env = thinkgym.make(env_id)
    count = 60 if env_id == "thinkgym/Math-v0" else env.source.size
    for i in range(count):
        env.reset(options={"index": i})
        reward, info = _play(env, env.oracle_action(), i)
        assert reward == pytest.approx(1.0), (env.problem, info["reward_info"])
        assert info["reward_components"]["accuracy"] == 1.0 and info["reward_components"]["format"] == 1.0


def test_prompt_asks_for_the_configured_format() -> None:
    default = thinkgym.make("thinkgym/Math-v0").reset(seed=0)[0]
    assert "<think>" in default and "\\boxed" in default
    tagged = thinkgym.make("thinkgym/Math-v0", answer_tag="answer").reset(seed=0)[0]
    assert "<answer>" in tagged
    plain = thinkgym.make("thinkgym/Math-v0", think=False).reset(seed=0)[0]
    assert "<think>" not in plain and "\\boxed" in plain
    custom = thinkgym.make("thinkgym/Math-v0", prompt_template="Q: {problem}\nA:").reset(seed=0)[0]
    assert custom.startswith("Q: ") and custom.endswith("A:")
    with pytest.raises(ConfigError):
        thinkgym.make("thinkgym/Math-v0", prompt_template="no placeholder")


def test_wrong_answer_keeps_only_the_format_part() -> None:
    env = thinkgym.make("thinkgym/Math-v0", kinds=["arithmetic"])
    env.reset(options={"index": 3})
    wrong = str(int(env.problem.answer) + 1)
    reward, info = _play(env, f"<think>let me see</think> The answer is $\\boxed{{{wrong}}}$.", 3)
    assert reward == pytest.approx(0.1)
    assert info["reward_components"] == {"accuracy": 0.0, "format": 1.0}


def test_answer_only_inside_think_is_not_extracted() -> None:
    env = thinkgym.make("thinkgym/Math-v0", kinds=["arithmetic"])
    env.reset(options={"index": 0})
    gold = env.problem.answer
    reward, info = _play(env, f"<think>so it is \\boxed{{{gold}}}</think> I am not sure.", 0)
    assert info["reward_components"]["accuracy"] == 0.0
    reward, info = _play(env, f"<think>so it is \\boxed{{{gold}}}", 0)  # unclosed think
    assert reward == 0.0


def test_weights_gate_and_think_free_mode() -> None:
    env = thinkgym.make("thinkgym/Math-v0", answer_tag="answer", accuracy_weight=3, format_weight=1)
    env.reset(options={"index": 1})
    gold = env.problem.answer
    no_answer_block = f"<think>work</think> \\boxed{{{gold}}}"
    reward, info = _play(env, no_answer_block, 1)
    assert reward == pytest.approx(0.75) and info["reward_components"]["format"] == 0.0
    gated = thinkgym.make("thinkgym/Math-v0", answer_tag="answer", gate=True)
    reward, info = _play(gated, no_answer_block, 1)
    assert reward == 0.0 and info["reward_components"]["accuracy"] == 0.0
    reward, _ = _play(gated, f"<think>work</think><answer>{gold}</answer>", 1)
    assert reward == pytest.approx(1.0)
    plain = thinkgym.make("thinkgym/Math-v0", think=False)
    plain.reset(options={"index": 1})
    reward, info = _play(plain, f"It is \\boxed{{{plain.problem.answer}}}", 1)
    assert reward == 1.0 and set(info["reward_components"]) == {"accuracy"}
    reward, _ = _play(plain, plain.oracle_action(), 1)
    assert reward == 1.0


def test_verifier_pickles_for_worker_processes() -> None:
    env = thinkgym.make("thinkgym/Math-v0", gate=True)
    env.reset(options={"index": 2})
    clone = pickle.loads(pickle.dumps(env.verifier))
    action = env.oracle_action()
    assert clone(action, env.problem) == env.verifier(action, env.problem)


# ---- datasets --------------------------------------------------------------------------------

GSM_ROWS = [
    {"question": "Ann has 3 bags of 4 apples. How many apples?", "answer": "3 * 4 = <<3*4=12>>12\n#### 12"},
    {"question": "A town has 1,250 people and 750 more arrive. How many now?", "answer": "1250 + 750 = 2000\n#### 2,000"},
    {"question": "Broken row without an answer marker.", "answer": "no marker here"},
]
MATH_ROWS = [
    {"problem": "Compute $\\frac{1}{2} + \\frac{1}{3}$.", "solution": "It is $\\boxed{\\frac{5}{6}}$.", "level": "Level 1", "type": "Prealgebra"},
    {"problem": "Solve $x^2 = 4$.", "solution": "So $x = \\pm 2$, that is $\\boxed{-2, 2}$.", "level": "Level 2", "type": "Algebra"},
    {"problem": "Area?", "solution": "First \\boxed{3}, then really \\fbox{\\sqrt{2}}", "answer": ""},
    {"problem": "Given answer column.", "solution": "No box here.", "answer": "7"},
]


def _write_jsonl(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_gsm8k_from_jsonl_parquet_and_csv(tmp_path) -> None:
    import datasets

    jsonl = tmp_path / "gsm.jsonl"
    _write_jsonl(jsonl, GSM_ROWS)
    parquet = tmp_path / "gsm.parquet"
    datasets.Dataset.from_list(GSM_ROWS).to_parquet(str(parquet))
    csv = tmp_path / "gsm.csv"
    datasets.Dataset.from_list(GSM_ROWS).to_csv(str(csv))
    for path in (jsonl, parquet, csv):
        env = thinkgym.make("thinkgym/GSM8K-v0", path=str(path))
        assert env.source.size == 2  # the row without '####' is skipped
        golds = [env.source.get(i).answer for i in range(2)]
        assert golds == ["12", "2000"]
        first = env.source.get(0)
        assert first.id.startswith("gsm8k/test/0-") and "<<" not in first.meta["solution"]
        reward, _ = _play(env, "<think>3 times 4</think> The answer is \\boxed{12}.", 0)
        assert reward == pytest.approx(1.0)
    assert thinkgym.make("thinkgym/GSM8K-v0", path=str(jsonl), limit=1).source.size == 1


def test_math_rows_and_boxed_extraction(tmp_path) -> None:
    path = tmp_path / "math.jsonl"
    _write_jsonl(path, MATH_ROWS)
    problems = math_problems(load_records(path))
    assert [p.answer for p in problems] == ["\\frac{5}{6}", "-2, 2", "\\sqrt{2}", "7"]
    assert problems[0].meta["level"] == "Level 1" and problems[0].meta["type"] == "Prealgebra"
    env = thinkgym.make("thinkgym/MATH-v0", path=str(path))
    reward, _ = _play(env, "<think>1/2 + 1/3 = 5/6</think> So $\\boxed{\\dfrac{5}{6}}$", 0)
    assert reward == pytest.approx(1.0)
    assert last_boxed("a \\boxed{\\frac{1}{2}} b \\boxed{x^{2}}") == "x^{2}"
    assert last_boxed("\\boxed{unclosed") is None and last_boxed("none") is None


def test_dataset_by_name_goes_through_load_dataset(tmp_path) -> None:
    folder = tmp_path / "my_gsm"
    folder.mkdir()
    _write_jsonl(folder / "test.jsonl", GSM_ROWS[:2])
    env = thinkgym.make("thinkgym/GSM8K-v0", dataset=str(folder), config=None, split="test")
    assert env.source.size == 2 and env.source.get(1).answer == "2000"


def test_local_data_ids_do_not_depend_on_where_the_data_lives(tmp_path) -> None:
    """Issue 14 item 10: dataset= with a local folder put the absolute path into problem ids."""
    ids = []
    for where in ("a/deep/place", "elsewhere"):
        folder = tmp_path / where / "my_gsm"
        folder.mkdir(parents=True)
        _write_jsonl(folder / "test.jsonl", GSM_ROWS[:2])
        env = thinkgym.make("thinkgym/GSM8K-v0", dataset=str(folder))  # no config=None needed either
        ids.append([env.source.get(i).id for i in range(env.source.size)])
        assert all(str(tmp_path) not in pid and "elsewhere" not in pid for pid in ids[-1])
    assert ids[0] == ids[1] and ids[0][0].startswith("gsm8k/test/0-")
    path_ids = thinkgym.make("thinkgym/GSM8K-v0", path=str(folder / "test.jsonl")).source
    assert [path_ids.get(i).id for i in range(2)] == ids[0]  # path= and dataset= agree


def test_data_files_pass_through_to_load_dataset(tmp_path) -> None:
    """Issue 14 item 10: data_files= reaches datasets.load_dataset (alone, or with a builder)."""
    import datasets

    _write_jsonl(tmp_path / "part1.jsonl", GSM_ROWS[:1])
    _write_jsonl(tmp_path / "part2.jsonl", GSM_ROWS[1:2])
    files = [str(tmp_path / "part1.jsonl"), str(tmp_path / "part2.jsonl")]
    alone = thinkgym.make("thinkgym/GSM8K-v0", data_files=files)
    assert [alone.source.get(i).answer for i in range(2)] == ["12", "2000"]
    by_split = thinkgym.make("thinkgym/GSM8K-v0", dataset="json", data_files={"train": files[:1]}, split="train")
    assert by_split.source.size == 1 and by_split.source.get(0).id.startswith("gsm8k/train/0-")
    datasets.Dataset.from_list(MATH_ROWS[:2]).to_parquet(str(tmp_path / "m.parquet"))
    maths = thinkgym.make("thinkgym/MATH-v0", data_files=str(tmp_path / "m.parquet"))
    assert [maths.source.get(i).answer for i in range(maths.source.size)] == ["\\frac{5}{6}", "-2, 2"]
    with pytest.raises(ConfigError, match="cannot tell the format"):
        thinkgym.make("thinkgym/GSM8K-v0", data_files=str(tmp_path / "notes.txt"))
    with pytest.raises(ConfigError, match="not with path="):
        load_records(tmp_path / "part1.jsonl", data_files=files)


def test_asking_for_more_problems_than_the_data_holds_is_an_error(tmp_path) -> None:
    """Issue 14 item 10: to_dataset(n=40) on a 16-problem source silently repeated problems."""
    pytest.importorskip("datasets")
    from thinkgym.agents.trl import to_dataset

    size = thinkgym.make("thinkgym/GSM8K-v0").source.size
    with pytest.raises(ConfigError, match=f"holds {size}"):
        to_dataset("thinkgym/GSM8K-v0", n=size + 24)
    rows = to_dataset("thinkgym/GSM8K-v0", n=size)
    assert len(set(rows["problem_id"])) == size  # all of them, each once
    source = thinkgym.make("thinkgym/GSM8K-v0").source
    cycled = source.take(size + 3, seed=1, repeat=True)  # on purpose only
    assert len(cycled) == size + 3 and len({p.id for p in cycled}) == size


def test_procedural_env_pickles_without_closures() -> None:
    """Issue 14 item 3: 'Can't pickle local object procedural_source.<locals>.make'."""
    env = thinkgym.make("thinkgym/Math-v0", level=2, kinds=["fractions", "linear"])
    env.reset(seed=9)
    copy = pickle.loads(pickle.dumps(env))
    assert copy.problem == env.problem and copy.source.get(123) == env.source.get(123)
    assert pickle.loads(pickle.dumps(procedural_source(3))).get(5) == procedural_source(3).get(5)


def test_builtin_samples_work_offline(caplog, monkeypatch) -> None:
    import thinkgym.envs.math as math_envs

    monkeypatch.setattr(math_envs, "_SAMPLE_NOTICES", set())
    with caplog.at_level("WARNING", logger="thinkgym"):
        thinkgym.make("thinkgym/GSM8K-v0")
        thinkgym.make("thinkgym/GSM8K-v0")
    notices = [r for r in caplog.records if "built-in gsm8k_sample" in r.getMessage()]
    assert len(notices) == 1  # loud once, not on every make()
    gsm = thinkgym.make("thinkgym/GSM8K-v0")
    assert gsm.source.size >= 10 and gsm.source.get(0).id.startswith("gsm8k-sample/sample/0-")
    for i in range(gsm.source.size):  # our sample's worked solutions are arithmetically sound
        assert ArithmeticChecker()(gsm.source.get(i).meta["solution"]).score == 1.0
    maths = thinkgym.make("thinkgym/MATH-v0")
    assert maths.source.size >= 10 and all(maths.source.get(i).answer for i in range(maths.source.size))


def test_bad_data_gives_clear_errors(tmp_path) -> None:
    with pytest.raises(ConfigError, match="no such data file"):
        load_records(tmp_path / "missing.jsonl")
    with pytest.raises(ConfigError, match="exactly one"):
        load_records(tmp_path / "a.jsonl", dataset="x")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q"}\nnot json\n')
    with pytest.raises(ConfigError, match=":2"):
        load_records(bad)
    cols = tmp_path / "cols.jsonl"
    _write_jsonl(cols, [{"q": "x", "a": "#### 1"}])
    with pytest.raises(ConfigError, match="lacks column"):
        thinkgym.make("thinkgym/GSM8K-v0", path=str(cols))
    none = tmp_path / "none.jsonl"
    _write_jsonl(none, [GSM_ROWS[2]])
    with pytest.raises(ConfigError, match="no usable"):
        thinkgym.make("thinkgym/GSM8K-v0", path=str(none))
    with pytest.raises(ConfigError, match="unsupported"):
        (tmp_path / "x.txt").write_text("hi")
        load_records(tmp_path / "x.txt")
    assert gsm8k_problems(GSM_ROWS[:1], tag="t", split="s")[0].id.startswith("t/s/0-")


def test_generate_problem_directly() -> None:
    import numpy as np

    problem = generate_problem(np.random.default_rng(0), "custom/0", level=1, kinds=["word"])
    assert problem.meta == {"kind": "word", "level": 1, "solution": problem.meta["solution"]}
    assert problem.id == "custom/0"


def test_source_tags_never_hold_a_path(tmp_path) -> None:
    from thinkgym.envs.records import source_tag

    assert source_tag("gsm8k", None) == "gsm8k"  # path=
    assert source_tag("gsm8k", str(tmp_path)) == "gsm8k"  # a local folder
    assert source_tag("gsm8k", "json", data_files=[str(tmp_path / "a.jsonl")]) == "gsm8k"
    assert source_tag("gsm8k", "openai/gsm8k") == "openai_gsm8k"  # a hub dataset: its name
    assert source_tag("math", "HuggingFaceH4/MATH-500") == "HuggingFaceH4_MATH-500"
