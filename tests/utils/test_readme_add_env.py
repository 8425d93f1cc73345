"""README "Adding an environment": the file it shows is one file under 100 lines, and the steps it
names work as written: ``python my_backwards_env.py`` (check_env, every rule) and
``thinkgym eval --import my_backwards_env`` (the oracle solves every problem)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from thinkgym.utils import RULES

ROOT = Path(__file__).resolve().parents[2]
THINKGYM = Path(sys.executable).with_name("thinkgym")


def _section() -> str:
    text = (ROOT / "README.md").read_text()
    return text[text.index("## Adding an environment\n") : text.index("\n## ", text.index("## Adding an environment\n") + 5)]


def _env_file(tmp_path: Path) -> Path:
    code = re.search(r"```python\n(.*?)```", _section(), re.S).group(1)
    assert len(code.splitlines()) < 100
    path = tmp_path / "my_backwards_env.py"
    path.write_text(code)
    return path


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([str(cwd), *sys.path])}
    return subprocess.run(args, cwd=cwd, env=environ, capture_output=True, text=True, timeout=300)


def test_readme_env_file_passes_check_env_when_run(tmp_path):
    path = _env_file(tmp_path)
    done = _run([sys.executable, str(path)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == str(list(RULES))


def test_readme_eval_import_command_works(tmp_path):
    _env_file(tmp_path)
    section = _section()
    assert "thinkgym eval --import my_backwards_env --env mylib/Backwards-v0 --policy oracle" in section
    args = ["eval", "--import", "my_backwards_env", "--env", "mylib/Backwards-v0", "--policy", "oracle", "--n", "5"]
    done = _run([str(THINKGYM), *args, "--out", str(tmp_path / "run")], tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    samples = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 5 and all(s["reward"] == 1.0 for s in samples)
    assert all(s["problem_id"].startswith("mylib/backwards-v0/") for s in samples)


def test_readme_check_command_works(tmp_path):
    _env_file(tmp_path)
    assert "thinkgym check mylib/Backwards-v0 --import my_backwards_env" in _section()
    done = _run([str(THINKGYM), "check", "mylib/Backwards-v0", "--import", "my_backwards_env"], tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "ok" in done.stdout and all(rule in done.stdout for rule in RULES)
