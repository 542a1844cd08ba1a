"""The command line as a user runs it.

Bad input must end as ONE line on stderr starting with "error:", no traceback, and a non-zero
exit: those checks run the real entry point in a subprocess (`python -m interviewer.cli`).
Everything else runs in-process through typer's CliRunner. LLM paths talk TCP to the loopback
fake server; nothing reaches a real network host (downloads are blocked, see the fixtures).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fake_openai import Reply
from interviewer.cli import app
from interviewer.errors import UserError
from interviewer.journal import Journal
from interviewer.schema import CriterionGrade, Grade
from interviewer.settings import config_path, journal_path

REPO = Path(__file__).resolve().parent.parent
QID = "breadth.bias-variance-tradeoff"
ANSWER = (
    "Bias is systematic error from a model whose assumptions are too simple, so it underfits. "
    "Variance is how much the fitted model changes with the particular training sample, so it overfits. "
    "Adding capacity lowers bias but raises variance, so test error is lowest at an intermediate complexity. "
    "Against bias use a richer model or better features; against variance get more data, regularize or bag."
)
SECRET = "sk-test-SECRET-abcdefghijklmnop0123"
# Subprocesses get proxies that go nowhere, except for loopback: any stray download fails fast.
NO_NETWORK_ENV = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
}

runner = CliRunner()


# -- fixtures and helpers ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_downloads(monkeypatch):
    """In-process: tiktoken may not fetch encoding files (doctor counts tokens)."""
    import tiktoken.load

    from interviewer import tokens

    def blocked(blobpath: str) -> bytes:
        raise ConnectionError(f"the test suite blocked a download of {blobpath}")

    monkeypatch.setattr(tiktoken.load, "read_file", blocked)
    tokens._encoding_for.cache_clear()
    yield
    tokens._encoding_for.cache_clear()


@pytest.fixture(autouse=True)
def _session_bank(reuse_session_bank):
    """Every command in this module reuses the session's parsed bank (conftest)."""


def run_cli(*args: str, input: str | None = None, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.update(NO_NETWORK_ENV)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "interviewer.cli", *args],
        capture_output=True, text=True, env=full_env, cwd=REPO, input=input, timeout=timeout,
    )


def assert_one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode != 0, proc
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def write_answer(tmp_path: Path, text: str = ANSWER, name: str = "answer.txt") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def write_config(text: str) -> Path:
    p = config_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def unused_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def verdicts() -> dict:
    """A scripted LLM grade for QID: full marks for bias, 5 (of 3) for variance, an invented quote."""
    v = {
        "criteria": [
            {"id": "bias", "awarded": 3, "evidence": ["Bias is systematic error from a model"], "feedback": "Precise."},
            {"id": "variance", "awarded": 5, "evidence": ["how much the fitted model changes"], "feedback": "Good."},
            {"id": "tradeoff", "awarded": 2, "evidence": ["test error traces a U shape against complexity"], "feedback": "Invented quote."},
            {"id": "levers", "awarded": 0, "evidence": [], "feedback": "No levers."},
        ],
        "overall_feedback": "Solid definitions.",
        "missing": "Levers for each side.",
    }
    return v


# -- help ---------------------------------------------------------------------------------------------


def test_help_lists_the_commands():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for cmd in ("doctor", "grade", "bank", "history", "progress", "plan", "journal", "export", "import", "eval"):
        assert cmd in proc.stdout
    assert "--offline" in proc.stdout and "--base-url" in proc.stdout
    assert proc.stderr == ""


def test_subcommand_help_works():
    res = invoke("grade", "--help")
    assert res.exit_code == 0
    assert "--question" in res.stdout and "--answer" in res.stdout


# -- doctor -------------------------------------------------------------------------------------------


