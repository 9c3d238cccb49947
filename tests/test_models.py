"""What the database itself enforces, with Python's validation bypassed; what deletes
cascade or refuse; the `has` lookup; and the project-wide checks (migrations, ruff)."""

import datetime
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from cases.models import Case, CheckRun, Entity, Finding, Post, Referral
from tests.factories import (
    CaseFactory,
    CheckRunFactory,
    EntityFactory,
    FindingFactory,
    PostFactory,
    ReferralFactory,
)

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parent.parent
VALID_LEI = "INR2EJN1ERAN0W5ZP974"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def refused(create):
    """Assert that the database refuses the write, inside a savepoint."""
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def entity_values(**values) -> dict:
    return {"name": "Acme Robotics Ltd", "name_key": "acme robotics", "country": "GB"} | values


def snapshot() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_app_config("cases").get_models()
    }


# ------------------------------------------------------------------------- entities


def test_a_valid_entity_is_stored():
    entity = Entity.objects.create(**entity_values(lei=VALID_LEI))

    assert Entity.objects.get(pk=entity.pk).lei == VALID_LEI


@pytest.mark.parametrize("country", ["gb", "G", "", "g1", "1A"])
def test_an_entity_country_must_be_two_capital_letters(country):
    refused(lambda: Entity.objects.create(**entity_values(country=country)))


def test_updating_an_entity_country_to_lowercase_is_refused():
    entity = EntityFactory()

    refused(lambda: Entity.objects.filter(pk=entity.pk).update(country="gb"))

    entity.refresh_from_db()
    assert entity.country == "GB"


def test_two_entities_may_not_share_a_name_key_in_one_country():
    Entity.objects.create(**entity_values())

    refused(lambda: Entity.objects.create(**entity_values(name="ACME ROBOTICS LIMITED")))


def test_two_entities_may_share_a_name_key_in_different_countries():
    Entity.objects.create(**entity_values())
    Entity.objects.create(**entity_values(country="US"))

    assert Entity.objects.filter(name_key="acme robotics").count() == 2


def test_an_entity_needs_a_name_and_a_name_key():
    refused(lambda: Entity.objects.create(**entity_values(name="")))
    refused(lambda: Entity.objects.create(**entity_values(name_key="")))


@pytest.mark.parametrize(
    "lei", ["abc", "inr2ejn1eran0w5zp974", "INR2EJN1ERAN0W5ZP97", "INR2EJN1ERAN0W5ZP9X4"]
)
def test_a_badly_formed_lei_is_refused(lei):
    refused(lambda: Entity.objects.create(**entity_values(lei=lei)))


def test_two_entities_may_not_share_an_lei_but_may_both_have_none():
    EntityFactory(lei=VALID_LEI)
    EntityFactory(lei="")
    EntityFactory(lei="")

    refused(lambda: EntityFactory(lei=VALID_LEI))

    assert Entity.objects.filter(lei="").count() == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sec_cik", "320193"),
        ("uk_company_number", "00445790"),
        ("ror_id", "052gg0110"),
        ("openalex_id", "I27837315"),
        ("wikidata_id", "Q2283"),
    ],
)
def test_other_identifiers_are_unique_when_given(field, value):
    EntityFactory(**{field: value})
    EntityFactory(**{field: ""})
    EntityFactory(**{field: ""})

    refused(lambda: EntityFactory(**{field: value}))


def test_a_badly_formed_cik_is_refused():
    refused(lambda: Entity.objects.create(**entity_values(sec_cik="CIK320193")))


# ---------------------------------------------------------------------------- posts


def test_a_post_needs_a_name_a_valid_country_and_a_unique_name_in_its_country():
    Post.objects.create(name="Embassy in Tokyo", host_country="JP")
    Post.objects.create(name="Embassy in Tokyo", host_country="KR")

    refused(lambda: Post.objects.create(name="Embassy in Tokyo", host_country="JP"))
    refused(lambda: Post.objects.create(name="", host_country="JP"))
    refused(lambda: Post.objects.create(name="Embassy in Osaka", host_country="jp"))


# ------------------------------------------------------------------------ referrals


def referral_values(**values) -> dict:
    return {
        "external_id": "R-1",
        "entity": EntityFactory(),
        "date": datetime.date(2017, 5, 1),
        "date_precision": "month",
        "host_country": "GB",
    } | values


def test_a_valid_referral_is_stored():
    referral = Referral.objects.create(
        **referral_values(proposed_amount=Decimal("1000000"), currency="USD")
    )

    referral.refresh_from_db()
    assert referral.proposed_amount == Decimal("1000000")


