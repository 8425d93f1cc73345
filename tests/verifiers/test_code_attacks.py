"""Fake-success tricks against the code verifier: none of them may pass a single test.

Each attack is real code run in every sandbox backend available here (local; docker where an
engine runs or can be started). Where an attack searches for something (a canary in the hidden
tests), a control run shows that the same search code does find it when it is within reach, and
the contained run shows that the search really looked — so a zero score means "contained", not
"the attack was broken".
"""

from __future__ import annotations

import secrets
import sys
import textwrap

import pytest

from thinkgym.core import Problem
from thinkgym.sandbox.base import Limits
from thinkgym.verifiers.code import CodeVerifier

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the local sandbox needs Linux")

TRIPLE = Problem(
    "attack/triple",
    "",
    None,
    {
        "format": "function",
        "prompt": "def triple(x):\n    pass\n",
        "test": "def check(candidate):\n    assert candidate(1) == 3\n    assert candidate(7) == 21\n    assert candidate(-2) == -6\n",
        "entry_point": "triple",
    },
)


def fence(code: str) -> str:
    return "```python\n" + textwrap.dedent(code).strip("\n") + "\n```"


@pytest.fixture(scope="module", params=["local", "docker"])
def sandbox(request):
    """Every attack runs on each backend available here (docker only where an engine runs)."""
    from thinkgym.sandbox import available_backends, make_sandbox

    if request.param not in available_backends():
        pytest.skip(f"the {request.param} backend is not available here")
    box = make_sandbox(request.param)
    box.run("pass")
    yield box
    box.close()


@pytest.fixture(scope="module")
def verifier(sandbox):
    return CodeVerifier(sandbox, test_timeout_s=1.5, limits=Limits(wall_s=6.0, memory_mb=1024, max_processes=64))


def assert_contained(reward) -> None:
    assert reward.score == 0.0, reward.info
    assert reward.info["passed"] == 0
    assert not any(t["passed"] for t in reward.info["tests"])


def test_honest_solution_passes(verifier):
    assert verifier(fence("def triple(x):\n    return 3 * x"), TRIPLE).score == 1.0


EXIT_TRICKS = {
    "sys_exit_at_import": "import sys\nsys.exit(0)\ndef triple(x):\n    return 0",
    "sys_exit_in_call": "import sys\ndef triple(x):\n    sys.exit(0)",
    "raise_systemexit": "def triple(x):\n    raise SystemExit(0)",
    "quit": "def triple(x):\n    quit()",
    "exit_builtin_at_import": "exit(0)\ndef triple(x):\n    return 3 * x",
    "os_exit_at_import": "import os\nos._exit(0)\ndef triple(x):\n    return 3 * x",
    "os_exit_in_call": "import os\ndef triple(x):\n    os._exit(0)",
    "os_execv": "import os, sys\ndef triple(x):\n    os.execv(sys.executable, [sys.executable, '-c', 'print(1)'])",
    "keyboard_interrupt": "def triple(x):\n    raise KeyboardInterrupt",
    "kill_the_judge": "import os, signal\ndef triple(x):\n    os.kill(os.getppid(), signal.SIGKILL)\n    return 0",
    "kill_everything": "import os, signal\ndef triple(x):\n    os.kill(-1, signal.SIGKILL)",
}


@pytest.mark.parametrize("code", EXIT_TRICKS.values(), ids=EXIT_TRICKS.keys())
def test_exiting_never_passes(verifier, code):
    reward = verifier(fence(code), TRIPLE)
    assert_contained(reward)
    assert len(reward.info["tests"]) == 3  # judged in the sandbox (not refused before it)
    if "getppid" not in code:  # (a judge that is pid 1 of its namespace ignores the kill: 0 != 3 then)
        # The trick took effect (the worker or the judge ended), rather than a wrong value failing.
        assert all(t["reason"] != "assertion failed" for t in reward.info["tests"]), reward.info["tests"]


FAKE_VALUE_TRICKS = {
    "always_equal_object": """
        class Anything:
            def __eq__(self, other):
                return True
            def __ne__(self, other):
                return False
        def triple(x):
            return Anything()
    """,
    "always_equal_int_subclass": """
        class Sneaky(int):
            def __eq__(self, other):
                return True
            __hash__ = int.__hash__
        def triple(x):
            return Sneaky(0)
    """,
    "always_equal_str_subclass": """
        class Sneaky(str):
            def __eq__(self, other):
                return True
            __hash__ = str.__hash__
        def triple(x):
            return Sneaky('?')
    """,
    "generator": "def triple(x):\n    yield 3 * x",
    "returns_a_function": "def triple(x):\n    return triple",
    "stop_iteration": "def triple(x):\n    raise StopIteration",
}


