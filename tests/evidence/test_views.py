"""Kept evidence in the research pages: the case page's list, the capture button, the
attach form, and files served back read-only in a sandbox. Who may do what is in
tests/test_permissions.py; these tests are about what each view does."""

import hashlib

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.evidence import storage
from cases.models import Evidence
from tests.evidence.conftest import PAGE, PDF, snapshot
from tests.factories import CaseFactory, FindingFactory

pytestmark = pytest.mark.django_db

SANDBOX = "sandbox; default-src 'none'"


@pytest.fixture
def finding(team):
    return FindingFactory(
        case=CaseFactory(team=team),
        source="gdelt",
        external_id="g-1",
        source_url="https://news.example.org/jv",
        counterparty_name="Shenzhen Example",
    )


@pytest.fixture
def signed_in(client, analyst):
    client.force_login(analyst)
    return client


def kept_capture(finding, *, screenshot: bool = True) -> Evidence:
    """A capture as the service leaves it, its files in the storage."""
    evidence = Evidence.objects.create(
        finding=finding, kind=Evidence.Kind.CAPTURE, url=finding.source_url
    )
    evidence.warc = storage.evidence_save(
        storage.capture_name(evidence, "page.warc.gz"), b"WARC/1.0"
    )
    evidence.text = storage.evidence_save(
        storage.capture_name(evidence, "text.txt"), b"<b>kept</b> text"
    )
    if screenshot:
        evidence.screenshot = storage.evidence_save(
            storage.capture_name(evidence, "screenshot.png"), b"\x89PNG\r\n\x1a\nimage"
        )
    else:
        evidence.screenshot_note = "no screenshot: Chromium not found"
    evidence.state = Evidence.State.OK
    evidence.sha256 = hashlib.sha256(PAGE).hexdigest()
    evidence.size = len(PAGE)
    evidence.retrieved_at = timezone.now()
    evidence.final_url = finding.source_url
    evidence.content_type = "text/html"
    evidence.http_status = 200
    evidence.save()
    return evidence


def file_url(evidence, part):
    return reverse("cases:evidence_file", args=[evidence.pk, part])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# The case page -----------------------------------------------------------------------------


def test_the_case_page_lists_each_findings_evidence_with_time_size_and_hash(signed_in, finding):
    evidence = kept_capture(finding)
    Evidence.objects.create(
        finding=finding,
        kind=Evidence.Kind.CAPTURE,
        url=finding.source_url,
        state=Evidence.State.FAILED,
        error="news.example.org timed out (ReadTimeout) after 2 tries",
    )

    page = signed_in.get(finding.case.get_absolute_url()).content.decode()

    assert 'id="evidence"' in page and f'id="evidence-{finding.pk}"' in page
    assert evidence.sha256 in page
    assert evidence.retrieved_at.strftime("%Y-%m-%d %H:%M") in page
    assert f"{len(PAGE)}" in page or "bytes" in page
    for part in ("warc", "text", "screenshot"):
        assert file_url(evidence, part) in page
    assert "failed: news.example.org timed out (ReadTimeout) after 2 tries" in page
    assert reverse("cases:finding_capture", args=[finding.pk]) in page
    assert reverse("cases:finding_attach", args=[finding.pk]) in page


def test_a_capture_without_screenshot_says_why(signed_in, finding):
    kept_capture(finding, screenshot=False)

    page = signed_in.get(finding.case.get_absolute_url()).content.decode()

    assert "no screenshot: Chromium not found" in page


def test_a_finding_without_a_web_address_offers_no_capture(signed_in, team):
    finding = FindingFactory(case=CaseFactory(team=team), source_url="")

    page = signed_in.get(finding.case.get_absolute_url()).content.decode()

    assert reverse("cases:finding_capture", args=[finding.pk]) not in page
    assert reverse("cases:finding_attach", args=[finding.pk]) in page


def test_a_supervisor_sees_the_evidence_but_no_buttons(client, supervisor, finding):
    evidence = kept_capture(finding)
    client.force_login(supervisor)

    page = client.get(finding.case.get_absolute_url()).content.decode()

    assert file_url(evidence, "warc") in page
    assert reverse("cases:finding_capture", args=[finding.pk]) not in page
    assert reverse("cases:finding_attach", args=[finding.pk]) not in page


