"""Reputation: time-decayed personalized PageRank with isolated faults (DESIGN §3)."""
