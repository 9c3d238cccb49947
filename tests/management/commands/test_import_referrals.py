"""The `import_referrals` command: a missing or bad file is refused with a non-zero
exit."""

import pytest
from django.db import connections

from cases.management.commands.import_referrals import Command
from cases.models import Referral
from tests.intake.conftest import refused, row, write_csv

pytestmark = pytest.mark.django_db


def test_the_command_exits_non_zero_on_a_bad_file(tmp_path, capsys, monkeypatch):
    path = write_csv(tmp_path, [row(host_country="Atlantis")])
    # run_from_argv closes every connection when done; keep the test's transaction open.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    with pytest.raises(SystemExit) as exc_info:
        Command().run_from_argv(["manage.py", "import_referrals", str(path)])

    assert exc_info.value.code != 0
    assert "line 2, column host_country: unknown country 'Atlantis'" in capsys.readouterr().err
    assert Referral.objects.count() == 0


def test_it_refuses_a_missing_file(tmp_path):
    report = refused(tmp_path / "nowhere.csv")

    assert "cannot read" in report


def test_the_command_records_its_import_and_says_when_another_is_running(tmp_path):
    from cases.models import ImportRecord
    from tests.intake.conftest import GOOD_ROWS, another_import_running, run_import

    path = write_csv(tmp_path, GOOD_ROWS)
    with another_import_running("big.csv") as other:
        report = refused(path)
        ImportRecord.objects.filter(pk=other.pk).update(state="done")

    assert f"Another import is running (#{other.pk}, big.csv, started by " in report
    assert Referral.objects.count() == 0

    out = run_import(path)

    record = ImportRecord.objects.latest("id")
    assert (record.origin, record.state) == ("command", "done")
    assert f"Recorded as import #{record.pk}." in out
    assert Referral.objects.count() == 5
