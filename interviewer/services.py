"""Wiring: builds the journal, bank, graders and LLM from settings for the CLI and the TUI.

Everything heavy is created on first use, so a command only pays for what it touches. In LLM
mode the chains get the notes retriever through a lazy handle. Building the index of the bundled
notes takes seconds (20 s on the 2-core test machine), so only the TUI's warm-up worker does it
(`warm()`); one-shot commands use the index when it is already there. Offline mode never
touches retrieval.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from typing import Callable

from interviewer.settings import ConfigFile, Endpoint, Overrides, ensure_home, load_config, resolve_endpoint


@dataclass
class Services:
    overrides: Overrides = field(default_factory=Overrides)
    verbose: bool = False
    # Where "indexing the bundled notes..." goes (default: one line on stderr); the TUI sets it.
    notice: Callable[[str], None] | None = field(default=None, repr=False, compare=False)
    _retriever_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    retriever_error: str | None = field(default=None, init=False, compare=False)
    _index_checked: bool = field(default=False, init=False, repr=False, compare=False)

    @functools.cached_property
    def config(self) -> ConfigFile:
        return load_config()

    @functools.cached_property
    def endpoint(self) -> Endpoint:
        return resolve_endpoint(self.overrides, self.config)

    @property
    def mode_line(self) -> str:
        ep = self.endpoint
        if ep.offline:
            return f"Offline mode ({ep.reason}): grading with the bundled embedding model."
        return f"LLM mode: {ep.model} at {ep.base_url or 'api.openai.com'}."

    @functools.cached_property
    def journal(self):
        from interviewer.journal import Journal

        ensure_home()
        return Journal()

    @functools.cached_property
    def bank(self):
        from interviewer.bank import load_bank
        from interviewer.settings import home_dir

        return load_bank(extra_dirs=[home_dir() / "questions"])

    @functools.cached_property
    def llm(self):
        if self.endpoint.offline:
            return None
        from interviewer.llm import LLM

        return LLM(self.endpoint)

    @property
    def retriever(self):
        """The notes retriever (None if it cannot be had). The first call may index the notes."""
        # One builder at a time: the TUI warms it in a worker while a grade may ask for it too.
        with self._retriever_lock:
            if "_retriever" not in self.__dict__:
                try:
                    from interviewer.knowledge.retrieve import get_retriever

                    self.__dict__["_retriever"] = get_retriever(self.config, notice=self.notice)
                except Exception as exc:
                    self.retriever_error = str(exc) or type(exc).__name__
                    self.__dict__["_retriever"] = None  # retrieval is context, never a reason to fail a round
            return self.__dict__["_retriever"]

    @retriever.setter
    def retriever(self, value) -> None:  # tests hand in a prebuilt one
        self.__dict__["_retriever"] = value

    def retriever_if_indexed(self):
        """The retriever only when the notes are already indexed: never seconds of indexing.

        What the chains get outside the TUI (whose warm-up builds the index): a one-shot
        `grade` grounds its verdict in the notes when they are there and does not wait for them
        otherwise. Checked once per process.
        """
        if "_retriever" in self.__dict__:
            return self.__dict__["_retriever"]
        if self._index_checked:
            return None
        self._index_checked = True
        try:
            from interviewer.settings import store_dir

            if not self.config.store.host and not store_dir().exists():
                return None  # nothing was ever indexed here
            from interviewer.knowledge.ingest import bundled_fingerprint
            from interviewer.knowledge.store import Store

            if Store.open(self.config, create=False).state().get("bundled") != bundled_fingerprint():
                return None
        except Exception:
            return None
        return self.retriever

    @functools.cached_property
    def grading(self):
        from interviewer.chains.grader import GradingService, LLMGrader, OfflineGrader

        online = LLMGrader(self.llm, retriever=LazyRetriever(self)) if self.llm is not None else None
        return GradingService(offline=OfflineGrader(bank=self.bank), online=online)

    @functools.cached_property
    def interviewer(self):
        if self.llm is None:
            return None
        from interviewer.chains.interviewer import LLMInterviewer

        return LLMInterviewer(self.llm, retriever=LazyRetriever(self))

    def warm(self, notice: Callable[[str], None] | None = None) -> None:
        """Load, off the UI thread, what the first answer will need: the embedding model and the
        offline grader's caches, and in LLM mode the notes index (built on its first use)."""
        if notice is not None:
            self.notice = notice
        self.grading.offline.warm()
        if self.llm is not None:
            if self.retriever is None and notice is not None:
                notice(f"Notes search is unavailable ({self.retriever_error}); the interviewer goes on without notes.")
            try:
                # LangChain and the openai client are about a second of imports: pay it here,
                # not in the first grade, and before the heap is frozen below.
                import langchain_core.messages  # noqa: F401

                self.llm.chat  # noqa: B018 (builds the client)
            except Exception:
                pass  # the first call will say what is wrong, with the fallback to offline
        freeze_static_heap()

    def plan(self, round: str | None = None, questions: int | None = None, minutes: float | None = None, question_minutes: float | None = None, profile=None, due: bool = False, seed: int | None = None):
        from interviewer.rounds.planning import plan_session

        return plan_session(
            self.bank, self.journal, round=round, questions=questions, minutes=minutes, question_minutes=question_minutes, profile=profile, due=due, seed=seed
        )

    def new_engine(self, round: str | None = "breadth", mode: str = "practice", profile=None, **plan_kw):
        from interviewer.rounds.engine import SessionEngine

        plans = self.plan(round=round, profile=profile, **plan_kw)
        return SessionEngine.start(
            self.journal,
            self.bank,
            self.grading,
            plans,
            mode=mode,
            profile=profile,
            endpoint=None if self.endpoint.offline else (self.endpoint.base_url or "openai"),
            model=self.endpoint.model,
            hint_penalty=self.config.practice.hint_penalty,
            interviewer=self.interviewer,
            usage=self.llm.usage if self.llm is not None else None,
        )


