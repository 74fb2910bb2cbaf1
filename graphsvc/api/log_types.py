"""GraphQL types of the evidence log: its latest checkpoint and proofs against it
(docs/auditors.md). Hashes are standard base64, as in the C2SP formats."""

from __future__ import annotations

import strawberry

from graphsvc.evidence_log.log import SignedCheckpoint


@strawberry.type(description="A signed tree head of the evidence log (C2SP tlog-checkpoint).")
class LogCheckpoint:
    origin: str = strawberry.field(description="The log's name (GRAPHSVC_LOG_ORIGIN).")
    tree_size: int = strawberry.field(description="Leaves in the tree.")
    root_hash: str = strawberry.field(description="Base64 of the RFC 6962 root hash.")
    note: str = strawberry.field(description="The checkpoint as a C2SP signed note.")
    verifier_key: str = strawberry.field(
        description="The log's Ed25519 key in note format: <origin>+<key hash>+<base64 key>."
    )

    @classmethod
    def of(cls, signed: SignedCheckpoint, verifier_key: str) -> LogCheckpoint:
        c = signed.checkpoint
        return cls(
            origin=c.origin,
            tree_size=c.size,
            root_hash=c.root_b64,
            note=signed.note,
            verifier_key=verifier_key,
        )


@strawberry.type(description="RFC 9162 inclusion proof of one record in a tree size.")
class InclusionProof:
    record_id: str = strawberry.field(description="The record proved.")
    leaf_index: int = strawberry.field(description="Its leaf index.")
    tree_size: int = strawberry.field(description="The tree size proved against.")
    hashes: list[str] = strawberry.field(description="The audit path, base64, leaf side first.")


@strawberry.type(description="RFC 9162 consistency proof between two tree sizes.")
class ConsistencyProof:
    from_size: int = strawberry.field(description="The older tree size.")
    to_size: int = strawberry.field(description="The newer tree size.")
    hashes: list[str] = strawberry.field(description="The proof's hashes, base64.")
