"""Runtime gate and monitor (see loopwarden.runtime.plugin).

``from loopwarden.runtime import expect_blocking`` is the public helper for gate health
tests; importing it imports neither blockbuster nor pytest.
"""

from loopwarden.runtime.expect import expect_blocking

__all__ = ["expect_blocking"]
