"""Counting LLM tokens without ever downloading anything.

tiktoken fetches its encoding files on first use, which cannot work offline. The set-up script
copies the files (named by the sha1 of their download URL, as tiktoken expects) into
`<prefix>/share/mock-interviewer/tiktoken`; we point TIKTOKEN_CACHE_DIR there unless the user set
it. When no file is available we fall back to an estimate of 4 characters per token (the usual
figure for English text with OpenAI's encodings), and `interviewer doctor` says so.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from pathlib import Path

CHARS_PER_TOKEN = 4.0
BUNDLED_CACHE = Path(sys.prefix) / "share" / "mock-interviewer" / "tiktoken"


def _ensure_cache_env() -> None:
    if "TIKTOKEN_CACHE_DIR" not in os.environ and BUNDLED_CACHE.exists():
        os.environ["TIKTOKEN_CACHE_DIR"] = str(BUNDLED_CACHE)


@functools.lru_cache(maxsize=16)
def _encoding_for(model: str | None):
    """Return a tiktoken Encoding, or None when its file is not on this machine."""
    _ensure_cache_env()
    try:
        import tiktoken
    except ImportError:  # pragma: no cover - tiktoken is a hard dependency
        return None
    names = []
    if model:
        try:
            names.append(tiktoken.encoding_name_for_model(model))
        except KeyError:
            pass
    # Unknown (local) models: o200k_base is the newest OpenAI encoding and a fair proxy.
    names += ["o200k_base", "cl100k_base"]
    for name in names:
        if not _file_present(name):
            continue  # get_encoding would try to download it
        try:
            return tiktoken.get_encoding(name)
        except Exception:  # a missing file raises a network error; never let it escape
            continue
    return None


_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "p50k_base": "https://openaipublic.blob.core.windows.net/encodings/p50k_base.tiktoken",
    "r50k_base": "https://openaipublic.blob.core.windows.net/encodings/r50k_base.tiktoken",
}


def _file_present(name: str) -> bool:
    """tiktoken caches each file under the sha1 of its URL; only use encodings already there."""
    cache = os.environ.get("TIKTOKEN_CACHE_DIR")
    url = _URLS.get(name)
    if not cache or not url:
        return False
    return (Path(cache) / hashlib.sha1(url.encode()).hexdigest()).exists()


def count_tokens(text: str, model: str | None = None) -> int:
    enc = _encoding_for(model)
    if enc is None:
        return max(1, int(len(text) / CHARS_PER_TOKEN + 0.5)) if text else 0
    return len(enc.encode(text, disallowed_special=()))


def truncate_to_tokens(text: str, budget: int, model: str | None = None) -> tuple[str, bool]:
    """Cut text to at most `budget` tokens; returns (text, was_truncated)."""
    enc = _encoding_for(model)
    if enc is None:
        limit = int(budget * CHARS_PER_TOKEN)
        return (text, False) if len(text) <= limit else (text[:limit], True)
    ids = enc.encode(text, disallowed_special=())
    if len(ids) <= budget:
        return text, False
    return enc.decode(ids[:budget]), True


def status(model: str | None = None) -> dict:
    enc = _encoding_for(model)
    if enc is None:
        return {
            "method": "estimate",
            "detail": f"no tiktoken encoding files found; estimating {CHARS_PER_TOKEN:g} characters per token "
            "(run `make setup` to install them)",
        }
    return {"method": "tiktoken", "encoding": enc.name, "cache": os.environ.get("TIKTOKEN_CACHE_DIR")}
