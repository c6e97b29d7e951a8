"""`chibo rules ...`: lint, test, schema, backtest, explain and score, and what only they use."""
