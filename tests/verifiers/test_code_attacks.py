"""Fake-success tricks against the code verifier: none of them may pass a single test.

Each attack is real code run in the local sandbox. Where an attack searches for something (the
hidden tests, the key), a control run shows that the same search code does find what it looks
for when that thing is within reach — so a zero score means "contained", not "the attack was
broken".
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
    "exit_builtin_at_import": "exit(0)",
    "os_exit_at_import": "import os\nos._exit(0)",
    "os_exit_in_call": "import os\ndef triple(x):\n    os._exit(0)",
    "os_execv": "import os, sys\ndef triple(x):\n    os.execv(sys.executable, [sys.executable, '-c', 'print(1)'])",
    "keyboard_interrupt": "def triple(x):\n    raise KeyboardInterrupt",
    "kill_the_judge": "import os, signal\ndef triple(x):\n    os.kill(os.getppid(), signal.SIGKILL)\n    return 0",
    "kill_everything": "import os, signal\ndef triple(x):\n    os.kill(-1, signal.SIGKILL)",
}


@pytest.mark.parametrize("code", EXIT_TRICKS.values(), ids=EXIT_TRICKS.keys())
def test_exiting_never_passes(verifier, code):
    assert_contained(verifier(fence(code), TRIPLE))


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

SEARCH = r'''
import gc, glob, hashlib, os, re, sys

PATTERN = re.compile(rb"tok-[0-9a-f]{32}")


def search(blob):
    if isinstance(blob, str):
        blob = blob.encode("utf-8", "replace")
    found = PATTERN.search(blob) if isinstance(blob, (bytes, bytearray)) else None
    return found.group().decode() if found else None


def from_files():
    for path in glob.glob("./**/*", recursive=True) + glob.glob("/tmp/**/*", recursive=True) + glob.glob("/dev/shm/*"):
        try:
            with open(path, "rb") as fh:
                hit = search(fh.read())
            if hit:
                return hit
        except OSError:
            pass


def from_objects():
    for obj in gc.get_objects():
        values = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else [obj]
        for value in values:
            hit = search(value) if isinstance(value, (str, bytes, bytearray)) else None
            if hit:
                return hit
    frame = sys._getframe()
    while frame is not None:
        for value in list(frame.f_locals.values()) + list(frame.f_globals.values()):
            hit = search(value) if isinstance(value, (str, bytes, bytearray)) else None
            if hit:
                return hit
        frame = frame.f_back


def from_parent():
    for name in ("mem", "environ", "cmdline", "fd/0", "fd/3", "fd/4"):
        try:
            with open(f"/proc/{os.getppid()}/{name}", "rb") as fh:
                hit = search(fh.read(1 << 20))
            if hit:
                return hit
        except (OSError, ValueError):
            pass


def memory():
    """Every readable private region of this process (ctypes; /proc/self/mem may be closed)."""
    import ctypes
    try:
        maps = open("/proc/self/maps").read().splitlines()
    except OSError:
        return
    for line in maps:
        fields = line.split()
        if not fields[1].startswith("rw") or (len(fields) > 5 and fields[5].startswith("[v")):
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        if end - start > 64 << 20:
            continue
        yield ctypes.string_at(start, end - start)


def from_memory_with_keys():
    """Recover the tests' key from memory, then decrypt every ciphertext candidate."""
    hit = None
    ciphertexts, stack, seen = [], [o for o in gc.get_objects() if isinstance(o, (dict, list, tuple))], set()
    while stack:  # containers of atomic values are not tracked by gc: walk into them
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        for value in (obj.values() if isinstance(obj, dict) else obj):
            if isinstance(value, (dict, list, tuple)):
                stack.append(value)
            elif isinstance(value, bytes) and 64 < len(value) < (4 << 20):
                ciphertexts.append(value)
    keys = set()
    for region in memory():
        hit = hit or search(region)
        keys.update(re.findall(rb"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])", region))
    for key in keys:
        raw = bytes.fromhex(key.decode())
        for blob in ciphertexts:
            stream = hashlib.shake_256(raw).digest(len(blob))
            plain = (int.from_bytes(blob, "little") ^ int.from_bytes(stream, "little")).to_bytes(len(blob), "little")
            hit = hit or search(plain)
    return hit


def find_token():
    for way in (from_files, from_objects, from_parent, from_memory_with_keys):
        try:
            hit = way()
        except Exception:
            hit = None
        if hit:
            return hit
    return "not found"
'''


def secret_problem(visible: bool) -> tuple[Problem, str]:
    token = "tok-" + secrets.token_hex(16)
    prompt = "def secret():\n    pass\n" + (f"VISIBLE = {token!r}\n" if visible else "")
    test = f"def check(candidate):\n    assert candidate() == {token!r}\n"
    return Problem("attack/secret", "", None, {"prompt": prompt, "test": test, "entry_point": "secret"}), token


def test_the_search_finds_a_token_within_reach(sandbox):
    verifier = CodeVerifier(sandbox, test_timeout_s=20.0, limits=Limits(wall_s=25.0, memory_mb=1024))
    problem, _token = secret_problem(visible=True)  # control: the token is in the candidate's own program
    code = SEARCH + "\ndef secret():\n    return find_token()\n"
    assert verifier(fence(code), problem).score == 1.0


def test_the_hidden_tests_cannot_be_read(sandbox):
    verifier = CodeVerifier(sandbox, test_timeout_s=20.0, limits=Limits(wall_s=25.0, memory_mb=1024))
    problem, _token = secret_problem(visible=False)
    at_import = SEARCH + "\nTOKEN = find_token()\n\ndef secret():\n    return TOKEN\n"
    during_call = SEARCH + "\ndef secret():\n    return find_token()\n"
    for code in (at_import, during_call):
        reward = verifier(fence(code), problem)
        assert_contained(reward)
        assert "worker-forked-before-tests" in reward.info["harness_hardening"]


def test_expected_outputs_never_enter_the_sandbox(sandbox):
    token = "tok-" + secrets.token_hex(16)
    verifier = CodeVerifier(sandbox, test_timeout_s=20.0, limits=Limits(wall_s=25.0, memory_mb=1024))
    search = "\nprint(from_files() or from_objects() or from_parent() or search(b''.join(memory())))\n"
    control = Problem("attack/io0", "", None, {"inputs": [token + "\n"], "outputs": [token + "\n"]})
    assert verifier(fence("import sys\ndata = sys.stdin.read()" + SEARCH + search), control).score == 1.0
    problem = Problem("attack/io", "", None, {"inputs": ["x\n"], "outputs": [token + "\n"]})
    assert_contained(verifier(fence(SEARCH + search), problem))


def test_io_program_faking_success(verifier):
    problem = Problem("attack/io2", "", None, {"inputs": ["1\n", "2\n"], "outputs": ["2\n", "4\n"]})
    for code in ("import sys\nsys.exit(0)", "import os\nos._exit(0)",
                 "import json\nprint(json.dumps({'t': 0, 'ok': True}))\nprint(json.dumps({'t': 1, 'ok': True}))"):  # fmt: skip
        assert_contained(verifier(fence(code), problem))


def test_stopping_the_judge_is_a_failure_not_a_hang(sandbox):
    verifier = CodeVerifier(sandbox, test_timeout_s=1.0, limits=Limits(wall_s=2.0))
    code = "import os, signal\ndef triple(x):\n    os.kill(os.getppid(), signal.SIGSTOP)\n    return 0"
    assert_contained(verifier(fence(code), TRIPLE))
