"""The ray backend: the same results as the local one, no job lost or counted twice when an actor or
a node dies, bounded work in flight, distributed verification, and a clean shutdown.

One simulated cluster (`ray.cluster_utils.Cluster`, a head node of 4 logical CPUs) serves the whole file, so Ray
starts once; the node-removal test adds a second node and removes it mid-run. The code verifier's
attack suite (tests/verifiers/test_code_attacks.py) runs here a second time against the ray backend:
its tests are collected into this module and its ``sandbox`` fixture is replaced by a ray sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from thinkgym.core import Problem  # noqa: E402
from thinkgym.sandbox import Job, Limits, make_sandbox  # noqa: E402
from thinkgym.sandbox.ray_pool import ActorPool  # noqa: E402

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the local sandbox needs Linux")

ROOT = Path(__file__).resolve().parents[2]


def _cluster_pids(cluster) -> set[int]:
    """Every process of the simulated cluster now: its nodes' services and all their children."""
    import psutil

    pids: set[int] = set()
    for node in [cluster.head_node, *cluster.worker_nodes]:
        for infos in node.all_processes.values():
            for info in infos:
                pids.add(info.process.pid)
    for pid in list(pids):
        try:
            pids.update(p.pid for p in psutil.Process(pid).children(recursive=True))
        except psutil.NoSuchProcess:
            continue
    return pids


def _alive(pids: set[int]) -> set[int]:
    import psutil

    alive = set()
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.add(pid)
        except psutil.NoSuchProcess:
            continue
    return alive


@pytest.fixture(scope="module")
def cluster():
    """A Ray cluster for the file: a head node of 4 logical CPUs (on 2 real ones), fast node-failure detection, the driver joined.

    Teardown is itself a test: after shutdown no process of the cluster (services, workers, the
    actors' sandbox zygotes and job processes) may be left."""
    from ray.cluster_utils import Cluster

    temp_dir = tempfile.mkdtemp(prefix="tgray", dir="/tmp")  # short: Ray's socket paths are bounded
    os.makedirs(os.path.join(temp_dir, "ray"))
    saved = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = temp_dir  # where Ray notes the cluster's address: ours, not /tmp/ray
    system = {"health_check_initial_delay_ms": 0, "health_check_period_ms": 500, "health_check_failure_threshold": 3}
    head = Cluster(initialize_head=True, head_node_args={"num_cpus": 4, "temp_dir": temp_dir, "include_dashboard": False,
                                                         "_system_config": system})  # fmt: skip
    ray.init(address=head.address, log_to_driver=False, logging_level="warning")
    yield head
    pids = _cluster_pids(head)
    ray.shutdown()
    head.shutdown()
    deadline = time.monotonic() + 20.0
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    if saved is None:
        os.environ.pop("RAY_TMPDIR", None)
    else:
        os.environ["RAY_TMPDIR"] = saved
    assert not _alive(pids), f"processes left after the Ray cluster shut down: {sorted(_alive(pids))}"


@pytest.fixture(scope="module")
def ray_box(cluster):
    box = make_sandbox("ray", workers=2, cpus_per_worker=0.5)  # leaves 3 CPUs for the tests' own pools
    box.run("pass")
    yield box
    box.close()


@pytest.fixture(scope="module")
def local_box():
    box = make_sandbox("local")
    yield box
    box.close()


# ---- the same results as the local backend -------------------------------------------------------

SAME_JOBS = {
    "print": Job.of("print('hello')"),
    "stdin": Job.of("import sys\nprint(sys.stdin.read()[::-1])", stdin="abc"),
    "exit_code": Job.of("import sys\nsys.stderr.write('bad\\n')\nsys.exit(3)"),
    "exception": Job.of("raise ValueError('nope')"),
    "timeout": Job.of("while True:\n    pass", limits=Limits(wall_s=1.0)),
    "sleep_timeout": Job.of("import time\ntime.sleep(30)", limits=Limits(wall_s=1.0)),
    "oom": Job.of("x = bytearray(600 * 2**20)\nprint(len(x))", limits=Limits(memory_mb=128)),
    "truncated": Job.of("print('x' * 5000)", limits=Limits(max_output_bytes=100)),
    "files": Job.of({"main.py": "print(open('data.txt').read())\nopen('out.txt', 'w').write('done')", "data.txt": "42"},
                    collect=("out.txt",)),  # fmt: skip
    "argv": Job(files={"main.py": "import sys\nprint(sys.argv[1:])"}, argv=("a", "b")),
    "network": Job.of("import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=1)\n    print('reached')\n"
                      "except OSError as e:\n    print('no network')"),  # fmt: skip
    "fork_limit": Job.of("import os\npids = []\ntry:\n    for _ in range(100):\n        pid = os.fork()\n        if pid == 0:\n"
                         "            import time; time.sleep(5); os._exit(0)\n        pids.append(pid)\nexcept OSError:\n"
                         "    print('limited at', len(pids) < 100)", limits=Limits(max_processes=8, wall_s=5.0)),  # fmt: skip
    "killed_by_signal": Job.of("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"),
    "host_file": Job.of("import os\nprint(os.path.exists('/etc/shadow'), os.getuid() == 0)"),
    "modules": Job.of("import helper\nprint(helper.twice(21))", modules={"helper": "def twice(x):\n    return 2 * x\n"}),
}


