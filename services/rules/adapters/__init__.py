"""The rules service's I/O: facts and findings in PostgreSQL, the read model, rule files on disk."""
