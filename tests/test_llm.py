"""The LLM layer against a loopback OpenAI-compatible server (tests/fake_openai.py).

The real openai SDK and LangChain client talk TCP to the fake server; nothing is mocked on the
client side. Every failure a real endpoint can produce must come out as one LLMError with a kind
the callers act on (connection | auth | model | rate_limit | timeout | server | format).
"""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from fake_openai import FakeOpenAI, Reply
from interviewer import llm as llm_mod
from interviewer.llm import LLM, NO_KEY_PLACEHOLDER, LLMError, list_models, run_with_fallback, strip_code_fences
from interviewer.settings import Endpoint, Overrides, resolve_endpoint

MESSAGES = [SystemMessage(content="You are terse."), HumanMessage(content="Name a loss for classification.")]
STREAM_TEXT = "Cross-entropy is the usual loss for classification; it punishes confident mistakes hard."


class Verdict(BaseModel):
    label: str
    score: int


GOOD = {"label": "cross-entropy", "score": 7}


@pytest.fixture(scope="module", autouse=True)
def _warm_client_imports():
    """Import LangChain/openai once so timing assertions measure the network, not imports."""
    import langchain_openai  # noqa: F401
    import openai  # noqa: F401


@pytest.fixture(autouse=True)
def tiktoken_downloads(monkeypatch):
    """Block (and record) any attempt by tiktoken to download encoding files: no real network."""
    import tiktoken.load

    from interviewer import tokens

    calls: list[str] = []

    def blocked(blobpath: str) -> bytes:
        calls.append(blobpath)
        raise ConnectionError(f"the test suite blocked a download of {blobpath}")

    monkeypatch.setattr(tiktoken.load, "read_file", blocked)
    tokens._encoding_for.cache_clear()
    yield calls
    tokens._encoding_for.cache_clear()


def endpoint(server: FakeOpenAI | None = None, **kw) -> Endpoint:
    d = dict(offline=False, base_url=server.base_url if server else None, model="test-model", timeout=5.0, connect_timeout=2.0, max_retries=0)
    d.update(kw)
    return Endpoint(**d)


def auth_headers(server: FakeOpenAI) -> list[str | None]:
    return [{k.lower(): v for k, v in h.items()}.get("authorization") for h in server.headers]


def unused_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# -- structured output -------------------------------------------------------------------------


def test_structured_output_uses_json_schema_when_the_server_accepts_it(server):
    server.script(Reply(json=GOOD))
    llm = LLM(endpoint(server))
    out = llm.structured(Verdict, MESSAGES)
    assert out == Verdict(**GOOD)
    assert len(server.requests) == 1
    rf = server.requests[0].get("response_format")
    assert rf and rf["type"] == "json_schema"
    assert not server.requests[0].get("tools")
    rec = llm.usage.records[-1]
    assert rec.method == "json_schema" and rec.counted is False


def test_server_rejecting_response_format_falls_back_to_tool_calling(server):
    server.reject_response_format = True
    server.script(Reply(json=GOOD), Reply(json={"label": "hinge", "score": 3}))
    llm = LLM(endpoint(server))
    assert llm.structured(Verdict, MESSAGES) == Verdict(**GOOD)
    assert len(server.requests) == 2
    assert server.requests[0].get("response_format")
    assert server.requests[1].get("tools") and not server.requests[1].get("response_format")
    assert llm.usage.records[-1].method == "function_calling"
    # the method that worked is remembered: the next call skips the rejected one
    assert llm.structured(Verdict, MESSAGES) == Verdict(label="hinge", score=3)
    assert len(server.requests) == 3
    assert server.requests[2].get("tools")


def test_server_rejecting_response_format_and_tools_gets_plain_json_with_fences_stripped(server):
    server.reject_response_format = server.reject_tools = True
    server.script(Reply(json=GOOD, fence=True))
    llm = LLM(endpoint(server))
    assert llm.structured(Verdict, MESSAGES) == Verdict(**GOOD)
    assert len(server.requests) == 3
    plain = server.requests[2]
    assert not plain.get("tools") and not plain.get("response_format")
    # the plain-text request carries the schema so the model knows the shape
    assert '"label"' in plain["messages"][-1]["content"]


def test_server_ignoring_tools_still_yields_the_json_it_wrote_as_text(server):
    server.reject_response_format = server.ignore_tools = True
    server.script(Reply(json=GOOD))
    llm = LLM(endpoint(server))
    assert llm.structured(Verdict, MESSAGES) == Verdict(**GOOD)
    assert len(server.requests) == 2


