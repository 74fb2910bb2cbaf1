"""GraphQL documents that explode, fuzzed (hypothesis, seeded): fragments spreading
fragments several times, aliases and nesting hidden in them, cycles. The depth and
alias rules (api/document_limits.py) measure each fragment once; they must count exactly
what strawberry's rules count by walking every path (the oracle, on documents small
enough for it), and every document must be answered or refused with a named limit,
never with an internal error, over the real store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from graphql import GraphQLError, parse, specified_rules, validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from strawberry.extensions.max_aliases import create_validator as strawberry_alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as strawberry_depth_rule

from graphsvc.api.document_limits import document_limit_rule
from graphsvc.api.schema import build_schema
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from tests.api_client import serving
from tests.network import T0
from tests.store_state import store_digest

MAX_DEPTH = 6
MAX_ALIASES = 12
LIMITS = Settings(max_query_depth=MAX_DEPTH, max_query_aliases=MAX_ALIASES)

FIELDS = [
    "seeds { ids }",
    "networkStats { records entities { kind count } }",
    "snapshots(first: 2) { items { id } }",
    'entity(id: "x") { id receipts(first: 1) { items { model { provider { id } } } } }',
    'entity(id: "x") { receipts(first: 1) { items { model { provider {'
    " receipts(first: 1) { items { id } } } } } } }",
    '__typename __type(name: "Query") { fields { type { ofType { ofType { name } } } } }',
]


def doubling_chain(levels: int, *, alias: bool) -> str:
    """``fragment Fk on Query {...Fk-1 ...Fk-1}``: 2**levels paths through the document."""
    bottom = f"fragment F0 on Query {{ {'a: ' if alias else ''}seeds {{ ids }} }}"
    chain = [f"fragment F{k} on Query{{...F{k - 1} ...F{k - 1}}}" for k in range(1, levels + 1)]
    return "\n".join([f"query Chain {{ ...F{levels} }}", bottom, *chain])


@st.composite
def exploding_documents(draw: st.DrawFn) -> str:
    """Fragments F0..Fn, each with fields (some aliased, some too deep) and spreads of
    earlier fragments, several times over, some inside inline fragments; sometimes a
    cycle."""
    count = draw(st.integers(1, 7))
    fragments = []
    for k in range(count):
        parts = []
        for _ in range(draw(st.integers(0, 2))):
            field = draw(st.sampled_from(FIELDS))
            if draw(st.booleans()):
                field = f"a{draw(st.integers(0, 99))}: {field}"
            parts.append(field)
        if k:
            for _ in range(draw(st.integers(1, 3))):
                parts.append(f"...F{draw(st.integers(0, k - 1))}")
        if draw(st.integers(0, 9)) == 0:
            parts.append(f"...F{draw(st.integers(k, count - 1))}")  # a cycle, or a self-spread
        if draw(st.booleans()):
            parts = [f"... on Query {{ {' '.join(parts)} }}"] if parts else []
        fragments.append(f"fragment F{k} on Query {{ {' '.join(parts) or '__typename'} }}")
    top = draw(
        st.lists(st.sampled_from([f"...F{k}" for k in range(count)]), min_size=1, max_size=3)
    )
    return "\n".join([f"query Fuzz {{ {' '.join(top)} }}", *fragments])


def _messages(errors: list[GraphQLError]) -> set[str]:
    return {e.message for e in errors}


@settings(max_examples=300)
@given(document=exploding_documents())
def test_the_limits_count_what_walking_every_path_counts(document: str) -> None:
    schema = build_schema(LIMITS)._schema
    parsed = parse(document)
    ours = validate(schema, parsed, [document_limit_rule(MAX_DEPTH, MAX_ALIASES)])
    if any("Cannot spread fragment" in m for m in _messages(validate(schema, parsed))):
        return  # a cycle: the standard rules refuse it; ours only has to finish
    oracle = validate(
        schema,
        parsed,
        [strawberry_depth_rule(MAX_DEPTH, None, None), strawberry_alias_rule(MAX_ALIASES)],
    )
    assert _messages(ours) == _messages(oracle), document


@pytest.fixture
def client(clean_graph: BoltEndpoint) -> Iterator[tuple[TestClient, GraphStore]]:
    with serving(clean_graph, LIMITS, T0, []) as client, GraphStore(clean_graph) as store:
        yield client, store


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=exploding_documents())
def test_exploding_documents_are_answered_or_refused_by_validation(
    client: tuple[TestClient, GraphStore], document: str
) -> None:
    http, store = client
    before = store_digest(store)
    body = http.post("/graphql", json={"query": document}).json()
    for error in body.get("errors") or []:
        assert error["message"] != "Unexpected error.", (document, error)
    # A refusal is what validation says of the document, our limits included.
    rules = [*specified_rules, document_limit_rule(MAX_DEPTH, MAX_ALIASES)]
    named = _messages(validate(build_schema(LIMITS)._schema, parse(document), rules))
    refused = {e["message"] for e in body.get("errors") or [] if "path" not in e}
    assert refused <= named, (document, body)
    assert body.get("data") is not None or refused, body
    assert store_digest(store) == before


def test_a_forty_level_doubling_chain_is_answered_or_refused(
    client: tuple[TestClient, GraphStore],
) -> None:
    # 2**40 paths: walking them would not finish, so finishing at all shows each
    # fragment was measured once (by the limits, then by the cost, which refuses it).
    http, _ = client
    assert len(doubling_chain(40, alias=False)) < 1_600
    costly = http.post("/graphql", json={"query": doubling_chain(40, alias=False)}).json()
    assert costly["errors"][0]["extensions"]["cost"] == 2**40, costly
    # Within the budget, it is answered: execution merges the copies.
    answered = http.post("/graphql", json={"query": doubling_chain(12, alias=False)}).json()
    assert "errors" not in answered and isinstance(answered["data"]["seeds"]["ids"], list), answered
    refused = http.post("/graphql", json={"query": doubling_chain(40, alias=True)}).json()
    assert refused["errors"][0]["message"] == f"{2**40} aliases found. Allowed: {MAX_ALIASES}"
    assert refused.get("data") is None
