"""The admin's referral import: the upload returns at once with a page that follows the
job (a progress bar refreshed by a meta tag, no script), then the preview and its
confirmation, the real import as a second job, and the read-only ImportRecord admin."""

import re
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.admin.views import report_blocks
from cases.intake import jobs
from cases.models import Entity, ImportRecord, Referral
from tests.checks.redis_server import free_port
from tests.factories import UserFactory
from tests.intake.conftest import another_import_running, snapshot

HEADER = "referral_id,referral_date,post,host_country,entity_name,entity_type\n"
GOOD = HEADER + "A1,2017-05,Embassy in Japan,Japan,Kyoto Photonics K.K.,company\n"
BAD = HEADER + "A1,2017-02-30,Embassy in Japan,Narnia,,robot\n"
IMPORT_URL = "admin:cases_referral_import"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "imports"
    # Tests run the job themselves (jobs.import_run), never in a thread of their own.
    settings.WISHLIST_IMPORT_IN_THREAD = False


def status_url(record: ImportRecord) -> str:
    return reverse("admin:cases_referral_import_status", args=[record.pk])


def upload(client, content: str, name: str = "referrals.csv"):
    url = reverse(IMPORT_URL)
    return client.post(url, {"file": SimpleUploadedFile(name, content.encode("utf-8"))})


def uploaded(client, content: str, name: str = "referrals.csv") -> ImportRecord:
    """Upload a file, run its preview job, and return the record."""
    response = upload(client, content, name)
    record = ImportRecord.objects.latest("id")
    assert response["Location"] == status_url(record)
    return jobs.import_run(record_id=record.pk)


def confirmed(client, preview: ImportRecord) -> ImportRecord:
    response = client.post(status_url(preview))
    record = ImportRecord.objects.latest("id")
    assert response["Location"] == status_url(record)
    return jobs.import_run(record_id=record.pk)


def test_the_upload_returns_at_once_with_a_page_that_follows_the_job(admin_client, admin_user):
    response = upload(admin_client, GOOD)

    record = ImportRecord.objects.get()
    assert response.status_code == 302
    assert response["Location"] == status_url(record)
    assert (record.state, record.dry_run, record.user, record.file_name) == (
        "queued",
        True,
        admin_user,
        "referrals.csv",
    )
    assert (record.size, record.rows_total) == (len(GOOD.encode()), 1)
    assert len(record.sha256) == 64
    assert jobs.upload_path(record.stored_file).read_bytes() == GOOD.encode()
    assert Referral.objects.count() == 0

    page = admin_client.get(status_url(record)).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "<progress" in page
    assert "<script" not in re.sub(r"<script[^>]*src=[^>]*></script>", "", page)


def test_the_page_shows_the_progress_of_a_running_job(admin_client):
    upload(admin_client, GOOD)
    record = ImportRecord.objects.get()
    ImportRecord.objects.filter(pk=record.pk).update(state="running", rows_total=10, rows_done=4)

    page = admin_client.get(status_url(record)).content.decode()

    assert '<progress max="10" value="4">' in page
    assert '<meta http-equiv="refresh" content="2">' in page


def test_it_previews_without_writing_then_imports_on_confirmation(admin_client, admin_user):
    preview = uploaded(admin_client, GOOD)
    page = admin_client.get(status_url(preview)).content.decode()
    assert "would create 1 referral" in page
    assert "Confirm import" in page
    assert 'http-equiv="refresh"' not in page
    assert Referral.objects.count() == 0

    record = confirmed(admin_client, preview)

    assert record.state == "done"
    assert (record.referrals_created, record.entities_created, record.cases_created) == (1, 1, 1)
    assert record.preview == preview
    assert Referral.objects.get().entity.name == "Kyoto Photonics K.K."
    page = admin_client.get(status_url(record)).content.decode()
    assert "created 1 referral" in page
    assert 'http-equiv="refresh"' not in page
    # The upload is gone once imported.
    assert not any(jobs.upload_path("").iterdir())
    history = Referral.history.get()
    assert history.history_change_reason == f"import #{record.pk}: referrals.csv"
    assert history.history_user == admin_user


def test_a_preview_can_be_confirmed_only_once(admin_client):
    preview = uploaded(admin_client, GOOD)
    confirmed(admin_client, preview)

    again = admin_client.post(status_url(preview), follow=True)

    assert "already imported" in again.content.decode()
    assert ImportRecord.objects.filter(dry_run=False).count() == 1
    assert Referral.objects.count() == 1


