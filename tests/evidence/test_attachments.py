"""Attaching files to a finding (cases.evidence.services.evidence_attach): the type is
read from the bytes, the size is capped, the name made safe, a file kept once."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.evidence import services, storage
from cases.models import Evidence
from tests.evidence.conftest import PDF, snapshot
from tests.factories import AnalystFactory, FindingFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 64


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def attach(finding, file, actor=None) -> Evidence:
    return services.evidence_attach(finding=finding, upload=file, actor=actor)


def refused(finding, file, message: str) -> None:
    before = snapshot()

    with pytest.raises(ValidationError) as caught:
        attach(finding, file)

    assert message in " ".join(caught.value.messages)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("name", "content", "content_type", "kept_as"),
    [
        ("filing.pdf", PDF, "application/pdf", "filing.pdf"),
        ("photo.PNG", PNG, "image/png", "photo.png"),
        ("scan.jpeg", JPEG, "image/jpeg", "scan.jpg"),
        ("notes.txt", "Minutes: Shenzhen 合资".encode(), "text/plain; charset=utf-8", "notes.txt"),
    ],
)
def test_it_keeps_a_pdf_an_image_or_plain_text(name, content, content_type, kept_as):
    finding, analyst = FindingFactory(), AnalystFactory()

    evidence = attach(finding, upload(name, content), analyst)

    assert evidence.kind == Evidence.Kind.ATTACHMENT and evidence.state == Evidence.State.OK
    assert evidence.content_type == content_type
    assert evidence.original_filename == kept_as
    assert evidence.sha256 == hashlib.sha256(content).hexdigest()
    assert evidence.size == len(content)
    assert evidence.added_by == analyst and evidence.retrieved_at is not None
    with storage.evidence_open(evidence.attachment.name) as handle:
        assert handle.read() == content


def test_the_stored_name_is_ours_whatever_the_upload_is_called():
    evidence = attach(FindingFactory(), upload("../../../etc/cron.d/evil.pdf", PDF))

    assert evidence.original_filename == "evil.pdf"
    assert ".." not in evidence.attachment.name
    assert evidence.attachment.name.endswith(hashlib.sha256(PDF).hexdigest() + ".pdf")


def test_the_claimed_type_and_name_count_for_nothing():
    finding = FindingFactory()
    html = b"<html><script>alert(document.cookie)</script></html>"

    refused(finding, upload("photo.png", html, "image/png"), "Only PDF, PNG, JPEG")
    kept = attach(finding, upload("report.exe", PDF, "application/x-msdownload"))
    assert kept.content_type == "application/pdf" and kept.original_filename == "report.pdf"


@pytest.mark.parametrize(
    "content",
    [
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows program
        b"PK\x03\x04\x14\x00",  # a zip (or an Office file)
        b"\x00\x01\x02\x03binary",
        b"GIF89a\x01\x00",  # an image type not kept
        "UTF-16 text".encode("utf-16"),
    ],
)
def test_other_files_are_refused(content):
    refused(FindingFactory(), upload("file.pdf", content), "Only PDF, PNG, JPEG")


def test_a_file_over_the_limit_is_refused(settings):
    settings.WISHLIST_EVIDENCE_MAX_UPLOAD_BYTES = 1024 * 1024

    refused(FindingFactory(), upload("big.pdf", PDF + b"0" * 1024 * 1024), "larger than the 1 MB")


def test_an_empty_file_is_refused():
    refused(FindingFactory(), upload("empty.pdf", b""), "empty")


def test_the_same_file_twice_on_a_finding_is_refused_with_who_attached_it():
    finding = FindingFactory()
    attach(finding, upload("filing.pdf", PDF), AnalystFactory(username="ana"))

    refused(finding, upload("copy of filing.pdf", PDF), "attached to the finding already")
    with pytest.raises(ValidationError, match=r"filing\.pdf, by ana on"):
        attach(finding, upload("again.pdf", PDF))


def test_the_same_file_may_be_kept_for_another_finding():
    attach(FindingFactory(), upload("filing.pdf", PDF))

    other = attach(FindingFactory(external_id="x"), upload("filing.pdf", PDF))

    assert other.state == Evidence.State.OK
    assert Evidence.objects.count() == 2


def test_the_database_refuses_the_same_file_twice_on_a_finding():
    finding = FindingFactory()
    first = attach(finding, upload("filing.pdf", PDF))

    with pytest.raises(Exception, match="evidence_attachment_unique_file|UNIQUE"):
        Evidence.objects.create(
            finding=finding,
            kind=Evidence.Kind.ATTACHMENT,
            state=Evidence.State.OK,
            attachment="elsewhere.pdf",
            sha256=first.sha256,
            retrieved_at=first.retrieved_at,
        )
