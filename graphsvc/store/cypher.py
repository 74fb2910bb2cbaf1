"""Every Cypher statement graphsvc runs, in one place, parameters only.

Kept to the subset both Neo4j 5 and ArcadeDB's OpenCypher accept: no APOC, no GDS,
no vendor procedures. Labels cannot be parameters in Cypher, so statements that differ
only by label are generated once here from a fixed vocabulary, never from input.
"""

from __future__ import annotations

from graphsvc.domain import REGISTRABLE_KINDS, EntityKind

LABELS: dict[EntityKind, str] = {
    EntityKind.PROVIDER: "Provider",
    EntityKind.MODEL: "Model",
    EntityKind.NODE: "Node",
    EntityKind.WITNESS: "Witness",
    EntityKind.REQUESTER: "Requester",
}

PING = "RETURN 1 AS ok"

# ---------------------------------------------------------------- reads before ingest

# Each read looks its keys up one UNWIND row at a time, one index lookup each: ArcadeDB
# evaluates `x.id IN $ids` about five times slower per key. Rows come back collected
# into one list: the driver's per-record overhead was most of the Python time of a read.
# Every entity has the Entity label, so one lookup in its index finds any kind.
ENTITIES_BY_ID = """
UNWIND $ids AS id MATCH (e:Entity {id: id})
RETURN collect({id: e.id, kind: e.kind, record_id: e.record_id, provider: e.provider}) AS rows
"""

EXISTING_ATTESTATION_IDS = """
UNWIND $ids AS id MATCH (a:Attestation {id: id}) RETURN collect({id: a.id}) AS rows
"""

EXISTING_DISPUTE_IDS = """
UNWIND $ids AS id MATCH (d:Dispute {id: id}) RETURN collect({id: d.id}) AS rows
"""

RECEIPTS_BY_ID = """
UNWIND $ids AS id MATCH (r:Receipt {id: id})
RETURN collect({id: r.id, node: r.node, model: r.model, requester: r.requester}) AS rows
"""

ENCLAVES_BY_ID = """
UNWIND $ids AS id MATCH (e:Enclave {id: id})
RETURN collect({id: e.id, node: e.node, key: e.key, record_id: e.record_id, debug: e.debug})
  AS rows
"""

EXISTING_IMAGE_IDS = """
UNWIND $ids AS id MATCH (i:Image {id: id}) RETURN collect({id: i.id}) AS rows
"""

EXISTING_OUTPUTS = """
UNWIND $ids AS id MATCH (o:Output {id: id}) RETURN collect({id: o.id}) AS rows
"""

# A vote or claim comes back with its record's id: the statements of one read are not a
# snapshot on ArcadeDB, so a record committed by another writer between two of them can
# show up here only; it is then known as stored (a duplicate), not as a second vote.
EXISTING_VOTES = """
UNWIND $keys AS key MATCH (a:Attestation {vote: key})
RETURN collect({key: a.vote, id: a.id}) AS rows
"""

EXISTING_CLAIMS = """
UNWIND $keys AS key MATCH (d:Dispute {claim: key}) RETURN collect({key: d.claim, id: d.id}) AS rows
"""

# ---------------------------------------------------------------- ingest writes

# What every accepting write transaction stamps on the records and entities it creates:
# the ingest counter's batch number, bumped by its first statement (BUMP_INGEST_COUNTER);
# the evidence sums it changes are listed once instead (CREATE_CHANGED_EVIDENCE).
# Batches are numbered in commit order, so "what changed after batch b" is a lookup of
# the batches after b (one index lookup each: ArcadeDB does not use an index for `>`).
# Each record also gets its leaf index in the evidence log: the batch's first index
# (`log_base`, set by the same first statement) plus its offset in the batch (`row.leaf`).
_THIS_BATCH = (
    "MATCH (meta:Meta {id: 'ingest'}) WITH meta.batches AS batch, meta.log_base AS log_base"
)


def create_entities(kind: EntityKind) -> str:
    if kind not in REGISTRABLE_KINDS:
        raise ValueError(f"{kind} is not registered by a key")
    return f"""
{_THIS_BATCH}
UNWIND $rows AS row
CREATE (e:Entity:{LABELS[kind]} {{
  id: row.id, kind: row.kind, name: row.name, ts: row.ts,
  record_id: row.record_id, record: row.record, batch: batch,
  leaf: log_base + row.leaf
}})
"""


CREATE_ENTITIES: dict[EntityKind, str] = {kind: create_entities(kind) for kind in REGISTRABLE_KINDS}

