"""Loaders: one file -> a `Document` (Markdown-ish text plus metadata), or a `LoadError` saying why not.

Supported: Markdown (YAML front matter: title, topics, domains, level, company), plain text, HTML
(saved blog posts: the article is extracted with trafilatura, so navigation, footers and cookie
banners are dropped; headings come back as Markdown) and PDF (papers: the text layer via pypdf).

Heavy libraries (trafilatura, pypdf) are imported only when a file of that kind is loaded.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd")
TEXT_SUFFIXES = (".txt", ".text", ".rst", "")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
PDF_SUFFIXES = (".pdf",)
SUPPORTED_SUFFIXES = MARKDOWN_SUFFIXES + TEXT_SUFFIXES[:-1] + HTML_SUFFIXES + PDF_SUFFIXES
MAX_FILE_BYTES = 50 * 1024 * 1024
MIN_TEXT_CHARS = 20  # less than this after extraction is not worth an index entry


class LoadError(Exception):
    """A file that cannot be ingested; the message is the reason shown to the user."""


@dataclass
class Document:
    source: str  # what chunks cite: an absolute path, or notes/<name>.md for a bundled note
    text: str  # Markdown (headings as #) or plain text
    kind: str  # markdown | text | html | pdf
    title: str
    content_hash: str  # sha256 of the file's bytes
    topics: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    company: str | None = None
    level: str = ""
    pages: list[str] | None = None  # PDF: text per page (chunks cite the page in their heading)


def kind_for(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in PDF_SUFFIXES:
        return "pdf"
    if suffix in TEXT_SUFFIXES:
        return "text"
    return None


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: Path) -> bytes:
    """Read a file with the reasons a user can act on (missing, folder, unreadable, too large)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise LoadError("does not exist")
    except OSError as exc:
        raise LoadError(f"cannot be read ({exc.strerror or exc})")
    if path.is_dir():
        raise LoadError("is a folder")
    if st.st_size > MAX_FILE_BYTES:
        raise LoadError(f"is too large ({st.st_size / 1e6:.0f} MB; the limit is {MAX_FILE_BYTES / 1e6:.0f} MB)")
    try:
        return path.read_bytes()
    except PermissionError:
        raise LoadError("permission denied")
    except OSError as exc:
        raise LoadError(f"cannot be read ({exc.strerror or exc})")


def load_file(path: Path, source: str | None = None, data: bytes | None = None) -> Document:
    """Load one file. `data` (its bytes) may be passed when the caller already read them."""
    kind = kind_for(path)
    if kind is None:
        raise LoadError(
            f"unsupported file type {path.suffix or '(none)'} "
            f"(supported: Markdown, text, HTML, PDF: {', '.join(SUPPORTED_SUFFIXES)})"
        )
    if data is None:
        data = read_bytes(path)
    if not data.strip():
        raise LoadError("is empty")
    source = source or str(path)
    digest = content_hash(data)
    if kind == "pdf":
        return _load_pdf(path, data, source, digest)
    if _looks_binary(data):
        raise LoadError("is a binary file, not text")
    if kind == "html":
        return _load_html(path, data, source, digest)
    text = _decode_text(data)
    if kind == "markdown":
        return _load_markdown(path, text, source, digest)
    return _load_text(path, text, source, digest)


