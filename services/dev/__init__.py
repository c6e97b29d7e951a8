"""Running Chibo on one machine with only Python: embedded PostgreSQL and NATS, `chibo up`, and
the development tokens it prints. Not used by the services themselves.
"""
