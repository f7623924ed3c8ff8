"""stygaze.data."""
