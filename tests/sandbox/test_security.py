"""Attacks a model-written program might try, run on every sandbox backend available here.

Each attack must be contained: reported as a failure, a timeout or out-of-memory; the host (this
test process, a canary process, files outside the sandbox) unharmed; nothing persisting into the
next job; and no process left behind (the `contained` fixture counts the sandbox's host processes
before and after, then runs a normal job).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import textwrap
import uuid

import pytest

from thinkgym.sandbox import Limits, SandboxResult

from .conftest import ATTACK_LIMITS, FAKE_SECRET

pytestmark = pytest.mark.timeout(120)


def attack(sandbox, code: str, **kwargs) -> SandboxResult:
    kwargs.setdefault("limits", ATTACK_LIMITS)
    return sandbox.run(textwrap.dedent(code), **kwargs)


def assert_contained(result: SandboxResult) -> None:
    """A contained attack ends as a failure, a timeout or out-of-memory, never as a success."""
    assert not result.ok, f"attack reported as success: {result}"
    assert result.timed_out or result.out_of_memory or result.exit_code not in (0, None) or result.signal, result


# ---------------------------------------------------------------------------------------------
# Processes


def test_fork_bomb(contained):
    result = attack(contained, """
        import os
        while True:
            os.fork()
    """)
    assert_contained(result)
    assert result.wall_s < ATTACK_LIMITS.wall_s + 5


def test_thread_bomb(contained):
    result = attack(contained, """
        import threading, time
        while True:
            threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
    """)
    assert_contained(result)


def test_double_fork_daemon_dies_with_the_job(contained):
    marker = f"daemon-{uuid.uuid4().hex}"
    result = attack(contained, f"""
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                for _ in range(600):  # would live a minute if it escaped
                    with open("/tmp/{marker}", "a") as fh:
                        fh.write("x")
                    time.sleep(0.1)
                os._exit(0)
            os._exit(0)
        for _ in range(50):  # the daemon is really running before the parent leaves
            if os.path.exists("/tmp/{marker}"):
                print("daemon running")
                break
            time.sleep(0.02)
        print("parent exits")
    """)
    assert result.stdout.split("\n")[:2] == ["daemon running", "parent exits"], result
    # `contained` proves the daemon is gone; its file must not reach the next job either
    later = contained.run(f"import os; print(os.path.exists('/tmp/{marker}'))", limits=ATTACK_LIMITS)
    assert later.stdout.strip() == "False"


def test_kill_host_processes(contained):
    canary = subprocess.Popen(["sleep", "60"])  # a host process the job must not be able to touch
    try:
        kill = """
            import os, signal
            for target in TARGETS:
                if target == 0:
                    continue  # (a pid namespace's init has no parent: kill(0) is its own group)
                print("kill", target, flush=True)
                try:
                    os.kill(target, signal.SIGKILL)
                    print("sent", target, flush=True)
                except OSError as exc:
                    print("refused", target, exc.errno, flush=True)
        """
        result = attack(contained, kill.replace("TARGETS", f"({canary.pid}, {os.getpid()}, 1)"))
        # The attack ran: the attempts on the host's processes were made and refused (or reached
        # nothing outside the sandbox); the canary and this test process are alive.
        lines = result.stdout.splitlines()
        for target in (canary.pid, os.getpid(), 1):
            assert f"kill {target}" in lines, result
        assert canary.poll() is None, "a host process was killed from inside the sandbox"
        # Then the job's parent and everything it may signal (a backend whose supervisor shares the
        # job's uid loses this job's output: the `contained` fixture checks that it recovers).
        attack(contained, kill.replace("TARGETS", "(os.getppid(), -1)"))
        assert canary.poll() is None, "a host process was killed from inside the sandbox"
    finally:
        canary.kill()
        canary.wait()


def test_ptrace_is_refused(contained):
    canary = subprocess.Popen(["sleep", "60"])
    try:
        result = attack(contained, f"""
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            targets = [t for t in (os.getppid(), 1, {canary.pid}, {os.getpid()}) if t > 0 and t != os.getpid()]
            child = os.fork()
            if child == 0:
                import time
                time.sleep(30)
                os._exit(0)
            for target in targets + [child]:
                rc = libc.ptrace(16, target, None, None)  # PTRACE_ATTACH
                print("ptrace", target, rc, ctypes.get_errno(), flush=True)
            os.kill(child, 9)
        """)
        attempts = [line.split() for line in result.stdout.splitlines() if line.startswith("ptrace ")]
        assert len(attempts) >= 2, f"the ptrace attempts did not run: {result}"  # (its own child at least)
        for _, target, rc, err in attempts:
            assert rc == "-1" and int(err) in (1, 3), f"ptrace of {target} was not refused: rc {rc}, errno {err}"
        assert canary.poll() is None
    finally:
        canary.kill()
        canary.wait()


def test_no_capability_is_left_and_none_can_be_regained(contained):
    """Every capability set of the job is empty, the bounding set included (so a setuid binary or
    file capabilities exec'd later cannot grant one), and a privileged call is refused."""
    result = attack(contained, """
        import os
        caps = {line.split(":")[0]: int(line.split()[1], 16) for line in open("/proc/self/status") if line.startswith("Cap")}
        print("caps", " ".join(f"{k}={v}" for k, v in sorted(caps.items())))
        try:
            os.setuid(0)
            print("setuid ok")
        except PermissionError:
            print("setuid refused")
    """)
    line = next((x for x in result.stdout.splitlines() if x.startswith("caps ")), None)
    assert line is not None, f"the capability probe did not run: {result}"
    caps = dict(item.split("=") for item in line.split()[1:])
    assert set(caps) >= {"CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb"}, caps
    assert all(value == "0" for value in caps.values()), f"capabilities left in the job: {caps}"
    if os.geteuid() == 0 or contained.name == "local":  # (docker's job uid may be 0 in a user namespace)
        assert "setuid refused" in result.stdout, result.stdout


def test_segfault_through_ctypes(contained):
    result = attack(contained, "import ctypes\nctypes.string_at(0)\n")
    assert_contained(result)
    assert result.signal == signal.SIGSEGV or result.exit_code in (139, -11), result


# ---------------------------------------------------------------------------------------------
# Memory and CPU


def test_memory_bomb_one_allocation(contained):
    assert_contained(attack(contained, "x = bytearray(10**10)\nprint(len(x))\n"))


def test_memory_bomb_growing(contained):
    result = attack(contained, """
        blocks = []
        while True:
            blocks.append(bytearray(10**7))
    """)
    assert_contained(result)
    assert result.out_of_memory or result.exit_code not in (0, None), result


def test_deep_recursion(contained):
    assert_contained(attack(contained, """
        import sys
        sys.setrecursionlimit(10**7)
        def f(n):
            return f(n + 1) + 1
        f(0)
    """))


def test_cpu_burn_inside_c_code(contained):
    result = attack(contained, "x = 10**10**8\nprint('done')\n")
    assert result.timed_out and not result.ok, result
    assert result.wall_s < ATTACK_LIMITS.wall_s + 5


def test_blocking_read_of_stdin(contained):
    result = attack(contained, "import sys\ndata = sys.stdin.read()\ninput()\n")
    assert_contained(result)  # EOF at once (EOFError) or, at worst, the wall-clock limit
    assert result.wall_s < ATTACK_LIMITS.wall_s + 5


# ---------------------------------------------------------------------------------------------
# Output, disk and persistence


def test_output_flood(contained):
    result = attack(contained, """
        import sys
        while True:
            sys.stdout.write("x" * 4096)
            sys.stderr.write("y" * 4096)
    """)
    assert not result.ok
    assert result.stdout_truncated or result.stderr_truncated
    assert len(result.stdout.encode()) <= ATTACK_LIMITS.max_output_bytes
    assert len(result.stderr.encode()) <= ATTACK_LIMITS.max_output_bytes


def test_disk_fill(contained):
    result = attack(contained, """
        i = 0
        while True:
            with open(f"fill-{i}", "wb") as fh:
                for _ in range(8):
                    fh.write(b"x" * (1 << 20))
            i += 1
    """)
    assert_contained(result)
    later = contained.run("import os; print(sorted(os.listdir('.')))", limits=ATTACK_LIMITS)
    assert "fill-0" not in later.stdout


def test_inode_exhaustion(contained):
    result = attack(contained, """
        import os
        os.makedirs("many", exist_ok=True)
        i = 0
        while True:
            open(f"many/{i}", "w").close()
            i += 1
    """, limits=Limits(wall_s=10, memory_mb=128, max_processes=16, max_output_bytes=64_000))
    assert_contained(result)
    later = contained.run("import os; print(os.path.exists('many'))", limits=ATTACK_LIMITS)
    assert later.stdout.strip() == "False"


def test_nothing_persists_between_jobs(contained):
    token = uuid.uuid4().hex
    paths = [f"/tmp/left-{token}", f"/dev/shm/left-{token}", f"left-{token}", f"sub/left-{token}"]
    first = attack(contained, f"""
        import os
        os.makedirs("sub", exist_ok=True)
        for path in {paths!r}:
            with open(path, "w") as fh:
                fh.write("{token}")
        print("written")
    """)
    assert first.stdout.strip() == "written", first
    second = attack(contained, f"""
        import os
        print([os.path.exists(p) for p in {paths!r}])
    """)
    assert second.stdout.strip() == str([False] * len(paths)), second


# ---------------------------------------------------------------------------------------------
# Reading what is not the job's


def test_reading_etc_shadow_and_root_only_files(contained, tmp_path):
    """The host's /etc/shadow, and a host file only its owner may read (a canary in a directory a
    sandbox without mount isolation would see), are out of the job's reach."""
    token = uuid.uuid4().hex
    secret = tmp_path / "root-only.txt"
    secret.write_text(token)
    secret.chmod(0o600)
    targets = ["/etc/shadow", str(secret)]
    result = attack(contained, f"""
        for path in {targets!r}:
            for attempt in (path, "/proc/1/root" + path, "/proc/self/root" + path):
                try:
                    print("READ", attempt, open(attempt).read())
                except OSError as exc:
                    print("DENIED", attempt, type(exc).__name__)
    """)
    lines = result.stdout.splitlines()
    assert len(lines) >= 6 and all(line.split()[0] in ("READ", "DENIED") for line in lines[:6]), result
    assert token not in result.stdout, "a host file readable only by its owner was read from the sandbox"
    try:
        with open("/etc/shadow") as fh:
            host_shadow = [line for line in fh.read().splitlines() if line.strip()]
    except OSError:
        host_shadow = []  # (not root: the canary above stands in for it)
    for line in host_shadow:
        assert line not in result.stdout, "the host's /etc/shadow leaked into the sandbox"
    for line in lines:
        if line.startswith("READ /etc/shadow"):  # a shadow file of the sandbox's own, never the host's
            assert os.geteuid() != 0 or host_shadow, line


def test_host_environment_never_reaches_the_job(contained):
    result = attack(contained, """
        import os
        print(dict(os.environ))
        for path in ("/proc/self/environ", "/proc/1/environ", f"/proc/{os.getppid()}/environ"):
            try:
                print(path, open(path, "rb").read())
            except OSError as exc:
                print(path, "denied", exc.errno)
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    print(pid, open(f"/proc/{pid}/environ", "rb").read())
                except OSError:
                    pass
    """)
    assert "/proc/self/environ" in result.stdout and "/proc/1/environ" in result.stdout, result  # it ran
    assert FAKE_SECRET not in result.stdout and FAKE_SECRET not in result.stderr


def test_files_outside_the_work_dir(contained, tmp_path):
    token = uuid.uuid4().hex
    outside = tmp_path / "outside-secret.txt"
    outside.write_text(token)
    import thinkgym

    source = os.path.abspath(thinkgym.__file__)  # the project's sources may hold hidden tests
    with open(source) as fh:
        source_text = fh.read().strip()[:60]
    targets = [str(outside), source]
    result = attack(contained, f"""
        import os
        found = []
        for i, target in enumerate({targets!r}):
            for path in (target, "../" * 12 + target.lstrip("/"), "/proc/1/root" + target,
                         "/proc/self/root" + target, "/proc/1/cwd/" + "../" * 12 + target.lstrip("/")):
                try:
                    found.append(open(path).read()[:200])
                except OSError:
                    pass
            try:
                os.symlink(target, f"link{{i}}")
                found.append(open(f"link{{i}}").read()[:200])
            except OSError:
                pass
        try:
            os.symlink("/", "rootlink")
            found.append(open("rootlink" + {str(outside)!r}).read())
        except OSError:
            pass
        print(found)
    """, collect=["link0", "link1", "rootlink" + str(outside)])
    assert result.exit_code == 0 and result.stdout.startswith("["), result  # the attempts ran to the end
    assert token not in result.stdout, "a file outside the sandbox was read"
    assert source_text not in result.stdout, "the thinkgym sources are visible inside the sandbox"
    for data in result.files.values():
        assert token.encode() not in data and source_text.encode() not in data, "collect followed a symlink out"
    assert outside.read_text() == token  # and the host file is untouched


# ---------------------------------------------------------------------------------------------
# Network


def test_no_interface_but_loopback(contained):
    result = attack(contained, """
        names = []
        try:
            for line in open("/proc/net/dev").read().splitlines()[2:]:
                names.append(line.split(":")[0].strip())
        except OSError:
            import socket
            names = [name for _, name in socket.if_nameindex()]
        print(sorted(names))
    """)
    assert result.exit_code == 0, result
    names = eval(result.stdout.strip(), {"__builtins__": {}})  # a list literal printed by the job
    assert names, result  # the listing worked (a network namespace still has its loopback)
    assert set(names) <= {"lo"}, f"interfaces other than loopback inside the sandbox: {names}"


def test_host_listener_cannot_be_reached(contained):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp_port = udp.getsockname()[1]
    try:
        result = attack(contained, f"""
            import socket
            outcomes = []
            for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::ffff:127.0.0.1")):
                try:
                    s = socket.socket(family, socket.SOCK_STREAM)
                    s.settimeout(1)
                    s.connect((host, {port}))
                    s.sendall(b"escaped")
                    outcomes.append("CONNECTED")
                except OSError as exc:
                    outcomes.append(type(exc).__name__)
            try:
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                u.sendto(b"escaped", ("127.0.0.1", {udp_port}))
                outcomes.append("SENT")
            except OSError as exc:
                outcomes.append(type(exc).__name__)
            print(outcomes)
        """)
        outcomes = eval(result.stdout.strip(), {"__builtins__": {}})  # a list of names printed by the job
        assert len(outcomes) == 3, result  # every attempt was made
        assert "CONNECTED" not in outcomes, result  # (a datagram "SENT" goes nowhere: checked below)
        server.settimeout(0.3)
        with pytest.raises(TimeoutError):
            conn, _ = server.accept()
            conn.close()
        udp.settimeout(0.3)
        with pytest.raises(TimeoutError):
            udp.recvfrom(100)
    finally:
        server.close()
        udp.close()