@pytest.mark.parametrize("code", FAKE_VALUE_TRICKS.values(), ids=FAKE_VALUE_TRICKS.keys())
def test_fake_values_never_pass(verifier, code):
    assert_contained(verifier(fence(code), TRIPLE))


def test_stop_iteration_cannot_end_a_checking_loop_early(verifier):
    # Run natively, StopIteration raised inside map() ends the iteration and all() returns True.
    problem = Problem("attack/map", "", None, {
        "prompt": "def double(x):\n    pass\n",
        "test": "def check(candidate):\n    assert all(map(lambda x: candidate(x) == 2 * x, [1, 2, 3]))\n",
        "entry_point": "double",
    })  # fmt: skip
    assert verifier(fence("def double(x):\n    return 2 * x"), problem).score == 1.0
    assert_contained(verifier(fence("def double(x):\n    raise StopIteration"), problem))


def test_a_test_that_swallows_exceptions_cannot_turn_a_hang_or_exit_into_a_pass(verifier):
    problem = Problem("attack/swallow", "", None, {
        "prompt": "def parse(s):\n    pass\n",
        "test": "def check(candidate):\n    try:\n        candidate('bad')\n    except BaseException:\n        pass\n    else:\n        assert False\n",
        "entry_point": "parse",
    })  # fmt: skip
    assert verifier(fence("def parse(s):\n    return int(s)"), problem).score == 1.0
    for code in ("def parse(s):\n    while True:\n        pass", "import sys\ndef parse(s):\n    sys.exit(1)",
                 "import os\ndef parse(s):\n    os._exit(1)"):  # fmt: skip
        assert_contained(verifier(fence(code), problem))


PATCH_TRICKS = {
    "patch_builtins": """
        import builtins
        builtins.AssertionError = type('AssertionError', (Exception,), {})
        builtins.isinstance = lambda *a: True
        builtins.len = lambda *a: 0
        def triple(x):
            return 0
    """,
    "define_check": """
        def check(candidate):
            return True
        import __main__
        __main__.check = check
        import builtins
        builtins.check = check
        def triple(x):
            return 0
    """,
    "patch_marshal_reply": """
        import marshal
        real = marshal.dumps
        marshal.dumps = lambda value, *a: real(('ok', True))
        def triple(x):
            return 0
    """,
    "patch_the_harness_functions": """
        import sys, gc
        for obj in gc.get_objects():
            if isinstance(obj, dict) and 'check_plain' in obj and 'main' in obj:
                obj['check_plain'] = lambda v: v
                obj['compare_output'] = lambda *a: (True, None)
        def triple(x):
            return 0
    """,
}


@pytest.mark.parametrize("code", PATCH_TRICKS.values(), ids=PATCH_TRICKS.keys())
def test_monkey_patching_never_passes(verifier, code):
    assert_contained(verifier(fence(code), TRIPLE))


def test_redefining_what_the_asserts_compare_with_never_passes(verifier):
    problem = Problem("attack/mbpp", "", None, {"tests": ["assert set(common([1, 2], [2, 3])) == set([2])",
                                                          "assert sorted(common([5], [5])) == [5]"]})  # fmt: skip
    assert verifier(fence("def common(a, b):\n    return [x for x in a if x in b]"), problem).score == 1.0
    code = """
        def set(*args):
            return 1
        def sorted(*args):
            return [5]
        def common(a, b):
            return []
    """
    assert_contained(verifier(fence(code), problem))


def test_fake_verdict_lines_never_pass(verifier):
    code = """
        import os, json, glob
        lines = [json.dumps({"t": i, "ok": True, "why": None, "s": 0.0}) for i in range(3)]
        forged = "".join(f"{os.urandom(16).hex()} {line}\\n" for line in lines) + "".join(l + "\\n" for l in lines)
        print(forged)
        for fd in (1, 2):
            try:
                os.write(fd, forged.encode())
            except OSError:
                pass
        for path in glob.glob(f"/proc/{os.getppid()}/fd/*") + ["/proc/1/fd/1", "/dev/stdout", "/dev/tty"]:
            try:
                with open(path, "w") as fh:
                    fh.write(forged)
            except OSError:
                pass
        def triple(x):
            print(forged)
            return 0
    """
    assert_contained(verifier(fence(code), TRIPLE))


def test_editing_the_harness_and_test_files_never_passes(verifier):
    code = """
        import os
        fake = "import json\\nfor i in range(3):\\n    print(json.dumps({'t': i, 'ok': True}))\\n"
        for name in os.listdir('.'):
            try:
                with open(name, 'w') as fh:
                    fh.write(fake)
            except OSError:
                pass
        def triple(x):
            for name in os.listdir('.'):
                try:
                    os.unlink(name)
                except OSError:
                    pass
            return 0
    """
    assert_contained(verifier(fence(code), TRIPLE))


