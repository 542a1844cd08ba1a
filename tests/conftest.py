"""Shared fixtures: every test gets its own INTERVIEWER_HOME and no real endpoint settings."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_openai import FakeOpenAI  # noqa: E402

# The ONNX export of the bundled model is a derived artifact shared by all tests (made once).
os.environ.setdefault("INTERVIEWER_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".cache"))

_ENDPOINT_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "INTERVIEWER_MODEL", "INTERVIEWER_PROFILE", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID")


@pytest.fixture(autouse=True)
def interviewer_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("INTERVIEWER_HOME", str(home))
    for var in _ENDPOINT_VARS:
        monkeypatch.delenv(var, raising=False)
    import interviewer.llm as llm_mod

    llm_mod._method_cache.clear()
    return home


@pytest.fixture
def fake_llm():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def _shared_server():
    """One loopback server per test module (stopping a server costs ~0.5 s); reset per test."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def server(_shared_server):
    _shared_server.reset()
    return _shared_server


@pytest.fixture(scope="session")
def embedder():
    from interviewer.embedding import get_embedder

    return get_embedder()


@pytest.fixture(scope="session")
def bank():
    from interviewer.bank import load_bank

    return load_bank()


@pytest.fixture
def reuse_session_bank(monkeypatch, bank):
    """Parsing the bundled bank costs ~1 s per command in-process: reuse the session's copy
    whenever the home has no questions of its own (the only difference load_bank would make)."""
    import interviewer.bank as bank_mod

    real = bank_mod.load_bank

    def load_bank(extra_dirs=()):
        if any(Path(d).exists() for d in extra_dirs):
            return real(extra_dirs=extra_dirs)
        return bank

    monkeypatch.setattr(bank_mod, "load_bank", load_bank)


@pytest.fixture(scope="session")
def offline_grader(embedder, bank):
    from interviewer.chains.grader import OfflineGrader

    g = OfflineGrader(embedder=embedder, bank=bank)
    g.warm()
    return g
