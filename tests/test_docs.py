"""The docs run: every ```python block of README.md and every ``>>>`` example in a docstring under
``src/thinkgym``, so neither can drift from the code.

README blocks run in order, in one namespace per file (a later block may use what an earlier one
made), in a temporary working directory. A block whose first line is a comment starting with
``# needs:`` (a GPU, a server, a model download) is shown to readers as such and skipped here with
that reason; keep them rare. Shell, TOML and other blocks are not run (TOML blocks are parsed).

Doctests run per module with ``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``, also in a temporary
working directory; a module that cannot be imported here fails (it is part of the package).
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
import re
import sys
from pathlib import Path

import pytest

import thinkgym

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[ \t]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
_SKIP = re.compile(r"^\s*#\s*needs:\s*(?P<reason>.+)$")


def _blocks(text: str, lang: str) -> list[tuple[int, str]]:
    """``(line number, code)`` of every fenced block in ``lang``, dedented by its fence's indent."""
    found = []
    for match in _FENCE.finditer(text):
        if match.group("lang") != lang:
            continue
        indent = len(match.group("indent"))
        body = "\n".join(line[indent:] for line in match.group("body").splitlines())
        found.append((text.count("\n", 0, match.start()) + 1, body))
    return found


def test_readme_python_blocks_run_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    ran, skipped = 0, []
    blocks = _blocks(README.read_text(), "python")
    assert len(blocks) >= 5, "the README lost its examples?"
    for line, code in blocks:
        first = code.strip().splitlines()[0]
        skip = _SKIP.match(first)
        if skip:
            skipped.append(f"README.md:{line}: {skip.group('reason')}")
            continue
        try:
            exec(compile(code, f"README.md:{line}", "exec"), namespace)
        except Exception as exc:
            pytest.fail(f"the python block at README.md:{line} raised {type(exc).__name__}: {exc}\n\n{code}")
        ran += 1
    assert ran >= len(blocks) - 2, f"too many README blocks skipped: {skipped}"


def test_readme_toml_blocks_parse():
    blocks = _blocks(README.read_text(), "toml")
    assert blocks
    for line, code in blocks:
        try:
            tomllib.loads(code)
        except tomllib.TOMLDecodeError as exc:
            pytest.fail(f"the toml block at README.md:{line} does not parse: {exc}")


def _modules() -> list[str]:
    names = ["thinkgym"]
    for info in pkgutil.walk_packages(thinkgym.__path__, "thinkgym."):
        names.append(info.name)
    return sorted(names)


def _doctest_modules() -> list[str]:
    """Modules whose source holds a ``>>>`` example (the rest are imported by the test below)."""
    out = []
    for name in _modules():
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            if ">>>" in Path(spec.origin).read_text():
                out.append(name)
    return out


@pytest.mark.parametrize("module_name", _doctest_modules())
def test_docstring_examples_run(module_name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, module_name) if t.examples]
    assert tests, f"{module_name} has '>>>' in its source but no docstring example doctest can find"
    failures: list[str] = []
    for test in tests:
        runner.run(test, out=failures.append)
    assert runner.failures == 0, "".join(failures)


def test_doctest_modules_cover_the_package():
    """Every module imports (so the collection above sees every docstring)."""
    for name in _modules():
        if name.endswith(("_code_harness", "docker_agent", "__main__")):
            continue  # run inside the sandbox, not imported in the trainer's process
        importlib.import_module(name)
