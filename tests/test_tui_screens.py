"""The TUI's screens beyond the round: posting, journal, progress, settings, history, home.

Pilot tests drive each screen as a user would (keys, pastes, forms) and check what lands in SQLite
and on disk; snapshot tests pin every screen's look at a fixed size, with a fixed clock, fixed
timestamps (TZ=UTC, rows dated by SQL) and seeded question choice.
"""

from __future__ import annotations

import json
import os
import time

import pytest
from textual import events

from interviewer.journal import Journal
from interviewer.schema import CriterionGrade, Grade
from test_tui import FakeClock, make_engine, make_services, wait_idle

SIZE = (110, 34)
BASE_TS = 1767600000.0  # 2026-01-05 08:00 UTC: every seeded row is dated from here

POSTING = """Machine Learning Engineer, Home Feed Ranking
Bramblepost · Lisbon or remote (EU)

Bramblepost is a community app where people trade plants and gardening tips. Our home feed decides
which of thousands of fresh listings each member sees first.

What you will do
- Train and improve the ranking models behind the home feed, from candidate retrieval to the final
  ordering, using gradient boosted trees and two-tower neural networks
- Design offline evaluation with NDCG and recall at k, and run A/B tests to check that offline gains
  hold up with real members
- Engineer features from clicks, saves and messages, and handle position bias in the logged data
- Work with the platform team, who own the serving stack, to ship models safely

What we are looking for
- 3+ years training and shipping machine learning models in production
- Strong Python and SQL; experience with PyTorch or a similar framework
- A solid grasp of ranking metrics, experiment design and statistics

Nice to have: experience with learning-to-rank losses or feature stores.
"""

GERMAN_POSTING = """Wir suchen eine Data Scientistin oder einen Data Scientist für unser Team in Hamburg.
Deine Aufgaben: Du entwickelst Prognosemodelle für die Nachfrage in unseren Filialen, pflegst die
Datenpipelines und stellst die Ergebnisse den Fachabteilungen vor. Dein Profil: mindestens drei Jahre
Erfahrung mit Python, SQL und Zeitreihenmodellen sowie Freude an der Zusammenarbeit mit Menschen."""


@pytest.fixture
def utc():
    """Local time is UTC for the test, so dates on screen are the same on every machine."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.fixture
def fixed_home(tmp_path, monkeypatch):
    """HOME is the test's folder, so paths show as ~/home/... whatever the machine."""
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def app_for(svc, **kw):
    from interviewer.tui.app import InterviewerApp

    return InterviewerApp(svc, start_home=kw.pop("start_home", True), **kw)


async def open_on(pilot, app, name: str) -> None:
    """Open one of the app's screens (as the home menu does) once the app is up."""
    await pilot.pause()
    app.open_screen(name)
    await pilot.pause()


async def settle(pilot, app, groups=("posting", "journal", "progress", "engine", "grading", "coverage", "tests"), timeout: float = 60.0) -> None:
    """Wait until the screen's workers are done (or fail the test after `timeout`)."""
    await pilot.pause()
    waited = 0.0
    while any(w.is_running for w in app.workers if w.group in groups):
        assert waited < timeout, f"workers still running after {timeout}s"
        await pilot.pause(0.05)
        waited += 0.05
    await pilot.pause()


def notice_text(app) -> str:
    return str(app.screen.query_one("#notice").render())


def static_text(app, selector: str) -> str:
    """What a Static shows, as plain text (rich renderables rendered at the widget's width)."""
    from io import StringIO

    from rich.console import Console

    widget = app.screen.query_one(selector)
    if isinstance(widget.content, str):
        return str(widget.render())
    console = Console(width=1000, file=StringIO(), record=True, color_system=None)  # no wrapping: phrases stay whole
    console.print(widget.content)
    return console.export_text()


