"""Issue 14, items 5-7: the same ``--seed`` gives the same samples (any concurrency, a resume, the
CLI), OpenAI requests carry one seed per sample, identical samples at temperature > 0 are warned
about, and a server's error body survives into the recorded error."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from typer.testing import CliRunner

from thinkgym.benchmarks.runner import EvalSettings, evaluate
from thinkgym.benchmarks.store import RunDir
from thinkgym.benchmarks.suites import load_suite, suite_from_envs

OpenAIPolicy = pytest.importorskip("thinkgym.agents.openai").OpenAIPolicy

QUIET = {"progress": False}
LOCAL = {"progress": False, "verify_workers": 0}  # verify in this process: no worker start-up


def _completions(out: Path) -> dict[str, str]:
    return {r["key"]: r["completion"] for r in RunDir(out).read_samples()}


# --------------------------------------------------------------------------------------------
# item 5: the same seed, the same samples
# --------------------------------------------------------------------------------------------


def test_random_policy_same_seed_same_samples_whatever_the_concurrency(tmp_path):
    suite = suite_from_envs(["thinkgym/Math-v0", "thinkgym/Maze-v0"], n=6)
    runs = []
    for i, concurrency in enumerate((1, 7, 3)):
        out = tmp_path / f"run{i}"
        evaluate(suite, "random", out, EvalSettings(seed=3, samples=3, concurrency=concurrency, verify_workers=0, **QUIET))
        runs.append(_completions(out))
    assert len(runs[0]) == 2 * 6 * 3
    assert runs[0] == runs[1] == runs[2]
    # the samples of one problem differ (a seed per sample), and another run seed gives other samples
    by_problem = defaultdict(set)
    for key, text in runs[0].items():
        by_problem[key.rsplit("|", 1)[0]].add(text)
    assert sum(len(texts) > 1 for texts in by_problem.values()) >= 10
    other = tmp_path / "other-seed"
    evaluate(suite, "random", other, EvalSettings(seed=4, samples=3, verify_workers=0, **QUIET))
    assert sum(a != b for a, b in zip(runs[0].values(), _completions(other).values(), strict=True)) > 20


def test_a_resumed_run_gives_the_samples_an_uninterrupted_run_gives(tmp_path):
    suite = suite_from_envs(["thinkgym/Math-v0", "thinkgym/Maze-v0"], n=5)
    settings = dict(seed=3, samples=2, verify_workers=0, **QUIET)
    whole = tmp_path / "whole"
    evaluate(suite, "random", whole, EvalSettings(concurrency=4, **settings))
    cut = tmp_path / "cut"
    evaluate(suite, "random", cut, EvalSettings(concurrency=2, **settings))
    lines = (cut / "samples.jsonl").read_text().splitlines(keepends=True)
    # a run killed after 7 samples, the 8th torn mid-line: the resume redoes the rest
    (cut / "samples.jsonl").write_text("".join(lines[:7]) + lines[7][: len(lines[7]) // 2])
    evaluate(suite, "random", cut, EvalSettings(concurrency=5, **settings))
    assert len(_completions(cut)) == 20
    assert _completions(cut) == _completions(whole)


def test_thinkgym_eval_seed_3_random_twice_gives_the_same_completions(tmp_path):
    from thinkgym.cli import app

    runner = CliRunner()
    for name, concurrency in (("a", "1"), ("b", "16")):
        result = runner.invoke(app, [
            "eval", "--suite", "quick-v0", "--policy", "random", "--seed", "3", "--concurrency", concurrency,
            "--verify-workers", "0", "--out", str(tmp_path / name),
        ])  # fmt: skip
        assert result.exit_code in (0, 3), result.output
    a, b = _completions(tmp_path / "a"), _completions(tmp_path / "b")
    assert len(a) == len(b) == 220
    assert a == b


# --------------------------------------------------------------------------------------------
# a local OpenAI-compatible server that ignores temperature, records seeds, refuses on request
# --------------------------------------------------------------------------------------------


class _ChatHandler(BaseHTTPRequestHandler):
    seeds: list = []
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def _reply(self, status: int, data: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        model = body["model"]
        with self.lock:
            self.seeds.append(body.get("seed"))
        if model == "refuse-json":
            error = {"error": {"message": "The model `refuse-json` does not exist.", "type": "invalid_request_error"}}
            return self._reply(400, json.dumps(error).encode())
        if model == "refuse-detail":  # FastAPI's shape (transformers serve, many proxies)
            detail = {"detail": "This model's maximum context length is 32 tokens; your prompt has 90"}
            return self._reply(400, json.dumps(detail).encode())
        if model == "refuse-text":
            return self._reply(400, b"prompt too long for this server", "text/plain")
        if model == "crash-text":
            return self._reply(500, b"CUDA out of memory", "text/plain")
        # greedy whatever the temperature: the same answer every time for one prompt
        prompt = body["messages"][-1]["content"]
        answer = f"<think>guess</think> \\boxed{{{len(prompt) % 7}}}"
        reply = {
            "id": "x", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
        }  # fmt: skip
        self._reply(200, json.dumps(reply).encode())


@pytest.fixture
def server(local_http_server):
    _ChatHandler.seeds = []
    with local_http_server(_ChatHandler) as url:
        yield url


def test_openai_requests_carry_one_seed_per_sample_stable_across_runs(server, tmp_path):
    suite = suite_from_envs(["thinkgym/Math-v0"], n=4)
    seen = []
    for name in ("a", "b"):
        _ChatHandler.seeds = []
        evaluate(suite, f"openai:{server}#greedy", tmp_path / name, EvalSettings(seed=3, samples=4, temperature=1.0, **LOCAL))
        seen.append(sorted(_ChatHandler.seeds))
    assert len(seen[0]) == 16 and None not in seen[0]
    assert len(set(seen[0])) == 16  # k samples of a problem are k different seeds
    assert seen[0] == seen[1]  # and the same ones on every run of the same seed
    assert all(isinstance(s, int) and 0 <= s < 2**31 for s in seen[0])


def test_identical_samples_at_temperature_above_zero_are_warned_about(server, tmp_path):
    suite = suite_from_envs(["thinkgym/Math-v0"], n=5)
    summary = evaluate(suite, f"openai:{server}#greedy", tmp_path / "t1", EvalSettings(samples=4, temperature=1.0, **LOCAL))
    assert summary["overall"]["identical_sample_problems"] == 5
    assert len(summary["warnings"]) == 1 and "5 of 5 problem(s)" in summary["warnings"][0]
    assert "pass@k there is pass@1" in (tmp_path / "t1" / "report.md").read_text()
    # greedy on purpose: no warning at temperature 0, nor with one sample per problem
    cold = evaluate(suite, f"openai:{server}#greedy", tmp_path / "t0", EvalSettings(samples=4, temperature=0.0, **LOCAL))
    assert cold["warnings"] == [] and cold["overall"]["identical_sample_problems"] == 5
    single = evaluate(suite, f"openai:{server}#greedy", tmp_path / "s1", EvalSettings(samples=1, temperature=1.0, **LOCAL))
    assert single["warnings"] == []
    # a policy that samples gets no warning
    sampled = evaluate(suite, "random", tmp_path / "random", EvalSettings(samples=4, temperature=1.0, **LOCAL))
    assert sampled["warnings"] == [] and sampled["overall"]["identical_sample_problems"] == 0


def test_the_live_display_warns_once_about_identical_samples(server, tmp_path):
    from thinkgym.benchmarks.progress import LiveProgress

    records = [
        {"env": "math", "problem_index": i, "problem_id": f"p{i}", "completion": "same", "correct": False, "error": None}
        for i in range(3) for _ in range(2)
    ]  # fmt: skip
    hot = LiveProgress({"math": 8}, records[:4], temperature=0.7)
    for record in records[4:]:
        hot.advance(record)
    assert hot.warning() is not None and hot.warning().startswith("3 of 3 problem(s)")
    assert "identical samples 3/3" in hot._acc(None)
    hot.advance({"env": "math", "problem_index": 3, "problem_id": "p3", "completion": "a", "correct": False, "error": None})
    hot.advance({"env": "math", "problem_index": 3, "problem_id": "p3", "completion": "b", "correct": False, "error": None})
    assert hot.warning().startswith("3 of 4 problem(s)")
    assert LiveProgress({"math": 8}, records, temperature=0.0).warning() is None


# --------------------------------------------------------------------------------------------
# item 7: the server's explanation is kept
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("refuse-json", "HTTP 400: The model `refuse-json` does not exist. (after 1 attempt)"),
        ("refuse-detail", "HTTP 400: This model's maximum context length is 32 tokens; your prompt has 90 (after 1 attempt)"),
        ("refuse-text", "HTTP 400: prompt too long for this server (after 1 attempt)"),
        ("crash-text", "HTTP 500: CUDA out of memory (after 2 attempts)"),
    ],
)
def test_http_errors_keep_the_servers_explanation(server, model, expected):
    from thinkgym.agents.base import Query

    policy = OpenAIPolicy(model, base_url=server, max_retries=1, backoff_s=0.01)
    generation = policy.generate([Query(messages=({"role": "user", "content": "hi"},))])[0]
    assert generation.error == expected
    assert generation.finish_reason == "error" and generation.text == ""


def test_a_refused_request_is_recorded_with_the_reason_in_samples_and_report(server, tmp_path):
    suite = suite_from_envs(["thinkgym/Math-v0"], n=2)
    summary = evaluate(suite, f"openai:{server}#refuse-json", tmp_path, EvalSettings(**LOCAL))
    errors = {r["error"] for r in RunDir(tmp_path).read_samples()}
    assert errors == {"HTTP 400: The model `refuse-json` does not exist. (after 1 attempt)"}
    assert summary["overall"]["failed"] == 2
    assert "does not exist" in (tmp_path / "report.md").read_text()


def test_quick_suite_loads():  # the suite the CLI test above evaluates stays loadable
    assert sum(e.n for e in load_suite("quick-v0").entries) == 220


def test_asking_a_server_for_its_model_keeps_its_explanation(local_http_server):
    """`openai:URL` without #MODEL asks /models; a refusal there keeps the server's body too."""

    class Refuse(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            data = json.dumps({"detail": "invalid API key for this proxy"}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    from thinkgym.benchmarks.policy_spec import make_policy
    from thinkgym.errors import ConfigError

    with local_http_server(Refuse) as url, pytest.raises(ConfigError, match="invalid API key for this proxy"):
        make_policy(f"openai:{url}")


def test_the_eval_command_prints_the_identical_samples_warning(server, tmp_path):
    from thinkgym.cli import app

    result = CliRunner().invoke(app, [
        "eval", "--env", "thinkgym/Math-v0", "--n", "3", "--samples", "2", "--temperature", "1.0",
        "--policy", f"openai:{server}#greedy", "--verify-workers", "0", "--out", str(tmp_path / "run"),
    ])  # fmt: skip
    output = " ".join(result.output.split())
    assert result.exit_code == 0, output
    assert "warning: 3 of 3 problem(s) got the same text in every sample at temperature 1" in output
    assert output.count("got the same text") == 1  # one line, not one per problem
    assert "identical samples" in output  # the live display (its width cuts the rest in an 80-column test)