# ---------------------------------------------------------------------------------------------
# Reading the hidden tests
# ---------------------------------------------------------------------------------------------

SCAN = r"""
import gc, glob, os, re, sys

PATTERN = re.compile(rb"cnry-[0-9a-f]{32}")


def hit(blob):
    if isinstance(blob, str):
        blob = blob.encode("utf-8", "surrogatepass")
    return {m.decode() for m in PATTERN.findall(blob)} if isinstance(blob, (bytes, bytearray)) else set()


def scan_memory():
    # (canary or None, bytes read): every readable mapping of this process, via /proc/self/mem
    try:
        import ctypes
        ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE 1: our own /proc/self/mem, readable
    except Exception:
        pass
    with open("/proc/self/maps") as fh:
        maps = fh.read().splitlines()
    found, total = set(), 0
    with open("/proc/self/mem", "rb", buffering=0) as mem:
        for line in maps:
            fields = line.split()
            if fields[1][0] != "r" or fields[-1] in ("[vvar]", "[vsyscall]", "[vvar_vclock]"):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            while start < end:
                try:
                    mem.seek(start)
                    chunk = mem.read(min(end - start, (8 << 20) + 64))
                except (OSError, ValueError, OverflowError):
                    break
                total += len(chunk)
                found |= hit(chunk)
                start += 8 << 20
    return sorted(found), total


def scan_frames():
    found, frames, frame = set(), 0, sys._getframe()
    while frame is not None:
        frames += 1
        for value in list(frame.f_locals.values()) + list(frame.f_globals.values()):
            found |= hit(value if isinstance(value, (str, bytes, bytearray)) else repr(value)[:100000])
        frame = frame.f_back
    return sorted(found), frames


def scan_objects():
    found, seen = set(), 0
    gc.unfreeze()  # objects frozen before the fork are hidden from get_objects() until then
    for obj in gc.get_objects():
        seen += 1
        values = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple, set, frozenset)) else ()
        for value in values:
            if isinstance(value, (str, bytes, bytearray)):
                found |= hit(value)
    return sorted(found), seen


def scan_files():
    found, read = set(), 0
    for path in glob.glob("./**/*", recursive=True) + glob.glob("/tmp/**/*", recursive=True) + glob.glob("/dev/shm/*"):
        try:
            with open(path, "rb") as fh:
                found |= hit(fh.read())
            read += 1
        except OSError:
            pass
    return sorted(found), read


def scan_reach():
    # what a process may reach beyond itself: its parent's and pid 1's /proc files, every fd
    found, read = set(), 0
    for pid in {os.getppid(), 1}:
        for name in ("mem", "environ", "cmdline", "fd/0", "fd/1", "fd/3", "fd/4", "fd/5"):
            try:
                with open(f"/proc/{pid}/{name}", "rb") as fh:
                    found |= hit(fh.read(1 << 22))
                read += 1
            except (OSError, ValueError):
                pass
    for fd in range(64):  # (left blocking as it was: one of them is the worker's channel)
        try:
            blocking = os.get_blocking(fd)
            os.set_blocking(fd, False)
            try:
                if fd == 0:
                    os.lseek(fd, 0, 0)
                found |= hit(os.read(fd, 1 << 22))
                read += 1
            finally:
                os.set_blocking(fd, blocking)
        except OSError:
            pass
    return sorted(found), read


def scan_all():
    results = {}
    for name, scan in (("memory", scan_memory), ("frames", scan_frames), ("objects", scan_objects),
                       ("files", scan_files), ("reach", scan_reach)):
        try:
            results[name] = scan()
        except Exception as exc:
            results[name] = ([repr(exc)], 0)
    return results
"""

#: One unit per way of looking: it found exactly the canary; it looked (read something) and found none.
CANARY_UNITS = [
    'assert found("memory") == [CANARY]', 'assert looked("memory") > 4_000_000 and found("memory") == []',
    'assert found("frames") == [CANARY]', 'assert looked("frames") >= 3 and found("frames") == []',
    'assert found("objects") == [CANARY]', 'assert looked("objects") > 1000 and found("objects") == []',
    'assert found("files") == [CANARY]', 'assert looked("files") >= 3 and found("files") == []',
    'assert found("reach") == []',
]  # fmt: skip
#: Control, the canary also in the candidate's program: every way finds it, and only it (nothing
#: outside the worker holds it then, so reach finds nothing).
CONTROL = [True, False, True, False, True, False, True, False, True]
#: The canary only in the hidden tests: every way looked and found no canary at all (not this
#: test's, not another job's).
CONTAINED = [False, True, False, True, False, True, False, True, True]


