"""Paged lists of signed records (docs/decisions/0048-keyset-pages.md): an entity's receipts, a
witness's attestations, a requester's disputes. Each page is one read of one more row
than asked (is there a next page?); counts are separate reads, made only when asked."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from graphsvc.domain.paging import Slice, TimePage, TimeWindow
from graphsvc.domain.receipt_trail import AttestationInfo, DisputeInfo
from graphsvc.store import cypher
from graphsvc.store.graph_store import GraphStore


def _verdicts(verdicts: Collection[str] | None) -> list[str] | None:
    return None if verdicts is None else sorted(verdicts)


def _window(window: TimeWindow) -> dict[str, Any]:
    return {"from_ms": window.from_ms, "to_ms": window.to_ms}


def receipt_ids(
    store: GraphStore,
    party: str,
    ids: Sequence[str],
    page: TimePage,
    verdicts: Collection[str] | None = None,
    trusted: Collection[str] = (),
) -> Slice[str]:
    """Ids of the receipts whose ``party`` field (node, model or requester) is one of
    ``ids``, paged; ``verdicts``: only receipts with one of these verdicts among the
    ``trusted`` witnesses."""
    if not ids or page.size <= 0:
        return Slice([], False)
    rows = store.read(
        cypher.RECEIPTS_PAGE[party, page.newest_first],
        parties=list(ids),
        verdicts=_verdicts(verdicts),
        trusted=sorted(trusted),
        **page.params(),
    )
    return Slice.of([r["id"] for r in rows], page.size)


def count_receipts(
    store: GraphStore,
    party: str,
    ids: Sequence[str],
    window: TimeWindow,
    verdicts: Collection[str] | None = None,
    trusted: Collection[str] = (),
) -> int:
    if not ids:
        return 0
    rows = store.read(
        cypher.RECEIPTS_COUNT[party],
        parties=list(ids),
        verdicts=_verdicts(verdicts),
        trusted=sorted(trusted),
        **_window(window),
    )
    return int(rows[0]["n"])


def attestations_by(
    store: GraphStore, witness: str, page: TimePage, verdicts: Collection[str] | None = None
) -> Slice[AttestationInfo]:
    rows = store.read(
        cypher.ATTESTATIONS_BY_WITNESS[page.newest_first],
        witness=witness,
        verdicts=_verdicts(verdicts),
        **page.params(),
    )
    return Slice.of(
        [
            AttestationInfo(
                a["id"], a["ts"], a["witness"], a["verdict"], a["fault"], a["note"],
                a.get("leaf"), a["receipt"], a["score"],
            )
            for a in (r["attestation"] for r in rows)
        ],
        page.size,
    )  # fmt: skip


def count_attestations_by(
    store: GraphStore, witness: str, window: TimeWindow, verdicts: Collection[str] | None = None
) -> int:
    rows = store.read(
        cypher.ATTESTATIONS_BY_WITNESS_COUNT,
        witness=witness,
        verdicts=_verdicts(verdicts),
        **_window(window),
    )
    return int(rows[0]["n"])


def disputes_by(store: GraphStore, requester: str, page: TimePage) -> Slice[DisputeInfo]:
    rows = store.read(
        cypher.DISPUTES_BY_REQUESTER[page.newest_first], requester=requester, **page.params()
    )
    return Slice.of(
        [
            DisputeInfo(d["id"], d["ts"], d["requester"], d["reason"], d.get("leaf"), d["receipt"])
            for d in (r["dispute"] for r in rows)
        ],
        page.size,
    )


def count_disputes_by(store: GraphStore, requester: str, window: TimeWindow) -> int:
    rows = store.read(cypher.DISPUTES_BY_REQUESTER_COUNT, requester=requester, **_window(window))
    return int(rows[0]["n"])
