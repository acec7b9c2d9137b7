import os

collect_ignore = ["fixtures"]

# The scan cache stays out of the suite (tests/static/test_cache.py turns it back on): tests that
# inject bugs into the analysis must not leave results behind for others, nor read theirs.
os.environ["LOOPWARDEN_NO_CACHE"] = "1"
