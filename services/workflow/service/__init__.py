"""The workflow service's use cases: open and move cases, read them, take findings and
registrations, mark deadlines passed; who may do what, and the registry of definitions.
"""
