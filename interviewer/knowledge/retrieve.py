"""Retrieval: hybrid lexical + vector search over the store, with document-level aggregation.

Ranking of a query:
1. vector: the query's MiniLM vector against Chroma (cosine), top candidates;
2. lexical: BM25 over the same chunks (title and heading path included), from an in-memory
   inverted index that is cached on disk per index generation;
3. reciprocal rank fusion of the two lists (RRF_K = 60);
4. document-level aggregation: a chunk also scores for the other good chunks of its document, so
   a note that answers the query in several places beats a stray sentence elsewhere.

The chains use `get_retriever()` (one per process); it indexes the bundled notes on first use.
"""

from __future__ import annotations

import os
import pickle
import re
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

RRF_K = 60
VECTOR_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
CANDIDATES = 60  # per list, before fusion
DOC_WEIGHT = 0.3  # how much a chunk's document score adds to its own
DOC_DECAY = 0.5  # document score = best chunk + DOC_DECAY * second + DOC_DECAY^2 * third
STALE_CHECK_SECONDS = 1.0
LEXICAL_CACHE_VERSION = 1


@dataclass
class Chunk:
    id: str
    text: str
    source: str
    title: str
    heading: str
    score: float
    topics: list[str]
    domains: list[str]
    company: str | None = None
    similarity: float | None = None  # cosine similarity to the query, when it was a vector candidate
    index: int = 0  # position of the chunk inside its document

    def citation(self) -> str:
        return f"{self.source}" + (f" ({self.heading})" if self.heading else "")

    def to_json(self) -> dict:
        return {
            "source": self.source,
            "title": self.title,
            "heading": self.heading,
            "score": round(self.score, 4),
            "text": self.text,
            "topics": self.topics,
            "domains": self.domains,
            **({"company": self.company} if self.company else {}),
        }


# ------------------------------------------------------------------------------------------------
# lexical analysis: lowercase words, stop words dropped, a light suffix stemmer

_WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves get got use used using one ever way vs versus also instead much many like
    really actually thing things""".split()
)


def stem(w: str) -> str:
    if len(w) <= 3 or w.isdigit():
        return w
    for suf, rep in (("ational", "ate"), ("ization", "ize"), ("isation", "ize"), ("fulness", "ful"), ("iveness", "ive")):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            w = w[: -len(suf)] + rep
            break
    if w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        w = w[:-1]
    for suf in ("ingly", "edly", "ing", "ed"):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            w = w[: -len(suf)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]
            break
    for suf in ("ation", "ator", "ement", "ment", "ness", "ity", "ly", "al", "er", "ive", "ize", "e"):
        if w.endswith(suf) and len(w) - len(suf) >= 4:
            w = w[: -len(suf)]
            break
    return w


_stem_cache: dict[str, str] = {}


def analyze(text: str) -> list[str]:
    out = []
    for w in _WORD.findall(text.lower()):
        if w in STOP:
            continue
        s = _stem_cache.get(w)
        if s is None:
            s = _stem_cache[w] = stem(w)
        out.append(s)
    return out


class LexicalIndex:
    """BM25 (Okapi, k1=1.2, b=0.75) over an inverted index held in numpy arrays."""

    k1 = 1.2
    b = 0.75

    def __init__(self, docs: list[list[str]]):
        self.n = len(docs)
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[int] = []
        lengths = np.zeros(self.n, dtype=np.float32)
        for d, toks in enumerate(docs):
            lengths[d] = len(toks)
            counts: dict[int, int] = {}
            for t in toks:
                tid = vocab.get(t)
                if tid is None:
                    tid = vocab[t] = len(vocab)
                counts[tid] = counts.get(tid, 0) + 1
            for tid, c in counts.items():
                rows.append(tid)
                cols.append(d)
                tfs.append(c)
        self.vocab = vocab
        order = np.argsort(np.asarray(rows, dtype=np.int64), kind="stable")
        term_of = np.asarray(rows, dtype=np.int64)[order]
        self.post_docs = np.asarray(cols, dtype=np.int32)[order]
        tf = np.asarray(tfs, dtype=np.float32)[order]
        self.offsets = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.add.at(self.offsets, term_of + 1, 1)
        self.offsets = np.cumsum(self.offsets)
        avgdl = float(lengths.mean()) if self.n else 1.0
        norm = self.k1 * (1 - self.b + self.b * lengths / max(avgdl, 1e-9))
        # Precompute the tf part of BM25 per posting: tf * (k1 + 1) / (tf + norm(doc)).
        self.post_w = (tf * (self.k1 + 1) / (tf + norm[self.post_docs])).astype(np.float32)
        df = np.diff(self.offsets).astype(np.float64)
        self.idf = np.log(1 + (self.n - df + 0.5) / (df + 0.5)).astype(np.float32)

    def scores(self, query_terms: list[str]) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.float32)
        for t in set(query_terms):
            tid = self.vocab.get(t)
            if tid is None:
                continue
            a, b = self.offsets[tid], self.offsets[tid + 1]
            out[self.post_docs[a:b]] += self.idf[tid] * self.post_w[a:b]
        return out


@dataclass
class Corpus:
    """Every chunk's text and metadata in memory, plus the lexical index over them."""

    generation: str
    ids: list[str]
    texts: list[str]
    metas: list[dict]
    lexical: LexicalIndex
    row: dict[str, int] = field(default_factory=dict)
    topic_rows: dict[str, np.ndarray] = field(default_factory=dict)
    domain_rows: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def build(cls, store, generation: str) -> "Corpus":
        ids: list[str] = []
        texts: list[str] = []
        metas: list[dict] = []
        for page_ids, docs, page_metas in store.iter_all():
            ids += page_ids
            texts += [d or "" for d in docs or []]
            metas += [m or {} for m in page_metas or []]
        tokens = [analyze(f"{m.get('title', '')} {m.get('heading', '')} {t}") for t, m in zip(texts, metas)]
        return cls(generation, ids, texts, metas, LexicalIndex(tokens))

    def __post_init__(self) -> None:
        self.row = {cid: i for i, cid in enumerate(self.ids)}
        tr: dict[str, list[int]] = defaultdict(list)
        dr: dict[str, list[int]] = defaultdict(list)
        for i, m in enumerate(self.metas):
            for t in as_list(m.get("topics")):
                tr[t.lower()].append(i)
            for d in as_list(m.get("domains")):
                dr[d.lower()].append(i)
        self.topic_rows = {k: np.asarray(v, dtype=np.int64) for k, v in tr.items()}
        self.domain_rows = {k: np.asarray(v, dtype=np.int64) for k, v in dr.items()}

    def __getstate__(self):
        return {k: getattr(self, k) for k in ("generation", "ids", "texts", "metas", "lexical")}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__post_init__()

    def mask(self, topic: str | None, domain: str | None) -> np.ndarray | None:
        if not topic and not domain:
            return None
        m = np.ones(len(self.ids), dtype=bool)
        for key, rows in ((topic, self.topic_rows), (domain, self.domain_rows)):
            if key:
                keep = np.zeros(len(self.ids), dtype=bool)
                r = rows.get(key.strip().lower())
                if r is not None:
                    keep[r] = True
                m &= keep
        return m

    def chunk(self, i: int, score: float, similarity: float | None = None) -> Chunk:
        m = self.metas[i]
        return Chunk(
            id=self.ids[i],
            text=self.texts[i],
            source=str(m.get("source", "")),
            title=str(m.get("title", "")),
            heading=str(m.get("heading", "")),
            score=float(score),
            topics=as_list(m.get("topics")),
            domains=as_list(m.get("domains")),
            company=m.get("company"),
            similarity=similarity,
            index=int(m.get("index", 0) or 0),
        )


