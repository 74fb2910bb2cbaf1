"""Reputation: time-decayed personalized PageRank with isolated faults (docs/design.md §3)."""
