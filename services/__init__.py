"""Chibo's services. Each one (`rules`, `workflow`) has the same wings: `domain` (pure, no
I/O), `service` (use cases), `adapters` (PostgreSQL, files), `entrypoints` (HTTP, NATS), `cli`,
and `app.py`, its one composition root. `contracts` and `infra` are what they share; `dev` runs
them on a machine with only Python.
"""
