"""The journal: one SQLite file with the history, drafts, progress and spaced repetition.

It must never lose or silently damage a candidate's history: migrations are versioned and
backed up, a newer or broken file is refused with a fix, drafts survive a crash, and an export
imported elsewhere gives the same answers.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from interviewer import journal as journal_mod
from interviewer.errors import UserError
from interviewer.journal import SCHEMA_VERSION, Journal
from interviewer.schema import CriterionGrade, Grade, Question
from interviewer.settings import journal_path

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=timezone.utc)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_grade(q: Question, score: float) -> Grade:
    """A grade whose criteria add up to `score` (same share of every criterion)."""
    crit = [CriterionGrade(id=c.id, awarded=round(c.points * score / 10, 2), points=c.points, feedback="fb") for c in q.rubric]
    return Grade(question_id=q.id, score=Grade.score_from(crit), criteria=crit, grader="offline")


def answer(j: Journal, sid: int, q: Question, score: float, text: str = "an answer", seconds: float = 60.0, schedule: bool = True) -> int:
    aid = j.record_answer(sid, q, text, seconds)
    j.record_grade(aid, make_grade(q, score), schedule=schedule)
    return aid


@pytest.fixture
def j():
    jj = Journal()
    yield jj
    jj.close()


@pytest.fixture
def qs(bank):
    """Three questions with distinct topics, rounds and domains."""
    a = bank.get("breadth.bias-variance-tradeoff")  # bias-variance, no domain
    b = next(q for q in bank.filter(round="depth") if q.domains and "bias-variance" not in q.topics)
    c = next(
        q for q in bank.filter(round="breadth")
        if q.domains and not set(q.topics) & (set(b.topics) | set(a.topics)) and set(q.domains) != set(b.domains)
    )
    assert a and b and c
    return a, b, c


# -- schema and migrations ----------------------------------------------------------------------


def test_a_new_journal_is_created_at_the_current_schema_version(interviewer_home):
    j = Journal()
    assert j.path == journal_path() and j.path.exists()
    assert j.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    versions = [r[0] for r in j.db.execute("SELECT version FROM migrations ORDER BY version")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    tables = {r[0] for r in j.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert set(Journal.TABLES) <= tables
    j.close()
    # reopening does not migrate again
    j2 = Journal()
    assert j2.db.execute("SELECT COUNT(*) FROM migrations").fetchone()[0] == SCHEMA_VERSION
    assert list(j2.path.parent.glob("*.bak.sqlite")) == []
    j2.close()


def test_an_old_journal_is_upgraded_keeping_its_data_and_a_backup(tmp_path):
    path = tmp_path / "old" / "journal.sqlite"
    path.parent.mkdir()
    db = sqlite3.connect(path, isolation_level=None)
    journal_mod._v1(db)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO sessions(started_at, mode, rounds) VALUES (1.0, 'practice', '[\"breadth\"]')")
    db.close()
    j = Journal(path)
    assert j.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [s["rounds"] for s in j.sessions()] == [["breadth"]]
    assert j.due_questions(now=T0) == []  # the v2 tables exist
    backups = list(path.parent.glob(f"journal.pre-v{SCHEMA_VERSION}.*.bak.sqlite"))
    assert len(backups) == 1
    old = sqlite3.connect(backups[0])
    assert old.execute("PRAGMA user_version").fetchone()[0] == 1
    assert old.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1
    old.close()
    j.close()


def _newer_journal(path: Path, wal: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    if wal:
        db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE sessions (id INTEGER PRIMARY KEY, future TEXT)")
    db.execute("INSERT INTO sessions(future) VALUES ('from the future')")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    if wal:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def test_a_journal_from_a_newer_version_is_refused_and_untouched():
    path = journal_path()
    _newer_journal(path, wal=True)  # what a newer mock-interviewer writes
    before = sha(path)
    with pytest.raises(UserError) as exc:
        Journal()
    assert "newer" in exc.value.message and str(path) in exc.value.message
    assert f"{SCHEMA_VERSION + 1} > {SCHEMA_VERSION}" in exc.value.message
    assert "upgrade" in exc.value.hint
    assert sha(path) == before
    assert list(path.parent.glob("*.bak.sqlite")) == []
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    assert db.execute("SELECT future FROM sessions").fetchall() == [("from the future",)]
    db.close()


def test_a_newer_journal_not_in_wal_mode_is_also_left_byte_for_byte_untouched():
    path = journal_path()
    _newer_journal(path, wal=False)
    before = sha(path)
    with pytest.raises(UserError):
        Journal()
    assert sha(path) == before


def test_a_corrupted_journal_is_a_user_error_with_the_mv_hint():
    path = journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"definitely not SQLite, just some bytes " * 64)
    before = sha(path)
    with pytest.raises(UserError) as exc:
        Journal()
    assert str(path) in exc.value.message
    assert f"mv {path} {path}.broken" in exc.value.hint
    assert "\n" not in exc.value.line()
    assert sha(path) == before


# -- sessions and drafts ----------------------------------------------------------------------------


def test_session_lifecycle_and_listing(j, qs):
    a, _, _ = qs
    sid = j.start_session("mock", ["breadth", "depth"], endpoint="http://x/v1", model="m", state={"k": 1})
    assert [s["id"] for s in j.unfinished_sessions()] == [sid]
    answer(j, sid, a, 6.0)
    j.finish_session(sid, {"mean_score": 6.0})
    assert j.unfinished_sessions() == []
    row = j.sessions()[0]
    assert (row["id"], row["mode"], row["rounds"], row["status"], row["n_answers"], row["mean_score"]) == (sid, "mock", ["breadth", "depth"], "finished", 1, 6.0)
    s = j.session(sid)
    assert s["summary"] == {"mean_score": 6.0}
    assert s["answers"][0]["question"]["id"] == a.id
    assert s["answers"][0]["grade"]["score"] == 6.0


def test_unknown_session_is_a_user_error(j):
    with pytest.raises(UserError) as exc:
        j.session(42)
    assert "42" in exc.value.message and "history" in exc.value.hint


def test_deleting_a_session_removes_its_answers_and_grades(j, qs):
    a, b, _ = qs
    keep = j.start_session("practice", ["breadth"])
    answer(j, keep, a, 5.0)
    gone = j.start_session("practice", ["breadth"])
    answer(j, gone, b, 5.0)
    j.save_draft(gone, "x#1", "draft")
    j.delete_session(gone)
    assert [s["id"] for s in j.sessions()] == [keep]
    assert j.db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 1
    assert j.db.execute("SELECT COUNT(*) FROM criterion_grades").fetchone()[0] == len(a.rubric)
    assert j.db.execute("SELECT COUNT(*) FROM drafts").fetchone()[0] == 0
    assert {r[0] for r in j.db.execute("SELECT topic FROM answer_topics")} == set(a.topics)


def test_drafts_upsert_and_survive_reopening(j):
    sid = j.start_session("practice", ["breadth"])
    assert j.draft(sid, "q#1") is None
    j.save_draft(sid, "q#1", "first words")
    j.save_draft(sid, "q#1", "first words, then more")
    j.save_draft(sid, "q#2", "another question")
    assert j.db.execute("SELECT COUNT(*) FROM drafts").fetchone()[0] == 2
    j.close()  # as if the terminal closed
    j2 = Journal()
    assert j2.draft(sid, "q#1") == "first words, then more"
    assert j2.draft(sid, "q#2") == "another question"
    assert j2.session(sid)["drafts"] == {"q#1": "first words, then more", "q#2": "another question"}
    j2.close()


def test_drafts_are_cleared_when_the_session_finishes(j):
    sid = j.start_session("practice", ["breadth"])
    j.save_draft(sid, "q#1", "words")
    j.finish_session(sid, {})
    assert j.draft(sid, "q#1") is None


# -- answers, grades, progress ------------------------------------------------------------------------


def test_record_answer_and_grade_store_everything_progress_needs(j, qs):
    a, _, _ = qs
    sid = j.start_session("practice", ["breadth"])
    aid = j.record_answer(sid, a, "my answer", 87.5, timed_out=True, hints=2)
    g = make_grade(a, 4.0)
    g.model, g.prompt_version = "m", "grader-v1"
    j.record_grade(aid, g)
    row = j.session(sid)["answers"][0]
    assert (row["answer"], row["duration_s"], row["timed_out"], row["hints"]) == ("my answer", 87.5, 1, 2)
    assert (row["score"], row["grader"], row["model"], row["prompt_version"]) == (4.0, "offline", "m", "grader-v1")
    crit = j.db.execute("SELECT criterion_id, awarded, points FROM criterion_grades WHERE answer_id = ?", (aid,)).fetchall()
    assert [tuple(r) for r in crit] == [(c.id, c.awarded, c.points) for c in g.criteria]
    # regrading replaces the criterion rows rather than adding to them
    j.record_grade(aid, make_grade(a, 8.0), schedule=False)
    assert j.db.execute("SELECT COUNT(*) FROM criterion_grades WHERE answer_id = ?", (aid,)).fetchone()[0] == len(a.rubric)
    assert j.session(sid)["answers"][0]["score"] == 8.0


def test_progress_by_topic_round_and_domain_with_weakest_topics_first(j, qs):
    a, b, c = qs
    sid = j.start_session("practice", ["breadth", "depth"])
    answer(j, sid, a, 2.0, seconds=30)
    answer(j, sid, b, 6.0, seconds=90)
    answer(j, sid, c, 9.0, seconds=60)
    p = j.progress()
    assert p["answers"] == 3
    assert p["mean_score"] == pytest.approx((2 + 6 + 9) / 3, abs=0.01)
    assert p["mean_seconds"] == 60.0
    topics = {t["topic"]: t for t in p["by_topic"]}
    for t in a.topics:
        assert topics[t]["mean_score"] == 2.0 and topics[t]["mean_seconds"] == 30.0
    for t in c.topics:
        assert topics[t]["mean_score"] == 9.0
    scores = [t["mean_score"] for t in p["by_topic"]]
    assert scores == sorted(scores)  # weakest first
    assert p["weakest_topics"][0] in a.topics
    rounds = {r["round"]: r for r in p["by_round"]}
    assert rounds["depth"]["mean_score"] == 6.0 and rounds["depth"]["answers"] == 1
    assert rounds["breadth"]["mean_score"] == pytest.approx(5.5) and rounds["breadth"]["answers"] == 2
    domains = {d["domain"]: d for d in p["by_domain"]}
    for d in b.domains:
        assert domains[d]["answers"] >= 1
    for d in set(c.domains) - set(b.domains):
        assert domains[d]["mean_score"] == 9.0
    assert p["trend"] and {t["round"] for t in p["trend"]} == {"breadth", "depth"}


def test_progress_ignores_answers_that_were_never_graded(j, qs):
    a, _, _ = qs
    sid = j.start_session("practice", ["breadth"])
    j.record_answer(sid, a, "ungraded", 10.0)
    p = j.progress()
    assert p["answers"] == 0 and p["by_topic"] == [] and p["mean_score"] is None


def test_weak_topics_weigh_recent_answers_more(j, qs):
    a, _, c = qs
    sid = j.start_session("practice", ["breadth"])
    answer(j, sid, a, 2.0, schedule=False)
    answer(j, sid, a, 8.0, schedule=False)  # newer and better
    answer(j, sid, c, 10.0, schedule=False)
    weak = j.weak_topics()
    expected = 1 - (1.0 * 8.0 + 0.85 * 2.0) / 1.85 / 10
    for t in a.topics:
        assert weak[t] == pytest.approx(expected, abs=1e-3)
        assert weak[t] < 0.5  # improving pulls the weakness below the plain mean's 0.5
    for t in set(c.topics) - set(a.topics):
        assert weak[t] == 0.0
    assert j.weak_topics(min_answers=2) == {t: pytest.approx(expected, abs=1e-3) for t in a.topics}


def test_recent_question_ids_come_from_the_last_sessions(j, qs):
    a, b, _ = qs
    s1 = j.start_session("practice", ["breadth"])
    answer(j, s1, a, 5.0, schedule=False)
    s2 = j.start_session("practice", ["depth"])
    answer(j, s2, b, 5.0, schedule=False)
    assert j.recent_question_ids(sessions=1) == {b.id}
    assert j.recent_question_ids(sessions=5) == {a.id, b.id}


# -- spaced repetition ---------------------------------------------------------------------------------


def test_a_low_score_schedules_a_review_card(j):
    j.schedule_review("breadth.x", 2.0, now=T0)
    cards = j.upcoming()
    assert [c["question_id"] for c in cards] == ["breadth.x"]
    due = datetime.fromtimestamp(cards[0]["due"], timezone.utc)
    assert T0 < due <= T0 + timedelta(days=1)  # a failed answer comes back soon
    assert cards[0]["last_score"] == 2.0


def test_a_high_first_score_schedules_nothing(j):
    j.schedule_review("breadth.easy", 9.0, now=T0)
    j.schedule_review("breadth.edge", 8.5, now=T0)
    assert j.upcoming() == []


def test_recording_a_poor_grade_schedules_the_question(j, qs):
    a, b, _ = qs
    sid = j.start_session("practice", ["breadth"])
    answer(j, sid, a, 3.0)
    answer(j, sid, b, 9.5)
    assert [c["question_id"] for c in j.upcoming()] == [a.id]


def test_due_questions_respect_time(j):
    j.schedule_review("q.failed", 1.0, now=T0)
    j.schedule_review("q.shaky", 7.0, now=T0)
    assert j.due_questions(now=T0) == []
    failed_due = datetime.fromtimestamp(j.upcoming()[0]["due"], timezone.utc)
    assert [d["question_id"] for d in j.due_questions(now=failed_due)] == ["q.failed"]
    later = T0 + timedelta(days=2)
    assert [d["question_id"] for d in j.due_questions(now=later)] == ["q.failed", "q.shaky"]  # oldest due first
    assert len(j.due_questions(now=later, limit=1)) == 1


def test_a_good_review_pushes_the_card_further_out_than_a_bad_one(j):
    j.schedule_review("q.good", 2.0, now=T0)
    j.schedule_review("q.bad", 2.0, now=T0)
    t1 = T0 + timedelta(hours=1)
    j.schedule_review("q.good", 9.5, now=t1)  # once a card exists, a strong answer reviews it
    j.schedule_review("q.bad", 1.0, now=t1)
    due = {c["question_id"]: c["due"] for c in j.upcoming()}
    assert due["q.good"] > due["q.bad"]
    assert datetime.fromtimestamp(due["q.good"], timezone.utc) > t1 + timedelta(hours=12)
    assert [d["question_id"] for d in j.due_questions(now=t1 + timedelta(hours=2))] == ["q.bad"]


# -- export / import ------------------------------------------------------------------------------------


def _populated(j: Journal, qs) -> int:
    a, b, c = qs
    sid = j.start_session("practice", ["breadth", "depth"])
    answer(j, sid, a, 3.0, text="answer A")
    answer(j, sid, b, 7.0, text="answer B")
    j.finish_session(sid, {"mean_score": 5.0})
    open_sid = j.start_session("mock", ["breadth"])
    answer(j, open_sid, c, 9.0, text="answer C")
    j.save_draft(open_sid, "draft-q#1", "half an answer")
    j.add_entry("point", "Calibrate before auctions", "body")
    return sid


def _content(j: Journal) -> dict:
    """Journal content without row ids (which an import renumbers)."""
    out = {}
    for s in j.sessions():
        full = j.session(s["id"])
        out[(full["started_at"], full["mode"])] = (
            full["status"],
            full["summary"],
            [(a["question_id"], a["answer"], a["score"], a["grade"]) for a in full["answers"]],
            full["drafts"],
        )
    return out


def test_export_import_round_trip_gives_the_same_journal(tmp_path, j, qs):
    _populated(j, qs)
    data = json.loads(json.dumps(j.export_data()))  # through JSON, as `interviewer export` does
    assert data["format"] == "mock-interviewer-journal" and data["schema_version"] == SCHEMA_VERSION
    fresh = Journal(tmp_path / "fresh" / "journal.sqlite")
    counts = fresh.import_data(data)
    assert counts["sessions"] == 2 and counts["answers"] == 3 and counts["entries"] == 1
    assert _content(fresh) == _content(j)
    assert fresh.progress()["by_topic"] == j.progress()["by_topic"]
    assert fresh.upcoming() == j.upcoming()
    assert [e["title"] for e in fresh.entries()] == ["Calibrate before auctions"]
    crit_new = fresh.db.execute("SELECT COUNT(*) FROM criterion_grades").fetchone()[0]
    assert crit_new == j.db.execute("SELECT COUNT(*) FROM criterion_grades").fetchone()[0]
    fresh.close()


def test_import_never_overwrites_existing_sessions(j, qs):
    _populated(j, qs)
    before = _content(j)
    data = json.loads(json.dumps(j.export_data()))
    j.import_data(data)  # importing into the same journal duplicates, never replaces
    assert len(j.sessions()) == 4
    ids = [s["id"] for s in j.sessions()]
    assert len(set(ids)) == 4
    for key, value in before.items():
        assert _content(j)[key] == value


def test_a_backup_is_taken_before_import(j, qs, tmp_path):
    _populated(j, qs)
    other = Journal(tmp_path / "other.sqlite")
    sid = other.start_session("practice", ["breadth"])
    answer(other, sid, qs[0], 5.0)
    j.import_data(other.export_data())
    backups = list(j.path.parent.glob("journal.pre-import.*.bak.sqlite"))
    assert len(backups) == 1
    snap = sqlite3.connect(backups[0])
    assert snap.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 2  # the state before the import
    snap.close()
    assert len(j.sessions()) == 3


def test_import_keeps_the_local_review_card_for_a_question(j, tmp_path):
    j.schedule_review("breadth.shared", 1.0, now=T0)
    local = j.upcoming()[0]
    other = Journal(tmp_path / "other.sqlite")
    other.schedule_review("breadth.shared", 7.0, now=T0 - timedelta(days=30))
    j.import_data(other.export_data())
    assert j.upcoming()[0] == local


@pytest.mark.parametrize(
    "data, words",
    [
        ([1, 2, 3], "not a mock-interviewer journal export"),
        ({"format": "something-else", "tables": {}}, "not a mock-interviewer journal export"),
        ({"format": "mock-interviewer-journal", "schema_version": SCHEMA_VERSION + 1, "tables": {}}, "newer"),
        ({"format": "mock-interviewer-journal", "schema_version": SCHEMA_VERSION, "tables": []}, "no tables"),
    ],
    ids=["not-a-mapping", "other-format", "newer-schema", "no-tables"],
)
def test_import_refuses_what_is_not_an_export_and_changes_nothing(j, qs, data, words):
    _populated(j, qs)
    before = j.export_data()["tables"]
    with pytest.raises(UserError) as exc:
        j.import_data(data)
    assert words in exc.value.message
    assert j.export_data()["tables"] == before
    assert list(j.path.parent.glob("*.bak.sqlite")) == []


def test_llm_calls_are_logged(j):
    from interviewer.llm import Usage

    j.log_llm_calls([Usage("grade", "m", 100, 20, 0.5, False, "json_schema"), Usage("follow_up", "m", 50, 10, 0.2, True)], session_id=None)
    j.log_llm_calls([])
    rows = [tuple(r) for r in j.db.execute("SELECT purpose, input_tokens, output_tokens, counted FROM llm_calls ORDER BY id")]
    assert rows == [("grade", 100, 20, 0), ("follow_up", 50, 10, 1)]


# -- schema v3: progress at scale -----------------------------------------------------------------------


def _v2_journal_with_answers(path: Path, qs) -> None:
    """A journal as schema 2 wrote it: answers whose domains live only inside the question JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    journal_mod._v1(db)
    journal_mod._v2(db)
    db.execute("PRAGMA user_version = 2")
    db.execute("INSERT INTO sessions(id, started_at, mode, rounds) VALUES (1, 1.0, 'practice', '[\"breadth\"]')")
    for n, (q, score) in enumerate(zip(qs, (3.0, 6.0, 9.0)), 1):
        db.execute(
            "INSERT INTO answers(id, session_id, round, question_id, question, answer, submitted_at, duration_s, score, grade) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (n, 1, q.round, q.id, q.model_dump_json(), "text", 1000.0 + n, 60.0, score, make_grade(q, score).model_dump_json()),
        )
        db.executemany("INSERT INTO answer_topics(answer_id, topic) VALUES (?,?)", [(n, t) for t in q.topics])
    db.close()


