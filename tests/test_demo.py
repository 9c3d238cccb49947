"""The synthetic demo data set and its commands: seed_demo, remove_demo, create_demo_admin."""

import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Min, Q

from cases import demo
from cases.models import Case, CheckRun, CooperationMethod, Entity, Finding, Post, Referral
from tests.factories import (
    CaseFactory,
    EntityFactory,
    FindingFactory,
    PostFactory,
    ReferralFactory,
)

DEMO_SOURCES = {"gleif", "sec_edgar", "gdelt", "google_news", "openalex", "companies_house"}


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def demo_snapshot() -> set[tuple]:
    return set(
        Referral.objects.filter(entity__is_demo=True).values_list(
            "external_id", "entity__name", "post__name", "date", "technology_field"
        )
    )


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """Load the demo data once for a class of read-only tests, rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        counts = demo.demo_data_seed()
        yield counts
        transaction.set_rollback(True)


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestSeededData:
    def test_it_has_about_650_referrals_from_about_50_countries_and_100_posts(self):
        referrals = Referral.objects.filter(entity__is_demo=True)
        assert 600 <= referrals.count() <= 700
        assert 45 <= referrals.values("host_country").distinct().count() <= 55
        assert 90 <= Post.objects.filter(is_demo=True).count() <= 110
        assert 500 <= Entity.objects.filter(is_demo=True).count() <= 600

    def test_it_has_the_shape_of_the_report(self):
        referrals = Referral.objects.filter(entity__is_demo=True)
        by_country = dict(referrals.values_list("host_country").annotate(n=Count("id")))
        assert 110 <= by_country["RU"] <= 135
        assert 65 <= by_country["US"] <= 90
        assert 50 <= by_country["GB"] <= 75
        assert 45 <= by_country["JP"] <= 70
        assert max(by_country, key=by_country.get) == "RU"

        houston = referrals.filter(host_country="US", post__city="Houston").count()
        assert houston / by_country["US"] > 0.8

        by_field = dict(referrals.values_list("technology_field").annotate(n=Count("id")))
        assert 170 <= by_field["biotechnology"] <= 210
        assert 150 <= by_field["artificial intelligence"] <= 190
        share = (by_field["biotechnology"] + by_field["artificial intelligence"]) / sum(
            by_field.values()
        )
        assert 0.5 <= share <= 0.62
        assert len(by_field) >= 6

    def test_every_entity_and_post_is_marked_and_labelled_as_demo(self):
        assert not Entity.objects.filter(is_demo=False).exists()
        assert not Post.objects.filter(is_demo=False).exists()
        assert not Entity.objects.exclude(name__endswith=demo.DEMO_SUFFIX).exists()
        assert not Post.objects.exclude(name__endswith=demo.DEMO_SUFFIX).exists()
        assert not Finding.objects.exclude(
            Q(counterparty_name__endswith=demo.DEMO_SUFFIX) | Q(counterparty_name="")
        ).exists()

    def test_posts_are_embassies_consulates_general_and_consulates_with_cities(self):
        kinds = set(Post.objects.filter(is_demo=True).values_list("kind", flat=True))
        assert kinds == {"embassy", "consulate_general", "consulate"}
        assert not Post.objects.filter(city="").exists()
        assert Post.objects.filter(
            name="Consulate-General in Houston (demo)", host_country="US"
        ).exists()

    def test_each_entity_has_one_case_whose_index_date_is_its_earliest_referral(self):
        cases = Case.objects.filter(entity__is_demo=True)
        assert cases.count() == Entity.objects.filter(is_demo=True).count()
        assert not cases.filter(index_date__isnull=True).exists()
        earliest = cases.annotate(first=Min("entity__referrals__date"))
        assert not earliest.exclude(index_date=F("first")).exists()
        statuses = set(cases.values_list("status", flat=True))
        assert statuses == set(Case.Status.values)

    def test_some_entities_are_referred_more_than_once(self):
        counts = Entity.objects.filter(is_demo=True).annotate(n=Count("referrals"))
        assert counts.filter(n__gte=2).exists()
        assert not counts.filter(n=0).exists()
        assert not counts.filter(n__gt=3).exists()

    def test_referrals_mix_date_precisions_methods_and_amounts(self):
        referrals = Referral.objects.filter(entity__is_demo=True)
        precisions = set(referrals.values_list("date_precision", flat=True))
        assert precisions == {"day", "month", "year"}
        years = set(referrals.values_list("date__year", flat=True))
        assert years == {2015, 2016, 2017, 2018, 2019, 2020}
        for referral in referrals:
            assert 1 <= len(referral.cooperation_methods) <= 3
            assert set(referral.cooperation_methods) <= set(CooperationMethod.values)
        currencies = set(referrals.exclude(currency="").values_list("currency", flat=True))
        assert currencies == {"USD", "EUR", "CNY", "GBP", "JPY", "RUB"}
        assert not referrals.filter(proposed_amount__isnull=False, currency="").exists()
        assert not referrals.filter(summary="").exists()

    def test_entity_kinds_are_mostly_companies(self):
        kinds = dict(
            Entity.objects.filter(is_demo=True).values_list("kind").annotate(n=Count("id"))
        )
        assert kinds["company"] > sum(kinds.values()) / 2
        for kind in ("university", "research_institute", "government_lab", "individual"):
            assert kinds.get(kind, 0) > 0

    def test_findings_include_leads_outcomes_context_and_rejections(self):
        findings = Finding.objects.filter(case__entity__is_demo=True)
        leads = findings.filter(review_state=Finding.ReviewState.LEAD)
        assert set(leads.values_list("source", flat=True)) == DEMO_SOURCES
        assert leads.count() >= 100
        assert findings.filter(
            review_state=Finding.ReviewState.CONFIRMED,
            timing=Finding.Timing.AFTER,
            counterparty_country__in=["CN", "HK", "MO"],
        ).exists()
        assert findings.filter(
            review_state=Finding.ReviewState.CONFIRMED, timing=Finding.Timing.BEFORE
        ).exists()
        assert findings.filter(review_state=Finding.ReviewState.REJECTED).exists()
        reviewed = findings.exclude(review_state=Finding.ReviewState.LEAD)
        assert not reviewed.filter(reviewed_at__isnull=True).exists()
        assert not findings.exclude(
            Q(source_url__startswith="https://example.org/")
            | Q(source_url__startswith="https://example.com/")
        ).exists()

    def test_some_cases_have_check_runs(self):
        runs = CheckRun.objects.filter(case__entity__is_demo=True)
        assert runs.exists()
        assert set(runs.values_list("source", flat=True)) <= DEMO_SOURCES


@pytest.mark.django_db
def test_seed_demo_twice_does_not_duplicate():
    first = run("seed_demo")
    before = demo.demo_data_counts()

    second = run("seed_demo")

    assert f"referrals: {before['referrals']}" in first
    assert "already loaded" in second
    assert demo.demo_data_counts() == before


@pytest.mark.django_db
def test_seed_demo_replace_loads_the_same_data_again():
    run("seed_demo")
    first = demo_snapshot()
    counts = demo.demo_data_counts()

    run("seed_demo", "--replace")

    assert demo_snapshot() == first
    assert demo.demo_data_counts() == counts


@pytest.mark.django_db
def test_remove_demo_removes_demo_rows_and_keeps_the_others():
    entity = EntityFactory(name="Real Robotics Ltd")
    case = CaseFactory(entity=entity)
    post = PostFactory()
    referral = ReferralFactory(entity=entity, post=post)
    finding = FindingFactory(case=case)
    run("seed_demo")

    output = run("remove_demo")

    assert "referrals: 642" in output
    assert not Entity.objects.filter(is_demo=True).exists()
    assert not Post.objects.filter(is_demo=True).exists()
    assert list(Entity.objects.all()) == [entity]
    assert list(Case.objects.all()) == [case]
    assert list(Referral.objects.all()) == [referral]
    assert list(Post.objects.all()) == [post]
    assert list(Finding.objects.all()) == [finding]
    assert not CheckRun.objects.exists()


def credentials(output: str) -> tuple[str, str]:
    username = re.search(r"username:\s+(\S+)", output).group(1)
    password = re.search(r"password:\s+(\S+)", output).group(1)
    return username, password


@pytest.mark.django_db
def test_create_demo_admin_prints_credentials_that_authenticate():
    output = run("create_demo_admin")

    username, password = credentials(output)
    assert "http://127.0.0.1:8000/admin/" in output
    assert username == "demo-admin"
    user = authenticate(username=username, password=password)
    assert user is not None
    assert user.is_staff and user.is_superuser


@pytest.mark.django_db
def test_create_demo_admin_resets_the_password():
    _, old_password = credentials(run("create_demo_admin"))

    username, new_password = credentials(run("create_demo_admin"))

    assert new_password != old_password
    assert authenticate(username=username, password=old_password) is None
    assert authenticate(username=username, password=new_password) is not None
    assert get_user_model().objects.filter(username="demo-admin").count() == 1
