"""Helpers shared by the referral import tests: rows and files to import, the command
run to success or refusal, and a stored entity for refused files to leave alone."""

import csv
import datetime
import io
import threading
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.utils import timezone
from openpyxl import Workbook

from cases import derived
from cases.intake.files import COLUMNS
from tests.factories import CaseFactory, EntityFactory, PostFactory, ReferralFactory


def row(**values: str) -> dict[str, str]:
    """A valid row; keyword arguments replace cells."""
    cells = {
        "referral_id": "R-001",
        "referral_date": "2017-05-03",
        "post": "Embassy in Moscow",
        "host_country": "Russia",
        "entity_name": "Acme Robotics Ltd.",
        "entity_name_native": "",
        "entity_type": "company",
        "technology_field": "Robotics",
        "cooperation_method": "joint venture",
        "proposed_amount": "",
        "currency": "",
        "summary": "",
        "source_url": "",
    }
    cells.update(values)
    return cells


def write_csv(
    tmp_path: Path,
    rows: list[dict[str, str]],
    columns=COLUMNS,
    name: str = "referrals.csv",
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for cells in rows:
        writer.writerow([cells.get(column, "") for column in columns])
    path = tmp_path / name
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(tmp_path: Path, header: list, rows: list[list], name="referrals.xlsx") -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    path = tmp_path / name
    workbook.save(path)
    return path


def run_import(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_referrals", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def refused(path: Path, *args: str) -> str:
    """Run the import expecting it to refuse the file; return everything it said."""
    err = StringIO()
    with pytest.raises(CommandError) as exc_info:
        call_command("import_referrals", str(path), *args, stdout=StringIO(), stderr=err)
    return err.getvalue() + "\n" + str(exc_info.value)


def snapshot() -> dict[str, int]:
    """Row counts of every model of the app, history tables included, but the import
    records and the audit log: every import, refused ones too, adds one of each."""
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_app_config("cases").get_models()
        if model._meta.label not in {"cases.ImportRecord", "cases.AuditEvent"}
    }


@contextmanager
def another_import_running(file_name: str = "big.csv", user=None):
    """Make another import hold the import lock, as it would mid-import: its record
    running and, on PostgreSQL, the advisory lock held by another connection (a thread)."""
    from cases.intake.jobs import LOCK_KEY
    from cases.models import ImportRecord

    record = ImportRecord.objects.create(
        file_name=file_name,
        sha256="0" * 64,
        size=1,
        user=user,
        origin="admin" if user else "command",
        state="running",
        started_at=timezone.now(),
    )
    if connection.vendor != "postgresql":
        yield record
        return
    locked, release = threading.Event(), threading.Event()

    def hold():
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
            locked.set()
            release.wait(timeout=60)
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        connections["default"].close()

    thread = threading.Thread(target=hold)
    thread.start()
    locked.wait(timeout=60)
    try:
        yield record
    finally:
        release.set()
        thread.join(timeout=60)


@pytest.fixture
def existing():
    """An entity already stored, referred in 2019, so refused files have something to
    leave alone."""
    entity = EntityFactory(name="Acme Robotics Limited", country="GB")
    case = CaseFactory(entity=entity)
    ReferralFactory(
        external_id="OLD-1",
        entity=entity,
        post=PostFactory(),
        date=datetime.date(2019, 1, 1),
        date_precision="year",
        host_country="GB",
    )
    derived.case_index_dates_refresh(case_ids=[case.id])
    case.refresh_from_db()
    return case


GOOD_ROWS = [
    row(
        referral_id="R-001",
        referral_date="2017-05-03",
        post="Embassy in Moscow",
        host_country="Russia",
        entity_name="Acme Robotics Ltd.",
        entity_type="company",
        technology_field="Robotics",
        cooperation_method="joint venture; investment",
        proposed_amount="1,000,000",
        currency="usd",
        summary="Offered to buy a stake.",
        source_url="https://example.org/cables/r-001",
    ),
    row(
        referral_id="R-002",
        referral_date="2018-07",
        post="Consulate-General in Busan",
        host_country="South Korea",
        entity_name="Hanbit Semiconductor Co., Ltd.",
        entity_name_native="한빛반도체",
        entity_type="University",
        technology_field="Semiconductors",
        cooperation_method="patent licence",
        source_url="Cable 2018/07/12 para 4",
    ),
    row(
        referral_id="R-003",
        referral_date="2016",
        post="",
        host_country="Taiwan",
        entity_name="Formosa Optics Inc",
        entity_type="research institute",
        technology_field="",
        cooperation_method="",
    ),
    row(
        referral_id="R-004",
        referral_date="2019-11-30",
        post="Embassy in Berlin",
        host_country="DE",
        entity_name="Rhein Photonik GmbH",
        entity_type="company",
        cooperation_method="Joint_R&D;R&D staff hiring",
        proposed_amount="2500.50",
        currency="EUR",
    ),
    row(
        referral_id="R-005",
        referral_date="2020-02",
        post="Embassy in Paris",
        host_country="fra",
        entity_name="Lumière Systèmes SA",
        entity_type="company",
    ),
]