def test_a_v2_journal_is_upgraded_to_v3_with_a_backup_and_its_domains_backfilled(tmp_path, qs):
    path = tmp_path / "v2" / "journal.sqlite"
    _v2_journal_with_answers(path, qs)
    j = Journal(path)
    assert j.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    backups = list(path.parent.glob("journal.pre-v3.*.bak.sqlite"))
    assert len(backups) == 1
    old = sqlite3.connect(backups[0])
    assert old.execute("PRAGMA user_version").fetchone()[0] == 2
    assert old.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 3
    old.close()
    rows = {(r[0], r[1]) for r in j.db.execute("SELECT answer_id, domain FROM answer_domains")}
    assert rows == {(n, d) for n, q in enumerate(qs, 1) for d in q.domains} and rows
    a, b, c = qs
    domains = {d["domain"]: d for d in j.progress()["by_domain"]}
    for d in set(c.domains) - set(b.domains) - set(a.domains):
        assert domains[d]["mean_score"] == 9.0 and domains[d]["answers"] == 1
    assert sum(d["answers"] for d in domains.values()) == sum(len(q.domains) for q in qs)
    j.close()


def test_a_v2_journal_with_a_damaged_question_still_upgrades(tmp_path, qs):
    path = tmp_path / "v2" / "journal.sqlite"
    _v2_journal_with_answers(path, qs)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("UPDATE answers SET question = 'not json' WHERE id = 1")
    db.close()
    j = Journal(path)
    assert j.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert {r[0] for r in j.db.execute("SELECT DISTINCT answer_id FROM answer_domains")} == {n for n, q in enumerate(qs, 1) if q.domains and n != 1}
    j.close()