@pytest.mark.parametrize("bad", ["{label: cross-entropy, score: 7", '{"label": "cross-entropy", "score": "seven"}'])
def test_malformed_json_gets_exactly_one_repair_attempt_then_succeeds(server, bad):
    server.reject_response_format = server.reject_tools = True
    server.script(Reply(text=bad), Reply(json=GOOD))
    llm = LLM(endpoint(server))
    assert llm.structured(Verdict, MESSAGES) == Verdict(**GOOD)
    # json_schema rejected, tools rejected, the plain answer, one repair
    assert len(server.requests) == 4
    repair = server.requests[3]["messages"]
    assert repair[-2]["role"] == "assistant" and repair[-2]["content"] == bad
    assert "invalid" in repair[-1]["content"]
    assert [r.purpose for r in llm.usage.records] == ["structured", "structured:repair"]


def test_malformed_json_twice_fails_with_a_format_error_after_one_repair(server):
    server.reject_response_format = server.reject_tools = True
    server.script(Reply(text="{not json"), Reply(text="sorry, here it is: {still not json"))
    llm = LLM(endpoint(server))
    with pytest.raises(LLMError) as exc:
        llm.structured(Verdict, MESSAGES)
    assert exc.value.kind == "format"
    assert "Verdict" in exc.value.message
    assert "--offline" in exc.value.hint
    assert len(server.requests) == 4


def test_strip_code_fences_finds_the_json_object():
    assert strip_code_fences('```json\n{"a": 1}\n```') == '{"a": 1}'
    assert strip_code_fences('Sure! Here you go:\n{"a": {"b": 2}}\nHope it helps.') == '{"a": {"b": 2}}'
    assert strip_code_fences('  {"a": 1}  ') == '{"a": 1}'


# -- failures become one actionable LLMError ------------------------------------------------------


def test_rate_limit_then_success_is_retried(server):
    server.script(Reply(status=429, retry_after=0), Reply(text="fine after a retry"))
    llm = LLM(endpoint(server, max_retries=2))
    t0 = time.monotonic()
    assert llm.complete(MESSAGES) == "fine after a retry"
    assert time.monotonic() - t0 < 5.0
    assert len(server.requests) == 2


def test_retry_after_header_is_honoured_instead_of_long_backoff(server):
    # Exponential backoff for three retries would take at least ~2.6 s; Retry-After asks 0.05 s.
    server.script(*[Reply(status=429, retry_after=0.05)] * 3, Reply(text="done"))
    llm = LLM(endpoint(server, max_retries=3))
    _ = llm.chat
    t0 = time.monotonic()
    assert llm.complete(MESSAGES) == "done"
    assert time.monotonic() - t0 < 2.0
    assert len(server.requests) == 4


def test_rate_limited_after_all_retries_is_a_rate_limit_error(server):
    server.default = Reply(status=429, retry_after=0.01)
    llm = LLM(endpoint(server, max_retries=1))
    with pytest.raises(LLMError) as exc:
        llm.complete(MESSAGES)
    assert exc.value.kind == "rate_limit"
    assert "429" in exc.value.message
    assert len(server.requests) == 2


def test_server_errors_after_retries_are_a_server_error(server):
    server.default = Reply(status=500, retry_after=0.01)
    llm = LLM(endpoint(server, max_retries=2))
    with pytest.raises(LLMError) as exc:
        llm.complete(MESSAGES)
    assert exc.value.kind == "server"
    assert server.base_url in exc.value.message
    assert len(server.requests) == 3  # the call and two retries


def test_server_errors_during_structured_output_are_not_mistaken_for_format_rejection(server):
    server.default = Reply(status=500)
    llm = LLM(endpoint(server, max_retries=0))
    with pytest.raises(LLMError) as exc:
        llm.structured(Verdict, MESSAGES)
    assert exc.value.kind == "server"
    assert len(server.requests) == 1


def test_hanging_server_times_out_within_the_configured_timeout(server):
    server.script(Reply(hang=True))
    llm = LLM(endpoint(server, timeout=1.0, max_retries=0))
    _ = llm.chat  # build the client first: time only the call
    t0 = time.monotonic()
    with pytest.raises(LLMError) as exc:
        llm.complete(MESSAGES)
    elapsed = time.monotonic() - t0
    assert exc.value.kind == "timeout"
    assert "1 s" in exc.value.message
    assert 0.9 <= elapsed < 4.0


