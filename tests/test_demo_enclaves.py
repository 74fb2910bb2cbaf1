"""The demo's enclave story (graphsvc/demo/enclave_story.py): its nodes' enclaves verify
under the demo's root, their gateway responses become VERIFIED receipts, and the image the
gateway published is recognised."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from graphsvc.api.app import create_app
from graphsvc.demo.enclave_story import enclave_story
from graphsvc.demo.load import trusted_enclave_story
from graphsvc.services import running_services
from graphsvc.settings import Settings
from graphsvc.store.endpoint import BoltEndpoint
from graphsvc.store.graph_store import GraphStore
from tests.doc_blocks import API_DOC, section
from tests.network import T0

END = T0 + 90 * 86_400_000


def test_the_story_loads_as_verified_receipts_of_its_nodes(
    embedded_endpoint: BoltEndpoint, clean_graph: None, tmp_path: Any
) -> None:
    settings = Settings(snapshot_refresh=0, data=tmp_path)
    with (
        GraphStore(embedded_endpoint) as store,
        running_services(settings, store=store, clock=lambda: END) as services,
    ):
        # Without the demo's root, its enclaves are refused for their root.
        story = enclave_story(END, responses_per_node=2)
        refused = [r.reason or "" for r in services.ingestor.submit(story.records)]
        assert any("root" in reason for reason in refused)

    with (
        GraphStore(embedded_endpoint) as store,
        running_services(settings, store=store, clock=lambda: END) as services,
    ):
        story = trusted_enclave_story(services, END)
        assert (tmp_path / "demo" / "demo-tee-root.pem").is_file()
        assert all(r.reason is None for r in services.ingestor.submit(story.records))
        services.scorer.recompute()
        mixes = {m.model: m for m in services.attribution.proof_mixes()}
        gateway = [m for name, m in mixes.items() if name.startswith("opengradient/")]
        assert sum(m.tee_verified for m in gateway) == 3 * 60
        enclaves = [
            enclave
            for node in story.nodes  # derived keys: the same nodes at every load
            for enclave in services.attribution.node_enclaves(node.id, 5)
        ]
        assert len(enclaves) == 3
        assert {str(e.image_status) for e in enclaves} == {"known"}

        # docs/api.md's query for the story answers with the verified gateway models.
        with TestClient(create_app(services)) as client:
            body = client.post("/graphql", json={"query": documented_enclave_query()}).json()
        assert "errors" not in body, body
        [offer] = body["data"]["recommendProviders"]
        assert offer["reputation"]["entity"]["name"] == "OpenGradient gateway (demo)"
        assert {m["proofs"]["teeVerified"] for m in offer["models"]} == {90}
        [node] = body["data"]["search"]["items"]
        assert node["enclaves"][0]["imageStatus"] == "KNOWN"
        assert node["receipts"]["items"][0]["proof"]["status"] == "VERIFIED"


def documented_enclave_query() -> str:
    text = section(API_DOC, "Checked proofs")
    return text[text.index("On the demo (`serve --demo`)") :].split("```\n", 2)[1]
