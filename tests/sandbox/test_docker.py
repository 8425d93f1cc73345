"""The docker backend, for real: a dockerd is started (and the image built, one time) when none runs.

Skips only where no engine can be had (no docker SDK, or not root and no engine answering).
The attack suite shared by every backend lives in test_security.py; these tests cover what is
particular to the container pool: recycling, the host-side deadline, the supervisor, exec mode.
"""

from __future__ import annotations

import asyncio
import os
import platform
import socket
import threading

import pytest

from thinkgym.errors import SandboxUnavailableError
from thinkgym.sandbox.base import Job, Limits

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def engine():
    pytest.importorskip("docker")
    from thinkgym.sandbox import docker_engine

    try:
        return docker_engine.setup(install=True)
    except SandboxUnavailableError as exc:
        pytest.skip(f"no Docker engine can be started here: {exc}")


@pytest.fixture(scope="module")
def pool(engine):
    from thinkgym.sandbox.docker import DockerSandbox

    sandbox = DockerSandbox(pool_size=2, client=engine)
    sandbox.start()
    yield sandbox
    sandbox.close()


@pytest.fixture(scope="module")
def single(engine):
    """One container, so consecutive jobs are sure to share it."""
    from thinkgym.sandbox.docker import DockerSandbox

    sandbox = DockerSandbox(pool_size=1, client=engine)
    yield sandbox
    sandbox.close()


def container_id(sandbox) -> str:
    result = sandbox.run("print(open('/proc/self/cgroup').read())")
    assert result.ok, result
    ids = {line.rsplit("/", 1)[-1] for line in result.stdout.splitlines() if "docker" in line}
    assert len(ids) == 1, result.stdout
    return ids.pop()


def test_no_engine_is_a_clear_error_not_a_hang(monkeypatch, tmp_path):
    pytest.importorskip("docker")
    from thinkgym.sandbox import docker_engine

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(SandboxUnavailableError, match="no Docker engine answers"):
        docker_engine.engine_client(start=False)


def test_backend_is_listed_once_an_engine_runs(pool):
    from thinkgym.sandbox import available_backends, make_sandbox
    from thinkgym.sandbox.docker import DockerSandbox

    assert "docker" in available_backends() and DockerSandbox.usable()
    with make_sandbox("docker", pool_size=1) as sandbox:
        assert sandbox.run("print('via make_sandbox')").stdout == "via make_sandbox\n"


def test_runs_code_with_stdin_argv_and_exit_status(pool):
    result = pool.run(
        "import sys\nprint('got', input(), sys.argv[1:])\nprint('warn', file=sys.stderr)\nsys.exit(3)",
        stdin="hello\n", argv=["a", "b"],
    )
    assert (result.exit_code, result.stdout, result.stderr) == (3, "got hello ['a', 'b']\n", "warn\n")
    assert not result.ok and not result.timed_out and result.signal is None


def test_uncaught_exception_shows_only_the_jobs_frames(pool):
    result = pool.run("def f():\n    raise ValueError('boom')\nf()\n")
    assert result.exit_code == 1
    assert result.stderr.startswith("Traceback (most recent call last):\n  File \"/work/main.py\"")
    assert result.stderr.rstrip().endswith("ValueError: boom")
    assert "runpy" not in result.stderr


def test_files_entry_and_collect(pool):
    files = {"pkg/util.py": "def twice(x):\n    return 2 * x\n", "run.py": "from pkg.util import twice\nopen('out.txt', 'w').write(str(twice(21)))\n"}
    result = pool.run(files, entry="run.py", collect=["out.txt", "missing.txt"])
    assert result.ok, result
    assert result.files == {"out.txt": b"42"}


