"""Ingest and the attribution rule: validate signed records, decide each one's fate
against what the store holds, write a batch in one transaction, acknowledge after the
commit (docs/reference.md#records)."""