CREATE_MODELS = f"""
{_THIS_BATCH}
UNWIND $rows AS row
MATCH (p:Provider {{id: row.provider}})
CREATE (m:Entity:Model {{
  id: row.id, kind: 'model', name: row.id, digest: row.digest, provider: row.provider,
  ts: row.ts, record_id: row.record_id, record: row.record, batch: batch,
  leaf: log_base + row.leaf
}})
CREATE (m)-[:PUBLISHED_BY]->(p)
"""

# Measurements a provider published for an enclave image
# (docs/reference.md#checked-proofs-enclaves-and-images).
CREATE_IMAGES = f"""
{_THIS_BATCH}
UNWIND $rows AS row
MATCH (p:Provider {{id: row.provider}})
CREATE (i:Image {{
  id: row.id, provider: row.provider, platform: row.platform, name: row.name,
  measurements: row.measurements, image: row.image, ts: row.ts, record: row.record,
  batch: batch, leaf: log_base + row.leaf
}})
CREATE (i)-[:PUBLISHED_BY]->(p)
"""

# An attested enclave, run by the node that registered it.
CREATE_ENCLAVES = f"""
{_THIS_BATCH}
UNWIND $rows AS row
MATCH (n:Node {{id: row.node}})
CREATE (e:Enclave {{
  id: row.id, node: row.node, platform: row.platform, key: row.key,
  measurements: row.measurements, image: row.image, debug: row.debug, root: row.root,
  binding: row.binding, attested_ms: row.attested_ms, ts: row.ts,
  record_id: row.record_id, record: row.record, batch: batch, leaf: log_base + row.leaf
}})
CREATE (e)-[:RUN_BY]->(n)
"""

# The Receipt node both receipt statements create (`row`, `log_base` in scope).
_CREATE_RECEIPT = """CREATE (r:Receipt {
  id: row.id, ts: row.ts, node: row.node, model: row.model, requester: row.requester,
  input_hash: row.input_hash, output_hash: row.output_hash,
  proof_type: row.proof_type, proof_status: row.proof_status, enclave: row.enclave,
  measurement: row.measurement,
  valid_by: [], invalid_by: [], record: row.record,
  leaf: log_base + row.leaf
})"""

# A receipt whose Output is new: the Output, the receipt and every edge of the Output are
# created at once. Nothing can link to an Output that does not exist yet, so CREATE is
# exact here (and several times cheaper than MERGE); a concurrent writer of the same
# Output trips its unique id and the batch is resolved again.
CREATE_OUTPUT_RECEIPTS = f"""
{_THIS_BATCH}
UNWIND $rows AS row
MATCH (m:Model {{id: row.model}}) MATCH (n:Node {{id: row.node}})
CREATE (o:Output {{id: row.output_hash, first_ts: row.ts}})
{_CREATE_RECEIPT}
CREATE (r)-[:FOR_OUTPUT]->(o), (o)-[:GENERATED_BY]->(m), (o)-[:EXECUTED_ON]->(n)
WITH o, row WHERE row.requester IS NOT NULL
MATCH (q:Requester {{id: row.requester}})
CREATE (q)-[:REQUESTED]->(o)
"""

# A receipt for an Output that already exists (a re-execution): several receipts may
# share one Output. Its edges are then merged by the LINK statements below.
CREATE_RECEIPTS = f"""
{_THIS_BATCH}
UNWIND $rows AS row
MATCH (o:Output {{id: row.output_hash}})
{_CREATE_RECEIPT}
CREATE (r)-[:FOR_OUTPUT]->(o)
"""

# Output edges exist once per (output, model/node/requester): a re-execution by another
# node adds an EXECUTED_ON edge, a repeated one adds nothing. Every MERGE pattern starts
# at the Output: ArcadeDB checks a MERGE by walking the edges of its first node, and a
# busy requester, node or model has one edge per output (a requester-first MERGE took
# milliseconds per row once requesters had thousands of outputs).
LINK_OUTPUT_MODEL = """
UNWIND $rows AS row
MATCH (o:Output {id: row.output}) MATCH (m:Model {id: row.model})
MERGE (o)-[:GENERATED_BY]->(m)
"""

LINK_OUTPUT_NODE = """
UNWIND $rows AS row
MATCH (o:Output {id: row.output}) MATCH (n:Node {id: row.node})
MERGE (o)-[:EXECUTED_ON]->(n)
"""

LINK_REQUESTER_OUTPUT = """
UNWIND $rows AS row
MATCH (o:Output {id: row.output}) MATCH (q:Requester {id: row.requester})
MERGE (o)<-[:REQUESTED]-(q)
"""

