"""How work reaches the rules service: its HTTP API and its JetStream consumer of events."""
