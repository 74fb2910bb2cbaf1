"""Answers computed once per snapshot (issue 23, docs/decisions/0083-answer-cache.md).

Scores change once per snapshot, every few minutes, and dashboards ask the same few
questions over and over. A query whose answer depends only on the snapshot served (a
leaderboard, a reputation, a comparison: ``SNAPSHOT_FIELDS``) is answered from the
bytes its first execution produced, until a newer snapshot is served. The key is the
snapshot, the normalised document, the variables and the operation name; the cache is
bounded in bytes. Errors, mutations and anything reading live store data are never kept.

Over HTTP, a kept answer carries an ``ETag`` naming its snapshot and key, and a request
whose ``If-None-Match`` names the answer that would be sent gets ``304`` without a body.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    parse,
    print_ast,
    visit,
)
from graphql.language import DirectiveNode

# What a cached answer may select: (type, fields) whose values are fixed by the snapshot
# served. Entities' registered facts never change once accepted (records are immutable),
# so the entity of a scored row may ride along; its receipts, incidents and the like are
# live and keep a query out of the cache. Fields taking ``asOf`` are allowed only without
# it (the snapshot in force at another time is read from the store, where a newer one
# may already be stored but not yet served).
SNAPSHOT_FIELDS: Mapping[str, frozenset[str]] = {
    "Query": frozenset({"leaderboard", "reputation", "compare"}),
    "ReputationPage": frozenset({"items", "pageInfo", "totalCount"}),
    "PageInfo": frozenset({"hasNextPage", "endCursor"}),
    "Reputation": frozenset(
        {
            "entity",
            "score",
            "rank",
            "percentile",
            "mass",
            "rawMass",
            "faultRate",
            "confidence",
            "positiveEvidence",
            "faultWeight",
            "phi",
            "risk",
            "riskEvents",
            "riskLow",
            "riskHigh",
            "breakdown",
            "asOf",
            "snapshot",
            "logCheckpoint",
        }
    ),
    "Entity": frozenset({"id", "kind", "name", "registeredAt"}),
    "Breakdown": frozenset(
        {
            "incoming",
            "incomingOtherShare",
            "incomingSources",
            "faults",
            "faultSources",
            "faultEvents",
        }
    ),
    "Contribution": frozenset({"channel", "mass", "share", "entity"}),
    "Fault": frozenset({"cause", "weight", "events", "entity"}),
    "SnapshotCheckpoint": frozenset({"treeSize", "rootHash"}),
}
# Longer query texts are answered without the cache (the texts are kept as keys).
MAX_DOCUMENT_CHARS = 16 * 1024
# Directives that only choose fields (by the variables, which are in the key).
PLAIN_DIRECTIVES = frozenset({"include", "skip"})


class _SnapshotOnly(Visitor):
    """Finds whatever keeps a document's answer from being fixed by the snapshot."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.live = False

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: object) -> None:
        if node.operation is not OperationType.QUERY:
            self.live = True

    def enter_directive(self, node: DirectiveNode, *_: object) -> None:
        if node.name.value not in PLAIN_DIRECTIVES:
            self.live = True

    def enter_field(self, node: FieldNode, *_: object) -> None:
        name = node.name.value
        if name == "__typename":
            return
        parent = self.type_info.get_parent_type()
        allowed = SNAPSHOT_FIELDS.get(parent.name) if parent is not None else None
        if (
            allowed is None
            or name not in allowed
            or any(a.name.value == "asOf" for a in node.arguments or ())
        ):
            self.live = True


def snapshot_only(schema: GraphQLSchema, document: DocumentNode) -> bool:
    """Whether every operation of ``document`` is a query reading only ``SNAPSHOT_FIELDS``
    (unknown fields count as live: validation refuses them when the document runs)."""
    type_info = TypeInfo(schema)
    finder = _SnapshotOnly(type_info)
    visit(document, TypeInfoVisitor(type_info, finder))
    return not finder.live