# `batch` is the ingest counter's batch number, bumped first in the same transaction:
# it orders incidents by commit for the incidents feed (see BUMP_INGEST_COUNTER).
CREATE_ATTESTATIONS = f"""
{_THIS_BATCH}
UNWIND $rows AS row
MATCH (r:Receipt {{id: row.receipt}}) MATCH (w:Witness {{id: row.witness}})
CREATE (a:Attestation {{
  id: row.id, ts: row.ts, witness: row.witness, receipt: row.receipt, vote: row.vote,
  verdict: row.verdict, fault: row.fault, party: row.party, score: row.score, note: row.note,
  record: row.record, batch: batch, leaf: log_base + row.leaf
}})
CREATE (w)-[:ATTESTED]->(a)-[:ATTESTS]->(r)
"""

# Who voted which way on a receipt (one vote per witness: Attestation.vote is unique), so
# that a listing can tell its verdict among the witnesses trusted at read time.
COUNT_VOTES = """
UNWIND $rows AS row
MATCH (r:Receipt {id: row.receipt})
SET r.valid_by = r.valid_by + row.valid, r.invalid_by = r.invalid_by + row.invalid
"""

CREATE_DISPUTES = f"""
{_THIS_BATCH}
UNWIND $rows AS row
MATCH (r:Receipt {{id: row.receipt}}) MATCH (q:Requester {{id: row.requester}})
CREATE (d:Dispute {{
  id: row.id, ts: row.ts, requester: row.requester, receipt: row.receipt, claim: row.claim,
  reason: row.reason, record: row.record, batch: batch, leaf: log_base + row.leaf
}})
CREATE (q)-[:FILED]->(d)-[:DISPUTES]->(r)
"""

# Running decayed sums, rebased to the newest event so every exponent is <= 0:
#   amount(ref) = sum(q * 2^((t - ref) / H)).
# Merging a batch sum (ref b, amount x) into a stored one (ref s, amount y) keeps the
# later reference and decays the other side to it. The rows carry no batch number: the
# batch lists the ids it changed once (CREATE_CHANGED_EVIDENCE), so changing a sum costs
# no index entry (docs/decisions/0086-evidence-changes-listed-per-batch.md).
MERGE_EVIDENCE = """
UNWIND $rows AS row
MERGE (e:Evidence {id: row.id})
ON CREATE SET e.src = row.src, e.dst = row.dst, e.channel = row.channel,
  e.ref_ms = row.ref_ms, e.amount = row.amount, e.count = row.count
ON MATCH SET
  e.amount = CASE WHEN row.ref_ms >= e.ref_ms
    THEN e.amount * 2.0 ^ (toFloat(e.ref_ms - row.ref_ms) / $half_life_ms) + row.amount
    ELSE e.amount + row.amount * 2.0 ^ (toFloat(row.ref_ms - e.ref_ms) / $half_life_ms) END,
  e.ref_ms = CASE WHEN row.ref_ms >= e.ref_ms THEN row.ref_ms ELSE e.ref_ms END,
  e.count = e.count + row.count
"""

# The ids of the evidence sums one ingest batch created or changed, one node per batch
# (unique `batch`), in the batch's transaction: what the scorer reads as changed.
CREATE_CHANGED_EVIDENCE = """
MATCH (meta:Meta {id: 'ingest'})
CREATE (:ChangedEvidence {batch: meta.batches, ids: $ids})
"""

# Receipts per proof type on each model, for accountability policies.
COUNT_PROOFS = """
UNWIND $rows AS row
MATCH (m:Model {id: row.model})
SET m.receipts_tee = coalesce(m.receipts_tee, 0) + row.tee,
    m.receipts_zk = coalesce(m.receipts_zk, 0) + row.zk,
    m.receipts_none = coalesce(m.receipts_none, 0) + row.none,
    m.receipts_tee_verified = coalesce(m.receipts_tee_verified, 0) + row.tee_verified,
    m.receipts_zk_verified = coalesce(m.receipts_zk_verified, 0) + row.zk_verified
"""

MODEL_PROOFS = """
MATCH (m:Model)
WHERE $provider IS NULL OR m.provider = $provider
RETURN m.id AS model, m.provider AS provider, coalesce(m.receipts_tee, 0) AS tee,
       coalesce(m.receipts_zk, 0) AS zk, coalesce(m.receipts_none, 0) AS none,
       coalesce(m.receipts_tee_verified, 0) AS tee_verified,
       coalesce(m.receipts_zk_verified, 0) AS zk_verified
"""

# Enclaves with the published images their measurements match
# (docs/reference.md#checked-proofs-enclaves-and-images).
ENCLAVES_WITH_IMAGES = """
UNWIND $ids AS id MATCH (e:Enclave {id: id})
OPTIONAL MATCH (i:Image {image: e.image})
WITH e, collect(i {.name, .provider, .ts}) AS images
RETURN e {.id, .node, .platform, .measurements, .attested_ms, .ts, .debug, .root, .binding,
          .record_id} AS enclave, images
"""