def test_doctor_json_offline_reports_mode_embedding_and_hides_keys(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    res = invoke("--offline", "doctor", "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["mode"] == "offline"
    assert report["endpoint"]["reason"] == "--offline"
    assert report["embedding"]["ok"] is True
    assert report["problems"] == []
    assert report["env"]["OPENAI_API_KEY"] == "set"
    assert SECRET not in res.stdout


def test_doctor_json_without_any_endpoint_is_offline_with_the_reason():
    report = json.loads(invoke("doctor", "--json").stdout)
    assert report["mode"] == "offline"
    assert report["endpoint"]["reason"] == "no endpoint configured"


def test_doctor_json_against_the_server_reports_reachable_and_model_available(server):
    res = invoke("--base-url", server.base_url, "--model", "test-model", "doctor", "--json")
    assert res.exit_code == 0, res.output
    e = json.loads(res.stdout)["endpoint"]
    assert json.loads(res.stdout)["mode"] == "llm"
    assert e["reachable"] is True
    assert e["model_available"] is True
    assert e["models"] == ["test-model"]
    assert e["base_url"] == server.base_url


def test_doctor_masks_the_key_it_sends(server, monkeypatch):
    server.require_key = SECRET
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("INTERVIEWER_MODEL", "test-model")
    res = invoke("doctor", "--json")
    assert res.exit_code == 0, res.output
    e = json.loads(res.stdout)["endpoint"]
    assert e["reachable"] is True  # the key really was sent
    assert e["api_key_source"] == "OPENAI_API_KEY"
    assert e["api_key"] and e["api_key"] != SECRET and e["api_key"].endswith(SECRET[-4:])
    assert SECRET not in res.stdout


def test_doctor_missing_model_is_a_problem_and_exit_1(server):
    server.models = ["llama3", "qwen2.5"]
    res = invoke("--base-url", server.base_url, "--model", "test-model", "doctor", "--json")
    assert res.exit_code == 1
    report = json.loads(res.stdout)
    assert report["endpoint"]["model_available"] is False
    assert any("'test-model'" in p and "llama3" in p for p in report["problems"])


def test_doctor_unreachable_endpoint_is_a_clear_problem_and_exit_1():
    url = f"http://127.0.0.1:{unused_port()}/v1"
    res = invoke("--base-url", url, "--model", "m", "doctor", "--json")
    assert res.exit_code == 1
    report = json.loads(res.stdout)
    assert report["endpoint"]["reachable"] is False
    assert any("cannot reach" in p and url in p for p in report["problems"])


def test_doctor_with_a_broken_config_reports_it_instead_of_crashing():
    path = write_config("[profiles\n")
    res = invoke("doctor", "--json")
    assert res.exit_code == 1
    report = json.loads(res.stdout)
    assert any(str(path) in p for p in report["problems"])


# -- grade offline -------------------------------------------------------------------------------------


def test_grade_offline_json_has_score_criteria_grader_and_model(tmp_path):
    res = invoke("--offline", "grade", "-q", QID, "-a", str(write_answer(tmp_path)), "--json")
    assert res.exit_code == 0, res.output
    g = json.loads(res.stdout)
    assert g["question_id"] == QID
    assert g["grader"] == "offline" and g["model"] is None
    assert 0 <= g["score"] <= 10 and g["score"] >= 6
    assert [c["id"] for c in g["criteria"]] == ["bias", "variance", "tradeoff", "levers"]
    for c in g["criteria"]:
        assert set(c) >= {"id", "awarded", "points", "feedback"}
        assert 0 <= c["awarded"] <= c["points"]
        assert c["feedback"]
    total = sum(c["points"] for c in g["criteria"])
    assert g["score"] == pytest.approx(round(10 * sum(c["awarded"] for c in g["criteria"]) / total, 2))


def test_grade_reads_the_answer_from_stdin():
    res = invoke("--offline", "grade", "-q", QID, "-a", "-", "--json", input=ANSWER)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["score"] >= 6


def test_grade_table_output_names_question_score_and_criteria(tmp_path):
    res = invoke("--offline", "grade", "-q", QID, "-a", str(write_answer(tmp_path)))
    assert res.exit_code == 0, res.output
    assert QID in res.stdout and "/10" in res.stdout
    for cid in ("bias", "variance", "tradeoff", "levers"):
        assert cid in res.stdout


def test_grade_accepts_a_question_yaml_file(tmp_path, bank):
    import yaml

    q = bank.get(QID).model_dump(exclude_none=True)
    q["id"] = "breadth.my-own-question"
    qfile = tmp_path / "q.yaml"
    qfile.write_text(yaml.safe_dump({"questions": [q]}), encoding="utf-8")
    res = invoke("--offline", "grade", "-q", str(qfile), "-a", str(write_answer(tmp_path)), "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["question_id"] == "breadth.my-own-question"


# -- grade through the LLM endpoint ------------------------------------------------------------------


def test_grade_through_the_server_computes_the_score_from_the_verdicts(server, tmp_path):
    server.script(Reply(json=verdicts()))
    res = invoke("--base-url", server.base_url, "--model", "test-model", "grade", "-q", QID, "-a", str(write_answer(tmp_path)), "--json")
    assert res.exit_code == 0, res.output
    g = json.loads(res.stdout)
    assert g["grader"] == "llm" and g["model"] == "test-model"
    by_id = {c["id"]: c for c in g["criteria"]}
    assert by_id["bias"]["awarded"] == 3.0
    assert by_id["variance"]["awarded"] == 3.0  # 5 of 3 points is clipped to 3
    assert by_id["tradeoff"]["evidence"] == []  # the invented quote is dropped
    assert by_id["tradeoff"]["awarded"] < 2.0  # ... and credit without a real quote is not full credit
    assert by_id["levers"]["awarded"] == 0.0
    assert by_id["bias"]["evidence"] == ["Bias is systematic error from a model"]
    expected = round(10 * sum(c["awarded"] for c in g["criteria"]) / sum(c["points"] for c in g["criteria"]), 2)
    assert g["score"] == expected
    assert any("evidence" in n for n in g["notices"])
    assert g["feedback"] == "Solid definitions."
    # the answer went to the server, and the call was logged in the journal
    assert ANSWER[:40] in json.dumps(server.requests[0])
    calls = Journal(journal_path()).db.execute("SELECT purpose, model FROM llm_calls").fetchall()
    assert [tuple(r) for r in calls] == [("grade", "test-model")]


def test_grade_falls_back_to_offline_with_a_notice_when_the_endpoint_fails(server, tmp_path):
    server.default = Reply(status=500, retry_after=0.01)
    res = invoke("--base-url", server.base_url, "--model", "test-model", "grade", "-q", QID, "-a", str(write_answer(tmp_path)), "--json")
    assert res.exit_code == 0, res.output
    g = json.loads(res.stdout)
    assert g["grader"] == "offline"
    assert g["score"] >= 6
    assert any("graded offline instead" in n for n in g["notices"])
    assert len(server.requests) >= 2  # it did retry before giving up


def test_grade_falls_back_to_offline_when_the_endpoint_is_unreachable(tmp_path):
    url = f"http://127.0.0.1:{unused_port()}/v1"
    write_config('[profiles.fast]\nmodel = "m"\nmax_retries = 0\nconnect_timeout = 1.0\n')
    res = invoke("--profile", "fast", "--base-url", url, "grade", "-q", QID, "-a", str(write_answer(tmp_path)), "--json")
    assert res.exit_code == 0, res.output
    g = json.loads(res.stdout)
    assert g["grader"] == "offline"
    assert any("cannot reach" in n for n in g["notices"])


# -- bad input: one error line, non-zero exit, no traceback ---------------------------------------------


def test_unknown_profile_is_one_error_line(tmp_path):
    write_config('[profiles.work]\nbase_url = "http://127.0.0.1:1/v1"\nmodel = "m"\n')
    line = assert_one_error_line(run_cli("--profile", "nope", "grade", "-q", QID, "-a", str(write_answer(tmp_path))))
    assert "unknown profile 'nope'" in line and "work" in line


def test_malformed_config_toml_is_one_error_line_naming_the_file(tmp_path):
    path = write_config('default_profile = "x"\n[profiles.x\n')
    line = assert_one_error_line(run_cli("grade", "-q", QID, "-a", str(write_answer(tmp_path))))
    assert str(path) in line and "TOML" in line


def test_empty_answer_is_one_error_line(tmp_path):
    line = assert_one_error_line(run_cli("--offline", "grade", "-q", QID, "-a", str(write_answer(tmp_path, "  \n\t\n"))))
    assert "empty" in line


def test_non_utf8_answer_file_is_one_error_line(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes("Le biais est une erreur syst\u00e9matique.".encode("latin-1"))
    line = assert_one_error_line(run_cli("--offline", "grade", "-q", QID, "-a", str(p)))
    assert "UTF-8" in line and str(p) in line


def test_missing_answer_file_is_one_error_line(tmp_path):
    missing = tmp_path / "nope.txt"
    line = assert_one_error_line(run_cli("--offline", "grade", "-q", QID, "-a", str(missing)))
    assert "does not exist" in line and str(missing) in line


def test_unknown_question_id_suggests_close_ids(tmp_path):
    line = assert_one_error_line(run_cli("--offline", "grade", "-q", "breadth.bias-variance-tradof", "-a", str(write_answer(tmp_path))))
    assert "no question 'breadth.bias-variance-tradof'" in line
    assert "did you mean" in line and QID in line


def test_missing_question_file_is_one_error_line(tmp_path):
    line = assert_one_error_line(run_cli("--offline", "grade", "-q", str(tmp_path / "q.yaml"), "-a", str(write_answer(tmp_path))))
    assert "does not exist" in line


def test_one_megabyte_answer_still_grades_with_a_notice(tmp_path):
    filler = " ".join(["and also some further words about nothing in particular"] * 18_000)
    big = ANSWER + "\n" + filler
    assert len(big.encode()) > 1_000_000
    res = invoke("--offline", "grade", "-q", QID, "-a", str(write_answer(tmp_path, big)), "--json")
    assert res.exit_code == 0, res.output
    g = json.loads(res.stdout)
    assert any("very long" in n and "20,000" in n for n in g["notices"])
    assert g["score"] >= 5  # the real answer at the start is still graded


def test_one_megabyte_answer_does_not_crash_the_real_entry_point(tmp_path):
    big = ANSWER + "\n" + "x" * 1_050_000
    proc = run_cli("--offline", "grade", "-q", QID, "-a", str(write_answer(tmp_path, big)))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "very long" in proc.stdout and QID in proc.stdout


def test_typer_exit_codes_survive_the_real_entry_point(bank):
    sid = _journal_with_a_session(bank)
    proc = run_cli("history", "delete", str(sid), input="n\n")
    assert "Traceback" not in proc.stderr
    assert Journal(journal_path()).sessions()[0]["id"] == sid  # declined: nothing deleted
    assert proc.returncode == 1


def test_usage_error_is_one_line_pointing_at_help_with_exit_2():
    proc = run_cli("--offline", "grade")
    line = assert_one_error_line(proc)
    assert proc.returncode == 2
    assert "unexpected" not in line
    assert "--help" in line


def test_usage_errors_still_end_as_one_line_without_traceback():
    for args in (["--offline", "grade"], ["grade", "--bogus"]):
        assert_one_error_line(run_cli(*args))


# -- bank, history ----------------------------------------------------------------------------------


def test_bank_list_json_counts_every_question(bank):
    res = invoke("bank", "list", "--json")
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["count"] == len(bank) == len(data["questions"])
    assert data["counts"] == bank.counts()
    assert sum(data["counts"].values()) == len(bank)
    assert QID in {q["id"] for q in data["questions"]}


def test_bank_list_filters_by_round(bank):
    data = json.loads(invoke("bank", "list", "--round", "depth", "--json").stdout)
    assert data["count"] == bank.counts()["depth"]
    assert {q["round"] for q in data["questions"]} == {"depth"}


def test_bank_show_prints_prompt_rubric_and_reference(bank):
    q = bank.get(QID)
    res = invoke("bank", "show", QID)
    assert res.exit_code == 0
    flat = " ".join(res.stdout.split())
    assert q.prompt in flat
    for c in q.rubric:
        assert c.id in res.stdout
    assert "Reference answer" in res.stdout
    data = json.loads(invoke("bank", "show", QID, "--json").stdout)
    assert data["id"] == QID and len(data["rubric"]) == len(q.rubric)


def test_bank_show_unknown_id_is_a_user_error_with_suggestions():
    res = invoke("bank", "show", "breadth.bias-varianse-tradeoff")
    assert res.exit_code != 0
    assert isinstance(res.exception, UserError)
    assert QID in res.exception.hint


def test_history_is_empty_on_a_fresh_home():
    res = invoke("history", "--json")
    assert res.exit_code == 0
    assert json.loads(res.stdout) == {"sessions": []}
    assert invoke("history").exit_code == 0


def test_progress_on_a_fresh_home_has_no_answers():
    res = invoke("progress", "--json")
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["answers"] == 0 and data["mean_score"] is None and data["by_topic"] == []


def test_journal_add_point_then_list():
    res = invoke("journal", "add", "point", "Calibration matters for auctions")
    assert res.exit_code == 0, res.output
    rows = json.loads(invoke("journal", "list", "--json").stdout)["entries"]
    assert [(r["kind"], r["title"]) for r in rows] == [("point", "Calibration matters for auctions")]


def test_journal_delete_removes_one_entry_and_names_a_missing_one():
    invoke("journal", "add", "point", "Calibration matters for auctions")
    invoke("journal", "add", "point", "Warm-start the bandit")
    rows = json.loads(invoke("journal", "list", "--json").stdout)["entries"]
    first = next(r["id"] for r in rows if r["title"].startswith("Calibration"))
    res = invoke("journal", "delete", str(first), "--yes")
    assert res.exit_code == 0, res.output
    left = json.loads(invoke("journal", "list", "--json").stdout)["entries"]
    assert [r["title"] for r in left] == ["Warm-start the bandit"]
    res = invoke("journal", "delete", "999", "--yes")
    assert isinstance(res.exception, UserError) and "no journal entry 999" in res.exception.message


# -- export / import ---------------------------------------------------------------------------------


def _journal_with_a_session(bank) -> int:
    home_journal = Journal(journal_path())
    q = bank.get(QID)
    sid = home_journal.start_session("practice", ["breadth"])
    aid = home_journal.record_answer(sid, q, ANSWER, 95.0)
    grade = Grade(
        question_id=QID,
        score=4.0,
        criteria=[CriterionGrade(id=c.id, awarded=c.points if i == 0 else 0.5, points=c.points) for i, c in enumerate(q.rubric)],
        grader="offline",
    )
    grade.score = Grade.score_from(grade.criteria)
    home_journal.record_grade(aid, grade)
    home_journal.finish_session(sid, {"mean_score": grade.score})
    home_journal.close()
    return sid


def test_export_then_import_into_a_fresh_home_gives_the_same_answers(tmp_path, monkeypatch, bank):
    _journal_with_a_session(bank)
    before = Journal(journal_path())
    old = before.session(before.sessions()[0]["id"])
    out = tmp_path / "export.json"
    res = invoke("export", str(out))
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["format"] == "mock-interviewer-journal"

    monkeypatch.setenv("INTERVIEWER_HOME", str(tmp_path / "fresh-home"))
    res = invoke("import", str(out))
    assert res.exit_code == 0, res.output
    assert "1 sessions" in res.stdout and "1 answers" in res.stdout
    after = Journal(journal_path())
    sessions = after.sessions()
    assert len(sessions) == 1
    new = after.session(sessions[0]["id"])
    assert [a["answer"] for a in new["answers"]] == [a["answer"] for a in old["answers"]] == [ANSWER]
    assert [a["score"] for a in new["answers"]] == [a["score"] for a in old["answers"]]
    assert new["answers"][0]["grade"]["criteria"] == old["answers"][0]["grade"]["criteria"]
    assert after.progress()["by_topic"] == before.progress()["by_topic"]


def test_import_of_invalid_json_is_one_error_line_and_changes_nothing(tmp_path, bank):
    _journal_with_a_session(bank)
    before = Journal(journal_path()).export_data()["tables"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "mock-interviewer-journal", "tables": {', encoding="utf-8")
    line = assert_one_error_line(run_cli("import", str(bad)))
    assert "not valid JSON" in line and str(bad) in line
    assert Journal(journal_path()).export_data()["tables"] == before


def test_import_of_another_kind_of_json_is_one_error_line_and_changes_nothing(tmp_path, bank):
    _journal_with_a_session(bank)
    before = Journal(journal_path()).export_data()["tables"]
    other = tmp_path / "other.json"
    other.write_text('{"suite": "grading", "cases": []}', encoding="utf-8")
    line = assert_one_error_line(run_cli("import", str(other)))
    assert "not a mock-interviewer journal export" in line
    assert Journal(journal_path()).export_data()["tables"] == before


@pytest.mark.parametrize(
    "tables",
    [
        {"sessions": [1, 2]},
        {"sessions": [{"id": 1, "started_at": 1.0, "mode": "practice", "rounds": "[]"}], "answers": [{"id": 5, "session_id": 1}]},
    ],
    ids=["rows-not-objects", "answer-missing-columns"],
)
def test_import_of_a_damaged_export_is_a_clear_error_and_changes_nothing(tmp_path, bank, tables):
    _journal_with_a_session(bank)
    before = Journal(journal_path()).export_data()["tables"]
    damaged = tmp_path / "damaged.json"
    damaged.write_text(json.dumps({"format": "mock-interviewer-journal", "schema_version": 2, "tables": tables}), encoding="utf-8")
    proc = run_cli("import", str(damaged))
    assert Journal(journal_path()).export_data()["tables"] == before
    line = assert_one_error_line(proc)
    assert "unexpected" not in line
    assert "export" in line


def test_import_of_a_damaged_export_never_half_applies(tmp_path, bank):
    """Whatever the message, a failing import rolls back: the journal is as it was."""
    _journal_with_a_session(bank)
    before = Journal(journal_path()).export_data()["tables"]
    damaged = tmp_path / "damaged.json"
    tables = {"sessions": [{"id": 1, "started_at": 1.0, "mode": "practice", "rounds": "[]"}], "answers": [{"id": 5, "session_id": 1}]}
    damaged.write_text(json.dumps({"format": "mock-interviewer-journal", "schema_version": 2, "tables": tables}), encoding="utf-8")
    proc = run_cli("import", str(damaged))
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert Journal(journal_path()).export_data()["tables"] == before


def test_import_of_a_missing_file_is_one_error_line(tmp_path):
    line = assert_one_error_line(run_cli("import", str(tmp_path / "nope.json")))
    assert "does not exist" in line


def test_doctor_shows_bracketed_text_in_problems_instead_of_eating_it_as_markup():
    from rich.console import Console

    from interviewer.doctor import render_doctor

    report = {
        "mode": "offline",
        "endpoint": {"reason": "configuration error"},
        "home": "/h",
        "store": {"path": "/h/store", "bytes": 0},
        "journal": {"path": "/h/journal.sqlite", "bytes": 0},
        "tokens": {"method": "estimate", "detail": "x"},
        "sandbox": {"isolation": "bwrap"},
        "embedding": {"ok": True, "backend": "onnx", "seconds": 0.1},
        "warnings": ["see a.yaml [breadth.x-y]"],
        "problems": ["error: unknown profile 'nope' (add [profiles.NAME] to config.toml)"],
    }
    console = Console(record=True, width=200)
    render_doctor(report, console)
    text = console.export_text()
    assert "add [profiles.NAME] to config.toml" in text
    assert "[breadth.x-y]" in text
