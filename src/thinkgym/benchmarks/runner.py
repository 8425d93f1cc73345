"""`thinkgym eval`: run a policy on a suite, concurrently, resumably, with live progress.

How the work flows, and why:

- Each sample is one episode of one problem (single-turn: one answer; multi-turn: moves until
  the env ends it). ``concurrency`` episodes run at once as asyncio tasks.
- Generation goes through a small batcher: queries waiting at the same moment are sent to the
  policy together (a local model generates a batch at once; a server gets parallel requests).
- Verification is the env's own ``step``. For single-turn envs it runs in a process pool (the
  verifiers are CPU-bound; code runs in the sandbox from there), so while one episode is being
  verified the others keep generating. Multi-turn envs keep their state in this process and step
  in threads. An env a fresh worker process cannot build (registered only in your script) steps
  in threads too.
- Every finished sample is appended to ``samples.jsonl`` and fsync-ed at once (see `store`), so a
  killed run resumes where it stopped: the same command with the same ``--out`` skips every sample
  already written and retries the ones whose generation failed.
- Every sample has its own seed, derived from the run's ``seed`` and the sample's key (env label,
  problem index, sample number; and the turn, for multi-turn episodes) with a fixed hash, and
  passed to the policy in `Query.seed`. A policy that samples draws from it, so the same
  ``--seed`` gives the same samples whatever the concurrency, the batching or a resume (random:
  exactly; ``hf:``: see `thinkgym.agents.hf`; ``openai:``: the request's ``seed`` field, one per
  sample, so pass@k compares k different seeds).
- Envs are reached through gymnasium's wrapper-aware accessors (`thinkgym.agents.base.env_attr`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from thinkgym.agents.base import Policy, derive_seed, env_attr, query_for
from thinkgym.benchmarks.batching import Batcher
from thinkgym.benchmarks.judging import (
    extract_answer,
    is_correct,
    jsonable,
    miss_reason,
    step_outcome,
)
from thinkgym.benchmarks.metrics import summarize
from thinkgym.benchmarks.store import RunDir, best_records, sample_key
from thinkgym.benchmarks.suites import Suite, SuiteEntry
from thinkgym.benchmarks.workers import import_modules, kill_pool, worker_step
from thinkgym.core import Problem, verification_failure
from thinkgym.errors import ConfigError, ThinkgymError

__all__ = ["EvalSettings", "evaluate", "run_identity", "is_correct", "extract_answer"]

_VERSIONED_PACKAGES = (
    "thinkgym", "numpy", "gymnasium", "sympy", "latex2sympy2_extended", "math-verify",
    "torch", "transformers", "openai", "vllm", "rich", "matplotlib",
)  # fmt: skip


@dataclass
class EvalSettings:
    """How to run (``identity`` fields must match on resume; the rest may change)."""

    samples: int = 1
    seed: int = 0
    temperature: float | None = None
    max_tokens: int | None = None
    concurrency: int = 8
    batch_size: int = 1
    parallel_calls: int | None = None  # concurrent policy calls; None = as many as batches
    verify_workers: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))
    #: Modules to import first (here and in every verification worker): they register your envs.
    imports: tuple[str, ...] = ()
    step_timeout_s: float = 300.0  # safety net; verifiers bound their own time
    progress: bool = True
    retry_failed: bool = True
    #: Verify (and run code) on a Ray cluster: ``ray_address`` None finds or starts a local one,
    #: "auto" an existing one, "ray://host:10001" a remote one; ``ray_workers`` actors (None: one
    #: per CPU of the cluster). ``hf:`` policies generate on its GPUs when it has any.
    ray: bool = False
    ray_address: str | None = None
    ray_workers: int | None = None

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise ConfigError(f"--samples must be >= 1, got {self.samples}")
        if self.concurrency < 1:
            raise ConfigError(f"--concurrency must be >= 1, got {self.concurrency}")
        if self.batch_size < 1:
            raise ConfigError(f"--batch-size must be >= 1, got {self.batch_size}")
        if self.verify_workers < 0:
            raise ConfigError(f"--verify-workers must be >= 0, got {self.verify_workers}")


def run_identity(
    suite: Suite, fingerprint: str, policy_label: str, settings: EvalSettings
) -> dict[str, Any]:
    """What makes two runs the same run (compared on resume)."""
    return {
        "suite": suite.id,
        "suite_hash": fingerprint,
        "entries": [e.to_dict() for e in suite.entries],
        "policy": policy_label,
        "samples": settings.samples,
        "seed": settings.seed,
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
    }


def package_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in _VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


# --------------------------------------------------------------------------------------------
# The evaluation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    entry: SuiteEntry
    problem_index: int
    problem: Problem
    sample: int

    @property
    def key(self) -> str:
        return sample_key(self.entry.label, self.problem_index, self.sample)

    def seed(self, run_seed: int, turn: int) -> int:
        """The seed of turn ``turn`` of this sample: from the run's seed and the sample's key only."""
        return derive_seed(run_seed, self.key, self.problem.id, turn)


@dataclass
class _Tally:
    """What one episode's generations and steps add up to (the sample record's numbers)."""

    actions: list[str] = field(default_factory=list)
    observations: list[Any] = field(default_factory=list)  # what each action got back (multi-turn)
    step_rewards: list[float] = field(default_factory=list)
    finish_reasons: list[str | None] = field(default_factory=list)
    summed: dict[str, float] = field(default_factory=dict)
    format_scores: list[float] = field(default_factory=list)
    gen_s: float = 0.0
    verify_s: float = 0.0
    latency: float = 0.0
    latency_known: bool = True
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_known: bool = True

    def add_generation(self, generation: Any, call_s: float) -> str | None:
        """Count one generation; the sample's error when it brought no usable text."""
        self.gen_s += call_s
        self.latency_known &= generation.latency_s is not None
        self.latency += generation.latency_s if generation.latency_s is not None else call_s
        if generation.completion_tokens is not None:
            self.completion_tokens += generation.completion_tokens
            self.prompt_tokens += generation.prompt_tokens or 0
        else:
            self.tokens_known = False
        self.finish_reasons.append(generation.finish_reason)
        if generation.error:
            return str(generation.error)
        if not isinstance(generation.text, str):
            return f"policy returned {type(generation.text).__name__} instead of text"
        return None

    def add_outcome(self, outcome: Mapping[str, Any]) -> None:
        """Count one step: its reward, its components (a format part is averaged, not summed)."""
        self.verify_s += outcome["verify_s"]
        self.step_rewards.append(outcome["reward"])
        self.observations.append(jsonable(outcome.get("observation")))
        for name, value in outcome["components"].items():
            if name.rsplit(".", 1)[-1] == "format":
                self.format_scores.append(value)
            else:
                self.summed[name] = self.summed.get(name, 0.0) + value

    def components(self) -> dict[str, float]:
        components = dict(self.summed)
        if self.format_scores:
            components["format"] = sum(self.format_scores) / len(self.format_scores)  # a rate
        return components