class CacheableDocuments:
    """Each query text's normalised form when its answer is fixed by the snapshot, else
    None; the newest ``maxsize`` texts kept. Texts are parsed with the token limit of
    the schema, so a text it refuses is never cached (the execution refuses it)."""

    def __init__(self, schema: GraphQLSchema, *, max_tokens: int, maxsize: int = 256) -> None:
        self._schema = schema
        self._max_tokens = max_tokens
        self._maxsize = maxsize
        self._found: OrderedDict[str, str | None] = OrderedDict()

    def normalised(self, text: str) -> str | None:
        if len(text) > MAX_DOCUMENT_CHARS:
            return None  # not kept: a text this long is padding, not a dashboard's query
        if text in self._found:
            self._found.move_to_end(text)
            return self._found[text]
        try:
            document = parse(text, no_location=True, max_tokens=self._max_tokens)
        except GraphQLError:
            found = None
        else:
            found = print_ast(document) if snapshot_only(self._schema, document) else None
        self._found[text] = found
        if len(self._found) > self._maxsize:
            self._found.popitem(last=False)
        return found


@dataclass(frozen=True, slots=True)
class AnswerKey:
    snapshot: str
    document: str  # normalised (graphql's printed form)
    variables: str  # canonical JSON
    operation: str | None

    @classmethod
    def of(
        cls,
        snapshot: str,
        document: str,
        variables: Mapping[str, object] | None,
        operation: str | None,
    ) -> AnswerKey:
        canonical = json.dumps(variables or {}, sort_keys=True, separators=(",", ":"))
        return cls(snapshot, document, canonical, operation)

    def etag(self) -> str:
        """Weak (gzip may encode the bytes): names the snapshot, then the rest of the key."""
        digest = hashlib.sha256(
            json.dumps([self.document, self.variables, self.operation]).encode()
        ).hexdigest()[:24]
        return f'W/"{self.snapshot}.{digest}"'

    def size(self) -> int:
        return len(self.snapshot) + len(self.document) + len(self.variables) + 64


@dataclass(slots=True)
class Answer:
    body: bytes
    etag: str
    gzipped: bytes | None = None  # made when a client first accepts gzip (COMPRESS_FROM)


class AnswerCache:
    """Answers by key, at most ``max_bytes`` of them (least recently used go first),
    all of one snapshot: asking with another snapshot empties it. An answer over an
    eighth of the budget is not kept (it would push out many others). Only the event
    loop's thread uses it."""

    ENTRY_OVERHEAD = 200  # the entry's objects, roughly

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.snapshot: str | None = None
        self.bytes = 0
        self._answers: OrderedDict[AnswerKey, Answer] = OrderedDict()

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, key: AnswerKey) -> Answer | None:
        self._serve(key.snapshot)
        found = self._answers.get(key)
        if found is not None:
            self._answers.move_to_end(key)
        return found

    def put(self, key: AnswerKey, body: bytes) -> Answer:
        answer = Answer(body, key.etag())
        size = self._size(key, answer)
        if size > self.max_bytes // 8:
            return answer
        self._serve(key.snapshot)
        old = self._answers.pop(key, None)
        if old is not None:
            self.bytes -= self._size(key, old)
        self._answers[key] = answer
        self.bytes += size
        self._evict()
        return answer

    def _serve(self, snapshot: str) -> None:
        if snapshot != self.snapshot:
            self._answers.clear()
            self.bytes = 0
            self.snapshot = snapshot

    def gzipped(self, key: AnswerKey, answer: Answer) -> bytes:
        """``answer``'s body compressed (as the GZip middleware would, level 6), made once
        and counted in the cache's bytes while the answer is kept."""
        if answer.gzipped is None:
            answer.gzipped = gzip.compress(answer.body, compresslevel=6, mtime=0)
            if self._answers.get(key) is answer:
                self.bytes += len(answer.gzipped)
                self._evict()
        return answer.gzipped

    def _evict(self) -> None:
        while self.bytes > self.max_bytes:
            evicted, gone = self._answers.popitem(last=False)
            self.bytes -= self._size(evicted, gone)

    def _size(self, key: AnswerKey, answer: Answer) -> int:
        compressed = len(answer.gzipped) if answer.gzipped is not None else 0
        return key.size() + len(answer.body) + compressed + len(answer.etag) + self.ENTRY_OVERHEAD