def test_every_layer_is_in_force_and_strict_mode_passes(engine, pool):
    from thinkgym.sandbox.docker import DOCKER_LAYERS, DockerSandbox

    assert pool.available_layers() == DOCKER_LAYERS
    assert pool.run("pass").isolation == DOCKER_LAYERS
    strict = DockerSandbox(pool_size=1, client=engine, strict=True)
    try:
        assert strict.run("print(1)").stdout == "1\n"
    finally:
        strict.close()
    impossible = DockerSandbox(pool_size=1, client=engine, strict=True, required_layers={"seccomp", "gvisor"})
    try:
        with pytest.raises(SandboxUnavailableError, match="gvisor"):
            impossible.run("print(1)")
    finally:
        impossible.close()


def test_job_runs_unprivileged_without_network_or_host_secrets(pool, monkeypatch):
    monkeypatch.setenv("THINKGYM_FAKE_SECRET", "hunter2-docker")
    code = (
        "import os\n"
        "st = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines() if ':' in l)\n"
        "print(os.getuid(), st['CapEff'].strip(), st['NoNewPrivs'].strip(), st['Seccomp'].strip())\n"
        "print(sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').read().splitlines()[2:]))\n"
        "print(dict(os.environ))\n"
        "try:\n    open('/proc/1/environ').read(); print('read pid1 environ')\nexcept OSError as e:\n    print('pid1', type(e).__name__)\n"
        "try:\n    open('/usr/evil', 'w')\nexcept OSError as e:\n    print('rootfs', e.errno)\n"
    )
    result = pool.run(code)
    assert result.ok, result
    ids, ifaces, env, pid1, rootfs = result.stdout.splitlines()
    uid, cap_eff, no_new_privs, seccomp = ids.split()
    assert int(uid) >= 100_000 and int(cap_eff, 16) == 0 and no_new_privs == "1" and seccomp == "2"
    assert ifaces == "['lo']"
    assert "hunter2" not in result.stdout and "THINKGYM" not in env
    assert pid1 == "pid1 PermissionError"
    assert rootfs == "rootfs 30"  # EROFS


def test_job_filter_denies_what_dockers_profile_allows(pool):
    code = (
        "import ctypes, errno, socket\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "out = []\n"
        "for family in (socket.AF_INET, socket.AF_INET6, 40, 16):  # 40 AF_VSOCK, 16 AF_NETLINK\n"
        "    try:\n        socket.socket(family, socket.SOCK_RAW if family == 16 else socket.SOCK_STREAM).close(); out.append('open')\n"
        "    except OSError as e:\n        out.append(errno.errorcode[e.errno])\n"
        "a, b = socket.socketpair(); a.sendall(b'unix ok'); out.append(b.recv(7).decode())\n"
        "for nr in (101, 425, 323):  # ptrace, io_uring_setup, userfaultfd (x86_64 numbers)\n"
        "    libc.syscall(nr, 0, 0, 0, 0); out.append(errno.errorcode[ctypes.get_errno()])\n"
        "print(out)\n"
    )
    result = pool.run(code)
    assert result.ok, result
    if platform.machine() == "x86_64":
        assert result.stdout.strip() == str(["EAFNOSUPPORT"] * 4 + ["unix ok"] + ["EPERM"] * 3)
    else:
        assert result.stdout.startswith(str(["EAFNOSUPPORT"] * 4 + ["unix ok"])[:-1])


def test_host_listener_is_unreachable(pool):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.1)
        port = listener.getsockname()[1]
        code = (
            "import socket\n"
            f"try:\n    s = socket.socket(); s.settimeout(2); s.connect(('127.0.0.1', {port})); print('connected')\n"
            "except OSError as e:\n    print('refused', type(e).__name__)\n"
        )
        result = pool.run(code)
        with pytest.raises(OSError):
            listener.accept()
    assert result.stdout.startswith("refused"), result


def test_timeout_kills_the_tree_and_recycles_the_container(single):
    before = container_id(single)
    result = single.run(
        "import os, time\nif os.fork() == 0:\n    time.sleep(60)\nwhile True:\n    pass\n",
        limits=Limits(wall_s=1),
    )
    assert result.timed_out and result.exit_code is None and not result.ok
    assert 0.9 <= result.wall_s < 10
    assert container_id(single) != before
    assert single.run("print('fine')").stdout == "fine\n"


