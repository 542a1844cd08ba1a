"""Pilot tests drive whole rounds through the real app; snapshot tests pin each screen's look."""

from __future__ import annotations

import pytest

from interviewer.chains.grader import GradingService
from interviewer.services import Services
from interviewer.settings import Overrides


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make_services(offline_grader) -> Services:
    svc = Services(Overrides(offline=True))
    svc.__dict__["grading"] = GradingService(offline=offline_grader)
    return svc


def make_engine(svc, round="breadth", n=2, mode="practice", clock=None, seed=7):
    from interviewer.rounds.engine import SessionEngine

    plans = svc.plan(round=round, questions=n, seed=seed)
    kw = {"clock": clock} if clock else {}
    return SessionEngine.start(svc.journal, svc.bank, svc.grading, plans, mode=mode, **kw)


async def wait_idle(pilot, app, rounds: int = 60) -> None:
    for _ in range(rounds):
        await pilot.pause(0.05)
        if not any(w.is_running for w in app.workers if w.group in ("grading", "tests", "coverage", "engine")):
            await pilot.pause()
            return


async def test_breadth_round_runs_to_the_summary_and_saves_everything(offline_grader):
    from interviewer.tui.app import InterviewerApp, SummaryScreen
    from interviewer.tui.practice import PracticeScreen

    svc = make_services(offline_grader)
    engine = make_engine(svc, n=2)
    app = InterviewerApp(svc, engine=engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PracticeScreen)
        for i in range(2):
            q = engine.question
            editor = app.screen.query_one("#answer")
            editor.text = q.reference_answer  # a full-marks answer
            await pilot.press("ctrl+s")
            await wait_idle(pilot, app)
            feedback = app.screen.query_one("#feedback")
            assert "Score" in feedback._markdown
            await pilot.press("ctrl+n")
            await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        assert app.screen.summary["mean_score"] >= 7.0
    session = svc.journal.session(engine.session_id)
    assert session["status"] == "finished"
    assert len(session["answers"]) == 2
    assert all(a["score"] is not None for a in session["answers"])


async def test_draft_is_saved_as_typed_so_quitting_loses_nothing(offline_grader):
    from interviewer.tui.app import InterviewerApp

    svc = make_services(offline_grader)
    engine = make_engine(svc, n=1)
    app = InterviewerApp(svc, engine=engine)
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.click("#answer")
        await pilot.press(*"overfit")
        await pilot.press("ctrl+q")
    from interviewer.journal import Journal

    j = Journal()
    key = f"{engine.plan.question_ids[0]}#1"
    assert j.draft(engine.session_id, key) == "overfit"
    assert j.unfinished_sessions()[0]["id"] == engine.session_id


async def test_question_timer_submits_the_answer_as_it_stands(offline_grader):
    from interviewer.tui.app import InterviewerApp

    svc = make_services(offline_grader)
    clock = FakeClock()
    engine = make_engine(svc, n=2, clock=clock)
    app = InterviewerApp(svc, engine=engine)
    async with app.run_test() as pilot:
        await pilot.pause()
        app.screen.query_one("#answer").text = "half an answer"
        clock.t += engine.plan.question_seconds + 1
        app.screen.on_tick()
        await wait_idle(pilot, app)
        assert app.screen.awaiting_next
    answers = svc.journal.session(engine.session_id)["answers"]
    assert answers[0]["answer"] == "half an answer"
    assert answers[0]["timed_out"] == 1


async def test_mock_mode_shows_no_feedback_until_the_end(offline_grader):
    from interviewer.tui.app import InterviewerApp, SummaryScreen

    svc = make_services(offline_grader)
    engine = make_engine(svc, n=2, mode="mock")
    app = InterviewerApp(svc, engine=engine)
    async with app.run_test() as pilot:
        await pilot.pause()
        app.screen.query_one("#answer").text = "Regularization adds a penalty on weights."
        await pilot.press("ctrl+s")
        await wait_idle(pilot, app)
        assert not app.screen.query_one("#feedback")._markdown
        assert engine.state.question_index == 1
        app.screen.query_one("#answer").text = "Another answer."
        await pilot.press("ctrl+s")
        await wait_idle(pilot, app)
        assert isinstance(app.screen, SummaryScreen)


async def test_pause_stops_the_clock_and_hides_the_question(offline_grader):
    from interviewer.tui.app import InterviewerApp

    svc = make_services(offline_grader)
    clock = FakeClock()
    engine = make_engine(svc, n=1, clock=clock)
    app = InterviewerApp(svc, engine=engine)
    async with app.run_test() as pilot:
        await pilot.pause()
        before = engine.question_time_left()
        await pilot.press("f3")
        clock.t += 500
        assert engine.question_time_left() == pytest.approx(before)
        assert not app.screen.query_one("#question-box").display
        await pilot.press("f3")
        assert app.screen.query_one("#question-box").display


async def test_empty_answer_is_not_submitted(offline_grader):
    from interviewer.tui.app import InterviewerApp

    svc = make_services(offline_grader)
    engine = make_engine(svc, n=1)
    app = InterviewerApp(svc, engine=engine)
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert engine.state.attempts[-1].answer_id is None


async def test_home_screen_starts_a_round(offline_grader):
    from interviewer.tui.app import InterviewerApp
    from interviewer.tui.practice import PracticeScreen

    svc = make_services(offline_grader)
    app = InterviewerApp(svc, start_home=True)
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await wait_idle(pilot, app)  # the session is planned in a worker
        assert isinstance(app.screen, PracticeScreen)
        assert app.engine.question.round == "breadth"


# -- snapshots ------------------------------------------------------------------------------


def _snap_app(offline_grader, screen: str):
    from interviewer.tui.app import InterviewerApp

    svc = make_services(offline_grader)
    if screen == "home":
        return InterviewerApp(svc, start_home=True)
    engine = make_engine(svc, n=1, clock=FakeClock(), seed=11)
    return InterviewerApp(svc, engine=engine)


async def steady(pilot, app) -> None:
    """What a snapshot must not depend on: the start-up toast's timeout, a cursor's blink phase."""
    app.clear_notifications()
    for widget in app.screen.query("TextArea, Input"):
        widget.cursor_blink = False
    await pilot.pause()


def test_snapshot_home(snap_compare, offline_grader):
    app = _snap_app(offline_grader, "home")
    assert snap_compare(app, terminal_size=(100, 30), run_before=lambda pilot: steady(pilot, app))


def test_snapshot_practice(snap_compare, offline_grader):
    app = _snap_app(offline_grader, "practice")
    assert snap_compare(app, terminal_size=(100, 30), run_before=lambda pilot: steady(pilot, app))


def test_snapshot_summary(snap_compare, offline_grader):
    app = _snap_app(offline_grader, "practice")

    async def run_before(pilot):
        app.screen.query_one("#answer").text = app.engine.question.reference_answer
        await pilot.press("ctrl+s")
        await wait_idle(pilot, app)
        await pilot.press("ctrl+n")
        await pilot.pause()
        await steady(pilot, app)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