def as_list(value) -> list[str]:
    """Metadata lists are stored as comma-joined strings (see ingest.chunk_metadata)."""
    if not value:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def _where(topic: str | None, domain: str | None) -> dict | None:
    parts = []
    if topic:
        parts.append({f"topic:{topic.strip().lower()}": True})
    if domain:
        parts.append({f"domain:{domain.strip().lower()}": True})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


# ------------------------------------------------------------------------------------------------


class Retriever:
    """Search the index. One per store; use `get_retriever()`."""

    def __init__(self, store, embedder=None):
        self.store = store
        self._embedder = embedder
        self._corpus: Corpus | None = None
        self._checked_at = 0.0
        self._seen_local_gen = -1
        self._lock = threading.RLock()

    @property
    def embedder(self):
        if self._embedder is None:
            from interviewer.embedding import get_embedder

            self._embedder = get_embedder()
        return self._embedder

    # -- the in-memory side --------------------------------------------------------------------

    def _cache_path(self) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.store.name)
        if self.store.is_local:
            return self.store.local_path / f"lexical-{safe}.pkl"
        from interviewer.settings import cache_dir

        return cache_dir() / f"lexical-{re.sub(r'[^A-Za-z0-9_.-]+', '_', self.store.location)}.pkl"

    def corpus(self) -> Corpus:
        from interviewer.knowledge.ingest import local_generation

        with self._lock:
            now = time.monotonic()
            moved = local_generation() != self._seen_local_gen
            if self._corpus is not None and not moved and now - self._checked_at < STALE_CHECK_SECONDS:
                return self._corpus
            gen = self.store.generation()
            self._checked_at = now
            self._seen_local_gen = local_generation()
            if self._corpus is not None and gen and self._corpus.generation == gen:
                return self._corpus
            self._corpus = self._load_or_build(gen)
            return self._corpus

    def _load_or_build(self, gen: str) -> Corpus:
        path = self._cache_path()
        if gen:
            try:
                with open(path, "rb") as fh:
                    version, corpus = pickle.load(fh)
                if version == LEXICAL_CACHE_VERSION and corpus.generation == gen:
                    return corpus
            except Exception:  # missing, old or damaged cache: rebuild it
                pass
        corpus = Corpus.build(self.store, gen)
        if gen:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".tmp{os.getpid()}")
                with open(tmp, "wb") as fh:
                    pickle.dump((LEXICAL_CACHE_VERSION, corpus), fh, protocol=pickle.HIGHEST_PROTOCOL)
                tmp.replace(path)
            except OSError:
                pass
        return corpus

    # -- ranking -------------------------------------------------------------------------------

    def _rank(self, corpus: Corpus, query: str, n: int, topic: str | None = None, domain: str | None = None) -> list[tuple[int, float, float | None]]:
        """(row of `corpus`, fused score in 0..1, cosine similarity or None), best first, at most n."""
        if not corpus.ids:
            return []
        vec = self.embedder.encode([query])[0]
        n_cand = max(CANDIDATES, 2 * n)
        ids, dists = self.store.query(vec, min(n_cand, len(corpus.ids)), where=_where(topic, domain))
        sims: dict[int, float] = {}
        vec_rank: dict[int, int] = {}
        for cid, d in zip(ids, dists):
            r = corpus.row.get(cid)
            if r is None:  # written after our snapshot: the next reload picks it up
                continue
            vec_rank[r] = len(vec_rank)
            sims[r] = 1.0 - float(d)
        lex = corpus.lexical.scores(analyze(query))
        mask = corpus.mask(topic, domain)
        if mask is not None:
            lex = np.where(mask, lex, 0.0)
        lex_rank: dict[int, int] = {}
        nz = np.flatnonzero(lex > 0)
        if nz.size:
            top = nz[np.argsort(-lex[nz], kind="stable")[:n_cand]]
            lex_rank = {int(r): i for i, r in enumerate(top)}
        fused: dict[int, float] = defaultdict(float)
        for r, i in vec_rank.items():
            fused[r] += VECTOR_WEIGHT / (RRF_K + i + 1)
        for r, i in lex_rank.items():
            fused[r] += LEXICAL_WEIGHT / (RRF_K + i + 1)
        if not fused:
            return []
        # Document-level aggregation.
        by_doc: dict[str, list[float]] = defaultdict(list)
        for r, s in fused.items():
            by_doc[corpus.metas[r].get("source", "")].append(s)
        doc_score = {}
        for src, scores in by_doc.items():
            scores.sort(reverse=True)
            doc_score[src] = sum(s * DOC_DECAY**i for i, s in enumerate(scores[:3]))
        best = (VECTOR_WEIGHT + LEXICAL_WEIGHT) / (RRF_K + 1)
        top_possible = best * (1 + DOC_WEIGHT * (1 + DOC_DECAY + DOC_DECAY**2))
        final = {
            r: (s + DOC_WEIGHT * doc_score[corpus.metas[r].get("source", "")]) / top_possible for r, s in fused.items()
        }
        order = sorted(final, key=lambda r: (-final[r], r))[:n]
        return [(r, min(1.0, final[r]), sims.get(r)) for r in order]

    def search(self, query: str, k: int = 5, topic: str | None = None, domain: str | None = None) -> list[Chunk]:
        """The k best chunks for a query, optionally only those of a topic and/or domain."""
        query = (query or "").strip()
        if not query or k <= 0:
            return []
        with self._lock:
            corpus = self.corpus()
            return [corpus.chunk(r, s, sim) for r, s, sim in self._rank(corpus, query, k, topic, domain)]

    def rank_sources(self, query: str, n: int = 10, topic: str | None = None, domain: str | None = None) -> list[str]:
        """Distinct sources in the order their best chunk ranks."""
        out: list[str] = []
        for c in self.search(query, k=max(50, 5 * n), topic=topic, domain=domain):
            if c.source not in out:
                out.append(c.source)
            if len(out) >= n:
                break
        return out

    def context_for(self, query: str, topics: list[str] | None = None, profile=None, budget_tokens: int = 800) -> list[Chunk]:
        """The best chunks for grounding an LLM within `budget_tokens` (interviewer.tokens.count_tokens).

        Chunks of the requested topics, of the role's focus topics and domains, and of its
        company's posts are boosted. At most 3 chunks per source; each keeps its source for citation.
        """
        from interviewer.tokens import count_tokens

        query = (query or "").strip()
        if not query or budget_tokens <= 0:
            return []
        want_topics = {t.lower() for t in (topics or [])}
        want_domains: set[str] = set()
        company = None
        if profile is not None:
            try:
                want_topics |= {t.lower() for t in profile.focus_topics()}
            except Exception:
                pass
            want_domains = {str(d).lower() for d in (getattr(profile, "domains", None) or [])}
            company = (getattr(profile, "company", None) or "").strip().lower() or None
        cands = self.search(query, k=40)
        if not cands:
            return []
        for c in cands:
            boost = 1.0
            if want_topics and {t.lower() for t in c.topics} & want_topics:
                boost += 0.25
            if want_domains and {d.lower() for d in c.domains} & want_domains:
                boost += 0.1
            if company and c.company and _company_match(company, c.company):
                boost += 0.2
            c.score *= boost
        cands.sort(key=lambda c: -c.score)
        floor = 0.35 * cands[0].score  # do not pad the budget with chunks far below the best
        out: list[Chunk] = []
        used = 0
        per_source: dict[str, int] = defaultdict(int)
        for c in cands:
            if c.score < floor or per_source[c.source] >= 3:
                continue
            cost = count_tokens(f"[{c.source}] {c.text}\n\n")
            if used + cost > budget_tokens:
                continue
            out.append(c)
            used += cost
            per_source[c.source] += 1
        return out

    def company_chunks(self, company: str, k: int = 8) -> list[Chunk]:
        """Chunks of ingested posts of that company (talking points), spread over its posts."""
        key = (company or "").strip().lower()
        if not key or k <= 0:
            return []
        with self._lock:
            corpus = self.corpus()
            by_source: dict[str, list[int]] = defaultdict(list)
            for i, m in enumerate(corpus.metas):
                if m.get("company") and _company_match(key, str(m.get("company_key") or m.get("company"))):
                    by_source[str(m.get("source", ""))].append(i)
            for rows in by_source.values():
                rows.sort(key=lambda i: int(corpus.metas[i].get("index", 0) or 0))
            out: list[Chunk] = []
            depth = 0
            while len(out) < k and any(depth < len(r) for r in by_source.values()):
                for src in sorted(by_source):
                    rows = by_source[src]
                    if depth < len(rows) and len(out) < k:
                        out.append(corpus.chunk(rows[depth], 1.0))
                depth += 1
            return out