ENCLAVES_OF_NODE = """
MATCH (e:Enclave {node: $node}) RETURN e.id AS id ORDER BY e.ts DESC, e.id LIMIT $limit
"""

GET_META = "MATCH (m:Meta {id: $id}) RETURN m.value AS value"

SET_META = "MERGE (m:Meta {id: $id}) SET m.value = $value"

# Whether the store holds anything at all (an unversioned store is empty or foreign).
ANY_NODE = "MATCH (n) RETURN 1 AS found LIMIT 1"

# The first statement of every accepting write transaction: on Neo4j its write lock on
# the one Meta node is held until commit, so batch numbers follow commit order.
# `largest` (the most records one batch accepted) bounds how many batches one read of the
# scorer's changes may ask for.
BUMP_INGEST_COUNTER = """
MERGE (m:Meta {id: 'ingest'})
ON CREATE SET m.records = $accepted, m.batches = 1, m.last_ms = $now_ms, m.largest = $accepted
ON MATCH SET m.records = m.records + $accepted, m.batches = m.batches + 1, m.last_ms = $now_ms,
  m.largest = CASE WHEN coalesce(m.largest, 0) < $accepted THEN $accepted ELSE m.largest END
WITH m, coalesce(m.leaves, 0) AS base
SET m.log_base = base, m.leaves = base + $accepted
RETURN m.records AS records
"""

# ---------------------------------------------------------------- evidence log

# The leaf hashes of one batch's records, in leaf order (base64 of their concatenation),
# and their record ids (so an audit names a record deleted behind the log's back),
# written in the batch's transaction: the log's tree is built from these alone
# (docs/auditors.md). Unique `first` and `ingest_batch`: no leaf index is ever given twice.
CREATE_LOG_ENTRIES = """
MATCH (meta:Meta {id: 'ingest'})
CREATE (:LogEntries {
  ingest_batch: meta.batches, first: meta.log_base, size: $size, hashes: $hashes, ids: $ids
})
"""

LOG_SIZE = "MATCH (m:Meta {id: 'ingest'}) RETURN coalesce(m.leaves, 0) AS size"

# The batch holding leaf $leaf (the last before a size: the log's self-check).
LOG_ENTRIES_HOLDING = """
MATCH (l:LogEntries) WHERE l.first <= $leaf
RETURN l.ingest_batch AS batch, l.first AS first, l.size AS size, l.hashes AS hashes, l.ids AS ids
ORDER BY first DESC LIMIT 1
"""

# The batch whose leaves start at $first, then the batches after it, in order.
LOG_ENTRIES_AT = "MATCH (l:LogEntries {first: $first}) RETURN l.ingest_batch AS batch"

LOG_ENTRIES_OF_BATCHES = """
UNWIND $batches AS b MATCH (l:LogEntries {ingest_batch: b})
RETURN l.ingest_batch AS batch, l.first AS first, l.size AS size, l.hashes AS hashes, l.ids AS ids
ORDER BY batch
"""

# The stored records at some leaf indexes (entry bundles, the audit), a record's leaf
# index, and records no leaf names (written behind the log's back, or before it).
# An entity's record id is `record_id` (its `id` is the entity's).
_RECORD_ID = {
    "Entity": "record_id",
    "Receipt": "id",
    "Attestation": "id",
    "Dispute": "id",
    "Image": "id",
    "Enclave": "record_id",
}

RECORDS_AT_LEAVES: dict[str, str] = {
    label: f"UNWIND $leaves AS i MATCH (n:{label} {{leaf: i}}) "
    f"RETURN collect({{leaf: n.leaf, id: n.{key}, record: n.record}}) AS rows"
    for label, key in _RECORD_ID.items()
}

LEAF_OF_RECORD: dict[str, str] = {
    label: f"MATCH (n:{label} {{{key}: $id}}) RETURN n.leaf AS leaf"
    for label, key in _RECORD_ID.items()
}

UNLOGGED_RECORDS: dict[str, str] = {
    label: f"MATCH (n:{label}) WHERE n.leaf IS NULL AND n.record IS NOT NULL "
    f"RETURN n.{key} AS id LIMIT $limit"
    for label, key in _RECORD_ID.items()
}

INGEST_COUNTER = """
MATCH (m:Meta {id: 'ingest'})
RETURN m.records AS records, m.last_ms AS last_ms, m.batches AS batches, m.largest AS largest
"""

