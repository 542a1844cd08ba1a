"""Pydantic models every layer shares.

These are the public formats of DESIGN.md: bank questions, role profiles, grades and eval cases.
Only pydantic is imported here so that any layer (and `interviewer --help`) can import it cheaply.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Round = Literal["breadth", "depth", "system_design", "coding"]
ROUNDS: tuple[str, ...] = ("breadth", "depth", "system_design", "coding")

Level = Literal["entry", "mid", "senior", "staff"]
LEVELS: tuple[str, ...] = ("entry", "mid", "senior", "staff")

Domain = Literal["recsys", "ads", "nlp", "cv", "autonomy", "tabular", "speech"]
DOMAINS: tuple[str, ...] = ("recsys", "ads", "nlp", "cv", "autonomy", "tabular", "speech")

Responsibility = Literal["modeling", "infrastructure"]
Specialization = Literal["generalist", "specialist"]

# The stages a system-design answer is expected to walk through, in interview order.
DESIGN_STAGES: tuple[str, ...] = (
    "problem_framing",
    "metrics",
    "data",
    "features",
    "model",
    "offline_evaluation",
    "serving",
    "online_testing",
    "monitoring",
)


class RubricCriterion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    criterion: str = Field(min_length=10, description="One checkable sentence: what a full-credit answer shows.")
    points: float = Field(gt=0, le=10)
    # System-design rubrics tie each criterion to a stage so the checklist can fill in.
    stage: str | None = None

    @field_validator("stage")
    @classmethod
    def _known_stage(cls, v: str | None) -> str | None:
        if v is not None and v not in DESIGN_STAGES:
            raise ValueError(f"unknown stage {v!r}; use one of {', '.join(DESIGN_STAGES)}")
        return v


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z_]+\.[a-z0-9][a-z0-9.-]*$")
    round: Round
    topics: list[str] = Field(min_length=1)
    domains: list[Domain] = Field(default_factory=list)
    level: Level
    prompt: str = Field(min_length=10)
    rubric: list[RubricCriterion] = Field(min_length=3, max_length=6)
    reference_answer: str = Field(min_length=20)
    follow_ups: list[str] = Field(default_factory=list)
    # Confident wrong claims a candidate might make, each stated as they would state it. The
    # offline grader withholds credit where an answer asserts one (it cannot reason about truth,
    # but it can recognise a known wrong claim); the LLM grader is told to watch for them.
    misconceptions: list[str] = Field(default_factory=list)
    starter_code: str | None = None
    tests: str | None = None
    # System design: what good coverage of each stage looks like for this problem (the checklist).
    stages: dict[str, str] | None = None
    # Where the question came from: the bundled bank, the user's journal, or an eval suite.
    source: str | None = None

    @property
    def total_points(self) -> float:
        return sum(c.points for c in self.rubric)

    @model_validator(mode="after")
    def _shape_per_round(self) -> "Question":
        ids = [c.id for c in self.rubric]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate rubric criterion ids in {self.id}")
        if self.round == "coding" and not (self.starter_code and self.tests):
            raise ValueError("a coding question needs starter_code and tests")
        if self.stages:
            unknown = [s for s in self.stages if s not in DESIGN_STAGES]
            if unknown:
                raise ValueError(f"unknown stages {unknown}; use {', '.join(DESIGN_STAGES)}")
        return self


class CriterionGrade(BaseModel):
    id: str
    awarded: float
    points: float
    feedback: str = ""
    evidence: list[str] = Field(default_factory=list, description="Verbatim quotes from the answer.")


class TestResult(BaseModel):
    name: str
    outcome: Literal["passed", "failed", "error", "skipped"]
    message: str = ""
    duration: float = 0.0


class TestReport(BaseModel):
    passed: int = 0
    failed: int = 0
    errors: int = 0
    results: list[TestResult] = Field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    status: str = "ok"  # ok | timeout | memory | crashed | syntax_error | no_tests
    message: str = ""
    duration: float = 0.0
    isolation: str = ""

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


class Grade(BaseModel):
    question_id: str
    score: float = Field(ge=0, le=10)
    criteria: list[CriterionGrade]
    feedback: str = ""
    missing: str = Field(default="", description="What a full answer would have added.")
    grader: Literal["offline", "llm"]
    model: str | None = None
    prompt_version: str | None = None
    relevance: float | None = None
    hint_penalty: float = 0.0
    tests: TestReport | None = None
    notices: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    tokens: int | None = None

    @staticmethod
    def score_from(criteria: list[CriterionGrade], penalty: float = 0.0) -> float:
        total = sum(c.points for c in criteria)
        if total <= 0:
            return 0.0
        raw = 10.0 * sum(min(max(c.awarded, 0.0), c.points) for c in criteria) / total
        return round(max(0.0, raw - penalty), 2)


class FocusTopic(BaseModel):
    topic: str
    title: str = ""
    weight: float = 1.0
    evidence: list[str] = Field(default_factory=list, description="Verbatim phrases from the posting.")


class RoleProfile(BaseModel):
    title: str = ""
    company: str | None = None
    responsibility: Responsibility
    specialization: Specialization
    domains: list[Domain] = Field(default_factory=list)
    level: Level
    focus: list[FocusTopic] = Field(default_factory=list)
    rounds: dict[str, float] = Field(default_factory=dict)
    rationale: list[str] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    analyzer: Literal["offline", "llm"] = "offline"
    model: str | None = None
    prompt_version: str | None = None

    def focus_topics(self) -> list[str]:
        return [f.topic for f in self.focus]


class EvalCase(BaseModel):
    """One case of an eval suite; which fields apply depends on the suite's kind."""

    model_config = ConfigDict(extra="allow")

    id: str
    tags: list[str] = Field(default_factory=list)
    # grading
    question: str | Question | None = None
    answer: str | None = None
    expected_score: float | None = None
    expected_criteria: dict[str, float] | None = None
    # role
    posting: str | None = None
    expected: dict | None = None
    # retrieval
    query: str | None = None
    expected_sources: list[str] | None = None


class EvalSuite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suite: str
    kind: Literal["grading", "role", "retrieval"]
    description: str = ""
    gates: dict[str, float] = Field(default_factory=dict)
    # Inline questions the cases can name by id, so a suite need not repeat a question per case.
    questions: list[Question] = Field(default_factory=list)
    cases: list[EvalCase] = Field(min_length=1)