def test_the_case_page_reads_the_evidence_in_one_query_whatever_the_findings(signed_in, finding):
    def evidence_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert signed_in.get(finding.case.get_absolute_url()).status_code == 200
        return sum('"cases_evidence"' in q["sql"] for q in queries.captured_queries)

    few = evidence_queries()
    for n in range(5):
        extra = FindingFactory(
            case=finding.case, external_id=f"x{n}", source_url=f"https://e.org/{n}"
        )
        kept_capture(extra)

    assert evidence_queries() == few == 1


# Capture and attach --------------------------------------------------------------------


def test_capture_asks_for_one_capture_and_says_so(signed_in, finding, analyst):
    url = reverse("cases:finding_capture", args=[finding.pk])

    first = signed_in.post(url)
    second = signed_in.post(url)

    assert first.status_code == 302
    assert first.url == finding.case.get_absolute_url() + f"#evidence-{finding.pk}"
    evidence = Evidence.objects.get(finding=finding)
    assert evidence.state == Evidence.State.PENDING and evidence.added_by == analyst
    assert any(
        "Capturing the page of the joint venture with Shenzhen Example" in m
        for m in messages_of(first)
    )
    assert messages_of(second)[-1] == "A capture of this page is on its way already."


def test_capture_of_a_finding_without_a_web_address_is_refused(signed_in, team):
    finding = FindingFactory(case=CaseFactory(team=team), source_url="")
    before = snapshot()

    response = signed_in.post(reverse("cases:finding_capture", args=[finding.pk]))

    assert response.status_code == 302
    assert messages_of(response) == [
        "The joint venture with Shenzhen Example Technology Co., Ltd.: "
        "This finding has no web address to capture."
    ]
    assert snapshot() == before


def test_attach_keeps_the_file(signed_in, finding):
    response = signed_in.post(
        reverse("cases:finding_attach", args=[finding.pk]),
        {"file": SimpleUploadedFile("filing.pdf", PDF, content_type="application/pdf")},
    )

    assert response.status_code == 302
    evidence = Evidence.objects.get(finding=finding)
    assert evidence.original_filename == "filing.pdf"
    assert messages_of(response) == [
        "Attached filing.pdf to the joint venture with Shenzhen Example."
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "This field is required."),
        ({"file": SimpleUploadedFile("a.pdf", b"")}, "The submitted file is empty."),
        ({"file": SimpleUploadedFile("a.png", b"<svg onload=alert(1)>")}, "Only PDF, PNG"),
    ],
)
def test_attach_refuses_a_missing_empty_or_wrong_file_and_says_why(
    signed_in, finding, data, message
):
    before = snapshot()

    response = signed_in.post(reverse("cases:finding_attach", args=[finding.pk]), data)

    assert response.status_code == 302
    assert any(message in m for m in messages_of(response)), messages_of(response)
    assert snapshot() == before


def test_attaching_the_same_file_again_is_refused(signed_in, finding):
    url = reverse("cases:finding_attach", args=[finding.pk])
    signed_in.post(url, {"file": SimpleUploadedFile("filing.pdf", PDF)})
    before = snapshot()

    response = signed_in.post(url, {"file": SimpleUploadedFile("filing (1).pdf", PDF)})

    assert any(
        "attached to the finding already (filing.pdf, by alice" in m for m in messages_of(response)
    )
    assert snapshot() == before


# Served back, read-only, in a sandbox ------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "content_type", "disposition"),
    [
        ("warc", "application/warc", 'attachment; filename="evidence-{pk}.warc.gz"'),
        ("text", "text/plain; charset=utf-8", 'inline; filename="evidence-{pk}.txt"'),
        ("screenshot", "image/png", 'inline; filename="evidence-{pk}.png"'),
    ],
)
def test_a_capture_is_served_sandboxed_never_as_html(
    signed_in, finding, part, content_type, disposition
):
    evidence = kept_capture(finding)

    response = signed_in.get(file_url(evidence, part))

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == disposition.format(pk=evidence.pk)
    assert response["Content-Security-Policy"] == SANDBOX
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "html" not in response["Content-Type"]


def test_the_text_is_the_stored_text_as_it_is(signed_in, finding):
    evidence = kept_capture(finding)

    response = signed_in.get(file_url(evidence, "text"))

    assert body(response) == b"<b>kept</b> text"  # text/plain: markup shows as characters


