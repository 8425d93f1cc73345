"""Server faults through the real `OpenAIPolicy` against a local OpenAI-compatible server.

The server (started by the test on 127.0.0.1) answers the toy addition problems, and misbehaves
on purpose by operand: a 503 on every attempt, a 429 rate limit on the first attempt only, or a
reply slower than the client's timeout. Retried faults must end as scored samples; persistent ones
as failed samples with their reason — never as zeros, never as a crashed run.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import toy  # noqa: E402,F401  (toy envs are registered per test by conftest.py)

from thinkgym.benchmarks.runner import EvalSettings, evaluate  # noqa: E402
from thinkgym.benchmarks.store import RunDir  # noqa: E402
from thinkgym.benchmarks.suites import suite_from_envs  # noqa: E402

OpenAIPolicy = pytest.importorskip("thinkgym.agents.openai").OpenAIPolicy


class _Handler(BaseHTTPRequestHandler):
    seen: Counter = Counter()
    lock = threading.Lock()

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        a, b = map(int, re.search(r"What is (\d+) \+ (\d+)", prompt).groups())
        with self.lock:
            self.seen[prompt] += 1
            attempt = self.seen[prompt]
        if a % 4 == 0:
            return self._send(503, {"error": {"message": "overloaded"}})
        if a % 4 == 1 and attempt == 1:
            return self._send(429, {"error": {"message": "rate limited"}}, {"Retry-After": "0.05"})
        if a % 4 == 2:
            time.sleep(4.0)  # beyond the client timeout on every attempt
        text = f"<think>{a} plus {b}</think><answer>{a + b}</answer>"
        self._send(
            200,
            {
                "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 20, "completion_tokens": 12, "total_tokens": 32},
            },
        )  # fmt: skip


@pytest.fixture()
def server(local_http_server):
    _Handler.seen = Counter()
    with local_http_server(_Handler) as url:
        yield url


def test_server_faults_become_failed_samples_with_reasons(server, tmp_path):
    suite = suite_from_envs(["toybench/Add-v0"], n=16)
    problems = suite.problems["toybench/Add-v0"]
    kinds = Counter(int(re.search(r"What is (\d+)", p.prompt).group(1)) % 4 for p in problems)
    assert all(kinds[kind] for kind in range(4)), kinds  # every fault kind is exercised
    policy = OpenAIPolicy(
        "toy", base_url=server, max_retries=1, timeout_s=1.5, backoff_s=0.01, backoff_max_s=0.1
    )
    summary = evaluate(
        suite,
        policy,
        tmp_path,
        EvalSettings(concurrency=8, verify_workers=0, progress=False),
        policy_label="fake",
    )
    env = summary["envs"]["toybench/Add-v0"]
    assert env["failed"] == kinds[0] + kinds[2]
    assert env["samples_scored"] == kinds[1] + kinds[3]
    assert env["accuracy"]["value"] == 1.0  # every answered sample is right; failures are not zeros
    reasons = " ".join(env["failure_reasons"])
    assert "HTTP 503" in reasons and "after 2 attempts" in reasons
    if kinds[2]:
        assert "timed out" in reasons
    records = RunDir(tmp_path).read_samples()
    ok = [r for r in records if not r["error"]]
    assert all(r["completion_tokens"] == 12 and r["latency_s"] > 0 for r in ok)
    assert env["tokens_per_s"] > 0 and env["latency_s"]["p90"] >= env["latency_s"]["p50"]


def test_unreachable_server_fails_every_sample_but_finishes(tmp_path):
    policy = OpenAIPolicy(
        "toy", base_url="http://127.0.0.1:9/v1", max_retries=1, timeout_s=0.5, backoff_s=0.01
    )
    summary = evaluate(
        suite_from_envs(["toybench/Add-v0"], n=3),
        policy,
        tmp_path,
        EvalSettings(verify_workers=0, progress=False),
        policy_label="down",
    )
    env = summary["envs"]["toybench/Add-v0"]
    assert env["failed"] == 3 and env["samples_scored"] == 0
    assert "connection failed" in next(iter(env["failure_reasons"]))
    assert (tmp_path / "report.md").read_text().count("failed") >= 1
