"""The run directory of `thinkgym eval`: config, append-only samples, and the rules for resuming.

Why this shape: a benchmark run can die at any moment (SIGKILL, a full disk, a lost machine). Each
sample is one JSON line, written and ``fsync``-ed as soon as it is complete, so everything on disk
is final; a line torn by a kill is cut off on the next start. Every sample carries a ``key``
(env, problem, sample number); when a key appears twice (a failed sample retried on resume) the
successful record wins, so nothing is counted twice. ``config.json`` holds the run's identity
(suite hash, policy, samples, sampling settings); resuming with a different identity is refused.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from thinkgym.errors import ConfigError

__all__ = ["RunDir", "sample_key", "MIN_FREE_BYTES"]

SAMPLES = "samples.jsonl"
CONFIG = "config.json"
SUMMARY = "summary.json"
REPORT = "report.md"
LOCK = ".lock"
#: Refuse to start with less free space than this in ``--out``.
MIN_FREE_BYTES = 32 * 1024 * 1024
_PROBE_BYTES = 256 * 1024


def sample_key(env: str, problem_index: int, sample: int) -> str:
    """The identity of one sample inside a run."""
    return f"{env}|{problem_index}|{sample}"


class RunDir:
    """One ``--out`` directory."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._lock = threading.Lock()

    @property
    def samples_path(self) -> Path:
        return self.path / SAMPLES

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG

    # ---- before any work ---------------------------------------------------------------------

    def lock(self) -> None:
        """Hold an exclusive lock on ``--out`` for this process's lifetime (or until `unlock`).

        Two runs appending to one folder would redo and double-write samples; the second is
        refused instead. The kernel drops the lock when the holder dies, even by SIGKILL, so a
        killed run never blocks its own resume.
        """
        import fcntl

        handle = open(self.path / LOCK, "a+")  # noqa: SIM115 - held until unlock()
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ConfigError(
                f"{self.path} is in use by another `thinkgym eval` ({holder}); wait for it to finish "
                "or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._lock_handle = handle

    def unlock(self) -> None:
        handle = getattr(self, "_lock_handle", None)
        if handle is not None:
            handle.close()  # closing the file releases the flock
            self._lock_handle = None

    def check_writable(self, min_free_bytes: int = MIN_FREE_BYTES) -> None:
        """Fail fast, with a clear message, when ``--out`` cannot hold the results."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the output directory {self.path}: {exc.strerror or exc}"
            ) from exc
        if not self.path.is_dir():
            raise ConfigError(f"--out {self.path} exists and is not a directory")
        probe = self.path / ".write-probe"
        try:
            with open(probe, "wb") as fh:
                fh.write(b"\0" * _PROBE_BYTES)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise ConfigError(
                f"cannot write to the output directory {self.path}: {exc.strerror or exc}. "
                "Choose a writable --out with free space."
            ) from exc
        finally:
            try:
                probe.unlink()
            except OSError:
                pass
        free = shutil.disk_usage(self.path).free
        if free < min_free_bytes:
            raise ConfigError(
                f"only {free / 2**20:.1f} MiB free on the disk of {self.path}; at least "
                f"{min_free_bytes / 2**20:.0f} MiB are needed. Free some space or choose another --out."
            )

    def prepare(self, config: Mapping[str, Any]) -> bool:
        """Write ``config.json``, or check it matches an existing one; returns True when resuming.

        Only ``config["identity"]`` must match: the command line, concurrency and versions may
        change between sessions (each session is appended to ``config["sessions"]``).
        """
        existing = self.load_config()
        if existing is None:
            if self.samples_path.exists() and self.samples_path.stat().st_size > 0:
                raise ConfigError(
                    f"{self.path} holds {SAMPLES} but no {CONFIG}; it was not written by `thinkgym eval`. "
                    "Choose an empty --out."
                )
            data = dict(config)
            data["sessions"] = [config.get("session", {})]
            self._write_json(CONFIG, data)
            return False
        old, new = existing.get("identity", {}), config.get("identity", {})
        if old != new:
            diffs = [
                f"  {key}: existing {old.get(key)!r} vs now {new.get(key)!r}"
                for key in sorted(set(old) | set(new))
                if old.get(key) != new.get(key)
            ]
            raise ConfigError(
                f"{self.path} already holds a run with a different configuration:\n"
                + "\n".join(diffs)
                + "\nRe-run the original command to resume it, or choose a new --out."
            )
        existing.setdefault("sessions", []).append(config.get("session", {}))
        self._write_json(CONFIG, existing)
        return True

    def finish_session(self, stats: Mapping[str, Any]) -> None:
        """Record what this session did (samples, wall time, throughput) in ``config.json``."""
        config = self.load_config()
        if config is None or not config.get("sessions"):
            return
        config["sessions"][-1].update(stats)
        self._write_json(CONFIG, config)

    def load_config(self) -> dict[str, Any] | None:
        if not self.config_path.exists():
            return None
        try:
            return json.loads(self.config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{self.config_path} is unreadable ({exc}); choose a new --out"
            ) from exc

    # ---- samples -----------------------------------------------------------------------------

    def read_samples(self, *, repair: bool = False) -> list[dict[str, Any]]:
        """Every complete sample line. A torn last line (a kill mid-write) is skipped, and cut off
        the file when ``repair`` is set so appends start on a clean line."""
        path = self.samples_path
        if not path.exists():
            return []
        data = path.read_bytes()
        records: list[dict[str, Any]] = []
        good_end = 0
        pos = 0
        while pos < len(data):
            nl = data.find(b"\n", pos)
            if nl < 0:
                break  # no newline: torn
            line = data[pos:nl]
            pos = nl + 1
            if not line.strip():
                good_end = pos
                continue
            try:
                record = json.loads(line)
            except ValueError:
                # Only a kill can tear a line, and only the last one; a bad line in the middle
                # means the file was edited: stop there rather than guess.
                if data.find(b"\n", pos) >= 0:
                    raise ConfigError(
                        f"{path} has a corrupt line in the middle (byte {pos}); fix or remove it"
                    ) from None
                break
            if not isinstance(record, dict) or "key" not in record:
                raise ConfigError(f"{path}: line at byte {pos} is not a sample record")
            records.append(record)
            good_end = pos
        if repair and good_end < len(data):
            with open(path, "r+b") as fh:
                fh.truncate(good_end)
                fh.flush()
                os.fsync(fh.fileno())
        return records

    def append(self, record: Mapping[str, Any]) -> None:
        """Append one sample and make it durable before returning."""
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self._lock, open(self.samples_path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    # ---- other outputs -----------------------------------------------------------------------

    def write_summary(self, summary: Mapping[str, Any]) -> Path:
        return self._write_json(SUMMARY, summary)

    def load_summary(self) -> dict[str, Any] | None:
        path = self.path / SUMMARY
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def _write_json(self, name: str, data: Mapping[str, Any]) -> Path:
        """Atomic write (temp file + rename) so a kill never leaves half a JSON file."""
        target = self.path / name
        tmp = target.with_suffix(target.suffix + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, ensure_ascii=False, default=str)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        return target


def best_records(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """One record per key: the first successful one, else the latest failed one."""
    best: dict[str, dict[str, Any]] = {}
    for record in records:
        key = record["key"]
        current = best.get(key)
        if current is None or (current.get("error") and not record.get("error")):
            best[key] = dict(record)
        elif current.get("error") and record.get("error"):
            best[key] = dict(record)
    return best
