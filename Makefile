# Quick start: `make demo` (the main job) and `make test` (the whole suite).
# Both create .venv on first use; torch is installed first from the pinned CPU build so the
# project's `torch>=2.4` range is already satisfied and no CUDA wheels are pulled in.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install clean docker-image

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	@$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/thinkgym demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# One-time: start dockerd if none runs, import a debootstrap base image, build the sandbox image
# (src/thinkgym/sandbox/Dockerfile). The docker tests do the same on their own when run as root.
docker-image: $(STAMP)
	$(BIN)/python -m thinkgym.sandbox.docker_engine --install

lint: $(STAMP)
	$(BIN)/ruff check src tests

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
