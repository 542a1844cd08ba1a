"""The retrieval layer against a real Chroma on disk (INTERVIEWER_HOME in a temp dir).

Module-scoped fixtures share one embedder and one index of the bundled notes; tests that write use
their own small homes.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from interviewer.errors import UserError
from interviewer.knowledge import ingest as ingest_mod
from interviewer.knowledge import store as store_mod
from interviewer.knowledge.chunking import MAX_TOKENS, chunk_document
from interviewer.knowledge.ingest import ensure_bundled, ingest
from interviewer.knowledge.loaders import LoadError, company_from_sitename, load_file
from interviewer.knowledge.retrieve import Retriever, analyze, get_retriever, reset_retrievers, run_retrieval_suite
from interviewer.knowledge.store import Store

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "corpus" / "notes"


# ------------------------------------------------------------------------------------------------
# helpers


def text_pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF with a real text layer (Helvetica), offsets computed by hand."""
    esc = [ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for ln in lines]
    content = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({ln}) '" for ln in esc) + " ET"
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{o}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def blank_pdf() -> bytes:
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(612, 792)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


BLOG_HTML = """<!doctype html><html><head><meta charset="utf-8">
<title>How we calibrate ad click predictions | Acme Engineering</title>
<meta property="og:site_name" content="Acme Engineering Blog">
</head><body>
<nav class="menu"><a href="/">Home</a> <a href="/blog">Blog</a> <a href="/careers">Careers at Acme</a></nav>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience. Accept all cookies or manage preferences.</div>
<article>
<h1>How we calibrate ad click predictions</h1>
<p>Our ads ranking system predicts click-through rate with a deep model trained on billions of impressions each day, and the auction multiplies the bid by that prediction.</p>
<h2>Isotonic calibration per slot</h2>
<p>Because we downsample negatives during training, raw predictions are far too high. We fit isotonic regression on a held-out day of traffic for every ad slot and monitor the calibration ratio every hour.</p>
<h2>Serving</h2>
<p>The calibrated model is served on CPUs with a latency budget of twenty milliseconds at the ninety-ninth percentile, with features cached close to the ranking service.</p>
</article>
<footer>Copyright 2024 Acme Inc. Privacy policy. Terms of service. Subscribe to our newsletter.</footer>
</body></html>"""

NO_ARTICLE_HTML = "<html><body><nav><a href='/'>Home</a></nav><footer>Copyright</footer></body></html>"

RANK_MD = """---
title: My ranking notes
topics: [learning-to-rank, recsys-metrics]
domains: [recsys]
company: Globex
---
# My ranking notes

## LambdaMART

LambdaMART combines LambdaRank gradients with gradient boosted trees, so it optimizes NDCG through lambda gradients.

## Position bias

Use inverse propensity weighting; estimate the propensities from a small result-randomization experiment.
"""


def write_docs(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "rank": folder / "rank.md",
        "fs": folder / "feature-stores.txt",
        "blog": folder / "posts" / "acme-calibration.html",
        "paper": folder / "papers" / "attention.pdf",
    }
    files["blog"].parent.mkdir(parents=True, exist_ok=True)
    files["paper"].parent.mkdir(parents=True, exist_ok=True)
    files["rank"].write_text(RANK_MD, encoding="utf-8")
    files["fs"].write_text(
        "Feature stores keep online and offline features consistent.\n\n"
        "Point-in-time joins stop label leakage when building training sets.\n",
        encoding="utf-8",
    )
    files["blog"].write_text(BLOG_HTML, encoding="utf-8")
    files["paper"].write_bytes(
        text_pdf(
            [
                "Attention Is All You Need",
                "We propose the Transformer, a network architecture based solely on attention mechanisms.",
                "It dispenses with recurrence and convolutions entirely and trains much faster.",
            ]
        )
    )
    return files