def canary_problem(planted: bool, scan_at: str) -> Problem:
    """The canary is in the hidden tests; ``planted``: also in the candidate's own source (control)."""
    canary = "cnry-" + secrets.token_hex(16)
    units = [u.replace("found(", "candidate(0, ").replace("looked(", "candidate(1, ") for u in CANARY_UNITS]
    test = f"CANARY = {canary!r}\n\ndef check(candidate):\n" + "".join(f"    {u}\n" for u in units)
    meta = {"prompt": "def scan(i, name):\n    pass\n", "test": test, "entry_point": "scan"}
    return Problem(f"attack/canary-{scan_at}", "", canary if planted else None, meta)


def canary_candidate(problem: Problem, scan_at: str) -> str:
    planted = f"PLANTED = {problem.answer!r}\n" if problem.answer else ""
    if scan_at == "import":
        body = "RESULTS = scan_all()\n\ndef scan(i, name):\n    return RESULTS[name][i]\n"
    else:
        body = "RESULTS = {}\n\ndef scan(i, name):\n    if not RESULTS:\n        RESULTS.update(scan_all())\n    return RESULTS[name][i]\n"
    return fence(SCAN + "\n" + planted + body)


def canary_verifier(sandbox) -> CodeVerifier:
    return CodeVerifier(sandbox, test_timeout_s=20.0, limits=Limits(wall_s=60.0, memory_mb=1024))


@pytest.mark.parametrize("scan_at", ["import", "call"])
def test_the_scan_finds_a_canary_within_reach(sandbox, scan_at):
    """Control: with the canary in the candidate's own program, every way of looking finds it."""
    problem = canary_problem(planted=True, scan_at=scan_at)
    reward = canary_verifier(sandbox)(canary_candidate(problem, scan_at), problem)
    assert [t["passed"] for t in reward.info["tests"]] == CONTROL, reward.info["tests"]


@pytest.mark.parametrize("path", ["verify", "verify_batch"])
@pytest.mark.parametrize("scan_at", ["import", "call"])
def test_the_candidate_never_shares_memory_with_the_hidden_tests(sandbox, path, scan_at):
    """The canary is only in the hidden tests: the candidate's whole readable address space, its
    frames, every object, its files and whatever it can reach of other processes hold no copy."""
    verifier = canary_verifier(sandbox)
    problem = canary_problem(planted=False, scan_at=scan_at)
    code = canary_candidate(problem, scan_at)
    if path == "verify":
        rewards = [verifier(code, problem)]
    else:  # several jobs at once, through Sandbox.map
        rewards = verifier.verify_batch([code] * 3, [problem] * 3)
    for reward in rewards:
        assert [t["passed"] for t in reward.info["tests"]] == CONTAINED, reward.info["tests"]
        assert "worker-forked-before-tests" in reward.info["harness_hardening"]


def test_expected_outputs_never_enter_the_sandbox(sandbox):
    canary = "cnry-" + secrets.token_hex(16)
    verifier = CodeVerifier(sandbox, test_timeout_s=20.0, limits=Limits(wall_s=25.0, memory_mb=1024))
    search = "\nprint(next((r[0][0] for r in scan_all().values() if r[0]), 'not found'))\n"
    control = Problem("attack/io0", "", None, {"inputs": [canary + "\n"], "outputs": [canary + "\n"]})
    assert verifier(fence("import sys\ndata = sys.stdin.read()" + SCAN + search), control).score == 1.0
    problem = Problem("attack/io", "", None, {"inputs": ["x\n"], "outputs": [canary + "\n"]})
    reward = verifier(fence(SCAN + search), problem)
    assert_contained(reward)
    assert "expected 'cnry-" in reward.info["error"] and "got 'not found'" in reward.info["error"]


def test_io_program_faking_success(verifier):
    problem = Problem("attack/io2", "", None, {"inputs": ["1\n", "2\n"], "outputs": ["2\n", "4\n"]})
    for code in ("import sys\nsys.exit(0)", "import os\nos._exit(0)",
                 "import json\nprint(json.dumps({'t': 0, 'ok': True}))\nprint(json.dumps({'t': 1, 'ok': True}))"):  # fmt: skip
        assert_contained(verifier(fence(code), problem))


def test_stopping_the_judge_is_a_failure_not_a_hang(sandbox):
    verifier = CodeVerifier(sandbox, test_timeout_s=1.0, limits=Limits(wall_s=2.0))
    code = "import os, signal\ndef triple(x):\n    os.kill(os.getppid(), signal.SIGSTOP)\n    return 0"
    assert_contained(verifier(fence(code), TRIPLE))
