"""Chat models for any OpenAI-compatible endpoint (OpenAI, Ollama, llama.cpp, vLLM, LM Studio).

One factory builds LangChain's ChatOpenAI; `LLM` wraps it with what real servers need:
- timeouts (connect and read) and retries with exponential backoff on 429, 5xx and connection
  errors (the openai SDK's own retry loop, which honours Retry-After);
- structured output into pydantic models: json_schema where the server accepts it, else tool
  calling, else JSON in plain text (code fences stripped) with one repair attempt; the method that
  worked is remembered per endpoint so later calls skip the failures;
- streaming for interviewer turns, cancellable between chunks;
- a usage record for every call (from the server's usage, else counted with tiktoken).
Errors come out as LLMError: one line a person can act on. LangChain and openai are imported
lazily: building the CLI must stay instant.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence, TypeVar

from pydantic import BaseModel, ValidationError

from interviewer.errors import UserError
from interviewer.settings import Endpoint
from interviewer.tokens import count_tokens

T = TypeVar("T", bound=BaseModel)

# The SDK falls back to OPENAI_API_KEY when api_key is None; a placeholder stops a key meant for
# OpenAI from travelling to a local server that needs none.
NO_KEY_PLACEHOLDER = "not-needed"

STRUCTURED_METHODS = ("json_schema", "function_calling", "text_json")


class LLMError(UserError):
    """The endpoint could not do the job; callers may fall back to offline with a notice."""

    def __init__(self, message: str, hint: str = "", kind: str = "error"):
        super().__init__(message, hint)
        self.kind = kind  # connection | auth | model | rate_limit | timeout | server | format


@dataclass
class Usage:
    purpose: str
    model: str
    input_tokens: int
    output_tokens: int
    duration: float
    counted: bool  # True when the server gave no usage and we counted ourselves
    method: str = ""


@dataclass
class UsageLog:
    records: list[Usage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, u: Usage) -> None:
        with self._lock:
            self.records.append(u)
        for bucket in getattr(_scopes, "buckets", ()):
            bucket.append(u)

    @contextlib.contextmanager
    def scope(self) -> Iterator[list[Usage]]:
        """The usage of the calls this thread makes inside the block. Graders run concurrently
        (an eval at --concurrency 8), so a before/after difference of the total would count
        other threads' calls too."""
        bucket: list[Usage] = []
        _scopes.buckets = [*getattr(_scopes, "buckets", ()), bucket]
        try:
            yield bucket
        finally:
            _scopes.buckets = [b for b in _scopes.buckets if b is not bucket]

    @property
    def total_tokens(self) -> int:
        return sum(r.input_tokens + r.output_tokens for r in self.records)


_scopes = threading.local()
_method_cache: dict[tuple[str | None, str | None], str] = {}
_method_lock = threading.Lock()


def build_chat_model(endpoint: Endpoint, *, streaming: bool = False, temperature: float | None = None):
    """LangChain's ChatOpenAI for this endpoint."""
    import httpx
    from langchain_openai import ChatOpenAI

    kwargs: dict[str, Any] = dict(
        model=endpoint.model,
        api_key=endpoint.api_key or NO_KEY_PLACEHOLDER,
        timeout=httpx.Timeout(endpoint.timeout, connect=endpoint.connect_timeout),
        max_retries=endpoint.max_retries,
        temperature=endpoint.temperature if temperature is None else temperature,
        streaming=streaming,
    )
    if endpoint.base_url:
        kwargs["base_url"] = endpoint.base_url
    if streaming:
        kwargs["stream_usage"] = True
    return ChatOpenAI(**kwargs)


def strip_code_fences(text: str) -> str:
    text = text.strip()
    m = re.search(r"```(?:json|JSON)?\s*\n?(.*?)```", text, re.S)
    if m:
        return m.group(1).strip()
    # Some models add prose around the object: take the outermost braces.
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        return text[start : end + 1]
    return text