def test_a_referral_amount_needs_a_currency():
    refused(lambda: Referral.objects.create(**referral_values(proposed_amount=Decimal("10"))))


def test_a_referral_amount_may_not_be_negative():
    refused(
        lambda: Referral.objects.create(
            **referral_values(proposed_amount=Decimal("-5"), currency="USD")
        )
    )


def test_updating_a_referral_amount_to_negative_is_refused():
    referral = ReferralFactory(proposed_amount=Decimal("5"), currency="USD")

    refused(lambda: Referral.objects.filter(pk=referral.pk).update(proposed_amount=Decimal("-1")))


def test_a_referral_needs_an_id_a_known_precision_and_a_valid_country():
    refused(lambda: Referral.objects.create(**referral_values(external_id="")))
    refused(lambda: Referral.objects.create(**referral_values(date_precision="week")))
    refused(lambda: Referral.objects.create(**referral_values(date_precision="")))
    refused(lambda: Referral.objects.create(**referral_values(host_country="uk")))


def test_referral_ids_are_unique():
    ReferralFactory(external_id="R-1")

    refused(lambda: ReferralFactory(external_id="R-1"))


# ---------------------------------------------------------------------------- cases


def test_a_case_index_date_needs_its_precision_and_the_reverse():
    case = CaseFactory()

    refused(lambda: Case.objects.filter(pk=case.pk).update(index_date=datetime.date(2017, 1, 1)))
    refused(lambda: Case.objects.filter(pk=case.pk).update(index_date_precision="year"))


def test_a_case_status_and_priority_must_be_known():
    case = CaseFactory()

    refused(lambda: Case.objects.filter(pk=case.pk).update(status="lost"))
    refused(lambda: Case.objects.filter(pk=case.pk).update(priority=9))


def test_an_entity_has_at_most_one_case():
    case = CaseFactory()

    refused(lambda: Case.objects.create(entity=case.entity))


# ------------------------------------------------------------------------- findings


def test_a_finding_is_unique_per_case_source_and_external_id():
    case = CaseFactory()
    FindingFactory(case=case, source="gleif", external_id="X-1")
    FindingFactory(case=case, source="sec_edgar", external_id="X-1")
    FindingFactory(case=CaseFactory(), source="gleif", external_id="X-1")

    refused(lambda: FindingFactory(case=case, source="gleif", external_id="X-1"))


def test_findings_without_an_external_id_may_repeat():
    case = CaseFactory()
    FindingFactory(case=case, source="gleif", external_id="")
    FindingFactory(case=case, source="gleif", external_id="")

    assert Finding.objects.filter(case=case, external_id="").count() == 2


@pytest.mark.parametrize("state", [Finding.ReviewState.CONFIRMED, Finding.ReviewState.REJECTED])
def test_a_reviewed_finding_needs_its_review_time(state):
    refused(lambda: FindingFactory(review_state=state, reviewed_at=None))


def test_confirming_a_lead_without_a_review_time_is_refused():
    finding = FindingFactory()

    refused(lambda: Finding.objects.filter(pk=finding.pk).update(review_state="confirmed"))


def test_a_reviewed_finding_with_its_time_is_stored():
    finding = FindingFactory(review_state="confirmed", reviewed_at=timezone.now())

    assert Finding.objects.get(pk=finding.pk).review_state == "confirmed"


@pytest.mark.parametrize(
    "sha", ["abc", SHA256.upper(), SHA256[:-1], SHA256[:-1] + "g", " " + SHA256[:-1]]
)
def test_a_badly_formed_evidence_hash_is_refused(sha):
    refused(lambda: FindingFactory(evidence_sha256=sha))


def test_a_well_formed_or_empty_evidence_hash_is_stored():
    FindingFactory(evidence_sha256=SHA256)
    FindingFactory(evidence_sha256="")

    assert Finding.objects.count() == 2


def test_a_finding_event_date_needs_its_precision_and_the_reverse():
    refused(lambda: FindingFactory(event_date=datetime.date(2019, 3, 1), event_date_precision=""))
    refused(lambda: FindingFactory(event_date=None, event_date_precision="day"))
    refused(lambda: FindingFactory(event_date_precision="week"))


def test_a_finding_needs_a_source_a_known_review_state_and_a_valid_country():
    refused(lambda: FindingFactory(source=""))
    refused(lambda: FindingFactory(review_state="maybe", reviewed_at=timezone.now()))
    refused(lambda: FindingFactory(counterparty_country="cn"))
    FindingFactory(counterparty_country="")