def test_new_answers_record_their_domains_and_deleting_the_session_removes_them(j, qs):
    _, b, _ = qs
    sid = j.start_session("practice", ["depth"])
    aid = answer(j, sid, b, 5.0, schedule=False)
    assert sorted(r[0] for r in j.db.execute("SELECT domain FROM answer_domains WHERE answer_id = ?", (aid,))) == sorted(b.domains)
    j.delete_session(sid)
    assert j.db.execute("SELECT COUNT(*) FROM answer_domains").fetchone()[0] == 0


def test_import_rebuilds_the_domains_of_imported_answers(tmp_path, j, qs):
    _populated(j, qs)
    fresh = Journal(tmp_path / "fresh" / "journal.sqlite")
    fresh.import_data(json.loads(json.dumps(j.export_data())))
    assert fresh.progress()["by_domain"] == j.progress()["by_domain"] != []
    fresh.close()


def test_every_progress_query_reads_indexes_only(j, qs):
    """The wide answer rows (question and grade JSON) are never read by progress: that is what
    keeps `interviewer progress` under a second at 10,000 answers (benchmarks/bench_progress.py)."""
    import inspect
    import re

    src = inspect.getsource(Journal.progress)
    queries = re.findall(r'"""(SELECT.*?)"""', src, re.S) + re.findall(r'execute\("(SELECT[^"]*)"', src)
    assert len(queries) == 6
    for q in queries:
        plan = " / ".join(r[3] for r in j.db.execute("EXPLAIN QUERY PLAN " + q))
        for step in plan.split(" / "):
            if step.startswith(("SCAN", "SEARCH")):
                assert "COVERING INDEX" in step, (q, plan)


