"""The one sandbox interface, from a laptop to a cluster: `Sandbox`, `Job`, `Limits`, `SandboxResult`.

Every backend (``local`` fork-server, ``docker`` warm pool, later ``ray``) implements `Sandbox.run`;
`map` and `arun` come for free (backends may override them with something faster). A result says
which isolation layers were actually in force, so a caller can check instead of trusting.
"""

from __future__ import annotations

import abc
import asyncio
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from thinkgym.errors import SandboxUnavailableError

__all__ = ["Limits", "Job", "SandboxResult", "Sandbox", "StartedJob", "Files", "stdin_bytes"]

#: Files to place in the job's private working directory: relative path -> text or bytes.
Files = Mapping[str, "str | bytes"]


@dataclass(frozen=True)
class Limits:
    """Resource bounds of one job, all enforced from outside the job."""

    wall_s: float = 10.0
    cpu_s: float | None = None  # defaults to wall_s
    memory_mb: int = 512
    max_processes: int = 32
    max_output_bytes: int = 1_000_000  # per stream (stdout, stderr)
    max_file_mb: int = 16
    max_open_files: int = 256
    #: CPUs' worth of time the job may use at once (a CFS quota: 1.0 = one core, however many
    #: threads or processes it runs), so one job cannot starve the trainer or other jobs.
    cpus: float = 1.0

    def __post_init__(self) -> None:
        if self.wall_s <= 0:
            raise ValueError("Limits.wall_s must be > 0")
        if self.memory_mb <= 0 or self.max_processes <= 0 or self.max_output_bytes < 0 or self.max_file_mb < 0:
            raise ValueError(f"Limits must be positive: {self}")
        if not 0.01 <= self.cpus <= 1024:
            raise ValueError(f"Limits.cpus must be between 0.01 and 1024, got {self.cpus}")

    @property
    def cpu_limit_s(self) -> float:
        return self.cpu_s if self.cpu_s is not None else self.wall_s


@dataclass(frozen=True)
class Job:
    """One program to run: Python source (``code``) or several files with an entry point."""

    files: Files
    entry: str = "main.py"
    stdin: str | bytes = ""
    argv: Sequence[str] = ()
    limits: Limits = field(default_factory=Limits)
    #: Paths (relative to the work dir) whose contents come back in `SandboxResult.files`.
    collect: Sequence[str] = ()
    #: Python modules the job's code can import by name (``name -> source``): code that many jobs
    #: share, such as a test harness. A backend may compile and load each one once per worker
    #: instead of once per job (the local backend keeps their code in its zygote, so a job
    #: imports them without reading, unmarshalling or writing anything); where it does not, they
    #: are files ``<name>.py`` beside the entry. Shared between jobs, so never a place for secrets.
    modules: Mapping[str, str | bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.modules:
            return
        for name, source in self.modules.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"Job.modules: {name!r} is not a top-level module name")
            if not isinstance(source, (str, bytes)):
                raise TypeError(f"Job.modules[{name!r}] must be source text or bytes, got {type(source).__name__}")
        clash = set(self.module_files()) & set(self.files)
        if clash:
            raise ValueError(f"Job.modules clash with the job's files {sorted(clash)}")

    def module_files(self) -> dict[str, bytes]:
        """The modules as the files a backend without a module cache writes beside the entry."""
        entry_dir = os.path.dirname(self.entry)
        return {os.path.join(entry_dir, name + ".py"): source.encode() if isinstance(source, str) else bytes(source)
                for name, source in self.modules.items()}  # fmt: skip

    @classmethod
    def of(
        cls,
        code_or_files: str | Files,
        *,
        stdin: str | bytes = "",
        argv: Sequence[str] = (),
        limits: Limits | None = None,
        entry: str = "main.py",
        collect: Sequence[str] = (),
        modules: Mapping[str, str | bytes] | None = None,
    ) -> Job:
        files = {entry: code_or_files} if isinstance(code_or_files, str) else dict(code_or_files)
        if entry not in files:
            raise ValueError(f"entry {entry!r} is not among the job's files {sorted(files)}")
        return cls(files, entry, stdin, tuple(argv), limits or Limits(), tuple(collect), dict(modules or {}))


