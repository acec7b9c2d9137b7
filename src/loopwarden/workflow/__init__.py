"""Adoption workflows built on the scanner's findings: changed-code mode (``scan --diff``),
baselines (``scan --baseline``, ``loopwarden baseline``) and the ``catalog`` and ``rule``
commands. They consume findings by their stable key ``<path>::<function>::<symbol>``, their
path, line and chain, and nothing of the analysis itself."""
