"""All configuration in one object, read from ``GRAPHSVC_*`` environment variables.

Command-line flags override fields with :meth:`Settings.model_copy`; nothing else
reads the environment.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from graphsvc.proofs import TrustedRoots
from graphsvc.scoring.params import ScoringParams
from graphsvc.tlog.cosignature import CosignerKey

_ORIGIN = re.compile(r"https?://[^/\s:]+(:\d{1,5})?")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GRAPHSVC_", env_nested_delimiter="__", extra="ignore"
    )

    # Where the embedded store keeps its files and generated password.
    data: Path = Path(".graphsvc")

    # An external Bolt endpoint (Neo4j 5); when unset the embedded ArcadeDB is started.
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr | None = None
    neo4j_database: str | None = None

    # Seconds to open a store connection (or wait for a free one); that a request waits for
    # one store call (retries of transient failures included) before it fails with "store
    # unavailable" (503, STORE_UNAVAILABLE); and that one transaction may take on the
    # server, which is also what a recompute's calls wait
    # (docs/decisions/0050-bounded-store-calls.md).
    store_connect_timeout: float = Field(default=5.0, gt=0)
    store_call_timeout: float = Field(default=10.0, gt=0)
    store_transaction_timeout: float = Field(default=60.0, gt=0)

    # The embedded database's supervisor (docs/decisions/0051-supervised-jvm.md): restarts
    # after it dies, the first after this many seconds, doubling up to 30 s; after this many
    # failures in a row graphsvc exits non-zero.
    store_restart_backoff: float = Field(default=1.0, gt=0)
    store_restart_attempts: int = Field(default=5, ge=0)

    # Seconds SIGTERM may take: requests in flight get most of it, then the store and its
    # JVM are stopped; past it the JVM is killed and graphsvc exits at once
    # (docs/decisions/0052-bounded-shutdown.md).
    shutdown_timeout: float = Field(default=30.0, gt=0)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    # Origins whose browser pages may call the API (CORS, and GraphQL over WebSocket),
    # a JSON list such as ["https://dash.example.org"]; "*" allows any. None by default:
    # only pages the service itself serves.
    cors_origins: list[str] = Field(default_factory=list)

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(f"{origin!r} is not an origin: give scheme://host[:port], no path")
        return origins

    # Log lines: JSON objects (one a line) or text; "auto" is JSON when standard error
    # is not a terminal, so collectors get fields and people get readable lines.
    log_format: Literal["auto", "json", "text"] = "auto"

    # Bearer token for administrative operations (recompute, seeds); unset disables them.
    admin_token: SecretStr | None = None

    # Seconds between background recomputes while serving; 0 disables them. A recompute
    # runs when records arrived since the newest snapshot, or it is a day old.
    score_interval: float = Field(default=300.0, ge=0)

    # Snapshot retention: every snapshot this many hours, then the newest of each hour for
    # this many days, then the newest of each day (for this many days; unset: forever).
    retain_all_hours: float = Field(default=48.0, ge=0)
    retain_hourly_days: float = Field(default=30.0, ge=0)
    retain_daily_days: float | None = Field(default=None, ge=0)

    # The reputation model's parameters (GRAPHSVC_SCORING__HALF_LIFE_DAYS=14, ...).
    scoring: ScoringParams = Field(default_factory=ScoringParams)

    # The trusted seeds (entity ids): the witnesses with standing, over whom the
    # personalization's seed part spreads. Empty: nobody has standing and every mass is 0
    # (docs/decisions/0070-standing.md); the service warns at start.
    seeds: list[str] = Field(default_factory=list)

    # Roots trusted for TEE attestation documents besides the pinned AWS Nitro root: a PEM
    # file of certificates (private deployments, tests, the demo's own root).
    tee_roots: Path | None = None

    # The demo network's parameters for `serve --demo`: a JSON file shaped like
    # seed_data/network.json (unset: that file).
    demo_params: Path | None = None

    # `serve` checks and writes records in a child process of its own, so that reads do not
    # wait behind writes for the interpreter (docs/decisions/0090-ingest-in-its-own-process.md);
    # false: in the serving process.
    ingest_process: bool = True

    # Maximum heap of the embedded ArcadeDB JVM.
    embedded_heap: str = "1g"

    # How long (seconds) a process serves its newest snapshot before asking the store
    # whether another replica stored a newer one.
    snapshot_refresh: float = Field(default=2.0, ge=0)

    # How often a subscription looks for a new snapshot (seconds).
    subscription_poll: float = Field(default=2.0, gt=0)
    # Operations running over all WebSockets at once (subscriptions mostly); past it a
    # connection that asks for one more is closed with 4503.
    max_subscriptions: int = Field(default=1_000, gt=0)

    # The evidence log (docs/auditors.md): the origin line of its checkpoints (also its
    # key's name: no spaces, no '+'), and seconds between checkpoint publications.
    log_origin: str = Field(default="graphsvc.local/evidence", pattern=r"^[^\s+]+$")
    log_interval: float = Field(default=1.0, ge=0)
    # Witnesses whose cosignatures (C2SP tlog-cosignature) the log accepts and serves with
    # its checkpoint: verifier keys `<name>+<hash>+<base64(0x04 || key)>`, a JSON list.
    log_witnesses: list[str] = Field(default_factory=list)
    # An existing log whose key is missing refuses to start unless this asks for a new
    # key, announced by a note linking the two (meant for one start; `serve
    # --rotate-log-key`). With the key present it does nothing.
    log_rotate_key: bool = False

    @field_validator("log_witnesses")
    @classmethod
    def _witness_keys(cls, keys: list[str]) -> list[str]:
        for key in keys:
            CosignerKey.parse(key)  # a NoteError (a ValueError) names what is wrong
        return keys

    # Request limits of the public API.
    max_request_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    max_bulk_bytes: int = Field(default=256 * 1024 * 1024, gt=0)
    max_batch_records: int = Field(default=10_000, gt=0)
    max_query_depth: int = Field(default=10, gt=0)
    max_query_aliases: int = Field(default=30, gt=0)
    max_query_tokens: int = Field(default=2_000, gt=0)
    max_page_size: int = Field(default=500, gt=0)
    # Answers kept per snapshot (docs/decisions/0083-answer-cache.md), in bytes; 0: none.
    answer_cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    # The estimated cost an operation may have (api/query_cost.py): refused above it.
    max_query_cost: int = Field(default=30_000, gt=0)
    # Requests of one client address (GraphQL over HTTP, POST /records) running at once,
    # and waiting their turn beyond those (then 429).
    client_concurrency: int = Field(default=8, gt=0)
    client_queue: int = Field(default=64, ge=0)
    # Lines one POST /records may carry (its answer has a line for each,
    # docs/decisions/0080-bulk-answer-after-body.md).
    max_bulk_lines: int = Field(default=100_000, gt=0)
    # Connection limits of the HTTP server (docs/decisions/0054-slow-client-limits.md):
    # seconds to send a request's headers, and its body (as a whole); open connections (more
    # are closed at once); seconds an idle keep-alive connection is kept.
    http_header_timeout: float = Field(default=10.0, gt=0)
    # A request's line and headers together (431 and the connection closed above).
    http_max_header_bytes: int = Field(default=64 * 1024, gt=0)
    http_body_timeout: float = Field(default=60.0, gt=0)
    http_max_connections: int = Field(default=1_000, gt=0)
    http_keep_alive: int = Field(default=5, gt=0)

    def trusted_roots(self) -> TrustedRoots:
        """The pinned AWS Nitro root plus the roots in ``GRAPHSVC_TEE_ROOTS``."""
        return TrustedRoots.default(self.tee_roots)

    @property
    def embedded(self) -> bool:
        return not self.neo4j_uri
