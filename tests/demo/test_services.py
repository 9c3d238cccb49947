"""The synthetic demo data set and its commands: seed_demo, remove_demo, create_demo_users."""

import datetime
import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Q

from cases import access, rules
from cases.analytics import selectors as analytics_selectors
from cases.analytics import services as analytics_services
from cases.casework import services as casework_services
from cases.checks.sources import get_sources
from cases.checks.sources.gdelt import ARCHIVE_START
from cases.demo import data as demo_data
from cases.demo import services as demo_services
from cases.models import (
    Case,
    CaseStatusChange,
    CheckRun,
    Cohort,
    CooperationMethod,
    Entity,
    Finding,
    Post,
    Referral,
    SecondCoding,
    Team,
)
from tests.factories import (
    CaseFactory,
    EntityFactory,
    FindingFactory,
    PostFactory,
    ReferralFactory,
    UserFactory,
)

DEMO_SOURCES = {"gleif", "sec_edgar", "gdelt", "google_news", "openalex", "companies_house"}


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def demo_snapshot() -> set[tuple]:
    return set(
        Referral.objects.filter(entity__is_demo=True).values_list(
            "external_id",
            "entity__name",
            "post__name",
            "date",
            "technology_field",
            "entity__case__team__name",
        )
    )


def controls_snapshot() -> set[tuple]:
    return set(
        Case.objects.filter(entity__is_demo=True, kind=Case.Kind.CONTROL).values_list(
            "entity__name",
            "matched_case__entity__name",
            "status",
            "index_date",
            "team__name",
        )
    )


def cohorts_snapshot() -> dict[str, set[str]]:
    return {
        cohort.name: set(cohort.cases.values_list("entity__name", flat=True))
        for cohort in Cohort.objects.filter(name__in=demo_data.DEMO_COHORTS)
    }


