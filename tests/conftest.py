"""Shared test settings: hypothesis profile sized for a 2-core CI machine; a local HTTP server."""

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def local_http_server():
    """A context manager that serves one `http.server` handler class on 127.0.0.1 in a thread and
    yields its ``/v1`` base URL: the fake OpenAI-compatible servers of several test folders."""

    @contextlib.contextmanager
    def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
        finally:
            httpd.shutdown()
            httpd.server_close()

    return serve
