"""The journal: SQLite history, drafts, progress queries and spaced repetition.

One file under INTERVIEWER_HOME, WAL mode so the TUI's draft saves never block a reader. The
schema version lives in PRAGMA user_version with one upgrade function per version; a copy of the
file is taken before any migration, and a journal written by a newer version is refused rather
than guessed at. Spaced repetition uses the `fsrs` library (FSRS scheduler): a poorly answered
question becomes a card whose due date the library computes from each later attempt.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from interviewer.errors import UserError
from interviewer.schema import Grade, Question, RoleProfile
from interviewer.settings import journal_path

SCHEMA_VERSION = 3


def _script(db: sqlite3.Connection, sql: str) -> None:
    # Not executescript(): it commits on its own, which would break the migration transaction.
    for stmt in sql.split(";"):
        if stmt.strip():
            db.execute(stmt)


def _v1(db: sqlite3.Connection) -> None:
    _script(db, 
        """
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            started_at REAL NOT NULL,
            finished_at REAL,
            mode TEXT NOT NULL,
            rounds TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active',
            profile TEXT,
            endpoint TEXT,
            model TEXT,
            state TEXT,
            summary TEXT
        );
        CREATE TABLE answers (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            round TEXT NOT NULL,
            question_id TEXT NOT NULL,
            question TEXT NOT NULL,
            answer TEXT NOT NULL,
            submitted_at REAL NOT NULL,
            duration_s REAL,
            timed_out INTEGER NOT NULL DEFAULT 0,
            hints INTEGER NOT NULL DEFAULT 0,
            score REAL,
            grade TEXT,
            grader TEXT,
            model TEXT,
            prompt_version TEXT,
            tokens INTEGER
        );
        CREATE INDEX answers_session ON answers(session_id);
        CREATE INDEX answers_question ON answers(question_id);
        CREATE TABLE criterion_grades (
            answer_id INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
            criterion_id TEXT NOT NULL,
            awarded REAL NOT NULL,
            points REAL NOT NULL
        );
        CREATE INDEX criterion_answer ON criterion_grades(answer_id);
        CREATE TABLE answer_topics (
            answer_id INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
            topic TEXT NOT NULL
        );
        CREATE INDEX topics_topic ON answer_topics(topic);
        CREATE TABLE drafts (
            session_id INTEGER NOT NULL,
            question_id TEXT NOT NULL,
            text TEXT NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (session_id, question_id)
        );
        CREATE TABLE llm_calls (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            session_id INTEGER,
            purpose TEXT,
            model TEXT,
            input_tokens INTEGER,
            output_tokens INTEGER,
            duration_s REAL,
            counted INTEGER
        );
        """
    )


def _v2(db: sqlite3.Connection) -> None:
    _script(db, 
        """
        CREATE TABLE cards (
            question_id TEXT PRIMARY KEY,
            card TEXT NOT NULL,
            due REAL NOT NULL,
            last_score REAL
        );
        CREATE INDEX cards_due ON cards(due);
        CREATE TABLE entries (
            id INTEGER PRIMARY KEY,
            created_at REAL NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL DEFAULT '',
            source TEXT,
            question_id TEXT
        );
        CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL);
        """
    )


def _v3(db: sqlite3.Connection) -> None:
    """Progress over thousands of answers: aggregate in SQL, never touch the wide rows.

    An answer row carries its question and grade as JSON (kilobytes each), so reading `score`
    from the table walks overflow pages. The partial index below holds every column progress
    reads from graded answers (plus the rowid, which every index carries), so those queries scan
    the index alone. Domains get a row per answer, as topics already do, instead of
    json_extract over every question at query time; existing answers are backfilled here.
    """
    _script(db,
        """
        CREATE INDEX answers_progress ON answers(round, submitted_at, score, duration_s) WHERE score IS NOT NULL;
        CREATE INDEX topics_answer ON answer_topics(answer_id, topic);
        CREATE TABLE answer_domains (
            answer_id INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
            domain TEXT NOT NULL
        );
        CREATE INDEX domains_answer ON answer_domains(answer_id, domain);
        INSERT INTO answer_domains(answer_id, domain)
            SELECT a.id, d.value FROM answers a, json_each(CASE WHEN json_valid(a.question) THEN a.question END, '$.domains') d
        """
    )


MIGRATIONS = {1: _v1, 2: _v2, 3: _v3}


class Journal:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else journal_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self.db = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self._refuse_newer()  # before WAL: a newer journal must stay byte for byte as it was
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise _db_error(self.path, exc) from exc

    def close(self) -> None:
        self.db.close()

    # -- schema ------------------------------------------------------------------------------
    def _refuse_newer(self) -> None:
        current = self.db.execute("PRAGMA user_version").fetchone()[0]
        if current > SCHEMA_VERSION:
            self.db.close()
            raise UserError(
                f"{self.path} was written by a newer mock-interviewer (schema {current} > {SCHEMA_VERSION})",
                "upgrade mock-interviewer; the file was left untouched",
            )

    def _migrate(self) -> None:
        current = self.db.execute("PRAGMA user_version").fetchone()[0]
        if current > SCHEMA_VERSION:
            raise UserError(
                f"{self.path} was written by a newer mock-interviewer (schema {current} > {SCHEMA_VERSION})",
                "upgrade mock-interviewer; the file was left untouched",
            )
        if current == SCHEMA_VERSION:
            return
        if current > 0:
            self.backup(f"pre-v{SCHEMA_VERSION}")
        for version in range(current + 1, SCHEMA_VERSION + 1):
            with self.tx():
                MIGRATIONS[version](self.db)
                self.db.execute(f"PRAGMA user_version = {version}")
        with self.tx():
            for version in range(1, SCHEMA_VERSION + 1):
                self.db.execute(
                    "INSERT OR IGNORE INTO migrations(version, name, applied_at) VALUES (?, ?, ?)",
                    (version, MIGRATIONS[version].__name__, time.time()),
                )

    def backup(self, label: str) -> Path:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        dest = self.path.with_name(f"{self.path.stem}.{label}.{stamp}.bak.sqlite")
        self.db.execute("PRAGMA wal_checkpoint(FULL)")
        shutil.copy2(self.path, dest)
        return dest

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        # One connection serves the UI thread (drafts as typed) and grading workers: a statement
        # from one thread must never land inside another thread's open transaction.
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            else:
                self.db.execute("COMMIT")

    # -- sessions ----------------------------------------------------------------------------
    def start_session(self, mode: str, rounds: list[str], profile: RoleProfile | None = None, endpoint: str | None = None, model: str | None = None, state: dict | None = None) -> int:
        with self.tx():
            cur = self.db.execute(
                "INSERT INTO sessions(started_at, mode, rounds, profile, endpoint, model, state) VALUES (?,?,?,?,?,?,?)",
                (time.time(), mode, json.dumps(rounds), profile.model_dump_json() if profile else None, endpoint, model, json.dumps(state or {})),
            )
            return int(cur.lastrowid)

    def save_state(self, session_id: int, state: dict) -> None:
        with self._lock:
            self.db.execute("UPDATE sessions SET state = ? WHERE id = ?", (json.dumps(state), session_id))

    def finish_session(self, session_id: int, summary: dict | None = None, status: str = "finished") -> None:
        with self.tx():
            self.db.execute(
                "UPDATE sessions SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
                (time.time(), status, json.dumps(summary or {}), session_id),
            )
            self.db.execute("DELETE FROM drafts WHERE session_id = ?", (session_id,))

    def unfinished_sessions(self) -> list[dict]:
        rows = self.db.execute("SELECT * FROM sessions WHERE status = 'active' ORDER BY id DESC").fetchall()
        return [self._session_row(r) for r in rows]

    def sessions(self, limit: int = 50) -> list[dict]:
        rows = self.db.execute(
            """SELECT s.*, COUNT(a.id) AS n_answers, AVG(a.score) AS mean_score
               FROM sessions s LEFT JOIN answers a ON a.session_id = s.id
               GROUP BY s.id ORDER BY s.id DESC LIMIT ?""",
            (limit,),
        ).fetchall()
        return [self._session_row(r) for r in rows]

    def session(self, session_id: int) -> dict:
        row = self.db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise UserError(f"no session {session_id} in the journal", "`interviewer history` lists the sessions")
        out = self._session_row(row)
        out["answers"] = [self._answer_row(a) for a in self.db.execute("SELECT * FROM answers WHERE session_id = ? ORDER BY id", (session_id,))]
        out["drafts"] = {d["question_id"]: d["text"] for d in self.db.execute("SELECT * FROM drafts WHERE session_id = ?", (session_id,))}
        return out

    def delete_session(self, session_id: int) -> None:
        self.session(session_id)  # raises if absent
        with self.tx():
            self.db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            self.db.execute("DELETE FROM drafts WHERE session_id = ?", (session_id,))

    @staticmethod
    def _session_row(r: sqlite3.Row) -> dict:
        d = dict(r)
        for k in ("rounds", "profile", "state", "summary"):
            if d.get(k):
                d[k] = json.loads(d[k])
        return d

    @staticmethod
    def _answer_row(r: sqlite3.Row) -> dict:
        d = dict(r)
        d["question"] = json.loads(d["question"])
        d["grade"] = json.loads(d["grade"]) if d.get("grade") else None
        return d

    # -- drafts: saved as typed, so ctrl+q or a crash loses nothing ---------------------------
    def save_draft(self, session_id: int, question_id: str, text: str) -> None:
        with self._lock:
            self.db.execute(
                "INSERT INTO drafts(session_id, question_id, text, updated_at) VALUES (?,?,?,?) "
                "ON CONFLICT(session_id, question_id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at",
                (session_id, question_id, text, time.time()),
            )

    def draft(self, session_id: int, question_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM drafts WHERE session_id = ? AND question_id = ?", (session_id, question_id)).fetchone()
        return row[0] if row else None

    # -- answers -----------------------------------------------------------------------------
    def record_answer(self, session_id: int, question: Question, answer: str, duration_s: float, timed_out: bool = False, hints: int = 0) -> int:
        with self.tx():
            cur = self.db.execute(
                "INSERT INTO answers(session_id, round, question_id, question, answer, submitted_at, duration_s, timed_out, hints) VALUES (?,?,?,?,?,?,?,?,?)",
                (session_id, question.round, question.id, question.model_dump_json(), answer, time.time(), duration_s, int(timed_out), hints),
            )
            aid = int(cur.lastrowid)
            self.db.executemany("INSERT INTO answer_topics(answer_id, topic) VALUES (?,?)", [(aid, t) for t in question.topics])
            self.db.executemany("INSERT INTO answer_domains(answer_id, domain) VALUES (?,?)", [(aid, d) for d in question.domains])
            # Drafts are kept per turn ("qid#0", "qid#1", ...): the submitted question's all go.
            prefix = question.id + "#"
            self.db.execute("DELETE FROM drafts WHERE session_id = ? AND (question_id = ? OR substr(question_id, 1, ?) = ?)", (session_id, question.id, len(prefix), prefix))
        return aid

    def record_grade(self, answer_id: int, grade: Grade, *, schedule: bool = True) -> None:
        with self.tx():
            self.db.execute(
                "UPDATE answers SET score = ?, grade = ?, grader = ?, model = ?, prompt_version = ?, tokens = ? WHERE id = ?",
                (grade.score, grade.model_dump_json(), grade.grader, grade.model, grade.prompt_version, grade.tokens, answer_id),
            )
            self.db.execute("DELETE FROM criterion_grades WHERE answer_id = ?", (answer_id,))
            self.db.executemany(
                "INSERT INTO criterion_grades(answer_id, criterion_id, awarded, points) VALUES (?,?,?,?)",
                [(answer_id, c.id, c.awarded, c.points) for c in grade.criteria],
            )
        if schedule:
            self.schedule_review(grade.question_id, grade.score)

    def log_llm_calls(self, records: list[Any], session_id: int | None = None) -> None:
        if not records:
            return
        with self.tx():
            self.db.executemany(
                "INSERT INTO llm_calls(at, session_id, purpose, model, input_tokens, output_tokens, duration_s, counted) VALUES (?,?,?,?,?,?,?,?)",
                [(time.time(), session_id, r.purpose, r.model, r.input_tokens, r.output_tokens, r.duration, int(r.counted)) for r in records],
            )

    # -- spaced repetition (fsrs) ---------------------------------------------------------------
    @staticmethod
    def _rating(score: float):
        from fsrs import Rating

        if score < 4:
            return Rating.Again
        if score < 6.5:
            return Rating.Hard
        if score < 8.5:
            return Rating.Good
        return Rating.Easy

    def schedule_review(self, question_id: str, score: float, now: datetime | None = None) -> None:
        """A question scored under 8.5 becomes a card; every later attempt reviews it."""
        from fsrs import Card, Scheduler

        row = self.db.execute("SELECT card FROM cards WHERE question_id = ?", (question_id,)).fetchone()
        if row is None and score >= 8.5:
            return  # answered well the first time: nothing to bring back
        card = Card.from_dict(json.loads(row[0])) if row else Card()
        now = now or datetime.now(timezone.utc)
        card, _ = Scheduler(enable_fuzzing=False).review_card(card, self._rating(score), review_datetime=now)
        with self._lock:
            self.db.execute(
                "INSERT INTO cards(question_id, card, due, last_score) VALUES (?,?,?,?) "
                "ON CONFLICT(question_id) DO UPDATE SET card = excluded.card, due = excluded.due, last_score = excluded.last_score",
                (question_id, json.dumps(card.to_dict()), card.due.timestamp(), score),
            )

    def due_questions(self, now: datetime | None = None, limit: int = 50) -> list[dict]:
        ts = (now or datetime.now(timezone.utc)).timestamp()
        rows = self.db.execute("SELECT question_id, due, last_score FROM cards WHERE due <= ? ORDER BY due LIMIT ?", (ts, limit)).fetchall()
        return [dict(r) for r in rows]

    def upcoming(self, limit: int = 10) -> list[dict]:
        return [dict(r) for r in self.db.execute("SELECT question_id, due, last_score FROM cards ORDER BY due LIMIT ?", (limit,))]

    # -- progress ----------------------------------------------------------------------------
    # Every aggregate below is one SQL statement that reads indexes only (see _v3): progress must
    # stay well under a second at 10,000 graded answers (benchmarks/bench_progress.py).
    RECENCY = 0.85  # weight of each older answer relative to the next newer one
    RECENCY_DEPTH = 120  # 0.85**120 is ~3e-9: answers further back change nothing measurable

    def weak_topics(self, min_answers: int = 1) -> dict[str, float]:
        """topic -> weakness in 0..1 (1 - mean score / 10), recent answers weighted more."""
        # The weights come from a recursive CTE, not pow(): SQLite's math functions are a
        # compile-time option that not every Python's sqlite3 has.
        rows = self.db.execute(
            """WITH RECURSIVE w(i, wt) AS (SELECT 1, 1.0 UNION ALL SELECT i + 1, wt * ? FROM w WHERE i < ?),
               ranked AS (
                   SELECT t.topic AS topic, a.score AS score,
                          ROW_NUMBER() OVER (PARTITION BY t.topic ORDER BY a.id DESC) AS rn,
                          COUNT(*) OVER (PARTITION BY t.topic) AS n
                   FROM answers a JOIN answer_topics t ON t.answer_id = a.id
                   WHERE a.score IS NOT NULL
               )
               SELECT topic, SUM(w.wt * score) / SUM(w.wt) FROM ranked JOIN w ON w.i = ranked.rn
               WHERE n >= ? GROUP BY topic""",
            (self.RECENCY, self.RECENCY_DEPTH, min_answers),
        ).fetchall()
        return {topic: round(1.0 - mean / 10.0, 3) for topic, mean in rows}

    def recent_question_ids(self, sessions: int = 5) -> set[str]:
        rows = self.db.execute(
            "SELECT DISTINCT question_id FROM answers WHERE session_id IN (SELECT id FROM sessions ORDER BY id DESC LIMIT ?)",
            (sessions,),
        ).fetchall()
        return {r[0] for r in rows}

    def progress(self) -> dict:
        db = self.db
        # `score IS NOT NULL` in every query matches the partial index answers_progress, which is
        # what lets the planner read that index instead of the wide rows. CROSS JOIN keeps answers
        # (through that index) as the outer loop, so topic and domain rows are found by answer_id
        # in their own covering indexes.
        overall = db.execute("SELECT COUNT(*), AVG(score), AVG(duration_s) FROM answers WHERE score IS NOT NULL").fetchone()
        by_topic = [
            dict(r)
            for r in db.execute(
                """SELECT t.topic AS topic, COUNT(*) AS answers, ROUND(AVG(a.score), 2) AS mean_score,
                          ROUND(AVG(a.duration_s), 1) AS mean_seconds
                   FROM answers a CROSS JOIN answer_topics t ON t.answer_id = a.id WHERE a.score IS NOT NULL
                   GROUP BY t.topic ORDER BY mean_score ASC, t.topic"""
            )
        ]
        by_round = [
            dict(r)
            for r in db.execute(
                """SELECT round, COUNT(*) AS answers, ROUND(AVG(score), 2) AS mean_score, ROUND(AVG(duration_s), 1) AS mean_seconds
                   FROM answers WHERE score IS NOT NULL GROUP BY round ORDER BY round"""
            )
        ]
        by_domain = [
            dict(r)
            for r in db.execute(
                """SELECT d.domain AS domain, COUNT(*) AS answers, ROUND(AVG(a.score), 2) AS mean_score
                   FROM answers a CROSS JOIN answer_domains d ON d.answer_id = a.id WHERE a.score IS NOT NULL
                   GROUP BY d.domain ORDER BY d.domain"""
            )
        ]
        # Trend: mean score per calendar day, oldest first, per round.
        trend = [
            dict(r)
            for r in db.execute(
                """SELECT date(submitted_at, 'unixepoch') AS day, round, ROUND(AVG(score), 2) AS mean_score, COUNT(*) AS answers
                   FROM answers WHERE score IS NOT NULL GROUP BY day, round ORDER BY day, round"""
            )
        ]
        topic_trend = [
            dict(r)
            for r in db.execute(
                """SELECT date(a.submitted_at, 'unixepoch') AS day, t.topic AS topic, ROUND(AVG(a.score), 2) AS mean_score
                   FROM answers a CROSS JOIN answer_topics t ON t.answer_id = a.id WHERE a.score IS NOT NULL
                   GROUP BY day, t.topic ORDER BY day, t.topic"""
            )
        ]
        return {
            "answers": overall[0],
            "mean_score": round(overall[1], 2) if overall[1] is not None else None,
            "mean_seconds": round(overall[2], 1) if overall[2] is not None else None,
            "by_topic": by_topic,
            "by_round": by_round,
            "by_domain": by_domain,
            "trend": trend,
            "topic_trend": topic_trend,
            "weakest_topics": [t["topic"] for t in by_topic[:5]],
            "due": self.due_count(),
        }

    def due_count(self, now: datetime | None = None) -> int:
        ts = (now or datetime.now(timezone.utc)).timestamp()
        return int(self.db.execute("SELECT COUNT(*) FROM cards WHERE due <= ?", (ts,)).fetchone()[0])

    # -- the candidate's own entries -------------------------------------------------------------
    def add_entry(self, kind: str, title: str, body: str = "", source: str | None = None, question_id: str | None = None) -> int:
        cur = self.db.execute(
            "INSERT INTO entries(created_at, kind, title, body, source, question_id) VALUES (?,?,?,?,?,?)",
            (time.time(), kind, title, body, source, question_id),
        )
        return int(cur.lastrowid)

    def entry(self, entry_id: int) -> dict:
        row = self.db.execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise UserError(f"no journal entry {entry_id}", "`interviewer journal list` shows the ids")
        return dict(row)

    def delete_entry(self, entry_id: int) -> dict:
        """Remove one of the candidate's entries; a practice question made from it stays in the bank."""
        entry = self.entry(entry_id)
        with self.tx():
            self.db.execute("DELETE FROM entries WHERE id = ?", (entry_id,))
        return entry

    def entries(self, kind: str | None = None) -> list[dict]:
        q = "SELECT * FROM entries" + (" WHERE kind = ?" if kind else "") + " ORDER BY id DESC"
        return [dict(r) for r in self.db.execute(q, (kind,) if kind else ())]

    # -- moving machines -------------------------------------------------------------------------
    TABLES = ("sessions", "answers", "criterion_grades", "answer_topics", "drafts", "llm_calls", "cards", "entries")

    def export_data(self) -> dict:
        return {
            "format": "mock-interviewer-journal",
            "schema_version": SCHEMA_VERSION,
            "exported_at": time.time(),
            "tables": {t: [dict(r) for r in self.db.execute(f"SELECT * FROM {t}")] for t in self.TABLES},
        }

    def import_data(self, data: dict) -> dict[str, int]:
        if not isinstance(data, dict) or data.get("format") != "mock-interviewer-journal":
            raise UserError("that file is not a mock-interviewer journal export", "use a file written by `interviewer export`")
        if int(data.get("schema_version", 0)) > SCHEMA_VERSION:
            raise UserError("that export comes from a newer mock-interviewer", "upgrade before importing it")
        tables = data.get("tables")
        if not isinstance(tables, dict) or not all(isinstance(v, list) and all(isinstance(r, dict) for r in v) for v in tables.values()):
            raise UserError("the export has no tables, or they are damaged", "use a file written by `interviewer export`")
        self.backup("pre-import")
        try:
            return self._import_tables(tables)
        except (sqlite3.Error, KeyError, TypeError, AttributeError, ValueError) as exc:
            raise UserError(f"that export is damaged ({type(exc).__name__}: {exc}); nothing was imported", "re-export it from the other machine")

    def _import_tables(self, tables: dict) -> dict[str, int]:
        counts: dict[str, int] = {}
        known = {t: {r[1] for r in self.db.execute(f"PRAGMA table_info({t})")} for t in self.TABLES}
        for t, rows in tables.items():
            if t not in known:
                raise ValueError(f"unknown table {t}")
            for r in rows:
                extra = set(r) - known[t]
                if extra:
                    raise ValueError(f"unknown columns {sorted(extra)} in {t}")
        # Imported rows get new ids so nothing already in this journal is overwritten.
        with self.tx():
            session_map: dict[int, int] = {}
            answer_map: dict[int, int] = {}
            last_answer = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM answers").fetchone()[0]
            for row in tables.get("sessions", []):
                old = row.pop("id")
                cols = [c for c in row]
                cur = self.db.execute(f"INSERT INTO sessions({','.join(cols)}) VALUES ({','.join('?' * len(cols))})", [row[c] for c in cols])
                session_map[old] = int(cur.lastrowid)
            for row in tables.get("answers", []):
                old = row.pop("id")
                row["session_id"] = session_map.get(row["session_id"], row["session_id"])
                cols = list(row)
                cur = self.db.execute(f"INSERT INTO answers({','.join(cols)}) VALUES ({','.join('?' * len(cols))})", [row[c] for c in cols])
                answer_map[old] = int(cur.lastrowid)
            for table in ("criterion_grades", "answer_topics"):
                for row in tables.get(table, []):
                    row["answer_id"] = answer_map.get(row["answer_id"], row["answer_id"])
                    cols = list(row)
                    self.db.execute(f"INSERT INTO {table}({','.join(cols)}) VALUES ({','.join('?' * len(cols))})", [row[c] for c in cols])
            # Domains are derived from each answer's question, not exported: rebuild them.
            self.db.execute(
                "INSERT INTO answer_domains(answer_id, domain) SELECT a.id, d.value FROM answers a, json_each(a.question, '$.domains') d WHERE a.id > ?",
                (last_answer,),
            )
            for row in tables.get("drafts", []):
                row["session_id"] = session_map.get(row["session_id"], row["session_id"])
                self.db.execute("INSERT OR REPLACE INTO drafts(session_id, question_id, text, updated_at) VALUES (?,?,?,?)", (row["session_id"], row["question_id"], row["text"], row["updated_at"]))
            for row in tables.get("cards", []):
                # A card already here is the newer truth about this machine's reviews: keep it.
                self.db.execute("INSERT OR IGNORE INTO cards(question_id, card, due, last_score) VALUES (?,?,?,?)", (row["question_id"], row["card"], row["due"], row.get("last_score")))
            for table in ("llm_calls", "entries"):
                for row in tables.get(table, []):
                    row.pop("id", None)
                    if "session_id" in row and row["session_id"] is not None:
                        row["session_id"] = session_map.get(row["session_id"], row["session_id"])
                    cols = list(row)
                    self.db.execute(f"INSERT INTO {table}({','.join(cols)}) VALUES ({','.join('?' * len(cols))})", [row[c] for c in cols])
            for t in self.TABLES:
                counts[t] = len(tables.get(t, []))
        return counts


def _db_error(path: Path, exc: sqlite3.DatabaseError) -> UserError:
    msg = str(exc)
    if "locked" in msg:
        return UserError(f"{path} is locked by another process", "close the other mock-interviewer and retry")
    return UserError(
        f"{path} is not a readable journal ({msg})",
        f"move it aside (mv {path} {path}.broken) to start a fresh journal; nothing was changed",
    )


def open_journal(path: Path | None = None) -> Journal:
    return Journal(path)