def codings_snapshot() -> set[tuple]:
    rows = SecondCoding.objects.filter(case__entity__is_demo=True).values_list(
        "case__entity__name", "coder__username", "positive_kinds", "recorded_at"
    )
    return {(name, coder, tuple(kinds), at is None) for name, coder, kinds, at in rows}


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """Load the demo data once for a class of read-only tests, rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        counts = demo_services.demo_data_seed()
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
        referred = Entity.objects.filter(is_demo=True, case__kind=Case.Kind.REFERRED)
        assert 500 <= referred.count() <= 600

    def test_its_leads_lie_within_what_their_sources_searched(self):
        gdelt = Finding.objects.filter(case__entity__is_demo=True, source="gdelt")
        assert gdelt.exists()
        assert not gdelt.filter(event_date__lt=ARCHIVE_START).exists()
        assert not gdelt.filter(event_date__isnull=True).exists()
        automated = Finding.objects.filter(case__entity__is_demo=True).exclude(source="manual")
        assert not automated.filter(timing=Finding.Timing.BEFORE).exists()
        runs = CheckRun.objects.filter(case__entity__is_demo=True, status__in=["ok", "no_results"])
        assert not runs.filter(searched_from__isnull=True).exists()
        for finding in automated.exclude(event_date__isnull=True).select_related("case"):
            covered = runs.filter(
                case=finding.case,
                source=finding.source,
                searched_from__lte=finding.event_date,
                searched_to__gte=finding.event_date,
            )
            assert covered.exists(), (finding.source, finding.event_date)
        for run in runs.filter(source="gdelt")[:20]:
            assert run.searched_from >= ARCHIVE_START
            assert run.detects == ",".join(get_sources()["gdelt"].detects)

    def test_it_reports_its_control_cases_cohorts_and_second_codings(self, seeded):
        assert seeded["control cases"] == 120
        assert seeded["cases"] == seeded["entities"]
        assert seeded["cohorts"] == 2
        # No analyst exists yet to second-code or take cases: create_demo_users adds them.
        assert seeded["second codings"] == seeded["second codings recorded"] == 0
        assert seeded["assigned cases"] == 0

    def test_its_positive_cases_are_exactly_the_analytics_positive_cases(self, seeded):
        # The analytics' query over every demo case, referred and control...
        by_query = set(
            Case.objects.filter(
                Exists(rules.positive_findings().filter(case=OuterRef("pk")))
            ).values_list("pk", flat=True)
        )
        # ...against the rule applied case by case to the rows the demo made.
        by_case = {
            case.pk
            for case in Case.objects.prefetch_related("findings")
            if any(rules.is_positive_finding(f) for f in case.findings.all())
        }
        assert by_query == by_case
        # The builder drew each case's status from its own judgement of the same rule.
        assert seeded["positive cases"] == len(by_query) > 0
        # Confirmed Chinese findings dated before the referral do not make a case positive.
        before = Finding.objects.filter(
            review_state=Finding.ReviewState.CONFIRMED,
            timing=Finding.Timing.BEFORE,
            counterparty_country__in=rules.CHINESE_JURISDICTIONS,
        ).exclude(case__in=by_query)
        assert before.exists()

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
        assert not Entity.objects.exclude(name__endswith=demo_data.DEMO_SUFFIX).exists()
        assert not Post.objects.exclude(name__endswith=demo_data.DEMO_SUFFIX).exists()
        assert not Finding.objects.exclude(
            Q(counterparty_name__endswith=demo_data.DEMO_SUFFIX) | Q(counterparty_name="")
        ).exists()

    def test_posts_are_embassies_consulates_general_and_consulates_with_cities(self):
        kinds = set(Post.objects.filter(is_demo=True).values_list("kind", flat=True))
        assert kinds == {"embassy", "consulate_general", "consulate"}
        assert not Post.objects.filter(city="").exists()
        assert Post.objects.filter(
            name="Consulate-General in Houston (demo)", host_country="US"
        ).exists()

    def test_each_entity_has_one_case_whose_index_date_is_its_earliest_referral(self):
        assert (
            Case.objects.filter(entity__is_demo=True).count()
            == Entity.objects.filter(is_demo=True).count()
        )
        cases = Case.objects.filter(entity__is_demo=True, kind=Case.Kind.REFERRED)
        assert not cases.filter(index_date__isnull=True).exists()
        earliest = cases.annotate(first=Min("entity__referrals__date"))
        assert not earliest.exclude(index_date=F("first")).exists()
        statuses = set(cases.values_list("status", flat=True))
        assert statuses == set(Case.Status.values)

    def test_some_entities_are_referred_more_than_once(self):
        counts = Entity.objects.filter(is_demo=True, case__kind=Case.Kind.REFERRED).annotate(
            n=Count("referrals")
        )
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

    def test_cases_are_split_between_two_demo_teams_by_host_region(self):
        europe, rest = (Team.objects.get(name=name) for name in demo_data.DEMO_TEAMS)
        assert europe.is_demo and rest.is_demo
        assert all(name.endswith(demo_data.DEMO_SUFFIX) for name in demo_data.DEMO_TEAMS)
        cases = Case.objects.filter(entity__is_demo=True)
        assert not cases.filter(team__isnull=True).exists()
        sizes = dict(cases.values_list("team__name").annotate(n=Count("id")))
        assert sizes.keys() == set(demo_data.DEMO_TEAMS)
        assert min(sizes.values()) >= 0.3 * cases.count()
        assert set(europe.cases.values_list("entity__country", flat=True)) >= {"RU", "GB", "ME"}
        assert set(rest.cases.values_list("entity__country", flat=True)) >= {"US", "JP", "BR"}
        assert not europe.cases.filter(entity__country__in=["US", "JP", "BR", "AU"]).exists()
        assert not rest.cases.filter(entity__country__in=["RU", "GB", "DE", "UA"]).exists()

    def test_each_case_that_left_open_has_a_status_log_ending_at_its_status(self):
        cases = Case.objects.filter(entity__is_demo=True).prefetch_related("status_changes")
        assert CaseStatusChange.objects.count() > 300
        for case in cases:
            changes = list(case.status_changes.all())
            if case.status == Case.Status.OPEN:
                assert changes == []
                continue
            assert changes[0].from_status == Case.Status.OPEN
            assert changes[-1].to_status == case.status
            for earlier, later in zip(changes, changes[1:], strict=False):
                assert earlier.to_status == later.from_status
                assert earlier.changed_at < later.changed_at

    def test_controls_are_never_referred_and_match_a_referred_case(self):
        controls = Case.objects.filter(entity__is_demo=True, kind=Case.Kind.CONTROL)
        assert controls.count() == 120
        assert not Referral.objects.filter(entity__case__in=controls).exists()
        for control in controls.select_related("entity", "matched_case__entity"):
            matched = control.matched_case
            assert matched.kind == Case.Kind.REFERRED
            assert control.entity.is_demo
            assert control.entity.name.endswith(demo_data.DEMO_SUFFIX)
            assert control.entity.country == matched.entity.country
            assert control.entity.kind == matched.entity.kind
            assert control.entity.technology_fields == matched.entity.technology_fields
            assert control.team_id == matched.team_id
        assert controls.values("matched_case").distinct().count() == 120

    def test_controls_meet_every_matching_criterion_against_the_referral(self):
        controls = Case.objects.filter(entity__is_demo=True, kind=Case.Kind.CONTROL)
        every = ["host_country", "entity_kind", "technology_field"]
        related = ("entity", "matched_case__entity", "matched_case__index_referral")
        for control in controls.select_related(*related):
            assert control.matched_case.index_referral is not None
            # Judged again now that the matched case's index referral is set.
            assert rules.control_match(control.entity, control.matched_case) == every
            assert (control.match_criteria, control.match_relaxed) == (every, [])

    def test_controls_take_their_matched_cases_index_date(self):
        controls = Case.objects.filter(entity__is_demo=True, kind=Case.Kind.CONTROL)
        assert not controls.filter(index_date__isnull=True).exists()
        assert not controls.exclude(index_date=F("matched_case__index_date")).exists()
        assert not controls.exclude(
            index_date_precision=F("matched_case__index_date_precision")
        ).exists()
        assert not controls.filter(index_referral__isnull=False).exists()

    def test_controls_have_findings_of_every_review_state(self):
        findings = Finding.objects.filter(case__kind=Case.Kind.CONTROL)
        assert set(findings.values_list("review_state", flat=True)) == set(
            Finding.ReviewState.values
        )
        assert rules.positive_findings().filter(case__kind=Case.Kind.CONTROL).exists()

    def test_every_control_is_in_a_pair_and_some_pairs_count(self):
        overall = analytics_selectors.control_pairs(Case.objects.all())[0]

        assert overall.group == "all"
        assert overall.left == 0
        # Every control has its pair; the pairs with a side not reviewed are set apart.
        assert overall.pairs + overall.unreviewed == 120
        assert overall.pairs >= 15
        assert overall.table.referred_only and overall.table.control_only
        assert overall.difference is not None and overall.odds_ratio is not None
        # The demo checks every control with every source: more often than referred cases.
        assert overall.control_checks_per_case > overall.referred_checks_per_case

    def test_every_control_was_checked_successfully(self):
        ok = [CheckRun.Status.OK, CheckRun.Status.NO_RESULTS]
        controls = Case.objects.filter(entity__is_demo=True, kind=Case.Kind.CONTROL)
        assert not controls.exclude(check_runs__status__in=ok).exists()

    def test_the_follow_up_sample_is_a_seeded_draw_of_30_concluded_companies(self):
        cohort = Cohort.objects.get(name=demo_data.SAMPLE_COHORT)
        population = Case.objects.filter(
            entity__is_demo=True,
            kind=Case.Kind.REFERRED,
            status=Case.Status.CONCLUDED,
            entity__kind=Entity.Kind.COMPANY,
        ).values_list("pk", flat=True)

        assert cohort.seed == 2021
        assert cohort.sample_size == 30
        assert cohort.population == len(population) > 30
        assert "CSET" in cohort.description and "30" in cohort.description
        picked = sorted(cohort.cases.values_list("pk", flat=True))
        assert picked == analytics_services.sample_ids(population, size=30, seed=2021)

    def test_the_houston_cohort_holds_the_cases_first_referred_by_houston(self):
        cohort = Cohort.objects.get(name=demo_data.HOUSTON_COHORT)
        houston = Case.objects.filter(
            kind=Case.Kind.REFERRED,
            index_referral__post__name="Consulate-General in Houston (demo)",
        )

        assert set(cohort.cases.all()) == set(houston)
        assert cohort.population == houston.count() >= 50
        assert cohort.seed is None

    def test_analytics_show_every_section_but_agreement_before_the_users_exist(self):
        cases = Case.objects.all()
        cohorts = {row.cohort for row in analytics_selectors.outcome_rates(cases, by="cohort")}
        assert cohorts == set(demo_data.DEMO_COHORTS)
        for by in analytics_selectors.DIMENSIONS:
            assert analytics_selectors.outcome_rates(cases, by=by), by
        assert analytics_selectors.time_to_outcome(cases, by="year")
        assert len(analytics_selectors.control_pairs(cases, by="entity_type")) > 1
        assert analytics_selectors.coding_pairs(cases) == []

    def test_its_referrals_carry_their_alliance_bloc(self):
        referrals = Referral.objects.filter(entity__is_demo=True)
        assert not referrals.filter(alliance_bloc="").exists()
        assert set(referrals.filter(host_country="RU").values_list("alliance_bloc", flat=True)) == {
            "russia"
        }
        montenegro = referrals.filter(host_country="ME")
        for referral in montenegro:
            expected = "nato" if referral.date >= datetime.date(2017, 6, 5) else "other"
            assert referral.alliance_bloc == expected
        by_bloc = dict(referrals.values_list("alliance_bloc").annotate(n=Count("id")))
        # The report: NATO members plus US Major Non-NATO Allies hosted more than 70 %.
        assert (by_bloc["nato"] + by_bloc["mnna"]) / referrals.count() > 0.7


@pytest.mark.django_db
def test_seed_demo_twice_does_not_duplicate():
    first = run("seed_demo")
    before = demo_services.demo_data_counts()

    second = run("seed_demo")

    assert f"referrals: {before['referrals']}" in first
    assert "already loaded" in second
    assert demo_services.demo_data_counts() == before


@pytest.mark.django_db
def test_seed_demo_replace_loads_the_same_data_again():
    run("seed_demo")
    first = demo_snapshot()
    counts = demo_services.demo_data_counts()

    run("seed_demo", "--replace")

    assert demo_snapshot() == first
    assert demo_services.demo_data_counts() == counts


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_controls_and_cohorts():
    snapshots = []
    for _ in range(2):
        with transaction.atomic():
            demo_services.demo_data_seed(seed=7)
            snapshots.append((controls_snapshot(), cohorts_snapshot()))
            transaction.set_rollback(True)

    assert snapshots[0] == snapshots[1]
    controls, cohorts = snapshots[0]
    assert len(controls) == 120
    assert len(cohorts[demo_data.SAMPLE_COHORT]) == 30


@pytest.mark.django_db
def test_seed_demo_replace_with_second_codings_loads_the_same_data_again():
    run("seed_demo")
    run("create_demo_users")
    before = (demo_snapshot(), controls_snapshot(), cohorts_snapshot(), codings_snapshot())
    counts = demo_services.demo_data_counts()

    run("seed_demo", "--replace")

    after = (demo_snapshot(), controls_snapshot(), cohorts_snapshot(), codings_snapshot())
    assert after == before
    assert demo_services.demo_data_counts() == counts
    assert counts["second codings"] == 60


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


@pytest.mark.django_db
def test_remove_demo_removes_controls_cohorts_and_second_codings_but_not_users():
    real = CaseFactory(entity=EntityFactory(name="Real Robotics Ltd"))
    real_cohort = analytics_services.cohort_save(
        name="Real cohort", cases=Case.objects.filter(pk=real.pk), actor=None
    )
    run("seed_demo")
    run("create_demo_users")

    output = run("remove_demo")

    assert "cohorts: 2" in output
    assert not Case.objects.filter(entity__is_demo=True).exists()
    assert not Cohort.objects.filter(name__in=demo_data.DEMO_COHORTS).exists()
    assert not SecondCoding.objects.exists()
    assert list(Cohort.objects.all()) == [real_cohort]
    assert list(real_cohort.cases.all()) == [real]
    assert get_user_model().objects.filter(username__startswith="demo-").count() == 4
    assert demo_services.demo_data_counts()["second codings"] == 0


@pytest.mark.django_db
def test_remove_demo_removes_the_demo_teams():
    run("seed_demo")

    run("remove_demo")

    assert not Team.objects.filter(is_demo=True).exists()


@pytest.mark.django_db
def test_remove_demo_reports_the_rows_of_each_kind():
    counts = demo_services.demo_data_seed()
    run("create_demo_users")

    output = run("remove_demo")

    assert f"cases: {counts['cases']}" in output
    assert "teams: 2" in output


@pytest.mark.django_db
def test_remove_demo_leaves_a_demo_team_that_holds_a_real_case():
    run("seed_demo")
    team = Team.objects.get(name=demo_data.DEMO_TEAMS[0])
    real = CaseFactory(team=team)

    run("remove_demo")

    real.refresh_from_db()
    assert real.team == team


# ------------------------------------------------------------------------ demo users

LOGIN_URL = "http://127.0.0.1:8000/accounts/login/"
ROLES = {
    "demo-admin": "admin",
    "demo-analyst": "analyst",
    "demo-analyst-2": "analyst",
    "demo-supervisor": "supervisor",
}


def credentials(output: str) -> dict[str, tuple[str, str, str]]:
    """{username: (url, password, role)} from the table create_demo_users prints."""
    table = {}
    for line in output.splitlines():
        match = re.match(r"\s*(http://\S+)\s+(demo-\S+)\s+(\S+)\s+(\S+)", line)
        if match:
            url, username, password, role = match.groups()
            table[username] = (url, password, role)
    return table


def teams_of(username: str) -> set[str]:
    return set(Team.objects.filter(members__username=username).values_list("name", flat=True))


@pytest.mark.django_db
def test_create_demo_users_prints_credentials_that_sign_in(client):
    output = run("create_demo_users")

    table = credentials(output)
    assert LOGIN_URL in output
    assert {name: role for name, (_, _, role) in table.items()} == ROLES
    assert table["demo-admin"][0] == "http://127.0.0.1:8000/admin/"
    assert table["demo-analyst"][0] == "http://127.0.0.1:8000/my/"
    assert table["demo-supervisor"][0] == "http://127.0.0.1:8000/cases/"
    for username, (_, password, _) in table.items():
        assert client.login(username=username, password=password), username
        client.logout()


@pytest.mark.django_db
def test_demo_users_have_their_roles():
    table = credentials(run("create_demo_users"))

    users = {
        name: authenticate(username=name, password=password)
        for name, (_, password, _) in table.items()
    }
    admin, analyst, analyst_2, supervisor = (users[name] for name in ROLES)
    assert admin.is_staff and admin.is_superuser and access.is_admin(admin)
    for user in (analyst, analyst_2):
        assert not user.is_staff and not user.is_superuser
        assert access.roles(user) == {access.ANALYST}
        assert access.can_edit(user) and not access.can_see_analytics(user)
    assert not supervisor.is_staff
    assert access.roles(supervisor) == {access.SUPERVISOR}
    assert access.can_see_analytics(supervisor) and not access.can_edit(supervisor)


@pytest.mark.django_db
def test_create_demo_users_prints_links_to_where_the_app_is_served():
    output = run("create_demo_users", "--base-url", "http://localhost:8123/")

    table = credentials(output)
    assert "Sign in at http://localhost:8123/accounts/login/" in output
    assert table["demo-admin"][0] == "http://localhost:8123/admin/"
    assert table["demo-analyst"][0] == "http://localhost:8123/my/"
    assert "8000" not in output


@pytest.mark.django_db
def test_create_demo_users_again_keeps_every_password_and_says_how_to_reset():
    first = credentials(run("create_demo_users"))

    output = run("create_demo_users")

    second = credentials(output)
    assert {name: password for name, (_, password, _) in second.items()} == dict.fromkeys(
        ROLES, "(unchanged)"
    )
    for username in ROLES:
        assert authenticate(username=username, password=first[username][1]) is not None
    assert "create_demo_users --reset" in output
    assert "RESET_DEMO_PASSWORDS=1 make run" in output
    assert "backup codes for" not in output


@pytest.mark.django_db
def test_create_demo_users_gives_a_password_to_a_demo_user_who_has_none():
    run("create_demo_users")
    user = get_user_model().objects.get(username="demo-analyst-2")
    user.set_unusable_password()
    user.save()

    table = credentials(run("create_demo_users"))

    assert table["demo-analyst"][1] == "(unchanged)"
    assert authenticate(username="demo-analyst-2", password=table["demo-analyst-2"][1])


@pytest.mark.django_db
def test_create_demo_users_reset_gives_every_user_a_new_password():
    first = credentials(run("create_demo_users"))

    second = credentials(run("create_demo_users", "--reset"))

    for username in ROLES:
        old, new = first[username][1], second[username][1]
        assert old != new
        assert authenticate(username=username, password=old) is None
        assert authenticate(username=username, password=new) is not None
    assert get_user_model().objects.filter(username__startswith="demo-").count() == 4


@pytest.mark.django_db
def test_create_demo_users_restores_a_demo_user_that_was_changed():
    password = credentials(run("create_demo_users"))["demo-analyst"][1]
    user = get_user_model().objects.get(username="demo-analyst")
    user.is_active = False
    user.is_staff = True
    user.save()
    user.groups.clear()

    run("create_demo_users")

    user = authenticate(username="demo-analyst", password=password)
    assert user is not None and not user.is_staff
    assert access.roles(user) == {access.ANALYST}


@pytest.mark.django_db
def test_before_seed_demo_the_users_belong_to_no_team_and_are_told_so():
    output = run("create_demo_users")

    assert "seed_demo" in output
    assert "no team" in output
    assert not Team.objects.exists()
    for username in ROLES:
        assert teams_of(username) == set()


@pytest.mark.django_db
def test_seed_demo_then_create_demo_users_puts_the_users_on_their_teams():
    europe, rest = demo_data.DEMO_TEAMS
    run("seed_demo")

    output = run("create_demo_users")

    assert "no team" not in output
    assert europe in output and rest in output
    assert teams_of("demo-admin") == set()
    assert teams_of("demo-analyst") == {europe}
    assert teams_of("demo-analyst-2") == {rest}
    assert teams_of("demo-supervisor") == {europe, rest}


@pytest.mark.django_db
def test_users_made_before_the_seed_join_their_teams_when_it_runs():
    run("create_demo_users")

    run("seed_demo")

    assert teams_of("demo-analyst") == {demo_data.DEMO_TEAMS[0]}
    assert teams_of("demo-supervisor") == set(demo_data.DEMO_TEAMS)


@pytest.mark.django_db
def test_seed_demo_replace_keeps_the_users_on_their_teams():
    run("seed_demo")
    run("create_demo_users")

    run("seed_demo", "--replace")

    assert teams_of("demo-analyst") == {demo_data.DEMO_TEAMS[0]}
    assert teams_of("demo-analyst-2") == {demo_data.DEMO_TEAMS[1]}
    assert teams_of("demo-supervisor") == set(demo_data.DEMO_TEAMS)


@pytest.mark.django_db
def test_create_demo_users_leaves_other_teams_alone():
    run("seed_demo")
    real = Team.objects.create(name="Real team")
    run("create_demo_users")
    real.members.add(get_user_model().objects.get(username="demo-analyst"))

    run("create_demo_users")

    assert teams_of("demo-analyst") == {demo_data.DEMO_TEAMS[0], "Real team"}


@pytest.mark.django_db
def test_each_demo_user_sees_their_teams_cases():
    run("seed_demo")
    table = credentials(run("create_demo_users"))
    users = {
        name: authenticate(username=name, password=password)
        for name, (_, password, _) in table.items()
    }
    other = CaseFactory(entity=EntityFactory(name="Real Robotics Ltd"))
    europe, rest = (Team.objects.get(name=name) for name in demo_data.DEMO_TEAMS)

    seen = {name: set(access.visible_cases(user)) for name, user in users.items()}

    # Less the cases whose blind second reading is given to them and still pending.
    def pending(name):
        return set(
            Case.objects.filter(second_coding__coder=users[name], second_coding__recorded_at=None)
        )

    assert seen["demo-analyst"] == set(europe.cases.all()) - pending("demo-analyst")
    assert seen["demo-analyst-2"] == set(rest.cases.all()) - pending("demo-analyst-2")
    assert seen["demo-supervisor"] == set(Case.objects.filter(entity__is_demo=True))
    assert seen["demo-admin"] == set(Case.objects.all())
    assert other in seen["demo-admin"] and other not in seen["demo-supervisor"]


@pytest.mark.django_db
def test_create_demo_users_takes_over_an_existing_account_of_that_name():
    UserFactory(username="demo-supervisor", is_staff=True, is_superuser=True)

    table = credentials(run("create_demo_users", "--reset"))

    user = authenticate(username="demo-supervisor", password=table["demo-supervisor"][1])
    assert not user.is_staff and not user.is_superuser


# --------------------------------------------------------------------- second codings


def coder_of_team() -> dict[str, str]:
    """The analyst who second-codes each demo team's cases, from DEMO_USERS."""
    return {
        demo_data.DEMO_TEAMS[index]: username
        for username, role, indexes in demo_data.DEMO_USERS
        if role == access.ANALYST
        for index in indexes
    }