def test_connection_refused_is_a_connection_error():
    url = f"http://127.0.0.1:{unused_port()}/v1"
    llm = LLM(Endpoint(offline=False, base_url=url, model="m", timeout=2.0, connect_timeout=1.0, max_retries=0))
    t0 = time.monotonic()
    with pytest.raises(LLMError) as exc:
        llm.complete(MESSAGES)
    assert exc.value.kind == "connection"
    assert url in exc.value.message
    assert "--offline" in exc.value.hint
    assert time.monotonic() - t0 < 3.0


def test_wrong_key_is_an_auth_error_naming_the_source_not_the_key(server):
    server.require_key = "right-key"
    llm = LLM(endpoint(server, api_key="wrong-key-123456789", api_key_source="LOCAL_LLM_KEY"))
    with pytest.raises(LLMError) as exc:
        llm.complete(MESSAGES)
    assert exc.value.kind == "auth"
    assert "LOCAL_LLM_KEY" in exc.value.message
    assert "wrong-key-123456789" not in exc.value.line()
    # the right key is sent as a bearer token and works
    assert LLM(endpoint(server, api_key="right-key")).complete(MESSAGES) == "ok"
    assert auth_headers(server)[-1] == "Bearer right-key"


def test_unknown_model_is_a_model_error_pointing_at_doctor(server):
    llm = LLM(endpoint(server, model="no-such-model"))
    with pytest.raises(LLMError) as exc:
        llm.complete(MESSAGES)
    assert exc.value.kind == "model"
    assert "no-such-model" in exc.value.message
    assert "doctor" in exc.value.hint


def test_malformed_response_body_is_an_llm_error_not_a_crash(server):
    server.script(Reply(raw_body='{"id": "x", "choices": [ {oops'))
    llm = LLM(endpoint(server))
    with pytest.raises(LLMError) as exc:
        llm.complete(MESSAGES)
    assert exc.value.line().startswith("error: ")
    assert "\n" not in exc.value.line()


def test_offline_endpoint_cannot_build_an_llm():
    with pytest.raises(ValueError):
        LLM(Endpoint(offline=True, reason="--offline"))


def test_run_with_fallback_uses_offline_path_with_a_notice_on_llm_error():
    notices: list[str] = []

    def online():
        raise LLMError("cannot reach http://127.0.0.1:1/v1", "is the server running?", "connection")

    assert run_with_fallback(online, lambda: "offline result", notices) == "offline result"
    assert len(notices) == 1
    assert "cannot reach http://127.0.0.1:1/v1" in notices[0] and "offline" in notices[0]
    assert run_with_fallback(lambda: "online result", lambda: "offline result", notices) == "online result"
    assert len(notices) == 1


# -- streaming ----------------------------------------------------------------------------------


def test_streaming_yields_chunks_in_order(server):
    server.script(Reply(text=STREAM_TEXT))
    llm = LLM(endpoint(server))
    chunks = list(llm.stream(MESSAGES))
    assert len(chunks) > 3
    assert "".join(chunks) == STREAM_TEXT
    assert chunks[0] == STREAM_TEXT[: server.chunk_size]
    assert server.requests[-1]["stream"] is True


def test_truncated_stream_raises_after_yielding_the_first_chunks(server):
    server.script(Reply(text=STREAM_TEXT, truncate_after=3))
    llm = LLM(endpoint(server))
    got: list[str] = []
    with pytest.raises(LLMError) as exc:
        for piece in llm.stream(MESSAGES):
            got.append(piece)
    assert "".join(got) == STREAM_TEXT[: 3 * server.chunk_size]
    assert "cut off" in exc.value.message
    assert len(llm.usage.records) == 1  # what arrived is still accounted for


def test_cancel_stops_a_stream_quietly(server):
    server.script(Reply(text=STREAM_TEXT, delay=0.05))
    llm = LLM(endpoint(server))
    cancel = threading.Event()
    got: list[str] = []
    for piece in llm.stream(MESSAGES, cancel=cancel):
        got.append(piece)
        if len(got) == 2:
            cancel.set()
    assert got == [STREAM_TEXT[:8], STREAM_TEXT[8:16]]


def test_cancel_returns_at_once_even_when_the_server_never_answers(server):
    # A silent server: the read would block until the 30 s timeout. Cancelling must not wait for
    # it, and the reader left behind must not keep the process alive at exit (a daemon thread).
    server.script(Reply(hang=True))
    llm = LLM(endpoint(server, timeout=30.0))
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    t = time.monotonic()
    assert list(llm.stream(MESSAGES, cancel=cancel)) == []
    assert time.monotonic() - t < 2.0
    readers = [th for th in threading.enumerate() if th.name == "llm-stream"]
    assert readers and all(th.daemon for th in readers)


