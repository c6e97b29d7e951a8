"""The wire: events, findings and case messages both services read and write, their subjects,
the roles tokens carry, and the Vietnam calendar every date is counted in. Pure.
"""