def seed_journal(journal: Journal, bank) -> list[int]:
    """Three finished sessions on three days (2026-01-05, -06, -08), dated by SQL, all cards due."""
    days = [
        (0, "practice", "breadth", [("breadth.ctr-vs-cvr", 0.3, 95.0), ("breadth.adamw-weight-decay", 0.6, 130.0)]),
        (1, "mock", "breadth", [("breadth.precision-recall", 0.8, 80.0), ("breadth.ctr-vs-cvr", 0.55, 110.0)]),
        (3, "practice", "depth", [("depth.ctr-calibration-after-downsampling", 0.7, 540.0)]),
    ]
    ids = []
    for day, mode, rnd, items in days:
        sid = journal.start_session(mode, [rnd])
        for qid, frac, secs in items:
            q = bank.get(qid)
            assert q is not None, f"seed question {qid} left the bank"
            aid = journal.record_answer(sid, q, f"My answer about {q.topics[0]}: the main idea, a trade-off and an example.", secs)
            crit = [CriterionGrade(id=c.id, awarded=round(c.points * frac * 2) / 2, points=c.points, feedback=f"covered about {int(frac * 100)}%") for c in q.rubric]
            journal.record_grade(aid, Grade(question_id=qid, score=Grade.score_from(crit), criteria=crit, grader="offline"))
        journal.finish_session(sid, {})
        ts = BASE_TS + day * 86400
        journal.db.execute("UPDATE sessions SET started_at = ?, finished_at = ? WHERE id = ?", (ts, ts + 900, sid))
        journal.db.execute("UPDATE answers SET submitted_at = ? WHERE session_id = ?", (ts + 300, sid))
        ids.append(sid)
    journal.db.execute("UPDATE cards SET due = ?", (BASE_TS,))  # every card due, whatever today is
    return ids


def seed_entries(journal: Journal) -> None:
    journal.add_entry("point", "Calibrate after negative downsampling", "Correct the odds by the sampling rate, then check reliability.")
    journal.add_entry("paper", "Deep Neural Networks for YouTube Recommendations", "Two stages: candidate generation, then ranking with watch time.", "/papers/youtube-dnn.pdf")
    journal.add_entry("question", "How would you detect training/serving skew?", "Log features at serving time and compare.", "questions/breadth.mine-skew.yaml", "breadth.mine-skew")
    for i, row in enumerate(journal.db.execute("SELECT id FROM entries ORDER BY id").fetchall()):
        journal.db.execute("UPDATE entries SET created_at = ? WHERE id = ?", (BASE_TS + i * 3600, row[0]))


# ---------------------------------------------------------------------------------------------
# home


async def test_home_lists_every_place_the_app_can_go(offline_grader):
    from interviewer.tui.home import HOME_ACTIONS

    svc = make_services(offline_grader)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        menu = app.screen.query_one("#home-menu")
        ids = [menu.get_option_at_index(i).id for i in range(menu.option_count)]
        assert ids == [k for k, _ in HOME_ACTIONS]
        for key in ("loop", "posting", "journal", "progress", "history", "settings"):
            assert key in ids


async def test_home_offers_to_resume_an_interrupted_session(offline_grader):
    from interviewer.tui.practice import PracticeScreen

    svc = make_services(offline_grader)
    engine = make_engine(svc, n=2, seed=3)  # started, never finished: like a closed terminal
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        menu = app.screen.query_one("#home-menu")
        assert menu.get_option_at_index(0).id == f"resume:{engine.session_id}"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PracticeScreen)
        assert app.engine.session_id == engine.session_id


async def test_drilling_due_questions_with_nothing_due_is_one_line_not_a_crash(offline_grader):
    from interviewer.tui.home import HomeScreen

    svc = make_services(offline_grader)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.clear_notifications()
        app.start_round("due")
        await settle(pilot, app)
        assert isinstance(app.screen, HomeScreen)
        messages = [n.message for n in app._notifications]
        assert any("nothing is due for review yet" in m for m in messages)


async def test_full_loop_without_a_posting_opens_the_posting_screen(offline_grader):
    from interviewer.tui.posting import PostingScreen

    svc = make_services(offline_grader)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.start_loop()
        await pilot.pause()
        assert isinstance(app.screen, PostingScreen)


# ---------------------------------------------------------------------------------------------
# posting


