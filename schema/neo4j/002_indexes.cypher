// Lookups the API and the scorer make by something other than id.
CREATE INDEX entity_id IF NOT EXISTS FOR (n:Entity) ON (n.id);
CREATE INDEX receipt_contested IF NOT EXISTS FOR (n:Receipt) ON (n.contested);
CREATE INDEX attestation_receipt IF NOT EXISTS FOR (n:Attestation) ON (n.receipt);
CREATE INDEX attestation_party IF NOT EXISTS FOR (n:Attestation) ON (n.party);
CREATE INDEX attestation_verdict IF NOT EXISTS FOR (n:Attestation) ON (n.verdict);
CREATE INDEX dispute_receipt IF NOT EXISTS FOR (n:Dispute) ON (n.receipt);
CREATE INDEX snapshot_as_of IF NOT EXISTS FOR (n:Snapshot) ON (n.as_of_ms);
// What changed in an ingest batch, for the scorer's kept evidence (docs/reference.md#snapshots-and-reproduction).
CREATE INDEX entity_batch IF NOT EXISTS FOR (n:Entity) ON (n.batch);
CREATE INDEX evidence_batch IF NOT EXISTS FOR (n:Evidence) ON (n.batch);
CREATE INDEX attestation_batch IF NOT EXISTS FOR (n:Attestation) ON (n.batch);
CREATE INDEX dispute_batch IF NOT EXISTS FOR (n:Dispute) ON (n.batch);
CREATE INDEX snapshot_part_snapshot IF NOT EXISTS FOR (n:SnapshotPart) ON (n.snapshot);
CREATE INDEX table_part_snapshot IF NOT EXISTS FOR (n:TablePart) ON (n.snapshot);
CREATE INDEX score_shard_snapshot IF NOT EXISTS FOR (n:ScoreShard) ON (n.snapshot);
CREATE INDEX snapshot_parent IF NOT EXISTS FOR (n:Snapshot) ON (n.parent);
// The evidence log: records by leaf index (entry bundles, audit), entities by record id.
CREATE INDEX entity_leaf IF NOT EXISTS FOR (n:Entity) ON (n.leaf);
CREATE INDEX receipt_leaf IF NOT EXISTS FOR (n:Receipt) ON (n.leaf);
CREATE INDEX attestation_leaf IF NOT EXISTS FOR (n:Attestation) ON (n.leaf);
CREATE INDEX dispute_leaf IF NOT EXISTS FOR (n:Dispute) ON (n.leaf);
CREATE INDEX entity_record_id IF NOT EXISTS FOR (n:Entity) ON (n.record_id);
// Paged lists (docs/decisions/0048-keyset-pages.md): an entity's receipts, a witness's attestations,
// a requester's disputes.
CREATE INDEX receipt_node IF NOT EXISTS FOR (n:Receipt) ON (n.node);
CREATE INDEX receipt_model IF NOT EXISTS FOR (n:Receipt) ON (n.model);
CREATE INDEX receipt_requester IF NOT EXISTS FOR (n:Receipt) ON (n.requester);
CREATE INDEX attestation_witness IF NOT EXISTS FOR (n:Attestation) ON (n.witness);
CREATE INDEX dispute_requester IF NOT EXISTS FOR (n:Dispute) ON (n.requester);
// Enclaves a node runs; images by their measurements; the log's leaves and record ids.
CREATE INDEX enclave_node IF NOT EXISTS FOR (n:Enclave) ON (n.node);
CREATE INDEX image_image IF NOT EXISTS FOR (n:Image) ON (n.image);
CREATE INDEX enclave_leaf IF NOT EXISTS FOR (n:Enclave) ON (n.leaf);
CREATE INDEX image_leaf IF NOT EXISTS FOR (n:Image) ON (n.leaf);
CREATE INDEX enclave_record_id IF NOT EXISTS FOR (n:Enclave) ON (n.record_id);
