"""Transparency-log formats (RFC 6962 / 9162 Merkle trees, C2SP signed notes,
checkpoints and tiles): pure functions and small files, shared by the server's log and
the independent verifier (docs/auditors.md)."""
