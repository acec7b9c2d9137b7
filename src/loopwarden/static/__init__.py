"""Static scanner: per-file summaries -> whole-program index -> reachability -> findings."""