# ------------------------------------------------------------------------ check runs


def test_a_check_run_may_not_finish_before_it_started():
    started = datetime.datetime(2024, 1, 1, 12, tzinfo=datetime.UTC)

    refused(
        lambda: CheckRunFactory(
            started_at=started, finished_at=started - datetime.timedelta(seconds=1)
        )
    )
    CheckRunFactory(started_at=started, finished_at=started)
    CheckRunFactory(started_at=started, finished_at=None)


def test_a_check_run_status_must_be_known():
    refused(lambda: CheckRunFactory(status="exploded"))


# -------------------------------------------------------------------------- deletes


def test_deleting_an_entity_with_findings_is_refused_and_deletes_nothing():
    case = CaseFactory()
    FindingFactory(case=case)
    CheckRunFactory(case=case)
    before = snapshot()

    with pytest.raises(ProtectedError), transaction.atomic():
        case.entity.delete()

    assert snapshot() == before
    assert Case.objects.filter(pk=case.pk).exists()


def test_deleting_an_entity_with_referrals_is_refused_and_deletes_nothing():
    case = CaseFactory()
    ReferralFactory(entity=case.entity)
    before = snapshot()

    with pytest.raises(ProtectedError), transaction.atomic():
        case.entity.delete()

    assert snapshot() == before


def test_deleting_a_case_with_findings_is_refused():
    finding = FindingFactory()

    with pytest.raises(ProtectedError), transaction.atomic():
        finding.case.delete()

    assert Finding.objects.filter(pk=finding.pk).exists()


def test_deleting_an_entity_without_findings_or_referrals_removes_its_case_and_runs():
    case = CaseFactory()
    CheckRunFactory(case=case)
    other = CaseFactory()

    case.entity.delete()

    assert not Case.objects.filter(pk=case.pk).exists()
    assert not CheckRun.objects.filter(case_id=case.pk).exists()
    assert Case.objects.filter(pk=other.pk).exists()


def test_deleting_a_post_with_referrals_is_refused():
    post = PostFactory()
    ReferralFactory(post=post)

    with pytest.raises(ProtectedError), transaction.atomic():
        post.delete()


# --------------------------------------------------------------------- has lookup


@pytest.fixture
def referrals_by_methods():
    return {
        "jv_and_investment": ReferralFactory(cooperation_methods=["joint_venture", "investment"]),
        "joint_rd": ReferralFactory(cooperation_methods=["joint_rd"]),
        "none": ReferralFactory(cooperation_methods=[]),
    }


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("joint_venture", {"jv_and_investment"}),
        ("investment", {"jv_and_investment"}),
        ("joint_rd", {"joint_rd"}),
        ("joint", set()),
        ("joint_r", set()),
        ("venture", set()),
        ("joint_%", set()),
        ("%", set()),
        ("_", set()),
        ("patent_licence", set()),
    ],
)
def test_the_has_lookup_finds_exact_methods_only(referrals_by_methods, method, expected):
    found = Referral.objects.filter(cooperation_methods__has=method)

    names = {name for name, referral in referrals_by_methods.items() if referral in found}
    assert names == expected


def test_cooperation_methods_round_trip_as_a_list():
    referral = ReferralFactory(cooperation_methods=["joint_venture", "investment"])

    referral.refresh_from_db()
    assert referral.cooperation_methods == ["joint_venture", "investment"]
    assert Referral.objects.filter(cooperation_methods__has="investment").get() == referral


# --------------------------------------------------------------- project-wide checks


def test_the_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def run_ruff(*args: str) -> subprocess.CompletedProcess:
    ruff = Path(sys.executable).parent / "ruff"
    return subprocess.run(
        [str(ruff), *args], cwd=PROJECT, capture_output=True, text=True, timeout=120
    )


def test_ruff_finds_nothing_to_fix():
    result = run_ruff("check", ".")

    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_has_nothing_to_change():
    result = run_ruff("format", "--check", ".")

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_case_index_period_has_an_end_not_before_its_start():
    case = CaseFactory()

    refused(
        lambda: Case.objects.filter(pk=case.pk).update(
            index_date=datetime.date(2017, 1, 1), index_date_precision="year"
        )
    )
    refused(
        lambda: Case.objects.filter(pk=case.pk).update(
            index_date=datetime.date(2017, 1, 1),
            index_date_precision="year",
            index_period_end=datetime.date(2016, 12, 31),
        )
    )