# A random id given to a store at its first use: files kept beside it name the store
# they were made from, so a store that was wiped or replaced is not mistaken for it.
STORE_ID = """
MERGE (m:Meta {id: 'store'}) ON CREATE SET m.value = $new_id RETURN m.value AS id
"""

# ---------------------------------------------------------------- attribution trail

# Through the Output's FOR_OUTPUT edges (every receipt has one, to its output): an
# index on Receipt.output_hash would cost every ingested receipt an entry (issue 23).
RECEIPTS_FOR_OUTPUT = """
MATCH (:Output {id: $hash})<-[:FOR_OUTPUT]-(r:Receipt)
RETURN r.id AS id ORDER BY r.ts, r.id LIMIT $limit
"""

# One index lookup per id (UNWIND, as the reads before ingest do): `r.id IN $ids` made
# ArcadeDB scan every receipt, 0.2 s for a page at 20k receipts (bench/api_lists.py).
RECEIPT_TRAIL = """
UNWIND $ids AS id MATCH (r:Receipt {id: id})
OPTIONAL MATCH (m:Model {id: r.model})
OPTIONAL MATCH (a:Attestation {receipt: r.id})
WITH r, m, collect(a {.id, .ts, .witness, .verdict, .score, .fault, .note, .leaf}) AS attestations
OPTIONAL MATCH (d:Dispute {receipt: r.id})
RETURN r {.id, .ts, .node, .model, .requester, .input_hash, .output_hash, .proof_type,
          .measurement, .proof_status, .enclave, .record, .leaf} AS receipt,
       m.provider AS provider, attestations,
       collect(d {.id, .ts, .requester, .reason, .leaf}) AS disputes
"""

# Any kind through the Entity label's index, one lookup per id.
ENTITIES_INFO = """
UNWIND $ids AS id MATCH (e:Entity {id: id})
RETURN e.id AS id, e.kind AS kind, e.name AS name, e.ts AS ts, e.provider AS provider,
       e.digest AS digest
"""

# Entities whose name contains $text, by (name, id), after ($after_name, $after_id) if
# given (search pages by key, like the lists below). A scan: names are not indexed for
# CONTAINS; the text is at most 200 characters.
_SEARCH_WHERE = "MATCH (e:{label}) WHERE toLower(e.name) CONTAINS toLower($text)"

SEARCH_ENTITIES: dict[EntityKind, str] = {
    kind: _SEARCH_WHERE.format(label=label) + " AND ($after_name IS NULL OR e.name > $after_name"
    " OR (e.name = $after_name AND e.id > $after_id)) "
    "RETURN e.id AS id, e.kind AS kind, e.name AS name, e.ts AS ts, e.provider AS provider, "
    "e.digest AS digest ORDER BY e.name, e.id LIMIT $limit"
    for kind, label in LABELS.items()
}

SEARCH_COUNT: dict[EntityKind, str] = {
    kind: _SEARCH_WHERE.format(label=label) + " RETURN count(e) AS n"
    for kind, label in LABELS.items()
}

# The network's counts and the ingest counter in one statement: dashboards poll it, and
# one round trip costs the store less than nine.
_RECORD_COUNTS = {
    "receipts": "Receipt",
    "outputs": "Output",
    "attestations": "Attestation",
    "disputes": "Dispute",
}
COUNT_COLUMN: dict[EntityKind, str] = {kind: f"{kind.value}_entities" for kind in LABELS}
COUNTS = (
    "\n".join(
        f"CALL {{ MATCH (n:{label}) RETURN count(n) AS {column} }}"
        for column, label in [
            *_RECORD_COUNTS.items(),
            *((COUNT_COLUMN[kind], label) for kind, label in LABELS.items()),
        ]
    )
    + "\nOPTIONAL MATCH (m:Meta {id: 'ingest'})\nRETURN "
    + ", ".join([*_RECORD_COUNTS, *COUNT_COLUMN.values()])
    + ", m.records AS records, m.last_ms AS last_ms, m.batches AS batches, m.largest AS largest"
)

# ---------------------------------------------------------------- paged lists

# Lists of signed records, paged by key (docs/decisions/0048-keyset-pages.md): ordered by
# (ts, id), a page starts after the (ts, id) of the last record the reader saw ($after_ts,
# $after_id; null for the first page), within [$from_ms, $to_ms] (null: unbounded), and
# reads one row more than the page to know whether another follows. Directions cannot be
# parameters, so each list has a statement per direction.
_WINDOW = "($from_ms IS NULL OR {x}.ts >= $from_ms) AND ($to_ms IS NULL OR {x}.ts <= $to_ms)"
_AFTER = (
    "($after_ts IS NULL OR {x}.ts {op} $after_ts OR ({x}.ts = $after_ts AND {x}.id {op} $after_id))"
)
_DIRECTIONS = {True: ("<", "DESC"), False: (">", "")}

