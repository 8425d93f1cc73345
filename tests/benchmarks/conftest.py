"""The toy envs exist only while a benchmark test runs, so other test folders never see them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import toy  # noqa: E402


@pytest.fixture(autouse=True)
def toy_envs():
    toy.register_toy_envs()
    yield
    toy.unregister_toy_envs()