def test_progress_counts_every_due_review_not_just_the_first_fifty(j):
    month_ago = datetime.now(timezone.utc) - timedelta(days=30)
    for n in range(60):
        j.schedule_review(f"breadth.q{n}", 1.0, now=month_ago)
    assert j.progress()["due"] == 60
    assert len(j.due_questions()) == 50  # the drill list stays capped; the count does not


def test_weak_topics_in_sql_match_the_recency_weighted_mean(j, bank):
    import random

    rng = random.Random(3)
    pool = [q for q in bank.questions.values() if q.round == "breadth"][:40]
    sid = j.start_session("practice", ["breadth"])
    history: dict[str, list[float]] = {}
    for _ in range(300):
        q = rng.choice(pool)
        score = rng.choice([0.0, 2.5, 5.0, 7.5, 10.0])
        answer(j, sid, q, score, schedule=False)
        for t in q.topics:
            history.setdefault(t, []).insert(0, make_grade(q, score).score)  # newest first
    want = {}
    for t, scores in history.items():
        w = [0.85**i for i in range(len(scores))]
        want[t] = round(1 - sum(a * b for a, b in zip(w, scores)) / sum(w) / 10, 3)
    assert j.weak_topics() == pytest.approx(want, abs=1e-3)
    assert set(j.weak_topics(min_answers=10)) == {t for t, s in history.items() if len(s) >= 10}


