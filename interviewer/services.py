"""Wiring: builds the journal, bank, graders and LLM from settings for the CLI and the TUI.

Everything heavy is created on first use, so a command only pays for what it touches.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from interviewer.settings import ConfigFile, Endpoint, Overrides, ensure_home, load_config, resolve_endpoint


@dataclass
class Services:
    overrides: Overrides = field(default_factory=Overrides)
    verbose: bool = False

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

    @functools.cached_property
    def retriever(self):
        try:
            from interviewer.knowledge.retrieve import get_retriever

            return get_retriever(self.config)
        except Exception:
            return None  # retrieval is context, never a reason to fail a round

    @functools.cached_property
    def grading(self):
        from interviewer.chains.grader import GradingService, LLMGrader, OfflineGrader

        online = LLMGrader(self.llm, retriever=None) if self.llm is not None else None
        return GradingService(offline=OfflineGrader(bank=self.bank), online=online)

    @functools.cached_property
    def interviewer(self):
        if self.llm is None:
            return None
        from interviewer.chains.interviewer import LLMInterviewer

        return LLMInterviewer(self.llm)

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
        )
