"""The rules service: ingests events, keeps the facts, judges them by the YAML rule pack, keeps
the findings and publishes their changes.
"""