# -- usage ----------------------------------------------------------------------------------------


def test_usage_is_recorded_from_the_servers_usage(server):
    server.script(Reply(text=STREAM_TEXT))
    llm = LLM(endpoint(server))
    llm.complete(MESSAGES, purpose="follow_up")
    expected = FakeOpenAI._usage(server.requests[-1], STREAM_TEXT)
    rec = llm.usage.records[-1]
    assert (rec.input_tokens, rec.output_tokens) == (expected["prompt_tokens"], expected["completion_tokens"])
    assert rec.counted is False
    assert rec.purpose == "follow_up" and rec.model == "test-model"
    assert llm.usage.total_tokens == expected["total_tokens"]


def test_streaming_usage_is_recorded_from_the_servers_usage(server):
    server.script(Reply(text=STREAM_TEXT))
    llm = LLM(endpoint(server))
    list(llm.stream(MESSAGES))
    assert server.requests[-1].get("stream_options", {}).get("include_usage") is True
    expected = FakeOpenAI._usage(server.requests[-1], STREAM_TEXT)
    rec = llm.usage.records[-1]
    assert (rec.input_tokens, rec.output_tokens, rec.counted) == (expected["prompt_tokens"], expected["completion_tokens"], False)


@pytest.mark.parametrize("streaming", [False, True])
def test_usage_is_counted_when_the_server_sends_none(server, streaming):
    server.script(Reply(text=STREAM_TEXT, usage=False))
    llm = LLM(endpoint(server))
    if streaming:
        list(llm.stream(MESSAGES))
    else:
        llm.complete(MESSAGES)
    rec = llm.usage.records[-1]
    assert rec.counted is True
    assert rec.input_tokens > 0
    assert 5 <= rec.output_tokens <= 40  # ~4 characters per token for 89 characters


def test_counting_tokens_without_encoding_files_never_tries_to_download(server, tiktoken_downloads, monkeypatch, tmp_path):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "no-encodings"))
    server.script(Reply(text=STREAM_TEXT, usage=False))
    llm = LLM(endpoint(server))
    llm.complete(MESSAGES)
    assert llm.usage.records[-1].counted is True
    assert tiktoken_downloads == []


# -- keys ---------------------------------------------------------------------------------------


def test_placeholder_key_not_openai_api_key_goes_to_a_local_server_with_no_key(server, monkeypatch):
    secret = "sk-REAL-openai-key-must-not-travel"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    ep = resolve_endpoint(Overrides(base_url=server.base_url, model="test-model"), environ=dict(os.environ))
    assert ep.api_key is None
    ep.max_retries = 0
    LLM(ep).complete(MESSAGES)
    list(LLM(ep).stream(MESSAGES))
    list_models(ep)
    seen = auth_headers(server)
    assert len(seen) == 3
    assert all(h == f"Bearer {NO_KEY_PLACEHOLDER}" for h in seen)
    assert not any(secret in str(h) for h in server.headers)


# -- list_models --------------------------------------------------------------------------------


def test_list_models_returns_the_servers_model_ids(server):
    server.models = ["test-model", "llama3:8b", "qwen2.5"]
    ids, seconds = list_models(endpoint(server))
    assert ids == ["test-model", "llama3:8b", "qwen2.5"]
    assert 0 <= seconds < 5


def test_list_models_maps_failures_to_llm_errors(server):
    with pytest.raises(LLMError) as exc:
        list_models(Endpoint(offline=False, base_url=f"http://127.0.0.1:{unused_port()}/v1", model="m"), timeout=2.0)
    assert exc.value.kind == "connection"
    server.require_key = "k"
    with pytest.raises(LLMError) as exc:
        list_models(endpoint(server, api_key="nope"))
    assert exc.value.kind == "auth"


def test_method_cache_is_per_endpoint_and_model(server):
    server.reject_response_format = True
    a = server
    with FakeOpenAI() as b:
        a.script(Reply(json=GOOD))
        b.script(Reply(json=GOOD))
        LLM(endpoint(a)).structured(Verdict, MESSAGES)
        LLM(endpoint(b)).structured(Verdict, MESSAGES)
        assert b.requests[0].get("response_format")  # b still starts with json_schema
        assert llm_mod._method_cache[(a.base_url, "test-model")] == "function_calling"
        assert llm_mod._method_cache[(b.base_url, "test-model")] == "json_schema"
