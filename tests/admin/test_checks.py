"""The admin of check runs: a read-only log."""

import pytest

from tests.admin.helpers import refresh, url

pytestmark = pytest.mark.django_db


def test_check_runs_are_read_only(admin_client, objects):
    run = objects["checkrun"]

    assert admin_client.get(url("checkrun", "add")).status_code == 403
    assert admin_client.post(url("checkrun", "change", run.pk), {"source": "x"}).status_code == 403
    assert admin_client.post(url("checkrun", "delete", run.pk), {"post": "yes"}).status_code == 403
    assert refresh(run).source == "gleif"