# A receipt's verdict among the witnesses in $trusted (docs/decisions/0070-standing.md), as
# ReceiptTrail.verdict computes it from the votes.
_TRUSTED_VALID = "size([w IN r.valid_by WHERE w IN $trusted])"
_TRUSTED_INVALID = "size([w IN r.invalid_by WHERE w IN $trusted])"
_RECEIPT_VERDICT = f"""CASE
  WHEN {_TRUSTED_VALID} + {_TRUSTED_INVALID} = 0 THEN 'unverified'
  WHEN {_TRUSTED_VALID} = {_TRUSTED_INVALID} THEN 'contested'
  WHEN {_TRUSTED_VALID} > {_TRUSTED_INVALID} THEN 'valid'
  ELSE 'invalid' END"""

# Whose receipts: the node that signed them, the model they ran, the requester who
# co-signed them (for a provider: its models, several parties).
RECEIPT_PARTIES = ("node", "model", "requester")


def _receipts_where(party: str) -> str:
    if party not in RECEIPT_PARTIES:
        raise ValueError(f"receipts are not listed by {party}")
    return f"""UNWIND $parties AS party MATCH (r:Receipt {{{party}: party}})
WHERE {_WINDOW.format(x="r")}
  AND ($verdicts IS NULL OR {_RECEIPT_VERDICT} IN $verdicts)"""


RECEIPTS_PAGE: dict[tuple[str, bool], str] = {
    (party, newest): f"""{_receipts_where(party)}
  AND {_AFTER.format(x="r", op=op)}
RETURN r.id AS id ORDER BY r.ts {desc}, r.id {desc} LIMIT $limit"""
    for party in RECEIPT_PARTIES
    for newest, (op, desc) in _DIRECTIONS.items()
}

RECEIPTS_COUNT: dict[str, str] = {
    party: f"{_receipts_where(party)}\nRETURN count(r) AS n" for party in RECEIPT_PARTIES
}

_ATTESTATION_FIELDS = ".id, .ts, .witness, .receipt, .verdict, .score, .fault, .note, .leaf"
_ATTESTATIONS_WHERE = f"""MATCH (a:Attestation {{witness: $witness}})
WHERE {_WINDOW.format(x="a")} AND ($verdicts IS NULL OR a.verdict IN $verdicts)"""

ATTESTATIONS_BY_WITNESS: dict[bool, str] = {
    newest: f"""{_ATTESTATIONS_WHERE} AND {_AFTER.format(x="a", op=op)}
RETURN a {{{_ATTESTATION_FIELDS}}} AS attestation ORDER BY a.ts {desc}, a.id {desc} LIMIT $limit"""
    for newest, (op, desc) in _DIRECTIONS.items()
}

ATTESTATIONS_BY_WITNESS_COUNT = f"{_ATTESTATIONS_WHERE}\nRETURN count(a) AS n"

_DISPUTE_FIELDS = ".id, .ts, .requester, .receipt, .reason, .leaf"
_DISPUTES_WHERE = f"MATCH (d:Dispute {{requester: $requester}}) WHERE {_WINDOW.format(x='d')}"

DISPUTES_BY_REQUESTER: dict[bool, str] = {
    newest: f"""{_DISPUTES_WHERE} AND {_AFTER.format(x="d", op=op)}
RETURN d {{{_DISPUTE_FIELDS}}} AS dispute ORDER BY d.ts {desc}, d.id {desc} LIMIT $limit"""
    for newest, (op, desc) in _DIRECTIONS.items()
}

DISPUTES_BY_REQUESTER_COUNT = f"{_DISPUTES_WHERE}\nRETURN count(d) AS n"

# ---------------------------------------------------------------- scorer input

# What changed in the ingest batches $batches (a list of batch numbers), for the scorer's
# kept evidence. Columnar (one row of lists): over Bolt this is several times faster than
# a row each; callers ask for few enough batches that no list passes ArcadeDB's cap on one
# collect() (524,288 elements).
ENTITIES_IN_BATCHES = """
UNWIND $batches AS b MATCH (e:Entity {batch: b})
RETURN collect(e.id) AS id, collect(e.kind) AS kind, collect(coalesce(e.provider, '')) AS provider
"""

