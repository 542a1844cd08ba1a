"""Every round type, in both modes, driven through the real app to the summary; and LLM mode
against the loopback server: streamed follow-ups, escape, an endpoint failing mid-round.

The offline tests use the real offline grader and bank. The LLM tests talk TCP to
tests/fake_openai.py through the real openai/LangChain client, with a small real notes index
(Chroma + the bundled embedding model) so grading and follow-ups are grounded in retrieved notes.
"""

from __future__ import annotations

import json
import re

import pytest

from fake_openai import FakeOpenAI, Reply
from interviewer.chains.grader import GradingService
from interviewer.services import Services
from interviewer.settings import Overrides, config_path
from test_tui import make_engine, make_services, wait_idle

SIZE = (120, 40)


# -- helpers ---------------------------------------------------------------------------------------


def pane(app, selector: str) -> str:
    return app.screen.query_one(selector).source


def notice_line(app) -> str:
    return str(app.screen.query_one("#notice").content)


def toasts(app) -> list[str]:
    return [n.message for n in app._notifications]


async def submit(pilot, app, text: str, rounds: int = 200) -> None:
    app.screen.query_one("#answer").text = text
    await pilot.press("ctrl+s")
    await wait_idle(pilot, app, rounds)


async def until(pilot, cond, timeout: float = 10.0, step: float = 0.02) -> bool:
    for _ in range(int(timeout / step)):
        if cond():
            return True
        await pilot.pause(step)
    return cond()


def half_answer(q) -> str:
    """The reference answer's first sentence: on topic, but leaves criteria for follow-ups."""
    return q.reference_answer.split(". ")[0].rstrip(".") + "."


def streamed(app) -> str:
    """What has arrived of the follow-up being streamed into the question pane."""
    src = pane(app, "#question")
    return src.split("**Interviewer.** ")[-1] if app.screen.streaming and "**Interviewer.** " in src else ""


def answers_of(svc, engine) -> list[dict]:
    return svc.journal.session(engine.session_id)["answers"]


# -- every round type, practice mode ----------------------------------------------------------------


