"""reference_refresh: after a reference list changes, every referral's alliance bloc and
every automated finding's DoD 1260H flag are derived again from the new edition."""

import datetime
import io
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError

from cases import blocs, derived, reference
from cases.checks import matching
from cases.models import Finding, Referral
from tests.factories import CaseFactory, EntityFactory, FindingFactory, ReferralFactory

pytestmark = pytest.mark.django_db

D = datetime.date
SHIPPED = Path(reference.__file__).resolve().parent
QIHOO = "dod_1260h: 360 Security Technology Inc."
AVIC = "dod_1260h: Aviation Industry Corporation of China Ltd."
EXAMPLE = "Example Aerospace Corporation of China"


def lists_read_afresh() -> None:
    """What a new process (the command run after an edit) sees."""
    blocs.memberships.cache_clear()
    matching.dod_1260h_names.cache_clear()


@pytest.fixture
def reference_dir(settings, tmp_path):
    """WISHLIST_REFERENCE_DIR pointed at a copy of the shipped lists, to be edited."""
    for name in reference.LISTS:
        shutil.copy(SHIPPED / name, tmp_path)
    settings.WISHLIST_REFERENCE_DIR = tmp_path
    lists_read_afresh()
    yield tmp_path
    lists_read_afresh()


def edit(path: Path, *, drop: str = "", replace: tuple[str, str] = ("", ""), add: str = ""):
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines = [line for line in lines if not drop or drop not in line]
    text = "".join(lines)
    if replace[0]:
        assert replace[0] in text
        text = text.replace(*replace)
    path.write_text(text + add, encoding="utf-8")


def referral(country: str, on: datetime.date) -> Referral:
    case = CaseFactory(entity=EntityFactory(country=country))
    return ReferralFactory(entity=case.entity, host_country=country, date=on, date_precision="day")


def lead(name: str, flags: str = "", *, source: str = "gleif") -> Finding:
    return FindingFactory(counterparty_name=name, flags=flags, source=source)


def stored() -> tuple[dict[int, str], dict[int, str]]:
    return (
        dict(Referral.objects.values_list("pk", "alliance_bloc")),
        dict(Finding.objects.values_list("pk", "flags")),
    )


def run() -> str:
    out = io.StringIO()
    call_command("reference_refresh", stdout=out)
    return out.getvalue()


def test_it_rederives_blocs_and_flags_from_an_edited_list(reference_dir):
    montenegro = referral("ME", D(2016, 6, 1))
    brazil = referral("BR", D(2018, 1, 1))
    referral("GB", D(2018, 1, 1))
    referral("RU", D(2018, 1, 1))
    derived.case_index_dates_refresh()
    qihoo = lead("360 Security Technology Inc.", QIHOO)
    example = lead(EXAMPLE)
    noted = lead(f"{EXAMPLE} Ltd", "seen_twice")
    # Flagged by GLEIF on another name of the record, which the finding does not keep.
    other_name = lead("Zhonghang Example Holdings", AVIC)
    manual = lead(EXAMPLE, source=Finding.MANUAL)
    lead("Acme Robotics Ltd")
    blocs_before, flags_before = stored()
    assert (blocs_before[montenegro.pk], blocs_before[brazil.pk]) == ("other", "other")

    # A later edition: Montenegro (hypothetically) in NATO from 2016, Brazil an ally
    # from 2017, 360 Security Technology removed from the DoD list and a company added.
    edit(
        reference_dir / reference.NATO_MEMBERS,
        replace=("Montenegro,ME,2017,2017-06-05", "Montenegro,ME,2016,2016-01-01"),
    )
    edit(
        reference_dir / reference.MAJOR_NON_NATO_ALLIES,
        replace=("Brazil,BR,2019,2019-07", "Brazil,BR,2017,2017-07"),
    )
    edit(
        reference_dir / reference.DOD_1260H,
        drop="360 Security Technology",
        add=f"{EXAMPLE} (EXAC)*,{EXAMPLE},EXAC,,,,2027-01-01,,\n",
    )
    lists_read_afresh()

    output = run()

    blocs_after, flags_after = stored()
    assert blocs_after == {**blocs_before, montenegro.pk: "nato", brazil.pk: "mnna"}
    assert flags_after == {
        **flags_before,
        qihoo.pk: "",
        example.pk: f"dod_1260h: {EXAMPLE}",
        noted.pk: f"seen_twice; dod_1260h: {EXAMPLE}",
    }
    assert flags_after[other_name.pk] == AVIC
    assert flags_after[manual.pk] == ""
    assert output == (
        f"Reference lists in {reference_dir}: 2 referral blocs and 3 finding flags changed.\n"
    )


def test_a_second_run_changes_nothing(reference_dir):
    referral("ME", D(2018, 1, 1))
    lead("Huawei Technologies Co., Ltd.")
    run()
    before = stored()

    output = run()

    assert stored() == before
    assert output.endswith(": 0 referral blocs and 0 finding flags changed.\n")


def test_a_flag_on_a_name_no_longer_listed_is_dropped(reference_dir):
    # Flagged on another name of the record, whose listed name has since been removed.
    gone = lead("Qihoo Example Holdings", QIHOO)
    edit(reference_dir / reference.DOD_1260H, drop="360 Security Technology")
    lists_read_afresh()

    run()

    assert Finding.objects.get(pk=gone.pk).flags == ""


def test_a_malformed_list_changes_nothing(reference_dir):
    never_derived = referral("ME", D(2018, 1, 1))
    lead("Huawei Technologies Co., Ltd.")
    before = stored()
    # The blocs are derived first; a bad DoD list must undo them too.
    edit(reference_dir / reference.DOD_1260H, add=",,Nameless,,,,2027-01-01,,\n")
    lists_read_afresh()

    with pytest.raises(CommandError, match=r"dod_1260h_chinese_military_companies\.csv line 399"):
        run()

    assert stored() == before
    assert Referral.objects.get(pk=never_derived.pk).alliance_bloc == ""


def test_the_start_up_check_runs_first(reference_dir):
    (reference_dir / reference.DOD_1260H).unlink()
    lists_read_afresh()

    with pytest.raises(SystemCheckError, match="dod_1260h_chinese_military_companies.csv"):
        call_command("reference_refresh", skip_checks=False, stdout=io.StringIO())