# ------------------------------------------------------------------------------------------------
# text decoding


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a BOM is text
        return False
    if b"\x00" in head:
        return True
    # Many control characters (other than tab, newline, form feed, carriage return, escape) = binary.
    ctrl = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return ctrl > max(8, len(head) // 50)


def _decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _normalise(data.decode("utf-16"))
        except UnicodeDecodeError:
            raise LoadError("is not valid UTF-16 text")
    try:
        return _normalise(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"is not UTF-8 text (invalid byte at offset {exc.start}); "
            "re-save it as UTF-8, e.g. iconv -f latin1 -t utf-8 FILE > FILE.utf8"
        )


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def pretty_stem(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip() or path.name


# ------------------------------------------------------------------------------------------------
# Markdown and text

_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)


def _str_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def _load_markdown(path: Path, text: str, source: str, digest: str) -> Document:
    from interviewer.knowledge.notes import parse_front_matter

    meta, body = parse_front_matter(text)
    if not body.strip() or len(body.strip()) < MIN_TEXT_CHARS and not meta:
        raise LoadError("has no text" if not body.strip() else "has almost no text")
    title = meta.get("title")
    if not title:
        m = _H1.search(body)
        title = m.group(1).strip() if m else pretty_stem(path)
    company = meta.get("company") or meta.get("sitename")
    return Document(
        source=source,
        text=body,
        kind="markdown",
        title=str(title),
        content_hash=digest,
        topics=_str_list(meta.get("topics")),
        domains=_str_list(meta.get("domains")),
        company=str(company).strip() if company else None,
        level=str(meta.get("level") or ""),
    )


def _load_text(path: Path, text: str, source: str, digest: str) -> Document:
    if len(text.strip()) < MIN_TEXT_CHARS:
        raise LoadError("has almost no text")
    return Document(source=source, text=text, kind="text", title=pretty_stem(path), content_hash=digest)


# ------------------------------------------------------------------------------------------------
# HTML

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_SITE_SUFFIX = re.compile(
    r"\s*(?:[-|:·–—]\s*)?\b(?:engineering|tech(?:nology)?|tech ?blog|developers?|research|ai|ml|data science|"
    r"blog|newsroom|medium|news|engineering blog)\b\s*$",
    re.I,
)


def _decode_html(data: bytes) -> str:
    try:
        return _normalise(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    m = _META_CHARSET.search(data[:4096])
    if m:
        try:
            return _normalise(data.decode(m.group(1).decode("ascii")))
        except (LookupError, UnicodeDecodeError):
            pass
    raise LoadError("is not UTF-8 and declares no usable charset; re-save it as UTF-8")


def company_from_sitename(sitename: str | None) -> str | None:
    """'Netflix TechBlog' -> 'Netflix', 'Uber Engineering Blog' -> 'Uber'; None when nothing is left."""
    if not sitename:
        return None
    name = sitename.strip()
    for _ in range(3):
        new = _SITE_SUFFIX.sub("", name).strip(" -|:·–—")
        if new == name:
            break
        name = new
    return name or sitename.strip() or None


def _load_html(path: Path, data: bytes, source: str, digest: str) -> Document:
    import logging

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    logging.getLogger("htmldate").setLevel(logging.CRITICAL)
    import trafilatura
    from trafilatura.metadata import extract_metadata

    html = _decode_html(data)
    try:
        body = trafilatura.extract(
            html,
            output_format="markdown",
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            with_metadata=False,
            deduplicate=False,
        )
    except Exception as exc:  # lxml parser failures on garbage
        raise LoadError(f"could not be parsed as HTML ({type(exc).__name__})")
    if not body or len(body.strip()) < MIN_TEXT_CHARS:
        raise LoadError("has no article text (nothing left after removing navigation, footers and banners)")
    title = sitename = None
    try:
        meta = extract_metadata(html)
        if meta is not None:
            title, sitename = meta.title, meta.sitename
    except Exception:
        pass
    m = re.search(r"^#\s+(.+)$", body, re.M)
    title = (title or (m.group(1) if m else None) or pretty_stem(path)).strip()
    return Document(
        source=source,
        text=_normalise(body),
        kind="html",
        title=title,
        content_hash=digest,
        company=company_from_sitename(sitename),
    )


# ------------------------------------------------------------------------------------------------
# PDF

_HYPHEN_BREAK = re.compile(r"(\w)-\n(\w)")


def _clean_pdf_page(text: str) -> str:
    text = _normalise(text)
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    lines = [ln.strip() for ln in text.split("\n")]
    # Reflow: a PDF line break inside a sentence is not a paragraph break.
    out: list[str] = []
    for ln in lines:
        if not ln:
            if out and out[-1] != "":
                out.append("")
            continue
        if out and out[-1] and not out[-1].endswith((".", ":", "?", "!")) and len(out[-1]) > 40:
            out[-1] = out[-1] + " " + ln
        else:
            out.append(ln)
    return "\n".join(out).strip()


def _load_pdf(path: Path, data: bytes, source: str, digest: str) -> Document:
    import io
    import logging

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise LoadError("is not a PDF file (no %PDF header)")
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:
                ok = 0
            if not ok:
                raise LoadError("is an encrypted PDF (remove the password first)")
        pages = []
        for page in reader.pages:
            try:
                pages.append(_clean_pdf_page(page.extract_text() or ""))
            except Exception:
                pages.append("")
        title = None
        try:
            info = reader.metadata
            title = (info.title or "").strip() if info else None
        except Exception:
            title = None
    except LoadError:
        raise
    except Exception as exc:
        raise LoadError(f"is a damaged or unreadable PDF ({type(exc).__name__}: {str(exc)[:80]})")
    text = "\n\n".join(p for p in pages if p)
    if len(text.strip()) < MIN_TEXT_CHARS:
        raise LoadError("has no text layer (a scanned PDF?); run OCR first, e.g. ocrmypdf IN.pdf OUT.pdf")
    if not title or title.lower() in ("untitled", "microsoft word"):
        first = next((ln for ln in text.split("\n") if len(ln.strip()) > 3), "")
        title = first.strip()[:120] if 3 < len(first.strip()) <= 120 else pretty_stem(path)
    return Document(source=source, text=text, kind="pdf", title=title, content_hash=digest, pages=pages)


def iter_files(root: Path, follow_symlinks: bool = False):
    """Every file under a folder, sorted, skipping hidden files and folders (callers filter by kind)."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=follow_symlinks):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            yield Path(dirpath) / name


def supported_in_folder(path: Path) -> bool:
    """Inside a folder only known extensions are taken (extension-less files only when named)."""
    return bool(path.suffix) and kind_for(path) is not None