@pytest.mark.django_db
def test_create_demo_users_gives_concluded_cases_to_a_second_coder_on_their_team():
    run("seed_demo")

    run("create_demo_users")

    codings = SecondCoding.objects.select_related("case__team", "coder", "assigned_by")
    assert codings.count() == 60
    assert codings.filter(recorded_at__isnull=False).count() == 50
    assert codings.filter(recorded_at__isnull=True).count() == 10
    for coding in codings:
        case = coding.case
        assert case.kind == Case.Kind.REFERRED
        assert case.status == Case.Status.CONCLUDED
        if coding.recorded_at is not None:
            assert coding.first_read_at == coding.recorded_at
        assert coding.coder.get_username() == coder_of_team()[case.team.name]
        assert coding.coder.teams.filter(pk=case.team_id).exists()
        assert access.roles(coding.coder) == {access.ANALYST}
        assert coding.coder_id != case.assignee_id
        assert coding.assigned_by.get_username() == "demo-supervisor"
    assert set(codings.values_list("case__team__name", flat=True)) == set(demo_data.DEMO_TEAMS)
    counts = demo_services.demo_data_counts()
    assert (counts["second codings"], counts["second codings recorded"]) == (60, 50)


@pytest.mark.django_db
def test_the_second_readings_mostly_agree_with_the_first():
    run("seed_demo")
    run("create_demo_users")

    pairs = analytics_selectors.coding_pairs(Case.objects.all())
    [overall] = analytics_selectors.agreement_by_cohort(pairs)

    assert overall.agreement.n == 50
    assert overall.disagreements == 8
    assert 0.55 <= overall.agreement.kappa <= 0.8
    assert {p.first for p in pairs} == {p.second for p in pairs} == {"positive", "negative"}
    agreeing = SecondCoding.objects.filter(note__startswith="Agrees")
    assert agreeing.count() == 42
    for coding in agreeing:
        kinds = rules.positive_findings().filter(case=coding.case_id)
        assert coding.positive_kinds == sorted(set(kinds.values_list("kind", flat=True)))


