// Uniqueness of every graph id; applied at start, one statement per line-group, idempotent.
// Kept to the subset Neo4j 5 and ArcadeDB's OpenCypher both accept.
CREATE CONSTRAINT provider_id IF NOT EXISTS FOR (n:Provider) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT node_id IF NOT EXISTS FOR (n:Node) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT witness_id IF NOT EXISTS FOR (n:Witness) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT requester_id IF NOT EXISTS FOR (n:Requester) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT model_id IF NOT EXISTS FOR (n:Model) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT output_id IF NOT EXISTS FOR (n:Output) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT receipt_id IF NOT EXISTS FOR (n:Receipt) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT attestation_id IF NOT EXISTS FOR (n:Attestation) REQUIRE n.id IS UNIQUE;
// One vote per witness per receipt, one dispute per requester per receipt.
CREATE CONSTRAINT attestation_vote IF NOT EXISTS FOR (n:Attestation) REQUIRE n.vote IS UNIQUE;
CREATE CONSTRAINT dispute_id IF NOT EXISTS FOR (n:Dispute) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT dispute_claim IF NOT EXISTS FOR (n:Dispute) REQUIRE n.claim IS UNIQUE;
CREATE CONSTRAINT evidence_id IF NOT EXISTS FOR (n:Evidence) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT meta_id IF NOT EXISTS FOR (n:Meta) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT snapshot_id IF NOT EXISTS FOR (n:Snapshot) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT snapshot_part_id IF NOT EXISTS FOR (n:SnapshotPart) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT table_part_id IF NOT EXISTS FOR (n:TablePart) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT score_shard_id IF NOT EXISTS FOR (n:ScoreShard) REQUIRE n.id IS UNIQUE;
// The evidence log: no leaf index is given twice (docs/auditors.md).
CREATE CONSTRAINT log_entries_first IF NOT EXISTS FOR (n:LogEntries) REQUIRE n.first IS UNIQUE;
CREATE CONSTRAINT log_entries_batch IF NOT EXISTS FOR (n:LogEntries) REQUIRE n.ingest_batch IS UNIQUE;
// Enclaves by their id (keccak256 of the key), images by their record id.
CREATE CONSTRAINT enclave_id IF NOT EXISTS FOR (n:Enclave) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT image_id IF NOT EXISTS FOR (n:Image) REQUIRE n.id IS UNIQUE;
