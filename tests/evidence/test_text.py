"""The text kept of a captured page: what a reader sees, never its code."""

from cases.evidence.text import charset_of, html_text, page_text

HOSTILE = b"""<!doctype html><html><head><title>JV announced</title>
<style>body { color: red } .x::after { content: "STYLE-TEXT" }</style>
<script>document.write("SCRIPT-TEXT"); alert(1)</script>
<script type="application/ld+json">{"name": "JSON-LD-TEXT"}</script>
</head><body><h1>Acme &amp; Shenzhen form a joint venture</h1>
<p>Signed   on
 3 March 2019.</p><noscript>NOSCRIPT-TEXT</noscript>
<svg><text>SVG-TEXT</text></svg><img src=x onerror="alert(2)">
<p>End.</p></body></html>"""


def test_it_keeps_the_visible_text_line_by_block():
    assert html_text(HOSTILE) == (
        "JV announced\nAcme & Shenzhen form a joint venture\nSigned on 3 March 2019.\nEnd."
    )


def test_it_drops_script_style_and_markup():
    text = html_text(HOSTILE)
    for hidden in ("SCRIPT", "STYLE", "JSON-LD", "NOSCRIPT", "SVG", "alert", "<", "onerror"):
        assert hidden not in text


def test_an_unclosed_script_hides_only_what_follows_it():
    assert html_text(b"<p>Before</p><script>var secret = 1; <p>never</p>") == "Before"


def test_it_reads_broken_markup_without_raising():
    text = html_text(b"<p>a <b>b</p></i><<>>&bogus; <p")

    assert text.startswith("a b\n")
    assert "</i>" not in text


def test_inline_elements_do_not_split_words():
    assert html_text(b"<p>Shen<b>zhen</b> Tech</p>") == "Shenzhen Tech"


def test_it_decodes_by_the_header_then_the_meta_tag():
    latin = "Société Générale".encode("latin-1")
    assert html_text(b"<p>" + latin, "text/html; charset=ISO-8859-1") == "Société Générale"
    assert html_text(b'<meta charset="iso-8859-1"><p>' + latin) == "Société Générale"
    assert charset_of(b"<p>x", "text/html; charset=made-up") == "utf-8"


def test_only_html_and_plain_text_have_text():
    assert page_text(b"plain <b>words</b>", "text/plain") == "plain <b>words</b>"
    assert page_text(b"<p>x</p>", "application/xhtml+xml; charset=utf-8") == "x"
    assert page_text(b"%PDF-1.7 ...", "application/pdf") is None
    assert page_text(b"\x00\xff\xfe", "application/octet-stream") is None
