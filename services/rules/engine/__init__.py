"""The rule engine: rule files' text, facts, evaluation and scores — pure, with no I/O."""
