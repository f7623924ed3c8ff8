"""Fixtures for the render tests."""

import pytest
from render_helpers import write_tiny_flame


@pytest.fixture
def tiny_flame(tmp_path):
    """A small FLAME-format model file the test writes itself (FLAME is never bundled)."""
    return write_tiny_flame(tmp_path / "flame")