def _comparable(result) -> dict:
    """Everything a result says except how long it took."""
    return {"exit_code": result.exit_code, "stdout": result.stdout, "stderr": result.stderr,
            "timed_out": result.timed_out, "out_of_memory": result.out_of_memory, "isolation": sorted(result.isolation),
            "stdout_truncated": result.stdout_truncated, "stderr_truncated": result.stderr_truncated,
            "signal": result.signal, "files": dict(result.files), "error": result.error}  # fmt: skip


def test_the_same_results_as_the_local_backend(ray_box, local_box):
    names = list(SAME_JOBS)
    local = local_box.map([SAME_JOBS[n] for n in names])
    remote = ray_box.map([SAME_JOBS[n] for n in names])
    for name, mine, theirs in zip(names, local, remote, strict=True):
        ours, local_one = _comparable(theirs), _comparable(mine)
        if name == "truncated":  # the local backend itself either kills a job over its output cap or
            for key in ("exit_code", "signal"):  # lets it exit, depending on timing
                ours.pop(key), local_one.pop(key)
        assert ours == local_one, name
    by_name = dict(zip(names, remote, strict=True))
    assert by_name["timeout"].timed_out and by_name["sleep_timeout"].timed_out
    assert by_name["oom"].out_of_memory and by_name["truncated"].stdout_truncated
    assert by_name["files"].files == {"out.txt": b"done"}
    assert by_name["modules"].ok and by_name["modules"].stdout.strip() == "42"
    assert {"seccomp", "netns", "cgroup-memory"} <= by_name["print"].isolation  # per result, as locally
    assert ray_box.available_layers() == local_box.available_layers()


def test_run_submit_and_arun(ray_box):
    assert ray_box.run("print(6 * 7)").stdout == "42\n"
    started = [ray_box.submit(Job.of(f"print({i})")) for i in range(5)]
    assert [s.result().stdout for s in started] == [f"{i}\n" for i in range(5)]
    assert started[0].result().stdout == "0\n"  # a second call returns the same result

    async def many():
        return await asyncio.gather(*(ray_box.arun(f"print({i} + 1)") for i in range(6)))

    assert [r.stdout for r in asyncio.run(many())] == [f"{i + 1}\n" for i in range(6)]


def test_map_keeps_order_and_an_empty_map_is_empty(ray_box):
    jobs = [Job.of(f"import time\ntime.sleep({(7 - i) * 0.02})\nprint({i})") for i in range(8)]
    assert [r.stdout for r in ray_box.map(jobs, concurrency=3)] == [f"{i}\n" for i in range(8)]
    assert ray_box.map([]) == []
    with pytest.raises(TypeError):
        ray_box.run_job("print(1)")  # type: ignore[arg-type]


def test_work_in_flight_is_bounded(cluster):
    """With max_in_flight=2, a third submit waits until one of the first two jobs is done."""
    with make_sandbox("ray", workers=2, max_in_flight=2) as box:
        box.run("pass")
        sleeper = Job.of("import time\ntime.sleep(0.6)\nprint('ok')")
        started = time.monotonic()
        first = [box.submit(sleeper) for _ in range(2)]
        assert time.monotonic() - started < 0.5
        third = box.submit(sleeper)
        assert time.monotonic() - started >= 0.5  # it had to wait for room
        assert all(s.result().stdout == "ok\n" for s in [*first, third])
        assert box.pool.stats.submitted == box.pool.stats.completed


# ---- losing actors and nodes -------------------------------------------------------------------


