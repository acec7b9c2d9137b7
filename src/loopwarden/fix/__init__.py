"""Fixes for findings: ``loopwarden fix`` (libcst codemods), ``loopwarden anchor`` (gated test
scaffolds) and ``loopwarden agent-skill``. Consumes findings; the scan path never imports it."""
