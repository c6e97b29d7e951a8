"""The workflow service: each cell's inspection, conclusion and remediation case, moved by a YAML
state machine, with roles, guards, deadlines and an audit trail.
"""
