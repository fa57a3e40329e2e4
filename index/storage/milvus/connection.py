"""Reaching a Milvus index: the address (a milvus-lite folder or a server), the client, and the small records
the index keeps about itself in its `store` collection (model stamp, version, values seen, write intents)."""

from __future__ import annotations

import functools
import secrets
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pymilvus import MilvusClient, MilvusException
from pymilvus.exceptions import ConnectError, ConnectionNotExistException, MilvusUnavailableException

from index.models import IndexMismatchError
from index.storage.api import ModelStamp, StoreUnavailableError
from index.storage.milvus.schema import COLLECTIONS, MARKER, STORE, create_collections
from newsqa.settings import Settings

SERVER_SCHEMES = ("http://", "https://", "tcp://", "grpc://", "unix:")
MODEL = "model"
VERSION = "version"
SEEN = "seen"
INTENT = "intent:"
P = ParamSpec("P")
R = TypeVar("R")
REBUILD_HINT = "re-ingest your files into a new index with: qa ingest --rebuild PATH"
OPEN_ATTEMPTS = 2
# Each client gets gRPC connections of its own: channels to one address otherwise share them process-wide, so a
# connection the server dropped fails every new client's first call too, the retry in open() included.
SERVER_GRPC_OPTIONS = {"grpc.use_local_subchannel_pool": 1}
# pymilvus' client pings every 10 s (keepalive), but the milvus-lite server keeps gRPC's default policy: pings
# only every 5 minutes while no call is active, and after the third too early, a GOAWAY "too_many_pings" that
# drops the connection. An index idle for 75-130 s (the client throttles itself to a ping a minute) then failed
# to open again in the same process. A server in this same process cannot vanish unnoticed: no pings.
LITE_GRPC_OPTIONS = {
    **SERVER_GRPC_OPTIONS,
    "grpc.keepalive_time_ms": 2**31 - 1,  # gRPC's own default for a client: never
    "grpc.keepalive_permit_without_calls": 0,
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Connection:
    """One client of the configured Milvus, and what the index's `store` collection says about it."""

    def __init__(self, settings: Settings) -> None:
        self.uri = settings.index.milvus_uri or str(Path(settings.index.index_dir) / "milvus.db")
        self.token = settings.index.milvus_token or ""
        self.server = self.uri.startswith(SERVER_SCHEMES)
        self.location = _without_credentials(self.uri) if self.server else str(Path(self.uri).resolve())
        self.client: MilvusClient | None = None

    def exists(self) -> bool:
        """Whether a milvus-lite folder is there (a server is always assumed to be)."""
        return self.server or Path(self.uri).exists()

    def open(self) -> MilvusClient:
        """Connect (starting milvus-lite in this process for a local folder); StoreUnavailableError when the
        server cannot be reached or the folder is held by another process."""
        if self.client is not None:
            return self.client
        if not self.server:
            Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, OPEN_ATTEMPTS + 1):
            try:
                if self.server:
                    self.client = self._connect(self.uri, SERVER_GRPC_OPTIONS)
                else:
                    self.client = self._connect(self._lite_address(), LITE_GRPC_OPTIONS)
                return self.client
            except StoreUnavailableError:
                # Opening writes nothing, so trying once more is safe; it gets a new gRPC connection (and a new
                # milvus-lite server, if the one for the folder stopped).
                if attempt == OPEN_ATTEMPTS:
                    raise
                time.sleep(0.5)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _connect(self, uri: str, grpc_options: dict[str, int]) -> MilvusClient:
        """A client of its own (closed with this connection, not kept in pymilvus' shared pool), with the
        collections loaded."""
        client = None
        try:
            client = MilvusClient(uri=uri, token=self.token, timeout=10, dedicated=True, grpc_options=grpc_options)
            # A collection is searchable once loaded; a restarted milvus-lite starts with all released.
            for name in set(client.list_collections()) & set(COLLECTIONS):
                client.load_collection(name)
        except (MilvusException, OSError, RuntimeError) as exc:
            if client is not None:
                client.close()
            raise StoreUnavailableError(self.unreachable(exc)) from exc
        return client

    def _lite_address(self) -> str:
        """The address of this process's milvus-lite server for the folder: started if there is none yet, and
        started again if the one there no longer accepts connections (pymilvus would keep handing out its port,
        and every open in this process would be refused until it exits)."""
        from milvus_lite.server_manager import server_manager_instance  # what pymilvus uses for a .db path

        address = server_manager_instance.start_and_get_uri(self.uri)
        if address is not None and _refuses(address):
            server_manager_instance.release_server(self.uri)  # closes its collections and the folder's lock
            address = server_manager_instance.start_and_get_uri(self.uri)
        if address is None:
            raise StoreUnavailableError(self.unreachable(RuntimeError("milvus-lite could not start on the folder")))
        return address

    def unreachable(self, exc: Exception) -> str:
        """What to tell the user when Milvus cannot be reached (at open or later)."""
        if self.server:
            return (
                f"cannot reach Milvus at {self.location} ({_reason(exc)}); check that the server is running and "
                "that QA_MILVUS_URI (and QA_MILVUS_TOKEN) are right"
            )
        return (
            f"cannot open the milvus-lite index {self.location} ({_reason(exc)}); a milvus-lite folder opens in "
            f"one process only: serve it to several with `python -m milvus_lite server --data-dir {self.location} "
            "--port 19530` and set QA_MILVUS_URI=http://127.0.0.1:19530"
        )

    def has_index(self) -> bool:
        client = self.open()
        return all(name in set(client.list_collections()) for name in COLLECTIONS) and self.read(MODEL) is not None

    def create(self, model: ModelStamp) -> None:
        """Create the collections that are missing and stamp the model (an existing stamp must match)."""
        client = self.open()
        create_collections(client, model.dimension, server=self.server)
        stamp = self.read(MODEL)
        if stamp is None:
            self.write(MODEL, {**_stamp(model), "created_at": _now()})
            self.write(VERSION, {"epoch": secrets.token_hex(6), "number": 0, "updated_at": _now()})
        else:
            self.check_model(model)

    def drop(self) -> None:
        client = self.open()
        for name in COLLECTIONS:
            if name in set(client.list_collections()):
                client.drop_collection(name)

    def check_model(self, model: ModelStamp | None) -> None:
        """IndexMismatchError when the index's vectors were made by another encoder than `model`."""
        stamp = self.read(MODEL) or {}
        if model is None:
            return
        where = f"the Milvus index at {self.location}"
        if stamp.get("sha256") != model.sha256:
            raise IndexMismatchError(
                f"{where} was built with model weights {str(stamp.get('sha256'))[:12]}…, but the loaded model is "
                f"{model.sha256[:12]}…; {REBUILD_HINT}"
            )
        if stamp.get("kind") != model.kind:
            raise IndexMismatchError(
                f"{where} holds vectors made by the {stamp.get('kind')} encoder, but the loaded one is {model.kind} "
                f"(QA_ENCODER); {REBUILD_HINT}"
            )
        if stamp.get("dimension") != model.dimension:
            raise IndexMismatchError(
                f"{where} holds vectors of dimension {stamp.get('dimension')}, the model gives {model.dimension}; "
                f"{REBUILD_HINT}"
            )

    # --- the store collection: small JSON records by key -----------------------------------------------
    def read(self, key: str) -> dict | None:
        client = self.open()
        if STORE not in set(client.list_collections()):
            return None
        rows = client.get(STORE, ids=[key], output_fields=["value"])
        return dict(rows[0]["value"]) if rows else None

    def write(self, key: str, value: dict) -> None:
        self.open().upsert(STORE, [{"pk": key, "value": value, "marker": MARKER}])

    def delete(self, key: str) -> None:
        self.open().delete(STORE, ids=[key])

    def intents(self) -> list[tuple[str, dict]]:
        """The records of writes that started and have not finished (oldest first)."""
        rows = self.open().query(STORE, filter=f'pk like "{INTENT}%"', output_fields=["pk", "value"], limit=16_384)
        return sorted((row["pk"], dict(row["value"])) for row in rows)

    def version(self) -> str:
        found = self.read(VERSION) or {}
        return f"{found.get('epoch', '-')}-{found.get('number', 0)}"

    def bump_version(self) -> str:
        found = self.read(VERSION) or {"epoch": secrets.token_hex(6), "number": 0}
        found = {**found, "number": int(found.get("number", 0)) + 1, "updated_at": _now()}
        self.write(VERSION, found)
        return f"{found['epoch']}-{found['number']}"

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None


def reaching(method: Callable[P, R]) -> Callable[P, R]:
    """Wrap a reader's or writer's method so that losing the Milvus server mid-way raises StoreUnavailableError
    saying what to check, not pymilvus' error (other errors pass through)."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except MilvusException as exc:
            lost = isinstance(exc, ConnectError | ConnectionNotExistException | MilvusUnavailableException)
            if not (lost or "Fail connecting" in str(exc) or "UNAVAILABLE" in str(exc).upper()):
                raise
            connection: Connection = args[0].connection  # type: ignore[attr-defined]
            raise StoreUnavailableError(connection.unreachable(exc)) from exc

    return call


def _refuses(address: str) -> bool:
    """Whether nothing listens at a local `http://127.0.0.1:PORT` any more (a slow answer is not a refusal)."""
    parts = urlsplit(address)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 19530), timeout=5):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def _stamp(model: ModelStamp) -> dict:
    return {"name": model.name, "sha256": model.sha256, "kind": model.kind, "dimension": model.dimension}


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "message", None) or exc).strip() or type(exc).__name__


def _without_credentials(uri: str) -> str:
    """The address with any user:password removed (what `facts().location` shows)."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
