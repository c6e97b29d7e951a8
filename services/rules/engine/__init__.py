"""The rule engine: rule files, facts, evaluation and scores — pure, with no I/O beyond files."""
