"""Alliance blocs (cases.blocs): a host country's bloc as of the referral date, read from
the reference lists (shipped in cases/reference/, or WISHLIST_REFERENCE_DIR), and stored
on each referral by the refresh and by the import. A missing or malformed list is an
error, never an empty bloc."""

import datetime
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cases import blocs, derived, reference
from cases.intake import services as intake_services
from cases.intake.files import COLUMNS, read_table
from cases.intake.rows import check_rows
from cases.models import Referral
from cases.reference import ReferenceListError
from tests.factories import CaseFactory, EntityFactory, ReferralFactory

D = datetime.date
ROOT = Path(__file__).resolve().parents[1]
SHIPPED = Path(reference.__file__).resolve().parent


@pytest.fixture
def reference_dir(settings):
    """Settings whose WISHLIST_REFERENCE_DIR a test may change; the cache is cleared
    before and after, so no other test sees the lists read here."""
    blocs.memberships.cache_clear()
    yield settings
    blocs.memberships.cache_clear()


@pytest.mark.parametrize(
    ("country", "on", "bloc"),
    [
        # Montenegro joined NATO on 2017-06-05.
        ("ME", D(2015, 1, 1), "other"),
        ("ME", D(2017, 6, 4), "other"),
        ("ME", D(2017, 6, 5), "nato"),
        ("ME", D(2019, 12, 31), "nato"),
        # North Macedonia on 2020-03-27.
        ("MK", D(2020, 3, 26), "other"),
        ("MK", D(2020, 3, 27), "nato"),
        # Brazil became a Major Non-NATO Ally in July 2019, Tunisia in July 2015.
        ("BR", D(2019, 6, 30), "other"),
        ("BR", D(2019, 7, 1), "mnna"),
        ("BR", D(2020, 5, 1), "mnna"),
        ("TN", D(2015, 6, 30), "other"),
        ("TN", D(2015, 7, 1), "mnna"),
        # Taiwan is treated as one by statute (2002).
        ("TW", D(2015, 1, 1), "mnna"),
        ("TW", D(2020, 12, 31), "mnna"),
        ("TW", D(2001, 1, 1), "other"),
        # Afghanistan: designated 2012, revoked 2022.
        ("AF", D(2015, 3, 1), "mnna"),
        ("AF", D(2020, 12, 31), "mnna"),
        ("AF", D(2022, 8, 1), "other"),
        ("AF", D(2023, 1, 1), "other"),
        ("AF", D(2011, 12, 31), "other"),
        # Russia is reported on its own.
        ("RU", D(2015, 1, 1), "russia"),
        ("RU", D(2020, 7, 1), "russia"),
        # Founding members, later members and long-standing allies.
        ("US", D(2015, 1, 1), "nato"),
        ("GB", D(2018, 5, 1), "nato"),
        ("US", D(1949, 4, 3), "other"),
        ("DE", D(2016, 1, 1), "nato"),
        ("JP", D(2016, 1, 1), "mnna"),
        ("IL", D(2016, 1, 1), "mnna"),
        # Finland and Sweden joined after the 2015-2020 window.
        ("FI", D(2020, 1, 1), "other"),
        ("FI", D(2023, 4, 4), "nato"),
        ("SE", D(2020, 1, 1), "other"),
        # Neither list, or not a country at all.
        ("CN", D(2018, 1, 1), "other"),
        ("UA", D(2018, 1, 1), "other"),
        ("XX", D(2018, 1, 1), "other"),
        ("", D(2018, 1, 1), "other"),
    ],
)
def test_bloc_on_follows_the_reference_lists(country, on, bloc):
    assert blocs.bloc_on(country, on) == bloc


