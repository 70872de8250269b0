"""Per-robot constants: joint, actuator and site names, rest postures (playground pattern)."""
