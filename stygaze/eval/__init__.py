"""stygaze.eval."""
