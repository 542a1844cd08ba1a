"""The session engine: timed rounds as a state machine, driven without any UI.

Time comes from a fake clock (a list the test moves forward), questions from the real bank, grades
from the real offline grader. Every state change must reach the journal, so dropping the engine
object mid-round (a crash) and resuming loses nothing.
"""

from __future__ import annotations

import pytest

from interviewer.chains.grader import GradingService
from interviewer.journal import Journal
from interviewer.rounds.engine import RoundPlan, SessionEngine
from interviewer.rounds.planning import plan_session


class Clock:
    def __init__(self, t: float = 1_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def journal():
    j = Journal()
    yield j
    j.close()


@pytest.fixture
def grading(offline_grader):
    return GradingService(offline=offline_grader)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def breadth_plans(bank, journal):
    plans = plan_session(bank, journal, round="breadth", questions=2, seed=1)
    assert len(plans) == 1 and plans[0].round == "breadth" and len(plans[0].question_ids) == 2
    return plans


def start(journal, bank, grading, plans, clock, **kw) -> SessionEngine:
    return SessionEngine.start(journal, bank, grading, plans, clock=clock, **kw)


def depth_plan(bank, qid: str | None = None) -> list[RoundPlan]:
    q = bank.get(qid) if qid else next(q for q in bank.filter(round="depth") if len(q.follow_ups) >= len(q.rubric))
    return [RoundPlan.default("depth", [q.id])]


# -- planning ---------------------------------------------------------------------------------------


def test_plan_is_deterministic_for_a_seed_and_never_repeats(bank, journal):
    a = plan_session(bank, journal, round="breadth", questions=4, seed=7)
    b = plan_session(bank, journal, round="breadth", questions=4, seed=7)
    assert a == b
    ids = a[0].question_ids
    assert len(ids) == len(set(ids)) == 4
    assert all(bank.get(i).round == "breadth" for i in ids)
    assert a[0].question_seconds == 180.0
    assert a[0].round_seconds >= a[0].question_seconds * 4


def test_unknown_round_and_nothing_due_are_clear_errors(bank, journal):
    with pytest.raises(ValueError, match="unknown round"):
        plan_session(bank, journal, round="lightning")
    with pytest.raises(ValueError, match="nothing is due"):
        plan_session(bank, journal, due=True)


def test_starting_without_questions_or_with_a_bad_mode_is_refused(bank, journal, grading, breadth_plans, clock):
    with pytest.raises(ValueError):
        start(journal, bank, grading, [RoundPlan.default("breadth", [])], clock)
    with pytest.raises(ValueError):
        start(journal, bank, grading, breadth_plans, clock, mode="exam")
    assert journal.sessions() == []


# -- time ---------------------------------------------------------------------------------------------


def test_question_timer_runs_out(bank, journal, grading, breadth_plans, clock):
    eng = start(journal, bank, grading, breadth_plans, clock)
    assert eng.tick() == []
    clock.advance(179)
    assert eng.tick() == []
    assert eng.question_time_left() == pytest.approx(1.0)
    clock.advance(2)
    assert eng.tick() == ["question_timeout"]
    assert eng.question_time_left() == 0.0


def test_round_timer_runs_out_and_ends_the_round(bank, journal, grading, clock):
    plans = plan_session(bank, journal, round="breadth", questions=2, minutes=2, question_minutes=5, seed=1)
    eng = start(journal, bank, grading, plans, clock)
    clock.advance(121)
    assert eng.tick() == ["round_timeout"]
    assert eng.end_round() is False  # the only round: the session is over
    assert eng.finished
    assert journal.session(eng.session_id)["status"] == "finished"


def test_pause_stops_the_clock(bank, journal, grading, breadth_plans, clock):
    eng = start(journal, bank, grading, breadth_plans, clock)
    clock.advance(30)
    eng.pause()
    clock.advance(500)  # a long break
    assert eng.tick() == []
    assert eng.question_time_left() == pytest.approx(150.0)
    assert eng.round_time_left() == pytest.approx(breadth_plans[0].round_seconds - 30)
    eng.resume_clock()
    clock.advance(10)
    assert eng.question_time_left() == pytest.approx(140.0)
    assert journal.session(eng.session_id)["state"]["paused"] is False


# -- answering ----------------------------------------------------------------------------------------


def test_submit_records_answer_and_grade_in_the_journal(bank, journal, grading, breadth_plans, clock):
    eng = start(journal, bank, grading, breadth_plans, clock)
    q = eng.question
    assert q.id == breadth_plans[0].question_ids[0]
    assert eng.current_prompt == q.prompt
    clock.advance(95)
    out = eng.submit(q.reference_answer)
    assert out["next"] == "graded" and out["show"] is True
    assert out["grade"].score >= 8.5
    rows = journal.session(eng.session_id)["answers"]
    assert len(rows) == 1
    assert (rows[0]["question_id"], rows[0]["answer"]) == (q.id, q.reference_answer)
    assert rows[0]["duration_s"] == pytest.approx(95.0)
    assert rows[0]["score"] == out["grade"].score
    assert rows[0]["grade"]["criteria"] == [c.model_dump() for c in out["grade"].criteria]


def test_a_full_round_ends_with_a_summary(bank, journal, grading, breadth_plans, clock):
    eng = start(journal, bank, grading, breadth_plans, clock)
    first, second = (bank.get(i) for i in breadth_plans[0].question_ids)
    clock.advance(60)
    g1 = eng.submit(first.reference_answer)["grade"]
    assert eng.advance() is True
    assert eng.position()["question_number"] == 2
    assert eng.question.id == second.id
    clock.advance(20)
    g2 = eng.submit("I am not sure, I have never used it.")["grade"]
    assert eng.advance() is False
    assert eng.finished and eng.advance() is False

    session = journal.session(eng.session_id)
    assert session["status"] == "finished"
    summary = session["summary"]
    assert [(x["question_id"], x["score"]) for x in summary["questions"]] == [(first.id, g1.score), (second.id, g2.score)]
    assert summary["questions"][0]["seconds"] == pytest.approx(60.0)
    assert summary["mean_score"] == pytest.approx((g1.score + g2.score) / 2, abs=0.01)
    for t in first.topics:
        assert summary["by_topic"][t] == g1.score
    assert summary["by_round"] == {"breadth": pytest.approx((g1.score + g2.score) / 2, abs=0.01)}
    # the weak question's topics come back as what to study next, with notes to read
    study = {s["topic"]: s for s in summary["study_next"]}
    weak = [t for t in second.topics if t not in first.topics]
    assert weak and all(t in study for t in weak)
    assert any(s["notes"] for s in summary["study_next"])
    assert all(s["score"] < 7.5 for s in summary["study_next"])
    assert eng.summary() == summary


def test_mock_mode_hides_feedback_until_the_end(bank, journal, grading, breadth_plans, clock):
    eng = start(journal, bank, grading, breadth_plans, clock, mode="mock")
    out = eng.submit("Some answer about the topic.")
    assert out["next"] == "graded" and out["show"] is False
    eng.advance()
    assert eng.submit("Another answer.")["show"] is False
    eng.advance()
    assert journal.session(eng.session_id)["summary"]["mode"] == "mock"


def test_hints_cost_points(bank, journal, grading, breadth_plans, clock, offline_grader):
    eng = start(journal, bank, grading, breadth_plans, clock, hint_penalty=1.5)
    q = eng.question
    h1 = eng.hint()
    h2 = eng.hint()
    assert q.rubric[0].criterion in h1 and q.rubric[1].criterion in h2
    assert "-1.5" in h1
    ref = q.reference_answer
    unpenalised = offline_grader.grade(q, ref).score
    out = eng.submit(ref)
    g = out["grade"]
    assert g.hint_penalty == 3.0
    assert g.score == pytest.approx(max(0.0, unpenalised - 3.0), abs=0.01)
    row = journal.session(eng.session_id)["answers"][0]
    assert row["hints"] == 2 and row["score"] == g.score


def test_drafts_are_saved_and_restored(bank, journal, grading, breadth_plans, clock):
    eng = start(journal, bank, grading, breadth_plans, clock)
    assert eng.draft() == ""
    eng.save_draft("Collaborative filtering uses")
    eng.save_draft("Collaborative filtering uses the interaction matrix")
    assert eng.draft() == "Collaborative filtering uses the interaction matrix"
    eng.submit(eng.draft())
    eng.advance()
    assert eng.draft() == ""  # a new question starts blank


def test_a_crash_mid_round_resumes_at_the_same_question_with_the_draft(bank, journal, grading, breadth_plans, clock):
    eng = start(journal, bank, grading, breadth_plans, clock)
    sid = eng.session_id
    first_id, second_id = breadth_plans[0].question_ids
    first_score = eng.submit(bank.get(first_id).reference_answer)["grade"].score
    eng.advance()
    eng.save_draft("half of my second answer")
    del eng  # the terminal closed

    assert [s["id"] for s in journal.unfinished_sessions()] == [sid]
    again = SessionEngine.resume(journal, bank, grading, sid, clock=clock)
    assert again.question.id == second_id
    assert again.position()["question_number"] == 2
    assert again.draft() == "half of my second answer"
    assert len(journal.session(sid)["answers"]) == 1
    again.submit(again.draft() + " and the rest")
    assert again.advance() is False
    summary = journal.session(sid)["summary"]
    assert [x["question_id"] for x in summary["questions"]] == [first_id, second_id]
    assert summary["questions"][0]["score"] == first_score
    assert summary["questions"][1]["answer"] == "half of my second answer and the rest"


def test_resume_from_a_fresh_journal_connection_sees_everything(bank, grading, breadth_plans, clock):
    j1 = Journal()
    eng = start(j1, bank, grading, breadth_plans, clock)
    sid = eng.session_id
    eng.save_draft("typed before the crash")
    j1.close()
    j2 = Journal()
    again = SessionEngine.resume(j2, bank, grading, sid, clock=clock)
    assert again.question.id == breadth_plans[0].question_ids[0]
    assert again.draft() == "typed before the crash"
    j2.close()


def test_time_spent_before_a_crash_still_counts_after_resume(bank, journal, grading, breadth_plans, clock):
    eng = start(journal, bank, grading, breadth_plans, clock)
    sid = eng.session_id
    clock.advance(100)
    eng.tick()
    eng.save_draft("typing for 100 seconds")
    del eng
    again = SessionEngine.resume(journal, bank, grading, sid, clock=clock)
    assert again.question_time_left() == pytest.approx(80.0, abs=1.0)


# -- depth rounds: follow-ups -------------------------------------------------------------------------


def test_a_depth_question_gets_an_offline_follow_up_before_the_final_grade(bank, journal, grading, clock):
    plans = depth_plan(bank)
    q = bank.get(plans[0].question_ids[0])
    eng = start(journal, bank, grading, plans, clock)
    assert plans[0].follow_ups == 2
    first = "I would start with a simple baseline and look at the validation error before anything else."
    out = eng.submit(first)
    assert out["next"] == "follow_up"
    assert out["prompt"] in q.follow_ups
    assert eng.current_prompt == out["prompt"]
    assert eng.position()["turn"] == 2
    assert journal.session(eng.session_id)["answers"] == []  # not graded yet
    # answer follow-ups until the engine grades the whole exchange
    answers = [first]
    for _ in range(plans[0].follow_ups + 1):
        reply = f"Follow-up answer number {len(answers)} with a concrete example."
        answers.append(reply)
        out = eng.submit(reply)
        if out["next"] == "graded":
            break
        assert out["prompt"] in q.follow_ups
    assert out["next"] == "graded"
    prompts = [t.prompt for t in eng.attempt.turns]
    assert len(prompts) == len(set(prompts)) <= 1 + plans[0].follow_ups  # never the same follow-up twice
    rows = journal.session(eng.session_id)["answers"]
    assert len(rows) == 1
    for a in answers:
        assert a in rows[0]["answer"]


def test_the_offline_follow_up_targets_the_weakest_criterion(bank, journal, grading, clock):
    plans = depth_plan(bank)
    q = bank.get(plans[0].question_ids[0])
    eng = start(journal, bank, grading, plans, clock)
    # answer only the first criterion well (its reference sentence), so another one is weakest
    g_first = grading.grade(q, q.reference_answer.split(". ")[0] + ".")
    ratios = [c.awarded / c.points for c in g_first.criteria]
    weakest = ratios.index(min(ratios))
    out = eng.submit(q.reference_answer.split(". ")[0] + ".")
    assert out["next"] == "follow_up"
    assert out["prompt"] == q.follow_ups[weakest]


def test_a_timed_out_depth_answer_is_graded_without_follow_ups(bank, journal, grading, clock):
    eng = start(journal, bank, grading, depth_plan(bank), clock)
    out = eng.submit("Out of time, but here is a partial thought on the approach.", timed_out=True)
    assert out["next"] == "graded"
    row = journal.session(eng.session_id)["answers"][0]
    assert row["timed_out"] == 1


def test_an_empty_answer_scores_zero_and_asks_no_follow_up(bank, journal, grading, clock):
    eng = start(journal, bank, grading, depth_plan(bank), clock)
    out = eng.submit("   ")
    assert out["next"] == "graded"
    assert out["grade"].score == 0.0


def test_a_specialists_rounds_rarely_leave_their_domain(bank):
    from interviewer.bank import select_questions
    from interviewer.schema import RoleProfile

    ads = dict(responsibility="modeling", domains=["ads"], level="senior")
    specialist = RoleProfile(specialization="specialist", **ads)
    generalist = RoleProfile(specialization="generalist", **ads)

    def off_domain_share(profile) -> float:
        picked = [q for seed in range(40) for q in select_questions(bank, "breadth", 4, profile=profile, seed=seed)]
        return sum(1 for q in picked if q.domains and "ads" not in q.domains) / len(picked)

    # A specialist's interviewers stay in the domain; a generalist still meets other domains.
    assert off_domain_share(specialist) < 0.06
    assert off_domain_share(generalist) > off_domain_share(specialist)