async def test_paste_a_posting_see_the_profile_and_start_the_planned_loop(offline_grader, interviewer_home):
    from interviewer.tui.posting import PostingScreen
    from interviewer.tui.practice import PracticeScreen

    svc = make_services(offline_grader)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        menu = app.screen.query_one("#home-menu")
        menu.highlighted = [menu.get_option_at_index(i).id for i in range(menu.option_count)].index("posting")
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PostingScreen)
        assert screen.check_action("start_loop", ()) is False  # nothing to start yet
        editor = screen.query_one("#posting-text")
        editor.focus()
        app.post_message(events.Paste(POSTING))  # as the terminal delivers a paste
        await pilot.pause()
        assert editor.text.strip() == POSTING.strip()
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert screen.profile is not None
        assert screen.profile.responsibility == "modeling"
        assert "recsys" in screen.profile.domains
        report = static_text(app, "#profile")
        assert "responsibility" in report and "recsys" in report and "Focus topics" in report
        assert "ctrl+l starts the full loop" in notice_text(app)
        planned = [r["round"] for r in screen.plan["loop"]]
        assert len(planned) >= 2
        # the paste and the profile are on disk: a crash now loses neither
        assert (interviewer_home / "last-posting.txt").read_text(encoding="utf-8") == editor.text
        assert json.loads((interviewer_home / "last-profile.json").read_text(encoding="utf-8"))["responsibility"] == "modeling"
        await pilot.press("ctrl+l")
        await settle(pilot, app)
        assert isinstance(app.screen, PracticeScreen)
        assert [p.round for p in app.engine.state.plans] == planned
    session = svc.journal.session(app.engine.session_id)
    assert session["rounds"] == planned
    assert session["profile"]["domains"] == screen.profile.domains


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "error: nothing to analyze: the posting is empty"),
        ("   \n\n  ", "error: nothing to analyze: the posting is empty"),
        ("Senior ML engineer wanted, apply now", "error: the posting is too short to analyze (6 words)"),
    ],
)
async def test_bad_posting_is_one_line_and_the_text_stays(offline_grader, interviewer_home, text, expected):
    svc = make_services(offline_grader)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "posting")
        editor = app.screen.query_one("#posting-text")
        editor.load_text(text)
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        line = notice_text(app)
        assert line.startswith(expected)
        assert "\n" not in line.strip() and "Traceback" not in line
        assert editor.text == text
        assert app.screen.profile is None
        assert app.screen.check_action("start_loop", ()) is False
    assert (interviewer_home / "last-posting.txt").read_text(encoding="utf-8") == text


async def test_posting_in_another_language_is_analyzed_with_a_notice_and_edits_make_it_stale(offline_grader):
    svc = make_services(offline_grader)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "posting")
        app.screen.query_one("#posting-text").load_text(GERMAN_POSTING)
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert app.screen.profile is not None
        assert "does not look like English" in static_text(app, "#profile")
        assert app.screen.check_action("start_loop", ()) is True
        # editing the posting makes the profile stale: no loop until it is analyzed again
        editor = app.screen.query_one("#posting-text")
        editor.focus()
        await pilot.press("end", "x")
        await pilot.pause()
        assert app.screen.check_action("start_loop", ()) is False
        assert "posting changed" in notice_text(app)


async def test_huge_posting_is_truncated_with_a_notice_and_kept_whole(offline_grader, interviewer_home):
    svc = make_services(offline_grader)
    huge = POSTING + "\n".join(f"- Item {i}: maintain the ranking dashboards and answer questions about the feed metrics." for i in range(2500))
    assert len(huge.encode()) > 200_000
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "posting")
        app.screen.query_one("#posting-text").load_text(huge)
        await pilot.press("ctrl+s")
        await settle(pilot, app, timeout=120)
        assert app.screen.profile is not None
        assert "only its first" in static_text(app, "#profile")
        assert app.screen.query_one("#posting-text").text == huge
    assert (interviewer_home / "last-posting.txt").read_text(encoding="utf-8") == huge