async def test_breadth_practice_shows_each_grade_and_saves_every_score(offline_grader):
    from interviewer.tui.app import InterviewerApp, SummaryScreen

    svc = make_services(offline_grader)
    engine = make_engine(svc, round="breadth", n=3, seed=3)
    app = InterviewerApp(svc, engine=engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for i in range(3):
            q = engine.question
            await submit(pilot, app, q.reference_answer if i != 1 else "I have not met this before.")
            fb = pane(app, "#feedback")
            assert "Score" in fb and "Reference answer" in fb
            assert "Scored" in notice_line(app)
            await pilot.press("ctrl+n")
            await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        summary = app.screen.summary
    rows = answers_of(svc, engine)
    assert [r["question_id"] for r in rows] == engine.state.plans[0].question_ids
    assert all(r["score"] is not None and r["grader"] == "offline" for r in rows)
    assert rows[0]["score"] >= 7.0 and rows[1]["score"] < rows[0]["score"]  # the non-answer scores lower
    assert [q["score"] for q in summary["questions"]] == [r["score"] for r in rows]


async def test_depth_practice_asks_the_banks_follow_ups_then_grades_the_whole_exchange(offline_grader):
    from interviewer.tui.app import InterviewerApp, SummaryScreen

    svc = make_services(offline_grader)
    engine = make_engine(svc, round="depth", n=1, seed=5)
    q = engine.question
    app = InterviewerApp(svc, engine=engine)
    typed = [half_answer(q)]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await submit(pilot, app, typed[0])
        asked = []
        while engine.attempt.turns[-1].kind == "follow_up" and not app.screen.awaiting_next:
            follow = engine.attempt.turns[-1].prompt
            assert follow in q.follow_ups and follow not in asked
            asked.append(follow)
            question_pane = pane(app, "#question")
            assert f"**Interviewer.** {follow}" in question_pane
            assert typed[-1] in question_pane  # the earlier answer stays in view
            assert app.screen.query_one("#answer").text == ""  # a fresh editor for the reply
            typed.append(f"For the follow-up number {len(asked)}: I would compare the two data distributions first.")
            await submit(pilot, app, typed[-1])
        assert len(asked) == engine.plan.follow_ups == 2
        assert "Score" in pane(app, "#feedback")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
    (row,) = answers_of(svc, engine)
    assert all(t in row["answer"] for t in typed)  # graded as one exchange, nothing dropped
    assert row["score"] is not None


async def test_system_design_practice_fills_the_stage_checklist_as_the_design_grows(offline_grader):
    from interviewer.tui.app import InterviewerApp, SummaryScreen

    svc = make_services(offline_grader)
    engine = make_engine(svc, round="system_design", n=1, seed=2)
    q = engine.question
    app = InterviewerApp(svc, engine=engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        checklist = app.screen.query_one("#checklist")
        assert app.screen.query_one("#side").display
        empty = str(checklist.content)
        assert "Monitoring" in empty and "■" not in empty and "◧" not in empty
        # typing a design fills the checklist once typing pauses (debounced, in a worker)
        app.screen.query_one("#answer").text = q.reference_answer
        assert await until(pilot, lambda: "■" in str(checklist.content), timeout=10)
        filled = str(checklist.content).count("■")
        await submit(pilot, app, q.reference_answer)
        # a strong design may get a probe on its thinnest stage, or go straight to the grade
        for _ in range(engine.plan.follow_ups):
            if app.screen.awaiting_next:
                break
            assert engine.attempt.turns[-1].kind == "probe"
            assert "Let's go deeper on" in pane(app, "#question")
            await submit(pilot, app, "Online, an A/B test on a user split with guardrail metrics decides the launch; drift monitors and alerts trigger retraining.")
        assert app.screen.awaiting_next
        assert str(checklist.content).count("■") >= filled
        assert "Score" in pane(app, "#feedback")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
    (row,) = answers_of(svc, engine)
    assert row["round"] == "system_design" and row["score"] > 0


async def test_coding_practice_runs_the_hidden_tests_and_shows_their_results(offline_grader):
    from interviewer.tui.app import InterviewerApp, SummaryScreen

    svc = make_services(offline_grader)
    engine = make_engine(svc, round="coding", n=1, seed=1)
    q = engine.question
    app = InterviewerApp(svc, engine=engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        editor = app.screen.query_one("#answer")
        assert editor.text == q.starter_code  # the candidate starts from the starter code
        editor.text = q.reference_answer
        await pilot.press("ctrl+r")  # a dry run before submitting
        await wait_idle(pilot, app, 600)
        fb = pane(app, "#feedback")
        assert re.search(r"Tests: [1-9]\d* passed, 0 failed", fb), fb
        assert "✔" in fb
        await submit(pilot, app, q.reference_answer, rounds=600)
        fb = pane(app, "#feedback")
        assert re.search(r"\*\*Hidden tests:\*\* [1-9]\d* passed, 0 failed", fb), fb
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
    (row,) = answers_of(svc, engine)
    assert row["grade"]["tests"]["passed"] > 0 and row["grade"]["tests"]["failed"] == 0
    assert row["score"] >= 8.0


async def test_sentences_typed_are_embedded_while_the_candidate_pauses(offline_grader):
    from interviewer.chains.answer_text import neutralise, units
    from interviewer.tui.app import InterviewerApp

    svc = make_services(offline_grader)
    engine = make_engine(svc, round="breadth", n=1, seed=11)
    typed = "Dropout zeroes a random subset of hidden units at every training step. It keeps co-adaptation in check."
    sentences = [u.text for u in units(neutralise(typed)[0])]
    offline_grader._memo.clear()
    app = InterviewerApp(svc, engine=engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.click("#answer")
        await pilot.press(*typed[:40])  # typing: nothing is embedded on every keystroke
        assert not any(s in offline_grader._memo for s in sentences)
        app.screen.query_one("#answer").text = typed
        assert await until(pilot, lambda: all(s in offline_grader._memo for s in sentences), timeout=5)
        await pilot.press("ctrl+s")
        await wait_idle(pilot, app)
        assert "Score" in pane(app, "#feedback")


async def test_finishing_right_after_typing_leaves_no_embedding_job_behind(offline_grader):
    from interviewer.tui.app import InterviewerApp, SummaryScreen

    svc = make_services(offline_grader)
    engine = make_engine(svc, round="breadth", n=1, seed=11, mode="mock")
    app = InterviewerApp(svc, engine=engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        round_screen = app.screen
        # typed, then submitted before the typing pause that would embed it; in mock mode the
        # last answer goes straight to the summary
        await submit(pilot, app, engine.question.reference_answer)
        assert round_screen._prefetch_timer is None or round_screen._prefetch_timer._task is None  # stopped at submit
        await pilot.pause(1.2)  # past the pause: nothing may run against the finished session
        assert isinstance(app.screen, SummaryScreen) and engine.finished
        round_screen._prefetch()  # a timer that fires late finds the session over and does nothing
    # run_test re-raises anything a handler raised


# -- every round type, mock mode: nothing about the answer until the summary ---------------------------


def assert_no_feedback(app) -> None:
    assert not pane(app, "#feedback")
    assert not app.screen.query_one("#feedback-box").display
    assert "Score" not in notice_line(app)
    assert "■" not in str(app.screen.query_one("#checklist").content)


@pytest.mark.parametrize("round_", ["breadth", "depth", "system_design", "coding"])
async def test_mock_mode_gives_no_feedback_until_the_summary(offline_grader, round_):
    from interviewer.tui.app import InterviewerApp, SummaryScreen

    svc = make_services(offline_grader)
    n = 2 if round_ == "breadth" else 1
    engine = make_engine(svc, round=round_, n=n, mode="mock", seed=4)
    app = InterviewerApp(svc, engine=engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(10):
            if isinstance(app.screen, SummaryScreen):
                break
            q = engine.question
            assert_no_feedback(app)
            if engine.attempt.turns[-1].kind != "question":
                text = "I would measure it offline first, then run an online test."
            else:
                text = half_answer(q) if round_ == "depth" else q.reference_answer
            if round_ == "system_design":
                app.screen.query_one("#answer").text = text
                await pilot.pause(1.3)  # past the checklist's debounce: it must stay unfilled
                assert_no_feedback(app)
            await submit(pilot, app, text, rounds=600)
        assert isinstance(app.screen, SummaryScreen)
        assert not app.screen.query(".question-detail")  # details are built when opened
        await pilot.press("x")
        await pilot.pause(0.3)
        summary_md = "\n".join(m.source for m in app.screen.query("#summary, .question-detail"))
        assert "Mean score" in summary_md
        assert len(app.screen.query(".question-detail")) == n
    rows = answers_of(svc, engine)
    assert len(rows) == n and all(r["score"] is not None for r in rows)
    if round_ == "depth":  # the interviewer still digs in during a mock interview
        assert [t.kind for t in engine.state.attempts[0].turns].count("follow_up") >= 1
    if round_ == "coding":
        assert rows[0]["grade"]["tests"]["passed"] > 0
        assert "hidden tests passed" in summary_md  # the test results arrive with the summary


# -- LLM mode against the loopback server -------------------------------------------------------------

NOTES = ["bias-variance.md", "regularization.md", "image-classification.md", "monitoring-drift.md", "cross-validation.md", "ml-system-design-framework.md"]
FOLLOW_UP = "You mentioned the two sites differ; which single measurement would you take first to confirm a domain shift, and why that one?"


@pytest.fixture(scope="module")
def notes_retriever(tmp_path_factory, embedder):
    """A real (small) notes index: Chroma on disk plus the bundled model, built once per module."""
    from interviewer.knowledge.ingest import Ingestor
    from interviewer.knowledge.retrieve import Retriever
    from interviewer.knowledge.store import Store
    from interviewer.settings import corpus_dir

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INTERVIEWER_HOME", str(tmp_path_factory.mktemp("notes-home")))
        store = Store.open()
        Ingestor(store, embedder=embedder).run([corpus_dir() / "notes" / n for n in NOTES])
    return Retriever(store, embedder=embedder)


def llm_services(server: FakeOpenAI, offline_grader, retriever, timeout: float = 5.0) -> Services:
    """The real LLM wiring (services.grading and .interviewer), against the loopback server."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[profiles.loop]\nbase_url = "{server.base_url}"\nmodel = "test-model"\ntimeout = {timeout}\nmax_retries = 0\n', encoding="utf-8")
    svc = Services(Overrides(profile="loop"))
    svc.retriever = retriever
    assert svc.llm is not None and svc.interviewer is not None
    svc.grading.offline = offline_grader  # the warmed one: the wiring under test is the LLM side
    return svc


def verdicts_for(q, answer: str, share: float = 0.5) -> dict:
    quote = answer.split(".")[0][:40]
    return {
        "criteria": [{"id": c.id, "awarded": c.points * share, "evidence": [quote], "feedback": f"Partly there on {c.id}."} for c in q.rubric],
        "overall_feedback": "Good start; the rollout plan is thin.",
        "missing": "A concrete plan for the rollout.",
    }


def router(engine_ref: dict, follow_up: Reply):
    """Grades get verdicts for the question on screen; a streamed request gets the follow-up."""

    def reply(body: dict) -> Reply:
        if body.get("stream"):
            return follow_up
        eng = engine_ref["engine"]
        answer = eng.attempt.full_answer()
        return Reply(json=verdicts_for(eng.question, answer))

    return reply


def request_text(body: dict) -> str:
    return json.dumps(body.get("messages", []))


async def test_depth_follow_up_streams_into_the_question_pane_and_feedback_cites_its_sources(fake_llm, offline_grader, notes_retriever):
    from interviewer.tui.app import InterviewerApp, SummaryScreen

    fake_llm.chunk_size = 6
    svc = llm_services(fake_llm, offline_grader, notes_retriever)
    engine = svc.new_engine(round="depth", questions=1, seed=5)
    q = engine.question
    ref = {"engine": engine}
    fake_llm.default = router(ref, Reply(text=FOLLOW_UP, delay=0.05))
    app = InterviewerApp(svc, engine=engine)
    first = half_answer(q)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.query_one("#answer").text = first
        await pilot.press("ctrl+s")
        # watch the pane while the follow-up arrives: it must grow in pieces, not appear at once
        seen: list[str] = []
        for _ in range(400):
            src = pane(app, "#question")
            if "**Interviewer.** " in src:
                shown = src.split("**Interviewer.** ")[-1]
                if shown and (not seen or shown != seen[-1]):
                    seen.append(shown)
            if engine.attempt.turns[-1].prompt == FOLLOW_UP and not app.screen.streaming:
                break
            await pilot.pause(0.02)
        await wait_idle(pilot, app)
        partial = [s for s in seen if s != FOLLOW_UP]
        assert len(partial) >= 2, seen
        assert all(FOLLOW_UP.startswith(s.strip()) for s in partial)
        assert engine.attempt.turns[-1].prompt == FOLLOW_UP
        assert f"**Interviewer.** {FOLLOW_UP}" in pane(app, "#question")
        assert first in pane(app, "#question")
        assert app.screen.query_one("#answer").read_only is False
        # what the model was asked: the answer, what it missed, notes from the index
        stream_req = next(b for b in fake_llm.requests if b.get("stream"))
        text = request_text(stream_req)
        assert first[:30] in text and "notes/" in text
        assert any(c.criterion[:30] in text for c in q.rubric)
        # answer the remaining follow-ups; the last answer is graded by the LLM with sources
        while not app.screen.awaiting_next:
            await submit(pilot, app, "I would compare the colour histograms of the two sites first.")
        fb = pane(app, "#feedback")
        assert "graded llm (test-model)" in fb
        assert "Sources the grader drew on" in fb and "`notes/" in fb
        assert "Good start; the rollout plan is thin." in fb
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
    (row,) = answers_of(svc, engine)
    assert row["grader"] == "llm" and row["grade"]["sources"]
    assert all(s.startswith("notes/") for s in row["grade"]["sources"])
    assert [t.kind for t in engine.attempt.turns] == ["question", "follow_up", "follow_up"]
    grade_reqs = [b for b in fake_llm.requests if not b.get("stream")]
    assert all("notes/" in request_text(b) for b in grade_reqs)  # the grader got notes too
    # every model call of the session is in the journal, with its purpose and tokens
    calls = svc.journal.db.execute("SELECT purpose, input_tokens FROM llm_calls WHERE session_id = ?", (engine.session_id,)).fetchall()
    assert sorted({c["purpose"] for c in calls}) == ["follow_up", "grade"]
    assert len(calls) == len(fake_llm.requests) and all(c["input_tokens"] > 0 for c in calls)


async def test_escape_during_a_slow_stream_cancels_it_and_keeps_the_candidates_answer(fake_llm, offline_grader, notes_retriever):
    from interviewer.tui.app import InterviewerApp

    fake_llm.chunk_size = 2  # ~60 chunks, 50 ms apart: a slow model
    svc = llm_services(fake_llm, offline_grader, notes_retriever)
    engine = svc.new_engine(round="depth", questions=1, seed=5)
    q = engine.question
    fake_llm.default = router({"engine": engine}, Reply(text=FOLLOW_UP, delay=0.05))
    app = InterviewerApp(svc, engine=engine)
    first = half_answer(q)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.query_one("#answer").focus()
        app.screen.query_one("#answer").text = first
        await pilot.press("ctrl+s")
        assert await until(pilot, lambda: len(streamed(app)) >= 6)
        assert app.screen.streaming
        assert app.screen.query_one("#answer").text == first  # still on screen while it streams
        await pilot.press("escape")
        # settled at once, without waiting for the rest of the stream
        assert await until(pilot, lambda: not app.screen.streaming and not app.screen.grading, timeout=1.0)
        follow = engine.attempt.turns[-1].prompt
        assert follow in q.follow_ups and follow != FOLLOW_UP  # the bank's follow-up instead
        question_pane = pane(app, "#question")
        assert f"**Interviewer.** {follow}" in question_pane
        assert first in question_pane and FOLLOW_UP[:20] not in question_pane
        assert any("skipped the interviewer's follow-up" in t for t in toasts(app))
        editor = app.screen.query_one("#answer")
        assert editor.read_only is False and editor.text == ""
        # the candidate's answer is recorded, in memory and in the persisted state
        assert engine.attempt.turns[0].answer == first
        state = svc.journal.session(engine.session_id)["state"]
        assert state["attempts"][0]["turns"][0]["answer"] == first
        assert state["attempts"][0]["follow_up_pending"] is False
        await wait_idle(pilot, app)
    assert len(engine.attempt.turns) == 2  # the late stream did not add a second follow-up


async def test_a_stream_cut_off_mid_reply_gives_a_notice_and_the_offline_follow_up(fake_llm, offline_grader, notes_retriever):
    from interviewer.tui.app import InterviewerApp

    svc = llm_services(fake_llm, offline_grader, notes_retriever)
    engine = svc.new_engine(round="depth", questions=1, seed=5)
    q = engine.question
    fake_llm.default = router({"engine": engine}, Reply(text=FOLLOW_UP, truncate_after=4))
    app = InterviewerApp(svc, engine=engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await submit(pilot, app, half_answer(q))
        assert not app.screen.streaming
        follow = engine.attempt.turns[-1].prompt
        assert follow in q.follow_ups
        assert any("failed mid-reply" in t and "cut off" in t for t in toasts(app))
        assert f"**Interviewer.** {follow}" in pane(app, "#question")
        assert FOLLOW_UP[:20] not in pane(app, "#question")  # the broken half-question is gone


@pytest.mark.parametrize("failure", ["http_500", "hang"])
async def test_endpoint_failing_mid_round_falls_back_to_offline_and_the_round_goes_on(fake_llm, offline_grader, notes_retriever, failure):
    from interviewer.tui.app import InterviewerApp, SummaryScreen

    svc = llm_services(fake_llm, offline_grader, notes_retriever, timeout=1.0)
    engine = svc.new_engine(round="breadth", questions=2, seed=3)
    fake_llm.default = router({"engine": engine}, Reply(text=FOLLOW_UP))
    app = InterviewerApp(svc, engine=engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await submit(pilot, app, engine.question.reference_answer)
        assert "graded llm (test-model)" in pane(app, "#feedback")
        await pilot.press("ctrl+n")
        await pilot.pause()
        fake_llm.default = Reply(status=500) if failure == "http_500" else Reply(hang=True)
        await submit(pilot, app, engine.question.reference_answer)
        fb = pane(app, "#feedback")
        assert "graded offline" in fb and "graded offline instead" in fb
        assert any("graded offline instead" in t for t in toasts(app))
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
    rows = answers_of(svc, engine)
    assert [r["grader"] for r in rows] == ["llm", "offline"]
    assert all(r["score"] is not None for r in rows)


async def test_mock_mode_says_when_the_endpoint_failed_but_not_how_the_answer_scored(fake_llm, offline_grader, notes_retriever):
    from interviewer.tui.app import InterviewerApp, SummaryScreen

    svc = llm_services(fake_llm, offline_grader, notes_retriever, timeout=1.0)
    engine = svc.new_engine(round="breadth", mode="mock", questions=1, seed=3)
    fake_llm.default = Reply(status=500)
    app = InterviewerApp(svc, engine=engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await submit(pilot, app, engine.question.reference_answer)
        assert isinstance(app.screen, SummaryScreen)
        assert any("graded offline instead" in t for t in toasts(app))
        assert not any("Score" in t or "/10" in t for t in toasts(app))


# -- the engine's streaming contract, without a UI -------------------------------------------------------


def test_a_crash_while_the_follow_up_streams_resumes_with_the_answer_and_asks_again(fake_llm, offline_grader, notes_retriever):
    from interviewer.rounds.engine import SessionEngine

    svc = llm_services(fake_llm, offline_grader, notes_retriever)
    engine = svc.new_engine(round="depth", questions=1, seed=5)
    q = engine.question
    fake_llm.default = router({"engine": engine}, Reply(text=FOLLOW_UP))
    first = half_answer(q)
    out = engine.submit(first, stream=True)
    assert out == {"next": "follow_up", "stream": True, "notices": []}
    with pytest.raises(RuntimeError):
        engine.submit("again", stream=True)  # one turn at a time
    sid = engine.session_id
    del engine  # the terminal closed while the interviewer was "speaking"

    again = SessionEngine.resume(svc.journal, svc.bank, svc.grading, sid, interviewer=svc.interviewer)
    assert again.follow_up_pending and again.attempt.turns[0].answer == first
    ref = {"engine": again}
    fake_llm.default = router(ref, Reply(text=FOLLOW_UP))
    text = "".join(again.stream_follow_up())
    assert text == FOLLOW_UP
    out = again.accept_follow_up(text)
    assert out["next"] == "follow_up" and out["prompt"] == FOLLOW_UP and out["source"] == "llm"
    assert again.current_prompt == FOLLOW_UP and not again.follow_up_pending
    state = svc.journal.session(sid)["state"]
    assert [t["prompt"] for t in state["attempts"][0]["turns"]][1] == FOLLOW_UP


async def test_reopening_a_session_cut_off_mid_stream_streams_the_follow_up_again(fake_llm, offline_grader, notes_retriever):
    from interviewer.rounds.engine import SessionEngine
    from interviewer.tui.app import InterviewerApp

    svc = llm_services(fake_llm, offline_grader, notes_retriever)
    engine = svc.new_engine(round="depth", questions=1, seed=5)
    first = half_answer(engine.question)
    ref = {"engine": engine}
    fake_llm.default = router(ref, Reply(text=FOLLOW_UP))
    assert engine.submit(first, stream=True)["stream"]  # then the terminal closed
    again = SessionEngine.resume(svc.journal, svc.bank, svc.grading, engine.session_id, interviewer=svc.interviewer)
    ref["engine"] = again
    app = InterviewerApp(svc, engine=again)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert await until(pilot, lambda: again.current_prompt == FOLLOW_UP and not app.screen.grading)
        question_pane = pane(app, "#question")
        assert first in question_pane and f"**Interviewer.** {FOLLOW_UP}" in question_pane
        assert app.screen.query_one("#answer").text == ""


def test_a_cancelled_or_empty_stream_falls_back_to_the_banks_follow_up(fake_llm, offline_grader, notes_retriever):
    import threading

    svc = llm_services(fake_llm, offline_grader, notes_retriever)
    engine = svc.new_engine(round="depth", questions=1, seed=5)
    q = engine.question
    fake_llm.default = router({"engine": engine}, Reply(text=FOLLOW_UP, delay=0.05))
    engine.submit(half_answer(q), stream=True)
    cancel = threading.Event()
    got = []
    for piece in engine.stream_follow_up(cancel):
        got.append(piece)
        cancel.set()
    assert 1 <= len(got) < len(FOLLOW_UP)
    out = engine.accept_follow_up(None)
    assert out["source"] == "offline" and out["prompt"] in q.follow_ups
    # the model answering with nothing usable is the same as no answer
    engine.submit("A second answer with a concrete plan.", stream=True)
    out = engine.accept_follow_up("  Interviewer:  ")
    assert out["source"] == "offline" and out["prompt"] in q.follow_ups
    assert len({t.prompt for t in engine.attempt.turns}) == 3


def test_offline_services_never_build_the_notes_index(offline_grader, monkeypatch):
    import interviewer.knowledge.retrieve as retrieve

    def boom(*a, **kw):
        raise AssertionError("offline mode touched retrieval")

    monkeypatch.setattr(retrieve, "get_retriever", boom)
    svc = Services(Overrides(offline=True))
    svc.__dict__["grading"] = GradingService(offline=offline_grader)
    svc.warm(notice=lambda m: None)
    assert svc.interviewer is None and svc.grading.online is None
    engine = svc.new_engine(round="depth", questions=1, seed=5)
    out = engine.submit(half_answer(engine.question), stream=True)
    assert out["next"] == "follow_up" and "stream" not in out and out["source"] == "offline"


def test_warming_llm_mode_indexes_the_notes_with_a_notice_not_on_stderr(fake_llm, offline_grader, capsys, monkeypatch):
    import interviewer.knowledge.ingest as ingest
    import interviewer.knowledge.retrieve as retrieve

    # A handful of notes keeps this quick; the path is the one the app takes on a first run.
    few = sorted(ingest.bundled_note_paths())[:3]
    monkeypatch.setattr(ingest, "bundled_note_paths", lambda: few)
    retrieve.reset_retrievers()
    try:
        path = config_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'[profiles.loop]\nbase_url = "{fake_llm.base_url}"\nmodel = "test-model"\n', encoding="utf-8")
        svc = Services(Overrides(profile="loop"))
        svc.grading.offline = offline_grader
        seen: list[str] = []
        svc.warm(notice=seen.append)
        assert any("indexing the bundled notes (3 files)" in m for m in seen)
        assert capsys.readouterr().err == ""
        chunks = svc.grading.online.retriever.context_for("bias and variance", budget_tokens=300)
        assert chunks and all(c.source.startswith("notes/") for c in chunks)
    finally:
        retrieve.reset_retrievers()


async def test_escape_stops_hidden_tests_even_from_the_editor_and_otherwise_leaves_the_editor(offline_grader):
    from interviewer.tui.app import InterviewerApp

    svc = make_services(offline_grader)
    engine = make_engine(svc, round="coding", n=1, seed=1)
    app = InterviewerApp(svc, engine=engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        editor = app.screen.query_one("#answer")
        editor.focus()
        await pilot.pause()
        # nothing to cancel: escape keeps its editor meaning (leave the editor), the text stays
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is not editor and editor.text == engine.question.starter_code
        editor.focus()
        editor.text = "import time\ntime.sleep(60)\n" + engine.question.starter_code
        await pilot.press("ctrl+r")
        assert await until(pilot, lambda: app.screen._tests_running(), timeout=5)
        await pilot.pause(0.5)
        assert app.focused is editor
        await pilot.press("escape")
        await wait_idle(pilot, app, 200)
        assert "the run was cancelled" in pane(app, "#feedback")
        assert editor.text.startswith("import time")  # the code is untouched


# -- the summary -------------------------------------------------------------------------------------


def test_the_summary_shows_a_coding_reference_answer_as_python_code(bank):
    from interviewer.tui.summary import question_markdown

    q = bank.get("coding.kmeans")
    row = {"question_id": q.id, "round": "coding", "prompt": q.prompt, "score": 5.0, "criteria": [], "timed_out": False, "notices": [], "reference_answer": q.reference_answer}
    md = question_markdown(row)
    fenced = re.findall(r"```python\n(.*?)```", md, re.S)
    assert any(q.reference_answer.strip() in block for block in fenced)
