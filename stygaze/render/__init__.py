"""stygaze.render."""
