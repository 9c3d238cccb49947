"""Telling an attached file's type by its bytes, and a safe name for it."""

import pytest

from cases.evidence.uploads import TEXT, safe_filename, sniff_type


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n", ("application/pdf", ".pdf")),
        (b"\x89PNG\r\n\x1a\n\x00\x00", ("image/png", ".png")),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", ("image/jpeg", ".jpg")),
    ],
)
def test_it_knows_pdf_png_and_jpeg_by_their_first_bytes(head, expected):
    assert sniff_type(head) == expected


def test_plain_text_is_utf8_without_control_characters():
    assert sniff_type(b"Minutes", b"Minutes of the board, 2019") == (TEXT, ".txt")
    assert sniff_type(b"\xff\xfe", b"\xff\xfeA\x00") is None  # UTF-16
    assert sniff_type(b"MZ\x90\x00", b"MZ\x90\x00\x03") is None  # a Windows program
    assert sniff_type(b"a\x00b", b"a\x00b") is None
    assert sniff_type(b"   ", b"   \n") is None


def test_html_is_not_an_image_whatever_it_is_called():
    assert sniff_type(b"<html><script>", None) is None
    assert sniff_type(b"<html>", b"<html><script>alert(1)</script>") is None
    assert sniff_type(b"\n <svg", b"\n <svg onload=alert(1)>") is None


@pytest.mark.parametrize(
    ("name", "extension", "expected"),
    [
        ("report.pdf", ".pdf", "report.pdf"),
        ("../../etc/passwd", ".txt", "passwd.txt"),
        ("C:\\Users\\ana\\scan 1 (final).JPG", ".jpg", "scan 1 (final).jpg"),
        ("photo.png.exe", ".png", "photo.png.png"),
        ('a<script>"b".png', ".png", "a_script_b.png"),
        ("\x00\x1b[31m.png", ".png", "31m.png"),
        ("...", ".pdf", "attachment.pdf"),
        ("", ".pdf", "attachment.pdf"),
        ("深圳合资.pdf", ".pdf", "深圳合资.pdf"),
        ("x" * 300 + ".pdf", ".pdf", "x" * 120 + ".pdf"),
    ],
)
def test_it_makes_a_safe_filename_with_the_real_extension(name, extension, expected):
    assert safe_filename(name, extension) == expected