# A sum changed by several of the batches is read once, as it stands now: the scorer
# replaces a kept sum by its latest reading.
EVIDENCE_IN_BATCHES = """
UNWIND $batches AS b MATCH (c:ChangedEvidence {batch: b})
UNWIND c.ids AS changed WITH DISTINCT changed
MATCH (e:Evidence {id: changed})
RETURN collect(e.id) AS id, collect(e.src) AS src, collect(e.dst) AS dst,
       collect(e.channel) AS channel, collect(e.ref_ms) AS ref_ms, collect(e.amount) AS amount
"""

# The invalid verdicts of those batches with the party each blames, and the receipts any
# attestation of those batches concerns (their votes changed).
ACCUSATIONS_IN_BATCHES = """
UNWIND $batches AS b MATCH (a:Attestation {batch: b}) WHERE a.verdict = 'invalid'
RETURN collect(a.id) AS id, collect(a.receipt) AS receipt, collect(a.witness) AS witness,
       collect(a.party) AS party, collect(a.ts) AS ts, collect(a.score) AS score
"""

VOTED_RECEIPTS_IN_BATCHES = """
UNWIND $batches AS b MATCH (a:Attestation {batch: b}) RETURN collect(DISTINCT a.receipt) AS id
"""

DISPUTES_IN_BATCHES = """
UNWIND $batches AS b MATCH (d:Dispute {batch: b})
RETURN collect(d.id) AS id, collect(d.receipt) AS receipt, collect(d.requester) AS requester,
       collect(d.ts) AS ts
"""

# All votes on some receipts, and whether each is disputed: the scorer keeps the votes of
# receipts whose witnesses disagree or that someone disputes.
VOTES_ON_RECEIPTS = """
UNWIND $receipts AS id MATCH (a:Attestation {receipt: id})
RETURN collect(a.receipt) AS receipt, collect(a.witness) AS witness,
       collect(a.verdict) AS verdict, collect(a.ts) AS ts
"""

# Invalid attestations blaming any of $parties (a node, or a provider's models), paged
# like the lists above, each with every vote on its receipt: whether it stands depends
# on them.
_INCIDENTS_WHERE = f"""UNWIND $parties AS party MATCH (a:Attestation {{party: party}})
WHERE a.verdict = 'invalid' AND {_WINDOW.format(x="a")}"""

INCIDENTS: dict[bool, str] = {
    newest: f"""{_INCIDENTS_WHERE} AND {_AFTER.format(x="a", op=op)}
WITH a ORDER BY a.ts {desc}, a.id {desc} LIMIT $limit
OPTIONAL MATCH (v:Attestation {{receipt: a.receipt}})
RETURN a.id AS id, a.ts AS ts, a.witness AS witness, a.receipt AS receipt, a.party AS party,
       a.fault AS fault, a.note AS note, a.batch AS batch, a.leaf AS leaf,
       collect(v {{.witness, .verdict, .ts}}) AS votes
ORDER BY ts {desc}, id {desc}"""
    for newest, (op, desc) in _DIRECTIONS.items()
}

INCIDENTS_COUNT = f"{_INCIDENTS_WHERE}\nRETURN count(a) AS n"

# Invalid attestations committed after position ($after_batch, $after_id), in commit
# order: the incidents feed.
INCIDENTS_AFTER = """
MATCH (a:Attestation {verdict: 'invalid'})
WHERE a.batch > $after_batch OR (a.batch = $after_batch AND a.id > $after_id)
WITH a ORDER BY a.batch, a.id LIMIT $limit
OPTIONAL MATCH (v:Attestation {receipt: a.receipt})
RETURN a.id AS id, a.ts AS ts, a.witness AS witness, a.receipt AS receipt, a.party AS party,
       a.fault AS fault, a.note AS note, a.batch AS batch, a.leaf AS leaf,
       collect(v {.witness, .verdict, .ts}) AS votes
ORDER BY batch, id
"""

# ---------------------------------------------------------------- score snapshots

SNAPSHOT_FIELDS = (
    "s {.id, .as_of_ms, .created_ms, .params, .evidence_digest, .records, .entities,"
    " .iterations, .residual, .log_size, .log_root, .seeds} AS snapshot"
)

CREATE_SNAPSHOT = """
CREATE (s:Snapshot {
  id: $id, as_of_ms: $as_of_ms, created_ms: $created_ms, params: $params,
  evidence_digest: $evidence_digest, records: $records, entities: $entities,
  iterations: $iterations, residual: $residual, shards: $shards,
  evidence_form: $evidence_form, parent: $parent, seeds: $seeds,
  log_size: $log_size, log_root: $log_root
})
"""

# How a snapshot keeps its evidence (see domain/score_snapshots.py SnapshotEvidence).
SNAPSHOT_EVIDENCE_FORM = """
MATCH (s:Snapshot {id: $id})
RETURN s.evidence_form AS form, s.parent AS parent, s.seeds AS seeds
"""

