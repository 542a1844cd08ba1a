"""The vector store: Chroma on disk under INTERVIEWER_HOME/store, or a shared Chroma server.

config.toml:
    [store]
    host = "chroma.internal"   # empty or absent = the local on-disk store
    port = 8000
    collection = "interviewer"

Chroma never embeds anything here: collections are created with embedding_function=None and every
add and query passes vectors from the bundled MiniLM model (Chroma's default embedding function
would download a model). Every Chroma failure becomes a UserError that says what to do: a server
that is down, a store that another process holds locked, or a damaged store (with the command
that rebuilds it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from interviewer.errors import UserError

COLLECTION_METADATA = {"hnsw:space": "cosine"}
STORE_SCHEMA = "1"
LOCK_TIMEOUT = 5.0  # seconds to wait for another process's write lock before giving up
_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


@dataclass
class SourceEntry:
    """What the index holds for one source file."""

    source: str
    hashes: set[str] = field(default_factory=set)
    chunker: set[str] = field(default_factory=set)
    ids: list[str] = field(default_factory=list)
    origin: str = "user"


def _telemetry_off() -> None:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def _settings():
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


def rebuild_hint(location: str, local: bool) -> str:
    if local:
        return f"rebuild it with `interviewer ingest --rebuild [PATH...]`, or `rm -rf {location}` and ingest again"
    return "rebuild it with `interviewer ingest --rebuild [PATH...]`, which drops and re-creates the server collection"


class Store:
    """One Chroma collection plus the bookkeeping ingest and search need."""

    def __init__(self, client, collection, *, name: str, location: str, local_path: Path | None):
        self.client = client
        self.collection = collection
        self.name = name
        self.location = location
        self.local_path = local_path

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    def open(cls, config=None, create: bool = True) -> "Store":
        """Open the configured store (server when config.store.host is set, else on disk)."""
        from interviewer.settings import load_config

        cfg = config if config is not None else load_config()
        sc = cfg.store
        if sc.host:
            return cls._open_server(sc.host, sc.port, sc.collection, create)
        from interviewer.settings import store_dir

        return cls._open_local(store_dir(), sc.collection, create)

    @classmethod
    def _open_local(cls, path: Path, name: str, create: bool) -> "Store":
        location = str(path)
        if path.exists() and not path.is_dir():
            raise UserError(f"the index path {path} is a file, not a folder", rebuild_hint(location, True))
        key = f"local:{path.resolve()}"
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                path.mkdir(parents=True, exist_ok=True)
                probe_local(path)
                _telemetry_off()
                with guard(location, local=True):
                    import chromadb

                    client = chromadb.PersistentClient(path=str(path), settings=_settings())
                _clients[key] = client
        with guard(location, local=True):
            collection = _get_collection(client, name, create)
        return cls(client, collection, name=name, location=location, local_path=path)

    @classmethod
    def _open_server(cls, host: str, port: int, name: str, create: bool) -> "Store":
        url = f"http://{host}:{port}"
        location = f"{url} (collection {name})"
        key = f"http:{host}:{port}"
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                _telemetry_off()
                try:
                    import chromadb

                    client = chromadb.HttpClient(host=host, port=port, settings=_settings())
                    client.heartbeat()
                except Exception as exc:
                    raise server_down(url, exc) from None
                _clients[key] = client
        with guard(location, local=False, url=url):
            collection = _get_collection(client, name, create)
        return cls(client, collection, name=name, location=location, local_path=None)

    @property
    def is_local(self) -> bool:
        return self.local_path is not None

    @property
    def key(self) -> str:
        return f"{'local:' + str(self.local_path) if self.local_path else 'http:' + self.location}"

    def _guard(self):
        url = None if self.is_local else self.location.split(" ")[0]
        return guard(self.location, local=self.is_local, url=url)

    # -- collection-level state ------------------------------------------------------------------

    def state(self) -> dict:
        """The collection's own metadata (generation, bundled-notes fingerprint...), fresh from Chroma."""
        with self._guard():
            col = self.client.get_collection(self.name, embedding_function=None)
        self.collection = col
        return {k: v for k, v in (col.metadata or {}).items() if not k.startswith("hnsw:")}

    def update_state(self, **values) -> dict:
        """Merge values into the collection metadata and bump its generation (readers reload)."""
        current = self.state()
        current.update({k: v for k, v in values.items() if v is not None})
        current["generation"] = f"{time.time():.6f}-{uuid.uuid4().hex[:8]}"
        current["schema"] = STORE_SCHEMA
        with self._guard():
            self.collection.modify(metadata=current)
        return current

    def generation(self) -> str:
        return str(self.state().get("generation", ""))

    # -- reads -----------------------------------------------------------------------------------

    def count(self) -> int:
        with self._guard():
            return self.collection.count()

    def iter_all(self, include=("documents", "metadatas"), page: int = 5000) -> Iterator[tuple[list, list | None, list | None]]:
        """Every item, page by page: (ids, documents, metadatas)."""
        offset = 0
        while True:
            with self._guard():
                res = self.collection.get(include=list(include), limit=page, offset=offset)
            ids = res["ids"]
            if not ids:
                return
            yield ids, res.get("documents"), res.get("metadatas")
            if len(ids) < page:
                return
            offset += len(ids)

    def manifest(self, origin: str | None = None) -> dict[str, SourceEntry]:
        """source -> what is indexed for it (content hashes, chunker versions, chunk ids)."""
        out: dict[str, SourceEntry] = {}
        for ids, _, metas in self.iter_all(include=("metadatas",)):
            for cid, meta in zip(ids, metas or []):
                meta = meta or {}
                if origin and meta.get("origin", "user") != origin:
                    continue
                src = str(meta.get("source", ""))
                e = out.get(src)
                if e is None:
                    e = out[src] = SourceEntry(src, origin=str(meta.get("origin", "user")))
                e.hashes.add(str(meta.get("hash", "")))
                e.chunker.add(str(meta.get("chunker", "")))
                e.ids.append(cid)
        return out

    def query(self, embedding, n: int, where: dict | None = None) -> tuple[list[str], list[float]]:
        n = max(1, n)
        import numpy as np

        vec = np.asarray(embedding, dtype=np.float32).reshape(1, -1)
        with self._guard():
            res = self.collection.query(
                query_embeddings=vec,
                n_results=n,
                where=where or None,
                include=["distances"],
            )
        return res["ids"][0], res["distances"][0]

    def get(self, ids: list[str]) -> dict:
        with self._guard():
            return self.collection.get(ids=ids, include=["documents", "metadatas"])

    # -- writes ----------------------------------------------------------------------------------

    def max_batch(self) -> int:
        try:
            return max(1, min(5000, int(self.client.get_max_batch_size())))
        except Exception:
            return 1000

    def add(self, ids, embeddings, documents, metadatas) -> None:
        step = self.max_batch()
        with self._guard():
            for i in range(0, len(ids), step):
                self.collection.upsert(
                    ids=ids[i : i + step],
                    embeddings=embeddings[i : i + step],
                    documents=documents[i : i + step],
                    metadatas=metadatas[i : i + step],
                )

    def delete(self, ids: list[str]) -> None:
        if not ids:
            return
        step = self.max_batch()
        with self._guard():
            for i in range(0, len(ids), step):
                self.collection.delete(ids=ids[i : i + step])

    def reset(self) -> "Store":
        """Drop everything: remove the local folder (damaged or not) or the server collection."""
        if self.is_local:
            return wipe_local(self.local_path, self.name)
        with self._guard():
            try:
                self.client.delete_collection(self.name)
            except Exception:
                pass
            self.collection = _get_collection(self.client, self.name, True)
        return self


