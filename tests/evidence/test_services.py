"""Capturing a finding's page (cases.evidence.services) from a hostile server on
loopback (tests/evidence/conftest.py): the loopback address is allowed in these tests
only, as WISHLIST_CAPTURE_ALLOW_PRIVATE allows it for a lab."""

import datetime
import hashlib
import io
import threading

import pytest
from warcio.archiveiterator import ArchiveIterator

from cases.casework import services as casework_services
from cases.checks.http import HttpClient
from cases.evidence import capture, services, storage
from cases.models import Evidence, Finding
from tests.evidence.conftest import PAGE, PDF, endless, held, slow, snapshot
from tests.factories import CaseFactory, FindingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _capture_settings(settings):
    settings.WISHLIST_CAPTURE_ALLOW_PRIVATE = True
    settings.WISHLIST_CHROMIUM = "/nowhere/chromium"
    settings.WISHLIST_CAPTURE_MAX_REDIRECTS = 5


def client(**kwargs) -> HttpClient:
    defaults = {"max_attempts": 1, "sleep": lambda s: None, "read_timeout": 5.0}
    return HttpClient(source="capture:test", **{**defaults, **kwargs})


def lead_at(url: str, **fields) -> Finding:
    return FindingFactory(source="gdelt", external_id=url, source_url=url, **fields)


def asked(finding: Finding) -> Evidence:
    return services.evidence_capture_request(finding=finding, actor=None, enqueue=False)


def run(evidence: Evidence, **kwargs) -> Evidence:
    services.evidence_capture_run(evidence_id=evidence.pk, client=client(**kwargs))
    return Evidence.objects.get(pk=evidence.pk)


def read(name: str) -> bytes:
    with storage.evidence_open(name) as handle:
        return handle.read()


def warc_payloads(name: str) -> list[tuple[str, bytes]]:
    return [
        (r.rec_type, r.content_stream().read())
        for r in ArchiveIterator(io.BytesIO(read(name)))
        if r.rec_type == "response"
    ]


def assert_refused(evidence: Evidence, before: dict, error: str) -> None:
    """Failed with its reason, and nothing else changed: no file kept, in the storage
    or on the row."""
    after = snapshot()
    assert evidence.state == Evidence.State.FAILED
    assert error in evidence.error
    assert after["files"] == before["files"] == []
    assert after["findings"] == before["findings"]
    assert [row[2:] for row in after["evidence"]] == [("", "", "", "", "")]


def test_it_keeps_the_page_its_text_and_its_hash(hostile):
    evidence = asked(lead_at(hostile.page("/news/jv", PAGE)))

    kept = run(evidence)

    assert kept.state == Evidence.State.OK, kept.error
    assert kept.sha256 == hashlib.sha256(PAGE).hexdigest()
    assert kept.size == len(PAGE)
    assert kept.http_status == 200 and kept.content_type == "text/html"
    assert kept.final_url == hostile.url + "/news/jv"
    assert kept.retrieved_at is not None
    assert warc_payloads(kept.warc.name) == [("response", PAGE)]
    assert hostile.hits == ["/news/jv"]  # asked once, and nothing the page names


def test_the_kept_text_has_none_of_the_pages_code(hostile):
    kept = run(asked(lead_at(hostile.page("/a", PAGE))))

    text = read(kept.text.name).decode()
    assert text == "Acme JV\nAcme and Shenzhen Example Technology form a joint venture."
    for code in ("pwned", "fetch", "color", "onerror", "<"):
        assert code not in text


def test_without_chromium_it_keeps_the_rest_and_says_why(hostile):
    kept = run(asked(lead_at(hostile.page("/a", PAGE))))

    assert kept.state == Evidence.State.OK
    assert not kept.screenshot
    assert kept.screenshot_note == "no screenshot: Chromium not found"


