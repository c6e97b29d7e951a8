"""`chibo workflow ...`: lint definitions and the policy, draw a definition."""