class FakeEmbedder:
    """Deterministic vectors without the model (for the big-folder test): the real tokenizer."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def encode(self, texts, batch_size=64):
        out = np.empty((len(texts), 384), dtype=np.float32)
        for i, t in enumerate(texts):
            seed = int.from_bytes(hashlib.sha1(t.encode()).digest()[:4], "little")
            v = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out


@pytest.fixture(scope="module")
def embedder():
    from interviewer.embedding import get_embedder

    return get_embedder()


@pytest.fixture()
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("INTERVIEWER_HOME", str(h))
    reset_retrievers()
    yield h
    reset_retrievers()


@pytest.fixture(scope="module")
def notes_retriever(embedder):
    """One index of all the bundled notes, shared by the read-only tests of this module.

    Its home is a plain temp dir, not pytest's tmp_path_factory: other pytest runs on the machine
    rotate old basetemp folders away, which could delete this one during a slow run.
    """
    mp = pytest.MonkeyPatch()
    h = Path(tempfile.mkdtemp(prefix="interviewer-notes-home-"))
    mp.setenv("INTERVIEWER_HOME", str(h))
    reset_retrievers()
    notices: list[str] = []
    r = get_retriever(notice=notices.append)
    r.notices = notices
    r.home = h
    yield r
    reset_retrievers()
    mp.undo()
    shutil.rmtree(h, ignore_errors=True)


def docs_in_store(store: Store) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ids, docs, metas in store.iter_all():
        for d, m in zip(docs, metas):
            out.setdefault(m["source"], []).append(d)
    return out


# ------------------------------------------------------------------------------------------------
# loaders and chunking


def test_markdown_front_matter_and_html_article(tmp_path):
    files = write_docs(tmp_path / "docs")
    md = load_file(files["rank"])
    assert md.title == "My ranking notes"
    assert md.topics == ["learning-to-rank", "recsys-metrics"] and md.domains == ["recsys"]
    assert md.company == "Globex" and md.kind == "markdown"

    html = load_file(files["blog"])
    assert html.kind == "html"
    assert "isotonic regression" in html.text
    for boilerplate in ("cookies", "Careers", "Copyright", "Privacy policy", "newsletter"):
        assert boilerplate not in html.text
    assert html.company == "Acme"
    assert "## Isotonic calibration per slot" in html.text

    pdf = load_file(files["paper"])
    assert pdf.kind == "pdf" and "Transformer" in pdf.text and pdf.pages


def test_company_from_sitename():
    assert company_from_sitename("Netflix TechBlog") == "Netflix"
    assert company_from_sitename("Uber Engineering Blog") == "Uber"
    assert company_from_sitename("Spotify Engineering") == "Spotify"
    assert company_from_sitename("Stripe") == "Stripe"
    assert company_from_sitename(None) is None


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("empty.md", b"", "empty"),
        ("blank.txt", b"  \n\n  ", "empty"),
        ("junk.txt", bytes(range(256)) * 20, "binary"),
        ("latin.txt", "Café crème brûlée: notes about boosting written in latin-1.".encode("latin-1"), "UTF-8"),
        ("scan.pdf", None, "no text layer"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage garbage", "PDF"),
        ("fake.pdf", b"this is not a pdf at all, just text with a pdf suffix", "not a PDF"),
        ("nobody.html", NO_ARTICLE_HTML.encode(), "no article"),
        ("image.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "unsupported"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 20 else "",
)
def test_bad_files_give_reasons(tmp_path, name, data, reason):
    p = tmp_path / name
    p.write_bytes(blank_pdf() if data is None else data)
    with pytest.raises(LoadError) as exc:
        load_file(p)
    assert reason.lower() in str(exc.value).lower()


@pytest.mark.slow
def test_chunks_fit_the_model_and_keep_headings(embedder):
    tok = embedder.tokenizer
    total = 0
    for path in sorted(NOTES.glob("*.md"))[:20]:
        doc = load_file(path)
        pieces = chunk_document(doc, tok)
        assert pieces, path
        total += len(pieces)
        for p in pieces:
            assert len(tok.encode(p.embed_text).ids) <= MAX_TOKENS  # [CLS] + prefix + text + [SEP]
            assert p.embed_text.startswith(doc.title)
            assert p.text.strip()
        assert any(p.heading for p in pieces)
    assert total > 100
    # Long sections are split with overlap: consecutive chunks of one section share words.
    doc = load_file(NOTES / "calibration.md")
    pieces = chunk_document(doc, tok)
    pairs = [(a, b) for a, b in zip(pieces, pieces[1:]) if a.heading == b.heading]
    assert any(set(a.text.split()[-12:]) & set(b.text.split()[:12]) for a, b in pairs)


def test_chunking_never_uses_gpt2():
    src = (ROOT / "interviewer" / "knowledge" / "chunking.py").read_text()
    assert "TokenTextSplitter(" not in src and "gpt2" not in src


def test_lexical_analyzer_stems_and_drops_stop_words():
    assert analyze("The models were calibrated") == analyze("model calibrating")
    assert "the" not in analyze("the clicks")


# ------------------------------------------------------------------------------------------------
# ingest: incremental, replacement, pruning, metadata


@pytest.mark.slow
def test_ingest_is_incremental_and_idempotent(home, tmp_path, embedder, monkeypatch):
    files = write_docs(tmp_path / "docs")
    first = ingest([tmp_path / "docs"], embedder=embedder)
    assert (first.added, first.updated, first.unchanged, first.failed) == (4, 0, 0, [])
    assert first.chunks > 4
    store = Store.open()
    count = store.count()
    gen = store.generation()

    writes = []
    with monkeypatch.context() as mp:
        mp.setattr(Store, "add", lambda self, *a, **k: writes.append("add"))
        mp.setattr(Store, "delete", lambda self, *a, **k: writes.append("delete"))
        mp.setattr(Store, "update_state", lambda self, **k: writes.append("state"))
        second = ingest([tmp_path / "docs"], embedder=embedder)
    assert (second.added, second.updated, second.unchanged, second.chunks) == (0, 0, 4, 0)
    assert writes == []
    assert store.count() == count and store.generation() == gen


@pytest.mark.slow
def test_changed_file_replaces_its_chunks(home, tmp_path, embedder):
    files = write_docs(tmp_path / "docs")
    ingest([tmp_path / "docs"], embedder=embedder)
    store = Store.open()
    files["fs"].write_text("Completely new text about online feature freshness and streaming updates.\n", encoding="utf-8")
    rep = ingest([tmp_path / "docs"], embedder=embedder)
    assert (rep.added, rep.updated, rep.unchanged) == (0, 1, 3)
    texts = docs_in_store(store)[str(files["fs"].resolve())]
    assert len(texts) == 1 and "feature freshness" in texts[0]
    assert not any("Point-in-time" in t for ts in docs_in_store(store).values() for t in ts)


@pytest.mark.slow
def test_old_chunks_survive_a_failed_write(home, tmp_path, embedder, monkeypatch):
    files = write_docs(tmp_path / "docs")
    ingest([tmp_path / "docs"], embedder=embedder)
    store = Store.open()
    before = docs_in_store(store)[str(files["fs"].resolve())]
    files["fs"].write_text("A changed file whose new chunks never reach the index.\n", encoding="utf-8")

    def boom(self, *a, **k):
        raise UserError("the index is damaged (simulated)", "rebuild it")

    with monkeypatch.context() as mp:
        mp.setattr(Store, "add", boom)
        with pytest.raises(UserError):
            ingest([tmp_path / "docs"], embedder=embedder)
    assert docs_in_store(store)[str(files["fs"].resolve())] == before
    rep = ingest([tmp_path / "docs"], embedder=embedder)  # and the next run catches up
    assert rep.updated == 1


@pytest.mark.slow
def test_prune_drops_only_gone_files_under_the_given_paths(home, tmp_path, embedder):
    files = write_docs(tmp_path / "docs")
    other = tmp_path / "other" / "keep.md"
    other.parent.mkdir()
    other.write_text("# Keep\n\nA note outside the pruned folder that later disappears too.\n", encoding="utf-8")
    ingest([tmp_path / "docs", other], embedder=embedder)
    files["fs"].unlink()
    other.unlink()
    rep = ingest([tmp_path / "docs"], embedder=embedder)
    assert rep.removed == 0
    assert str(files["fs"].resolve()) in docs_in_store(Store.open())
    rep = ingest([tmp_path / "docs"], prune=True, embedder=embedder)
    assert rep.removed == 1 and rep.unchanged == 3 and not rep.failed
    sources = docs_in_store(Store.open())
    assert str(files["fs"].resolve()) not in sources
    assert str(other.resolve()) in sources  # not under the given paths: kept
    # A named file that is gone is pruned too (and is not a failure then).
    rep = ingest([other], prune=True, embedder=embedder)
    assert rep.removed == 1 and not rep.failed


@pytest.mark.slow
def test_chunk_metadata(home, tmp_path, embedder):
    files = write_docs(tmp_path / "docs")
    ingest([tmp_path / "docs"], embedder=embedder)
    metas = {}
    for ids, docs, ms in Store.open().iter_all():
        for m in ms:
            metas.setdefault(m["source"], []).append(m)
    rank = metas[str(files["rank"].resolve())]
    assert {m["heading"] for m in rank} == {"LambdaMART", "Position bias"}
    m = rank[0]
    assert m["title"] == "My ranking notes" and m["topics"] == "learning-to-rank,recsys-metrics"
    assert m["topic:learning-to-rank"] is True and m["domain:recsys"] is True
    assert m["domains"] == "recsys" and m["company"] == "Globex"
    assert m["hash"] == hashlib.sha256(files["rank"].read_bytes()).hexdigest()
    blog = metas[str(files["blog"].resolve())]
    assert all(b["company"] == "Acme" for b in blog)
    assert blog[0]["title"] == "How we calibrate ad click predictions"
    assert any(b["heading"] == "Isotonic calibration per slot" for b in blog)
    pdf = metas[str(files["paper"].resolve())]
    assert pdf[0]["heading"] == "page 1" and pdf[0]["kind"] == "pdf"


@pytest.mark.slow
def test_bad_inputs_are_reported_and_the_rest_ingested(home, tmp_path, embedder):
    d = tmp_path / "mixed"
    files = write_docs(d)
    (d / "empty.md").write_bytes(b"")
    (d / "junk.txt").write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    (d / "latin.txt").write_bytes("Crème brûlée and café notes on gradient boosting, in latin-1.".encode("latin-1"))
    (d / "scan.pdf").write_bytes(blank_pdf())
    (d / "nobody.html").write_text(NO_ARTICLE_HTML, encoding="utf-8")
    (d / "photo.jpg").write_bytes(b"\xff\xd8\xff" + b"\x00" * 50)  # other types inside a folder: skipped
    rep = ingest([d, tmp_path / "does-not-exist.md"], embedder=embedder)
    reasons = {Path(f["path"]).name: f["reason"] for f in rep.failed}
    assert set(reasons) == {"empty.md", "junk.txt", "latin.txt", "scan.pdf", "nobody.html", "does-not-exist.md"}
    assert "empty" in reasons["empty.md"] and "binary" in reasons["junk.txt"]
    assert "UTF-8" in reasons["latin.txt"] and "text layer" in reasons["scan.pdf"]
    assert "article" in reasons["nobody.html"] and "does not exist" in reasons["does-not-exist.md"]
    assert rep.added == 4 and rep.skipped == 1
    assert set(rep.to_json()) >= {"added", "updated", "unchanged", "removed", "failed", "chunks"}


def test_many_files_in_one_folder(home, tmp_path):
    """A big folder streams through in groups (no model needed: deterministic vectors)."""
    from tokenizers import Tokenizer

    from interviewer.embedding import model_dir

    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    d = tmp_path / "many"
    d.mkdir()
    n = 1500
    for i in range(n):
        (d / f"note-{i:05d}.txt").write_text(f"Note {i}: item {i} is about topic {i % 37} and feature {i % 11}.\n", encoding="utf-8")
    fake = FakeEmbedder(tok)
    seen = []

    class Bar:
        def start(self, total):
            seen.append(("start", total))

        def advance(self, n=1, description=None):
            seen.append(("advance", n))

        def finish(self):
            seen.append(("finish", 0))

    t = time.time()
    rep = ingest([d], embedder=fake, progress=Bar())
    assert rep.added == n and rep.chunks == n and not rep.failed
    assert seen[0] == ("start", n) and sum(x for k, x in seen if k == "advance") == n
    again = ingest([d], embedder=fake)
    assert again.unchanged == n and again.chunks == 0
    assert time.time() - t < 60


# ------------------------------------------------------------------------------------------------
# search, context, company posts, first use


@pytest.mark.slow
def test_first_use_indexes_bundled_notes_with_a_notice(notes_retriever):
    assert len(notes_retriever.notices) == 1 and "bundled notes" in notes_retriever.notices[0]
    srcs = {c.source for c in notes_retriever.search("platt scaling isotonic regression", k=5)}
    assert "notes/calibration.md" in srcs
    # Asking again in the same index says nothing and indexes nothing.
    notices: list[str] = []
    assert ensure_bundled(notes_retriever.store, notice=notices.append) is None and notices == []


@pytest.mark.slow
def test_search_results_and_filters(notes_retriever):
    res = notes_retriever.search("how do I correct click predictions after negative downsampling", k=5)
    assert len(res) == 5
    assert all(r.source and r.title and r.text for r in res)
    assert res == sorted(res, key=lambda r: -r.score) and 0 < res[-1].score <= res[0].score <= 1
    t = notes_retriever.search("training a model", k=8, topic="calibration")
    assert t and all("calibration" in r.topics for r in t)
    dm = notes_retriever.search("latency", k=8, domain="ads")
    assert dm and all("ads" in r.domains for r in dm)
    both = notes_retriever.search("metrics", k=8, topic="calibration", domain="tabular")
    assert all("calibration" in r.topics and "tabular" in r.domains for r in both)
    assert notes_retriever.search("anything", k=5, topic="no-such-topic") == []
    assert notes_retriever.search("   ", k=5) == []


@pytest.mark.slow
def test_context_for_stays_within_budget_and_cites(notes_retriever):
    from interviewer.schema import FocusTopic, RoleProfile
    from interviewer.tokens import count_tokens

    for budget in (120, 400, 800):
        ctx = notes_retriever.context_for("explain the bias variance trade-off", budget_tokens=budget)
        assert ctx and sum(count_tokens(c.text) for c in ctx) <= budget
        assert all(c.source for c in ctx)
    assert len(notes_retriever.context_for("explain bias and variance", budget_tokens=120)) <= len(
        notes_retriever.context_for("explain bias and variance", budget_tokens=800)
    )
    profile = RoleProfile(
        responsibility="modeling",
        specialization="specialist",
        domains=["ads"],
        level="senior",
        focus=[FocusTopic(topic="calibration")],
    )
    ctx = notes_retriever.context_for("how should predicted probabilities be post-processed", profile=profile, budget_tokens=600)
    assert ctx and ctx[0].source == "notes/calibration.md"
    assert notes_retriever.context_for("anything", budget_tokens=0) == []


@pytest.mark.slow
def test_retrieval_evals_reach_the_bar(notes_retriever):
    from interviewer.schema import EvalSuite

    allcases = []
    for f in sorted((ROOT / "evals" / "retrieval").glob("*.yaml")):
        suite = EvalSuite.model_validate(yaml.safe_load(f.read_text(encoding="utf-8")))
        res = run_retrieval_suite(suite, retriever=notes_retriever)
        assert set(res["metrics"]) == {"hit@1", "hit@3", "hit@5", "hit@10", "mrr"}
        assert {"id", "expected", "actual", "rank"} <= set(res["cases"][0])
        allcases += res["cases"]
    hit5 = sum(1 for c in allcases if c["rank"] and c["rank"] <= 5) / len(allcases)
    assert hit5 >= 0.9


@pytest.mark.slow
def test_company_chunks_and_search_over_ingested_posts(home, tmp_path, embedder):
    files = write_docs(tmp_path / "docs")
    ingest([tmp_path / "docs"], embedder=embedder)
    r = Retriever(Store.open(), embedder=embedder)
    acme = r.company_chunks("acme", k=8)
    assert acme and all(c.company == "Acme" for c in acme)
    assert acme[0].source == str(files["blog"].resolve()) and acme[0].index == 0
    assert [c.company for c in r.company_chunks("Globex")] == ["Globex"] * len(r.company_chunks("Globex"))
    assert r.company_chunks("Initech") == []
    top = r.search("isotonic calibration for each ad slot", k=3)
    assert top[0].source == str(files["blog"].resolve())
    # A fresh ingest is visible to an existing retriever at once.
    extra = tmp_path / "docs" / "new.md"
    extra.write_text("# Bandits\n\nThompson sampling explores new ads with posterior draws.\n", encoding="utf-8")
    ingest([extra], embedder=embedder)
    assert r.search("thompson sampling posterior", k=1)[0].source == str(extra.resolve())


@pytest.mark.slow
def test_lexical_cache_is_reused_and_invalidated(home, tmp_path, embedder):
    write_docs(tmp_path / "docs")
    ingest([tmp_path / "docs"], embedder=embedder)
    r = Retriever(Store.open(), embedder=embedder)
    c1 = r.corpus()
    cache = r._cache_path()
    assert cache.exists()
    r2 = Retriever(Store.open(), embedder=embedder)
    assert r2.corpus().ids == c1.ids
    cache.write_bytes(b"not a pickle")  # a damaged cache is rebuilt, never an error
    assert Retriever(Store.open(), embedder=embedder).corpus().ids == c1.ids


# ------------------------------------------------------------------------------------------------
# broken stores


def test_corrupted_store_gives_a_rebuild_command(home):
    st = home / "store"
    st.mkdir()
    (st / "chroma.sqlite3").write_bytes(b"this is not a database" * 500)
    with pytest.raises(UserError) as exc:
        Store.open()
    assert "damaged" in exc.value.message and "--rebuild" in exc.value.hint and "rm -rf" in exc.value.hint


def test_store_path_that_is_a_file(home):
    (home / "store").write_text("oops")
    with pytest.raises(UserError) as exc:
        Store.open()
    assert "rebuild" in exc.value.hint


def test_locked_store_is_reported_not_hung(home, monkeypatch):
    Store.open()  # create it
    store_mod.forget_clients(home / "store")
    monkeypatch.setattr(store_mod, "LOCK_TIMEOUT", 0.3)
    con = sqlite3.connect(str(home / "store" / "chroma.sqlite3"), isolation_level=None)
    con.execute("BEGIN EXCLUSIVE")
    try:
        t = time.time()
        with pytest.raises(UserError) as exc:
            store_mod.probe_local(home / "store", timeout=0.3)
        assert "locked" in exc.value.message and time.time() - t < 5
    finally:
        con.execute("ROLLBACK")
        con.close()
    Store.open()  # and fine again once the lock is gone


def test_concurrent_ingest_is_refused(home, tmp_path):
    store = Store.open()
    with ingest_mod.ingest_lock(store) as got:
        assert got
        with pytest.raises(UserError) as exc:
            ingest([tmp_path], store=store)
        assert "another ingest" in exc.value.message


@pytest.mark.slow
def test_rebuild_recovers_a_corrupted_store(home, tmp_path, embedder):
    write_docs(tmp_path / "docs")
    ingest([tmp_path / "docs"], embedder=embedder)
    store_mod.forget_clients(home / "store")
    (home / "store" / "chroma.sqlite3").write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(UserError):
        ingest([tmp_path / "docs"], embedder=embedder)
    rep = ingest([tmp_path / "docs"], rebuild=True, embedder=embedder)
    assert rep.added == 4 and Store.open().count() == rep.chunks


@pytest.mark.parametrize("damage", ["garbage", "truncated", "missing"])
def test_damaged_vector_segment_is_a_user_error(home, damage):
    """Checked before Chroma reads it: its native HNSW reader may crash on a damaged file."""
    store = Store.open()
    vecs = np.random.default_rng(1).standard_normal((1200, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    store.add([f"id{i}" for i in range(1200)], vecs, [f"doc {i}" for i in range(1200)], [{"source": "s"}] * 1200)
    store_mod.forget_clients(home / "store")
    segs = list((home / "store").glob("*/data_level0.bin"))
    assert segs
    for s in segs:
        if damage == "garbage":
            s.write_bytes(b"\x01" * 64)
        elif damage == "truncated":
            s.write_bytes(s.read_bytes()[: s.stat().st_size // 2])
        else:
            s.unlink()
    with pytest.raises(UserError) as exc:
        Store.open()
    assert "damaged" in exc.value.message and "rebuild" in exc.value.hint


# ------------------------------------------------------------------------------------------------
# the command line


@pytest.mark.slow
def test_cli_ingest_json_and_exit_codes(home, tmp_path, embedder):
    from typer.testing import CliRunner

    from interviewer.cli import app

    write_docs(tmp_path / "docs")
    (tmp_path / "docs" / "junk.txt").write_bytes(b"\x00\x01\x02binary" * 100)
    runner = CliRunner()
    res = runner.invoke(app, ["ingest", str(tmp_path / "docs"), "--json"])
    assert res.exit_code == 1, res.output
    data = json.loads(res.stdout)
    assert data["added"] == 4 and data["chunks"] > 0
    assert data["failed"] == [{"path": str(tmp_path / "docs" / "junk.txt"), "reason": "is a binary file, not text"}]
    (tmp_path / "docs" / "junk.txt").unlink()
    res = runner.invoke(app, ["ingest", str(tmp_path / "docs")])
    assert res.exit_code == 0 and "unchanged 4" in res.stdout


@pytest.mark.slow
def test_cli_search_json(notes_retriever, monkeypatch):
    from typer.testing import CliRunner

    from interviewer.cli import app

    monkeypatch.setenv("INTERVIEWER_HOME", str(notes_retriever.home))  # over any per-test home

    res = CliRunner().invoke(app, ["search", "isotonic regression versus platt scaling", "-k", "3", "--topic", "calibration", "--json"])
    assert res.exit_code == 0, res.output
    assert res.stderr == ""  # the notes are indexed already: no notice, no work
    data = json.loads(res.stdout)
    assert data["query"] == "isotonic regression versus platt scaling"
    assert len(data["results"]) == 3
    r0 = data["results"][0]
    assert set(r0) >= {"source", "title", "heading", "score", "text", "topics", "domains"}
    assert r0["source"] == "notes/calibration.md" and "calibration" in r0["topics"]
    res = CliRunner().invoke(app, ["search", "calibration", "-k", "2"])
    assert res.exit_code == 0 and "calibration" in res.stdout
