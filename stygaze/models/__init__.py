"""stygaze.models."""
