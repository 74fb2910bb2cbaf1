"""The demo's eighth story: enclaves whose proofs are checked
(docs/reference.md#checked-proofs-enclaves-and-images).

A gateway provider publishes its image's measurements and the gateway's models; three
nodes run its image in enclaves under the demo's own root, register them, and sign
OpenGradient-format responses. Those receipts are VERIFIED; everything else in the demo
(the honest nodes' TEE and zk claims, the Sybil ring's made-up measurements) is CLAIMED.

Made at load time, not by the (deterministic) generator: RSA-PSS signatures are salted,
so they differ at every run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from graphsvc.demo.enclave_pki import DemoEnclave, EnclavePki, chat_request, nitriding_user_data
from graphsvc.domain import EntityKind
from graphsvc.records import builder
from graphsvc.records.builder import Actor

HOUR_MS = 3_600_000
GATEWAY_MODELS = ("gpt-4.1", "claude-sonnet-4-5")
ENCLAVE_NODES = 3
_PCRS = {i: bytes([0x40 + i]) * 48 for i in range(16)}


@dataclass(frozen=True)
class EnclaveStory:
    root_pem: bytes
    records: list[dict[str, Any]]
    gateway: Actor
    nodes: tuple[Actor, ...]
    enclave_ids: tuple[str, ...]


def enclave_story(end_ms: int, *, responses_per_node: int = 60) -> EnclaveStory:
    """The story's records, all signed in the hour before ``end_ms``, in dependency order."""
    start = dt.datetime.fromtimestamp((end_ms - 3 * HOUR_MS) / 1000, tz=dt.UTC)
    pki = EnclavePki(start=start, leaf_hours=4.0)
    gateway = Actor.derived("OpenGradient gateway (demo)", EntityKind.PROVIDER)
    nodes = tuple(
        Actor.derived(f"tee-gateway-{n + 1}", EntityKind.NODE) for n in range(ENCLAVE_NODES)
    )
    t0 = end_ms - 2 * HOUR_MS
    records = [builder.register(actor, t0) for actor in (gateway, *nodes)]
    records += [
        builder.publish_model(gateway, f"opengradient/{name}@gateway", "0" * 64, t0 + 1)
        for name in GATEWAY_MODELS
    ]
    image = {str(i): _PCRS[i].hex() for i in range(3)}
    records.append(builder.image(gateway, "tee-gateway (demo build)", image, t0 + 2))
    enclaves = []
    for n, node in enumerate(nodes):
        enclave = DemoEnclave()
        enclaves.append(enclave)
        at = start + dt.timedelta(minutes=30 + n)
        document = pki.document(at=at, pcrs=_PCRS, user_data=nitriding_user_data(enclave.key_der))
        records.append(builder.enclave(node, document, enclave.key_der, t0 + 10 + n))
    for n, enclave in enumerate(enclaves):
        for i in range(responses_per_node):
            model = GATEWAY_MODELS[i % len(GATEWAY_MODELS)]
            request = chat_request(model, f"demo question {n}-{i}")
            seconds = (end_ms - HOUR_MS) // 1000 + 50 * i + n
            response = enclave.respond(request, f"demo answer {n}-{i}", seconds)
            records.append({"type": "opengradient", "request": request, "response": response})
    return EnclaveStory(pki.root_pem(), records, gateway, nodes, tuple(e.id for e in enclaves))