async def test_posting_from_a_file_html_is_stripped_and_a_wrong_path_is_one_line(offline_grader, tmp_path):
    svc = make_services(offline_grader)
    html = "<html><head><title>Jobs</title><script>var x = 1;</script></head><body><nav>Home | Careers</nav><h1>Machine Learning Engineer</h1>" + "".join(
        f"<p>{line}</p>" for line in POSTING.splitlines()[3:] if line.strip()
    ) + "</body></html>"
    path = tmp_path / "posting.html"
    path.write_text(html, encoding="utf-8")
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "posting")
        await pilot.press("ctrl+o")
        field = app.screen.query_one("#posting-file")
        assert app.focused is field
        field.value = str(tmp_path / "missing.txt")
        await pilot.press("enter")
        await pilot.pause()
        assert notice_text(app).startswith(f"error: posting file {tmp_path / 'missing.txt'} does not exist (check the path)")
        field.value = f"'{path}'"  # dragged into a terminal, paths arrive quoted
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.screen.query_one("#posting-text").text == html
        assert app.screen.profile is not None
        assert "pasted as HTML" in static_text(app, "#profile")


async def test_pasted_posting_survives_closing_the_app(offline_grader):
    from interviewer.tui.posting import PostingScreen

    svc = make_services(offline_grader)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "posting")
        editor = app.screen.query_one("#posting-text")
        editor.focus()
        await pilot.press(*"Staff ML engineer")
        await pilot.press("ctrl+q")  # before the debounced save fires
    app2 = app_for(make_services(offline_grader))
    async with app2.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app2.open_screen("posting")
        await pilot.pause()
        assert isinstance(app2.screen, PostingScreen)
        assert app2.screen.query_one("#posting-text").text == "Staff ML engineer"
        assert "last posting is back" in notice_text(app2)


def llm_services(offline_grader, fake_llm):
    """Services whose endpoint is the loopback server (no retries, short timeouts)."""
    from interviewer.settings import Endpoint

    svc = make_services(offline_grader)
    svc.__dict__["endpoint"] = Endpoint(offline=False, base_url=fake_llm.base_url, model="test-model", api_key="test-key", timeout=10.0, connect_timeout=2.0, max_retries=0)
    return svc


async def analyze_pasted(pilot, app) -> None:
    """Open the posting screen, paste POSTING and analyze it."""
    await open_on(pilot, app, "posting")
    app.screen.query_one("#posting-text").load_text(POSTING)
    await pilot.press("ctrl+s")
    await settle(pilot, app)


async def test_llm_endpoint_failing_falls_back_to_the_offline_analyzer_with_a_notice(offline_grader, fake_llm):
    from fake_openai import Reply

    fake_llm.default = Reply(status=500)
    svc = llm_services(offline_grader, fake_llm)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await analyze_pasted(pilot, app)
        profile = app.screen.profile
        assert profile is not None and profile.analyzer == "offline"
        assert any("analyzed offline instead" in n for n in profile.notices)
        assert "endpoint failed" in notice_text(app)
        assert "analyzed offline instead" in static_text(app, "#profile")
    assert fake_llm.requests, "the analyzer never called the endpoint"


async def test_llm_endpoint_analyzes_the_posting(offline_grader, fake_llm):
    from fake_openai import Reply

    fake_llm.default = Reply(
        json={
            "title": "Machine Learning Engineer, Home Feed Ranking",
            "company": "Bramblepost",
            "responsibility": "modeling",
            "specialization": "specialist",
            "domains": ["recsys"],
            "level": "mid",
            "focus": [{"topic": "search-ranking", "evidence": ["Train and improve the ranking models behind the home"]}],
            "rationale": ["the duties are ranking models"],
        }
    )
    svc = llm_services(offline_grader, fake_llm)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await analyze_pasted(pilot, app)
        profile = app.screen.profile
        assert profile is not None and profile.analyzer == "llm"
        assert "analyzed llm with test-model" in static_text(app, "#profile")
    calls = svc.journal.db.execute("SELECT COUNT(*) FROM llm_calls").fetchone()[0]
    assert calls >= 1  # usage is logged as the CLI logs it


# ---------------------------------------------------------------------------------------------
# journal


async def test_add_a_key_point_it_is_listed_and_saved(offline_grader):
    from interviewer.tui.journal_screen import EntryForm, JournalScreen

    svc = make_services(offline_grader)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "journal")
        assert isinstance(app.screen, JournalScreen)
        assert app.screen.query_one("#journal-empty").display
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, EntryForm)
        form.query_one("#entry-kind").value = "point"
        await pilot.pause()
        assert not form.query_one("#entry-question-fields").display
        form.query_one("#entry-title").focus()
        await pilot.press(*"Log features at serving time")
        form.query_one("#entry-body").load_text("Compare them with the training features daily.")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert isinstance(app.screen, JournalScreen)
        table = app.screen.query_one("#entries")
        assert table.row_count == 1
        assert "Log features at serving time" in [str(c) for c in table.get_row_at(0)]
        assert "saved entry" in notice_text(app)
    rows = Journal().entries()
    assert [(r["kind"], r["title"], r["body"]) for r in rows] == [("point", "Log features at serving time", "Compare them with the training features daily.")]


