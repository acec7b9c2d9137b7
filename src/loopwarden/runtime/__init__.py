"""Runtime gate and monitor (see loopwarden.runtime.plugin)."""
