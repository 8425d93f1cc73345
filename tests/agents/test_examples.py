"""The training examples and the GPU benchmark script: the plain-PyTorch loop learns the maze;
the TRL math script and the GPU benchmark load and run (the latter in its CPU smoke mode)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]


def _load(relative: str):
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plain_pytorch_grpo_improves_reward_on_the_classic_maze():
    example = _load("examples/grpo_plain_pytorch.py")
    result = example.main(["--steps", "15", "--group", "8", "--eval-episodes", "50", "--seed", "0"])
    # the uniform start is worth 5/36 = 0.14 in expectation; the optimum is 10
    assert result["before"] < 2.0
    assert result["after"] >= 8.0
    assert result["after"] > result["before"] + 5.0


def test_trl_math_example_parses_its_options():
    pytest.importorskip("trl")
    example = _load("examples/trl_grpo_math.py")
    args = example.parse_args(["--model", "some/folder", "--use-vllm"])
    assert args.model == "some/folder" and args.use_vllm and args.env == "thinkgym/Math-v0"
    with pytest.raises(SystemExit) as exc:
        example.parse_args(["--help"])
    assert exc.value.code == 0


def test_gpu_grpo_benchmark_smoke_mode(tmp_path):
    pytest.importorskip("trl")
    bench = _load("perf/gpu_grpo.py")
    figures = bench.main(["--smoke", "--env", "thinkgym/MazePath-v0", "--json", str(tmp_path / "f.json")])
    assert figures["device"] == "cpu" and figures["timed_steps"] >= 1
    assert figures["step_s"] > 0 and 0 <= figures["thinkgym_share_pct"] < 100
    assert (tmp_path / "f.json").exists()
