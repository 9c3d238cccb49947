"""The readable text of a captured page: a pure function of its body, for reading and
searching the evidence without ever serving the page's HTML."""

import re
from html.parser import HTMLParser

# Their content is code or markup, not text a reader sees.
_SKIPPED = {"script", "style", "noscript", "template", "svg", "math", "iframe", "object"}
# Elements that end a line of text where they open or close.
_BLOCKS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
    "nav", "ol", "p", "pre", "section", "table", "td", "th", "title", "tr", "ul",
}  # fmt: skip
_SPACE = re.compile(r"\s+")
# Control characters (junk served as HTML): never part of a text a person reads.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


class _TextParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            # A line break in the source is a space on the page; blocks break lines.
            self.parts.append(_SPACE.sub(" ", _CONTROL.sub("", data)))


def charset_of(body: bytes, content_type: str) -> str:
    """The body's declared encoding (the header's, else a <meta> tag's), else UTF-8."""
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return _known(value.strip("\"' "))
    found = _META_CHARSET.search(body[:4096])
    return _known(found.group(1).decode("ascii")) if found else "utf-8"


def _known(name: str) -> str:
    try:
        "".encode(name)
    except LookupError:  # a page's made-up charset must not stop the capture
        return "utf-8"
    return name


def html_text(body: bytes, content_type: str = "text/html") -> str:
    """The text a reader sees in an HTML page: scripts, styles and markup dropped, one
    line per block, runs of blank space collapsed.

    The HTML is never executed; html.parser reads even broken markup without raising,
    and an unclosed <script> hides only what follows it, as in a browser.
    """
    parser = _TextParser()
    parser.feed(body.decode(charset_of(body, content_type), "replace"))
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def page_text(body: bytes, content_type: str) -> str | None:
    """The text of a captured body: extracted from HTML, as it is from plain text; None
    for anything else (a PDF is kept as it came, with no text of ours)."""
    media = content_type.split(";")[0].strip().lower()
    if media in ("text/html", "application/xhtml+xml"):
        return html_text(body, content_type)
    if media == "text/plain":
        return body.decode(charset_of(body, content_type), "replace")
    return None