def test_another_users_upload_is_neither_shown_nor_confirmed(admin_client, client):
    preview = uploaded(admin_client, GOOD)
    other = UserFactory(username="other-admin", is_staff=True, is_superuser=True)
    client.force_login(other)

    assert client.get(status_url(preview)).status_code == 404
    assert client.post(status_url(preview)).status_code == 404
    assert ImportRecord.objects.count() == 1
    assert Referral.objects.count() == 0


def test_it_lists_every_bad_row_and_offers_no_confirmation(admin_client):
    before = snapshot()
    record = uploaded(admin_client, BAD)

    assert (record.state, record.errors) == ("refused", 4)
    content = admin_client.get(status_url(record)).content.decode()
    assert "The file was refused" in content
    assert "line 2, column referral_date" in content
    assert "unknown country" in content
    assert "line 2, column entity_name: missing" in content
    assert "Confirm import" not in content
    assert snapshot() == before
    assert record.stored_file == ""
    assert not any(jobs.upload_path("").iterdir())


def test_an_unreadable_file_is_refused_with_a_message(admin_client):
    record = uploaded(admin_client, "\x00not a csv", name="referrals.csv")

    assert record.state == "refused"
    assert "NUL byte" in admin_client.get(status_url(record)).content.decode()


def test_it_refuses_other_file_types(admin_client):
    response = upload(admin_client, GOOD, name="referrals.exe")
    assert "Give a .csv or .xlsx file." in response.content.decode()
    assert ImportRecord.objects.count() == 0


def test_it_escapes_hostile_content_in_the_report(admin_client):
    hostile = HEADER + "A1,2017,Embassy,Japan,Acme,<script>alert(1)</script>\n"
    record = uploaded(admin_client, hostile, name="<b>x</b>.csv")
    content = admin_client.get(status_url(record)).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;" in content
    assert "<b>x</b>" not in content


def test_confirming_an_expired_upload_says_so(admin_client):
    preview = uploaded(admin_client, GOOD)
    ImportRecord.objects.filter(pk=preview.pk).update(
        created_at=preview.created_at.replace(year=preview.created_at.year - 1)
    )
    assert jobs.uploads_expire() == 1

    response = admin_client.post(status_url(preview), follow=True)

    content = response.content.decode()
    assert "This upload expired" in content
    assert "Upload the file again" in content
    assert ImportRecord.objects.filter(dry_run=False).count() == 0
    assert Referral.objects.count() == 0


def test_a_confirmation_refused_while_another_import_runs_can_be_confirmed_again(admin_client):
    preview = uploaded(admin_client, GOOD)

    with another_import_running("big.csv") as other:
        refused = confirmed(admin_client, preview)
        ImportRecord.objects.filter(pk=other.pk).update(state="done")

    assert refused.state == "refused"
    assert refused.report.startswith(f"Another import is running (#{other.pk}, big.csv")
    assert "try again when it finishes" in admin_client.get(status_url(refused)).content.decode()
    assert Referral.objects.count() == 0
    assert "Confirm import" in admin_client.get(status_url(preview)).content.decode()
    assert confirmed(admin_client, preview).state == "done"
    assert Referral.objects.count() == 1


def test_the_import_page_requires_staff(client):
    response = client.get(reverse(IMPORT_URL))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_staff_without_add_permission_cannot_import(client):
    client.force_login(UserFactory(username="viewer", is_staff=True))
    response = upload(client, GOOD)
    assert response.status_code == 403
    assert ImportRecord.objects.count() == 0
    assert Referral.objects.count() == 0


def test_the_import_record_admin_lists_imports_and_what_they_created(admin_client):
    record = confirmed(admin_client, uploaded(admin_client, GOOD))
    entity = Entity.objects.get()

    listing = admin_client.get(reverse("admin:cases_importrecord_changelist")).content.decode()
    assert "referrals.csv" in listing
    assert "admin" in listing
    page = admin_client.get(reverse("admin:cases_importrecord_change", args=[record.pk]))
    content = page.content.decode()
    assert reverse("admin:cases_entity_change", args=[entity.pk]) in content
    assert reverse("admin:cases_referral_change", args=[Referral.objects.get().pk]) in content
    assert 'name="_save"' not in content  # read-only
    assert admin_client.get(reverse("admin:cases_importrecord_add")).status_code == 403
    assert (
        reverse("admin:cases_importrecord_changelist")
        in admin_client.get(reverse(IMPORT_URL)).content.decode()
    )


