# stygaze: `make demo` sets up and runs the main job; `make test` sets up and runs the tests.
# Both work on a fresh Debian/Ubuntu machine (apt as root or via sudo, then pip into .venv).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
APT_PACKAGES := ffmpeg sox espeak-ng libegl1 libgl1-mesa-dri libosmesa6
# only for the tests: the viewer in headless Chromium, our exports imported by Blender (not for `make demo`)
TEST_APT_PACKAGES := chromium blender python3-numpy
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-deps test-deps demo test test-fast bench clean

define apt_install
	@if command -v apt-get >/dev/null 2>&1; then \
	  missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	  if [ -n "$$missing" ]; then \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	  fi; \
	else echo "apt-get not found: install $(1) with your package manager"; fi
endef

system-deps:
	$(call apt_install,$(APT_PACKAGES))

test-deps:
	$(call apt_install,$(TEST_APT_PACKAGES))

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The installation, done once and again only when pyproject.toml changes (the stamp is
# newer than it otherwise); `make setup` brings it up to date, `make -B setup` redoes it.
# torch first and pinned to the CPU build, so nothing later pulls a CUDA torch.
STAMP := $(VENV)/.setup-stamp

$(STAMP): pyproject.toml | $(BIN)/python
	$(MAKE) system-deps
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[all]"
	touch $@

setup: $(STAMP)

# the main job: speech -> gaze + head motion with the built-in model (no download), in the
# style of a reference clip; then the metrics on the shipped evaluation examples
demo: $(STAMP)
	$(BIN)/stygaze generate --audio examples/talk.wav --style examples/style_ref.npz -o runs/demo/talk.motion.npz --seed 0 --raw
	$(BIN)/stygaze eval --pred runs/demo/talk.motion.npz --gt examples/talk_gt.npz --audio examples/talk.wav --json runs/demo/eval.json --plot runs/demo/eval.png
	$(BIN)/stygaze generate --audio examples/talk.wav --style examples/style_ref.npz -o runs/demo/talk_saccades.motion.npz --seed 0 --saccades
	$(BIN)/stygaze eval --pred runs/demo/talk_saccades.motion.npz --gt examples/talk_gt_noise_free.npz --audio examples/talk.wav --json runs/demo/eval_saccades.json --plot runs/demo/eval_saccades.png

test: $(STAMP) test-deps
	$(BIN)/python -m pytest -q -n 2 --durations=15

# the fast subset (docs/contributing.md): no tests marked slow, no command-line subprocess tests
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m "not slow and not integration"

bench: $(STAMP)
	$(BIN)/python scripts/bench_metrics.py

clean:
	rm -rf $(VENV) runs .pytest_cache
