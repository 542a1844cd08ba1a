"""Token-aware chunking with the embedding model's own tokenizer.

A document is split at headings first (LangChain's MarkdownHeaderTextSplitter), then each section
at paragraphs, lines, sentences and words (RecursiveCharacterTextSplitter whose length function is
the MiniLM tokenizer), with overlap. What the model embeds is `title > heading path` + the chunk
text, and that whole string, with [CLS] and [SEP], stays within MAX_TOKENS = 128: the length
all-MiniLM-L6-v2 was trained at (it accepts 256, but quality drops past 128).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Callable

from interviewer.knowledge.loaders import Document

MAX_TOKENS = 128
OVERLAP_TOKENS = 24
MIN_BODY_TOKENS = 48
SPECIAL_TOKENS = 2  # [CLS] and [SEP]
# Bump when chunking or the embedded text changes: every file is then re-indexed on next ingest.
CHUNKER_VERSION = "2"

_PARA = "\u2042\u2042"  # a printable marker: MarkdownHeaderTextSplitter drops blank lines
_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")]
_LONG_RUN = re.compile(r"\S{200,}")
_MD_NOISE = re.compile(r"(\*\*|__|`)")
_SPACES = re.compile(r"[ \t]+\n")


@dataclass
class Piece:
    index: int
    text: str  # the chunk as shown and cited
    heading: str  # heading path inside the document, e.g. "Fixing it > Platt scaling"
    embed_text: str  # what the model embeds: title and heading path, then the text
    tokens: int  # model tokens of embed_text, special tokens included


def heading_prefix(title: str, heading: str) -> str:
    return f"{title} > {heading}" if heading else title


def _sections(doc: Document) -> list[tuple[str, str]]:
    """(heading path, text) in document order."""
    if doc.kind == "pdf" and doc.pages:
        return [(f"page {i}", p) for i, p in enumerate(doc.pages, 1) if p.strip()]
    if doc.kind == "text":
        return [("", doc.text)]
    from langchain_text_splitters import MarkdownHeaderTextSplitter

    marked = re.sub(r"\n[ \t]*\n+", f"\n{_PARA}\n", doc.text)
    splitter = MarkdownHeaderTextSplitter(headers_to_split_on=_HEADERS, strip_headers=True)
    out = []
    for part in splitter.split_text(marked):
        names = [part.metadata[k].strip() for _, k in _HEADERS if part.metadata.get(k)]
        if names and names[0].lower() == doc.title.strip().lower():
            names = names[1:]  # the H1 that repeats the title adds nothing
        text = part.page_content.replace("  \n", "\n")
        text = re.sub(rf"\n?{_PARA}\n?", "\n\n", text).replace(_PARA, "")
        text = re.sub(r"\n{3,}", "\n\n", text).strip()
        if text:
            out.append((" > ".join(names), text))
    return out


def _splitter(budget: int, overlap: int, count: Callable[[str], int]):
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=budget,
        chunk_overlap=min(overlap, budget // 3),
        length_function=count,
        separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
        keep_separator="end",
        strip_whitespace=True,
    )


class _SectionCounter:
    """Token counts of substrings of one section from a single tokenizer pass.

    The splitter asks for the length of many pieces of the same section; encoding each one costs
    ~50-200 us. BERT's pre-tokenizer splits at whitespace and punctuation, so a piece cut at a
    separator holds exactly the tokens whose offsets fall inside it: count those with bisect.
    """

    def __init__(self, text: str, tokenizer):
        self.text = text
        self.tokenizer = tokenizer
        enc = tokenizer.encode(text, add_special_tokens=False)
        self.starts = [a for a, _ in enc.offsets]
        self.ends = [b for _, b in enc.offsets]
        self.total = len(self.starts)

    def __call__(self, piece: str) -> int:
        if not piece:
            return 0
        if piece == self.text:
            return self.total
        pos = self.text.find(piece)
        if pos < 0:  # the splitter rejoined pieces differently: count it directly
            return len(self.tokenizer.encode(piece, add_special_tokens=False).ids)
        end = pos + len(piece)
        return max(0, bisect.bisect_right(self.ends, end) - bisect.bisect_left(self.starts, pos))


def _hard_split(text: str, budget: int, tokenizer) -> list[str]:
    """Last resort for a piece the recursive splitter could not bring under budget."""
    enc = tokenizer.encode(text, add_special_tokens=False)
    out = []
    for start in range(0, len(enc.offsets), budget):
        span = enc.offsets[start : start + budget]
        out.append(text[span[0][0] : span[-1][1]])
    return [t for t in out if t.strip()]


def _truncate(text: str, max_tokens: int, tokenizer) -> str:
    enc = tokenizer.encode(text, add_special_tokens=False)
    if len(enc.ids) <= max_tokens:
        return text
    return text[: enc.offsets[max_tokens - 1][1]]


def chunk_document(
    doc: Document,
    tokenizer,
    max_tokens: int = MAX_TOKENS,
    overlap: int = OVERLAP_TOKENS,
) -> list[Piece]:
    """Split a document into pieces whose embedded text is at most `max_tokens` model tokens.

    `tokenizer` is the model's `tokenizers.Tokenizer` (without truncation): `get_embedder().tokenizer`.
    """
    prefix_counts: dict[str, int] = {}

    def count_prefix(prefix: str) -> int:
        if prefix not in prefix_counts:
            prefix_counts[prefix] = len(tokenizer.encode(prefix, add_special_tokens=False).ids)
        return prefix_counts[prefix]

    pieces: list[Piece] = []
    room = max_tokens - SPECIAL_TOKENS
    for heading, text in _sections(doc):
        text = _LONG_RUN.sub(lambda m: m.group(0)[:60] + "\u2026", text)
        text = _SPACES.sub("\n", text)
        prefix = heading_prefix(doc.title, heading)
        prefix_tokens = count_prefix(prefix)
        if prefix_tokens > room - MIN_BODY_TOKENS:
            prefix = _truncate(prefix, room - MIN_BODY_TOKENS, tokenizer)
            prefix_tokens = count_prefix(prefix)
        budget = room - prefix_tokens
        counter = _SectionCounter(text, tokenizer)
        parts = [text] if counter.total <= budget else _splitter(budget, overlap, counter).split_text(text)
        for part in parts:
            part = part.strip()
            if not part:
                continue
            n = counter(part)
            subparts = [(part, n)] if n <= budget else [(sp, counter(sp)) for sp in _hard_split(part, budget, tokenizer)]
            for sp, n in subparts:
                embed = f"{prefix}\n{_MD_NOISE.sub('', sp)}"
                pieces.append(Piece(len(pieces), sp, heading, embed, prefix_tokens + n + SPECIAL_TOKENS))
    return pieces
