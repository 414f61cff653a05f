"""Repository patterns, one spec and one executor each: `creator`, `updater`, `purger` (one row
by key) and `pruner` (the bulk sweep, in its own package). `core` re-exports their public names."""