def test_nothing_persists_between_jobs_in_one_container(single):
    leave = (
        "import os, subprocess\n"
        "for d in ('/work', '/tmp', '/dev/shm'):\n"
        "    open(os.path.join(d, 'left.txt'), 'w').write('x')\n"
        "os.makedirs('/work/locked/inner'); os.chmod('/work/locked', 0)\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        import time; time.sleep(300)\n"
        "    os._exit(0)\n"
        "print('left')\n"
    )
    check = (
        "import os\n"
        "print(sorted(os.listdir('/work')), os.listdir('/tmp'), os.listdir('/dev/shm'))\n"
        "me = os.getpid()\n"
        "others = [p for p in os.listdir('/proc') if p.isdigit() and int(p) != me\n"
        "          and open(f'/proc/{p}/status').read().split('Uid:')[1].split()[0] == str(os.getuid())]\n"
        "print(len(others))\n"
    )
    first_id = container_id(single)
    census_before = single.census()
    assert single.run(leave).stdout == "left\n"
    result = single.run(check)
    assert container_id(single) == first_id  # same container: the scrub, not a recycle, did it
    listing, others = result.stdout.splitlines()
    assert listing == "['main.py'] [] []"
    assert others == "1"  # the supervisor only
    assert single.census() == census_before, "a process outlived its job"


MEMORY_SCAN = """
import ctypes, mmap
ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: jobs start non-dumpable; own memory is fair game
ENCODED = {encoded!r}  # XOR 0x55, so this source holds no needle itself
found = {{}}
for name, enc in ENCODED.items():
    scratch = mmap.mmap(-1, 4096)  # the needle lives only here, and this page is skipped
    for i, b in enumerate(enc):
        scratch[i] = b ^ 0x55
    needle = memoryview(scratch)[: len(enc)]
    count = 0
    with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
        for line in maps.read().splitlines():
            span, perms = line.split()[:2]
            lo, hi = (int(x, 16) for x in span.split("-"))
            if perms[0] != "r" or hi - lo > 1 << 30 or line.endswith(("[vvar]", "[vsyscall]")):
                continue
            try:
                mem.seek(lo)
                chunk = mem.read(hi - lo)
            except (OSError, ValueError, OverflowError):
                continue
            count += chunk.count(needle)
    found[name] = count - 1  # minus the scratch page itself
    needle.release()
    scratch.close()
print(found)
"""


def _xor(token: str) -> bytes:
    return bytes(b ^ 0x55 for b in token.encode())


def test_no_job_data_survives_in_the_supervisors_memory(single):
    """A job's memory is a fork of the supervisor's: neither an earlier job's files, stdin and
    output, nor the job's own stdin (before it reads it) may be in it."""
    earlier_stdin, earlier_file, own_stdin = (os.urandom(3000).hex() for _ in range(3))
    first = single.run({"main.py": "import sys\nprint(sys.stdin.read()[::-1])\n", "data.bin": earlier_file},
                       stdin=earlier_stdin)
    assert first.stdout == earlier_stdin[::-1] + "\n"
    middle = slice(3000, 3032)  # freed heap blocks keep all but their first bytes
    encoded = {"earlier_stdin": _xor(earlier_stdin[middle]), "earlier_output": _xor(earlier_stdin[::-1][middle]),
               "earlier_file": _xor(earlier_file[middle]), "own_stdin": _xor(own_stdin[middle])}
    scan = single.run(MEMORY_SCAN.format(encoded=encoded), stdin=own_stdin, limits=Limits(wall_s=30))
    assert scan.ok, scan
    assert scan.stdout.strip() == str(dict.fromkeys(encoded, 0)), scan.stdout


def test_job_that_kills_its_supervisor_fails_and_the_pool_recovers(single):
    before = container_id(single)
    result = single.run("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nimport time; time.sleep(5)\n")
    assert not result.ok and result.exit_code is None
    assert "supervisor" in result.stderr
    assert container_id(single) != before


