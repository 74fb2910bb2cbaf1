"""Where a Bolt graph database is and how to log in to it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class BoltEndpoint:
    """A Bolt URI with its credentials, for Neo4j 5 or the embedded ArcadeDB.

    ``database`` is ``None`` for the server's default database.
    """

    uri: str
    user: str
    # Kept out of repr() so an endpoint can be logged or shown in a traceback safely.
    password: str = field(repr=False)
    database: str | None = None

    @property
    def auth(self) -> tuple[str, str]:
        """The ``auth`` argument of ``neo4j.GraphDatabase.driver``."""
        return (self.user, self.password)