_frozen = False


def freeze_static_heap() -> None:
    """Take what is loaded for good (bank, models, caches, modules) out of the collector's scans.

    A full garbage collection walks every tracked object and holds the GIL while it does, so
    it stops the UI's event loop whichever thread runs it. With the bank and the models loaded
    those collections measured 130 ms median, 390 ms worst on the 2-core test machine
    (benchmarks/bench_tui_responsiveness.py): the largest cause of UI stalls. Frozen objects are
    never scanned again. Once per process: what is garbage at that moment stays in memory, so a
    second freeze (a test suite running many apps) would keep every old app alive.
    """
    global _frozen
    if _frozen:
        return
    _frozen = True
    import gc

    gc.freeze()
    # After the freeze the long-lived generation is small, so Python's "a full collection once
    # pending objects reach a quarter of it" rule fired a full collection every few seconds
    # (18 in a 60 s session, 40-80 ms each). Young collections stay frequent and cheap; full
    # ones become rare (measured: 18 -> 1, callbacks over 50 ms 14 -> 8).
    gc.set_threshold(1000, 20, 1000)


class LazyRetriever:
    """What the LLM chains hold as their retriever: resolves the real one on first use.

    Building the services stays instant, and no chain ever waits for the notes to be indexed:
    the TUI's warm-up builds the index (in a worker), and until it is there chains go without.
    """

    def __init__(self, services: Services):
        self._services = services

    def context_for(self, *args, **kwargs) -> list:
        svc = self._services
        if "_retriever" not in svc.__dict__ and svc._retriever_lock.locked():
            # Another thread is indexing the notes (a first run): grade or ask without notes
            # rather than keep the candidate waiting for the index.
            return []
        r = svc.retriever_if_indexed()
        return r.context_for(*args, **kwargs) if r is not None else []