def test_an_attached_pdf_is_a_download_and_an_image_may_show(signed_in, finding):
    url = reverse("cases:finding_attach", args=[finding.pk])
    signed_in.post(url, {"file": SimpleUploadedFile("filing.pdf", PDF)})
    signed_in.post(url, {"file": SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n....")})
    pdf, png = (
        Evidence.objects.get(finding=finding, content_type=t)
        for t in ("application/pdf", "image/png")
    )

    pdf_response = signed_in.get(file_url(pdf, "file"))
    png_response = signed_in.get(file_url(png, "file"))

    assert pdf_response["Content-Disposition"] == 'attachment; filename="filing.pdf"'
    assert pdf_response["Content-Type"] == "application/pdf"
    assert body(pdf_response) == PDF
    assert png_response["Content-Disposition"] == 'inline; filename="photo.png"'
    assert png_response["Content-Security-Policy"] == SANDBOX


def test_a_name_with_unusual_characters_is_offered_safely(signed_in, finding):
    signed_in.post(
        reverse("cases:finding_attach", args=[finding.pk]),
        {"file": SimpleUploadedFile('合资 "report"\r\nX-Evil: 1.pdf', PDF)},
    )
    evidence = Evidence.objects.get(finding=finding)

    response = signed_in.get(file_url(evidence, "file"))

    assert "\n" not in response["Content-Disposition"]
    assert response.get("X-Evil") is None
    assert "filename*=utf-8''" in response["Content-Disposition"]


@pytest.mark.parametrize("part", ["file", "html", "page", "..", "attachment"])
def test_a_part_the_evidence_does_not_have_is_404(signed_in, finding, part):
    evidence = kept_capture(finding)

    assert signed_in.get(f"/evidence/{evidence.pk}/{part}/").status_code == 404


def test_a_capture_not_kept_serves_nothing(signed_in, finding):
    pending = Evidence.objects.create(
        finding=finding, kind=Evidence.Kind.CAPTURE, url=finding.source_url
    )

    assert signed_in.get(file_url(pending, "warc")).status_code == 404


def test_another_teams_evidence_does_not_exist(client, other_analyst, finding):
    evidence = kept_capture(finding)
    client.force_login(other_analyst)

    assert client.get(file_url(evidence, "text")).status_code == 404
    assert client.post(reverse("cases:finding_capture", args=[finding.pk])).status_code == 404


def test_a_file_missing_from_the_storage_is_404(signed_in, finding):
    evidence = kept_capture(finding)
    storage.evidence_delete([evidence.text.name])

    assert signed_in.get(file_url(evidence, "text")).status_code == 404


def test_each_download_is_in_the_audit_log(signed_in, finding, analyst):
    from cases.models import AuditEvent

    evidence = kept_capture(finding)

    signed_in.get(file_url(evidence, "warc"))

    event = AuditEvent.objects.get(action=AuditEvent.Action.DOWNLOAD)
    assert event.actor == analyst
    assert event.target == f"evidence-{evidence.pk}.warc.gz"
    assert event.detail == {"evidence": evidence.pk, "part": "warc", "finding": finding.pk}


# The live panel ----------------------------------------------------------------------------


def test_the_panel_follows_a_capture_on_its_way_and_stops_once_it_is_kept(signed_in, finding):
    panel_url = reverse("cases:case_evidence", args=[finding.case.pk])
    pending = Evidence.objects.create(
        finding=finding, kind=Evidence.Kind.CAPTURE, url=finding.source_url
    )

    during = signed_in.get(panel_url).content.decode()
    page = signed_in.get(finding.case.get_absolute_url()).content.decode()

    assert f'data-poll="{panel_url}"' in during and f'data-poll="{panel_url}"' in page
    assert "being captured" in during
    # The parts the script replaces, so the attach form around them keeps a chosen file.
    assert f'id="evidence-items-{finding.pk}" data-live-part' in during
    assert f'id="evidence-count-{finding.pk}" data-live-part' in during

    Evidence.objects.filter(pk=pending.pk).update(
        state=Evidence.State.FAILED, error="the site did not answer"
    )
    after = signed_in.get(panel_url).content.decode()

    assert "data-poll" not in after
    assert "failed: the site did not answer" in after


def test_asking_for_a_capture_says_where_it_will_show(signed_in, finding, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.WISHLIST_CAPTURE_IN_THREAD = True  # never started: the test's transaction

    response = signed_in.post(reverse("cases:finding_capture", args=[finding.pk]))

    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.endswith("it shows under Kept evidence when done.")
    assert "reload" not in message