class _EnvPool:
    """Reusable env instances of one suite entry (an episode holds one while it runs)."""

    def __init__(self, entry: SuiteEntry):
        self.entry = entry
        self.free: list[Any] = []
        self.free.append(entry.make_env())  # fail fast on a bad env id or arguments
        self.multi_turn = False  # set once an episode of this entry takes more than one turn
        #: the env's hook naming the component that means "solved" (None: the judging defaults)
        self.success_component = env_attr(self.free[0], "success_component")

    def acquire(self) -> Any:
        return self.free.pop() if self.free else self.entry.make_env()

    def release(self, env: Any) -> None:
        self.free.append(env)

    def close(self) -> None:
        for env in self.free:
            env.close()
        self.free.clear()


class _Evaluation:
    def __init__(
        self,
        suite: Suite,
        policy: Policy,
        run_dir: RunDir,
        settings: EvalSettings,
        done: dict[str, dict],
    ):
        self.suite = suite
        self.policy = policy
        self.run_dir = run_dir
        self.settings = settings
        self.records = done
        self.envs = {entry.label: _EnvPool(entry) for entry in suite.entries}
        self.in_process: set[str] = set(self.envs) if settings.verify_workers == 0 else set()
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None
        self.verify_slots = asyncio.Semaphore(max(1, settings.verify_workers))
        self.threads = concurrent.futures.ThreadPoolExecutor(
            max_workers=settings.concurrency, thread_name_prefix="thinkgym-step"
        )
        self.writer = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="thinkgym-write"
        )
        self.progress: Any = None  # a LiveProgress when shown

    # ---- steps -----------------------------------------------------------------------------

    def start_ray(self) -> None:
        """With ``--ray``: join the cluster and start the verification actors before the policy."""
        if self.settings.ray and self.pool is None:
            from thinkgym.benchmarks.ray_eval import RayStepExecutor

            settings = self.settings
            self.pool = RayStepExecutor(address=settings.ray_address, workers=settings.ray_workers,  # type: ignore[assignment]
                                        imports=settings.imports, step_timeout_s=settings.step_timeout_s)  # fmt: skip
            self.verify_slots = asyncio.Semaphore(self.pool.max_in_flight)  # type: ignore[attr-defined]

    def _ensure_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self.pool is None and self.settings.ray:
            self.start_ray()  # after a recycle: fresh actors
        if self.pool is None:
            self.pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.settings.verify_workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=import_modules,
                initargs=(tuple(self.settings.imports),),
            )
        return self.pool

    async def _step_single(self, item: _Item, action: str) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        label = item.entry.label
        timeout = self.settings.step_timeout_s
        if label not in self.in_process:
            kwargs_json = json.dumps(dict(item.entry.kwargs), sort_keys=True)
            outcome: dict[str, Any] | None = None
            for attempt in range(2):
                try:
                    # one step per worker at a time, so the timeout measures the step, not the queue
                    async with self.verify_slots:
                        pool = self._ensure_pool()
                        outcome = await asyncio.wait_for(
                            loop.run_in_executor(
                                pool,
                                worker_step,
                                item.entry.env,
                                kwargs_json,
                                item.problem,
                                action,
                            ),
                            timeout,
                        )
                    break
                except asyncio.TimeoutError:
                    self._recycle_pool(pool)  # the worker is stuck: replace the workers
                    raise
                except concurrent.futures.process.BrokenProcessPool:
                    # a worker died (killed, out of memory, or recycled after a hang elsewhere):
                    # start a fresh pool and try once more
                    self._recycle_pool(pool)
                    if attempt == 1:
                        self._pool_failed("a verification worker died twice")
                except (RuntimeError, OSError, ImportError) as exc:
                    self._pool_failed(f"{type(exc).__name__}: {exc}")
                    break
            if outcome is not None and "step_error" in outcome:
                raise ThinkgymError(outcome["step_error"])
            if outcome is not None and not outcome.get("unavailable"):
                return outcome
            self.in_process.add(label)  # the worker cannot build it: step here instead
        env = self.envs[label].acquire()
        try:
            return await asyncio.wait_for(
                loop.run_in_executor(self.threads, step_outcome, env, action, item.problem), timeout
            )
        finally:
            self.envs[label].release(env)

    def _pool_failed(self, why: str) -> None:
        """Verification workers cannot run here: step every env in this process from now on."""
        if self.in_process != set(self.envs):
            import warnings

            warnings.warn(
                f"verification worker processes failed ({why.strip()[:200]}); verifying in threads instead. "
                "(Scripts that call evaluate() need an `if __name__ == '__main__':` guard.)",
                RuntimeWarning,
                stacklevel=2,
            )
        self.in_process |= set(self.envs)
        self._recycle_pool(self.pool)

    def _recycle_pool(self, pool: concurrent.futures.ProcessPoolExecutor | None) -> None:
        """Kill the workers of ``pool`` (one may hang); fresh ones start on the next step. Steps
        still queued on it fail with BrokenProcessPool and are retried. A pool already replaced
        is left alone, so concurrent failures do not kill its successor."""
        if pool is None or pool is not self.pool:
            return
        self.pool = None
        kill_pool(pool, grace_s=0.0)

    async def _step(self, item: _Item, env: Any, text: str, multi_turn: bool) -> dict[str, Any]:
        """One step: multi-turn envs step here (in a thread), single-turn answers in a worker."""
        if not multi_turn:
            return await self._step_single(item, text)
        return await asyncio.wait_for(
            asyncio.get_running_loop().run_in_executor(self.threads, step_outcome, env, text, None),
            self.settings.step_timeout_s,
        )

    async def _episode(self, item: _Item, batcher: Batcher) -> dict[str, Any]:
        label = item.entry.label
        pool = self.envs[label]
        start = time.perf_counter()
        env = pool.acquire()
        released = False
        tally = _Tally()
        actions, step_rewards = tally.actions, tally.step_rewards
        outcome: dict[str, Any] = {}
        error: str | None = None
        multi_turn = False
        prompt = ""
        try:
            try:
                observation, _ = env.reset(options={"problem": item.problem})
            except Exception as exc:  # an env bug: a failed sample, not a crashed run
                observation, error = "", f"env.reset raised {type(exc).__name__}: {exc}"
            prompt = observation
            # Multi-turn episodes keep their state in this env and step in threads; single-turn
            # answers are judged by a fresh env in a worker, so this one is free again at once.
            multi_turn = int(env_attr(env, "max_turns", 1)) > 1
            pool.multi_turn |= multi_turn
            while error is None:
                try:
                    query = query_for(env, self.policy, seed=item.seed(self.settings.seed, len(actions)))
                except Exception as exc:  # an env bug (e.g. in oracle_action): a failed sample
                    error = f"building the query raised {type(exc).__name__}: {exc}"
                    break
                if not multi_turn:
                    pool.release(env)  # the step runs elsewhere; free the env for the next query
                    released = True
                generation, call_s = await batcher.generate(query)
                error = tally.add_generation(generation, call_s)
                if error:
                    break
                text = generation.text
                actions.append(text)
                try:
                    outcome = await self._step(item, env, text, multi_turn)
                except asyncio.TimeoutError:
                    error = f"env step exceeded {self.settings.step_timeout_s:g} s"
                    if multi_turn:
                        released = True  # a thread may still be inside env.step: never reuse it
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # an env bug: recorded as a failed sample, not a crash
                    error = (
                        str(exc)
                        if isinstance(exc, ThinkgymError)
                        else f"env step raised {type(exc).__name__}: {exc}"
                    )
                    break
                tally.add_outcome(outcome)
                if outcome["terminated"] or outcome["truncated"]:
                    break
        finally:
            if not released:
                pool.release(env)
        components = tally.components()
        reward = float(sum(step_rewards))
        reward_info = outcome.get("reward_info") or {}
        why = None if error else verification_failure(reward_info)
        if why:  # the verifier could not judge: a failed sample (retried), never a zero
            error = why if why.startswith("verification failed") else f"verification failed: {why}"
        found, answer, vote_key = extract_answer(reward_info)
        correct = (not error) and is_correct(reward, components, pool.success_component)
        record: dict[str, Any] = {
            "key": item.key,
            "env": label,
            "env_id": item.entry.env,
            "problem_index": item.problem_index,
            "problem_id": item.problem.id,
            "sample": item.sample,
            "prompt": prompt,
            "completion": "\n".join(actions),
            "actions": actions if multi_turn else None,
            "observations": tally.observations if multi_turn else None,
            "step_rewards": step_rewards if multi_turn else None,
            "answer": jsonable(item.problem.answer),  # the gold answer, for reports
            "extracted_answer": None if error else jsonable(answer, 500),
            "vote_key": None if error else jsonable(vote_key, 500),
            "answer_found": found,
            "reward": reward,
            "components": components,
            "correct": correct,
            "reward_info": reward_info,
            "reason": miss_reason(outcome, reward_info, multi_turn)
            if not error and not correct
            else None,
            "error": error,
            "terminated": outcome.get("terminated", False),
            "truncated": outcome.get("truncated", False),
            "turns": len(actions),
            "finish_reasons": tally.finish_reasons,
            "latency_s": tally.latency if tally.latency_known else None,
            "prompt_tokens": tally.prompt_tokens if tally.tokens_known else None,
            "completion_tokens": tally.completion_tokens if tally.tokens_known else None,
            "timings": {
                "generate_s": tally.gen_s,
                "verify_s": tally.verify_s,
                "total_s": time.perf_counter() - start,
            },
            "time": time.time(),
        }
        return record

    # ---- progress ----------------------------------------------------------------------------

    def start_progress(self) -> None:
        from thinkgym.benchmarks.progress import LiveProgress

        totals = {entry.label: entry.n * self.settings.samples for entry in self.suite.entries}
        self.progress = LiveProgress(totals, self.records.values(), temperature=self.settings.temperature)
        self.progress.start()

    # ---- main loop ---------------------------------------------------------------------------

    def work_items(self) -> list[_Item]:
        """Every sample not yet done (or failed, when retrying), interleaved across envs."""
        items: list[_Item] = []
        problems = self.suite.problems
        longest = max(entry.n for entry in self.suite.entries)
        for index in range(longest):
            for entry in self.suite.entries:
                if index >= entry.n:
                    continue
                for sample in range(self.settings.samples):
                    item = _Item(entry, index, problems[entry.label][index], sample)
                    record = self.records.get(item.key)
                    if record is None or (record.get("error") and self.settings.retry_failed):
                        items.append(item)
        return items

    async def run(self, todo: Sequence[_Item]) -> None:
        batcher = Batcher(
            self.policy,
            self.settings.batch_size,
            self.settings.parallel_calls or self.settings.concurrency,
        )
        batcher.start()
        queue: asyncio.Queue[_Item] = asyncio.Queue()
        for item in todo:
            queue.put_nowait(item)
        loop = asyncio.get_running_loop()

        async def worker() -> None:
            while True:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                record = await self._episode(item, batcher)
                try:
                    await loop.run_in_executor(self.writer, self.run_dir.append, record)
                except OSError as exc:  # a disk that filled up mid-run: stop cleanly
                    raise ThinkgymError(
                        f"cannot append to {self.run_dir.samples_path}: {exc.strerror or exc}. Every "
                        "sample before this one is saved; free space and re-run the same command to resume."
                    ) from exc
                self.records[item.key] = record
                if self.progress is not None:
                    self.progress.advance(record)

        workers = [
            asyncio.create_task(worker())
            for _ in range(min(self.settings.concurrency, max(1, len(todo))))
        ]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await batcher.stop()

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
        if self.pool is not None:
            kill_pool(self.pool, grace_s=5.0)
            self.pool = None
        self.threads.shutdown(wait=False, cancel_futures=True)
        self.writer.shutdown(wait=True)
        for pool in self.envs.values():
            pool.close()


