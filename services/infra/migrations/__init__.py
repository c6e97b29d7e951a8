"""Tables every service's schema has, one numbered SQL file per change; `{schema}` stands for
the service's schema."""
