"""Accelerator memory per model: precision (bytes per weight and per KV element), head sharding,
and the memory arithmetic. Pure functions, no checks: config/placement/ turns them into verdicts."""