@pytest.mark.django_db
def test_create_demo_users_again_keeps_the_second_codings():
    run("seed_demo")
    run("create_demo_users")
    before = set(SecondCoding.objects.values_list("pk", "case", "coder", "recorded_at"))

    run("create_demo_users")

    assert set(SecondCoding.objects.values_list("pk", "case", "coder", "recorded_at")) == before


@pytest.mark.django_db
def test_second_codings_are_the_same_whichever_command_runs_first():
    snapshots = []
    for commands in (["seed_demo", "create_demo_users"], ["create_demo_users", "seed_demo"]):
        with transaction.atomic():
            for command in commands:
                run(command)
            snapshots.append(codings_snapshot())
            transaction.set_rollback(True)

    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0]) == 60


@pytest.mark.django_db
def test_no_second_coding_goes_to_the_cases_own_analyst():
    run("seed_demo")
    run("create_demo_users")
    analyst = get_user_model().objects.get(username="demo-analyst")
    coded = list(SecondCoding.objects.filter(coder=analyst).values_list("case", flat=True))
    SecondCoding.objects.all().delete()
    for case in Case.objects.filter(pk__in=coded):
        casework_services.case_assign(case=case, assignee=analyst)

    run("create_demo_users")

    assert SecondCoding.objects.count() > 0
    assert not SecondCoding.objects.filter(case__assignee=F("coder")).exists()
    assert not SecondCoding.objects.filter(case__in=coded).exists()