def test_without_the_setting_the_shipped_lists_are_read(tmp_path):
    # Settings are read once per process, so a fresh one shows the default.
    env = {key: value for key, value in os.environ.items() if key != "WISHLIST_REFERENCE_DIR"}
    env.pop("DATABASE_URL", None)
    env["WISHLIST_DATA_DIR"] = str(tmp_path)
    code = (
        "import datetime; from django.conf import settings; from cases import blocs; "
        "print(settings.WISHLIST_REFERENCE_DIR); "
        "print(blocs.bloc_on('ME', datetime.date(2018, 1, 1)))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(SHIPPED), "nato"]


def test_a_missing_list_is_an_error_naming_the_file_and_the_setting(reference_dir, tmp_path):
    reference_dir.WISHLIST_REFERENCE_DIR = tmp_path / "missing"

    with pytest.raises(ReferenceListError) as error:
        blocs.bloc_on("US", D(2018, 1, 1))

    assert str(error.value) == (
        f"Reference list {tmp_path / 'missing' / 'nato_members.csv'} is missing "
        "(read from WISHLIST_REFERENCE_DIR)."
    )


def test_russia_needs_no_reference_list(reference_dir, tmp_path):
    reference_dir.WISHLIST_REFERENCE_DIR = tmp_path / "missing"

    assert blocs.bloc_on("RU", D(2018, 1, 1)) == "russia"


def test_one_missing_list_is_an_error(reference_dir, tmp_path):
    shutil.copy(SHIPPED / "nato_members.csv", tmp_path)
    reference_dir.WISHLIST_REFERENCE_DIR = tmp_path

    with pytest.raises(ReferenceListError, match="us_major_non_nato_allies.csv is missing"):
        blocs.bloc_on("US", D(2018, 1, 1))


def test_the_lists_are_read_from_the_configured_folder(reference_dir, tmp_path):
    (tmp_path / "nato_members.csv").write_text(
        "country,iso2,accession_year,accession_date\n"
        "Somewhere,QQ,2016,2016-02-03\n"
        "Year only,qy,2018,\n",
        encoding="utf-8",
    )
    (tmp_path / "us_major_non_nato_allies.csv").write_text(
        "country,iso2,designation_year,approx_date,status\n"
        "Elsewhere,QR,2012,2012-07,revoked 2019-03\n",
        encoding="utf-8",
    )
    reference_dir.WISHLIST_REFERENCE_DIR = tmp_path

    assert blocs.bloc_on("QQ", D(2016, 2, 2)) == "other"
    assert blocs.bloc_on("QQ", D(2016, 2, 3)) == "nato"
    assert blocs.bloc_on("QY", D(2017, 12, 31)) == "other"
    assert blocs.bloc_on("QY", D(2018, 1, 1)) == "nato"
    assert blocs.bloc_on("QR", D(2018, 1, 1)) == "mnna"
    assert blocs.bloc_on("QR", D(2019, 3, 1)) == "other"
    # The real lists are not read from this folder.
    assert blocs.bloc_on("US", D(2018, 1, 1)) == "other"


def test_a_list_saved_with_a_byte_order_mark_is_read(reference_dir, tmp_path):
    for name in ("nato_members.csv", "us_major_non_nato_allies.csv"):
        (tmp_path / name).write_bytes(b"\xef\xbb\xbf" + (SHIPPED / name).read_bytes())
    reference_dir.WISHLIST_REFERENCE_DIR = tmp_path

    assert blocs.bloc_on("ME", D(2018, 1, 1)) == "nato"
    assert blocs.bloc_on("BR", D(2020, 1, 1)) == "mnna"


NATO_HEADER = "country,iso2,accession_year,accession_date\n"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "has no column iso2, accession_year, accession_date"),
        (b"country,iso2,accession_year\nSomewhere,QQ,2016\n", "has no column accession_date"),
        (NATO_HEADER.encode(), "has no rows"),
        ((NATO_HEADER + "No code,,1949,1949-04-04\n").encode(), "line 2: iso2 '' is not"),
        ((NATO_HEADER + "Typo,USA,1949,1949-04-04\n").encode(), "line 2: iso2 'USA' is not"),
        (
            (NATO_HEADER + "Somewhere,QQ,2016,2016\nUndated,QU,,\n").encode(),
            "line 3: QU has no date in accession_date or accession_year",
        ),
        (
            (NATO_HEADER + "Somewhere,QQ,2016,2016-13-01\n").encode(),
            "line 2: '2016-13-01' is not a date",
        ),
        ((NATO_HEADER + "Straße,DE,1955,1955-05-09\n").encode("latin-1"), "cannot be read"),
    ],
)
def test_a_malformed_list_is_an_error_naming_the_file_and_the_problem(
    reference_dir, tmp_path, content, problem
):
    (tmp_path / "nato_members.csv").write_bytes(content)
    shutil.copy(SHIPPED / "us_major_non_nato_allies.csv", tmp_path)
    reference_dir.WISHLIST_REFERENCE_DIR = tmp_path

    with pytest.raises(ReferenceListError) as error:
        blocs.memberships()

    assert error.value.path == tmp_path / "nato_members.csv"
    assert problem in error.value.problem


