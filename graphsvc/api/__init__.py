"""The public API: GraphQL and a few HTTP endpoints on Starlette."""
