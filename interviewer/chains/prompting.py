"""Prompt files: prompts/<name>.md with a version in front matter and `## system` / `## user` parts.

The version goes into every record a chain writes (grades, profiles, eval results, caches), so a
change of prompt is visible in history and invalidates cached eval results.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import yaml

from interviewer.settings import prompts_dir


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    system: str
    user: str

    def render_user(self, **values: str) -> str:
        # str.replace, not str.format: answers and postings are full of braces.
        out = self.user
        for k, v in values.items():
            out = out.replace("{" + k + "}", v)
        return out


@functools.lru_cache(maxsize=None)
def load_prompt(name: str) -> Prompt:
    text = (prompts_dir() / f"{name}.md").read_text(encoding="utf-8")
    m = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
    if not m:
        raise ValueError(f"prompts/{name}.md has no front matter")
    meta = yaml.safe_load(m.group(1))
    body = m.group(2)
    parts = dict(re.findall(r"^## (system|user)\n(.*?)(?=^## (?:system|user)\n|\Z)", body, re.S | re.M))
    return Prompt(name=name, version=str(meta["version"]), system=parts["system"].strip(), user=parts["user"].strip())
