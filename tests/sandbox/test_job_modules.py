"""`Job.modules`: code many jobs share, importable by name in every backend, loaded once per worker
where the backend can (the local zygote), and never a way around a job's isolation."""

from __future__ import annotations

import pytest

from thinkgym.sandbox import Job, Limits, make_sandbox
from thinkgym.sandbox.local import MAX_SHARED_MODULES, LocalSandbox

HELPER = "CALLS = []\n\ndef triple(x):\n    CALLS.append(x)\n    return 3 * x\n"
USES_HELPER = "import helper, sys\nprint(helper.triple(14), helper.__name__, sorted(m for m in sys.modules if m == 'helper'))"


def test_modules_import_by_name_on_every_backend(any_sandbox):
    result = any_sandbox.run_job(Job.of(USES_HELPER, modules={"helper": HELPER}, limits=Limits(wall_s=30)))
    assert result.ok, result
    assert result.stdout.split() == ["42", "helper", "['helper']"]


def test_modules_import_each_other_and_fail_like_files(any_sandbox):
    """A module may import another of the job's modules; one that does not compile or raises
    fails the job's import with the error a file would give, and nothing else."""
    job = Job.of("import a\nprint(a.value)", modules={"a": "import b\nvalue = b.base * 2\n", "b": "base = 21\n"})
    assert any_sandbox.run_job(job).stdout.strip() == "42"
    broken = any_sandbox.run_job(Job.of("import bad", modules={"bad": "def f(:\n    pass\n"}))
    assert broken.exit_code == 1 and "SyntaxError" in broken.stderr
    raising = any_sandbox.run_job(Job.of("import boom", modules={"boom": "raise ValueError('boom at import')"}))
    assert raising.exit_code == 1 and "ValueError: boom at import" in raising.stderr
    caught = any_sandbox.run_job(Job.of("try:\n    import boom\nexcept ValueError as e:\n    print('caught', e)",
                                        modules={"boom": "raise ValueError('x')"}))  # fmt: skip
    assert caught.ok and caught.stdout.strip() == "caught x"


def test_bad_modules_are_refused_when_the_job_is_made():
    with pytest.raises(ValueError, match="not a top-level module name"):
        Job.of("pass", modules={"pkg.mod": "x = 1"})
    with pytest.raises(ValueError, match="not a top-level module name"):
        Job.of("pass", modules={"../evil": "x = 1"})
    with pytest.raises(TypeError, match="source text or bytes"):
        Job.of("pass", modules={"m": 42})
    with pytest.raises(ValueError, match="clash"):
        Job.of({"main.py": "pass", "m.py": "x = 1"}, modules={"m": "x = 2"})


def test_local_zygote_holds_the_code_after_the_first_jobs():
    """The first jobs bring the module's code with them (their processes were forked before the
    zygote had it); once the zygote holds it, the frame carries only its digest, and the job still
    imports it: a module's state is fresh in every job (module-level code runs once per job)."""
    sandbox = LocalSandbox(warm=2)
    frames = []
    try:
        zygote = sandbox._ensure_zygote()
        real_frame = zygote.frame

        def spy(frame, modules, warm):
            payload = real_frame(frame, modules, warm)
            frames.append([code is None for _name, _digest, code in __import__("marshal").loads(payload)["modules"]])
            return payload

        zygote.frame = spy
        outputs = [sandbox.run_job(Job.of(USES_HELPER + "\nprint(len(helper.CALLS))", modules={"helper": HELPER})).stdout.split()
                   for _ in range(8)]  # fmt: skip
        assert all(out == ["42", "helper", "['helper']", "1"] for out in outputs), outputs
        assert frames[0] == [False], "the first job's process cannot hold a module the zygote has just been sent"
        assert frames[-1] == [True], f"the zygote never held the module: {frames}"
        assert len(zygote.shared) == 1
    finally:
        sandbox.close()


def test_local_module_cache_is_bounded_and_survives_a_zygote_restart():
    """Past `MAX_SHARED_MODULES` distinct modules, more still work (their code travels with each
    job); a restarted zygote starts with an empty cache and is sent the modules again."""
    import os
    import signal

    sandbox = LocalSandbox(warm=1)
    try:
        for i in range(MAX_SHARED_MODULES + 3):
            result = sandbox.run_job(Job.of(f"import m{i}\nprint(m{i}.v)", modules={f"m{i}": f"v = {i}\n"}))
            assert result.stdout.strip() == str(i), result
        zygote = sandbox._ensure_zygote()
        assert len(zygote.shared) == MAX_SHARED_MODULES
        big = "DATA = " + repr("x" * 300_000) + "\n"  # over the size a zygote takes: always in the frame
        assert sandbox.run_job(Job.of("import big\nprint(len(big.DATA))", modules={"big": big})).stdout.strip() == "300000"
        os.kill(zygote.proc.pid, signal.SIGKILL)
        zygote.proc.wait()
        for _ in range(3):
            assert sandbox.run_job(Job.of(USES_HELPER, modules={"helper": HELPER})).stdout.split()[0] == "42"
        assert sandbox._ensure_zygote() is not zygote and len(sandbox._ensure_zygote().shared) == 1
    finally:
        sandbox.close()


def test_a_module_is_not_a_file_in_the_local_work_dir_and_sees_the_jobs_limits():
    """The local backend serves modules from memory: the work dir holds only the job's files, and
    the module's code runs inside the job with the job's limits (here: no network, no host files)."""
    import thinkgym

    with make_sandbox("local") as sandbox:
        probe = ("import os, socket\nout = sorted(os.listdir('.'))\n"
                 "try:\n    socket.create_connection(('127.0.0.1', 22), timeout=1)\n    net = 'open'\n"
                 "except OSError as e:\n    net = 'blocked'\n"
                 f"home = os.path.exists({thinkgym.__file__!r}) or os.path.exists('/root/.bashrc')\n")  # fmt: skip
        result = sandbox.run_job(Job.of("import probe\nprint(probe.out, probe.net, probe.home)", modules={"probe": probe}))
        assert result.ok, result
        assert result.stdout.strip() == "['main.py'] blocked False"
