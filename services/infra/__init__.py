"""What both services share: settings, PostgreSQL (pool, migrations, locks), NATS (connection,
streams, pull consumers, dead letters, publishing, the outbox), the HTTP app and its problem
details, background workers, YAML files with positions, logs and the clock.
"""
