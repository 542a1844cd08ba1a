"""A loopback OpenAI-compatible server for tests.

It speaks just enough of the API for the real openai/LangChain clients: GET /v1/models and
POST /v1/chat/completions, non-streaming and SSE streaming. Tests script the replies and inject
failures (latency, 429, 500, malformed JSON, a server that rejects response_format or tools,
JSON in code fences, a truncated stream, a hang). Every request body is recorded for assertions.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Reply:
    text: str | None = None  # plain assistant content
    json: Any = None  # a structured payload: sent as a tool call or as content, as the request asks
    status: int = 200
    error_body: str | None = None
    delay: float = 0.0
    raw_body: str | None = None  # sent verbatim (malformed JSON tests)
    hang: bool = False  # never answer (until the server stops)
    truncate_after: int | None = None  # streaming: drop the connection after N chunks
    fence: bool = False  # wrap JSON content in ```json fences
    usage: bool = True
    retry_after: float | None = None


@dataclass
class FakeOpenAI:
    models: list[str] = field(default_factory=lambda: ["test-model"])
    reject_response_format: bool = False
    reject_tools: bool = False
    ignore_tools: bool = False  # answer tool requests with plain content, like some local servers
    require_key: str | None = None
    default: Reply | Callable[[dict], Reply] | None = None
    chunk_size: int = 8

    def reset(self) -> None:
        """Back to a fresh server's behaviour, for a server shared by a module's tests."""
        self.queue.clear()
        self.requests.clear()
        self.headers.clear()
        self.default = None
        self.models = ["test-model"]
        self.reject_response_format = self.reject_tools = self.ignore_tools = False
        self.require_key = None
        self.chunk_size = 8

    def __post_init__(self) -> None:
        self.queue: deque[Reply | Callable[[dict], Reply]] = deque()
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- control ----------------------------------------------------------------------------
    def script(self, *replies: Reply | Callable[[dict], Reply]) -> "FakeOpenAI":
        with self._lock:
            self.queue.extend(replies)
        return self

    def next_reply(self, body: dict) -> Reply:
        with self._lock:
            item = self.queue.popleft() if self.queue else self.default
        if item is None:
            return Reply(text="ok")
        return item(body) if callable(item) else item

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "FakeOpenAI":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stall per request

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, status: int, body: str, ctype: str = "application/json", extra: dict | None = None) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _auth_ok(self) -> bool:
                if fake.require_key is None:
                    return True
                if self.headers.get("Authorization") == f"Bearer {fake.require_key}":
                    return True
                self._send(401, json.dumps({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}}))
                return False

            def do_GET(self) -> None:
                fake.headers.append(dict(self.headers))
                if not self._auth_ok():
                    return
                if self.path.rstrip("/").endswith("/models"):
                    data = [{"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in fake.models]
                    self._send(200, json.dumps({"object": "list", "data": data}))
                else:
                    self._send(404, json.dumps({"error": {"message": "not found"}}))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(body)
                    fake.headers.append(dict(self.headers))
                if not self._auth_ok():
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, json.dumps({"error": {"message": "not found"}}))
                    return
                if body.get("model") not in fake.models:
                    self._send(404, json.dumps({"error": {"message": f"model '{body.get('model')}' not found", "type": "invalid_request_error", "code": "model_not_found"}}))
                    return
                if fake.reject_response_format and body.get("response_format"):
                    self._send(400, json.dumps({"error": {"message": "response_format is not supported"}}))
                    return
                if fake.reject_tools and body.get("tools"):
                    self._send(400, json.dumps({"error": {"message": "tools are not supported"}}))
                    return
                reply = fake.next_reply(body)
                if reply.hang:
                    fake._stop.wait(60)
                    return
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.status != 200:
                    extra = {"Retry-After": str(reply.retry_after)} if reply.retry_after is not None else None
                    err = reply.error_body or json.dumps({"error": {"message": f"injected {reply.status}"}})
                    self._send(reply.status, err, extra=extra)
                    return
                if reply.raw_body is not None:
                    self._send(200, reply.raw_body)
                    return
                message = fake._message_for(body, reply)
                if body.get("stream"):
                    self._stream(body, reply, message)
                else:
                    self._send(200, json.dumps(fake._completion(body, message, reply)))

            def _stream(self, body: dict, reply: Reply, message: dict) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                cid = "chatcmpl-" + uuid.uuid4().hex[:12]
                text = message.get("content") or ""
                pieces = [text[i : i + fake.chunk_size] for i in range(0, len(text), fake.chunk_size)] or [""]
                for n, piece in enumerate(pieces):
                    if reply.truncate_after is not None and n >= reply.truncate_after:
                        self.wfile.flush()
                        self.close_connection = True
                        return  # connection drops mid-stream, no [DONE]
                    delta = {"content": piece} if n else {"role": "assistant", "content": piece}
                    chunk = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": body["model"], "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    if reply.delay:
                        time.sleep(min(reply.delay, 0.05))
                final = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": body["model"], "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(final)}\n\n".encode())
                if reply.usage and (body.get("stream_options") or {}).get("include_usage"):
                    usage = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": body["model"], "choices": [], "usage": fake._usage(body, text)}
                    self.wfile.write(f"data: {json.dumps(usage)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- reply shapes -----------------------------------------------------------------------
    def _message_for(self, body: dict, reply: Reply) -> dict:
        if reply.json is not None:
            payload = json.dumps(reply.json)
            if body.get("tools") and not self.ignore_tools:
                name = body["tools"][0]["function"]["name"]
                return {"role": "assistant", "content": None, "tool_calls": [{"id": "call_" + uuid.uuid4().hex[:8], "type": "function", "function": {"name": name, "arguments": payload}}]}
            content = f"```json\n{payload}\n```" if reply.fence else payload
            return {"role": "assistant", "content": content}
        return {"role": "assistant", "content": reply.text if reply.text is not None else ""}

    @staticmethod
    def _usage(body: dict, text: str) -> dict:
        prompt = sum(len(str(m.get("content") or "")) for m in body.get("messages", [])) // 4 + 1
        out = len(text) // 4 + 1
        return {"prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out}

    def _completion(self, body: dict, message: dict, reply: Reply) -> dict:
        text = message.get("content") or json.dumps(message.get("tool_calls") or "")
        out = {
            "id": "chatcmpl-" + uuid.uuid4().hex[:12],
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
        }
        if reply.usage:
            out["usage"] = self._usage(body, text)
        return out
