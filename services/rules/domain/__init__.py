"""The rule engine, pure: the rule file format, expressions, facts, the judges of each check,
compiled packs, evaluation, reconciliation with stored findings, scores, authors' scenarios.
"""
