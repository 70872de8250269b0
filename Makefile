# The two set-up commands of the README: `make demo` and `make test`. Both build their own venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TASK ?= Threading
VARIANT ?= D0
SEED ?= 0
N ?= 2
# Headless rendering: OSMesa on CPU machines (EGL needs a GPU); override with MUJOCO_GL=egl.
export MUJOCO_GL ?= osmesa
export PYOPENGL_PLATFORM ?= $(MUJOCO_GL)

.PHONY: demo test test-slow bench lint format sysdeps clean

# Debian packages, each installed only when missing (needs root or sudo): OSMesa for headless
# rendering, bubblewrap and chromium for the leaderboard, xvfb and xdotool for the teleop test.
sysdeps:
	@if ! ldconfig -p 2>/dev/null | grep -q libOSMesa; then \
	  echo "installing libosmesa6 (headless OpenGL for MuJoCo)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq libosmesa6 >/dev/null; \
	fi
	@# The leaderboard's policy sandbox and its board-page test (both skip, saying so, without).
	@if ! command -v bwrap >/dev/null || ! command -v chromium >/dev/null; then \
	  echo "installing bubblewrap and chromium (leaderboard sandbox, board-page test)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq bubblewrap chromium >/dev/null; \
	fi
	@# A virtual display and key injection for the live teleop keyboard test (skips without).
	@if ! command -v Xvfb >/dev/null || ! command -v xdotool >/dev/null; then \
	  echo "installing xvfb and xdotool (teleop keyboard test on a virtual display)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq xvfb xdotool >/dev/null; \
	fi

$(VENV)/.core: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.dev: $(VENV)/.core
	$(PY) -m pip install -q -e ".[dev,baselines]"
	touch $@

demo: sysdeps $(VENV)/.core
	$(VENV)/bin/dexmg demo --task $(TASK) --variant $(VARIANT) --seed $(SEED) --n $(N) --out out/demo-$(TASK)-$(VARIANT)

test: sysdeps $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy  # the generators against the GeneratorEnv protocol (pyproject's [tool.mypy])
	$(VENV)/bin/pytest -m "not slow" -q

test-slow: sysdeps $(VENV)/.dev
	$(VENV)/bin/pytest -m slow -q

bench: sysdeps $(VENV)/.dev
	$(VENV)/bin/pytest benchmarks -q -p no:randomly --benchmark-columns=mean,rounds --rates-out benchmarks/results/rates.json

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .benchmarks out
