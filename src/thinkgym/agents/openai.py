"""`OpenAIPolicy`: any OpenAI-compatible chat server (vLLM, SGLang, `transformers serve`, OpenAI).

Requests go through the official ``openai`` client, concurrently up to ``max_concurrency``. Rate
limits (429), server errors (5xx), timeouts and dropped connections are retried with exponential
backoff and jitter (a server's ``Retry-After`` is honoured, capped at ``backoff_max_s``); other
client errors (400, 401, 404) are not worth retrying. A request that still fails becomes a
`Generation` with ``error`` set — an evaluation records it and goes on; it never raises. The
error keeps the server's own explanation (the response body: a wrong model name, a context too
long), whatever shape the server gives it (OpenAI's ``{"error": {"message"}}``, FastAPI's
``{"detail"}``, plain text).

Each request carries a ``seed``: the query's own (`Query.seed`, one per sample in `thinkgym eval`,
so the ``k`` samples of a problem are ``k`` different seeds and pass@k stays pass@k), else the
policy's ``seed`` when given. Servers that honour it (vLLM, OpenAI) then return the same sample for
the same seed.

Tool envs (`Query.tools` set): the request carries ``tools=`` (the env's OpenAI function-calling
schemas) and the conversation in OpenAI's own shape (``assistant`` messages with ``tool_calls``, their
arguments as JSON strings; ``tool`` messages with ``tool_call_id``). A response with structured
``tool_calls`` becomes the protocol's ``"openai"`` text action: the assistant message serialised as
JSON (``{"role": "assistant", "content": ..., "tool_calls": [...]}``), which the env parses back
into calls with the server's own call ids; a response without calls is its plain text.

(This module is ``thinkgym.agents.openai``; ``import openai`` below is the top-level client
package — Python 3 imports are absolute.)
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import Sequence
from typing import Any

from thinkgym.agents.base import Generation, Policy, Query
from thinkgym.agents.messages import chat_messages

__all__ = ["OpenAIPolicy"]

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class OpenAIPolicy(Policy):
    """Chat completions from an OpenAI-compatible server at ``base_url``.

    ``timeout_s`` bounds each request; ``max_retries`` is the number of retries after the first
    attempt; the wait before retry ``k`` is ``min(backoff_max_s, backoff_s * 2**k)`` times a random
    jitter in [0.5, 1]. ``logprobs=True`` asks the server for per-token log-probabilities.
    """

    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        max_tokens: int = 1024,
        temperature: float = 1.0,
        top_p: float = 1.0,
        stop: Sequence[str] | None = None,
        system_prompt: str | None = None,
        max_concurrency: int = 16,
        max_retries: int = 4,
        timeout_s: float = 120.0,
        backoff_s: float = 0.5,
        backoff_max_s: float = 16.0,
        logprobs: bool = False,
        extra_body: dict[str, Any] | None = None,
        seed: int | None = None,
    ):
        if not isinstance(model, str) or not model:
            raise TypeError("model must be a non-empty str (the server's model name)")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be > 0")
        self.model = model
        self.base_url = base_url
        self.api_key = api_key or "EMPTY"  # local servers accept any key
        self.max_tokens = int(max_tokens)
        self.temperature = float(temperature)
        self.top_p = float(top_p)
        self.stop = list(stop) if stop else None
        self.system_prompt = system_prompt
        self.max_concurrency = int(max_concurrency)
        self.max_retries = int(max_retries)
        self.timeout_s = float(timeout_s)
        self.backoff_s = float(backoff_s)
        self.backoff_max_s = float(backoff_max_s)
        self.logprobs = bool(logprobs)
        self.extra_body = dict(extra_body or {})
        self.seed = seed
        self._rng = random.Random(seed)
        #: Attempts made by the last `generate` call, per query (for monitoring and tests).
        self.last_attempts: list[int] = []

    # ---- public API -----------------------------------------------------------------------

    def generate(self, queries: Sequence[Query]) -> list[Generation]:
        """Blocking batch call; safe from plain code and from inside a running event loop."""
        queries = list(queries)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.agenerate(queries))
        result: list[list[Generation]] = []
        error: list[BaseException] = []

        def run() -> None:
            try:
                result.append(asyncio.run(self.agenerate(queries)))
            except BaseException as exc:  # re-raised in the caller's thread
                error.append(exc)

        thread = threading.Thread(target=run, name="OpenAIPolicy.generate")
        thread.start()
        thread.join()
        if error:
            raise error[0]
        return result[0]

    async def agenerate(self, queries: Sequence[Query]) -> list[Generation]:
        import openai

        queries = list(queries)
        semaphore = asyncio.Semaphore(self.max_concurrency)
        attempts = [0] * len(queries)
        async with openai.AsyncOpenAI(
            base_url=self.base_url, api_key=self.api_key, timeout=self.timeout_s, max_retries=0
        ) as client:

            async def one(index: int, query: Query) -> Generation:
                async with semaphore:
                    return await self._complete(client, query, attempts, index)

            generations = await asyncio.gather(*(one(i, q) for i, q in enumerate(queries)))
        self.last_attempts = attempts
        return list(generations)

    # ---- internals ------------------------------------------------------------------------

    def _messages(self, query: Query) -> list[dict[str, Any]]:
        messages = chat_messages(query.messages, arguments="json")
        if self.system_prompt and not any(m["role"] == "system" for m in messages):
            messages.insert(0, {"role": "system", "content": self.system_prompt})
        return messages

    def _request(self, query: Query) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": self._messages(query),
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
        }
        if query.tools:
            request["tools"] = [dict(t) for t in query.tools]
        if self.stop:
            request["stop"] = self.stop
        if self.logprobs:
            request["logprobs"] = True
        seed = query.seed if query.seed is not None else self.seed
        if seed is not None:
            request["seed"] = int(seed)
        if self.extra_body:
            request["extra_body"] = self.extra_body
        return request

    async def _complete(self, client: Any, query: Query, attempts: list[int], index: int) -> Generation:
        import openai

        request = self._request(query)
        started = time.perf_counter()
        last_error = "no attempt made"
        for attempt in range(self.max_retries + 1):
            attempts[index] += 1
            retry_after: float | None = None
            try:
                response = await client.chat.completions.create(**request)
                return self._to_generation(response, time.perf_counter() - started)
            except openai.APIStatusError as exc:
                last_error = f"HTTP {exc.status_code}: {_short(_server_explanation(exc))}"
                if exc.status_code not in _RETRY_STATUS:
                    break
                retry_after = _retry_after(exc)
            except openai.APITimeoutError:
                last_error = f"timed out after {self.timeout_s:g} s"
            except openai.APIConnectionError as exc:
                last_error = f"connection failed: {_short(str(exc.__cause__ or exc))}"
            except (openai.APIResponseValidationError, ValueError, KeyError, TypeError, AttributeError) as exc:
                last_error = f"malformed response: {_short(str(exc))}"
                break
            if attempt < self.max_retries:
                await asyncio.sleep(self._backoff(attempt, retry_after))
        return Generation(
            "",
            finish_reason="error",
            latency_s=time.perf_counter() - started,
            error=f"{last_error} (after {attempts[index]} attempt{'s' if attempts[index] > 1 else ''})",
        )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(self.backoff_max_s, max(0.0, retry_after))
        delay = min(self.backoff_max_s, self.backoff_s * (2**attempt))
        return delay * (0.5 + 0.5 * self._rng.random())

    def _to_generation(self, response: Any, latency: float) -> Generation:
        choice = response.choices[0]
        text = _action_text(choice.message)
        logprobs = None
        if self.logprobs and choice.logprobs is not None and choice.logprobs.content is not None:
            logprobs = [float(t.logprob) for t in choice.logprobs.content]
        usage = response.usage
        return Generation(
            text=text,
            logprobs=logprobs,
            finish_reason=choice.finish_reason,
            latency_s=latency,
            prompt_tokens=getattr(usage, "prompt_tokens", None),
            completion_tokens=getattr(usage, "completion_tokens", None),
        )


def _action_text(message: Any) -> str:
    """The env action of a response message: its text, or, when the server returned structured
    ``tool_calls``, the assistant message as JSON (the protocol's ``"openai"`` call format)."""
    content = message.content or ""
    calls = getattr(message, "tool_calls", None)
    if not calls:
        return content
    serialised = []
    for call in calls:
        function = getattr(call, "function", None)
        serialised.append(
            {
                "id": getattr(call, "id", None),
                "type": getattr(call, "type", None) or "function",
                "function": {
                    "name": getattr(function, "name", None),
                    "arguments": getattr(function, "arguments", None),
                },
            }
        )
    return json.dumps({"role": "assistant", "content": content, "tool_calls": serialised}, ensure_ascii=False)


def _server_explanation(exc: Any) -> str:
    """What the server said about a failed request (its response body), in one line.

    The openai client keeps only ``{"error": {"message": ...}}`` in ``exc.message``; servers that
    answer ``{"detail": ...}``, ``{"message": ...}``, ``{"error": "..."}`` or plain text (the
    reason a request was refused) would otherwise be reduced to ``Error code: 400``.
    """
    body = getattr(exc, "body", None)
    if body is None:
        try:
            body = exc.response.text
        except Exception:  # no response, or one whose body was not read
            body = None
    detail = _body_text(body)
    return " ".join(detail.split()) if detail else str(getattr(exc, "message", exc))


def _body_text(body: Any) -> str:
    """The human part of an error body: a known message field, else the body as text."""
    import json

    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        return body.strip()
    if isinstance(body, dict):
        for key in ("error", "detail", "message", "msg"):
            value = body.get(key)
            if isinstance(value, dict):
                inner = _body_text(value)
                if inner:
                    return inner
            elif isinstance(value, list) and value:  # FastAPI validation errors: a list of dicts
                return "; ".join(_body_text(v) for v in value)
            elif value:
                return str(value)
    if body is None:
        return ""
    return json.dumps(body, ensure_ascii=False, default=str)


def _retry_after(exc: Any) -> float | None:
    """Seconds from a ``Retry-After`` header (numeric form), if the server sent one."""
    try:
        value = exc.response.headers.get("retry-after")
        return float(value) if value is not None else None
    except (AttributeError, ValueError):
        return None


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
