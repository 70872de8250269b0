"""DexMimicGen data generation (per-arm subtasks, action queues) and the Demo-Noise baseline."""