def evaluate(
    suite: Suite,
    policy: str | Policy,
    out: str | os.PathLike[str],
    settings: EvalSettings | None = None,
    *,
    policy_label: str | None = None,
    command: Sequence[str] | None = None,
    report: bool = True,
) -> dict[str, Any]:
    """Evaluate ``policy`` (a `Policy` or a ``--policy`` string) on ``suite``; results in ``out``.

    Resumes when ``out`` holds the same run; refuses a different one. Returns the summary (also
    written to ``summary.json``) and, unless ``report=False``, writes ``report.md`` and the plots.
    """
    settings = settings or EvalSettings()
    if isinstance(policy, str):
        from thinkgym.benchmarks.policy_spec import parse_policy_spec

        spec = parse_policy_spec(policy)
        label = policy_label or spec.raw
    elif isinstance(policy, Policy):
        spec = None
        label = policy_label or getattr(policy, "name", type(policy).__name__)
    else:
        raise TypeError(
            f"policy must be a Policy or a policy spec string, got {type(policy).__name__}"
        )
    run_dir = RunDir(out)
    run_dir.check_writable()  # before generating problems or loading a model
    run_dir.lock()
    try:
        return _evaluate_locked(suite, policy, spec, label, run_dir, settings, command, report)
    finally:
        run_dir.unlock()


