"""Cases, pure: the case model and its audit entry, the definition format and its machine,
payload fields, guards, the findings policy and the commands people give.
"""
