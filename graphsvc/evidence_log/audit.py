"""``graphsvc audit``: recompute the log's leaves from the records the store holds and
name every record changed, removed or added behind the log's back (docs/auditors.md).

The reference is the log's tree (its hash files, built as batches committed, and the
checkpoints it signed from them): a record edited in the store no longer hashes to its
leaf, a deleted one leaves its leaf without a record, and a record slipped in has no
leaf (or claims one another record holds). The batch entries the store keeps are
checked against the tree too, so rewriting them as well does not hide a change.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

from graphsvc.evidence_log.log import EvidenceLog, LogError, leaf_data
from graphsvc.store import log_entries
from graphsvc.tlog.merkle import CompactRange, leaf_hash

PAGE = 1_000


@dataclass(frozen=True)
class Finding:
    """One record that differs from the log: ``changed``, ``removed`` or ``added``."""

    kind: str
    record_id: str
    leaf: int | None
    detail: str

    def line(self) -> str:
        where = f"leaf {self.leaf}" if self.leaf is not None else "no leaf"
        return f"{self.kind}: {self.record_id} ({where}): {self.detail}"


@dataclass
class AuditReport:
    tree_size: int
    log_root: bytes
    # The root of a tree built from the records as the store holds them now (a removed
    # record's leaf left as the log has it): equal to log_root iff nothing changed.
    store_root: bytes
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings and self.store_root == self.log_root


def audit(log: EvidenceLog, *, page: int = PAGE) -> AuditReport:
    """Check every leaf of the log's latest checkpoint against its store (or of its tree
    as it stands, when the store's changes stop it from signing one)."""
    store = log.store
    try:
        signed = log.publish().checkpoint
        size, log_root = signed.size, signed.root
    except LogError:
        size = log.size
        log_root = log.root(size)
    findings: list[Finding] = []
    expected_ids = _logged_ids(size, findings, log)
    recomputed = CompactRange()
    for start in range(0, size, page):
        leaves = list(range(start, min(size, start + page)))
        found = log_entries.records_at(store, leaves)
        logged = log.leaf_hashes(start, len(leaves))
        for leaf, expected in zip(leaves, logged, strict=True):
            records = found[leaf]
            expected_id = expected_ids[leaf] if leaf < len(expected_ids) else "?"
            stored = next((r for r in records if r.id == expected_id), None)
            for other in records:
                if other is not stored:
                    findings.append(
                        Finding("added", other.id, leaf, "claims a leaf another record holds")
                    )
            if stored is None:
                findings.append(Finding("removed", expected_id, leaf, "no stored record"))
                recomputed.append(expected)
                continue
            actual = _hash_of(stored.record)
            recomputed.append(actual)
            if actual != expected:
                findings.append(
                    Finding(
                        "changed", stored.id, leaf, "the stored record no longer hashes to its leaf"
                    )
                )
    for record_id in log_entries.unlogged_records(store, limit=10_000):
        findings.append(Finding("added", record_id, None, "stored without a leaf in the log"))
    return AuditReport(size, log_root, recomputed.root(), findings)


def _hash_of(stored: str) -> bytes:
    try:
        return leaf_hash(leaf_data(stored))
    except (ValueError, TypeError):  # not JSON any more: it cannot hash to its leaf
        return leaf_hash(stored.encode())


def _logged_ids(size: int, findings: list[Finding], log: EvidenceLog) -> list[str]:
    """The record id of each leaf, from the batch entries; entries whose hashes are not
    the tree's are findings of their own (someone rewrote the log's entries too)."""
    ids: list[str] = []
    for batch in log_entries.batches_until(log.store, size):
        count = min(len(batch.hashes), size - batch.first)
        tree = log.leaf_hashes(batch.first, count)
        for offset in range(count):
            if batch.hashes[offset] != tree[offset]:
                findings.append(
                    Finding(
                        "changed",
                        batch.ids[offset],
                        batch.first + offset,
                        "the store's log entry for this leaf was rewritten",
                    )
                )
        ids.extend(batch.ids[:count])
    return ids


def report_lines(report: AuditReport) -> list[str]:
    lines = [finding.line() for finding in report.findings]
    verdict = "clean" if report.clean else f"{len(report.findings)} finding(s)"
    lines.append(
        json.dumps(
            {
                "tree_size": report.tree_size,
                "log_root": base64.b64encode(report.log_root).decode("ascii"),
                "store_root": base64.b64encode(report.store_root).decode("ascii"),
                "verdict": verdict,
            }
        )
    )
    return lines
