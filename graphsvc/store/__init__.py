"""Graph storage: Cypher over Bolt against Neo4j 5 or the embedded ArcadeDB server."""