SNAPSHOT_CHILD = "MATCH (s:Snapshot {parent: $id}) RETURN s.id AS id"

SET_SNAPSHOT_EVIDENCE = """
MATCH (s:Snapshot {id: $id}) SET s.evidence_form = $evidence_form, s.parent = $parent
"""

# A snapshot's scores, a shard of entities per node (see store/score_shards.py).
CREATE_SCORE_SHARDS = """
UNWIND $rows AS row
CREATE (:ScoreShard {
  id: row.id, snapshot: row.snapshot, shard: row.shard, figures: row.figures,
  breakdowns: row.breakdowns
})
"""

# Only the newest snapshot keeps its breakdowns (replicas load them); an older one's are
# recomputed from its evidence when someone asks
# (docs/decisions/0035-newest-snapshot-keeps-breakdowns.md,
# docs/decisions/0036-scores-as-columns.md). Shards of JSON kept them on the shard; since,
# the whole table is kept in parts.
FORGET_BREAKDOWNS = "MATCH (p:ScoreShard {snapshot: $id}) SET p.breakdowns = null"

CREATE_TABLE_PARTS = """
UNWIND $rows AS row
CREATE (:TablePart {id: row.id, snapshot: row.snapshot, seq: row.seq, blob: row.blob})
"""

TABLE_PARTS = """
MATCH (p:TablePart {snapshot: $id}) RETURN p.seq AS seq, p.blob AS blob ORDER BY p.seq
"""

DELETE_TABLE_PARTS = "MATCH (p:TablePart {snapshot: $id}) DELETE p"

# The snapshots an entity's history pages through: one per time, the latest computed.
HISTORY_SNAPSHOTS = """
MATCH (s:Snapshot) WHERE s.as_of_ms >= $from_ms AND s.as_of_ms <= $to_ms
RETURN s.id AS id, s.as_of_ms AS as_of_ms, s.shards AS shards
ORDER BY s.as_of_ms, s.created_ms DESC
LIMIT $limit
"""

SNAPSHOT_FIGURES = "MATCH (p:ScoreShard {snapshot: $id}) RETURN p.figures AS figures"

HISTORY_FIGURES = """
UNWIND $ids AS id MATCH (p:ScoreShard {id: id}) RETURN p.id AS id, p.figures AS figures
"""

# A snapshot's evidence archive, cut into parts well under one Bolt message (ArcadeDB
# never answers a message over 16 MiB).
CREATE_SNAPSHOT_PARTS = """
UNWIND $rows AS row
CREATE (:SnapshotPart {id: row.id, snapshot: row.snapshot, seq: row.seq, blob: row.blob})
"""

SNAPSHOT_PARTS = """
MATCH (p:SnapshotPart {snapshot: $id}) RETURN p.seq AS seq, p.blob AS blob ORDER BY p.seq
"""

SNAPSHOT_BY_ID = f"MATCH (s:Snapshot {{id: $id}}) RETURN {SNAPSHOT_FIELDS}"

LATEST_SNAPSHOT = f"""
MATCH (s:Snapshot) RETURN {SNAPSHOT_FIELDS}
ORDER BY s.as_of_ms DESC, s.created_ms DESC LIMIT 1
"""

SNAPSHOT_IN_FORCE = f"""
MATCH (s:Snapshot) WHERE s.as_of_ms <= $as_of_ms RETURN {SNAPSHOT_FIELDS}
ORDER BY s.as_of_ms DESC, s.created_ms DESC LIMIT 1
"""

SNAPSHOTS_AT = f"""
MATCH (s:Snapshot {{as_of_ms: $as_of_ms}}) RETURN {SNAPSHOT_FIELDS}
ORDER BY s.created_ms DESC
"""

SNAPSHOT_LIST = f"""
MATCH (s:Snapshot) RETURN {SNAPSHOT_FIELDS} ORDER BY s.as_of_ms DESC, s.created_ms DESC
LIMIT $limit
"""

ALL_SNAPSHOTS = f"""
MATCH (s:Snapshot) RETURN {SNAPSHOT_FIELDS} ORDER BY s.as_of_ms DESC, s.created_ms DESC
"""

# Retention removes a snapshot: first the Snapshot node, so no reader finds it any more,
# then its shards, tables and evidence.
DELETE_SNAPSHOT = "MATCH (s:Snapshot {id: $id}) DELETE s"

DELETE_SNAPSHOT_PARTS = "MATCH (p:SnapshotPart {snapshot: $id}) DELETE p"

DELETE_SCORE_SHARDS = "MATCH (p:ScoreShard {snapshot: $id}) DELETE p"
