"""The bundled topic notes' front matter (title, topics, domains, level), read without the index."""

from __future__ import annotations

import functools
import re

import yaml

from interviewer.settings import corpus_dir

_FRONT = re.compile(r"^---\n(.*?)\n---\n", re.S)


def parse_front_matter(text: str) -> tuple[dict, str]:
    m = _FRONT.match(text)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError:
        meta = {}
    return (meta if isinstance(meta, dict) else {}), text[m.end() :]


@functools.lru_cache(maxsize=1)
def note_index() -> tuple[dict, ...]:
    out = []
    for path in sorted((corpus_dir() / "notes").glob("*.md")):
        meta, _ = parse_front_matter(path.read_text(encoding="utf-8"))
        out.append(
            {
                "id": path.stem,
                "path": str(path),
                "title": meta.get("title", path.stem),
                "topics": list(meta.get("topics") or []),
                "domains": list(meta.get("domains") or []),
                "level": meta.get("level", ""),
            }
        )
    return tuple(out)