def test_it_follows_redirects_to_the_final_page(hostile):
    hostile.page("/final", PAGE)
    url = hostile.redirect("/short", "/moved")
    hostile.redirect("/moved", hostile.url + "/final", status=301)

    kept = run(asked(lead_at(url)))

    assert kept.state == Evidence.State.OK
    assert kept.url == url and kept.final_url == hostile.url + "/final"
    assert hostile.hits == ["/short", "/moved", "/final"]
    assert [payload for _, payload in warc_payloads(kept.warc.name)] == [b"", b"", PAGE]


def test_a_pdf_is_kept_as_it_came_with_no_text_or_screenshot(hostile):
    kept = run(asked(lead_at(hostile.page("/filing.pdf", PDF, "application/pdf"))))

    assert kept.state == Evidence.State.OK
    assert kept.content_type == "application/pdf"
    assert warc_payloads(kept.warc.name) == [("response", PDF)]
    assert not kept.text and not kept.screenshot
    assert kept.screenshot_note == "no screenshot: not an HTML page"


def test_binary_junk_called_html_is_kept_and_its_text_read_without_failing(hostile):
    junk = bytes(range(256)) * 40

    kept = run(asked(lead_at(hostile.page("/junk", junk))))

    assert kept.state == Evidence.State.OK
    assert kept.sha256 == hashlib.sha256(junk).hexdigest()
    assert "\x00" not in read(kept.text.name).decode()


def test_a_body_that_never_ends_is_refused_and_nothing_kept(hostile, settings):
    hostile.routes["/endless"] = endless
    evidence = asked(lead_at(hostile.url + "/endless"))
    before = snapshot()

    refused = run(evidence, max_bytes=1024 * 1024)

    assert_refused(refused, before, "more than the 1,048,576 bytes")


def test_a_body_declared_too_large_is_refused_unread(hostile):
    evidence = asked(lead_at(hostile.page("/big", b"<p>" + b"x" * 300_000)))
    before = snapshot()

    refused = run(evidence, max_bytes=100_000)

    assert_refused(refused, before, "sent 300,003 bytes, more than the 100,000")


def test_the_capture_limit_comes_from_the_settings(hostile, settings):
    settings.WISHLIST_CAPTURE_MAX_BYTES = 1000
    evidence = asked(lead_at(hostile.page("/big", b"x" * 5000)))
    before = snapshot()

    services.evidence_capture_run(evidence_id=evidence.pk)  # the client it makes itself

    assert_refused(Evidence.objects.get(pk=evidence.pk), before, "more than the 1,000")


def test_a_redirect_loop_is_cut_off(hostile):
    url = hostile.redirect("/loop-a", "/loop-b")
    hostile.redirect("/loop-b", "/loop-a")
    evidence = asked(lead_at(url))
    before = snapshot()

    refused = run(evidence)

    assert_refused(refused, before, "more than 5 redirects")
    assert len(hostile.hits) == 6


def test_loopback_is_refused_unless_allowed_and_not_even_asked(hostile, settings):
    settings.WISHLIST_CAPTURE_ALLOW_PRIVATE = False
    evidence = asked(lead_at(hostile.page("/admin", PAGE)))
    before = snapshot()

    refused = run(evidence)

    assert_refused(refused, before, "127.0.0.1 is a private, loopback or reserved address")
    assert hostile.hits == []


def test_a_page_that_never_answers_times_out(hostile):
    hostile.routes["/held"] = held(hostile.release)
    evidence = asked(lead_at(hostile.url + "/held"))
    before = snapshot()

    refused = run(evidence, read_timeout=0.3)

    assert_refused(refused, before, "127.0.0.1 timed out")


def test_a_body_that_stops_half_way_times_out(hostile):
    hostile.routes["/slow"] = slow(hostile.release)
    evidence = asked(lead_at(hostile.url + "/slow"))
    before = snapshot()

    refused = run(evidence, read_timeout=0.3, max_attempts=2)

    assert_refused(refused, before, "/slow broke off")
    assert hostile.hits == ["/slow", "/slow"]  # asked again, as a broken body may be


def test_an_error_page_is_not_kept(hostile):
    evidence = asked(lead_at(hostile.url + "/missing"))
    before = snapshot()

    assert_refused(run(evidence), before, "HTTP 404")