@pytest.mark.django_db
def test_no_second_codings_while_an_analyst_cannot_code():
    run("seed_demo")
    run("create_demo_users")
    SecondCoding.objects.all().delete()
    get_user_model().objects.get(username="demo-analyst-2").teams.clear()

    demo_services._second_codings_ensure()

    assert not SecondCoding.objects.exists()


# ------------------------------------------------------------------ the seed's summary


@pytest.mark.django_db
def test_seed_demo_before_the_users_says_what_waits_for_them_not_zero():
    output = run("seed_demo")

    assert "second codings: 0" not in output
    assert "assigned cases: 0" not in output
    assert "second codings: made by create_demo_users" in output


@pytest.mark.django_db
def test_after_both_commands_the_summary_gives_the_true_counts():
    run("seed_demo")

    output = run("create_demo_users")

    codings = SecondCoding.objects.filter(case__entity__is_demo=True)
    assigned = Case.objects.filter(entity__is_demo=True, assignee__isnull=False).count()
    assert f"second codings: {codings.count()}" in output
    assert codings.count() == 60
    recorded = codings.exclude(recorded_at=None).count()
    assert f"second codings recorded: {recorded}" in output
    assert f"assigned cases: {assigned}" in output and assigned > 0


@pytest.mark.django_db
def test_seed_demo_after_the_users_gives_the_true_counts():
    run("create_demo_users")

    output = run("seed_demo")

    assert "second codings: 60" in output
    assigned = Case.objects.filter(entity__is_demo=True, assignee__isnull=False).count()
    assert f"assigned cases: {assigned}" in output and assigned > 0