async def test_entry_form_keeps_everything_typed_when_saving_fails(offline_grader, tmp_path):
    from interviewer.tui.journal_screen import EntryForm

    svc = make_services(offline_grader)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "journal")
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        await pilot.press("ctrl+s")  # no title yet
        await pilot.pause()
        assert str(form.query_one("#entry-error").render()).startswith("error: the entry needs a title")
        form.query_one("#entry-kind").value = "paper"
        await pilot.pause()
        form.query_one("#entry-title").value = "Attention Is All You Need"
        form.query_one("#entry-body").load_text("Self-attention replaces recurrence.")
        form.query_one("#entry-source").value = str(tmp_path / "nope.pdf")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert isinstance(app.screen, EntryForm)
        error = str(form.query_one("#entry-error").render())
        assert error.startswith(f"error: {tmp_path / 'nope.pdf'} does not exist")
        assert form.query_one("#entry-title").value == "Attention Is All You Need"
        assert form.query_one("#entry-body").text == "Self-attention replaces recurrence."
        # escape with text typed asks first; "n" keeps the form
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is form
    assert Journal().entries() == []


async def test_delete_an_entry_asks_first(offline_grader, utc):
    from interviewer.tui.journal_screen import JournalScreen

    svc = make_services(offline_grader)
    seed_entries(svc.journal)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "journal")
        table = app.screen.query_one("#entries")
        assert table.row_count == 3
        newest = str(table.get_row_at(0)[0])
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, JournalScreen) and table.row_count == 3
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert table.row_count == 2
    assert newest not in {str(e["id"]) for e in Journal().entries()}


async def test_adding_a_question_makes_it_a_practice_question(offline_grader, interviewer_home):
    svc = make_services(offline_grader)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "journal")
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        form.query_one("#entry-title").value = "How do you detect training/serving skew?"
        form.query_one("#entry-body").load_text("Log the features at serving time and compare their distributions with training.")
        form.query_one("#entry-topics").value = "evaluation-metrics"
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        qid = "breadth.mine-how-do-you-detect-training-serving-skew"
        assert "it is now in your practice pool" in notice_text(app)
        assert svc.bank.get(qid) is not None  # in this session's practice pool, not only on disk
        assert str(app.screen.query_one("#entries").get_row_at(0)[4]) == qid
    assert (interviewer_home / "questions" / f"{qid}.yaml").exists()
    assert Journal().entries()[0]["question_id"] == qid


def test_journal_add_paper_indexes_its_source(tmp_path):
    from interviewer.journal_entries import add_entry
    from interviewer.services import Services
    from interviewer.settings import Overrides

    src = tmp_path / "paper.md"
    src.write_text("# Two-tower retrieval\n\nThe query tower and the item tower are trained with sampled softmax.\n", encoding="utf-8")
    msg = add_entry(Services(Overrides(offline=True)), "paper", "Two towers", "", str(src), [], "breadth")
    assert "indexed" in msg and "unavailable" not in msg


# ---------------------------------------------------------------------------------------------
# progress


async def test_progress_shows_trends_topics_time_and_due_reviews(offline_grader):
    svc = make_services(offline_grader)
    seed_journal(svc.journal, svc.bank)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.open_screen("progress")
        await settle(pilot, app)
        assert not app.screen.query_one("#progress-empty").display
        headline = static_text(app, "#progress-headline")
        assert "5 graded answers" in headline and "due for review" in headline
        chart = static_text(app, "#trend-chart")
        assert "Mean score per day" in chart and "01-05" in chart and "01-08" in chart
        topics = static_text(app, "#by-topic")
        assert "ads-ctr" in topics and "s/question" in topics
        rounds = static_text(app, "#by-round")
        assert "breadth" in rounds and "depth" in rounds
        assert "ads" in static_text(app, "#by-domain")
        due = static_text(app, "#due")
        assert "breadth.ctr-vs-cvr" in due
        width = max(len(line) for line in chart.splitlines())
        await pilot.resize_terminal(140, 40)
        await pilot.pause()
        assert max(len(line) for line in static_text(app, "#trend-chart").splitlines()) > width  # redrawn to fit
    data = svc.journal.progress()
    assert data["answers"] == 5  # the screen reads the same numbers as `interviewer progress`