def _company_match(wanted: str, have: str) -> bool:
    a, b = wanted.strip().lower(), have.strip().lower()
    if not a or not b:
        return False
    if a == b:
        return True
    return bool(re.search(rf"\b{re.escape(a)}\b", b) or re.search(rf"\b{re.escape(b)}\b", a))


# ------------------------------------------------------------------------------------------------
# one retriever per process

_retrievers: dict[str, Retriever] = {}
_retrievers_lock = threading.Lock()


def _stderr_notice(message: str) -> None:
    print(f"note: {message}", file=sys.stderr, flush=True)


def get_retriever(config=None, notice: Callable[[str], None] | None = None) -> Retriever:
    """The process-wide retriever for the configured store.

    On first use in a fresh INTERVIEWER_HOME (or after the bundled notes changed) it indexes the
    bundled notes and calls `notice(message)` first (default: one line on stderr).
    """
    from interviewer.knowledge.ingest import ensure_bundled
    from interviewer.knowledge.store import Store
    from interviewer.settings import load_config

    cfg = config if config is not None else load_config()
    store = Store.open(cfg)
    with _retrievers_lock:
        r = _retrievers.get(store.key)
        if r is None:
            ensure_bundled(store, notice=notice or _stderr_notice)
            r = _retrievers[store.key] = Retriever(store)
        return r