def _token_jobs(count: int, seconds: float) -> tuple[list[Job], list[str]]:
    tokens = [f"job-{i}-{os.urandom(4).hex()}" for i in range(count)]
    return [Job.of(f"import time\ntime.sleep({seconds})\nprint({t!r})") for t in tokens], tokens


def _assert_each_once(results, tokens) -> None:
    assert len(results) == len(tokens)
    for result, token in zip(results, tokens, strict=True):
        assert result.ok and result.stdout == token + "\n", (token, result)


def test_an_actor_killed_mid_run_loses_no_job_and_counts_none_twice(cluster):
    with make_sandbox("ray", workers=2) as box:
        assert box.pool.wait_ready(60) == 2
        jobs, tokens = _token_jobs(10, 0.3)
        outcome: dict = {}
        thread = threading.Thread(target=lambda: outcome.update(results=box.map(jobs)))
        thread.start()
        time.sleep(0.4)  # both actors are running jobs now
        victim = box.pool.workers()[0]["pid"]
        os.kill(victim, signal.SIGKILL)
        thread.join(120)
        _assert_each_once(outcome["results"], tokens)
        stats = box.pool.stats
        assert stats.workers_lost == 1 and stats.retried >= 1 and stats.failed == 0, stats
        assert stats.completed == stats.submitted == len(jobs)
        deadline = time.monotonic() + 60
        while len([w for w in box.pool.workers() if w["ready"]]) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert victim not in {w["pid"] for w in box.pool.workers()} and len(box.pool.workers()) == 2  # replaced


def test_a_node_removed_mid_run_loses_no_job_and_counts_none_twice(cluster):
    node = cluster.add_node(num_cpus=2)
    try:
        with make_sandbox("ray", workers=4) as box:  # SPREAD: two actors on each node
            assert box.pool.wait_ready(60) == 4
            nodes = {w["node"] for w in box.pool.workers()}
            assert len(nodes) == 2, box.pool.workers()
            on_node = sum(w["node"] == node.node_id for w in box.pool.workers())
            jobs, tokens = _token_jobs(16, 0.4)
            outcome: dict = {}
            thread = threading.Thread(target=lambda: outcome.update(results=box.map(jobs)))
            thread.start()
            time.sleep(0.5)
            cluster.remove_node(node, allow_graceful=False)
            node = None
            thread.join(180)
            _assert_each_once(outcome["results"], tokens)
            stats = box.pool.stats
            assert stats.workers_lost >= on_node >= 1 and stats.retried >= 1 and stats.failed == 0, stats
            assert stats.completed == stats.submitted == len(jobs)
    finally:
        if node is not None:
            cluster.remove_node(node)


def test_a_call_lost_twice_is_reported_failed_with_the_reason(cluster):
    """A call that kills whichever actor runs it: retried once on a fresh actor, then failed."""
    pool = ActorPool(functools.partial(importlib.import_module, "os"), workers=1)
    try:
        lost = pool.submit("_exit", 1, budget_s=10, on_failure=lambda why: ("failed", why)).result(120)
        assert lost[0] == "failed" and "lost twice" in lost[1], lost
        assert pool.stats.retried == 1 and pool.stats.failed == 1 and pool.stats.workers_lost == 2
        assert pool.submit("getpid", on_failure=str).result(120) > 0  # the pool still works
        with pytest.raises(TypeError):  # an exception the method raises is an answer, not a loss
            pool.submit("kill", "not a pid", 9, on_failure=str).result(60)
        assert pool.stats.failed == 1 and pool.stats.workers_lost == 2
    finally:
        pool.close()


def test_close_ends_the_actors_and_their_sandboxes(cluster):
    import psutil

    box = make_sandbox("ray", workers=2)
    box.run("pass")
    assert box.pool.wait_ready(60) == 2
    actors = {w["pid"] for w in box.pool.workers()}
    family = actors | {c.pid for pid in actors for c in psutil.Process(pid).children(recursive=True)}
    assert len(family) > len(actors)  # each actor holds a sandbox zygote
    box.close()
    box.close()  # twice is fine
    deadline = time.monotonic() + 20
    while _alive(family) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(family)
    with pytest.raises(Exception, match="closed"):
        box.run("pass")


# ---- distributed verification ------------------------------------------------------------------


def _code_problems(count: int) -> list[Problem]:
    from thinkgym.envs.code import load_code_problems

    return [p for p in load_code_problems() if p.answer][:count]


