"""The workflow service's I/O: cases and what it learns in PostgreSQL, the read model, the
definitions folder on disk.
"""
