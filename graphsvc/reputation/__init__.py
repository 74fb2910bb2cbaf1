"""Reputation as a service: recompute and store snapshots, reproduce them, and serve
reads from in-memory views (docs/reference.md#reputation)."""