def _get_collection(client, name: str, create: bool):
    from chromadb.errors import NotFoundError

    try:
        return client.get_collection(name, embedding_function=None)
    except NotFoundError:
        if not create:
            raise UserError(f"the index has no collection {name!r} yet", "run `interviewer ingest PATH...` first")
    except ValueError as exc:  # older Chroma raised ValueError for a missing collection
        if "does not exist" not in str(exc) or not create:
            raise
    return client.get_or_create_collection(
        name, embedding_function=None, metadata={**COLLECTION_METADATA, "schema": STORE_SCHEMA}
    )


def probe_local(path: Path, timeout: float = LOCK_TIMEOUT) -> None:
    """Fail fast and clearly on a locked or damaged chroma.sqlite3 (Chroma itself would hang on a lock)."""
    db = path / "chroma.sqlite3"
    if not db.exists():
        return
    location = str(path)
    try:
        con = sqlite3.connect(str(db), timeout=timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise UserError(f"the index at {location} cannot be opened ({exc})", rebuild_hint(location, True))
    try:
        con.execute("BEGIN IMMEDIATE")  # Chroma takes a write lock when it opens; so do we, briefly
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        con.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        msg = str(exc)
        if "locked" in msg or "busy" in msg:
            raise UserError(
                f"the index at {location} is locked by another process (waited {timeout:g} s)",
                "wait for the other interviewer command to finish (or end it), then try again",
            )
        raise UserError(f"the index at {location} is damaged ({msg})", rebuild_hint(location, True))
    except sqlite3.DatabaseError as exc:
        raise UserError(f"the index at {location} is damaged ({exc})", rebuild_hint(location, True))
    finally:
        con.close()
    check_segments(path)


def _segment_problem(seg: Path) -> str | None:
    """A reason when an HNSW segment folder is inconsistent, else None.

    Chroma's native HNSW reader can crash the process on a damaged file instead of raising, so
    the sizes are checked against header.bin first (format version 1: the one Chroma 1.x writes;
    other versions are not checked).
    """
    import struct

    header = seg / "header.bin"
    if not header.exists():
        return None if not (seg / "data_level0.bin").exists() else "header.bin is missing"
    raw = header.read_bytes()
    if len(raw) < 36:
        return "header.bin is truncated"
    version = struct.unpack_from("<i", raw, 0)[0]
    if version != 1 or len(raw) != 100:
        return None
    _, max_elements, count, per_element = struct.unpack_from("<QQQQ", raw, 4)
    if count > max_elements or per_element == 0 or per_element > 1 << 20:
        return "header.bin is inconsistent"
    for name, expected in (("data_level0.bin", count * per_element), ("length.bin", count * 4)):
        f = seg / name
        if not f.exists():
            return f"{name} is missing"
        if f.stat().st_size != expected:
            return f"{name} has {f.stat().st_size} bytes, expected {expected}"
    return None


def check_segments(path: Path, retries: int = 2) -> None:
    """Raise a UserError when a vector segment of the store looks damaged."""
    location = str(path)
    for seg in sorted(p for p in path.iterdir() if p.is_dir()) if path.is_dir() else []:
        problem = _segment_problem(seg)
        for _ in range(retries):  # a writer in another process may be mid-flush: look again
            if problem is None:
                break
            time.sleep(0.2)
            problem = _segment_problem(seg)
        if problem:
            raise UserError(
                f"the index at {location} is damaged (vector segment {seg.name}: {problem})",
                rebuild_hint(location, True),
            )


def forget_clients(path: Path | None = None) -> None:
    """Drop cached clients. With a path, also close that store's client so that the next open
    reads the files afresh (after a rebuild; in tests, to act like a new process)."""
    with _clients_lock:
        if path is None:
            _clients.clear()  # other holders keep working; Chroma shares the system per path
            return
        client = _clients.pop(f"local:{Path(path).resolve()}", None)
    if client is not None:
        try:
            client.close()
        except Exception:
            pass


def wipe_local(path: Path, name: str) -> Store:
    forget_clients(path)
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    return Store._open_local(path, name, True)


def server_down(url: str, exc: BaseException) -> UserError:
    detail = str(exc).split("\n")[0][:120]
    return UserError(
        f"cannot reach the Chroma server at {url} ({detail})",
        "start it (e.g. `chroma run --path DIR --host HOST --port PORT`) or remove `host` from [store] "
        "in config.toml to use the local index",
    )


_CONNECT_WORDS = ("connect", "connection", "refused", "timed out", "timeout", "unreachable", "name or service")


@contextlib.contextmanager
def guard(location: str, local: bool, url: str | None = None):
    """Turn Chroma failures into one clear UserError."""
    try:
        yield
    except UserError:
        raise
    except Exception as exc:
        name = type(exc).__name__
        module = type(exc).__module__ or ""
        msg = str(exc).split("\n")[0][:200]
        if not local and (module.startswith(("httpx", "httpcore", "requests", "urllib3")) or any(w in msg.lower() for w in _CONNECT_WORDS)):
            raise server_down(url or location, exc) from None
        if not (module.startswith(("chromadb", "sqlite3", "httpx", "pyo3")) or name in ("InternalError", "OperationalError", "DatabaseError", "PanicException")):
            raise
        low = msg.lower()
        if "locked" in low or "busy" in low:
            raise UserError(
                f"the index at {location} is locked by another process",
                "wait for the other interviewer command to finish, then try again",
            ) from None
        raise UserError(f"the index at {location} is damaged or unreadable ({name}: {msg})", rebuild_hint(location, local)) from None
