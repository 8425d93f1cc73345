"""Function tests judged in the trainer: a calls job sends plain values back, the trainer compares.

The codec that carries the candidate's values must rebuild every plain type exactly and refuse
anything else; the trainer only takes this path for tests it can evaluate safely; and a candidate
that hangs, crashes, floods or raises gets the same verdicts as under the judge in the sandbox.
"""

from __future__ import annotations

import json
import math
import sys
import textwrap
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkgym.core import Problem
from thinkgym.sandbox.base import Limits
from thinkgym.verifiers import _code_harness as harness
from thinkgym.verifiers.code import CodeVerifier, FunctionTests, _prepare_function

# ---------------------------------------------------------------------------------------------
# The codec
# ---------------------------------------------------------------------------------------------

hashable = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.binary(),
    lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3),
    max_leaves=8,
)
plain = st.recursive(
    hashable | st.complex_numbers(allow_nan=False) | st.integers(min_value=-(2**13000), max_value=2**13000),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner) | st.dictionaries(hashable, inner, max_size=3)
    | st.sets(hashable, max_size=3),
    max_leaves=20,
)


def same(a: object, b: object) -> bool:
    """Equal, and of the same type all the way down (1 == 1.0 == True would hide a lost type)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(x, y) for x, y in zip(a.values(), b.values(), strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def reply(value: object) -> list | None:
    line = json.dumps([1, "ok", harness.encode_plain(value), 0.5], separators=(",", ":"))
    return harness.decode_reply_line(line)


@settings(max_examples=300, deadline=None)
@given(plain)
def test_every_plain_value_comes_back_with_its_types(value):
    item = reply(value)
    assert item is not None
    assert same(item[2], value)


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), -0.0, 2**20000, -(2**20000), "\ud800 lone surrogate", b"\x00\xff", 3 + 4j,
     {(1, 2): {frozenset({1}): [None, True, 1, 1.0]}}, (), set(), [[[]]]],  # fmt: skip
    ids=lambda value: type(value).__name__,
)
def test_edge_values_come_back_exactly(value):
    assert same(reply(value)[2], value)


@pytest.mark.parametrize(
    "line",
    [
        "",
        "not json",
        '{"t": [1]}',  # not a reply list
        "[true, \"ok\", 1, 0.0]",  # a bool is not a sequence number
        '[1, "win", 1, 0.0]',  # unknown kind
        '[1, "ok", 1]',  # no duration
        '[1, "ok", {"x": 1}, 0.0]',  # unknown tag
        '[1, "ok", {"t": [1], "s": [2]}, 0.0]',  # two tags
        '[1, "ok", {"d": [[[1], 2]]}, 0.0]',  # a list as a dict key
        '[1, "ok", {"s": [[1]]}, 0.0]',  # a list in a set
        '[1, "ok", {"c": ["1", 2]}, 0.0]',  # complex parts must be numbers
        '[1, "err", "ValueError", "x", "yes", 0.0]',  # flag must be a bool
        '[1, "def_error", 3]',
        "[1, \"ok\", " + "1" * 5000 + ", 0.0]",  # decimal ints past Python's digit limit
        "[" * 100_000 + "]" * 100_000,  # nesting deeper than the decoder's recursion limit
    ],
    ids=lambda line: line[:24],
)
def test_forged_or_broken_reply_lines_are_refused_not_raised(line):
    assert harness.decode_reply_line(line) is None


def test_a_value_that_is_not_plain_cannot_be_encoded():
    with pytest.raises(TypeError):
        harness.encode_plain(object())


# ---------------------------------------------------------------------------------------------
# Which tests the trainer judges itself
# ---------------------------------------------------------------------------------------------


def plan_of(test: str, prompt: str = "def f(x):\n    pass\n"):
    return _prepare_function(FunctionTests(prompt=prompt, entry_point="f", test=test), ())


def check(*lines: str, head: str = "") -> str:
    return head + "def check(candidate):\n" + "".join(f"    {line}\n" for line in lines)


@pytest.mark.parametrize(
    "test",
    [
        check("assert candidate(1) == 2", "assert candidate([1, 2]) != [3]"),
        check("assert abs(candidate(1.5) - 0.5) < 1e-6", "assert not candidate(0)"),
        check("import math", "assert math.isclose(candidate(2), 4.0)"),
        check("assert candidate(3) == LIMIT", head="LIMIT = 3\n"),
        check("x = candidate(1)", "assert x == 2", "assert sorted(candidate(2)) == [1, 2]"),
        check("assert isinstance(candidate(1), int)", "assert candidate(1) == 2 ** 10"),
        check("assert True, 'message'", "assert candidate(x=1) in {1, 2}"),
    ],
)
def test_simple_tests_are_judged_outside(test):
    assert plan_of(test).host_setup is not None


STUB = "def f(x):\n    pass\n"


@pytest.mark.parametrize(
    "test, prompt, why",
    [
        (check("for i in range(3):", "    assert candidate(i) == i"), STUB, "a loop"),
        (check("assert candidate(list(range(3))) == 3"), STUB, "a computed argument"),
        (check("print(candidate(1))"), STUB, "a call outside the safe builtins"),
        (check("assert candidate(1) * 10 ** 6 == 5"), STUB, "a product with the candidate's value"),
        (check("assert 2 ** candidate(1) == 4"), STUB, "a power of the candidate's value"),
        (check("import math", "assert math.factorial(candidate(1)) == 1"), STUB, "math beyond the safe list"),
        (check("assert sum(candidate(1), []) == []"), STUB, "sum with a start value"),
        (check("assert sorted([3, 1], key=candidate) == [1, 3]"), STUB, "the candidate passed as a value"),
        (check("assert candidate(1) == helper(1)", head="def helper(x):\n    return x\n"), STUB, "a test helper"),
        (check("import os", "assert candidate(1) == 1"), STUB, "an import other than math"),
        (check("assert abs(candidate(1)) == 1"), STUB + "def abs(x):\n    return x\n", "the prompt shadows abs"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 and "\n" not in value else "",
)
def test_other_tests_stay_with_the_judge_in_the_sandbox(test, prompt, why):
    assert plan_of(test, prompt).host_setup is None, why


def test_a_call_nobody_predicted_asks_for_the_sandbox_judge():
    """Replaying recorded replies, the trainer never makes a call the job did not make."""
    payload = {"steps": [["unit", "assert candidate(1) == 1", "t0"]], "test_timeout": 1.0, "prefetch": [],
               "proxies": [["candidate", "f"]]}  # fmt: skip
    judge = harness.RecordedJudge([("defined",)], ("lost", "unused"))
    harness.run_function_tests(judge, payload, [compile("", "s", "exec"), compile("assert candidate(1) == 1", "t", "exec")])
    assert judge.records == [{"ev": "retry", "next": 0}]
    assert judge.retry_reason == "the tests made a call that was not predicted"


# ---------------------------------------------------------------------------------------------
# Behaviour in a real sandbox, against the judge in the sandbox
# ---------------------------------------------------------------------------------------------

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the local sandbox needs Linux")

SQUARE = Problem(
    "outside/square",
    "",
    None,
    {
        "prompt": "def square(x):\n    pass\n",
        "test": check("assert candidate(1) == 1", "assert candidate(2) == 4", "assert candidate(3) == 9",
                      "assert candidate(-4) == 16"),  # fmt: skip
        "entry_point": "square",
    },
)


def fence(code: str) -> str:
    return "```python\n" + textwrap.dedent(code).strip("\n") + "\n```"


@pytest.fixture(scope="module")
def sandbox():
    from thinkgym.sandbox import make_sandbox

    box = make_sandbox("local")
    yield box
    box.close()


def verifiers(sandbox, **options) -> tuple[CodeVerifier, CodeVerifier]:
    options = {"test_timeout_s": 1.0, "limits": Limits(wall_s=8.0, memory_mb=512), **options}
    return CodeVerifier(sandbox, **options), CodeVerifier(sandbox, judge="sandbox", **options)


CANDIDATES = {
    "right": "def square(x):\n    return x * x",
    "wrong": "def square(x):\n    return x + x",
    "raises": "def square(x):\n    if x == 3:\n        raise ValueError('three')\n    return x * x",
    "not plain": "class N(int):\n    def __eq__(self, o):\n        return True\ndef square(x):\n    return object()",
    "int subclass": "class N(int):\n    def __eq__(self, o):\n        return True\n__hash__ = None\ndef square(x):\n    return N(x * x)",
    "float": "def square(x):\n    return float(x * x)",
    "exits": "import sys\ndef square(x):\n    if x == 2:\n        sys.exit(0)\n    return x * x",
    "does not load": "raise RuntimeError('broken at import')\ndef square(x):\n    return x * x",
    "hangs in Python": "def square(x):\n    while x == 2:\n        pass\n    return x * x",
    "dies": "import os\ndef square(x):\n    if x == 3:\n        os._exit(0)\n    return x * x",
}


@linux_only
@pytest.mark.parametrize("name", list(CANDIDATES))
def test_both_judges_agree(sandbox, name):
    outside, inside = verifiers(sandbox)
    a, b = outside(fence(CANDIDATES[name]), SQUARE), inside(fence(CANDIDATES[name]), SQUARE)
    assert a.info["harness_hardening"] == ["judged-outside-the-sandbox"]
    assert [t["passed"] for t in a.info["tests"]] == [t["passed"] for t in b.info["tests"]], (a.info, b.info)
    assert a.score == b.score


@linux_only
def test_a_hang_fails_only_its_own_test(sandbox):
    outside, _ = verifiers(sandbox)
    reward = outside(fence(CANDIDATES["hangs in Python"]), SQUARE)
    assert [t["passed"] for t in reward.info["tests"]] == [True, False, True, True]
    assert reward.info["tests"][1]["reason"] == "time limit exceeded"
    assert reward.info["jobs"] == 2  # the tests after it ran in a fresh job


@linux_only
def test_a_crash_is_pinned_on_the_call_that_caused_it(sandbox):
    """The first job writes its replies in one batch, lost with the process: a careful re-run (one
    write per reply) tells which call ended it, and the tests before it keep their verdicts."""
    outside, _ = verifiers(sandbox)
    reward = outside(fence(CANDIDATES["dies"]), SQUARE)
    assert [t["passed"] for t in reward.info["tests"]] == [True, True, False, True]
    assert reward.info["tests"][2]["reason"] == "the candidate process ended (exit status 0)"
    assert reward.info["jobs"] == 3


@linux_only
def test_values_past_the_output_limit_go_to_the_judge_in_the_sandbox(sandbox):
    problem = Problem("outside/long", "", None, {"prompt": "def long(n):\n    pass\n", "entry_point": "long",
                                                 "test": check("assert len(candidate(50000)) == 50000")})  # fmt: skip
    outside = CodeVerifier(sandbox, limits=Limits(wall_s=8.0, max_output_bytes=10_000))
    reward = outside(fence("def long(n):\n    return 'x' * n"), problem)
    assert reward.score == 1.0, reward.info
    assert reward.info["jobs"] == 2 and "judged-outside-the-sandbox" not in reward.info["harness_hardening"]


@linux_only
def test_reported_times_are_the_candidates(sandbox):
    outside, _ = verifiers(sandbox, report_times=True)
    reward = outside(fence("import time\ndef square(x):\n    time.sleep(0.05)\n    return x * x"), SQUARE)
    assert reward.score == 1.0
    assert all(t["time_s"] >= 0.05 for t in reward.info["tests"]), reward.info


@linux_only
def test_calls_jobs_share_the_pool_with_other_jobs(sandbox):
    """Warm job processes prepared for calls jobs (warmed up ahead) serve any job, and back."""
    outside, inside = verifiers(sandbox)
    for _ in range(3):
        assert outside(fence(CANDIDATES["right"]), SQUARE).score == 1.0
        assert sandbox.run("print(6 * 7)").stdout == "42\n"
        assert inside(fence(CANDIDATES["right"]), SQUARE).score == 1.0


# ---------------------------------------------------------------------------------------------
# The calls job started before the analysis (its stdin open for the candidate, then the calls)
# ---------------------------------------------------------------------------------------------


class Submits:
    """Counts the jobs a verifier starts with an open stdin, and how each one ended."""

    def __init__(self, sandbox):
        self.sandbox, self.open, self.results = sandbox, 0, []

    def __enter__(self):
        original = self.original = self.sandbox.submit

        def submit(job, *, stdin_open=False):
            started = original(job, stdin_open=stdin_open)
            if stdin_open:
                self.open += 1
                result = started.result

                def record():
                    self.results.append(result())
                    return self.results[-1]

                started.result = record
            return started

        self.sandbox.submit = submit
        return self

    def __exit__(self, *exc):
        del self.sandbox.submit


def sandbox_judged_problem(name: str) -> Problem:
    """Tests the trainer will not judge (a loop): the calls job started early is cancelled."""
    test = check("for x in (1, 2, 3):", "    assert candidate(x) == x * x")
    return Problem(name, "", None, {"prompt": "def square(x):\n    pass\n", "test": test, "entry_point": "square"})


@linux_only
def test_a_single_verification_starts_its_calls_job_first(sandbox):
    outside, _ = verifiers(sandbox)
    with Submits(sandbox) as submits:
        reward = outside(fence(CANDIDATES["right"]), SQUARE)
    assert reward.score == 1.0 and reward.info["jobs"] == 1
    assert submits.open == 1 and submits.results[0].exit_code == 0


@linux_only
def test_tests_judged_in_the_sandbox_cancel_the_early_job_once_and_leave_nothing(sandbox):
    from tests.sandbox.conftest import census, wait_back_to

    baseline = len(census(sandbox))
    outside, _ = verifiers(sandbox)
    problem = sandbox_judged_problem("outside/loop-first-sight")
    with Submits(sandbox) as submits:
        first = outside(fence(CANDIDATES["right"]), problem)
        again = outside(fence(CANDIDATES["wrong"]), problem)
    assert first.score == 1.0 and again.score == 0.0
    assert "judged-outside-the-sandbox" not in first.info["harness_hardening"]
    assert submits.open == 1  # cancelled the first time, known after that
    assert submits.results[0].exit_code is None  # killed, its result thrown away
    assert wait_back_to(sandbox, baseline) <= baseline


@linux_only
def test_a_candidate_that_hangs_while_it_loads_fails_within_the_test_timeout(sandbox):
    outside, _ = verifiers(sandbox)
    code = "while True:\n    pass\ndef square(x):\n    return x * x"
    start = time.monotonic()
    reward = outside(fence(code), SQUARE)
    assert reward.score == 0.0 and time.monotonic() - start < 6, reward.info  # 1 s per test, not the 8 s budget
    assert all(not t["passed"] for t in reward.info["tests"])


@linux_only
def test_a_candidate_that_steals_its_calls_from_the_request_earns_nothing(sandbox):
    """The calls arrive on a pipe the harness keeps open while the candidate loads: a candidate
    that reads them first only starves its own job."""
    thief = (
        "import os\n"
        "stolen = b''\n"
        "for fd in range(3, 64):\n"
        "    try:\n"
        "        os.set_blocking(fd, False)\n"
        "        stolen += os.read(fd, 1 << 16)\n"
        "    except OSError:\n"
        "        pass\n"
        "def square(x):\n"
        "    return x * x\n"
    )
    outside, _ = verifiers(sandbox)
    start = time.monotonic()
    reward = outside(fence(thief), SQUARE)
    assert all(isinstance(t["passed"], bool) for t in reward.info["tests"]) and time.monotonic() - start < 8
    assert outside(fence(CANDIDATES["right"]), SQUARE).score == 1.0
    assert reward.score < 1.0 or reward.info["jobs"] > 1, reward.info  # never a pass from a lost request