# -- `interviewer journal add question`: a rubric drafted by the model, or written by the candidate ----


from typer.testing import CliRunner  # noqa: E402

from fake_openai import Reply  # noqa: E402
from interviewer.cli import app  # noqa: E402

QUESTION = "How would you detect and handle label leakage in a churn model?"
NOTES = "I said to look at features computed after the churn date and at suspiciously high validation AUC."


def drafted(**over) -> dict:
    d = {
        "criteria": [
            {"id": "definition", "criterion": "Defines label leakage as features carrying information from after the prediction time.", "points": 3},
            {"id": "detection", "criterion": "Detects it through suspiciously high validation scores or feature importance dominated by one feature.", "points": 4},
            {"id": "fix", "criterion": "Fixes it with point-in-time feature computation and a time-based validation split.", "points": 3},
        ],
        "reference_answer": (
            "Label leakage means a feature carries information that would not exist at prediction time, such as activity logged after the churn date. "
            "I would suspect it when validation AUC is far higher than expected or one feature dominates the importance ranking, and check when each feature is computed. "
            "The fix is to compute every feature as of the prediction timestamp and to validate on a later time period than training."
        ),
        "topics": ["feature-engineering", "cross-validation"],
        "level": "senior",
        "domains": ["tabular"],
        "follow_ups": ["How would you audit an existing feature store for leakage?", "What if the leaky feature is also the most useful one?"],
    }
    d.update(over)
    return d