def test_verify_batch_on_ray_gives_the_local_rewards_in_order(cluster):
    from thinkgym.verifiers import MathVerifier, RayVerifierPool, verify_batch

    problems = [Problem(f"m{i}", "Compute it.", str(i * 7)) for i in range(30)]
    completions = [f"So the answer is $\\boxed{{{i * 7 + (i % 4 == 0)}}}$." for i in range(30)]
    verifier = MathVerifier()
    local = verify_batch(verifier, completions, problems)
    with RayVerifierPool(workers=2, chunk_size=4, max_in_flight=3) as pool:
        remote = verify_batch(verifier, completions, problems, backend="ray", pool=pool)
        assert [r.score for r in remote] == [r.score for r in local] == [float(i % 4 != 0) for i in range(30)]
        assert [r.info for r in remote] == [r.info for r in local]
        assert pool.pool.stats.failed == 0 and pool.pool.stats.submitted == 8
        with pytest.raises(TypeError):  # a bad problem raises as it does locally
            verify_batch(verifier, ["x"], ["not a problem"], backend="ray", pool=pool)  # type: ignore[list-item]


def test_the_code_verifier_on_ray_two_ways(cluster, ray_box, local_box):
    """Shipped to the actors (each keeps a warm local sandbox), or kept here with a ray sandbox:
    both give the rewards of the code verifier on the local backend."""
    from thinkgym.verifiers import RayVerifierPool, verify_batch
    from thinkgym.verifiers.code import CodeVerifier

    problems = _code_problems(4)
    right = [f"```python\n{p.answer}\n```" for p in problems]
    wrong = ["```python\ndef f():\n    return None\n```"] * len(problems)
    completions, batch = right + wrong, problems + problems
    expected = [r.score for r in CodeVerifier(local_box).verify_batch(completions, batch)]
    assert expected[: len(problems)] == [1.0] * len(problems) and expected[len(problems) :] == [0.0] * len(problems)
    on_ray_sandbox = CodeVerifier(ray_box)
    assert [r.score for r in verify_batch(on_ray_sandbox, completions, batch, backend="ray")] == expected
    with RayVerifierPool(workers=2, chunk_size=2) as pool:
        shipped = verify_batch(CodeVerifier("local"), completions, batch, backend="ray", pool=pool)
    assert [r.score for r in shipped] == expected


