"""`thinkgym eval --ray ADDRESS`: the same samples as a local run, and kill -9 resumes to the same set.

One simulated Ray cluster (a 2-CPU head node) serves the file; the eval runs as a separate process
that joins it, as it would join a real cluster. Code (Code-v0) and math (GSM8K-v0) answers are
verified on the cluster's actors — code runs in each actor's own local sandbox — while the
multi-turn maze steps in the eval's process, as without ``--ray``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from thinkgym.benchmarks.store import RunDir, best_records  # noqa: E402

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the local sandbox needs Linux")

HERE = Path(__file__).resolve().parent
ARGS = ["--env", "thinkgym/Code-v0", "--env", "thinkgym/GSM8K-v0", "--env", "thinkgym/Maze-v0", "--n", "6",
        "--samples", "2", "--policy", "py:toy:slow_hash_policy", "--concurrency", "4", "--no-progress"]  # fmt: skip
TOTAL = 3 * 6 * 2


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    temp_dir = tempfile.mkdtemp(prefix="tgev", dir="/tmp")
    os.makedirs(os.path.join(temp_dir, "ray"))
    saved = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = temp_dir
    # one GPU as a logical resource (the machine has none): hf: generation goes to it, on the CPU
    head = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "num_gpus": 1, "temp_dir": temp_dir,
                                                         "include_dashboard": False})  # fmt: skip
    ray.init(address=head.address, log_to_driver=False, logging_level="warning")
    yield head
    ray.shutdown()
    head.shutdown()
    if saved is None:
        os.environ.pop("RAY_TMPDIR", None)
    else:
        os.environ["RAY_TMPDIR"] = saved


def _eval(out: Path, ray_address: str | None, *, wait: bool = True):
    env = {**os.environ, "PYTHONPATH": str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "thinkgym", "eval", *ARGS, "--out", str(out)]
    if ray_address is not None:
        cmd += ["--ray", ray_address]
    if wait:
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _comparable(out: Path) -> dict[str, tuple]:
    return {k: (r["reward"], r["correct"], r["completion"], r["extracted_answer"], json.dumps(r["components"], sort_keys=True))
            for k, r in best_records(RunDir(out).read_samples()).items()}  # fmt: skip


def _alive_actors() -> int:
    return sum(1 for a in ray._private.state.actors().values() if a.get("State") == "ALIVE")


def test_eval_on_ray_is_the_local_eval_and_kill_nine_resumes_to_the_same_samples(cluster, tmp_path):
    local, killed = tmp_path / "local", tmp_path / "killed"
    done = _eval(local, None)
    assert done.returncode == 0, done.stdout + done.stderr
    reference = _comparable(local)
    assert len(reference) == TOTAL and {r[1] for r in reference.values()} == {True, False}

    proc = _eval(killed, cluster.address, wait=False)
    samples = killed / "samples.jsonl"
    deadline = time.monotonic() + 180
    while _lines(samples) < 6 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    written = _lines(samples)
    assert 6 <= written < TOTAL, f"the kill should land mid-run ({written} of {TOTAL} samples written)"
    before = _comparable(killed)

    resumed = _eval(killed, cluster.address)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    after = _comparable(killed)
    assert all(after[k] == v for k, v in before.items())  # nothing written was lost or redone
    lines = RunDir(killed).read_samples()
    assert len(lines) == TOTAL and len({r["key"] for r in lines}) == TOTAL  # none counted twice
    assert after == reference  # the same samples and rewards as verifying locally
    config = json.loads((killed / "config.json").read_text())
    assert config["session"]["ray"] == cluster.address

    deadline = time.monotonic() + 30  # the killed driver's actors and the finished run's are gone
    while _alive_actors() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _alive_actors() == 0
    used = [a for a in ray._private.state.actors().values() if a.get("ActorClassName", "").endswith("_Host")]
    assert len(used) >= 2  # verification ran on the cluster's actors (both runs)


def test_ray_flag_parsing_and_refusals(tmp_path):
    from rich.console import Console

    from thinkgym.benchmarks.commands import EXIT_REFUSED, run_eval_command
    from thinkgym.cli import _optional_values

    assert _optional_values(["eval", "--ray"]) == ["eval", "--ray", "local"]
    assert _optional_values(["eval", "--ray", "--out", "x"]) == ["eval", "--ray", "local", "--out", "x"]
    assert _optional_values(["eval", "--ray", "auto", "--out", "x"]) == ["eval", "--ray", "auto", "--out", "x"]
    console = Console(file=open(os.devnull, "w"))  # noqa: SIM115
    code = run_eval_command(policy="random", out=str(tmp_path / "o"), suite=None, envs=["thinkgym/GSM8K-v0"], n=2,
                            samples=1, seed=0, concurrency=1, batch_size=1, verify_workers=0, temperature=None,
                            max_tokens=None, progress=False, console=console, ray="local")  # fmt: skip
    assert code == EXIT_REFUSED


def test_hf_generation_goes_to_the_clusters_gpu_and_gives_the_local_samples(cluster, tmp_path, monkeypatch):
    """Ray reports a GPU (a logical one here): the hf: model is built and generates in an actor
    holding it, and the samples are those of generating in this process."""
    from thinkgym.agents.tiny import save_tiny
    from thinkgym.benchmarks.ray_eval import RayGenerationPolicy
    from thinkgym.benchmarks.runner import EvalSettings, evaluate
    from thinkgym.benchmarks.suites import suite_from_envs

    spec = f"hf:{save_tiny(tmp_path / 'tiny')}"
    suite = suite_from_envs(["thinkgym/GSM8K-v0"], n=3, seed=0)
    common = {"seed": 3, "samples": 2, "max_tokens": 6, "progress": False}
    evaluate(suite, spec, tmp_path / "here", EvalSettings(**common), report=False)
    sent, real = [], RayGenerationPolicy.generate
    monkeypatch.setattr(RayGenerationPolicy, "generate", lambda self, queries: sent.append(len(queries)) or real(self, queries))
    evaluate(suite, spec, tmp_path / "ray", EvalSettings(**common, ray=True, ray_address=cluster.address), report=False)
    assert sum(sent) == 6  # every query went to the GPU actor
    here, there = _comparable(tmp_path / "here"), _comparable(tmp_path / "ray")
    assert len(here) == 6 and here == there
