"""``loopwarden guard --diff BASE``: the whole procedure for a change in one command (judge,
fix, re-scan by key, anchor, red -> green, teeth), with a pull-request-ready summary."""
