"""stygaze.train."""
