"""loopwarden: keeps asyncio event loops free of blocking I/O.

Importing the package is deliberately cheap: the CLI and the pytest plugin import
their heavy parts lazily.
"""

__version__ = "0.1.0"
