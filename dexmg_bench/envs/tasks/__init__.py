"""One module per task: config dataclass, variants, env class, success terms."""
