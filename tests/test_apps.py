"""The start-up check on the reference lists (cases.apps): a missing or malformed list
stops manage.py check, runserver and migrate with the file and the setting named."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from cases import blocs, reference
from cases.apps import reference_lists_check
from cases.checks import matching

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = Path(reference.__file__).resolve().parent
HINT_START = "Point WISHLIST_REFERENCE_DIR at a folder holding good copies of nato_members.csv"


@pytest.fixture
def reference_dir(settings, tmp_path):
    """WISHLIST_REFERENCE_DIR pointed at a copy of the shipped lists a test may break;
    the lists are read afresh before and after."""
    for name in reference.LISTS:
        shutil.copy(SHIPPED / name, tmp_path)
    blocs.memberships.cache_clear()
    matching.dod_1260h_names.cache_clear()
    settings.WISHLIST_REFERENCE_DIR = tmp_path
    yield tmp_path
    blocs.memberships.cache_clear()
    matching.dod_1260h_names.cache_clear()


def test_the_shipped_lists_pass(reference_dir):
    assert reference_lists_check() == []


def test_a_missing_list_is_an_error_naming_the_file_and_the_setting(reference_dir):
    (reference_dir / reference.DOD_1260H).unlink()

    [error] = reference_lists_check()

    assert error.id == "cases.E001"
    assert error.msg == (
        f"Reference list {reference_dir / reference.DOD_1260H} is missing "
        "(read from WISHLIST_REFERENCE_DIR)."
    )
    assert error.hint.startswith(HINT_START)
    assert error.hint.endswith("or unset it to read the lists shipped in cases/reference/.")


def test_a_malformed_list_is_an_error_naming_the_line(reference_dir):
    path = reference_dir / reference.NATO_MEMBERS
    path.write_text(path.read_text(encoding="utf-8") + "Nowhere,,2030,\n", encoding="utf-8")

    [error] = reference_lists_check()

    assert error.msg.startswith(f"Reference list {path} line 34: iso2 '' is not")


def test_every_bad_list_is_reported(reference_dir):
    for name in reference.LISTS:
        (reference_dir / name).unlink()

    errors = reference_lists_check()

    # The blocs stop at the first list they cannot read.
    assert [error.msg.split()[2] for error in errors] == [
        str(reference_dir / reference.NATO_MEMBERS),
        str(reference_dir / reference.DOD_1260H),
    ]


def test_manage_py_check_fails_on_a_malformed_list(reference_dir):
    (reference_dir / reference.MAJOR_NON_NATO_ALLIES).write_text("country\n", encoding="utf-8")

    with pytest.raises(SystemCheckError) as error:
        call_command("check")

    assert "cases.E001" in str(error.value)
    assert f"{reference_dir / reference.MAJOR_NON_NATO_ALLIES} has no column iso2" in str(
        error.value
    )


def test_the_app_does_not_start_without_its_lists(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["WISHLIST_DATA_DIR"] = str(tmp_path)
    env["WISHLIST_REFERENCE_DIR"] = str(tmp_path / "missing")

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert f"{tmp_path / 'missing' / 'nato_members.csv'} is missing" in result.stderr
    assert "WISHLIST_REFERENCE_DIR" in result.stderr


def test_servers_and_workers_refuse_to_start_with_a_bad_list(reference_dir):
    from django.core.exceptions import ImproperlyConfigured

    from cases.apps import reference_lists_require
    from wishlist.celery import _require_reference_lists

    reference_lists_require()  # the good copies pass
    (reference_dir / reference.NATO_MEMBERS).unlink()
    blocs.memberships.cache_clear()

    with pytest.raises(ImproperlyConfigured, match="nato_members.csv is missing"):
        reference_lists_require()
    with pytest.raises(ImproperlyConfigured, match="nato_members.csv is missing"):
        _require_reference_lists()


def test_the_wsgi_application_refuses_a_missing_list(tmp_path):
    for name in reference.LISTS:
        shutil.copy(SHIPPED / name, tmp_path)
    (tmp_path / reference.DOD_1260H).unlink()
    env = {
        **os.environ,
        "WISHLIST_REFERENCE_DIR": str(tmp_path),
        "WISHLIST_DATA_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)

    result = subprocess.run(
        [sys.executable, "-c", "import wishlist.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "dod_1260h_chinese_military_companies.csv is missing" in result.stderr
