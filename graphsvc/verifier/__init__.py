"""``graphsvc verify``: an independent check of the evidence log's answers.

It shares no code with the server's write path: only the log formats' hashing, proof
verification and note verification (``graphsvc.tlog.merkle``, ``.proofs``, ``.note``,
``.checkpoint``, ``.tiles``) and record ids (``graphsvc.records.canonical``), which an
import-linter contract enforces (docs/auditors.md).
"""
