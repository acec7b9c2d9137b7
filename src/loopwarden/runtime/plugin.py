"""pytest plugin entry point (placeholder until the runtime gate lands)."""