# ------------------------------------------------------------------------ assignments


def my_page(client, username: str, password: str):
    assert client.login(username=username, password=password), username
    response = client.get("/my/")
    client.logout()
    return response


@pytest.mark.django_db
@pytest.mark.parametrize(
    "order", [("seed_demo", "create_demo_users"), ("create_demo_users", "seed_demo")]
)
def test_each_demo_analysts_first_screen_lists_open_cases_with_waiting_leads(client, order):
    outputs = {command: run(command) for command in order}
    table = credentials(outputs["create_demo_users"])

    for username, (url, password, role) in table.items():
        if role != access.ANALYST:
            continue
        assert url.endswith("/my/")
        response = my_page(client, username, password)
        assert response.status_code == 200
        mine = Case.objects.filter(assignee__username=username)
        cases = list(response.context["cases"])
        assert set(cases) == set(mine) and len(cases) >= 10
        assert all(c.status not in (Case.Status.CONCLUDED, Case.Status.CLOSED) for c in cases)
        assert response.context["counts"]["open"] == len(cases)
        assert response.context["lead_total"] > 0
        assert {f.case_id for f in response.context["leads"]} <= {c.pk for c in cases}
        for case in cases[:3]:
            assert case.entity.name in response.content.decode()


@pytest.mark.django_db
def test_each_demo_team_has_cases_assigned_to_its_analyst_and_a_backlog():
    run("seed_demo")
    run("create_demo_users")

    for team_name, username in coder_of_team().items():
        team = Team.objects.get(name=team_name)
        assigned = team.cases.filter(assignee__isnull=False)
        assert set(assigned.values_list("assignee__username", flat=True)) == {username}
        waiting = assigned.filter(findings__review_state=Finding.ReviewState.LEAD).distinct()
        assert waiting.count() == demo_data.DEMO_ASSIGNED_WITH_LEADS
        assert team.cases.filter(assignee=None).exclude(status=Case.Status.CLOSED).exists()
    # None of them is a case the analyst second-codes.
    assert not SecondCoding.objects.filter(case__assignee=F("coder")).exists()


@pytest.mark.django_db
def test_create_demo_users_again_keeps_the_assignments():
    run("seed_demo")
    run("create_demo_users")
    before = set(Case.objects.exclude(assignee=None).values_list("pk", "assignee"))

    run("create_demo_users", "--reset")

    assert set(Case.objects.exclude(assignee=None).values_list("pk", "assignee")) == before


@pytest.mark.django_db
def test_assignments_are_the_same_whichever_command_runs_first():
    snapshots = []
    for commands in (["seed_demo", "create_demo_users"], ["create_demo_users", "seed_demo"]):
        with transaction.atomic():
            for command in commands:
                run(command)
            snapshots.append(
                set(
                    Case.objects.exclude(assignee=None).values_list(
                        "entity__name", "assignee__username"
                    )
                )
            )
            transaction.set_rollback(True)

    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0]) == 2 * (
        demo_data.DEMO_ASSIGNED_WITH_LEADS + demo_data.DEMO_ASSIGNED_WITHOUT_LEADS
    )
