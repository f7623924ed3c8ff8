# stygaze: `make demo` sets up and runs the main job; `make test` sets up and runs the tests.
# Both work on a fresh Debian/Ubuntu machine (apt as root or via sudo, then pip into .venv).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
APT_PACKAGES := ffmpeg sox espeak-ng libegl1 libgl1-mesa-dri libosmesa6
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-deps demo test bench clean

system-deps:
	@if command -v apt-get >/dev/null 2>&1; then \
	  missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	  if [ -n "$$missing" ]; then \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	  fi; \
	else echo "apt-get not found: install $(APT_PACKAGES) with your package manager"; fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first and pinned to the CPU build, so nothing later pulls a CUDA torch
setup: system-deps $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[all]"

# the main job: speech -> gaze + head motion with the built-in model (no download), in the
# style of a reference clip; then the metrics on the shipped evaluation examples
demo: setup
	$(BIN)/stygaze generate --audio examples/talk.wav --style examples/style_ref.npz -o runs/demo/talk.motion.npz --seed 0 --raw
	$(BIN)/stygaze eval --pred runs/demo/talk.motion.npz --gt examples/talk_gt.npz --audio examples/talk.wav --json runs/demo/eval.json --plot runs/demo/eval.png
	$(BIN)/stygaze generate --audio examples/talk.wav --style examples/style_ref.npz -o runs/demo/talk_saccades.motion.npz --seed 0 --saccades
	$(BIN)/stygaze eval --pred runs/demo/talk_saccades.motion.npz --gt examples/talk_gt_noise_free.npz --audio examples/talk.wav --json runs/demo/eval_saccades.json --plot runs/demo/eval_saccades.png

test: setup
	$(BIN)/python -m pytest -q -n 2 --durations=15

bench: setup
	$(BIN)/python scripts/bench_metrics.py

clean:
	rm -rf $(VENV) runs .pytest_cache
