"""The evidence log: an append-only Merkle log of every accepted record, its signed
checkpoints, proofs and tiles, and the audit of the store against it (docs/auditors.md)."""
