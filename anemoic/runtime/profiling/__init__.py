"""``anemoi-runtime profile``: where a training step's time and memory go (``docs/runtime.md`` "Profiling")."""