def test_a_store_that_fails_half_way_keeps_nothing(hostile, monkeypatch):
    evidence = asked(lead_at(hostile.page("/a", PAGE)))
    before = snapshot()
    real_save = storage.evidence_save
    saved = []

    def save_then_fail(name, content):
        if saved:
            raise OSError("disk full")
        saved.append(real_save(name, content))
        return saved[-1]

    monkeypatch.setattr(storage, "evidence_save", save_then_fail)

    with pytest.raises(OSError):
        run(evidence)

    assert saved  # the first file was stored, then removed again
    assert_refused(Evidence.objects.get(pk=evidence.pk), before, "could not be stored")


def test_a_second_delivery_does_nothing(hostile):
    evidence = asked(lead_at(hostile.page("/a", PAGE)))
    run(evidence)

    again = services.evidence_capture_run(evidence_id=evidence.pk, client=client())

    assert again is None
    assert hostile.hits == ["/a"]


def test_one_capture_at_a_time_per_finding(hostile):
    finding = lead_at(hostile.page("/a", PAGE))
    asked(finding)

    with pytest.raises(services.CaptureBusy):
        asked(finding)

    assert Evidence.objects.filter(finding=finding).count() == 1


def test_a_capture_lost_long_ago_may_be_asked_again(hostile):
    finding = lead_at(hostile.page("/a", PAGE))
    lost = asked(finding)
    Evidence.objects.filter(pk=lost.pk).update(
        created_at=lost.created_at - services.CAPTURE_LOST_AFTER * 2
    )

    fresh = asked(finding)

    lost.refresh_from_db()
    assert lost.state == Evidence.State.FAILED and "never finished" in lost.error
    assert fresh.state == Evidence.State.PENDING


def test_a_finding_without_a_web_address_has_nothing_to_capture():
    finding = FindingFactory(source_url="")

    with pytest.raises(services.ValidationError, match="no web address"):
        asked(finding)

    assert not Evidence.objects.exists()


# Captured when confirmed ----------------------------------------------------------------


def confirm(finding: Finding) -> Finding:
    return casework_services.finding_review(
        finding=finding, state=Finding.ReviewState.CONFIRMED, reviewer=None
    )