@dataclass(frozen=True)
class SandboxResult:
    """What happened to one job. ``exit_code`` is None when the job was killed before exiting."""

    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    out_of_memory: bool = False
    wall_s: float = 0.0
    cpu_s: float = 0.0
    #: Isolation layers that were actually in force for this job (e.g. "netns", "seccomp").
    isolation: frozenset[str] = frozenset()
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    signal: int | None = None  # the signal that ended the job, if any
    files: Mapping[str, bytes] = field(default_factory=dict)
    #: Set when the sandbox itself failed (could not start the job); the job did not run.
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Exited 0 on its own, within limits. Never enough to call a test passed."""
        return self.exit_code == 0 and not self.timed_out and not self.out_of_memory and self.error is None

    def with_(self, **changes: object) -> SandboxResult:
        return replace(self, **changes)  # type: ignore[arg-type]


class StartedJob:
    """A job `Sandbox.submit` has set running: `result` waits for it (only the first call waits)."""

    def __init__(self, wait: Callable[[], SandboxResult]):
        self._wait: Callable[[], SandboxResult] | None = wait
        self._result: SandboxResult | None = None

    def result(self) -> SandboxResult:
        if self._wait is not None:
            wait, self._wait = self._wait, None
            self._result = wait()
        assert self._result is not None
        return self._result


def stdin_bytes(stdin: str | bytes | bytearray) -> bytes:
    """A job's stdin as bytes (a clear TypeError for anything else)."""
    if isinstance(stdin, str):
        return stdin.encode()
    if isinstance(stdin, (bytes, bytearray)):
        return bytes(stdin)
    raise TypeError(f"stdin must be str or bytes, got {type(stdin).__name__}")


class Sandbox(abc.ABC):
    """Runs untrusted code under `Limits` with the isolation layers a backend offers.

    The promise every backend keeps about a job's stdin: **it never enters the memory of a process
    that the job's code runs in, or is forked from, before the job's own code reads it; and no job
    process holds anything of another job.** So a job can fork a child before it reads its stdin
    (a test harness forking the candidate's worker before it reads the hidden tests) and that
    child can find nothing of the stdin in its address space. The job's files are its own to see.

    ``strict=True`` refuses to run (`SandboxUnavailableError`) when a layer listed in
    ``required_layers`` is not available here; the message says how to get it.
    """

    #: Layers this backend tries to put in force.
    layers: frozenset[str] = frozenset()

    def __init__(self, *, strict: bool = False, required_layers: Iterable[str] | None = None):
        self.strict = strict
        self.required_layers = frozenset(required_layers) if required_layers is not None else self.layers

    @abc.abstractmethod
    def run_job(self, job: Job) -> SandboxResult:
        """Run one job to completion (or to its limits) and report."""

    @abc.abstractmethod
    def available_layers(self) -> frozenset[str]:
        """The isolation layers this backend can put in force on this machine."""

    def missing_layers(self) -> dict[str, str]:
        """Required layers that are unavailable here, each with how to get it."""
        return {}

    def check_strict(self) -> None:
        """Raise when strict and a required layer is missing."""
        if not self.strict:
            return
        missing = self.missing_layers()
        if missing:
            lines = "; ".join(f"{layer}: {how}" for layer, how in sorted(missing.items()))
            raise SandboxUnavailableError(f"strict sandbox refused to run, missing isolation layers — {lines}")

    def run(
        self,
        code_or_files: str | Files,
        *,
        stdin: str | bytes = "",
        argv: Sequence[str] = (),
        limits: Limits | None = None,
        entry: str = "main.py",
        collect: Sequence[str] = (),
    ) -> SandboxResult:
        """Run Python source (or a set of files with ``entry``) and report what happened."""
        self.check_strict()
        return self.run_job(Job.of(code_or_files, stdin=stdin, argv=argv, limits=limits, entry=entry, collect=collect))

    def submit(self, job: Job) -> StartedJob:
        """Start one job and return while it runs, so the caller can work in the meantime. A
        backend that cannot runs the job here, to the end."""
        if not isinstance(job, Job):
            raise TypeError(f"submit expects a Job, got {type(job).__name__}")
        result = self.run_job(job)
        return StartedJob(lambda: result)

    def map(self, jobs: Iterable[Job], *, concurrency: int | None = None) -> list[SandboxResult]:
        """Run many jobs concurrently; results come back in order."""
        self.check_strict()
        jobs = list(jobs)
        if not jobs:
            return []
        workers = max(1, min(concurrency or self.default_concurrency(), len(jobs)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandbox") as pool:
            return list(pool.map(self.run_job, jobs))

    async def arun(
        self,
        code_or_files: str | Files,
        *,
        stdin: str | bytes = "",
        argv: Sequence[str] = (),
        limits: Limits | None = None,
        entry: str = "main.py",
        collect: Sequence[str] = (),
    ) -> SandboxResult:
        """`run` for asyncio callers: the job runs off the event loop."""
        self.check_strict()
        job = Job.of(code_or_files, stdin=stdin, argv=argv, limits=limits, entry=entry, collect=collect)
        return await asyncio.to_thread(self.run_job, job)

    def default_concurrency(self) -> int:
        import os

        return max(1, len(os.sched_getaffinity(0)))

    def close(self) -> None:  # noqa: B027 - optional hook: backends without warm workers keep it
        """Stop warm workers; safe to call twice."""

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
