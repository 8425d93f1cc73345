"""Named, versioned, frozen benchmark suites.

A suite id (``quick-v0``, ``reasoning-v0``) fixes the envs (with their versions), the env
arguments, the seeds and the problem counts, so the same id evaluates exactly the same problems on
every machine. `Suite.fingerprint` hashes the problems actually generated; a golden-hash test
guards the built-in suites, and a run directory records the hash so a resumed run can tell when
the problems changed underneath it. Changing a built-in suite means a new id (``-v1``).

Built-in suites live as TOML files next to this module; users write their own in the same shape
(TOML or YAML)::

    id = "my-suite-v0"
    description = "what it measures"

    [[envs]]
    env = "thinkgym/Math-v0"      # a registered env id (version included)
    name = "math-easy"            # optional, unique within the suite; defaults to the env id
    n = 50                        # number of problems
    seed = 0                      # which problems
    kwargs = { difficulty = 1 }   # optional constructor arguments of the env
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from thinkgym.core import Problem
from thinkgym.errors import ConfigError, ThinkgymError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

__all__ = ["SuiteEntry", "Suite", "load_suite", "builtin_suites", "suite_from_envs", "SUITES_DIR"]

SUITES_DIR = Path(__file__).with_name("suites")
_ENTRY_KEYS = {"env", "name", "n", "seed", "kwargs"}
_SUITE_KEYS = {"id", "description", "envs"}


@dataclass(frozen=True)
class SuiteEntry:
    """One env of a suite: which env (id and arguments) and which problems (``n`` from ``seed``)."""

    env: str
    n: int
    seed: int = 0
    name: str = ""
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The name metrics and reports use for this entry."""
        return self.name or self.env

    def make_env(self) -> Any:
        import thinkgym

        return thinkgym.make(self.env, **dict(self.kwargs))

    def problems(self) -> list[Problem]:
        """The ``n`` problems of this entry (deterministic: the env's source, ``take(n, seed)``)."""
        env = self.make_env()
        try:
            source = env.unwrapped.source
            size = source.size
            if size is not None and 1 < size < self.n:
                import warnings

                warnings.warn(
                    f"suite entry {self.label!r}: {self.env} has {size} problems but n = {self.n}, so "
                    "problems repeat (is the env reading the dataset you meant?)",
                    stacklevel=2,
                )
            # A source smaller than n is cycled on purpose (the classic maze: one problem played n
            # times); the metrics pool repeats of a problem (see `thinkgym.benchmarks.metrics`).
            repeat = size is not None and size < self.n
            return source.take(self.n, seed=self.seed, **({"repeat": True} if repeat else {}))
        finally:
            env.close()

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "name": self.label,
            "n": self.n,
            "seed": self.seed,
            "kwargs": dict(self.kwargs),
        }


@dataclass(frozen=True)
class Suite:
    """A named list of `SuiteEntry`; ``id`` carries the version (``-v0``)."""

    id: str
    entries: tuple[SuiteEntry, ...]
    description: str = ""

    @cached_property
    def problems(self) -> dict[str, list[Problem]]:
        """``{entry label: problems}``, generated once per suite object."""
        return {entry.label: entry.problems() for entry in self.entries}

    @property
    def total_problems(self) -> int:
        return sum(entry.n for entry in self.entries)

    def entry_fingerprints(self) -> dict[str, str]:
        """``{entry label: SHA-256}`` over the entry and its problems' ids, prompts and answers
        (so a changed suite says which env changed)."""
        out: dict[str, str] = {}
        for entry in self.entries:
            digest = hashlib.sha256()
            digest.update(json.dumps(entry.to_dict(), sort_keys=True, default=str).encode())
            for problem in self.problems[entry.label]:
                record = [problem.id, problem.prompt, _answer_text(problem.answer)]
                digest.update(json.dumps(record, ensure_ascii=False).encode())
                digest.update(b"\n")
            out[entry.label] = digest.hexdigest()
        return out

    def fingerprint(self) -> str:
        """SHA-256 over every entry's fingerprint: the identity of the problems a run evaluates."""
        return hashlib.sha256(
            json.dumps(list(self.entry_fingerprints().items())).encode()
        ).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "envs": [e.to_dict() for e in self.entries],
        }


def _answer_text(answer: Any) -> str:
    if isinstance(answer, str):
        return answer
    try:
        return json.dumps(answer, sort_keys=True)
    except TypeError:
        return str(answer)