async def test_progress_with_an_empty_journal_says_so(offline_grader):
    svc = make_services(offline_grader)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.open_screen("progress")
        await settle(pilot, app)
        assert app.screen.query_one("#progress-empty").display
        assert "No graded answers yet" in str(app.screen.query_one("#progress-empty").render())
        assert not app.screen.query_one("#trend-chart").display


def test_progress_chart_needs_two_days_and_scales_scores_0_to_10():
    from interviewer.tui.progress_screen import spark, trend_chart

    one_day = [{"day": "2026-01-05", "round": "breadth", "mean_score": 5.0, "answers": 2}]
    assert trend_chart(one_day, 60) is None
    two = one_day + [{"day": "2026-01-06", "round": "breadth", "mean_score": 7.0, "answers": 1}]
    text = trend_chart(two, 60).plain
    assert "10.0" in text and "0.0" in text and "■ breadth" in text
    assert spark([0, 5, 10]) == "▁▅█"


def test_cli_progress_chart_renders_on_a_terminal():
    from io import StringIO

    from rich.console import Console

    from interviewer.bank import load_bank
    from interviewer.progress_view import render_progress

    j = Journal()
    seed_journal(j, load_bank())
    con = Console(file=StringIO(), force_terminal=True, width=100)
    render_progress(j.progress(), con)
    assert "Mean score per day" in con.file.getvalue()


# ---------------------------------------------------------------------------------------------
# settings


async def test_settings_show_mode_paths_keys_and_remember_the_theme(offline_grader, interviewer_home, fixed_home):
    import tomllib

    (interviewer_home).mkdir(parents=True, exist_ok=True)
    (interviewer_home / "config.toml").write_text('[ui.keymap]\nsubmit = "ctrl+enter"\n', encoding="utf-8")
    svc = make_services(offline_grader)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "settings")
        info = static_text(app, "#settings-info")
        assert "Offline mode" in info
        assert "~/home/config.toml" in info and "~/home/journal.sqlite" in info
        table = app.screen.query_one("#keys")
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        ids = {r[2] for r in rows}
        for binding_id in ("submit", "posting_analyze", "journal_add", "history_export", "progress_refresh", "help", "quit"):
            assert binding_id in ids
        assert ["round", "ctrl+enter (yours)", "submit"] == [r for r in rows if r[2] == "submit"][0][:3]
        app.screen.query_one("#theme").value = "nord"
        await pilot.pause()
        assert app.theme == "nord"
    saved = tomllib.loads((interviewer_home / "config.toml").read_text(encoding="utf-8"))
    assert saved["ui"]["theme"] == "nord"
    assert saved["ui"]["keymap"] == {"submit": "ctrl+enter"}  # the rest of the file is untouched


# ---------------------------------------------------------------------------------------------
# history


async def test_history_open_export_delete_and_resume(offline_grader, interviewer_home, utc):
    from interviewer.tui.history import HistoryScreen, SessionScreen
    from interviewer.tui.practice import PracticeScreen

    svc = make_services(offline_grader)
    finished = seed_journal(svc.journal, svc.bank)
    active = make_engine(svc, n=2, seed=5)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "history")
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        table = screen.query_one("#sessions")
        assert table.row_count == 4
        assert [str(table.get_row_at(i)[0]) for i in range(4)] == [str(active.session_id), *[str(i) for i in reversed(finished)]]
        assert screen.check_action("resume", ()) is True  # the newest is unfinished
        await pilot.press("down")
        assert screen.check_action("resume", ()) is False  # a finished one cannot be resumed
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SessionScreen)
        detail = app.screen.query_one("#session-detail")._markdown
        from interviewer.export_md import session_markdown

        assert detail == session_markdown(svc.journal.session(finished[-1]))
        await pilot.press("e")
        await pilot.pause()
        exported = interviewer_home / "exports" / f"session-{finished[-1]}.md"
        assert exported.read_text(encoding="utf-8").startswith(f"# Session {finished[-1]} — 2026-01-08 08:00")
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        assert table.row_count == 3
        table.move_cursor(row=0)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, PracticeScreen)
        assert app.engine.session_id == active.session_id
    assert {s["id"] for s in svc.journal.sessions()} == {active.session_id, *finished[:-1]}


