"""Rows for dataset-backed envs: local files (``.jsonl``, ``.json``, ``.parquet``, ``.csv``),
local folders, hub datasets and ``data_files=``, all through one function, `load_records`.

Problem ids built from these rows must not depend on where the data lives (`source_tag`): a
local file or folder is named by the env's own tag, a hub dataset by its name, and every id also
carries a digest of the row's content, so ids survive moving the data.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from thinkgym.errors import ConfigError

__all__ = ["load_records", "source_tag", "row_digest", "require_columns", "is_local"]


def load_records(
    path: str | Path | None = None,
    *,
    dataset: str | None = None,
    config: str | None = None,
    split: str = "test",
    limit: int | None = None,
    data_files: Any = None,
) -> list[dict[str, Any]]:
    """Rows of a local file (``.jsonl``, ``.json``, ``.parquet``, ``.csv``) or of a dataset
    loaded with ``datasets.load_dataset(dataset, config, split=split, data_files=data_files)``.

    ``dataset`` is a hub name, a local folder or a builder (``"json"``, ``"parquet"``, ``"csv"``).
    ``data_files`` (a file, a list or a ``{split: files}`` mapping, as `datasets` takes them) may
    come alone: the builder is then read from the files' extension. A single file or list is
    loaded as ``split``.
    """
    if data_files is not None and path is not None:
        raise ConfigError("pass data_files= with dataset= (or alone), not with path=")
    if data_files is not None and dataset is None:
        dataset = _builder_for(data_files)
    if (path is None) == (dataset is None):
        raise ConfigError("pass exactly one of path= (a local file) or dataset= (a datasets name)")
    if limit is not None and limit < 1:
        raise ConfigError("limit must be >= 1")
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"no such data file: {file}; pass a .jsonl, .json, .parquet or .csv file")
        suffix = file.suffix.lower()
        if suffix == ".jsonl":
            rows = _read_jsonl(file)
        elif suffix == ".json":
            text = file.read_text(encoding="utf-8")
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                rows = _read_jsonl(file)
            else:
                rows = data if isinstance(data, list) else data.get("data", data.get("rows"))
                if not isinstance(rows, list):
                    raise ConfigError(f"{file}: expected a JSON list of records")
        elif suffix in (".parquet", ".csv"):
            rows = _load_with_datasets(suffix.lstrip("."), data_files=str(file), split="train")
        else:
            raise ConfigError(f"unsupported data file type {suffix!r}: use .jsonl, .json, .parquet or .csv")
    else:
        extra: dict[str, Any] = {}
        if data_files is not None:
            extra["data_files"] = data_files if isinstance(data_files, Mapping) else {split: data_files}
        rows = _load_with_datasets(dataset, config, split=split, **extra)  # type: ignore[arg-type]
    return rows[:limit] if limit is not None else rows


_BUILDERS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


def _builder_for(data_files: Any) -> str:
    """The `datasets` builder for ``data_files`` given without ``dataset=``, from the extension."""
    files = list(data_files.values()) if isinstance(data_files, Mapping) else [data_files]
    flat = [f for item in files for f in ([item] if isinstance(item, str | Path) else list(item))]
    builders = {_BUILDERS.get(Path(str(f)).suffix.lower()) for f in flat}
    if len(builders) != 1 or None in builders:
        raise ConfigError(
            f"cannot tell the format of data_files={data_files!r}: use .jsonl/.json/.parquet/.csv files "
            "of one kind, or pass dataset='json' (or 'parquet', 'csv') with them"
        )
    return builders.pop()  # type: ignore[return-value]


def is_local(dataset: str) -> bool:
    """A local folder or file, or a builder over local files: not a name on the hub."""
    return dataset in set(_BUILDERS.values()) or Path(dataset).exists()


def _read_jsonl(file: Path) -> list[dict[str, Any]]:
    rows = []
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{file}:{number}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise ConfigError(f"{file}:{number}: each line must be a JSON object")
            rows.append(row)
    return rows


def _load_with_datasets(name: str, config: str | None = None, **kwargs: Any) -> list[dict[str, Any]]:
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - datasets is in the train extra
        raise ConfigError("loading datasets needs the `datasets` package: pip install 'thinkgym[train]'") from exc
    try:
        loaded = datasets.load_dataset(name, config, **kwargs)
    except Exception as exc:  # network, missing files, bad names: all say what to do next
        raise ConfigError(
            f"could not load dataset {name!r} (config {config!r}): {type(exc).__name__}: {exc}. "
            "Check the name, or pass path= to a local .jsonl/.parquet file."
        ) from exc
    return [dict(row) for row in loaded]


def row_digest(*parts: str) -> str:
    """A short content digest of a row (part of every dataset problem id)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:8]


def require_columns(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], what: str) -> None:
    if not rows:
        raise ConfigError(f"the {what} data has no rows")
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        raise ConfigError(f"the {what} data lacks column(s) {missing}; found {sorted(rows[0])}")


def source_tag(default: str, dataset: str | None, data_files: Any = None) -> str:
    """The id prefix of problems from ``dataset``: ``default`` (the env's tag) for local data
    (``path=``, ``data_files=``, a local folder or a builder such as ``"json"``), else the hub
    name with anything but letters, digits, ``.`` and ``-`` made ``_`` (``openai_gsm8k``)."""
    if dataset is None or data_files is not None or is_local(dataset):
        return default
    return re.sub(r"[^\w.-]+", "_", str(dataset))