def test_host_deadline_kills_a_container_whose_supervisor_was_stopped(engine):
    from thinkgym.sandbox.docker import DockerSandbox

    sandbox = DockerSandbox(pool_size=1, client=engine, grace_s=1.0)
    try:
        before = container_id(sandbox)
        result = sandbox.run("import os, signal, time\nos.kill(os.getppid(), signal.SIGSTOP)\ntime.sleep(30)\n",
                             limits=Limits(wall_s=1))
        assert result.timed_out and result.exit_code is None and not result.ok
        assert "container killed" in result.stderr
        assert 1.9 <= result.wall_s < 15
        assert container_id(sandbox) != before
    finally:
        sandbox.close()


def test_output_flood_is_capped(pool):
    result = pool.run("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
                      limits=Limits(wall_s=5, max_output_bytes=100_000))
    assert result.stdout_truncated and len(result.stdout) == 100_000
    assert not result.ok and not result.timed_out


def test_memory_and_fork_bombs_are_contained(pool):
    memory = pool.run("x = []\nwhile True:\n    x.append(bytearray(10 << 20))\n", limits=Limits(wall_s=10, memory_mb=256))
    assert memory.out_of_memory and not memory.ok
    forks = pool.run("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
                     limits=Limits(wall_s=2, max_processes=16))
    assert not forks.ok
    assert pool.run("print('alive')").stdout == "alive\n"


def test_container_memory_cgroup_catches_what_rlimits_let_through(engine):
    from thinkgym.sandbox.docker import DockerSandbox

    sandbox = DockerSandbox(pool_size=1, client=engine, container_memory_mb=200)
    try:
        code = (
            "import os, time\n"
            "for _ in range(4):\n"
            "    if os.fork() == 0:\n"
            "        block = b'x' * (100 << 20)  # each process stays under its own RLIMIT_AS\n"
            "        time.sleep(30)\n"
            "        os._exit(0)\n"
            "time.sleep(30)\n"
        )
        result = sandbox.run(code, limits=Limits(wall_s=8, memory_mb=512))
        assert result.out_of_memory and not result.ok, result
        assert sandbox.run("print('alive')").stdout == "alive\n"
    finally:
        sandbox.close()


def test_map_spreads_jobs_over_the_pool_and_keeps_order(pool):
    jobs = [Job.of(f"import os, time\ntime.sleep(0.3)\nprint({i}, os.getuid())") for i in range(6)]
    results = pool.map(jobs)
    assert [r.stdout.split()[0] for r in results] == [str(i) for i in range(6)]
    assert len({r.stdout.split()[1] for r in results}) == 2  # both containers took jobs
    assert pool.default_concurrency() == 2


def test_arun_and_threads(pool):
    async def both():
        return await asyncio.gather(pool.arun("print('a')"), pool.arun("print('b')"))

    assert [r.stdout for r in asyncio.run(both())] == ["a\n", "b\n"]
    out: list[str] = []
    threads = [threading.Thread(target=lambda: out.append(pool.run("print(7)").stdout)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == ["7\n"] * 4


def test_bad_input_gets_a_defined_outcome(pool):
    escaping = pool.run({"../evil.py": "x", "main.py": "print(1)"})
    assert escaping.error and "leaves the work dir" in escaping.error and not escaping.ok
    with pytest.raises(TypeError):
        pool.run_job("print(1)")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="stdin"):
        pool.run("print(1)", stdin=12)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="files"):
        pool.run({"main.py": "print(1)", "data.txt": 3})  # type: ignore[dict-item]
    assert pool.run("print('after')").stdout == "after\n"


def test_exec_mode_and_recycling_after_n_jobs(engine):
    from thinkgym.sandbox.docker import DockerSandbox

    sandbox = DockerSandbox(pool_size=1, client=engine, mode="exec", jobs_per_container=3)
    try:
        ids = [container_id(sandbox) for _ in range(4)]  # 4 jobs, plus one probe per container
        assert ids[0] == ids[1] == ids[2] != ids[3]
        result = sandbox.run("import sys; print(sys.stdin.read()[::-1])", stdin="abc")
        assert result.stdout == "cba\n"
    finally:
        sandbox.close()
