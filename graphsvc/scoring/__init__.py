"""Reputation: time-decayed personalized PageRank with isolated faults
(docs/reference.md#reputation)."""
