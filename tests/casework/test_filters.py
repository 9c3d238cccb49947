"""The case list's filters (cases/casework/filters.py): what each filter keeps, and that
its choices offer only what the user may see."""

import datetime
from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from cases import access, derived, normalize
from cases.analytics import services as analytics_services
from cases.casework import selectors as casework_selectors
from cases.casework.filters import DEFAULT_SORT, SORT_FIELDS, CaseFilter, sort_headers
from cases.models import AllianceBloc, Case, Entity, Finding, Referral
from tests.factories import (
    CaseFactory,
    EntityFactory,
    FindingFactory,
    PostFactory,
    ReferralFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date
REFERRED_ON = D(2017, 5, 1)
CONFIRMED = Finding.ReviewState.CONFIRMED


def referred(name: str, team, *, on: D = REFERRED_ON, entity: dict | None = None, **referral):
    """A case of the team with one referral, its index date derived by the service."""
    entity = EntityFactory(name=name, **(entity or {}))
    ReferralFactory(entity=entity, date=on, date_precision="day", **referral)
    case = CaseFactory(entity=entity, team=team)
    derived.case_index_dates_refresh(case_ids=[case.pk])
    return Case.objects.get(pk=case.pk)


def case_filter(user, query: str = "") -> CaseFilter:
    """The filter as the case list builds it."""
    cases = casework_selectors.cases_with_outcome(access.visible_cases(user))
    return CaseFilter(QueryDict(query), queryset=cases, user=user)


def names(user, query: str = "") -> list[str]:
    found = case_filter(user, query)
    assert found.is_valid(), found.errors
    return sorted(found.qs.values_list("entity__name", flat=True))


def choices(found: CaseFilter, name: str) -> list[str]:
    """The labels a filter offers, its empty choice first."""
    return [str(label) for value, label in found.form.fields[name].choices]


# ------------------------------------------------------------------------------ search


def test_it_searches_names_native_names_and_aliases_ignoring_case(team, analyst):
    referred(
        "Alpha Robotics Ltd",
        team,
        entity={"name_native": "阿尔法机器人", "aliases": "AR Tech\nAlphaBot"},
    )
    referred("Bravo Optics Ltd", team)

    assert names(analyst, "q=ROBOTICS") == ["Alpha Robotics Ltd"]
    assert names(analyst, "q=机器人") == ["Alpha Robotics Ltd"]
    assert names(analyst, "q=alphabot") == ["Alpha Robotics Ltd"]
    assert names(analyst, "q=%20%20optics%20") == ["Bravo Optics Ltd"]


def test_a_search_ignores_accents_both_ways_and_legal_forms(team, analyst):
    referred("Fénent Materials GmbH", team, entity={"aliases": "Zürich Präzision"})
    referred("Fenent Optics SA", team)
    referred("Siemens AG", team, entity={"country": "DE"})
    referred("Bravo Optics Ltd", team)

    assert names(analyst, "q=fenent") == ["Fenent Optics SA", "Fénent Materials GmbH"]
    assert names(analyst, "q=FÉNENT%20materials") == ["Fénent Materials GmbH"]
    assert names(analyst, "q=zurich-prazision") == ["Fénent Materials GmbH"]
    assert names(analyst, "q=Siemens%20Aktiengesellschaft") == ["Siemens AG"]
    assert names(analyst, "q=f%C3%A9nent%20optics") == ["Fenent Optics SA"]


def test_a_search_finds_words_within_one_name_never_across_a_name_and_an_alias(team, analyst):
    # PostgreSQL searches one column of the names folded, one a line (migration 0026).
    referred("Amber Ltd", team, entity={"aliases": "Photonics Partners\nÉCOLE Ambre"})

    assert names(analyst, "q=ltd%20photonics") == []
    assert names(analyst, "q=partners%20ecole") == []
    assert names(analyst, "q=ecole%20ambre") == ["Amber Ltd"]
    assert names(analyst, "q=photonics-partners") == ["Amber Ltd"]


def test_a_search_finds_an_entity_by_its_new_name_after_a_rename(team, analyst):
    case = referred("Amber Ltd", team)
    new_name = "Granité Optics Ltd"  # written without save(), as bulk updates are
    Entity.objects.filter(pk=case.entity_id).update(
        name=new_name, name_key=normalize.name_key(new_name)
    )

    assert names(analyst, "q=amber") == []
    assert names(analyst, "q=granite") == ["Granité Optics Ltd"]


def test_a_search_of_punctuation_only_is_matched_as_typed(team, analyst):
    referred("AT&T Labs Ltd", team)
    referred("Bravo Optics Ltd", team)

    assert names(analyst, "q=%26") == ["AT&T Labs Ltd"]


def test_a_blank_search_keeps_every_case(team, analyst):
    referred("Alpha Robotics Ltd", team)
    referred("Bravo Optics Ltd", team)

    assert names(analyst, "q=%20%20") == ["Alpha Robotics Ltd", "Bravo Optics Ltd"]


def test_a_search_finds_no_case_of_another_team(team, other_team, analyst):
    referred("Alpha Robotics Ltd", team)
    referred("Alpha Robotics Overseas Ltd", other_team)

    assert names(analyst, "q=alpha") == ["Alpha Robotics Ltd"]


# ------------------------------------------------------------------------------ referrals


def test_it_keeps_one_row_for_an_entity_referred_several_times(team, analyst):
    case = referred("Alpha Robotics Ltd", team)
    ReferralFactory(entity=case.entity, date=D(2018, 1, 1))
    ReferralFactory(entity=case.entity, date=D(2019, 1, 1))

    found = case_filter(analyst, "host_country=GB&technology_field=robotics")

    assert found.is_valid(), found.errors
    assert list(found.qs.values_list("pk", flat=True)) == [case.pk]


def test_it_matches_a_host_country_of_any_referral_in_either_case(team, analyst):
    case = referred("Alpha Robotics Ltd", team, host_country="GB")
    ReferralFactory(entity=case.entity, host_country="FR", date=D(2019, 1, 1))
    referred("Bravo Optics Ltd", team, host_country="DE")

    assert names(analyst, "host_country=fr") == ["Alpha Robotics Ltd"]
    assert names(analyst, "host_country=%20gb%20") == ["Alpha Robotics Ltd"]
    assert names(analyst, "host_country=JP") == []


@pytest.mark.parametrize(
    "typed", ["Germany", "germany", "DE", "de", "DEU", "Federal Republic of Germany", " Germany "]
)
def test_it_reads_a_host_country_as_an_english_name_or_an_iso_code(team, analyst, typed):
    referred("Alpha Robotics Ltd", team, host_country="DE")
    referred("Bravo Optics Ltd", team, host_country="GB")

    found = case_filter(analyst, urlencode({"host_country": typed}))

    assert found.is_valid(), found.errors
    assert found.form.cleaned_data["host_country"] == "DE"
    assert sorted(found.qs.values_list("entity__name", flat=True)) == ["Alpha Robotics Ltd"]


@pytest.mark.parametrize("typed", ["Germany2", "QQ", "XX", "Atlantis", "' OR 1=1 --", "D" * 150])
def test_a_host_country_that_is_no_country_is_refused(team, analyst, typed):
    found = case_filter(analyst, urlencode({"host_country": typed}))

    assert not found.is_valid()
    assert "host_country" in found.errors
    [refusal] = found.refusals()
    assert refusal.label == "Host country"
    assert refusal.value == typed
    assert refusal.anchor == "id_host_country"


def test_the_post_filter_is_labelled_and_names_each_post_and_its_country(team, analyst):
    paris = PostFactory(name="Embassy in Paris", city="Paris", host_country="FR")
    referred("Alpha Robotics Ltd", team, post=paris, host_country="FR")

    found = case_filter(analyst)

    assert found.form["post"].label == "Referring post"
    assert "invalid name" not in str(found.form["post"].label_tag())
    assert choices(found, "post") == ["---------", "Embassy in Paris, France"]


def test_every_filter_has_a_label_of_its_own(analyst):
    labels = [str(field.label) for field in case_filter(analyst).form]

    assert not any("invalid" in label for label in labels), labels
    assert len(set(labels)) == len(labels)


def test_it_filters_on_the_post_the_field_and_the_cooperation_sought(team, analyst):
    paris = PostFactory(name="Embassy in Paris", city="Paris", host_country="FR")
    referred(
        "Alpha Robotics Ltd",
        team,
        post=paris,
        host_country="FR",
        technology_field="robotics",
        cooperation_methods=["joint_venture", "joint_rd"],
    )
    referred(
        "Bravo Optics Ltd",
        team,
        technology_field="optics",
        cooperation_methods=["investment"],
    )

    assert names(analyst, f"post={paris.pk}") == ["Alpha Robotics Ltd"]
    assert names(analyst, "technology_field=optics") == ["Bravo Optics Ltd"]
    assert names(analyst, "cooperation_method=joint_rd") == ["Alpha Robotics Ltd"]
    assert names(analyst, "cooperation_method=investment") == ["Bravo Optics Ltd"]
    assert names(analyst, "cooperation_method=equity_purchase") == []


def test_it_filters_on_the_alliance_bloc_at_referral(team, analyst):
    nato = referred("Alpha Robotics Ltd", team)
    referred("Bravo Optics Ltd", team)
    Referral.objects.filter(entity=nato.entity).update(alliance_bloc=AllianceBloc.NATO)
    Referral.objects.exclude(entity=nato.entity).update(alliance_bloc=AllianceBloc.MNNA)

    assert names(analyst, "bloc=nato") == ["Alpha Robotics Ltd"]
    assert names(analyst, "bloc=mnna") == ["Bravo Optics Ltd"]
    assert names(analyst, "bloc=russia") == []


def test_it_offers_only_the_technology_fields_of_the_users_cases(team, other_team, analyst):
    referred("Alpha Robotics Ltd", team, technology_field="robotics")
    referred("Alpha Sensors Ltd", team, technology_field="")
    referred("Alpha Optics Ltd", team, technology_field="optics")
    referred("Alpha Robotics Two Ltd", team, technology_field="robotics")
    referred("Bravo Quantum Ltd", other_team, technology_field="Secret Quantum Sensing")

    assert choices(case_filter(analyst), "technology_field") == ["---------", "optics", "robotics"]


def test_a_technology_field_of_another_team_is_refused(team, other_team, analyst):
    referred("Alpha Robotics Ltd", team, technology_field="robotics")
    referred("Bravo Quantum Ltd", other_team, technology_field="quantum")

    found = case_filter(analyst, "technology_field=quantum")

    assert not found.is_valid()
    assert "technology_field" in found.errors


def test_it_filters_on_the_referral_year(team, analyst):
    referred("Alpha Robotics Ltd", team, on=D(2017, 5, 1))
    referred("Bravo Optics Ltd", team, on=D(2019, 2, 1))

    assert names(analyst, "year=2019") == ["Bravo Optics Ltd"]
    assert names(analyst, "year=2018") == []


@pytest.mark.parametrize("year", ["1500", "3000", "twenty"])
def test_a_year_that_is_not_a_referral_year_is_refused(team, analyst, year):
    found = case_filter(analyst, f"year={year}")

    assert not found.is_valid()
    assert "year" in found.errors


# ------------------------------------------------------------------------------ the case


def test_it_filters_on_the_status_several_at_once(team, analyst):
    referred("Alpha Robotics Ltd", team)
    referred("Bravo Optics Ltd", team)
    referred("Charlie Sensors Ltd", team)
    Case.objects.filter(entity__name="Alpha Robotics Ltd").update(status=Case.Status.MONITORING)
    Case.objects.filter(entity__name="Bravo Optics Ltd").update(status=Case.Status.CLOSED)

    assert names(analyst, "status=monitoring&status=closed") == [
        "Alpha Robotics Ltd",
        "Bravo Optics Ltd",
    ]
    assert names(analyst, "status=open") == ["Charlie Sensors Ltd"]


def test_an_unknown_status_is_refused(team, analyst):
    found = case_filter(analyst, "status=lost")

    assert not found.is_valid()
    assert "status" in found.errors


def test_it_filters_on_the_entity_type_and_on_referred_or_control(team, analyst):
    referred("Alpha Robotics Ltd", team)
    referred("Alpha University", team, entity={"kind": Entity.Kind.UNIVERSITY})
    analytics_services.control_case_create(
        name="Alpha Control Ltd",
        country="GB",
        kind=Entity.Kind.COMPANY,
        technology_fields="robotics",  # matched on the referred case's field
        matched_case=Case.objects.get(entity__name="Alpha Robotics Ltd"),
    )

    assert names(analyst, "entity_type=university") == ["Alpha University"]
    assert names(analyst, "kind=control") == ["Alpha Control Ltd"]
    assert names(analyst, "kind=referred") == ["Alpha Robotics Ltd", "Alpha University"]


def test_it_keeps_the_cases_with_an_outcome_or_without_one(team, analyst):
    positive = referred("Alpha Robotics Ltd", team)
    before = referred("Bravo Optics Ltd", team)
    elsewhere = referred("Charlie Sensors Ltd", team)
    referred("Delta Labs Ltd", team)
    for case, country, on in (
        (positive, "CN", D(2019, 3, 1)),
        (before, "CN", D(2015, 3, 1)),  # before the referral
        (elsewhere, "US", D(2019, 3, 1)),  # not a Chinese counterparty
    ):
        derived.finding_create(
            case=case,
            kind=Finding.Kind.JOINT_VENTURE,
            counterparty_name="Shenzhen Example Co.",
            counterparty_country=country,
            event_date=on,
            event_date_precision="day",
            review_state=CONFIRMED,
        )

    assert names(analyst, "outcome=positive") == ["Alpha Robotics Ltd"]
    assert names(analyst, "outcome=none") == [
        "Bravo Optics Ltd",
        "Charlie Sensors Ltd",
        "Delta Labs Ltd",
    ]


def test_it_keeps_the_cases_with_leads_to_review_or_without(team, analyst):
    with_lead = referred("Alpha Robotics Ltd", team)
    reviewed = referred("Bravo Optics Ltd", team)
    referred("Charlie Sensors Ltd", team)
    FindingFactory(case=with_lead, source="gleif", external_id="L-1")
    derived.finding_create(
        case=reviewed, kind=Finding.Kind.JOINT_VENTURE, review_state=Finding.ReviewState.REJECTED
    )

    assert names(analyst, "has_leads=true") == ["Alpha Robotics Ltd"]
    assert names(analyst, "has_leads=false") == ["Bravo Optics Ltd", "Charlie Sensors Ltd"]
    assert len(names(analyst, "has_leads=")) == 3


# ------------------------------------------------------------------------------ people


def test_it_offers_only_the_users_teams(team, other_team, analyst):
    found = case_filter(analyst, f"team={other_team.pk}")

    assert choices(found, "team") == ["---------", "Team A"]
    assert not found.is_valid()
    assert "team" in found.errors


def test_it_offers_as_assignees_the_active_members_of_the_users_teams(
    team, analyst, colleague, other_analyst, no_role
):
    UserFactory(username="gone", is_active=False).teams.add(team)

    assert choices(case_filter(analyst), "assignee") == [
        "---------",
        "nobody",
        "alice",
        "bob",
        "nora",
    ]


def test_it_offers_an_admin_every_active_user_as_assignee(staff, analyst, other_analyst):
    UserFactory(username="gone", is_active=False)

    assert choices(case_filter(staff), "assignee") == [
        "---------",
        "nobody",
        "alice",
        "olga",
        "root",
    ]


def test_it_filters_on_the_assignee_or_on_nobody(team, analyst, colleague):
    referred("Alpha Robotics Ltd", team)
    referred("Bravo Optics Ltd", team)
    referred("Charlie Sensors Ltd", team)
    Case.objects.filter(entity__name="Alpha Robotics Ltd").update(assignee=analyst)
    Case.objects.filter(entity__name="Bravo Optics Ltd").update(assignee=colleague)

    assert names(analyst, f"assignee={colleague.pk}") == ["Bravo Optics Ltd"]
    assert names(analyst, "assignee=null") == ["Charlie Sensors Ltd"]


def test_an_assignee_of_another_team_is_refused(team, analyst, other_analyst):
    found = case_filter(analyst, f"assignee={other_analyst.pk}")

    assert not found.is_valid()
    assert "assignee" in found.errors


# ------------------------------------------------------------------------------ cohorts


def test_it_offers_the_cohorts_the_user_made_or_that_hold_their_cases(
    team, other_team, supervisor, other_supervisor
):
    mine = referred("Alpha Robotics Ltd", team)
    theirs = referred("Bravo Optics Ltd", other_team)
    cases = Case.objects.filter
    analytics_services.cohort_save(name="Empty of mine", cases=cases(pk=0), actor=supervisor)
    analytics_services.cohort_save(name="Holds mine", cases=cases(pk=mine.pk), actor=None)
    analytics_services.cohort_save(
        name="Mixed", cases=cases(pk__in=[mine.pk, theirs.pk]), actor=other_supervisor
    )
    hidden = analytics_services.cohort_save(
        name="Theirs only", cases=cases(pk=theirs.pk), actor=other_supervisor
    )

    found = case_filter(supervisor, f"cohort={hidden.pk}")

    assert choices(found, "cohort") == ["---------", "Empty of mine", "Holds mine", "Mixed"]
    assert not found.is_valid()
    assert "cohort" in found.errors


def test_it_keeps_the_users_cases_of_a_cohort(team, other_team, supervisor):
    mine = referred("Alpha Robotics Ltd", team)
    referred("Alpha Optics Ltd", team)
    theirs = referred("Bravo Optics Ltd", other_team)
    mixed = analytics_services.cohort_save(
        name="Mixed", cases=Case.objects.filter(pk__in=[mine.pk, theirs.pk]), actor=None
    )

    assert names(supervisor, f"cohort={mixed.pk}") == ["Alpha Robotics Ltd"]


# ------------------------------------------------------------------------------ sorting


def test_it_sorts_by_name_either_way(team, analyst):
    for name in ("Bravo Optics Ltd", "Alpha Robotics Ltd", "Charlie Sensors Ltd"):
        referred(name, team)

    ascending = list(case_filter(analyst, "sort=name").qs.values_list("entity__name", flat=True))
    descending = list(case_filter(analyst, "sort=-name").qs.values_list("entity__name", flat=True))

    assert ascending == ["Alpha Robotics Ltd", "Bravo Optics Ltd", "Charlie Sensors Ltd"]
    assert descending == list(reversed(ascending))


def test_it_sorts_by_the_number_of_leads(team, analyst):
    few = referred("Alpha Robotics Ltd", team)
    many = referred("Bravo Optics Ltd", team)
    referred("Charlie Sensors Ltd", team)
    FindingFactory(case=few, source="gleif", external_id="F-1")
    for n in range(3):
        FindingFactory(case=many, source="gleif", external_id=f"M-{n}")

    found = case_filter(analyst, "sort=-leads")

    assert list(found.qs.values_list("entity__name", "lead_count")) == [
        ("Bravo Optics Ltd", 3),
        ("Alpha Robotics Ltd", 1),
        ("Charlie Sensors Ltd", 0),
    ]


@pytest.mark.parametrize("key", list(SORT_FIELDS))
def test_every_sort_key_sorts_either_way_with_empty_values_last(team, analyst, key):
    referred("Alpha Robotics Ltd", team)
    referred("Bravo Optics Ltd", team, on=D(2019, 1, 1))
    blank = CaseFactory(entity=EntityFactory(name="Zulu Blank Ltd"), team=None)
    Case.objects.filter(pk=blank.pk).update(team=None)
    admin = UserFactory(is_superuser=True, is_staff=True)  # sees the case with no team

    for sort in (key, f"-{key}"):
        found = case_filter(admin, f"sort={sort}")
        assert found.is_valid(), found.errors
        ordered = list(found.qs.values_list("entity__name", flat=True))
        assert len(ordered) == 3
        if key in ("index_date", "team", "assignee"):  # the blank case has none of these
            assert ordered[-1] == "Zulu Blank Ltd", (sort, ordered)


@pytest.mark.parametrize("sort", ["leads", "-outcome", "leads,-name"])
def test_a_sort_by_a_count_is_left_out_where_the_cases_are_not_counted(team, analyst, sort):
    """The cohort and identifier jobs re-read the list's query, sort and all, on cases
    without the list's counts; they must not fail on it."""
    referred("Alpha Robotics Ltd", team)
    referred("Bravo Optics Ltd", team)

    found = CaseFilter(
        QueryDict(f"sort={sort}"), queryset=access.visible_cases(analyst), user=analyst
    )

    assert found.is_valid(), found.errors
    assert sorted(found.qs.values_list("entity__name", flat=True)) == [
        "Alpha Robotics Ltd",
        "Bravo Optics Ltd",
    ]


def test_it_sorts_by_the_newest_referral_unless_told(team, analyst):
    referred("Alpha Robotics Ltd", team, on=D(2016, 1, 1))
    referred("Bravo Optics Ltd", team, on=D(2019, 1, 1))
    referred("Charlie Sensors Ltd", team, on=D(2017, 1, 1))

    found = case_filter(analyst)

    assert found.current_sort() == DEFAULT_SORT == "-index_date"
    assert list(found.qs.values_list("entity__name", flat=True)) == [
        "Bravo Optics Ltd",
        "Charlie Sensors Ltd",
        "Alpha Robotics Ltd",
    ]


def test_a_header_links_to_its_sort_toggled_and_keeps_the_other_parameters():
    query = QueryDict("status=open&status=monitoring&host_country=Germany&page=3&sort=name")

    headers = sort_headers(query, "name")

    assert headers["name"].direction == "ascending"
    assert QueryDict(headers["name"].href[1:])["sort"] == "-name"
    assert headers["country"].direction == ""
    linked = QueryDict(headers["country"].href[1:])
    assert linked["sort"] == "country"
    assert linked.getlist("status") == ["open", "monitoring"]
    assert linked["host_country"] == "Germany"
    assert "page" not in linked
    assert sort_headers(query, "-name")["name"].direction == "descending"
    assert QueryDict(sort_headers(query, "-name")["name"].href[1:])["sort"] == "name"


def test_an_unknown_sort_is_refused(team, analyst):
    found = case_filter(analyst, "sort=password")

    assert not found.is_valid()
    assert "sort" in found.errors


def test_it_offers_only_the_posts_that_referred_the_users_cases(team, other_team, analyst):
    paris = PostFactory(name="Embassy in Paris", city="Paris", host_country="FR")
    rome = PostFactory(name="Embassy in Rome", city="Rome", host_country="IT")
    PostFactory(name="Embassy in Oslo", city="Oslo", host_country="NO")  # referred nothing
    referred("Alpha Robotics Ltd", team, post=paris, host_country="FR")
    referred("Alpha Robotics Two Ltd", team, post=paris, host_country="FR")
    referred("Bravo Quantum Ltd", other_team, post=rome, host_country="IT")

    assert choices(case_filter(analyst), "post") == ["---------", "Embassy in Paris, France"]


def test_a_post_of_another_teams_cases_is_refused(team, other_team, analyst):
    rome = PostFactory(name="Embassy in Rome", city="Rome", host_country="IT")
    referred("Alpha Robotics Ltd", team)
    referred("Bravo Quantum Ltd", other_team, post=rome, host_country="IT")

    found = case_filter(analyst, f"post={rome.pk}")

    assert not found.is_valid()
    assert "post" in found.errors


# ------------------------------------------------------------------------------ the form


def assert_drawn_as_djangos_templates_draw(form) -> list[str]:
    """Each field of the form as its Jinja2 renderer draws it is the HTML Django's own
    widget templates draw; the fields as drawn."""
    from django.forms.renderers import DjangoTemplates
    from django.test.html import parse_html

    fast = [str(field) for field in form]
    form.renderer = DjangoTemplates()
    for drawn, field in zip(fast, form, strict=True):
        assert parse_html(drawn) == parse_html(str(field)), field.name
    return fast


def test_the_form_draws_the_same_html_as_djangos_own_widget_templates(team, analyst):
    # The filter form draws its widgets with Jinja2 for speed; the page must not change.
    post = PostFactory(name="Consulate in Munich", host_country="DE")
    referred("Alpha Robotics Ltd", team, post=post, technology_field="robotics")
    bound = case_filter(analyst, "status=open&q=alpha&assignee=&post=999999")

    fast = assert_drawn_as_djangos_templates_draw(bound.form)

    assert len(fast) == len(bound.form.fields)


def test_the_bulk_form_draws_the_same_html_as_djangos_own_widget_templates(team, analyst):
    from cases.casework.list_forms import BulkActionForm

    form = BulkActionForm(initial={"filter_query": "status=open"}, user=analyst)

    assert "<option" in "".join(assert_drawn_as_djangos_templates_draw(form))
