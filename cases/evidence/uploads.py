"""Checking an attached file: its type from its first bytes (never its name or the type
the browser claims), and a filename safe to show and to offer back as a download."""

import re
import unicodedata

# (media type as served, extension, magic bytes)
_MAGIC = [
    ("application/pdf", ".pdf", b"%PDF-"),
    ("image/png", ".png", b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", ".jpg", b"\xff\xd8\xff"),
]
TEXT = "text/plain; charset=utf-8"
ACCEPTED = "PDF, PNG, JPEG or plain text (UTF-8)"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def sniff_type(head: bytes, whole: bytes | None = None) -> tuple[str, str] | None:
    """(media type, extension) of a file from its first bytes, or None if it is not one
    we keep. Plain text is told by the whole content: UTF-8 with no control characters,
    not starting with markup."""
    for media_type, extension, magic in _MAGIC:
        if head.startswith(magic):
            return media_type, extension
    if whole is None:
        return None
    try:
        text = whole.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text.strip() or _CONTROL.search(text):
        return None
    if text.lstrip("\ufeff \t\r\n").startswith("<"):
        return None  # HTML, SVG or XML: markup is not kept as text (capture the page)
    return TEXT, ".txt"


def safe_filename(name: str, extension: str) -> str:
    """The uploaded name without folders, control or shell-special characters, at most
    120 characters, ending with the extension of the type it really has."""
    name = unicodedata.normalize("NFKC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = re.sub(r"[^\w.\- ()]+", "_", name, flags=re.UNICODE)
    name = re.sub(r"_+", "_", name).strip(" ._")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem[:120].strip(" ._") or "attachment"
    return stem + extension