async def test_history_when_empty_says_so(offline_grader):
    svc = make_services(offline_grader)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "history")
        assert app.screen.query_one("#history-empty").display
        assert not app.screen.query_one("#sessions").display
        for action in ("open", "export", "delete", "resume"):
            assert app.screen.check_action(action, ()) is False


# ---------------------------------------------------------------------------------------------
# command palette and help


@pytest.mark.parametrize(
    "command, screen_name",
    [
        ("journal: show", "JournalScreen"),
        ("progress: show", "ProgressScreen"),
        ("posting: analyze", "PostingScreen"),
        ("settings: open", "SettingsScreen"),
        ("history: browse", "HistoryScreen"),
        ("journal: add entry", "EntryForm"),
    ],
)
async def test_command_palette_reaches_every_screen(offline_grader, command, screen_name):
    svc = make_services(offline_grader)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*command)
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.pause(0.1)
        assert type(app.screen).__name__ == screen_name


async def test_f1_explains_the_focused_widget_on_each_screen(offline_grader):
    from interviewer.tui.journal_screen import JournalScreen
    from interviewer.tui.posting import PostingScreen
    from interviewer.tui.settings_screen import SettingsScreen

    svc = make_services(offline_grader)
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for name, cls, widget_id in (("posting", PostingScreen, "posting-text"), ("settings", SettingsScreen, "theme"), ("journal", JournalScreen, None)):
            app.open_screen(name)
            await pilot.pause()
            app.clear_notifications()
            await pilot.press("f1")
            await pilot.pause()
            shown = [n.message for n in app._notifications]
            expected = cls.HELP[widget_id] if widget_id else cls.HELP["*"]
            assert shown == [expected]
        app.open_screen("posting")
        await pilot.pause()
        app.screen.query_one("#posting-file").focus()
        app.clear_notifications()
        await pilot.press("f1")
        await pilot.pause()
        assert [n.message for n in app._notifications] == [PostingScreen.HELP["posting-file"]]


# ---------------------------------------------------------------------------------------------
# snapshots: every screen, deterministic


async def steady(pilot, app) -> None:
    """What a snapshot must not depend on: a toast's 4 s timeout, a cursor's blink phase."""
    app.clear_notifications()
    for widget in app.screen.query("TextArea, Input"):
        widget.cursor_blink = False
    await pilot.pause()


def _quiet(app):
    async def run(pilot):
        await pilot.pause()
        await steady(pilot, app)

    return run


def _open(app, name: str, then=None):
    async def run(pilot):
        await pilot.pause()
        app.open_screen(name)
        await settle(pilot, app)
        # Before `then` too: a toast left on a screen under a dialog would still show through it.
        await steady(pilot, app)
        if then is not None:
            await then(pilot)
        await steady(pilot, app)

    return run


def test_snapshot_posting_empty(snap_compare, offline_grader):
    app = app_for(make_services(offline_grader))
    assert snap_compare(app, terminal_size=SIZE, run_before=_open(app, "posting"))


def test_snapshot_posting_with_profile(snap_compare, offline_grader):
    app = app_for(make_services(offline_grader))

    async def analyze(pilot):
        app.screen.query_one("#posting-text").load_text(POSTING)
        await pilot.press("ctrl+s")
        await settle(pilot, app)

    assert snap_compare(app, terminal_size=(120, 40), run_before=_open(app, "posting", analyze))


def test_snapshot_journal_empty(snap_compare, offline_grader):
    app = app_for(make_services(offline_grader))
    assert snap_compare(app, terminal_size=SIZE, run_before=_open(app, "journal"))


