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
