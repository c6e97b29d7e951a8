"""How work reaches the workflow service: its HTTP API and its JetStream consumers."""