def _evaluate_locked(
    suite: Suite,
    policy: str | Policy,
    spec: Any,
    label: str,
    run_dir: RunDir,
    settings: EvalSettings,
    command: Sequence[str] | None,
    report: bool,
) -> dict[str, Any]:
    import_modules(tuple(settings.imports))
    fingerprint = suite.fingerprint()
    identity = run_identity(suite, fingerprint, label, settings)
    config = {
        "identity": identity,
        "suite": suite.to_dict(),
        "suite_hash": fingerprint,
        "session": {
            "command": list(command) if command is not None else list(sys.argv),
            "cwd": os.getcwd(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "versions": package_versions(),
            "concurrency": settings.concurrency,
            "batch_size": settings.batch_size,
            "verify_workers": settings.verify_workers,
            **({"ray": settings.ray_address or "local"} if settings.ray else {}),
        },
    }
    run_dir.prepare(config)
    done = best_records(run_dir.read_samples(repair=True))
    if spec is not None:
        from thinkgym.benchmarks.policy_spec import make_policy

        if spec.batches_on_one_device and settings.parallel_calls is None:
            settings.parallel_calls = 1
            settings.batch_size = max(settings.batch_size, settings.concurrency)
    evaluation = _Evaluation(
        suite, policy if isinstance(policy, Policy) else None, run_dir, settings, done
    )  # type: ignore[arg-type]
    todo = evaluation.work_items()
    owns_policy = False
    try:
        if todo:
            evaluation.start_ray()  # with --ray: before the policy (which may go to the cluster's GPUs)
            if spec is not None:
                build = make_policy
                if settings.ray:
                    from thinkgym.benchmarks.ray_eval import make_eval_policy

                    build = functools.partial(make_eval_policy, address=settings.ray_address)
                evaluation.policy = build(
                    spec,
                    seed=settings.seed,
                    temperature=settings.temperature,
                    max_tokens=settings.max_tokens,
                    concurrency=settings.concurrency,
                    batch_size=settings.batch_size if spec.batches_on_one_device else None,
                )
                owns_policy = True
            if settings.progress:
                evaluation.start_progress()
            started = time.perf_counter()
            asyncio.run(evaluation.run(todo))
            wall = time.perf_counter() - started
            run_dir.finish_session(
                {
                    "samples": len(todo),
                    "wall_s": round(wall, 3),
                    "samples_per_s": round(len(todo) / max(wall, 1e-9), 3),
                }
            )
    finally:
        evaluation.close()
        if owns_policy and evaluation.policy is not None:
            evaluation.policy.close()
    summary = build_summary(run_dir, suite=suite, identity=identity)
    if report:
        from thinkgym.benchmarks.report import write_report

        write_report(run_dir.path, summary)
    return summary


def build_summary(
    run_dir: RunDir,
    *,
    suite: Suite | None = None,
    multi_turn_envs: Sequence[str] | None = None,
    identity: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Recompute ``summary.json`` from ``samples.jsonl`` (what `thinkgym report` does too)."""
    config = run_dir.load_config() or {}
    identity = identity or config.get("identity", {})
    records = list(best_records(run_dir.read_samples()).values())
    entries = [e["name"] for e in identity.get("entries", [])]
    if multi_turn_envs is None:
        multi_turn_envs = sorted({r["env"] for r in records if r.get("actions") is not None})
    expected = sum(int(e["n"]) for e in identity.get("entries", [])) * int(
        identity.get("samples", 1)
    )
    summary = summarize(records, multi_turn_envs=multi_turn_envs, env_order=entries)
    if suite is None and config.get("suite"):
        from thinkgym.benchmarks.suites import suite_from_mapping

        try:
            suite = suite_from_mapping(config["suite"], "config.json")
        except ThinkgymError:
            suite = None
    if suite is not None:
        from thinkgym.benchmarks.references import exact_references

        for label, reference in exact_references(suite).items():
            if label in summary["envs"]:
                summary["envs"][label]["reference"] = reference
    scored = sum(1 for r in records if not r.get("error"))
    from thinkgym.benchmarks.metrics import identical_samples_warning

    warning = identical_samples_warning(
        summary["overall"]["identical_sample_problems"],
        summary["overall"]["problems_with_several_samples"],
        identity.get("temperature"),
    )
    summary["warnings"] = [warning] if warning else []
    summary["run"] = {
        "suite": identity.get("suite"),
        "suite_hash": identity.get("suite_hash"),
        "policy": identity.get("policy"),
        "samples_per_problem": identity.get("samples"),
        "seed": identity.get("seed"),
        "temperature": identity.get("temperature"),
        "max_tokens": identity.get("max_tokens"),
        "expected_samples": expected,
        "written_samples": len(records),
        "scored_samples": scored,
        "complete": expected > 0 and scored == expected,
        "out": str(Path(run_dir.path).resolve()),
    }
    run_dir.write_summary(summary)
    return summary
