"""The test vectors of docs/integrate.md: one signed record of each type, made with
graphsvc's own signing from fixed seeds, so the guide can show them and the tests can
check that the guide still says what graphsvc does.

The seeds are the secret keys of RFC 8032 §7.1 (TESTs 1, 2, 3 and 1024), so the public
keys they give can be checked against the RFC's published ones (``RFC_8032_PUBLIC``).

The ``enclave`` and ``opengradient`` records carry an attestation document and a gateway
response whose ECDSA and RSA-PSS signatures are salted, so they cannot be made again
byte for byte: they were made once by ``python -m tests.integrate_vectors`` (a Nitro-shaped
document under a private root, by graphsvc.demo.enclave_pki, and a response signed by
tests/independent_gateway.py) and are kept in ``ENCLAVE_FILE``, root included.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from graphsvc.demo.enclave_pki import EnclavePki, chat_request
from graphsvc.domain import EntityKind, FaultParty, ProofType, Verdict
from graphsvc.proofs import gateway_message, keccak256, request_hash
from graphsvc.records.builder import (
    Actor,
    attestation,
    dispute,
    enclave,
    image,
    publish_model,
    receipt,
)
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
GATEWAY_MODEL = "gpt-4.1"  # the gateway's name; graphsvc's model is opengradient/gpt-4.1@gateway
PCRS = {str(i): f"{i:x}" * 96 for i in range(3)}  # the image's PCR0-2, which the enclave runs
ENCLAVE_FILE = Path(__file__).resolve().parent / "data" / "integrate" / "enclave.json"


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
    made.append(image(PROVIDER, "acme gateway v1", PCRS, TS + 1))
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
    made.append(publish_model(PROVIDER, f"opengradient/{GATEWAY_MODEL}@gateway", "0" * 64, TS + 5))
    kept = enclave_material()
    document, key = (base64.b64decode(kept[k]) for k in ("attestation", "key"))
    made.append(enclave(NODE, document, key, TS + 6))
    return made


def enclave_material() -> dict[str, Any]:
    """The kept document, enclave key, root and gateway response (see the module's doc)."""
    found: dict[str, Any] = json.loads(ENCLAVE_FILE.read_text(encoding="utf-8"))
    return found


def gateway_vector() -> dict[str, Any]:
    """The opengradient record (sent after ``signed_records()``) and every step of its
    check: the enclave key it is verified with (the enclave record's), the request as
    hashed, both keccak256 hashes and the message the enclave signed."""
    kept = enclave_material()
    request, response = kept["request"], kept["response"]
    asked = request_hash(request)
    answered = keccak256(response["choices"][0]["message"]["content"].encode("utf-8"))
    return {
        "key": kept["key"],
        "record": {"type": "opengradient", "request": request, "response": response},
        "hashed_request": json.dumps(request, sort_keys=True),
        "request_hash": asked.hex(),
        "output_hash": answered.hex(),
        "message": gateway_message(asked, answered, response["tee_timestamp"]).hex(),
    }


def make_enclave_material() -> dict[str, Any]:
    """A new document, key and response, bound together and timed around ``TS``: the
    document 10 minutes before the enclave's registration (TS + 6 ms), the response a
    minute after it."""
    from tests import independent_gateway

    start = dt.datetime.fromtimestamp(TS / 1000, tz=dt.UTC) - dt.timedelta(hours=1)
    pki = EnclavePki(start=start, leaf_hours=4.0, name="integrate-guide")
    key = independent_gateway.new_key()
    key_der = independent_gateway.key_der(key)
    pcrs = {i: bytes.fromhex(PCRS[str(i)]) if str(i) in PCRS else bytes(48) for i in range(16)}
    document = pki.document(at=start + dt.timedelta(minutes=50), pcrs=pcrs, public_key=key_der)
    request = chat_request(GATEWAY_MODEL, "What is the capital of France?")
    answer = "The capital of France is Paris."
    response = independent_gateway.respond(key, request, answer, TS // 1000 + 60)
    return {
        "_note": "made by `python -m tests.integrate_vectors`; see tests/integrate_vectors.py",
        "root_pem": pki.root_pem().decode("ascii"),
        "attestation": base64.b64encode(document).decode("ascii"),
        "key": base64.b64encode(key_der).decode("ascii"),
        "request": request,
        "response": response,
    }


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


if __name__ == "__main__":
    ENCLAVE_FILE.parent.mkdir(parents=True, exist_ok=True)
    ENCLAVE_FILE.write_text(json.dumps(make_enclave_material(), indent=2) + "\n")
    print(f"wrote {ENCLAVE_FILE}; now update docs/integrate.md's enclave vectors")