# ---- optional, and never imported unless asked ---------------------------------------------------


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_import_thinkgym_does_not_import_ray():
    out = _python("import sys, thinkgym, thinkgym.sandbox, thinkgym.verifiers, thinkgym.benchmarks, thinkgym.cli\n"
                  "from thinkgym.sandbox import available_backends\navailable_backends()\n"
                  "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_without_ray_the_error_names_the_extra():
    out = _python("import sys\nsys.modules['ray'] = None\nfrom thinkgym.sandbox import make_sandbox, available_backends\n"
                  "assert 'ray' not in available_backends()\ntry:\n    make_sandbox('ray')\nexcept Exception as e:\n"
                  "    print(type(e).__name__, e)\n")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("SandboxUnavailableError") and 'pip install "thinkgym[ray]"' in out.stdout, out.stdout


def test_bad_settings_are_refused(cluster):
    from thinkgym.errors import ConfigError

    with pytest.raises(ConfigError):
        make_sandbox("ray", node_backend="ray")
    with pytest.raises(ConfigError):
        make_sandbox("ray", cpus_per_worker=64)


def test_an_unreachable_cluster_is_refused_in_seconds():
    from thinkgym.errors import SandboxUnavailableError
    from thinkgym.sandbox.ray_pool import _check_reachable

    started = time.monotonic()
    with pytest.raises(SandboxUnavailableError, match="cannot reach the Ray cluster at 127.0.0.1:1"):
        _check_reachable("127.0.0.1:1")
    with pytest.raises(SandboxUnavailableError):
        _check_reachable("ray://127.0.0.1:1")
    assert time.monotonic() - started < 15


def test_strict_refuses_when_a_node_lacks_a_required_layer(cluster):
    """Strictness is enforced by each node's sandbox; the driver refuses before sending a job."""
    from thinkgym.errors import SandboxUnavailableError

    with make_sandbox("ray", workers=1, cpus_per_worker=0.5, strict=True, required_layers=["seccomp", "no-such-layer"]) as box:
        assert box.missing_layers() == {"no-such-layer": box.missing_layers()["no-such-layer"]}
        with pytest.raises(SandboxUnavailableError, match="no-such-layer"):
            box.run("print(1)")
        refused = box.run_job(Job.of("print(1)"))  # straight to a node: the node's sandbox refuses it
        assert refused.exit_code is None and "no-such-layer" in (refused.error or "")


# ---- the code verifier's attack suite, against the ray backend ---------------------------------


def _attack_module():
    path = ROOT / "tests" / "verifiers" / "test_code_attacks.py"
    spec = importlib.util.spec_from_file_location("_thinkgym_attacks_for_ray", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_attacks = _attack_module()
globals().update({name: value for name, value in vars(_attacks).items()
                  if name.startswith("test_") or name in ("verifier",)})  # fmt: skip


@pytest.fixture(scope="module")
def sandbox(ray_box):
    """The attack suite's sandbox, here the ray backend."""
    return ray_box


def test_the_attack_suite_is_collected_here():
    attacks = {name for name in vars(_attacks) if name.startswith("test_")}
    assert len(attacks) >= 10 and attacks <= set(globals())


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_ray_client_address_reaches_a_cluster_started_elsewhere():
    """``make_sandbox("ray", address="ray://host:port")`` and a verifier pool over Ray Client, against
    a head started by ``ray start`` (token authentication on, as Ray enables it by default), from a
    process that has no Ray of its own; the head is stopped with its process group afterwards."""
    temp = tempfile.mkdtemp(prefix="tgrc", dir="/tmp")  # (Ray's socket paths must stay short)
    gcs, client = _free_port(), _free_port()
    # A clean environment of its own (what earlier tests left in os.environ stays out of the head and
    # of the per-client servers it starts), token authentication on, as Ray enables it by default.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
           "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": os.urandom(16).hex(), "RAY_TMPDIR": temp}  # fmt: skip
    ray_cli = str(Path(sys.executable).with_name("ray"))
    head = subprocess.Popen([ray_cli, "start", "--head", "--block", f"--port={gcs}", f"--ray-client-server-port={client}",
                             "--num-cpus=2", "--include-dashboard=false", f"--temp-dir={temp}/ray", "--disable-usage-stats"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    script = (
        "import sys\nfrom thinkgym.core import Problem\nfrom thinkgym.sandbox import make_sandbox\n"
        "from thinkgym.verifiers import MathVerifier, RayVerifierPool, verify_batch\n"
        f"address = 'ray://127.0.0.1:{client}'\n"
        "with make_sandbox('ray', address=address, workers=1) as sandbox:\n"
        "    result = sandbox.run('print(6 * 7)')\n"
        "    print('RUN', result.stdout.strip(), result.ok, 'seccomp' in result.isolation)\n"
        "    with RayVerifierPool(address=address, workers=1) as pool:\n"
        "        rewards = verify_batch(MathVerifier(), ['$\\\\boxed{2}$', '$\\\\boxed{3}$'], [Problem('p', '1 + 1?', '2')] * 2,\n"
        "                               backend='ray', pool=pool)\n"
        "    print('VERIFY', [r.score for r in rewards])\n"
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # the client server listens once the head is up
            try:
                __import__("socket").create_connection(("127.0.0.1", client), timeout=1).close()
                break
            except OSError:
                assert head.poll() is None, "ray start --head exited"
                time.sleep(0.5)
        while time.monotonic() < deadline:  # and until the head's services answer (not only its port)
            status = subprocess.run([ray_cli, "status", f"--address=127.0.0.1:{gcs}"], env=env, capture_output=True, timeout=60)
            if status.returncode == 0:
                break
            time.sleep(1)
        for _attempt in range(2):  # Ray's client proxy starts a server per client, which a head
            done = subprocess.run([sys.executable, "-c", script], env={**env, "PYTHONPATH": str(ROOT / "src")},
                                  capture_output=True, text=True, timeout=240)  # fmt: skip
            if "cannot join the Ray cluster" not in done.stderr:  # still settling may refuse a client once
                break
        logs = "".join(f"\n--- {p.name}:\n" + p.read_text(errors="replace")[-1500:]
                       for p in Path(temp).glob("ray/session_latest/logs/ray_client_server*"))  # fmt: skip
        assert "RUN 42 True True" in done.stdout, done.stdout + done.stderr[-3000:] + logs
        assert "VERIFY [1.0, 0.0]" in done.stdout, done.stdout + done.stderr[-3000:] + logs
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGKILL)  # the head and every Ray process it started
        head.wait(30)
        __import__("shutil").rmtree(temp, ignore_errors=True)