def add_q(*extra: str, server=None):
    args = ["--base-url", server.base_url, "--model", "test-model"] if server is not None else ["--offline"]
    return CliRunner().invoke(app, [*args, "journal", "add", "question", QUESTION, "--body", NOTES, *extra])


def saved(res) -> dict:
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def lint_errors(path: Path) -> list[dict]:
    from interviewer.bank import Bank, load_file, topics
    from interviewer.bank_lint import lint_bank

    b = Bank()
    load_file(path, b, {t["id"] for t in topics()}, "journal")
    assert b.questions, [i.line() for i in b.issues]
    return [i for i in lint_bank(b, grader=None, run_coding=False)["issues"] if i["severity"] == "error" or "unknown topics" in i["problem"]]


def test_with_an_endpoint_the_model_drafts_the_rubric_and_the_file_passes_lint(fake_llm):
    fake_llm.script(Reply(json=drafted()))
    out = saved(add_q("--json", server=fake_llm))
    assert out["rubric_source"] == "drafted" and out["drafted_by"] == "test-model" and out["prompt_version"] == "rubric_drafter-v2"
    q = out["question"]
    assert [c["id"] for c in q["rubric"]] == ["definition", "detection", "fix"]
    assert sum(c["points"] for c in q["rubric"]) == 10
    assert (q["topics"], q["level"], q["domains"]) == (["feature-engineering", "cross-validation"], "senior", ["tabular"])
    assert q["reference_answer"] == NOTES  # the candidate's own answer stays the reference
    assert len(q["follow_ups"]) == 2 and out["notices"] == []
    path = Path(out["path"])
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Rubric and reference drafted by test-model (rubric_drafter-v2)")
    assert lint_errors(path) == []
    # the request carried the question and the notes, delimited, with the topic vocabulary
    user = fake_llm.requests[0]["messages"][-1]["content"]
    assert QUESTION in user and NOTES in user and "feature-engineering" in user
    assert fake_llm.requests[0].get("response_format")  # structured output, not free text
    # it is in the practice pool, the journal links it, and the call was logged
    from interviewer.bank import load_bank
    from interviewer.settings import home_dir

    pool = load_bank(extra_dirs=[home_dir() / "questions"])
    assert pool.get(out["question_id"]).source == "journal"
    jj = Journal()
    assert [(e["kind"], e["question_id"]) for e in jj.entries()] == [("question", out["question_id"])]
    assert [r[0] for r in jj.db.execute("SELECT purpose FROM llm_calls")] == ["draft_rubric"]
    jj.close()


def test_drafted_misconceptions_are_kept_when_they_assert_and_dropped_when_they_deny(fake_llm):
    good = "A random train/test split is the safest check for leakage because it mixes every time period evenly."
    denial = "Leakage is not a problem when the validation score looks normal to the team."
    fake_llm.script(Reply(json=drafted(misconceptions=[good, denial, "too short"])))
    out = saved(add_q("--json", server=fake_llm))
    assert out["question"]["misconceptions"] == [good]
    assert any("kept 1 of 3 drafted misconceptions" in n for n in out["notices"])
    from interviewer.bank import load_bank
    from interviewer.settings import home_dir

    # the saved file round-trips, and the offline grader checks answers against it
    assert load_bank(extra_dirs=[home_dir() / "questions"]).get(out["question_id"]).misconceptions == [good]


def test_without_notes_the_drafted_reference_answer_is_used(fake_llm):
    fake_llm.script(Reply(json=drafted()))
    res = CliRunner().invoke(app, ["--base-url", fake_llm.base_url, "--model", "test-model", "journal", "add", "question", QUESTION, "--json"])
    q = saved(res)["question"]
    assert q["reference_answer"] == drafted()["reference_answer"]
    assert "(none)" in fake_llm.requests[0]["messages"][-1]["content"]


