"""Ingest: files -> chunks -> embeddings -> the store, incrementally.

- A file is identified by its source (its absolute path; `notes/<name>.md` for a bundled note) and
  versioned by the sha256 of its bytes. Unchanged files (same hash, same chunker version) are not
  read past their bytes and nothing is written for them.
- A changed file's new chunks (ids carry the content hash) are written before its old ones are
  deleted, so an interrupted ingest never loses what was indexed.
- `prune=True` drops files previously ingested from the given paths that no longer exist.
- Bad files (binary, empty, not UTF-8, PDF without text, HTML without an article, missing) are
  reported with their reason; the rest are ingested.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Protocol

from interviewer.errors import UserError
from interviewer.knowledge.chunking import CHUNKER_VERSION, MAX_TOKENS, Piece, chunk_document
from interviewer.knowledge.loaders import (
    Document,
    LoadError,
    content_hash,
    iter_files,
    kind_for,
    load_file,
    read_bytes,
    supported_in_folder,
)
from interviewer.knowledge.store import SourceEntry, Store

FLUSH_CHUNKS = 256  # embed and write in groups of about this many chunks
# Small ONNX batches run faster on few cores (measured on 2 cores at ~100 tokens a chunk:
# batch 16 about 20% more chunks/s than 64).
EMBED_BATCH = 16
BUNDLED_PREFIX = "notes/"
_generation_lock = threading.Lock()
_local_generation = 0  # bumped by every write in this process; retrievers reload when it moves


def local_generation() -> int:
    return _local_generation


def _bump_local_generation() -> None:
    global _local_generation
    with _generation_lock:
        _local_generation += 1


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, n: int = 1, description: str | None = None) -> None: ...
    def finish(self) -> None: ...


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0  # chunks written in this run
    skipped: int = 0  # files inside folders with an unsupported extension
    failed: list[dict] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # sources added or updated

    def fail(self, path, reason: str) -> None:
        self.failed.append({"path": str(path), "reason": reason})

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def to_json(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "failed": list(self.failed),
            "chunks": self.chunks,
            "skipped": self.skipped,
        }

    def summary(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, removed {self.removed}, "
            f"failed {len(self.failed)} ({self.chunks} chunks written)"
        )


def chunk_id(source: str, digest: str, index: int) -> str:
    return f"{hashlib.sha1(source.encode('utf-8')).hexdigest()[:16]}:{digest[:16]}:{index}"


def chunk_metadata(doc: Document, piece: Piece, origin: str) -> dict:
    meta: dict = {
        "source": doc.source,
        "title": doc.title,
        "heading": piece.heading,
        "hash": doc.content_hash,
        "chunker": CHUNKER_VERSION,
        "index": piece.index,
        "origin": origin,
        "kind": doc.kind,
    }
    # Lists are stored as comma-joined strings plus one boolean flag per value ("topic:calibration"),
    # which `where` filters can match on any Chroma 1.x server (array metadata needs Chroma >= 1.5).
    for key, flag, values in (("topics", "topic", doc.topics), ("domains", "domain", doc.domains)):
        clean = [v.replace(",", " ").strip() for v in values if v and v.strip()]
        if clean:
            meta[key] = ",".join(clean)
            for v in clean:
                meta[f"{flag}:{v.lower()}"] = True
    if doc.company:
        meta["company"] = doc.company
        meta["company_key"] = doc.company.strip().lower()
    if doc.level:
        meta["level"] = doc.level
    return meta


# ------------------------------------------------------------------------------------------------
# the lock that keeps two ingests from writing the same local store at once


@contextlib.contextmanager
def ingest_lock(store: Store, wait: bool = False):
    if not store.is_local:
        yield True  # a server serialises writes itself
        return
    try:
        import fcntl
    except ImportError:  # Windows: no advisory lock; Chroma's own sqlite lock still applies
        yield True
        return
    lock_path = store.local_path.parent / ".store.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(lock_path), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------------------------
# planning: which files, which sources


def source_for(path: Path) -> tuple[str, str]:
    """(source, origin) for a file: bundled notes keep their machine-independent name."""
    from interviewer.settings import corpus_dir

    resolved = path.resolve()
    notes = (corpus_dir() / "notes").resolve()
    if resolved.parent == notes and resolved.suffix == ".md":
        return BUNDLED_PREFIX + resolved.name, "bundled"
    return str(resolved), "user"


@dataclass
class _Pending:
    path: Path
    source: str
    origin: str
    doc: Document
    pieces: list[Piece]
    old_ids: list[str]
    is_update: bool


def _under(source: str, root: str) -> bool:
    return source == root or source.startswith(root.rstrip(os.sep) + os.sep)


class Ingestor:
    """One ingest run. Use `ingest()` unless you need the pieces."""

    def __init__(self, store: Store, embedder=None, progress: Progress | None = None):
        self.store = store
        self._embedder = embedder
        self.progress = progress
        self.report = IngestReport()
        self._queue: list[_Pending] = []
        self._queued_chunks = 0
        self._writer: _Writer | None = None

    @property
    def embedder(self):
        if self._embedder is None:
            from interviewer.embedding import get_embedder

            self._embedder = get_embedder()
        return self._embedder

    # -- the run ---------------------------------------------------------------------------------

    def run(self, paths: Iterable[Path | str], prune: bool = False, manifest: dict[str, SourceEntry] | None = None) -> IngestReport:
        rep = self.report
        files: list[tuple[Path, str, str]] = []  # (path, source, origin)
        roots: list[str] = []  # resolved folder roots and named files, for pruning
        missing: list[str] = []
        seen: set[str] = set()
        for raw in paths:
            p = Path(raw).expanduser()
            if not p.exists() and not p.is_symlink():
                missing.append(str(p.resolve()))
                if not prune:
                    rep.fail(p, "does not exist")
                continue
            if p.is_dir():
                roots.append(str(p.resolve()))
                for f in iter_files(p):
                    if not supported_in_folder(f):
                        rep.skipped += 1
                        continue
                    src, origin = source_for(f)
                    if src not in seen:
                        seen.add(src)
                        files.append((f, src, origin))
            else:
                src, origin = source_for(p)
                roots.append(src)
                if kind_for(p) is None:
                    rep.fail(p, f"unsupported file type {p.suffix or '(none)'} (use Markdown, text, HTML or PDF)")
                    continue
                if src not in seen:
                    seen.add(src)
                    files.append((p, src, origin))
        if manifest is None:
            manifest = self.store.manifest()
        if self.progress:
            self.progress.start(len(files))
        self._writer = _Writer(self.store)
        try:
            for path, source, origin in files:
                self._one(path, source, origin, manifest.get(source))
                if self._queued_chunks >= FLUSH_CHUNKS:
                    self._flush()
            self._flush()
            self._writer.close()
        except BaseException:
            if self._writer.submitted:  # earlier groups did land: make readers reload
                self._writer.abort()
                with contextlib.suppress(Exception):
                    self.store.update_state()
                _bump_local_generation()
            raise
        finally:
            self._writer.abort()
            if self.progress:
                self.progress.finish()
        if prune:
            self._prune(manifest, roots, missing, {s for _, s, _ in files})
        # Missing paths given with --prune that were never indexed are still an error.
        if prune:
            for m in missing:
                if not any(_under(s, m) for s in manifest):
                    rep.fail(m, "does not exist")
        if rep.changed:
            self.store.update_state()
            _bump_local_generation()
        return rep

    def _one(self, path: Path, source: str, origin: str, entry: SourceEntry | None) -> None:
        rep = self.report
        try:
            try:
                source.encode("utf-8")
            except UnicodeEncodeError:
                raise LoadError("has a file name that is not valid UTF-8; rename it")
            data = read_bytes(path)
            digest = content_hash(data)
            if entry and entry.hashes == {digest} and entry.chunker == {CHUNKER_VERSION}:
                rep.unchanged += 1
                if self.progress:
                    self.progress.advance(1)
                return
            doc = load_file(path, source=source, data=data)
            pieces = chunk_document(doc, self.embedder.tokenizer)
            if not pieces:
                raise LoadError("has no text to index")
        except LoadError as exc:
            rep.fail(path, str(exc))
            if self.progress:
                self.progress.advance(1)
            return
        except Exception as exc:  # a parser choking on junk must not stop the other files
            rep.fail(path, f"could not be read ({type(exc).__name__}: {str(exc)[:80]})")
            if self.progress:
                self.progress.advance(1)
            return
        self._queue.append(_Pending(path, source, origin, doc, pieces, list(entry.ids) if entry else [], entry is not None))
        self._queued_chunks += len(pieces)

    def _flush(self) -> None:
        if not self._queue:
            return
        batch, self._queue, self._queued_chunks = self._queue, [], 0
        texts = [pc.embed_text for item in batch for pc in item.pieces]
        vectors = self.embedder.encode(texts, batch_size=EMBED_BATCH)
        ids, docs, metas = [], [], []
        for item in batch:
            for pc in item.pieces:
                ids.append(chunk_id(item.source, item.doc.content_hash, pc.index))
                docs.append(pc.text)
                metas.append(chunk_metadata(item.doc, pc, item.origin))
        stale: list[str] = []
        new_ids = set(ids)
        for item in batch:
            stale += [i for i in item.old_ids if i not in new_ids]
        # New chunks first, then the old ones of the same files: nothing indexed is ever lost.
        self._writer.submit(ids, vectors, docs, metas, stale)
        rep = self.report
        for item in batch:
            if item.is_update:
                rep.updated += 1
            else:
                rep.added += 1
            rep.sources.append(item.source)
            if self.progress:
                self.progress.advance(1, description=item.path.name)
        rep.chunks += len(ids)

    def _prune(self, manifest: dict[str, SourceEntry], roots: list[str], missing: list[str], present: set[str]) -> None:
        gone: list[str] = []
        for source, entry in manifest.items():
            if entry.origin != "user" or source in present:
                continue
            if any(_under(source, r) for r in roots + missing) and not Path(source).exists():
                gone.append(source)
        ids = [i for s in gone for i in manifest[s].ids]
        if ids:
            self.store.delete(ids)
        self.report.removed += len(gone)


class _Writer:
    """Writes to Chroma on a background thread while the next group is being embedded.

    Chroma's writes (~1,300 items/s) would otherwise add a fifth to an ingest that the model
    bounds. Order is kept: one group's adds and deletes finish before the next group's start.
    """

    def __init__(self, store: Store):
        self.store = store
        self.submitted = 0
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def _work(self, ids, vectors, docs, metas, stale) -> None:
        try:
            self.store.add(ids, vectors, docs, metas)
            self.store.delete(stale)
        except BaseException as exc:  # re-raised on the main thread
            self._error = exc

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    def submit(self, ids, vectors, docs, metas, stale) -> None:
        self._join()
        self.submitted += 1
        self._thread = threading.Thread(target=self._work, args=(ids, vectors, docs, metas, stale), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._join()

    def abort(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def ingest(
    paths: Iterable[Path | str],
    prune: bool = False,
    rebuild: bool = False,
    store: Store | None = None,
    embedder=None,
    progress: Progress | None = None,
    config=None,
) -> IngestReport:
    """Ingest files and folders into the configured store; see the module docstring."""
    if rebuild:
        store = rebuild_store(config) if store is None else store.reset()
        _bump_local_generation()
    store = store or Store.open(config)
    with ingest_lock(store) as got:
        if not got:
            raise UserError(
                f"another ingest is writing the index at {store.location}",
                "wait for it to finish, then run this again",
            )
        return Ingestor(store, embedder=embedder, progress=progress).run(paths, prune=prune)


def rebuild_store(config=None) -> Store:
    """An empty store in place of the configured one, even when the old one cannot be opened."""
    from interviewer.settings import load_config, store_dir

    from interviewer.knowledge.store import wipe_local

    cfg = config if config is not None else load_config()
    if cfg.store.host:
        return Store.open(cfg).reset()
    return wipe_local(store_dir(), cfg.store.collection)


# ------------------------------------------------------------------------------------------------
# the bundled notes, indexed on first use


def bundled_note_paths() -> list[Path]:
    from interviewer.settings import corpus_dir

    return sorted((corpus_dir() / "notes").glob("*.md"))


def bundled_fingerprint(paths: list[Path] | None = None) -> str:
    h = hashlib.sha256(f"chunker={CHUNKER_VERSION};max={MAX_TOKENS}".encode())
    for p in paths if paths is not None else bundled_note_paths():
        try:
            h.update(p.name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
        except OSError:
            continue
    return h.hexdigest()[:24]


def ensure_bundled(store: Store, notice: Callable[[str], None] | None = None, embedder=None) -> IngestReport | None:
    """Index (or refresh) the bundled notes when the store does not hold this version of them."""
    paths = bundled_note_paths()
    if not paths:
        return None
    fp = bundled_fingerprint(paths)
    if store.state().get("bundled") == fp:
        return None
    with ingest_lock(store) as got:
        if not got:
            if notice:
                notice("another process is updating the index; the bundled notes will be indexed next time")
            return None
        if store.state().get("bundled") == fp:  # someone else just did it
            return None
        manifest = store.manifest()
        first = not any(e.origin == "bundled" for e in manifest.values())
        if notice:
            if first:
                notice(f"indexing the bundled notes ({len(paths)} files) for search; this happens once per index")
            else:
                notice(f"the bundled notes changed; re-indexing them ({len(paths)} files) for search")
        ing = Ingestor(store, embedder=embedder)
        rep = ing.run(paths, manifest=manifest)
        # Bundled notes removed from the package: drop them from the index.
        names = {BUNDLED_PREFIX + p.name for p in paths}
        gone = [s for s, e in manifest.items() if e.origin == "bundled" and s not in names]
        if gone:
            store.delete([i for s in gone for i in manifest[s].ids])
            rep.removed += len(gone)
        store.update_state(bundled=fp)
        _bump_local_generation()
        return rep