def reset_retrievers() -> None:
    """Forget every cached retriever and client (tests; after a rebuild)."""
    from interviewer.knowledge.store import forget_clients

    with _retrievers_lock:
        _retrievers.clear()
    forget_clients()


# ------------------------------------------------------------------------------------------------
# retrieval evals


def _stem(source: str) -> str:
    return Path(source).stem


def run_retrieval_suite(suite, k_values=(1, 3, 5, 10), retriever: Retriever | None = None) -> dict:
    """Run a `kind: retrieval` suite: hit@k for each k and MRR over distinct sources.

    A case is a hit at k when one of the first k distinct source stems (Path(source).stem) of the
    ranked chunks is in its expected_sources.
    """
    retriever = retriever or get_retriever()
    k_values = tuple(sorted(set(int(k) for k in k_values)))
    depth = max(k_values) if k_values else 10
    cases = []
    hits = {k: 0 for k in k_values}
    rr = 0.0
    for case in suite.cases:
        expected = list(case.expected_sources or [])
        stems: list[str] = []
        for src in retriever.rank_sources(case.query or "", n=max(depth, 10)):
            s = _stem(src)
            if s not in stems:
                stems.append(s)
        rank = next((i + 1 for i, s in enumerate(stems) if s in expected), None)
        for k in k_values:
            if rank is not None and rank <= k:
                hits[k] += 1
        rr += 1.0 / rank if rank else 0.0
        cases.append({"id": case.id, "expected": expected, "actual": stems[:depth], "rank": rank})
    n = max(1, len(suite.cases))
    metrics = {f"hit@{k}": round(hits[k] / n, 4) for k in k_values}
    metrics["mrr"] = round(rr / n, 4)
    return {"metrics": metrics, "cases": cases}