def test_the_table_output_shows_the_drafted_rubric_and_where_to_edit_it(fake_llm):
    fake_llm.script(Reply(json=drafted()))
    res = add_q(server=fake_llm)
    assert res.exit_code == 0, res.output
    path = next((journal_path().parent / "questions").glob("*.yaml"))
    assert f"drafted by test-model, edit {path} to change it" in res.stdout
    for c in drafted()["criteria"]:
        assert f"{c['id']} ({c['points']:g})" in res.stdout
    assert "follow-up: How would you audit" in res.stdout


def test_a_draft_whose_points_do_not_sum_to_ten_is_rescaled_and_ids_repaired_with_notices(fake_llm):
    crits = [dict(c, points=p) for c, p in zip(drafted()["criteria"], (4, 4, 4))]
    crits[0]["id"] = "Definition Of Leakage"
    crits[1]["id"] = "definition-of-leakage"
    fake_llm.script(Reply(json=drafted(criteria=crits, topics=["feature-engineering", "leakage"], level="principal")))
    out = saved(add_q("--json", server=fake_llm))
    rubric = out["question"]["rubric"]
    assert sum(c["points"] for c in rubric) == 10 and all(c["points"] * 2 == int(c["points"] * 2) for c in rubric)
    assert [c["id"] for c in rubric] == ["definition-of-leakage", "definition-of-leakage-2", "fix"]
    assert out["question"]["topics"] == ["feature-engineering"] and out["question"]["level"] == "mid"
    notes = " | ".join(out["notices"])
    assert "rescaled" in notes and "4, 4, 4" in notes and "leakage" in notes and "principal" in notes
    assert lint_errors(Path(out["path"])) == []


@pytest.mark.parametrize(
    "bad, why",
    [
        ({"criteria": drafted()["criteria"][:2]}, "2 criteria"),
        ({"criteria": drafted()["criteria"] * 3}, "9 criteria"),
        ({"criteria": [dict(c, points=0) for c in drafted()["criteria"]]}, "no positive points"),
        ({"criteria": [dict(drafted()["criteria"][0], criterion="")] + drafted()["criteria"][1:]}, "too short"),
    ],
    ids=["too-few", "too-many", "zero-points", "empty-criterion"],
)
def test_an_unusable_draft_is_rejected_in_one_line_and_the_question_saved_with_the_generic_rubric(fake_llm, bad, why):
    fake_llm.script(Reply(json=drafted(**bad)))
    out = saved(add_q("--json", server=fake_llm))
    assert out["rubric_source"] == "generic" and out["drafted_by"] is None
    assert [c["id"] for c in out["question"]["rubric"]] == ["core", "reasoning", "example"]
    assert len(out["notices"]) == 1 and "drafted rubric was rejected" in out["notices"][0] and why in out["notices"][0]
    assert "\n" not in out["notices"][0]
    assert out["question"]["prompt"] == QUESTION and out["question"]["reference_answer"] == NOTES
    assert lint_errors(Path(out["path"])) == []


def test_a_failing_endpoint_falls_back_to_the_generic_rubric_and_keeps_the_question(fake_llm):
    fake_llm.default = Reply(status=500, retry_after=0.01)
    res = add_q(server=fake_llm)
    assert res.exit_code == 0, res.output
    assert "note:" in res.stdout and "model endpoint failed" in res.stdout and "generic rubric" in res.stdout
    assert len(fake_llm.requests) >= 2  # retried first
    files = list((journal_path().parent / "questions").glob("*.yaml"))
    assert len(files) == 1 and QUESTION in files[0].read_text(encoding="utf-8")
    assert lint_errors(files[0]) == []


def test_offline_the_generic_rubric_is_used_and_topics_come_from_the_question(fake_llm):
    out = saved(add_q("--json"))
    assert out["rubric_source"] == "generic" and fake_llm.requests == []
    assert "feature-engineering" in out["question"]["topics"] or "cross-validation" in out["question"]["topics"]
    assert out["question"]["reference_answer"] == NOTES
    # explicit topics win over anything guessed
    out2 = saved(add_q("--json", "--topics", "statistics"))
    assert out2["question"]["topics"] == ["statistics"]
    assert out2["question_id"] != out["question_id"] and Path(out["path"]).exists()  # the first is not overwritten


def test_the_candidates_own_rubric_file_is_used_instead_of_a_draft(fake_llm, tmp_path):
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text(
        "- {id: timing, criterion: 'Checks when each feature is computed relative to the churn date.', points: 5}\n"
        "- {criterion: 'Validates on a later period than the training data.', points: 3}\n"
        "- {id: auc, criterion: 'Treats a surprisingly high AUC as a leakage alarm.', points: 2.5}\n",
        encoding="utf-8",
    )
    out = saved(add_q("--json", "--rubric", str(rubric), server=fake_llm))
    assert fake_llm.requests == []  # the candidate wrote it: no draft asked for
    assert out["rubric_source"] == "yours"
    assert [(c["id"], c["points"]) for c in out["question"]["rubric"]] == [("timing", 5), ("validates-on-a-later", 3), ("auc", 2.5)]
    assert lint_errors(Path(out["path"])) == []