def test_a_malformed_revocation_date_is_an_error(reference_dir, tmp_path):
    shutil.copy(SHIPPED / "nato_members.csv", tmp_path)
    (tmp_path / "us_major_non_nato_allies.csv").write_text(
        "country,iso2,designation_year,approx_date,status\n"
        "Elsewhere,QR,2012,2012-07,revoked 2019-02-30\n",
        encoding="utf-8",
    )
    reference_dir.WISHLIST_REFERENCE_DIR = tmp_path

    with pytest.raises(ReferenceListError, match="line 2: '2019-02-30' is not a date"):
        blocs.memberships()


def test_the_lists_are_read_once(reference_dir, tmp_path):
    for name in ("nato_members.csv", "us_major_non_nato_allies.csv"):
        shutil.copy(SHIPPED / name, tmp_path)
    reference_dir.WISHLIST_REFERENCE_DIR = tmp_path
    assert blocs.bloc_on("ME", D(2018, 1, 1)) == "nato"

    (tmp_path / "nato_members.csv").unlink()

    assert blocs.bloc_on("ME", D(2018, 1, 1)) == "nato"


# ------------------------------------------------------------------ stored on referrals


def referral(country: str, on: datetime.date, precision: str = "day") -> Referral:
    case = CaseFactory(entity=EntityFactory(country=country))
    return ReferralFactory(
        entity=case.entity, host_country=country, date=on, date_precision=precision
    )


@pytest.mark.django_db
def test_the_index_date_refresh_stores_each_referrals_bloc():
    before = referral("ME", D(2016, 3, 1))
    after = referral("ME", D(2017, 6, 5))
    russia = referral("RU", D(2018, 1, 1))
    assert before.alliance_bloc == ""

    derived.case_index_dates_refresh(case_ids=[before.entity.case.pk, after.entity.case.pk])

    assert Referral.objects.get(pk=before.pk).alliance_bloc == "other"
    assert Referral.objects.get(pk=after.pk).alliance_bloc == "nato"
    # Not among the cases refreshed.
    assert Referral.objects.get(pk=russia.pk).alliance_bloc == ""

    derived.case_index_dates_refresh()

    assert Referral.objects.get(pk=russia.pk).alliance_bloc == "russia"


@pytest.mark.django_db
def test_a_month_or_year_referral_is_coded_as_of_the_first_day_of_its_period():
    june = referral("ME", D(2017, 6, 1), precision="month")
    year = referral("MK", D(2020, 1, 1), precision="year")

    derived.case_index_dates_refresh()

    assert Referral.objects.get(pk=june.pk).alliance_bloc == "other"
    assert Referral.objects.get(pk=year.pk).alliance_bloc == "other"


@pytest.mark.django_db
def test_a_corrected_date_moves_the_referral_to_its_new_bloc():
    item = referral("BR", D(2018, 1, 1))
    derived.case_index_dates_refresh()
    assert Referral.objects.get(pk=item.pk).alliance_bloc == "other"

    Referral.objects.filter(pk=item.pk).update(date=D(2020, 1, 1))
    derived.case_index_dates_refresh(case_ids=[item.entity.case.pk])

    assert Referral.objects.get(pk=item.pk).alliance_bloc == "mnna"


def import_rows(rows: list[dict[str, str]]) -> intake_services.ImportResult:
    lines = [",".join(COLUMNS)]
    lines += [",".join(row.get(column, "") for column in COLUMNS) for row in rows]
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    return intake_services.referrals_import(checked=check_rows(read_table(data, "referrals.csv")))


@pytest.mark.django_db
def test_imported_referrals_carry_their_bloc():
    def row(external_id: str, on: str, country: str, name: str) -> dict[str, str]:
        return {
            "referral_id": external_id,
            "referral_date": on,
            "host_country": country,
            "entity_name": name,
            "entity_type": "company",
        }

    result = import_rows(
        [
            row("ME-1", "2016-11-02", "Montenegro", "Adriatic Photonics d.o.o."),
            row("ME-2", "2017-06-05", "ME", "Lovcen Robotics d.o.o."),
            row("BR-1", "2019-08", "Brazil", "Sertao Biologics Ltda."),
            row("RU-1", "2018", "Russia", "Volga Materials LLC"),
            row("EG-1", "2018-01-01", "Egypt", "Nile Sensors SAE"),
        ]
    )

    assert result.ok, result.errors
    stored = dict(Referral.objects.values_list("external_id", "alliance_bloc"))
    assert stored == {
        "ME-1": "other",
        "ME-2": "nato",
        "BR-1": "mnna",
        "RU-1": "russia",
        "EG-1": "mnna",
    }