@pytest.mark.django_db(transaction=True)
def test_in_embedded_mode_the_upload_runs_its_job_in_a_thread(admin_client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.WISHLIST_IMPORT_IN_THREAD = True

    upload(admin_client, GOOD)

    record = ImportRecord.objects.get()
    for thread in threading.enumerate():  # none left if it has finished already
        if thread.name == f"import-{record.pk}":
            thread.join(timeout=60)
    record.refresh_from_db()
    assert (record.state, record.changed_anything) == ("done", True)
    assert Referral.objects.count() == 0


def test_an_upload_with_the_task_queue_down_fails_its_record_clearly(
    admin_client, settings, broker_at, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    broker_at(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(admin_client, GOOD)

    record = ImportRecord.objects.get()
    assert response.status_code == 302 and response["Location"] == status_url(record)
    assert record.state == "failed" and record.stored_file == ""
    assert "task queue could not be reached" in record.report
    assert not Referral.objects.exists()
    page = admin_client.get(status_url(record))
    assert "task queue could not be reached" in page.content.decode()


# ------------------------------------------------------------------ the report, readable

TWO = GOOD + "A2,2018-01-04,Embassy in Japan,Japan,Osaka Optics K.K.,company\n"


def counts_table(page: str) -> dict[str, str]:
    table = re.search(r'<table class="import-counts">.*?</table>', page, re.S).group(0)
    return dict(re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', table))


def test_the_preview_is_a_table_and_a_list_not_one_line(admin_client):
    preview = uploaded(admin_client, TWO)

    page = admin_client.get(status_url(preview)).content.decode()

    assert "<pre" not in page
    assert counts_table(page) == {
        "Rows read": "2",
        "Referrals to create": "2",
        "Entities to create": "2",
        "Cases to create": "2",
        "Posts to create": "1",
        "Rows skipped (already stored unchanged, or repeated)": "0",
    }
    assert re.search(r'<ul class="import-report">\s*<li>Read 2 row\(s\); would create', page)
    assert "cases/admin_import.css" in page


def test_the_preview_and_the_done_report_say_new_cases_have_no_team(admin_client):
    preview = uploaded(admin_client, TWO)
    page = admin_client.get(status_url(preview)).content.decode()
    assert (
        "2 new cases will have no team: only admins see them until moved (case list action "
        '"Move to a team…").'
    ) in page

    record = confirmed(admin_client, preview)
    page = admin_client.get(status_url(record)).content.decode()

    assert "2 new cases have no team: only admins see them until moved" in page
    link = reverse("admin:cases_case_changelist") + "?team__isnull=True"
    assert f'<a href="{link}">the cases with no team</a>' in page
    assert counts_table(page)["Cases created"] == "2"
    listed = admin_client.get(link)
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 2


def test_one_new_case_is_said_in_the_singular(admin_client):
    record = confirmed(admin_client, uploaded(admin_client, GOOD))

    page = admin_client.get(status_url(record)).content.decode()

    assert "1 new case has no team: only admins see it until moved" in page


def test_an_import_of_known_referrals_says_nothing_of_teams(admin_client):
    confirmed(admin_client, uploaded(admin_client, GOOD))

    again = uploaded(admin_client, GOOD)
    page = admin_client.get(status_url(again)).content.decode()

    assert 'id="no-team"' not in page
    assert counts_table(page)["Rows skipped (already stored unchanged, or repeated)"] == "1"
    assert "Nothing to change" in page


def test_a_refused_file_lists_each_bad_row_under_its_summary(admin_client):
    record = uploaded(admin_client, BAD)

    page = admin_client.get(status_url(record)).content.decode()

    items = re.search(
        r"<li>4 problem\(s\); nothing was written:\s*<ul>(.*?)</ul>", page, re.S
    ).group(1)
    rows = re.findall(r"<li>(.*?)</li>", items)
    assert len(rows) == 4
    assert all(row.startswith("line 2, column ") for row in rows)
    assert 'class="import-counts"' not in page
    assert 'id="no-team"' not in page


def test_report_blocks_keep_indented_lines_under_their_summary():
    assert report_blocks("Read 1 row.\n\n  stray\n2 problem(s):\n  line 2: a\n  line 3: b\n") == [
        ("Read 1 row.", ["stray"]),
        ("2 problem(s):", ["line 2: a", "line 3: b"]),
    ]
    assert report_blocks("  starts indented\n") == [("starts indented", [])]
    assert report_blocks("") == []