def test_confirming_a_lead_captures_its_page(hostile, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # embedded mode, whatever the run's broker
    settings.WISHLIST_CAPTURE_ON_CONFIRM = True
    settings.WISHLIST_CAPTURE_IN_THREAD = False
    lead = lead_at(hostile.page("/a", PAGE))

    with django_capture_on_commit_callbacks(execute=True):
        confirm(lead)

    kept = Evidence.objects.get(finding=lead)
    assert kept.state == Evidence.State.OK and kept.kind == Evidence.Kind.CAPTURE
    assert hostile.hits == ["/a"]


def test_rejecting_or_confirming_again_does_not_capture(
    hostile, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # embedded mode, whatever the run's broker
    settings.WISHLIST_CAPTURE_ON_CONFIRM = True
    settings.WISHLIST_CAPTURE_IN_THREAD = False
    rejected = lead_at(hostile.page("/r", PAGE))
    lead = lead_at(hostile.page("/a", PAGE))
    with django_capture_on_commit_callbacks(execute=True):
        casework_services.finding_review(
            finding=rejected, state=Finding.ReviewState.REJECTED, reviewer=None, note="not it"
        )
        confirm(lead)
        casework_services.finding_reopen(finding=lead, reviewer=None, reason="slip")
        confirm(lead)

    assert not Evidence.objects.filter(finding=rejected).exists()
    assert Evidence.objects.filter(finding=lead).count() == 1
    assert hostile.hits == ["/a"]


def test_a_finding_recorded_by_hand_has_its_page_captured(
    hostile, settings, django_capture_on_commit_callbacks
):
    """Recorded by hand is confirmed at once: its page is kept as a confirmed lead's is."""
    settings.CELERY_TASK_ALWAYS_EAGER = True  # embedded mode, whatever the run's broker
    settings.WISHLIST_CAPTURE_ON_CONFIRM = True
    settings.WISHLIST_CAPTURE_IN_THREAD = False
    case = CaseFactory()
    url = hostile.page("/by-hand", PAGE)

    with django_capture_on_commit_callbacks(execute=True):
        finding = casework_services.finding_record_by_hand(
            case=case,
            actor=None,
            kind=Finding.Kind.JOINT_VENTURE,
            counterparty_name="Shenzhen Example Technology Co., Ltd.",
            counterparty_country="CN",
            event_date=datetime.date(2019, 6, 1),
            event_date_precision="day",
            source_url=url,
            excerpt="Acme and Shenzhen Example form a joint venture.",
        )

    kept = Evidence.objects.get(finding=finding)
    assert kept.state == Evidence.State.OK and kept.kind == Evidence.Kind.CAPTURE
    assert kept.url == url
    assert hostile.hits == ["/by-hand"]


@pytest.mark.django_db(transaction=True)
def test_confirming_returns_before_the_page_is_fetched_in_embedded_mode(hostile, settings):
    settings.WISHLIST_CAPTURE_ON_CONFIRM = True
    settings.WISHLIST_CAPTURE_IN_THREAD = True
    settings.CELERY_TASK_ALWAYS_EAGER = True  # embedded mode, whatever the run's broker
    hostile.routes["/held"] = held(hostile.release)
    lead = lead_at(hostile.url + "/held")

    confirm(lead)  # commits at once (no test transaction), so the capture starts now

    assert Finding.objects.get(pk=lead.pk).review_state == Finding.ReviewState.CONFIRMED
    assert Evidence.objects.get(finding=lead).state == Evidence.State.PENDING
    hostile.release.set()
    # Join the capture's own thread (it may wait its turn behind other captures on a busy
    # machine) rather than poll SQLite against a clock.
    name = f"capture-{Evidence.objects.get(finding=lead).pk}"
    for thread in [t for t in threading.enumerate() if t.name == name]:
        thread.join(timeout=120)
    assert Evidence.objects.get(finding=lead).state == Evidence.State.OK


def test_a_capture_on_confirm_is_off_when_configured(
    hostile, settings, django_capture_on_commit_callbacks
):
    settings.WISHLIST_CAPTURE_ON_CONFIRM = False
    lead = lead_at(hostile.page("/a", PAGE))

    with django_capture_on_commit_callbacks(execute=True):
        confirm(lead)

    assert not Evidence.objects.exists()
    assert capture.NO_CHROMIUM  # the module loads without Chromium


def test_a_capture_that_breaks_in_the_request_leaves_the_confirmation_standing(
    hostile, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.WISHLIST_CAPTURE_ON_CONFIRM = True
    settings.WISHLIST_CAPTURE_IN_THREAD = False
    lead = lead_at(hostile.page("/a", PAGE))

    def broken(**kwargs):
        raise RuntimeError("a bug in the capture")

    monkeypatch.setattr(services, "evidence_capture_run", broken)

    with django_capture_on_commit_callbacks(execute=True):
        confirm(lead)  # does not raise

    assert Finding.objects.get(pk=lead.pk).review_state == Finding.ReviewState.CONFIRMED


def test_with_the_queue_down_the_capture_says_so_and_may_be_asked_again(
    hostile, settings, broker_at, django_capture_on_commit_callbacks
):
    from tests.checks.redis_server import free_port

    settings.CELERY_TASK_ALWAYS_EAGER = False
    broker_at(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    finding = lead_at(hostile.page("/a", PAGE))

    with django_capture_on_commit_callbacks(execute=True):
        services.evidence_capture_request(finding=finding, actor=None)

    lost = Evidence.objects.get(finding=finding)
    assert lost.state == Evidence.State.FAILED
    assert "task queue could not be reached" in lost.error
    assert hostile.hits == []
    assert asked(finding).state == Evidence.State.PENDING  # not stuck behind it