def _describe_error(exc: Exception, endpoint: Endpoint) -> LLMError:
    import openai

    where = endpoint.base_url or "api.openai.com"
    if isinstance(exc, openai.AuthenticationError):
        src = endpoint.api_key_source or "no key"
        return LLMError(
            f"{where} rejected the API key ({src})", "check the key, or run with --offline", "auth"
        )
    if isinstance(exc, openai.NotFoundError):
        return LLMError(
            f"model {endpoint.model!r} is not available at {where}",
            "run `interviewer doctor` to list the models it has, then pass --model",
            "model",
        )
    if isinstance(exc, openai.RateLimitError):
        return LLMError(f"{where} kept answering 429 (rate limited) after retries", "wait and retry, or use --offline", "rate_limit")
    if isinstance(exc, openai.APITimeoutError):
        return LLMError(
            f"{where} did not answer within {endpoint.timeout:g} s", "raise the profile's timeout, or use --offline", "timeout"
        )
    if isinstance(exc, openai.APIConnectionError):
        return LLMError(f"cannot reach {where}", "is the server running? check --base-url, or use --offline", "connection")
    if isinstance(exc, openai.InternalServerError):
        return LLMError(f"{where} failed with a server error after retries", "retry later, or use --offline", "server")
    if isinstance(exc, openai.APIStatusError):
        return LLMError(f"{where} answered HTTP {exc.status_code}: {_short(exc.message)}", "see `interviewer doctor`", "server")
    return LLMError(f"the model call failed: {type(exc).__name__}: {_short(str(exc))}", "retry with -v for details", "error")


def _short(s: str, n: int = 160) -> str:
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _usage_from(msg: Any) -> tuple[int, int] | None:
    meta = getattr(msg, "usage_metadata", None)
    if meta and (meta.get("input_tokens") or meta.get("output_tokens")):
        return int(meta.get("input_tokens") or 0), int(meta.get("output_tokens") or 0)
    return None


def _is_format_rejection(exc: Exception) -> bool:
    """Did the server refuse the request shape (response_format / tools), not the request itself?"""
    import openai

    if isinstance(exc, openai.BadRequestError) or (
        isinstance(exc, openai.APIStatusError) and exc.status_code in (400, 415, 422, 501)
    ):
        return True
    return False