def _entry_from_mapping(data: Mapping[str, Any], where: str) -> SuiteEntry:
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{where}: each [[envs]] entry must be a table, got {type(data).__name__}"
        )
    unknown = set(data) - _ENTRY_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_ENTRY_KEYS)}"
        )
    if "env" not in data or not isinstance(data["env"], str):
        raise ConfigError(
            f"{where}: 'env' (a registered env id such as 'thinkgym/Maze-v0') is required"
        )
    n = data.get("n")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ConfigError(
            f"{where}: 'n' must be a positive integer (number of problems), got {n!r}"
        )
    seed = data.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigError(f"{where}: 'seed' must be an integer, got {seed!r}")
    kwargs = data.get("kwargs", {})
    if not isinstance(kwargs, Mapping):
        raise ConfigError(f"{where}: 'kwargs' must be a table of env arguments, got {kwargs!r}")
    name = data.get("name", "")
    if not isinstance(name, str):
        raise ConfigError(f"{where}: 'name' must be a string")
    return SuiteEntry(env=data["env"], n=n, seed=seed, name=name, kwargs=dict(kwargs))


def suite_from_mapping(data: Mapping[str, Any], source: str = "<suite>") -> Suite:
    """Build and validate a suite from parsed TOML/YAML; errors name the file and the problem."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: a suite file must hold a table with 'id' and [[envs]]")
    unknown = set(data) - _SUITE_KEYS
    if unknown:
        raise ConfigError(
            f"{source}: unknown keys {sorted(unknown)}; allowed: {sorted(_SUITE_KEYS)}"
        )
    suite_id = data.get("id")
    if not isinstance(suite_id, str) or not suite_id:
        raise ConfigError(f"{source}: 'id' is required, e.g. id = \"my-suite-v0\"")
    envs = data.get("envs")
    if not isinstance(envs, Sequence) or isinstance(envs, str) or not envs:
        raise ConfigError(f"{source}: at least one [[envs]] entry is required")
    entries = tuple(_entry_from_mapping(e, f"{source} envs[{i}]") for i, e in enumerate(envs))
    labels = [e.label for e in entries]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise ConfigError(f"{source}: entries {dupes} appear twice; give each a distinct 'name'")
    return Suite(id=suite_id, entries=entries, description=str(data.get("description", "")))


def _read_file(path: Path) -> Mapping[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read suite file {path}: {exc}") from exc
    try:
        if path.suffix == ".toml":
            return tomllib.loads(text)
        if path.suffix in (".yaml", ".yml"):
            import yaml

            return yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ConfigError(
            f"suite file {path} is not valid {path.suffix[1:].upper()}: {exc}"
        ) from exc
    except Exception as exc:  # yaml.YAMLError without importing yaml at module level
        raise ConfigError(f"suite file {path} is not valid YAML: {exc}") from exc
    raise ConfigError(f"suite file {path} must end in .toml, .yaml or .yml")


def builtin_suites() -> dict[str, Path]:
    """``{suite id: file}`` of the suites shipped with thinkgym."""
    return {p.stem: p for p in sorted(SUITES_DIR.glob("*.toml"))}


def load_suite(name_or_path: str | Path) -> Suite:
    """A built-in suite by id (``quick-v0``) or a user suite from a ``.toml``/``.yaml`` file."""
    builtin = builtin_suites()
    if isinstance(name_or_path, str) and name_or_path in builtin:
        path = builtin[name_or_path]
        suite = suite_from_mapping(_read_file(path), str(path))
        if suite.id != name_or_path:
            raise ThinkgymError(f"built-in suite file {path} declares id {suite.id!r}")
        return suite
    path = Path(name_or_path)
    if path.suffix in (".toml", ".yaml", ".yml"):
        if not path.exists():
            raise ConfigError(f"suite file {path} does not exist")
        return suite_from_mapping(_read_file(path), str(path))
    import difflib

    close = difflib.get_close_matches(str(name_or_path), list(builtin), n=2, cutoff=0.4)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ConfigError(
        f"no suite named {str(name_or_path)!r}.{hint} Built-in suites: {', '.join(builtin) or 'none'}; "
        "or pass a path to a .toml/.yaml suite file."
    )


def suite_from_envs(env_ids: Sequence[str], n: int, seed: int = 0) -> Suite:
    """An ad-hoc suite for ``thinkgym eval --env ID ... --n N --seed S``."""
    if not env_ids:
        raise ConfigError("give a --suite or at least one --env")
    if n < 1:
        raise ConfigError(f"--n must be >= 1, got {n}")
    entries = tuple(SuiteEntry(env=e, n=n, seed=seed) for e in dict.fromkeys(env_ids))
    return Suite(
        id="adhoc:" + ",".join(e.env for e in entries), entries=entries, description="ad-hoc envs"
    )
