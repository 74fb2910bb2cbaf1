"""The test vectors of docs/integrate.md: one signed record of each simple type, made
with graphsvc's own signing from fixed seeds, so the guide can show them and the tests
can check that the guide still says what graphsvc does.

The seeds are the secret keys of RFC 8032 §7.1 (TESTs 1, 2, 3 and 1024), so the public
keys they give can be checked against the RFC's published ones (``RFC_8032_PUBLIC``).
"""

from __future__ import annotations

from typing import Any

from nacl.signing import SigningKey

from graphsvc.domain import EntityKind, FaultParty, ProofType, Verdict
from graphsvc.records.builder import Actor, attestation, dispute, image, publish_model, receipt
from graphsvc.records.builder import register as registration
from graphsvc.records.canonical import canonical_bytes, record_id
from graphsvc.records.signing import REQUESTER_UNSIGNED

TS = 1_767_225_600_000  # 2026-01-01T00:00:00Z, in milliseconds

# RFC 8032 §7.1: secret key (the seed) -> public key, hex.
RFC_8032_PUBLIC = {
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60": (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    ),
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb": (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
    ),
    "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7": (
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025"
    ),
    "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5": (
        "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e"
    ),
}
SEEDS = list(RFC_8032_PUBLIC)

MODEL = "acme/llama-3-8b@1"
INPUT = "sha256:" + "11" * 32
OUTPUT = "sha256:" + "22" * 32


def _actor(seed: str, name: str, kind: EntityKind) -> Actor:
    return Actor(SigningKey(bytes.fromhex(seed)), name, kind)


PROVIDER = _actor(SEEDS[0], "acme", EntityKind.PROVIDER)
NODE = _actor(SEEDS[1], "node-1", EntityKind.NODE)
REQUESTER = _actor(SEEDS[2], "alice", EntityKind.REQUESTER)
WITNESS = _actor(SEEDS[3], "witness-1", EntityKind.WITNESS)
SEED_OF = {a.id: seed for a, seed in zip([PROVIDER, NODE, REQUESTER, WITNESS], SEEDS, strict=True)}


def signed_records() -> list[dict[str, Any]]:
    """In an order the server accepts as one batch: who registers first, then what refers to it."""
    made = [registration(a, TS) for a in (PROVIDER, NODE, REQUESTER, WITNESS)]
    made.append(publish_model(PROVIDER, MODEL, "sha256:" + "0f" * 32, TS + 1))
    made.append(
        image(PROVIDER, "acme gateway v1", {str(i): f"{i:x}" * 96 for i in range(3)}, TS + 1)
    )
    ran = receipt(
        NODE,
        MODEL,
        INPUT,
        OUTPUT,
        TS + 2,
        proof=ProofType.TEE,
        measurement="pcr0:aa",
        requester=REQUESTER,
    )
    made.append(ran)
    made.append(
        attestation(WITNESS, record_id(ran), Verdict.INVALID, TS + 3, fault=FaultParty.NODE)
    )
    made.append(dispute(REQUESTER, record_id(ran), "the answer is not what the model says", TS + 4))
    return made


def vectors() -> list[dict[str, Any]]:
    """Per record: the signer's seed, the record, its canonical bytes, id and signature
    (for a co-signed receipt, the requester's too)."""
    found = []
    for record in signed_records():
        vector: dict[str, Any] = {
            "seed": SEED_OF[record["signer"]],
            "record": record,
            "canonical": canonical_bytes(record).decode("utf-8"),
            "id": record_id(record),
            "sig": record["sig"],
        }
        if "requester_sig" in record:
            vector["requester_seed"] = SEED_OF[record["requester"]]
            vector["requester_canonical"] = canonical_bytes(
                record, without=REQUESTER_UNSIGNED
            ).decode("utf-8")
        found.append(vector)
    return found
