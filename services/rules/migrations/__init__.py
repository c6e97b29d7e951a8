"""The `rules` schema, one numbered SQL file per change, applied at start."""
