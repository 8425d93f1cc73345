"""HFPolicy on the tiny model, and OpenAIPolicy against a real OpenAI-compatible HTTP server.

The server is started by the tests on 127.0.0.1: a small `http.server` implementation of
``/v1/chat/completions`` and ``/v1/models`` whose answers come from the tiny transformers model
(through `HFPolicy`), with scripted faults (429, 500, 400, slow answers) to test retries,
backoff, timeouts and the concurrency limit.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

torch = pytest.importorskip("torch")

from thinkgym.agents.base import Query  # noqa: E402
from thinkgym.agents.hf import HFPolicy  # noqa: E402
from thinkgym.agents.openai import OpenAIPolicy  # noqa: E402
from thinkgym.agents.tiny import build_tiny  # noqa: E402


def _query(text: str) -> Query:
    return Query(({"role": "user", "content": text},))


@pytest.fixture(scope="module")
def tiny():
    torch.set_num_threads(1)
    return build_tiny()


# --------------------------------------------------------------------------------------------
# HFPolicy
# --------------------------------------------------------------------------------------------


def test_hf_policy_returns_tokens_and_sampling_logprobs(tiny):
    model, tokenizer = tiny
    policy = HFPolicy(model, tokenizer, max_new_tokens=6, seed=3)
    generations = policy.generate([_query("go"), _query("a longer prompt, padded on the left")])
    for query, generation in zip([_query("go"), _query("a longer prompt, padded on the left")], generations, strict=True):
        assert generation.error is None
        assert generation.finish_reason in ("stop", "length")
        assert len(generation.token_ids) == len(generation.logprobs) == generation.completion_tokens
        assert generation.text == tokenizer.decode(generation.token_ids, skip_special_tokens=True)
        # temperature 1, no top-k / top-p: the sampling log-probs are the model's own
        recomputed = policy.sequence_logprobs(policy.prompt_ids(query), generation.token_ids)
        assert recomputed.tolist() == pytest.approx(generation.logprobs, abs=1e-4)


def test_hf_policy_uses_the_chat_template(tiny):
    model, tokenizer = tiny
    policy = HFPolicy(model, tokenizer, max_new_tokens=2)
    ids = policy.prompt_ids(_query("hi"))
    assert tokenizer.decode(ids) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    plain = HFPolicy(model, tokenizer, max_new_tokens=2, use_chat_template=False)
    assert tokenizer.decode(plain.prompt_ids(_query("hi"))) == "hi"


def test_hf_policy_is_reproducible_with_a_seed(tiny):
    model, tokenizer = tiny
    queries = [_query("same"), _query("prompt")]
    first = [g.token_ids for g in HFPolicy(model, tokenizer, max_new_tokens=8, seed=11).generate(queries)]
    second = [g.token_ids for g in HFPolicy(model, tokenizer, max_new_tokens=8, seed=11).generate(queries)]
    assert first == second


def test_hf_policy_batches_like_single_queries(tiny):
    model, tokenizer = tiny
    queries = [_query("x"), _query("a much longer prompt than the first one")]
    greedy = HFPolicy(model, tokenizer, max_new_tokens=5, do_sample=False, batch_size=2)
    together = [g.token_ids for g in greedy.generate(queries)]
    alone = [greedy.generate([q])[0].token_ids for q in queries]
    assert together == alone  # left padding does not change what the model writes


def test_hf_policy_restricts_to_allowed_tokens(tiny):
    model, tokenizer = tiny
    policy = HFPolicy(model, tokenizer, max_new_tokens=10, allowed_tokens=list("RLUD"), seed=0)
    for generation in policy.generate([_query("move")] * 4):
        assert set(generation.text) <= set("RLUD")


def test_hf_policy_validates_settings(tiny):
    model, tokenizer = tiny
    with pytest.raises(ValueError):
        HFPolicy(model, tokenizer, max_new_tokens=0)
    with pytest.raises(TypeError):
        HFPolicy(model)


# --------------------------------------------------------------------------------------------
# A real OpenAI-compatible server on 127.0.0.1
# --------------------------------------------------------------------------------------------


class ChatServer:
    """``/v1/chat/completions`` backed by `HFPolicy`, with scripted faults and an in-flight count."""

    def __init__(self, policy: HFPolicy):
        self.policy = policy
        self.faults: list[object] = []
        self.delay_s = 0.0
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.model_lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self._leave()  # before the client can have its answer and send the next request
                self.end_headers()
                self.wfile.write(data)

            def _leave(self) -> None:
                with server.lock:
                    if getattr(self, "_in_flight", False):
                        self._in_flight = False
                        server.in_flight -= 1

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    self._send(200, {"object": "list", "data": [{"id": "tiny", "object": "model", "owned_by": "test"}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server.lock:
                    server.requests += 1
                    fault = server.faults.pop(0) if server.faults else None
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                    self._in_flight = True
                try:
                    self._answer(body, fault)
                finally:
                    self._leave()

            def _answer(self, body: dict, fault: object) -> None:
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": "not found"}})
                if fault == "429":
                    return self._send(429, {"error": {"message": "rate limited", "type": "rate_limit"}}, {"Retry-After": "0"})
                if fault == "500":
                    return self._send(500, {"error": {"message": "boom", "type": "server_error"}})
                if fault == "400":
                    return self._send(400, {"error": {"message": "bad request", "type": "invalid_request"}})
                if isinstance(fault, tuple) and fault[0] == "sleep":
                    time.sleep(fault[1])
                time.sleep(server.delay_s)
                with server.model_lock:
                    server.policy.max_new_tokens = int(body.get("max_tokens") or 16)
                    generation = server.policy.generate([Query(tuple(body["messages"]))])[0]
                choice = {
                    "index": 0,
                    "message": {"role": "assistant", "content": generation.text},
                    "finish_reason": generation.finish_reason,
                    "logprobs": None,
                }
                if body.get("logprobs"):
                    tokenizer = server.policy.tokenizer
                    choice["logprobs"] = {
                        "content": [
                            {"token": tokenizer.decode([t]), "logprob": lp, "bytes": None, "top_logprobs": []}
                            for t, lp in zip(generation.token_ids, generation.logprobs, strict=True)
                        ]
                    }
                self._send(200, {
                    "id": f"chatcmpl-{server.requests}", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "tiny"), "choices": [choice],
                    "usage": {"prompt_tokens": generation.prompt_tokens, "completion_tokens": generation.completion_tokens,
                              "total_tokens": generation.prompt_tokens + generation.completion_tokens},
                })  # fmt: skip

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                import sys

                if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that timed out and left
                    super().handle_error(request, client_address)

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def reset(self) -> None:
        with self.lock:
            self.faults, self.delay_s, self.requests, self.max_in_flight = [], 0.0, 0, 0

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server(tiny):
    model, tokenizer = tiny
    chat_server = ChatServer(HFPolicy(model, tokenizer, max_new_tokens=8, seed=0))
    yield chat_server
    chat_server.close()


@pytest.fixture
def fresh(server):
    server.reset()
    return server


def _policy(server: ChatServer, **kwargs) -> OpenAIPolicy:
    kwargs.setdefault("backoff_s", 0.01)
    kwargs.setdefault("timeout_s", 20.0)
    return OpenAIPolicy("tiny", base_url=server.url, max_tokens=6, **kwargs)


def test_openai_policy_talks_to_a_real_server(fresh):
    policy = _policy(fresh, logprobs=True)
    generations = policy.generate([_query("hello"), _query("world")])
    assert fresh.requests == 2
    for generation in generations:
        assert generation.error is None
        assert isinstance(generation.text, str)
        assert generation.finish_reason in ("stop", "length")
        assert generation.completion_tokens is not None and 1 <= generation.completion_tokens <= 6
        assert len(generation.logprobs) == generation.completion_tokens
        assert all(lp <= 0.0 for lp in generation.logprobs)


def test_openai_policy_respects_the_concurrency_limit(fresh):
    fresh.delay_s = 0.3
    policy = _policy(fresh, max_concurrency=2)
    generations = policy.generate([_query(f"q{i}") for i in range(6)])
    assert all(g.error is None for g in generations)
    assert fresh.requests == 6
    assert fresh.max_in_flight == 2


def test_openai_policy_retries_rate_limits(fresh):
    fresh.faults = ["429", "429"]
    policy = _policy(fresh, max_retries=3)
    generation = policy.generate([_query("retry me")])[0]
    assert generation.error is None
    assert policy.last_attempts == [3]


def test_openai_policy_turns_persistent_server_errors_into_an_error_generation(fresh):
    fresh.faults = ["500"] * 10
    policy = _policy(fresh, max_retries=2)
    generation = policy.generate([_query("fail")])[0]
    assert generation.text == "" and generation.finish_reason == "error"
    assert "HTTP 500" in generation.error and "3 attempts" in generation.error
    assert policy.last_attempts == [3]


def test_openai_policy_does_not_retry_client_errors(fresh):
    fresh.faults = ["400"]
    policy = _policy(fresh, max_retries=3)
    generation = policy.generate([_query("bad")])[0]
    assert "HTTP 400" in generation.error
    assert policy.last_attempts == [1]


def test_openai_policy_times_out_and_retries(fresh):
    fresh.faults = [("sleep", 1.5)]
    policy = _policy(fresh, timeout_s=0.4, max_retries=1)
    generation = policy.generate([_query("slow once")])[0]
    assert generation.error is None  # the retry got a prompt answer
    assert policy.last_attempts == [2]
    fresh.faults = [("sleep", 1.5), ("sleep", 1.5)]
    started = time.perf_counter()
    generation = _policy(fresh, timeout_s=0.4, max_retries=1).generate([_query("slow twice")])[0]
    assert "timed out" in generation.error
    assert time.perf_counter() - started < 1.4  # bounded by the timeouts, not the server's sleep


def test_openai_policy_reports_an_unreachable_server():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens there
    policy = OpenAIPolicy("tiny", base_url=f"http://127.0.0.1:{port}/v1", max_retries=1, backoff_s=0.01, timeout_s=5)
    generation = policy.generate([_query("anyone?")])[0]
    assert generation.error is not None and "connection failed" in generation.error


def test_openai_policy_works_inside_a_running_event_loop(fresh):
    policy = _policy(fresh)

    async def main() -> list:
        sync_result = policy.generate([_query("from async code")])  # must not deadlock the loop
        async_result = await policy.agenerate([_query("awaited")])
        return sync_result + async_result

    generations = asyncio.run(main())
    assert len(generations) == 2 and all(g.error is None for g in generations)


def test_openai_policy_validates_settings():
    with pytest.raises(TypeError):
        OpenAIPolicy("")
    with pytest.raises(ValueError):
        OpenAIPolicy("m", max_concurrency=0)