def test_snapshot_journal_with_entries(snap_compare, offline_grader, utc):
    svc = make_services(offline_grader)
    seed_entries(svc.journal)
    app = app_for(svc)
    assert snap_compare(app, terminal_size=SIZE, run_before=_open(app, "journal"))


def test_snapshot_journal_entry_form(snap_compare, offline_grader):
    app = app_for(make_services(offline_grader))

    async def form(pilot):
        await pilot.press("a")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=_open(app, "journal", form))


def test_snapshot_progress_empty(snap_compare, offline_grader):
    app = app_for(make_services(offline_grader))
    assert snap_compare(app, terminal_size=SIZE, run_before=_open(app, "progress"))


def test_snapshot_progress_with_data(snap_compare, offline_grader):
    svc = make_services(offline_grader)
    seed_journal(svc.journal, svc.bank)
    app = app_for(svc)
    assert snap_compare(app, terminal_size=(110, 48), run_before=_open(app, "progress"))


def test_snapshot_settings(snap_compare, offline_grader, fixed_home):
    app = app_for(make_services(offline_grader))
    assert snap_compare(app, terminal_size=SIZE, run_before=_open(app, "settings"))


def test_snapshot_history_list(snap_compare, offline_grader, utc):
    svc = make_services(offline_grader)
    seed_journal(svc.journal, svc.bank)
    app = app_for(svc)
    assert snap_compare(app, terminal_size=SIZE, run_before=_open(app, "history"))


def test_snapshot_history_detail(snap_compare, offline_grader, utc):
    svc = make_services(offline_grader)
    seed_journal(svc.journal, svc.bank)
    app = app_for(svc)

    async def open_first(pilot):
        await pilot.press("enter")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=_open(app, "history", open_first))


def test_snapshot_history_delete_confirmation(snap_compare, offline_grader, utc):
    svc = make_services(offline_grader)
    seed_journal(svc.journal, svc.bank)
    app = app_for(svc)

    async def ask(pilot):
        await pilot.press("d")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=_open(app, "history", ask))


def _practice_app(offline_grader, round: str):
    svc = make_services(offline_grader)
    engine = make_engine(svc, round=round, n=1, clock=FakeClock(), seed=11)
    return app_for(svc, engine=engine, start_home=False)


def test_snapshot_practice_depth_with_a_follow_up(snap_compare, offline_grader):
    app = _practice_app(offline_grader, "depth")

    async def answer(pilot):
        await pilot.pause()
        app.screen.query_one("#answer").text = "I would first check the data pipeline for leakage, then compare the offline metric with the online one."
        await pilot.press("ctrl+s")
        await wait_idle(pilot, app)
        await steady(pilot, app)

    assert snap_compare(app, terminal_size=(100, 30), run_before=answer)
    assert len(app.engine.attempt.turns) == 2  # the interviewer did follow up


def test_snapshot_practice_system_design_with_the_checklist(snap_compare, offline_grader):
    app = _practice_app(offline_grader, "system_design")

    async def answer(pilot):
        await pilot.pause()
        app.screen.query_one("#answer").text = (
            "First I would frame the problem and pick the business metric and the offline metrics, like precision at k. "
            "The training data comes from logged impressions and clicks, with labels joined a day later."
        )
        await pilot.press("ctrl+s")
        await wait_idle(pilot, app)
        await pilot.pause(0.2)
        await steady(pilot, app)

    assert snap_compare(app, terminal_size=(100, 30), run_before=answer)


def test_snapshot_practice_coding_with_the_python_editor(snap_compare, offline_grader):
    app = _practice_app(offline_grader, "coding")
    assert snap_compare(app, terminal_size=(100, 30), run_before=_quiet(app))


async def test_entry_titles_with_brackets_show_verbatim(offline_grader):
    svc = make_services(offline_grader)
    svc.journal.add_entry("question", "What does the [CLS] token do in BERT? [b]not bold[/b]", "It pools the sequence.")
    app = app_for(svc)
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "journal")
        row_line = app.screen.query_one("#entries").render_line(1).text  # line 0 is the header
        assert "What does the [CLS] token do in BERT? [b]not bold[/b]" in row_line
        assert "[CLS]" in str(app.screen.query_one("#entry-detail").render())
