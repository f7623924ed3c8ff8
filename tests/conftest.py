"""Shared test setup: small thread counts (2-core CI), no network, headless plotting, markers.

Markers (pyproject.toml): ``integration`` (every test under tests/integration, set here),
``slow`` (5 s or more of CPU time) and ``gl`` (OpenGL rendering), set on the tests.
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path

import numpy as np
import pytest

INTEGRATION = Path(__file__).resolve().parent / "integration"


def pytest_collection_modifyitems(config, items):
    """Tests under tests/integration drive the real command line: mark them ``integration``."""
    for item in items:
        if Path(item.path).resolve().is_relative_to(INTEGRATION):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def _single_thread_torch():
    try:
        import torch
    except ImportError:  # pragma: no cover
        yield
        return
    torch.set_num_threads(1)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def speechlike_audio():
    """20 s of syllable-like noise bursts (4 Hz) with pauses, as (S,) float32 16 kHz."""
    rng = np.random.default_rng(5)
    t = np.arange(20 * 16000) / 16000
    env = (np.sin(2 * np.pi * 4 * t) > 0) * ((t % 8) < 5)
    return (rng.standard_normal(t.size) * 0.3 * env + rng.standard_normal(t.size) * 1e-3).astype(np.float32)