@pytest.mark.parametrize(
    "content, words",
    [
        ("- {criterion: 'Only one criterion here, that is all.', points: 3}\n", "1 criterion (3-6"),
        ("[a, b, c]\n", "no rubric list"),
        ("- {criterion: 'short', points: 3}\n" * 3, "shorter than 10"),
        ("- {criterion: 'A perfectly fine criterion sentence.', points: -1}\n" * 3, "-1 points"),
        ("- {criterion: 'A perfectly fine criterion sentence.', points: lots}\n" * 3, "no number of points"),
        ("rubric: [\n", "not valid YAML"),
    ],
    ids=["one", "not-mappings", "short", "negative", "not-a-number", "bad-yaml"],
)
def test_a_bad_rubric_file_is_one_clear_error_and_saves_nothing(tmp_path, content, words):
    from interviewer.errors import UserError

    rubric = tmp_path / "rubric.yaml"
    rubric.write_text(content, encoding="utf-8")
    res = add_q("--rubric", str(rubric))
    assert isinstance(res.exception, UserError), res.output
    assert words in res.exception.message and "\n" not in res.exception.line()
    assert not (journal_path().parent / "questions").exists() or not list((journal_path().parent / "questions").glob("*.yaml"))


def test_a_coding_question_is_kept_in_the_journal_with_a_clear_reason(fake_llm):
    res = CliRunner().invoke(app, ["--offline", "journal", "add", "question", "Implement k-means from scratch in NumPy.", "--round", "coding", "--json"])
    out = saved(res)
    assert out["practice"] is False and out["path"] is None and "starter code and hidden tests" in out["message"]
    jj = Journal()
    assert [e["title"] for e in jj.entries()] == ["Implement k-means from scratch in NumPy."]
    jj.close()


@pytest.mark.parametrize(
    "args, words",
    [
        (["journal", "add", "question", "Why L2?"], "too short"),
        (["journal", "add", "question", QUESTION, "--round", "lightning"], "unknown round"),
        (["journal", "add", "question", QUESTION, "--topics", "leakage"], "unknown topics"),
    ],
    ids=["short", "round", "topic"],
)
def test_bad_question_input_is_a_user_error(args, words):
    from interviewer.errors import UserError

    res = CliRunner().invoke(app, ["--offline", *args])
    assert isinstance(res.exception, UserError) and words in res.exception.message


def test_check_draft_rescales_to_halves_summing_to_ten():
    from interviewer.chains.rubric_drafter import rescale_points

    for pts in ([3, 3, 3], [1] * 6, [3.3, 3.3, 3.4], [100, 1, 1], [0.1, 0.1, 9.8], [5, 5, 5, 1]):
        out = rescale_points(pts)
        assert sum(out) == 10 and all(p >= 0.5 and p * 2 == int(p * 2) for p in out), (pts, out)
        for a in range(len(pts)):  # a heavier criterion never ends up with fewer points
            for b in range(len(pts)):
                assert pts[a] <= pts[b] or out[a] >= out[b], (pts, out)
    assert rescale_points([4, 3, 3]) == [4, 3, 3]


def test_submitting_an_answer_clears_every_turn_draft_of_that_question(tmp_path, bank):
    j = Journal(tmp_path / "j.sqlite")
    q = next(iter(bank.questions.values()))
    sid = j.start_session("practice", [q.round])
    j.save_draft(sid, f"{q.id}#0", "first turn")
    j.save_draft(sid, f"{q.id}#1", "follow-up turn")
    j.save_draft(sid, "other.question#0", "keep me")
    j.record_answer(sid, q, "first turn", 30.0)
    assert j.draft(sid, f"{q.id}#0") is None and j.draft(sid, f"{q.id}#1") is None
    assert j.draft(sid, "other.question#0") == "keep me"


def test_a_draft_saved_while_another_thread_holds_a_transaction_is_not_rolled_back_with_it(tmp_path, bank):
    import threading

    j = Journal(tmp_path / "j.sqlite")
    q = next(iter(bank.questions.values()))
    sid = j.start_session("practice", [q.round])
    inside, release = threading.Event(), threading.Event()

    def failing_write():
        try:
            with j.tx():
                j.db.execute("UPDATE sessions SET mode = 'mock' WHERE id = ?", (sid,))
                inside.set()
                release.wait(5)
                raise RuntimeError("grading failed")
        except RuntimeError:
            pass

    t = threading.Thread(target=failing_write)
    t.start()
    assert inside.wait(5)
    saver = threading.Thread(target=j.save_draft, args=(sid, f"{q.id}#0", "typed while grading"))
    saver.start()
    saver.join(0.2)
    release.set()
    t.join(5)
    saver.join(5)
    assert j.draft(sid, f"{q.id}#0") == "typed while grading"
    assert j.session(sid)["mode"] == "practice"  # the failed transaction rolled back, alone