class LLM:
    """A configured endpoint plus the call patterns the chains use."""

    def __init__(self, endpoint: Endpoint, usage: UsageLog | None = None):
        if endpoint.offline:
            raise ValueError("LLM needs an online endpoint")
        self.endpoint = endpoint
        self.usage = usage or UsageLog()
        self._chat = None

    @property
    def model_name(self) -> str:
        return self.endpoint.model or ""

    @property
    def chat(self):
        if self._chat is None:
            self._chat = build_chat_model(self.endpoint)
        return self._chat

    def _record(self, purpose: str, messages: Sequence[Any], reply: Any, text: str, t0: float, method: str) -> None:
        got = _usage_from(reply)
        if got:
            inp, out = got
            counted = False
        else:
            prompt_text = "\n".join(str(getattr(m, "content", m)) for m in messages)
            inp, out = count_tokens(prompt_text, self.model_name), count_tokens(text, self.model_name)
            counted = True
        self.usage.add(Usage(purpose, self.model_name, inp, out, time.monotonic() - t0, counted, method))

    # -- plain and streaming text ----------------------------------------------------------
    def complete(self, messages: Sequence[Any], purpose: str = "chat") -> str:
        t0 = time.monotonic()
        try:
            reply = self.chat.invoke(list(messages))
        except Exception as exc:
            raise _describe_error(exc, self.endpoint) from exc
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
        self._record(purpose, messages, reply, text, t0, "text")
        return text

    def stream(
        self, messages: Sequence[Any], purpose: str = "stream", cancel: threading.Event | None = None
    ) -> Iterator[str]:
        """Yield text chunks as they arrive; stops quietly when `cancel` is set.

        A stream that breaks off midway raises LLMError after the chunks already yielded, so
        the caller keeps what was shown and can say the reply was cut.
        """
        import queue

        t0 = time.monotonic()
        model = build_chat_model(self.endpoint, streaming=True)
        parts: list[str] = []
        last = None
        inbox: queue.Queue = queue.Queue()

        def read() -> None:
            # The HTTP read runs in a daemon thread: a silent server cannot hold this generator
            # (cancel returns at once) nor the process at exit (a worker thread blocked in a read
            # would keep it alive until the read timeout).
            try:
                for chunk in model.stream(list(messages)):
                    inbox.put(("chunk", chunk))
                    if cancel is not None and cancel.is_set():
                        break
                inbox.put(("done", None))
            except Exception as exc:  # handed to the caller's thread below
                inbox.put(("error", exc))

        threading.Thread(target=read, name="llm-stream", daemon=True).start()
        while True:
            try:
                kind, item = inbox.get(timeout=0.1)
            except queue.Empty:
                if cancel is not None and cancel.is_set():
                    break
                continue
            if kind == "done" or (cancel is not None and cancel.is_set()):
                break
            if kind == "error":
                self._record(purpose, messages, last, "".join(parts), t0, "stream")
                raise _describe_error(item, self.endpoint) from item
            last = item if last is None else last + item
            piece = item.content if isinstance(item.content, str) else ""
            if piece:
                parts.append(piece)
                yield piece
        self._record(purpose, messages, last, "".join(parts), t0, "stream")
        cancelled = cancel is not None and cancel.is_set()
        finish = (getattr(last, "response_metadata", None) or {}).get("finish_reason") if last is not None else None
        if not cancelled and finish is None:
            # The server closed the stream without a finish_reason: the reply was cut off.
            raise LLMError("the model's reply was cut off mid-stream", "what arrived is kept; retry the turn", "server")

    # -- structured output -----------------------------------------------------------------
    def structured(self, schema: type[T], messages: Sequence[Any], purpose: str = "structured") -> T:
        key = (self.endpoint.base_url, self.endpoint.model)
        with _method_lock:
            known = _method_cache.get(key)
        methods = [known] + [m for m in STRUCTURED_METHODS if m != known] if known else list(STRUCTURED_METHODS)
        last_exc: Exception | None = None
        for method in methods:
            try:
                result = self._structured_with(method, schema, messages, purpose)
            except _TryNext as exc:
                last_exc = exc.cause
                continue
            with _method_lock:
                _method_cache[key] = method
            return result
        if isinstance(last_exc, LLMError):
            raise last_exc
        raise LLMError(
            f"{self.endpoint.model} did not return valid {schema.__name__} JSON by any method",
            "try a stronger model, or use --offline",
            "format",
        )

    def _structured_with(self, method: str, schema: type[T], messages: Sequence[Any], purpose: str) -> T:
        t0 = time.monotonic()
        if method == "text_json":
            return self._text_json(schema, messages, purpose, t0)
        try:
            runnable = self.chat.with_structured_output(schema, method=method, include_raw=True)
            out = runnable.invoke(list(messages))
        except Exception as exc:
            if _is_format_rejection(exc):
                raise _TryNext(exc)
            raise _describe_error(exc, self.endpoint) from exc
        raw = out.get("raw")
        parsed = out.get("parsed")
        text = getattr(raw, "content", "") or ""
        self._record(purpose, messages, raw, text if isinstance(text, str) else str(text), t0, method)
        if parsed is None:
            # The server accepted the request but ignored the format (common with local servers).
            # Its text may still hold the JSON.
            if isinstance(text, str) and text.strip():
                try:
                    return schema.model_validate_json(strip_code_fences(text))
                except (ValidationError, ValueError):
                    pass
            raise _TryNext(out.get("parsing_error") or ValueError("no structured output"))
        if isinstance(parsed, schema):
            return parsed
        return schema.model_validate(parsed)

    def _text_json(self, schema: type[T], messages: Sequence[Any], purpose: str, t0: float) -> T:
        from langchain_core.messages import AIMessage, HumanMessage

        instruction = HumanMessage(
            content=(
                "Reply with one JSON object only, no prose and no code fences, that validates against "
                f"this JSON schema:\n{json.dumps(schema.model_json_schema())}"
            )
        )
        convo = list(messages) + [instruction]
        text = self.complete(convo, purpose)
        try:
            return schema.model_validate_json(strip_code_fences(text))
        except (ValidationError, ValueError) as err:
            # One repair attempt: show the model its own output and the validation error.
            repair = HumanMessage(
                content=f"That JSON was invalid: {_short(str(err), 600)}\nReply again with only the corrected JSON object."
            )
            text2 = self.complete(convo + [AIMessage(content=text), repair], purpose + ":repair")
            try:
                return schema.model_validate_json(strip_code_fences(text2))
            except (ValidationError, ValueError) as err2:
                raise _TryNext(err2)


class _TryNext(Exception):
    def __init__(self, cause: Exception):
        super().__init__(str(cause))
        self.cause = cause


def list_models(endpoint: Endpoint, timeout: float = 5.0) -> tuple[list[str], float]:
    """GET /v1/models through the openai SDK; returns (model ids, seconds)."""
    import openai

    client = openai.OpenAI(
        api_key=endpoint.api_key or NO_KEY_PLACEHOLDER,
        base_url=endpoint.base_url,
        timeout=timeout,
        max_retries=0,
    )
    t0 = time.monotonic()
    try:
        page = client.models.list()
        ids = [m.id for m in page.data]
    except Exception as exc:
        raise _describe_error(exc, endpoint) from exc
    finally:
        client.close()
    return ids, time.monotonic() - t0


def run_with_fallback(online: Callable[[], T], offline: Callable[[], T], notices: list[str]) -> T:
    """Try the LLM path; on LLMError, note it plainly and use the offline path instead."""
    try:
        return online()
    except LLMError as exc:
        notices.append(f"the model endpoint failed ({exc.message}); graded offline instead")
        return offline()
