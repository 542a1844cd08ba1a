"""The shared-index mode: a real `chroma run` server on loopback, named in config.toml's [store]."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from interviewer.errors import UserError
from interviewer.knowledge import ingest as ingest_mod
from interviewer.knowledge.ingest import ingest
from interviewer.knowledge.retrieve import Retriever, get_retriever, reset_retrievers
from interviewer.knowledge.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.chroma_server]

CHROMA = Path(sys.executable).with_name("chroma")
NOTES = Path(__file__).resolve().parents[1] / "corpus" / "notes"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_heartbeat(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chroma run exited with {proc.returncode} before answering")
        for path in ("/api/v2/heartbeat", "/api/v1/heartbeat"):
            try:
                if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    raise RuntimeError(f"chroma server on port {port} did not answer within {timeout:.0f} s")


@pytest.fixture(scope="module")
def chroma_server():
    if not CHROMA.exists():
        pytest.skip("the chroma CLI is not installed in this environment")
    data = Path(tempfile.mkdtemp(prefix="chroma-server-"))
    port = free_port()
    # The server logs every request: to a file, never to a pipe nobody reads (it would fill and
    # block the server).
    log = open(data.with_suffix(".log"), "w")
    proc = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_heartbeat(port, proc)
        yield {"port": port, "proc": proc, "data": data}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
        shutil.rmtree(data, ignore_errors=True)
        data.with_suffix(".log").unlink(missing_ok=True)


@pytest.fixture(scope="module")
def embedder():
    from interviewer.embedding import get_embedder

    return get_embedder()


def write_config(home: Path, port: int, collection: str = "team-index") -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f'[store]\nhost = "127.0.0.1"\nport = {port}\ncollection = "{collection}"\n', encoding="utf-8"
    )


@pytest.fixture()
def server_home(tmp_path, monkeypatch, chroma_server):
    home = tmp_path / "home"
    write_config(home, chroma_server["port"], collection=f"team-{tmp_path.name[-12:].strip('_-')}x")
    monkeypatch.setenv("INTERVIEWER_HOME", str(home))
    reset_retrievers()
    yield home
    reset_retrievers()


def test_ingest_and_search_through_the_server(server_home, tmp_path, embedder, chroma_server):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bandits.md").write_text(
        "---\ntitle: Bandits for ads\ntopics: [exploration]\ndomains: [ads]\ncompany: Acme\n---\n"
        "# Bandits for ads\n\n## Thompson sampling\n\nThompson sampling explores new ads by drawing from the posterior of each ad's click rate.\n\n"
        "## Epsilon greedy\n\nEpsilon greedy shows a random ad with probability epsilon and the best one otherwise.\n",
        encoding="utf-8",
    )
    (docs / "serving.txt").write_text("Batch inference precomputes scores nightly; online inference answers within milliseconds.\n", encoding="utf-8")
    rep = ingest([docs], embedder=embedder)
    assert (rep.added, rep.failed) == (2, [])
    store = Store.open()
    assert not store.is_local and "127.0.0.1" in store.location
    assert not (server_home / "store").exists()  # nothing on local disk
    assert store.count() == rep.chunks
    # Idempotent through the server too.
    again = ingest([docs], embedder=embedder)
    assert (again.unchanged, again.chunks) == (2, 0)

    # A teammate's process (fresh client) sees the same index.
    reset_retrievers()
    r = Retriever(Store.open(), embedder=embedder)
    top = r.search("posterior sampling to explore new ads", k=2)
    assert top[0].source == str((docs / "bandits.md").resolve())
    assert top[0].heading == "Thompson sampling" and top[0].company == "Acme"
    assert r.search("exploration", k=3, domain="ads") and all("ads" in c.domains for c in r.search("exploration", k=3, domain="ads"))
    assert [c.company for c in r.company_chunks("acme")] == ["Acme", "Acme"]


def test_first_use_and_cli_search_through_the_server(server_home, embedder, monkeypatch):
    from typer.testing import CliRunner

    from interviewer.cli import app

    few = sorted(NOTES.glob("*.md"))[:4]
    monkeypatch.setattr(ingest_mod, "bundled_note_paths", lambda: few)
    notices: list[str] = []
    r = get_retriever(notice=notices.append)
    assert len(notices) == 1 and "bundled notes (4 files)" in notices[0]
    res = CliRunner().invoke(app, ["search", "A/B test sample size and power", "-k", "3", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["results"] and all(x["source"].startswith("notes/") for x in data["results"])
    assert res.stderr == ""  # already indexed on the server: no second notice


def test_server_that_is_down_gives_one_clear_error(tmp_path, monkeypatch):
    home = tmp_path / "home"
    port = free_port()  # nothing listens here
    write_config(home, port)
    monkeypatch.setenv("INTERVIEWER_HOME", str(home))
    reset_retrievers()
    with pytest.raises(UserError) as exc:
        Store.open()
    assert f"cannot reach the Chroma server at http://127.0.0.1:{port}" in exc.value.message
    assert "config.toml" in exc.value.hint

    env = dict(os.environ, INTERVIEWER_HOME=str(home))
    exe = Path(sys.executable).with_name("interviewer")
    for args in (["search", "calibration"], ["ingest", str(tmp_path)]):
        res = subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 1
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: cannot reach the Chroma server"), res.stderr
        assert "Traceback" not in res.stderr


def test_server_going_away_mid_session(server_home, tmp_path, embedder):
    """A server that stops after the store was opened is reported the same way, not as a crash."""
    docs = tmp_path / "d"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nSome words about feature stores and freshness.\n", encoding="utf-8")
    ingest([docs], embedder=embedder)
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="chroma-short-"))
    proc = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_heartbeat(port, proc)
        write_config(server_home, port, collection="short-lived")
        reset_retrievers()
        store = Store.open()
        ingest([docs], embedder=embedder, store=store)
        proc.terminate()
        proc.wait(timeout=10)
        with pytest.raises(UserError) as exc:
            store.count()
        assert "cannot reach the Chroma server" in exc.value.message
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)
