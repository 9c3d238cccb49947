"""The research pages: sign-in, the case list and its CSV, the case page and its forms,
lead review one by one and in bulk, and my work. Who may do what is in
tests/test_permissions.py; these tests are about what each page does."""

import csv
import datetime
import io
import re
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest
import responses
from django.contrib.messages import get_messages
from django.core.paginator import Paginator
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cases import access, derived
from cases.casework import selectors as casework_selectors
from cases.casework import services as casework_services
from cases.casework.filters import CaseFilter
from cases.checks.sources import get_sources
from cases.exports import CASE_LIST_FIELDS
from cases.models import AuditEvent, Case, CaseStatusChange, CheckRun, Cohort, Entity, Finding
from tests import commented_csv
from tests.clients import Client
from tests.factories import (
    AnalystFactory,
    CaseFactory,
    CheckRunFactory,
    EntityFactory,
    FindingFactory,
    PostFactory,
    ReferralFactory,
    SupervisorFactory,
    TeamFactory,
    UserFactory,
)
from wishlist.version import code_version

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
HOSTILE = "<script>alert(1)</script>"
HOSTILE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
LEAD = Finding.ReviewState.LEAD
CONFIRMED = Finding.ReviewState.CONFIRMED
REJECTED = Finding.ReviewState.REJECTED


def with_lei_check_digits(base: str) -> str:
    """Return a valid LEI for an 18-character base (ISO 7064 mod 97-10)."""
    digits = "".join(str(int(ch, 36)) for ch in base + "00")
    return f"{base}{98 - int(digits) % 97:02d}"


VALID_LEI = with_lei_check_digits("5299000EXAMPLE0001")
BAD_LEI = VALID_LEI[:-2] + ("00" if VALID_LEI[-2:] != "00" else "01")


@pytest.fixture
def alice(client, analyst):
    """A client signed in as an analyst of the team."""
    client.force_login(analyst)
    return client


@pytest.fixture
def bob(colleague):
    client = Client()
    client.force_login(colleague)
    return client


def make_case(name: str, team, *, entity: dict | None = None, **fields) -> Case:
    """A case of the team, referred in May 2017 unless told otherwise."""
    fields.setdefault("index_date", datetime.date(2017, 5, 1))
    fields.setdefault("index_date_precision", "month")
    return CaseFactory(entity=EntityFactory(name=name, **(entity or {})), team=team, **fields)


@pytest.fixture
def case(team):
    return make_case("Alpha Robotics Ltd", team)


@pytest.fixture
def lead(case):
    lead = FindingFactory(
        case=case,
        source="gleif",
        external_id="LEAD-1",
        counterparty_name="Shenzhen Lead Co.",
        match_score=88,
        match_explanation="name 'Alpha Robotics' matched exactly",
        excerpt="Alpha Robotics and Shenzhen Lead Co. sign a joint venture.",
        source_url="https://news.example.org/jv",
    )
    derived.finding_timings_refresh(case_ids=[case.pk])
    lead.refresh_from_db()
    return lead


def names(response) -> list[str]:
    return [c.entity.name for c in response.context["page"].object_list]


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def body(response) -> str:
    return response.content.decode()


def csv_rows(response) -> list[list[str]]:
    return commented_csv.table(b"".join(response.streaming_content).decode())


def case_now(case: Case) -> Case:
    return Case.objects.select_related("entity").get(pk=case.pk)


# ------------------------------------------------------------------ sign in and out


def test_it_shows_the_login_page(client, db):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert 'name="username"' in body(response)
    assert "csrfmiddlewaretoken" in body(response)


def test_it_signs_in(client, analyst):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("cases:my_work")
    assert client.get(reverse("cases:my_work")).status_code == 200


def test_it_shows_an_error_for_a_wrong_password(client, analyst):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})

    assert response.status_code == 200
    assert "Your username and password didn't match." in body(response)
    assert "_auth_user_id" not in client.session


def test_it_ignores_next_to_another_host(client, analyst):
    response = client.post(
        reverse("login"),
        {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"},
    )

    assert response.status_code == 302
    assert response.url == reverse("cases:my_work")


def test_it_follows_a_local_next(client, analyst):
    response = client.post(
        reverse("login"), {"username": "alice", "password": PASSWORD, "next": "/cases/"}
    )

    assert response.status_code == 302
    assert response.url == "/cases/"


def test_it_carries_next_through_the_login_form(client, db):
    response = client.get(reverse("login") + "?next=/cases/")

    assert 'name="next" value="/cases/"' in body(response)


def test_it_signs_out_only_by_post(alice):
    assert alice.get(reverse("logout")).status_code == 405
    assert alice.get(reverse("cases:my_work")).status_code == 200

    response = alice.post(reverse("logout"))

    assert response.status_code == 302
    assert response.url == reverse("login")
    assert alice.get(reverse("cases:my_work")).status_code == 302


# ------------------------------------------------------------------ case list: filters


@pytest.fixture
def cast(team, analyst, colleague):
    """Four cases differing in every filtered attribute; alice is on both teams."""
    second = TeamFactory(name="Second")
    second.members.add(analyst)
    berlin = PostFactory(name="Embassy in Berlin", host_country="DE")
    osaka = PostFactory(name="Consulate in Osaka", host_country="JP")

    alpha = make_case(
        "Alpha Robotics",
        team,
        entity={
            "country": "DE",
            "name_native": "阿尔法机器人",
            "aliases": "Alpha Robo Systems\nARS GmbH",
        },
        assignee=analyst,
    )
    ReferralFactory(
        entity=alpha.entity,
        post=berlin,
        host_country="DE",
        alliance_bloc="nato",
        technology_field="robotics",
        cooperation_methods=["joint_venture"],
    )
    FindingFactory(
        case=alpha,
        review_state=CONFIRMED,
        reviewed_at=timezone.now(),
        timing=Finding.Timing.AFTER,
        counterparty_country="CN",
    )

    bravo = make_case(
        "Bravo Optics",
        team,
        entity={"country": "FR", "kind": Entity.Kind.UNIVERSITY},
        status=Case.Status.MONITORING,
        assignee=colleague,
        index_date=datetime.date(2018, 2, 1),
    )
    ReferralFactory(
        entity=bravo.entity,
        post=osaka,
        host_country="JP",
        alliance_bloc="mnna",
        technology_field="optics",
        cooperation_methods=["patent_licence", "investment"],
        date=datetime.date(2018, 2, 1),
    )
    FindingFactory(case=bravo, source="gdelt", external_id="B-1")  # a lead

    charlie = make_case(
        "Charlie Materials",
        team,
        entity={"country": "GB", "kind": Entity.Kind.RESEARCH_INSTITUTE},
        status=Case.Status.IN_REVIEW,
        index_date=datetime.date(2016, 1, 1),
    )
    ReferralFactory(
        entity=charlie.entity,
        post=None,
        host_country="IN",
        alliance_bloc="other",
        technology_field="materials",
        cooperation_methods=["investment"],
        date=datetime.date(2016, 1, 1),
    )
    FindingFactory(  # confirmed, Chinese, but before the referral: no outcome
        case=charlie,
        review_state=CONFIRMED,
        reviewed_at=timezone.now(),
        timing=Finding.Timing.BEFORE,
    )

    delta = make_case(
        "Delta Second Team", second, entity={"country": "GB"}, index_date=datetime.date(2019, 1, 1)
    )
    ReferralFactory(
        entity=delta.entity,
        host_country="GB",
        alliance_bloc="nato",
        technology_field="robotics",
        date=datetime.date(2019, 1, 1),
    )
    return SimpleNamespace(alice=analyst, bob=colleague, second=second, berlin=berlin, osaka=osaka)


ALL = {"Alpha Robotics", "Bravo Optics", "Charlie Materials", "Delta Second Team"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (lambda c: "", ALL),
        (lambda c: "status=monitoring", {"Bravo Optics"}),
        (lambda c: "status=monitoring&status=in_review", {"Bravo Optics", "Charlie Materials"}),
        (lambda c: f"assignee={c.alice.pk}", {"Alpha Robotics"}),
        (lambda c: f"assignee={c.bob.pk}", {"Bravo Optics"}),
        (lambda c: "assignee=null", {"Charlie Materials", "Delta Second Team"}),
        (lambda c: f"team={c.second.pk}", {"Delta Second Team"}),
        (lambda c: "host_country=jp", {"Bravo Optics"}),
        (lambda c: "host_country=DE", {"Alpha Robotics"}),
        (lambda c: "bloc=nato", {"Alpha Robotics", "Delta Second Team"}),
        (lambda c: "bloc=mnna", {"Bravo Optics"}),
        (lambda c: f"post={c.osaka.pk}", {"Bravo Optics"}),
        (lambda c: f"post={c.berlin.pk}", {"Alpha Robotics"}),
        (lambda c: "technology_field=robotics", {"Alpha Robotics", "Delta Second Team"}),
        (lambda c: "entity_type=university", {"Bravo Optics"}),
        (lambda c: "entity_type=research_institute", {"Charlie Materials"}),
        (lambda c: "cooperation_method=investment", {"Bravo Optics", "Charlie Materials"}),
        (lambda c: "cooperation_method=patent_licence", {"Bravo Optics"}),
        (lambda c: "year=2018", {"Bravo Optics"}),
        (lambda c: "outcome=positive", {"Alpha Robotics"}),
        (
            lambda c: "outcome=none",
            {"Bravo Optics", "Charlie Materials", "Delta Second Team"},
        ),
        (lambda c: "has_leads=true", {"Bravo Optics"}),
        (
            lambda c: "has_leads=false",
            {"Alpha Robotics", "Charlie Materials", "Delta Second Team"},
        ),
        (lambda c: "q=optics", {"Bravo Optics"}),
        (lambda c: "q=ALPHA", {"Alpha Robotics"}),
        (lambda c: "q=robo+systems", {"Alpha Robotics"}),  # an alias
        (lambda c: "q=ARS+GmbH", {"Alpha Robotics"}),  # another alias
        (lambda c: "q=阿尔法", {"Alpha Robotics"}),  # the native name
        (lambda c: "q=nothing+like+it", set()),
        (
            lambda c: "status=open&bloc=nato&technology_field=robotics",
            ALL - {"Bravo Optics", "Charlie Materials"},
        ),
    ],
)
def test_it_filters_the_case_list(alice, cast, query, expected):
    response = alice.get(reverse("cases:case_list") + "?" + query(cast))

    assert response.status_code == 200
    assert set(names(response)) == expected
    assert response.context["page"].paginator.count == len(expected)


@pytest.mark.parametrize(
    ("query", "field", "label", "value"),
    [
        ("host_country=Germany2", "host_country", "Host country", "Germany2"),
        (
            "host_country=%3Cscript%3Ealert(1)%3C/script%3E",
            "host_country",
            "Host country",
            "<script>alert(1)</script>",
        ),
        ("year=soon", "year", "Referral year", "soon"),
        ("status=bogus", "status", "Status", "bogus"),
        ("post=999999", "post", "Referring post", "999999"),
        ("sort=password", "sort", "Sort", "password"),
    ],
)
def test_a_list_with_a_filter_it_cannot_read_lists_no_case_and_says_why(
    alice, cast, query, field, label, value
):
    """Listing every case under a filter the analyst believes applied would give a count,
    a CSV or a cohort that looks right and is not; the list refuses instead."""
    response = alice.get(reverse("cases:case_list") + "?" + query + "&bloc=nato")

    assert response.status_code == 400
    assert names(response) == []
    assert field in response.context["filter"].form.errors
    banner = re.search(r'<div class="form-errors" role="alert".*?</div>', body(response), re.S)
    assert banner, "no error banner"
    assert label in banner.group(0)
    assert escape(value) in banner.group(0)
    assert "<script>alert" not in body(response)
    assert 'href="#id_' in banner.group(0) or 'href="#case-table"' in banner.group(0)
    assert "none listed" in body(response)
    assert "Download these cases as CSV" not in body(response)
    assert 'id="cohort-forms"' not in body(response)
    assert 'id="resolve-form"' not in body(response)


def test_it_names_every_filter_it_cannot_read(alice, cast):
    response = alice.get(reverse("cases:case_list") + "?year=soon&status=bogus&host_country=Mars")

    refused = {r.label: r.value for r in response.context["refusals"]}
    assert refused == {"Referral year": "soon", "Status": "bogus", "Host country": "Mars"}
    assert "3 filters could not be read" in body(response)


def test_it_refuses_a_csv_under_a_filter_it_cannot_read(alice, cast):
    before = AuditEvent.objects.count()

    response = alice.get(reverse("cases:case_list") + "?format=csv&host_country=Germany2")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "Host country \u201cGermany2\u201d" in body(response)
    assert AuditEvent.objects.count() == before  # nothing was exported


@pytest.mark.parametrize("typed", ["Germany", "germany", "DE", "de", "DEU"])
def test_it_reads_the_host_country_as_a_name_or_a_code(alice, cast, typed):
    response = alice.get(reverse("cases:case_list") + f"?host_country={typed}")

    assert response.status_code == 200
    assert names(response) == ["Alpha Robotics"]
    assert 'maxlength="2"' not in body(response)


def test_it_labels_the_post_filter_and_its_posts(alice, cast):
    page = body(alice.get(reverse("cases:case_list")))

    assert '<label for="id_post">Referring post</label>' in page
    assert "invalid name" not in page
    assert "Embassy in Berlin, Germany</option>" in page
    assert "Consulate in Osaka, Japan</option>" in page


@pytest.mark.parametrize("year", ["0", "10000", "99999999999999999999"])
def test_it_refuses_a_year_out_of_range_instead_of_failing(alice, cast, year):
    alice.raise_request_exception = False

    response = alice.get(reverse("cases:case_list") + f"?year={year}")

    assert response.status_code == 400
    assert "year" in response.context["filter"].form.errors
    assert names(response) == []


# ------------------------------------------------------------------ case list: sorting, pages


@pytest.fixture
def trio(team):
    """Three cases in a different order for every sort key."""
    now = timezone.now()
    alpha = make_case(
        "Alpha",
        team,
        entity={"country": "DE"},
        index_date=datetime.date(2016, 1, 1),
        priority=Case.Priority.LOW,
    )
    bravo = make_case(
        "Bravo",
        team,
        entity={"country": "FR"},
        index_date=datetime.date(2018, 1, 1),
        status=Case.Status.IN_REVIEW,
        priority=Case.Priority.HIGH,
    )
    charlie = make_case(
        "Charlie",
        team,
        entity={"country": "GB"},
        index_date=datetime.date(2017, 1, 1),
        status=Case.Status.MONITORING,
        priority=Case.Priority.NORMAL,
    )
    for n in range(2):
        FindingFactory(case=alpha, source="gdelt", external_id=f"A{n}")
    FindingFactory(case=charlie, source="gdelt", external_id="C0")
    for offset, c in ((3, alpha), (1, bravo), (2, charlie)):
        Case.objects.filter(pk=c.pk).update(updated_at=now + datetime.timedelta(hours=offset))


@pytest.mark.parametrize(
    ("key", "ascending"),
    [
        ("index_date", ["Alpha", "Charlie", "Bravo"]),
        ("name", ["Alpha", "Bravo", "Charlie"]),
        ("country", ["Alpha", "Bravo", "Charlie"]),
        ("status", ["Bravo", "Charlie", "Alpha"]),  # in_review, monitoring, open
        ("priority", ["Alpha", "Charlie", "Bravo"]),
        ("leads", ["Bravo", "Charlie", "Alpha"]),
        ("updated", ["Bravo", "Charlie", "Alpha"]),
    ],
)
def test_it_sorts_the_case_list(alice, trio, key, ascending):
    up = alice.get(reverse("cases:case_list") + f"?sort={key}")
    down = alice.get(reverse("cases:case_list") + f"?sort=-{key}")

    assert names(up) == ascending
    assert names(down) == ascending[::-1]


def test_it_puts_the_newest_referral_first_by_default(alice, team, trio):
    """The list's first order is by a column it shows (Referred), not by the priority it
    does not; cases with no referral date come last."""
    make_case("Delta", team, index_date=datetime.date(2019, 1, 1), priority=Case.Priority.LOW)
    make_case("Echo", team, index_date=None, index_date_precision="", priority=Case.Priority.HIGH)

    response = alice.get(reverse("cases:case_list"))

    assert names(response) == ["Delta", "Bravo", "Charlie", "Alpha", "Echo"]
    referred = re.search(r"<th[^>]*>(?:(?!</th>).)*Referred(?:(?!</th>).)*</th>", body(response))
    assert 'aria-sort="descending"' in referred.group(0)
    assert "▼" in referred.group(0)


def headers(response) -> dict[str, str]:
    """The case table's header cells by their text, arrows left out (not the column of
    bulk picks)."""
    cells = re.findall(r"<th[^>]*>.*?</th>", body(response).split('id="case-table"')[1])
    return {
        re.sub(r"<[^>]+>|[▲▼\s]", "", cell): cell for cell in cells if 'class="pick"' not in cell
    }


def header_link(cell: str) -> dict[str, list[str]]:
    href = re.search(r'href="\?([^"]*)"', cell).group(1).replace("&amp;", "&")
    return parse_qs(href)


def test_every_column_header_sorts_and_keeps_the_filters(alice, trio):
    response = alice.get(reverse("cases:case_list") + "?status=open&per_page=25&page=2")

    cells = headers(response)
    assert list(cells) == [
        "Entity",
        "Type",
        "Country",
        "Referred",
        "Status",
        "Team",
        "Assignee",
        "Leads",
        "Outcome",
    ]
    for cell in cells.values():
        query = header_link(cell)
        assert query["status"] == ["open"]
        assert query["per_page"] == ["25"]
        assert "page" not in query  # a new order starts on the first page
    assert header_link(cells["Entity"])["sort"] == ["name"]


def test_a_header_toggles_its_sort_and_shows_an_arrow(alice, trio):
    up = headers(alice.get(reverse("cases:case_list") + "?sort=name"))
    down = headers(alice.get(reverse("cases:case_list") + "?sort=-name"))

    assert 'aria-sort="ascending"' in up["Entity"] and "▲" in up["Entity"]
    assert header_link(up["Entity"])["sort"] == ["-name"]
    assert 'aria-sort="descending"' in down["Entity"] and "▼" in down["Entity"]
    assert header_link(down["Entity"])["sort"] == ["name"]
    assert "aria-sort" not in up["Country"] and "▲" not in up["Country"]
    assert header_link(up["Country"])["sort"] == ["country"]


def test_the_filter_form_keeps_the_sort_without_a_dropdown(alice, trio):
    page = body(alice.get(reverse("cases:case_list") + "?sort=-leads"))

    form = page.split('id="case-filters"')[1].split("</form>")[0]
    assert '<input type="hidden" name="sort" value="-leads" id="id_sort">' in form
    assert '<select name="sort"' not in form


def test_it_keeps_dates_on_one_line(alice, trio):
    page = body(alice.get(reverse("cases:case_list")))

    assert re.search(r'<td class="date">2018[-0-9]*</td>', page)


def test_it_pages_the_case_list(alice, team):
    for n in range(60):
        make_case(f"Paged {n:02d} Ltd", team)
    url = reverse("cases:case_list")

    first = alice.get(url)
    second = alice.get(url + "?page=2")
    small = alice.get(url + "?per_page=25&page=3")
    odd_size = alice.get(url + "?per_page=7")
    past_the_end = alice.get(url + "?page=99")
    not_a_page = alice.get(url + "?page=abc&per_page=abc")

    assert len(names(first)) == 50
    assert len(names(second)) == 10
    assert set(names(first)).isdisjoint(names(second))
    assert len(names(small)) == 10
    assert small.context["page"].paginator.num_pages == 3
    assert odd_size.context["page"].paginator.per_page == 50
    assert past_the_end.context["page"].number == 2
    assert not_a_page.context["page"].number == 1
    assert "per_page=25" in body(small)  # the pagination links keep the page size


@pytest.mark.parametrize("key", ["status", "-status", "priority"])
def test_it_pages_a_sorted_list_without_repeating_rows(alice, team, key):
    """Many cases share a sort value: without a tie-breaker a database may order the
    ties differently for each page (PostgreSQL does), repeating some cases and never
    showing others."""
    statuses = [Case.Status.OPEN, Case.Status.MONITORING]
    for n in range(200):
        make_case(f"Tied {n:03d} Ltd", team, status=statuses[n % 2])
    url = reverse("cases:case_list") + f"?sort={key}&per_page=50&page="

    seen = [name for page in (1, 2, 3, 4) for name in names(alice.get(url + str(page)))]

    assert len(seen) == 200
    assert len(set(seen)) == 200


@pytest.mark.parametrize("read_whole_up_to", [2_000, 0], ids=["ids-read-whole", "ids-limited"])
@pytest.mark.parametrize("key", ["-leads", "name", "outcome"])
def test_the_list_reads_a_page_in_two_steps_with_the_rows_of_one_query(
    analyst, team, key, read_whole_up_to, monkeypatch
):
    # TwoStepPaginator finds the page's ids first, then reads their rows: the same rows,
    # in the same order, with the same counts as Django's paginator over one query,
    # whether the ids of a short list are read whole or a page of them with a LIMIT.
    monkeypatch.setattr(casework_selectors.TwoStepPaginator, "read_whole_up_to", read_whole_up_to)
    for n in range(30):
        c = make_case(f"Two step {n:02d} Ltd", team)
        for m in range(n % 4):
            FindingFactory(case=c, source="gdelt", external_id=f"T{n}-{m}")
    cases = casework_selectors.cases_with_outcome(access.visible_cases(analyst))
    rows = CaseFilter(QueryDict(f"sort={key}"), queryset=cases, user=analyst).qs
    rows = casework_selectors.cases_in_list_order(rows, sorted_by_user=True)

    for number in (1, 2, 3):
        two_steps = casework_selectors.TwoStepPaginator(rows, 12).page(number)
        one_query = Paginator(rows, 12).page(number)
        assert [(c.pk, c.lead_count, c.is_positive, c.entity.name) for c in two_steps] == [
            (c.pk, c.lead_count, c.is_positive, c.entity.name) for c in one_query
        ]
        assert two_steps.has_next() == one_query.has_next()
    assert len(casework_selectors.TwoStepPaginator(rows, 12).page(3)) == 6


def _rich_cases(team, assignee, count: int, start: int) -> None:
    for n in range(start, start + count):
        c = make_case(f"Query {n:03d} Ltd", team, assignee=assignee)
        ReferralFactory(entity=c.entity, post=PostFactory(name=f"Post {n}"))
        FindingFactory(case=c, source="gdelt", external_id=f"Q{n}")
        FindingFactory(case=c, review_state=CONFIRMED, reviewed_at=timezone.now(), timing="after")


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", ["cases:case_list", "cases:my_work"])
def test_it_does_not_add_queries_per_row(alice, team, analyst, url):
    _rich_cases(team, analyst, 3, 0)
    few = _queries(alice, reverse(url))

    _rich_cases(team, analyst, 27, 3)
    many = _queries(alice, reverse(url))

    assert many == few


def test_it_does_not_add_queries_per_lead_in_the_review_queue(alice, team, analyst):
    _rich_cases(team, analyst, 3, 0)
    few = _queries(alice, reverse("cases:review_queue"))

    _rich_cases(team, analyst, 27, 3)
    many = _queries(alice, reverse("cases:review_queue"))

    assert many == few


# ------------------------------------------------------------------ case list: CSV


def test_it_downloads_the_filtered_cases_as_csv(alice, cast):
    response = alice.get(reverse("cases:case_list") + "?format=csv&bloc=nato")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == list(CASE_LIST_FIELDS)
    by_name = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert set(by_name) == {"Alpha Robotics", "Delta Second Team"}
    assert by_name["Alpha Robotics"]["outcome"] == "positive"
    assert by_name["Alpha Robotics"]["assignee"] == "alice"
    assert by_name["Alpha Robotics"]["index_date"] == "2017-05"
    assert by_name["Delta Second Team"]["team"] == "Second"


def test_the_csv_and_the_list_say_negative_only_of_a_concluded_case(alice, team):
    """The admin export's three words: an open case with nothing positive is not yet a
    negative."""
    CaseFactory(team=team, entity__name="Open Optics", status=Case.Status.OPEN)
    CaseFactory(team=team, entity__name="Closed Optics", status=Case.Status.CONCLUDED)

    rows = csv_rows(alice.get(reverse("cases:case_list") + "?format=csv&q=Optics"))
    outcome = {row[1]: dict(zip(rows[0], row, strict=True))["outcome"] for row in rows[1:]}
    page = body(alice.get(reverse("cases:case_list") + "?q=Optics"))

    assert outcome == {"Open Optics": "not reviewed", "Closed Optics": "negative"}
    assert "not reviewed" in page and "negative" in page


def test_it_downloads_every_filtered_case_not_one_page(alice, team):
    for n in range(60):
        make_case(f"Export {n:02d} Ltd", team)

    rows = csv_rows(alice.get(reverse("cases:case_list") + "?format=csv&per_page=25&page=2"))

    assert len(rows) == 61


def test_the_csv_starts_with_a_bom_and_keeps_names_in_every_script(alice, team):
    """Excel reads the file as UTF-8 only behind a byte order mark; read back as
    utf-8-sig, as pandas would, the names are exact."""
    make_case("Zürich Instruments AG 北京", team, entity={"name_native": "苏黎世仪器"})

    response = alice.get(reverse("cases:case_list") + "?format=csv")
    data = b"".join(response.streaming_content)

    assert data.startswith(b"\xef\xbb\xbf# cases.csv\r\n")
    lines = [line for line in data.decode("utf-8-sig").splitlines() if not line.startswith("#")]
    [row] = csv.DictReader(io.StringIO("\n".join(lines)))
    assert (row["entity_name"], row["entity_name_native"]) == (
        "Zürich Instruments AG 北京",
        "苏黎世仪器",
    )


def test_the_csv_leads_with_its_filters_time_and_code_version(alice, cast):
    response = alice.get(reverse("cases:case_list") + "?format=csv&bloc=nato&page=2")

    text = b"".join(response.streaming_content).decode()
    metadata = commented_csv.metadata(text)
    assert text.startswith("\ufeff# cases.csv\r\n")
    assert metadata["filter bloc"] == "nato"
    assert "filter page" not in metadata and "filter format" not in metadata
    assert metadata["code_version"] == code_version()
    assert metadata["extracted_at"].endswith("Z")
    assert commented_csv.table(text)[0] == list(CASE_LIST_FIELDS)


def test_it_links_the_csv_with_the_filters(alice, cast):
    response = alice.get(reverse("cases:case_list") + "?bloc=nato&sort=name")

    link = re.search(r'<a href="\?([^"]*)" download>', body(response)).group(1)
    assert "format=csv" in link
    assert "bloc=nato" in link
    assert "sort=name" in link


def test_it_neutralises_formulas_in_the_csv(alice, team):
    make_case('=HYPERLINK("http://evil.example") Robotics', team, entity={"name_native": "+1"})

    rows = csv_rows(alice.get(reverse("cases:case_list") + "?format=csv"))

    assert rows[1][1] == """'=HYPERLINK("http://evil.example") Robotics"""
    assert rows[1][2] == "'+1"


# ------------------------------------------------------------------ case page


@pytest.fixture
def full_case(case, colleague):
    entity = case.entity
    entity.name_native = "阿尔法机器人"
    entity.aliases = "Alpha Robo Systems"
    entity.lei = VALID_LEI
    entity.save()
    ReferralFactory(
        entity=entity,
        external_id="R-ALPHA-1",
        summary="Seeks a partner for joint R&D.",
        technology_field="industrial robotics",
    )
    FindingFactory(
        case=case,
        counterparty_name="Early Partner Co.",
        event_date=datetime.date(2015, 6, 1),
        review_state=CONFIRMED,
        reviewed_at=timezone.now(),
        reviewed_by=colleague,
        review_note="Seen in the annual report.",
    )
    FindingFactory(
        case=case,
        source="gdelt",
        external_id="G-1",
        counterparty_name="Later Lead Co.",
        event_date=datetime.date(2019, 3, 1),
        match_score=91,
        match_explanation="name 'Alpha Robotics' matched the article's subject",
        excerpt="Alpha Robotics opens a joint venture with Later Lead Co.",
        source_url="https://news.example.org/later",
    )
    derived.finding_timings_refresh(case_ids=[case.pk])
    CheckRunFactory(
        case=case,
        source="gleif",
        searched_from=datetime.date(2017, 5, 1),
        searched_to=datetime.date(2024, 2, 1),
    )
    CheckRunFactory(
        case=case,
        source="gdelt",
        status=CheckRun.Status.ERROR,
        error="transient: gdelt timed out",
    )
    CaseStatusChange.objects.create(
        case=case,
        from_status=Case.Status.OPEN,
        to_status=Case.Status.MONITORING,
        changed_by=colleague,
    )
    return case


def test_it_shows_the_case(alice, full_case):
    response = alice.get(full_case.get_absolute_url())

    page = body(response)
    assert response.status_code == 200
    # The entity and its identifiers.
    assert "Alpha Robotics Ltd" in page
    assert "阿尔法机器人" in page
    assert "Alpha Robo Systems" in page
    assert VALID_LEI in page
    # Referrals.
    assert "R-ALPHA-1" in page
    assert "Seeks a partner for joint R&amp;D." in page
    assert "industrial robotics" in page
    # The timeline: one mark before the referral, one after.
    assert 'class="mark timing-before state-confirmed"' in page
    assert 'class="mark timing-after state-lead"' in page
    assert "referral 2017-05" in page
    # The lead with what matched and the evidence.
    leads = page.split('id="leads"')[1].split('id="findings"')[0]
    assert "Later Lead Co." in leads
    assert "Early Partner Co." not in leads
    assert "name &#x27;Alpha Robotics&#x27; matched the article&#x27;s subject" in leads
    assert "Alpha Robotics opens a joint venture with Later Lead Co." in leads
    assert 'href="https://news.example.org/later"' in leads
    # The reviewed finding with its reviewer and note.
    reviewed = page.split('id="findings"')[1].split('id="entity"')[0]
    assert "Early Partner Co." in reviewed
    assert "bob" in reviewed
    assert "Seen in the annual report." in reviewed
    # Check history: last success and last error per source.
    checks = page.split('id="checks"')[1].split('id="history"')[0]
    assert "gleif" in checks
    assert "2024-01-01 12:00" in checks
    # The failure in words, not the stored "transient: ..." text.
    assert "gdelt timed out" in checks and "transient:" not in checks
    # What each source has searched: the period, or nothing for a run that failed.
    assert "2017-05-01 to 2024-02-01" in checks
    assert "nothing yet" in checks
    # The status log.
    assert "bob moved the case from open to monitoring" in page


def test_it_escapes_scraped_text_on_every_page(alice, team, analyst):
    hostile = make_case(f"{HOSTILE} Robotics", team, assignee=analyst)
    Entity.objects.filter(pk=hostile.entity_id).update(
        website="javascript:alert(1)", name_native=HOSTILE, aliases=HOSTILE
    )
    FindingFactory(
        case=hostile,
        source="gdelt",
        external_id="X-1",
        counterparty_name=HOSTILE,
        excerpt=f"Read this {HOSTILE}",
        match_explanation=HOSTILE,
        flags=HOSTILE,
        source_url="javascript:alert(1)",
    )
    FindingFactory(
        case=hostile,
        counterparty_name=HOSTILE,
        review_state=CONFIRMED,
        reviewed_at=timezone.now(),
        review_note=HOSTILE,
        source_url=" JavaScript:alert(1)",
    )

    for url in (
        hostile.get_absolute_url(),
        reverse("cases:case_list"),
        reverse("cases:review_queue"),
        reverse("cases:my_work"),
    ):
        page = body(alice.get(url))
        assert HOSTILE not in page, url
        assert HOSTILE_ESCAPED in page, url
        assert not re.search(r"href=\"\s*javascript:", page, flags=re.IGNORECASE), url


def test_it_escapes_scraped_text_in_messages(alice, case):
    hostile = FindingFactory(
        case=case, source="gdelt", external_id="X-2", counterparty_name=HOSTILE
    )

    response = review(alice, hostile, decision=CONFIRMED)
    page = body(alice.get(response.url))

    assert "Confirmed: joint venture with " + HOSTILE_ESCAPED in page
    assert HOSTILE not in page


def test_it_puts_a_csrf_token_in_every_form(alice, full_case, lead):
    page = body(alice.get(full_case.get_absolute_url()))

    forms = re.findall(r'<form [^>]*method="post".*?</form>', page, flags=re.DOTALL)
    # sign out, status, assign, check now, two per lead, reopen per reviewed finding, add
    # finding, identifiers, find identifiers (the panel's judging forms come with
    # candidates, none here), add a tag; watch, a comment per lead and one on the case;
    # attach a file to each of the three findings and capture the page of the two with
    # a web address
    assert len(forms) == 1 + 3 + 2 * 2 + 1 + 2 + 1 + 1 + 1 + 2 + 1 + 3 + 2
    assert all("csrfmiddlewaretoken" in form for form in forms)


def test_it_refuses_a_post_without_the_csrf_token(analyst, case):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(analyst)
    page = body(browser.get(case.get_absolute_url()))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    url = reverse("cases:case_status", args=[case.pk])

    refused = browser.post(url, {"status": Case.Status.MONITORING, "version": 1})
    assert refused.status_code == 403
    assert case_now(case).status == Case.Status.OPEN

    accepted = browser.post(
        url, {"status": Case.Status.MONITORING, "version": 1, "csrfmiddlewaretoken": token}
    )
    assert accepted.status_code == 302
    assert case_now(case).status == Case.Status.MONITORING


def test_it_shows_a_supervisor_the_case_read_only(client, team, case, lead):
    client.force_login(SupervisorFactory(username="sam", teams=[team]))

    page = body(client.get(case.get_absolute_url()))

    assert "You see this case read-only." in page
    assert reverse("cases:case_assign", args=[case.pk]) in page
    for view in ("case_status", "case_entity", "case_finding_add", "case_check_now"):
        assert reverse(f"cases:{view}", args=[case.pk]) not in page
    assert reverse("cases:finding_review", args=[lead.pk]) not in page


def test_it_shows_the_outcome_kinds_each_with_its_first_date(alice, case):
    for kind, day in [
        (Finding.Kind.JOINT_VENTURE, datetime.date(2019, 3, 1)),
        (Finding.Kind.RD_STAFF, datetime.date(2018, 6, 1)),
        (Finding.Kind.JOINT_VENTURE, datetime.date(2018, 1, 1)),
    ]:
        FindingFactory(
            case=case,
            kind=kind,
            event_date=day,
            event_date_precision="month",
            review_state=CONFIRMED,
            reviewed_at=timezone.now(),
        )
    derived.finding_timings_refresh(case_ids=[case.pk])

    page = body(alice.get(case.get_absolute_url()))

    outcome = " ".join(page.split('id="outcome">')[1].split("</div>")[0].split())
    assert outcome == (
        "<strong>Outcome: positive</strong> — first 2018-01: "
        "joint venture (2018-01), R&amp;D staff hired (2018-06)"
    )


def test_it_shows_who_changed_what_in_the_change_history(alice, analyst, colleague, case):
    casework_services.case_assign(case=case, assignee=colleague, actor=analyst, version=1)
    casework_services.case_set_status(
        case=case, status=Case.Status.MONITORING, actor=colleague, version=2
    )
    lead = FindingFactory(case=case, source="gdelt", external_id="H-1")
    casework_services.finding_review(
        finding=lead, state=REJECTED, reviewer=analyst, note=HOSTILE, version=1
    )

    page = body(alice.get(case.get_absolute_url()))

    history = page.split('id="change-history">')[1].split("</section>")[0]
    # In words, never field names or ids.
    assert " · bob moved the case from open to monitoring</li>" in history
    assert " · alice assigned the case to bob</li>" in history
    assert " · An automated task opened the case</li>" in history
    kind = lead.get_kind_display()
    assert f" · alice rejected the {kind} lead from gdelt: {HOSTILE_ESCAPED}</li>" in history
    assert f" · A check of gdelt filed a lead: {escape(str(lead))}</li>" in history
    assert "review_state" not in history
    assert "reviewed_by" not in history
    assert f"finding {lead.pk}" not in history
    assert HOSTILE not in history


# ------------------------------------------------------------------ status


def test_it_changes_the_status_and_logs_who(alice, analyst, case):
    response = alice.post(
        reverse("cases:case_status", args=[case.pk]),
        {"status": Case.Status.IN_REVIEW, "version": case.version},
    )

    assert response.status_code == 302
    assert response.url == case.get_absolute_url()
    saved = case_now(case)
    assert saved.status == Case.Status.IN_REVIEW
    assert saved.version == 2
    change = CaseStatusChange.objects.get(case=case)
    assert (change.from_status, change.to_status, change.changed_by) == (
        Case.Status.OPEN,
        Case.Status.IN_REVIEW,
        analyst,
    )
    assert "Status set to “in review”." in messages_of(response)
    assert "alice moved the case from open to in review" in body(alice.get(case.get_absolute_url()))


def test_it_refuses_a_stale_status_change(alice, bob, case):
    url = reverse("cases:case_status", args=[case.pk])
    assert bob.post(url, {"status": Case.Status.MONITORING, "version": 1}).status_code == 302

    response = alice.post(url, {"status": Case.Status.CLOSED, "version": 1})

    assert response.status_code == 409
    assert "was changed by bob" in body(response)
    saved = case_now(case)
    assert (saved.status, saved.version) == (Case.Status.MONITORING, 2)
    assert CaseStatusChange.objects.filter(case=case).count() == 1


def test_it_refuses_an_unknown_status(alice, case):
    response = alice.post(
        reverse("cases:case_status", args=[case.pk]), {"status": "deleted", "version": 1}
    )

    assert response.status_code == 400
    assert case_now(case).status == Case.Status.OPEN


# ------------------------------------------------------------------ assignment


def test_it_assigns_a_team_member(alice, colleague, case):
    response = alice.post(
        reverse("cases:case_assign", args=[case.pk]), {"assignee": colleague.pk, "version": 1}
    )

    assert response.status_code == 302
    saved = case_now(case)
    assert (saved.assignee, saved.version) == (colleague, 2)
    assert "Assigned to bob." in messages_of(response)


def test_it_unassigns(alice, analyst, team):
    assigned = make_case("Assigned Ltd", team, assignee=analyst)

    response = alice.post(
        reverse("cases:case_assign", args=[assigned.pk]), {"assignee": "", "version": 1}
    )

    assert response.status_code == 302
    assert case_now(assigned).assignee is None


@pytest.mark.parametrize("who", ["outsider", "inactive"])
def test_it_refuses_to_assign_someone_off_the_team(alice, team, case, who):
    if who == "outsider":
        person = AnalystFactory(username="mallory", teams=[TeamFactory(name="Elsewhere")])
    else:
        person = AnalystFactory(username="gone", teams=[team], is_active=False)

    response = alice.post(
        reverse("cases:case_assign", args=[case.pk]), {"assignee": person.pk, "version": 1}
    )

    assert response.status_code == 400
    assert "Select a valid choice" in body(response)
    saved = case_now(case)
    assert (saved.assignee, saved.version) == (None, 1)


def test_it_refuses_a_stale_assignment(alice, bob, analyst, colleague, case):
    url = reverse("cases:case_assign", args=[case.pk])
    assert bob.post(url, {"assignee": colleague.pk, "version": 1}).status_code == 302

    response = alice.post(url, {"assignee": analyst.pk, "version": 1})

    assert response.status_code == 409
    assert "was changed by bob" in body(response)
    assert case_now(case).assignee == colleague


# ------------------------------------------------------------------ entity identifiers


def entity_data(entity: Entity, version: int, **changes) -> dict:
    data = {name: getattr(entity, name) for name in casework_services.ENTITY_EDITABLE}
    return {**data, "version": version, **changes}


def test_it_saves_identifiers(alice, case):
    response = alice.post(
        reverse("cases:case_entity", args=[case.pk]),
        entity_data(case.entity, 1, lei=VALID_LEI, aliases="Alpha Robo\nAR Ltd"),
    )

    assert response.status_code == 302
    assert response.url == case.get_absolute_url() + "#entity"
    saved = case_now(case)
    assert saved.entity.lei == VALID_LEI
    assert saved.entity.alias_list == ["Alpha Robo", "AR Ltd"]
    assert saved.version == 2


def test_it_refuses_a_bad_lei(alice, case):
    response = alice.post(
        reverse("cases:case_entity", args=[case.pk]), entity_data(case.entity, 1, lei=BAD_LEI)
    )

    assert response.status_code == 400
    assert "check digits do not match" in body(response)
    saved = case_now(case)
    assert (saved.entity.lei, saved.version) == ("", 1)


def banner_of(response) -> str:
    """The form-error banner at the top of the page, or "" when there is none."""
    found = re.search(r'<div class="form-errors" role="alert".*?</div>', body(response), re.S)
    return found.group(0) if found else ""


def test_a_refused_identifier_is_named_in_a_banner_at_the_top(alice, case):
    response = alice.post(
        reverse("cases:case_entity", args=[case.pk]), entity_data(case.entity, 1, lei=BAD_LEI)
    )

    banner = banner_of(response)
    assert "The identifiers were not saved" in banner
    assert '<a href="#id_lei">LEI</a>' in banner
    assert "check digits do not match" in banner
    # at the top: before the case's own heading, not 1,500 px down by the form
    assert body(response).index(banner) < body(response).index("<h1>")
    lei_input = re.search(r'<input[^>]*id="id_lei"[^>]*>', body(response)).group(0)
    assert 'aria-invalid="true"' in lei_input  # the field the script brings into view


def test_a_refused_status_is_named_in_a_banner_at_the_top(alice, case):
    response = alice.post(
        reverse("cases:case_status", args=[case.pk]), {"status": "bogus", "version": 1}
    )

    assert response.status_code == 400
    assert "The status was not set" in banner_of(response)
    assert 'href="#id_status"' in banner_of(response)
    assert case_now(case).status == Case.Status.OPEN


def test_a_refused_finding_is_named_in_a_banner_at_the_top(alice, case):
    response = alice.post(
        reverse("cases:case_finding_add", args=[case.pk]),
        finding_data(event_date="soon", counterparty_country="Atlantis"),
    )

    assert response.status_code == 400
    banner = banner_of(response)
    assert "The finding was not recorded" in banner
    assert 'href="#id_event_date"' in banner
    assert 'href="#id_counterparty_country"' in banner
    assert not Finding.objects.filter(case=case).exists()


def test_a_page_without_a_failed_form_has_no_banner_and_loads_the_script(alice, case):
    response = alice.get(case.get_absolute_url())

    assert banner_of(response) == ""
    assert '<script src="/static/cases/form_errors.js" defer></script>' in body(response)


def test_it_does_not_show_a_refused_identifier_as_stored(alice, case):
    """The form keeps the typed LEI, but the facts list shows what is stored."""
    response = alice.post(
        reverse("cases:case_entity", args=[case.pk]), entity_data(case.entity, 1, lei=BAD_LEI)
    )

    facts = body(response).split('<dl class="facts">')[1].split("</dl>")[0]
    assert BAD_LEI not in facts
    assert "<dt>LEI</dt><dd>—</dd>" in facts


def test_it_refuses_an_lei_another_entity_has(alice, team, case):
    make_case("Holder Ltd", team, entity={"lei": VALID_LEI})

    response = alice.post(
        reverse("cases:case_entity", args=[case.pk]), entity_data(case.entity, 1, lei=VALID_LEI)
    )

    assert response.status_code == 400
    assert case_now(case).entity.lei == ""


def test_it_refuses_stale_identifiers(alice, bob, case):
    url = reverse("cases:case_entity", args=[case.pk])
    assert bob.post(url, entity_data(case.entity, 1, ror_id="02mhbdp94")).status_code == 302

    response = alice.post(url, entity_data(case.entity, 1, lei=VALID_LEI))

    assert response.status_code == 409
    assert "was changed by bob" in body(response)
    saved = case_now(case)
    assert (saved.entity.lei, saved.entity.ror_id, saved.version) == ("", "02mhbdp94", 2)


# ------------------------------------------------------------------ findings by hand


def finding_data(**changes) -> dict:
    data = {
        "kind": Finding.Kind.JOINT_VENTURE,
        "counterparty_name": "Shenzhen Typed Partner Co.",
        "counterparty_country": "China",
        "event_date": "2019-03",
        "source_url": "https://news.example.org/typed",
        "excerpt": "A typed excerpt that must not be lost.",
        "confidence": Finding.Confidence.HIGH,
    }
    return {**data, **changes}


def test_it_records_a_finding_by_hand(alice, analyst, case):
    assert "Outcome: none confirmed" in body(alice.get(case.get_absolute_url()))

    response = alice.post(reverse("cases:case_finding_add", args=[case.pk]), finding_data())

    assert response.status_code == 302
    assert response.url == case.get_absolute_url() + "#findings"
    finding = Finding.objects.get(case=case)
    assert finding.source == Finding.MANUAL
    assert finding.review_state == CONFIRMED
    assert (finding.created_by, finding.reviewed_by) == (analyst, analyst)
    assert finding.reviewed_at is not None
    assert finding.counterparty_country == "CN"
    assert (finding.event_date, finding.event_date_precision) == (
        datetime.date(2019, 3, 1),
        "month",
    )
    assert finding.timing == Finding.Timing.AFTER
    assert finding.confidence == Finding.Confidence.HIGH
    page = body(alice.get(case.get_absolute_url()))
    assert "Outcome: positive" in page
    assert "joint venture (2019-03)" in page


def test_it_records_a_finding_before_the_referral_without_an_outcome(alice, case):
    alice.post(reverse("cases:case_finding_add", args=[case.pk]), finding_data(event_date="2016"))

    assert Finding.objects.get(case=case).timing == Finding.Timing.BEFORE
    assert "Outcome: none confirmed" in body(alice.get(case.get_absolute_url()))


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"event_date": "2019-13"}, "not a real calendar date"),
        ({"event_date": "next year"}, "is not a date in the form"),
        ({"event_date": str(datetime.date.today().year + 1)}, "is in the future"),
        ({"event_date": "1850"}, "before 1900"),
        ({"counterparty_country": "Narnia"}, "Not a country this tool knows"),
        ({"source_url": "javascript:alert(1)"}, "Enter a valid URL"),
        ({"source_url": "ftp://files.example.org/x"}, "Give an http or https address"),
        ({"kind": "rumour"}, "Select a valid choice"),
        ({"counterparty_name": ""}, "This field is required"),
        ({"excerpt": ""}, "This field is required"),
        ({"source_url": ""}, "This field is required"),
    ],
)
def test_it_refuses_a_bad_finding_and_keeps_what_was_typed(alice, case, changes, error):
    data = finding_data(**changes)

    response = alice.post(reverse("cases:case_finding_add", args=[case.pk]), data)

    assert response.status_code == 400
    page = body(response)
    assert error in page
    assert not Finding.objects.filter(case=case).exists()
    form = page.split('id="add-finding"')[1].split("</details>")[0]
    assert '<details open id="add-finding"' in page
    for name in ("counterparty_name", "counterparty_country", "event_date", "source_url"):
        if data[name]:
            assert f'value="{data[name]}"' in form, name
    if data["excerpt"]:
        assert data["excerpt"] in form
    assert 'value="high" selected' in form


def test_it_records_a_repeated_submission_once(alice, case):
    """A form sent twice (double click, back and resend) must not count the evidence
    twice: the second is refused as already recorded, with the form kept."""
    url = reverse("cases:case_finding_add", args=[case.pk])

    assert alice.post(url, finding_data()).status_code == 302
    again = alice.post(url, finding_data())

    assert again.status_code == 400
    assert "already recorded" in body(again)
    assert Finding.objects.filter(case=case, source=Finding.MANUAL).count() == 1


# ------------------------------------------------------------------ check now


def test_it_queues_every_source_once(alice, case):
    url = reverse("cases:case_check_now", args=[case.pk])
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        first = alice.post(url)
        again = alice.post(url)

    assert first.status_code == 302
    assert first.url == case.get_absolute_url() + "#checks"
    runs = CheckRun.objects.filter(case=case)
    assert sorted(runs.values_list("source", flat=True)) == sorted(get_sources())
    assert {run.status for run in runs} <= {
        CheckRun.Status.QUEUED,
        CheckRun.Status.ERROR,
        CheckRun.Status.SKIPPED,
    }
    assert "Every check of this case is already queued." in messages_of(again)
    page = body(alice.get(case.get_absolute_url()))
    assert "queued or running:" in page
    assert "disabled" in page.split(reverse("cases:case_check_now", args=[case.pk]))[1][:300]


# ------------------------------------------------------------------ reviewing a lead


def review(client, finding: Finding, **data):
    data.setdefault("version", finding.version)
    return client.post(reverse("cases:finding_review", args=[finding.pk]), data)


def test_it_confirms_a_lead(alice, analyst, case, lead):
    response = review(alice, lead, decision=CONFIRMED)

    assert response.status_code == 302
    assert response.url == case.get_absolute_url() + "#leads"
    lead.refresh_from_db()
    assert (lead.review_state, lead.reviewed_by, lead.version) == (CONFIRMED, analyst, 2)
    assert lead.reviewed_at is not None
    assert any(m.startswith("Confirmed:") for m in messages_of(response))
    assert "Outcome: positive" in body(alice.get(case.get_absolute_url()))


def test_it_needs_a_note_to_reject(alice, lead):
    response = review(alice, lead, decision=REJECTED, note="   ")

    assert response.status_code == 302
    assert any("Say why the lead is rejected." in m for m in messages_of(response))
    lead.refresh_from_db()
    assert (lead.review_state, lead.version, lead.reviewed_by) == (LEAD, 1, None)


def test_it_rejects_a_lead_with_a_note(alice, analyst, lead):
    response = review(alice, lead, decision=REJECTED, note="Different company, same name.")

    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.review_state, lead.reviewed_by) == (REJECTED, analyst)
    assert lead.review_note == "Different company, same name."
    assert any(m.startswith("Rejected:") for m in messages_of(response))


def test_it_refuses_an_unknown_decision(alice, lead):
    response = review(alice, lead, decision="lead")

    assert response.status_code == 302
    assert messages_of(response)
    lead.refresh_from_db()
    assert lead.review_state == LEAD


def test_it_refuses_a_stale_review_naming_who_reviewed(alice, bob, lead):
    assert review(bob, lead, decision=REJECTED, note="Not them.").status_code == 302

    response = review(alice, lead, decision=CONFIRMED, version=1)

    assert response.status_code == 302
    assert any("was changed by bob" in m for m in messages_of(response))
    lead.refresh_from_db()
    assert (lead.review_state, lead.review_note, lead.version) == (REJECTED, "Not them.", 2)


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"]
)
def test_it_ignores_next_off_site(alice, case, lead, target):
    response = review(alice, lead, decision=CONFIRMED, next=target)

    assert response.status_code == 302
    assert response.url == case.get_absolute_url() + "#leads"


def test_it_follows_next_on_site(alice, lead):
    response = review(alice, lead, decision=CONFIRMED, next="/review/?source=gleif")

    assert response.url == "/review/?source=gleif"


def test_it_handles_a_rejected_lead_reviewed_again(alice, bob, analyst, case, lead):
    review(alice, lead, decision=REJECTED, note="Wrong entity.")
    page = body(alice.get(case.get_absolute_url()))
    assert "Shenzhen Lead Co." not in page.split('id="leads"')[1].split('id="findings"')[0]
    reviewed = page.split('id="findings"')[1].split('id="entity"')[0]
    assert "Wrong entity." in reviewed
    assert 'class="state-rejected"' in reviewed
    queue = alice.get(reverse("cases:review_queue"))
    assert list(queue.context["page"].object_list) == []

    # A page opened before the rejection cannot overturn it...
    stale = review(bob, lead, decision=CONFIRMED, version=1)
    assert any("was changed by alice" in m for m in messages_of(stale))
    lead.refresh_from_db()
    assert lead.review_state == REJECTED

    # ...but a deliberate second review of the current version corrects it.
    review(bob, lead, decision=CONFIRMED, version=2)
    lead.refresh_from_db()
    assert (lead.review_state, lead.version) == (CONFIRMED, 3)
    assert lead.history.count() == 3


# ------------------------------------------------------------------ review queue


@pytest.fixture
def queue(case, team):
    other = make_case("Bravo Optics", team)
    return {
        "low": FindingFactory(case=case, source="gleif", external_id="L", match_score=50),
        "unscored": FindingFactory(case=case, source="gdelt", external_id="N", match_score=None),
        "best": FindingFactory(case=other, source="gdelt", external_id="B", match_score=95),
        "mid": FindingFactory(case=other, source="gleif", external_id="M", match_score=70),
        "done": FindingFactory(
            case=other,
            source="gleif",
            external_id="D",
            match_score=99,
            review_state=CONFIRMED,
            reviewed_at=timezone.now(),
        ),
    }


def queued(response) -> list[int]:
    return [f.pk for f in response.context["page"].object_list]


def test_it_orders_the_queue_best_match_first(alice, queue):
    response = alice.get(reverse("cases:review_queue"))

    assert response.status_code == 200
    assert queued(response) == [queue[k].pk for k in ("best", "mid", "low", "unscored")]


def test_it_filters_the_queue_by_source(alice, queue):
    response = alice.get(reverse("cases:review_queue") + "?source=gdelt")

    assert queued(response) == [queue["best"].pk, queue["unscored"].pk]
    assert '<option value="gdelt" selected>' in body(response)


def test_it_keeps_the_source_and_page_size_when_paging_the_queue(alice, case):
    for n in range(30):
        FindingFactory(case=case, source="gdelt", external_id=f"P{n}", match_score=n)

    response = alice.get(reverse("cases:review_queue") + "?source=gdelt&per_page=25")

    assert len(queued(response)) == 25
    next_link = re.search(r'href="\?([^"]*)" rel="next"', body(response)).group(1)
    assert "source=gdelt" in next_link
    assert "per_page=25" in next_link


@pytest.mark.parametrize("source", ["nosuch", "%00", "gdelt%00"])
def test_it_refuses_an_unknown_source_in_the_queue_and_lists_nothing(alice, queue, source):
    alice.raise_request_exception = False

    response = alice.get(reverse("cases:review_queue") + f"?source={source}")

    assert response.status_code == 400
    assert queued(response) == []
    assert "No leads are listed until the filter is fixed." in body(response)


def bulk(client, *findings, versions=None, **data):
    values = [f"{f.pk}:{(versions or {}).get(f.pk, f.version)}" for f in findings]
    return client.post(reverse("cases:review_bulk"), {"findings": values, **data})


def states(*findings) -> list[tuple[str, int]]:
    return [
        tuple(Finding.objects.filter(pk=f.pk).values_list("review_state", "version").get())
        for f in findings
    ]


def test_it_confirms_leads_in_bulk(alice, analyst, queue):
    response = bulk(alice, queue["best"], queue["low"], decision=CONFIRMED, next="/review/?x=1")

    assert response.status_code == 302
    assert response.url == "/review/?x=1"
    assert states(queue["best"], queue["low"]) == [(CONFIRMED, 2), (CONFIRMED, 2)]
    assert states(queue["mid"]) == [(LEAD, 1)]
    assert "Confirmed 2 lead(s)." in messages_of(response)
    assert Finding.objects.get(pk=queue["best"].pk).reviewed_by == analyst


def test_it_needs_a_note_to_reject_in_bulk(alice, queue):
    response = bulk(alice, queue["best"], queue["low"], decision=REJECTED)

    assert any("Say why the leads are rejected." in m for m in messages_of(response))
    assert states(queue["best"], queue["low"]) == [(LEAD, 1), (LEAD, 1)]


def test_it_rejects_leads_in_bulk_with_a_note(alice, queue):
    bulk(alice, queue["best"], queue["low"], decision=REJECTED, note="Namesakes.")

    assert states(queue["best"], queue["low"]) == [(REJECTED, 2), (REJECTED, 2)]
    assert set(
        Finding.objects.filter(pk__in=[queue["best"].pk, queue["low"].pk]).values_list(
            "review_note", flat=True
        )
    ) == {"Namesakes."}


def test_it_saves_nothing_in_bulk_when_one_lead_is_stale(alice, bob, queue):
    review(bob, queue["low"], decision=REJECTED, note="Not them.")

    response = bulk(
        alice,
        queue["best"],
        queue["mid"],
        queue["low"],
        versions={queue["low"].pk: 1},
        decision=CONFIRMED,
    )

    message = " ".join(messages_of(response))
    assert "was changed by bob" in message
    assert "None of the picked leads was saved." in message
    assert states(queue["best"], queue["mid"], queue["low"]) == [
        (LEAD, 1),
        (LEAD, 1),
        (REJECTED, 2),
    ]


def test_it_saves_nothing_in_bulk_with_another_teams_lead(alice, queue):
    foreign_case = make_case("Foreign Ltd", TeamFactory(name="Elsewhere"))
    foreign = FindingFactory(case=foreign_case, source="gdelt", external_id="F")

    response = bulk(alice, queue["best"], foreign, decision=CONFIRMED)

    assert any("not yours" in m for m in messages_of(response))
    assert states(queue["best"], foreign) == [(LEAD, 1), (LEAD, 1)]


def test_it_saves_nothing_in_bulk_with_an_unknown_lead(alice, queue):
    response = alice.post(
        reverse("cases:review_bulk"),
        {"findings": [f"{queue['best'].pk}:1", "999999:1"], "decision": CONFIRMED},
    )

    assert any("not yours" in m for m in messages_of(response))
    assert states(queue["best"]) == [(LEAD, 1)]


@pytest.mark.parametrize("bad", ["abc", "1:x", "", ":", "1", "-1:1"])
def test_it_refuses_an_unreadable_selection(alice, queue, bad):
    response = alice.post(
        reverse("cases:review_bulk"),
        {"findings": [f"{queue['best'].pk}:1", bad], "decision": CONFIRMED},
    )

    assert response.status_code == 302
    assert response.url == reverse("cases:review_queue")
    assert any("could not be read" in m for m in messages_of(response))
    assert states(queue["best"]) == [(LEAD, 1)]


def test_it_asks_to_pick_a_lead_when_none_is_picked(alice, queue):
    response = alice.post(reverse("cases:review_bulk"), {"decision": CONFIRMED})

    assert response.status_code == 302
    assert any("Pick at least one lead" in m for m in messages_of(response))
    assert states(queue["best"]) == [(LEAD, 1)]


# ------------------------------------------------------------------ my work


def test_it_shows_only_my_cases_and_their_leads(alice, analyst, colleague, team):
    mine = make_case("Mine Ltd", team, assignee=analyst)
    FindingFactory(case=mine, source="gdelt", external_id="M", counterparty_name="My Lead Co.")
    closed = make_case("Closed Mine Ltd", team, assignee=analyst, status=Case.Status.CLOSED)
    theirs = make_case("Theirs Ltd", team, assignee=colleague)
    FindingFactory(case=theirs, source="gdelt", external_id="T", counterparty_name="Their Co.")
    make_case("Nobody's Ltd", team)
    # Still assigned to alice, but moved to a team she is not on.
    make_case("Moved Away Ltd", TeamFactory(name="Elsewhere"), assignee=analyst)

    response = alice.get(reverse("cases:my_work"))

    assert response.status_code == 200
    assert [c.entity.name for c in response.context["cases"]] == ["Mine Ltd"]
    assert [f.counterparty_name for f in response.context["leads"]] == ["My Lead Co."]
    assert response.context["counts"] == {"open": 1, "total": 2}
    page = body(response)
    assert "Theirs Ltd" not in page
    assert "Their Co." not in page
    assert "Moved Away Ltd" not in page
    assert closed.entity.name not in page


def test_it_links_an_empty_my_work_to_the_unassigned_cases(alice, analyst, colleague, team):
    make_case("Taken Ltd", team, assignee=colleague)
    make_case("Free Ltd", team)

    page = body(alice.get(reverse("cases:my_work")))
    link = re.search(r'<a href="([^"]*)">Find unassigned cases</a>', page).group(1)

    assert names(alice.get(link.replace("&amp;", "&"))) == ["Free Ltd"]


def test_it_redirects_the_home_page_to_my_work(alice):
    response = alice.get("/")

    assert response.status_code == 302
    assert response.url == reverse("cases:my_work")


def test_it_names_the_user_and_offers_sign_out_by_post(alice):
    page = body(alice.get(reverse("cases:my_work")))

    assert "alice" in page
    assert f'<form class="signout" method="post" action="{reverse("logout")}">' in page


def test_it_hides_the_admin_link_from_analysts(alice):
    assert reverse("admin:index") not in body(alice.get(reverse("cases:my_work")))

    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True))  # staff: the admin opens
    assert reverse("admin:index") in body(admin.get(reverse("cases:my_work")))


# ------------------------------------------------------------------ reopening


def reopen(client, finding: Finding, **data):
    data.setdefault("version", Finding.objects.get(pk=finding.pk).version)
    return client.post(reverse("cases:finding_reopen", args=[finding.pk]), data)


def reopen_case(client, case: Case, **data):
    data.setdefault("version", case_now(case).version)
    return client.post(reverse("cases:case_reopen", args=[case.pk]), data)


def test_it_reopens_a_confirmed_lead_and_the_outcome_follows(alice, case, lead):
    review(alice, lead, decision=CONFIRMED)
    assert "Outcome: positive" in body(alice.get(case.get_absolute_url()))

    response = reopen(alice, lead, reason="Wrong company.")

    assert response.status_code == 302
    assert response.url == case.get_absolute_url() + "#leads"
    lead.refresh_from_db()
    assert (lead.review_state, lead.review_note, lead.version) == (LEAD, "Wrong company.", 3)
    assert any(
        m.startswith("Reopened the joint venture lead from gleif") for m in messages_of(response)
    )
    page = body(alice.get(case.get_absolute_url()))
    assert "Outcome: none confirmed" in page
    leads = page.split('id="leads">')[1].split("</section>")[0]
    assert "Reopened: Wrong company." in leads
    assert "Reopened: Wrong company." in body(alice.get(reverse("cases:review_queue")))
    history = page.split('id="change-history">')[1].split("</section>")[0]
    assert " · alice reopened the joint venture lead from gleif: Wrong company.</li>" in history
    assert " · alice confirmed the joint venture lead from gleif</li>" in history


def test_a_review_says_how_to_undo_it(alice, lead):
    response = review(alice, lead, decision=CONFIRMED)

    assert any("If that was a slip, reopen it" in m for m in messages_of(response))


def test_it_offers_a_supervisor_no_reopening(client, team, case):
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CONCLUDED)
    reviewed = FindingFactory(case=case, review_state=CONFIRMED, reviewed_at=timezone.now())
    client.force_login(SupervisorFactory(username="sam", teams=[team]))

    page = body(client.get(case.get_absolute_url()))

    assert reverse("cases:case_reopen", args=[case.pk]) not in page
    assert reverse("cases:finding_reopen", args=[reviewed.pk]) not in page


def test_it_refuses_to_reopen_a_lead_without_a_reason(alice, lead):
    review(alice, lead, decision=REJECTED, note="Not them.")

    response = reopen(alice, lead, reason="  ")

    assert response.status_code == 302
    assert any("Say why it is reopened" in m for m in messages_of(response))
    lead.refresh_from_db()
    assert (lead.review_state, lead.review_note, lead.version) == (REJECTED, "Not them.", 2)


def test_it_refuses_a_stale_reopening(alice, bob, lead):
    review(alice, lead, decision=CONFIRMED)
    assert reopen(bob, lead, reason="Recheck.").status_code == 302

    response = reopen(alice, lead, reason="Mine too.", version=2)

    assert any("was changed by bob" in m for m in messages_of(response))
    lead.refresh_from_db()
    assert (lead.review_note, lead.version) == ("Recheck.", 3)


def test_it_offers_reopening_on_each_reviewed_finding(alice, full_case):
    reviewed = Finding.objects.get(case=full_case, review_state=CONFIRMED)

    page = body(alice.get(full_case.get_absolute_url()))

    assert reverse("cases:finding_reopen", args=[reviewed.pk]) in page
    lead = Finding.objects.get(case=full_case, review_state=LEAD)
    assert reverse("cases:finding_reopen", args=[lead.pk]) not in page


def test_it_reopens_a_concluded_case_with_its_reason_in_the_history(alice, case):
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CONCLUDED)
    page = body(alice.get(case.get_absolute_url()))
    assert reverse("cases:case_reopen", args=[case.pk]) in page

    response = reopen_case(alice, case, reason=f"New filing {HOSTILE}")

    assert response.status_code == 302
    assert case_now(case).status == Case.Status.IN_REVIEW
    assert "Case reopened: it is in review again." in messages_of(response)
    page = body(alice.get(case.get_absolute_url()))
    changes = page.split('id="status-changes">')[1].split("</ul>")[0]
    assert f" · alice reopened the concluded case: New filing {HOSTILE_ESCAPED}</li>" in changes
    assert HOSTILE not in page
    assert reverse("cases:case_reopen", args=[case.pk]) not in page


def test_it_refuses_to_reopen_a_case_without_a_reason(alice, case):
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CONCLUDED)

    response = reopen_case(alice, case, reason="")

    assert response.status_code == 302
    assert any("Say why it is reopened" in m for m in messages_of(response))
    assert case_now(case).status == Case.Status.CONCLUDED
    assert not CaseStatusChange.objects.filter(case=case).exists()


def test_it_refuses_to_reopen_a_case_that_is_not_concluded(alice, case):
    response = reopen_case(alice, case, reason="Again.")

    assert any("Only a concluded case is reopened" in m for m in messages_of(response))
    assert case_now(case).status == Case.Status.OPEN


def test_it_refuses_a_stale_case_reopening_with_a_conflict(alice, case):
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CONCLUDED, version=3)

    response = reopen_case(alice, case, reason="Again.", version=2)

    assert response.status_code == 409
    assert case_now(case).status == Case.Status.CONCLUDED


# ------------------------------------------------------------------ naming in words


def test_a_review_error_names_the_finding_by_kind_and_counterparty(alice, lead):
    response = review(alice, lead, decision=REJECTED, note="")

    assert any(
        m.startswith("The joint venture with Shenzhen Lead Co.: ") for m in messages_of(response)
    )
    assert not any(f"Finding {lead.pk}" in m for m in messages_of(response))


def test_a_control_names_the_referred_case_it_is_matched_to(alice, team, case):
    case.entity.name = f"Alpha {HOSTILE}"
    case.entity.save()
    ReferralFactory(entity=case.entity, technology_field="robotics")
    derived.case_index_dates_refresh(case_ids=[case.pk])
    case.refresh_from_db()  # its index referral, which the control is matched on
    control = CaseFactory(team=team, kind=Case.Kind.CONTROL, matched_case=case)

    page = body(alice.get(control.get_absolute_url()))

    link = f'<a href="{case.get_absolute_url()}">Alpha {HOSTILE_ESCAPED}</a>'
    assert f"matched to {link} (referred case)" in page
    assert f"case {case.pk}</a>" not in page


def test_a_control_matched_to_a_case_the_reader_cannot_see_does_not_name_it(
    alice, team, other_team
):
    hidden = make_case("Bravo Secret Ltd", other_team)
    ReferralFactory(entity=hidden.entity, technology_field="robotics")
    derived.case_index_dates_refresh(case_ids=[hidden.pk])
    hidden.refresh_from_db()
    control = CaseFactory(team=team, kind=Case.Kind.CONTROL, matched_case=hidden)

    page = body(alice.get(control.get_absolute_url()))

    assert "Bravo Secret Ltd" not in page
    assert "matched to a referred case of another team" in page


def test_the_analytics_form_names_what_it_cannot_read_in_a_banner(client, supervisor):
    client.force_login(supervisor)

    response = client.get(reverse("cases:analytics") + "?dimension=colour")

    assert response.status_code == 400
    assert "The table was not drawn" in banner_of(response)
    assert 'href="#id_dimension"' in banner_of(response)


@pytest.mark.parametrize("sort", ["leads", "-outcome"])
def test_a_cohort_is_saved_from_a_list_sorted_by_a_count(client, supervisor, trio, sort):
    """The list's query, sort included, is re-read on cases without the list's counts."""
    client.force_login(supervisor)

    response = client.post(
        reverse("cases:cohort_create"), {"name": f"By {sort}", "filter_query": f"sort={sort}"}
    )

    assert response.status_code == 302
    assert Cohort.objects.get(name=f"By {sort}").cases.count() == 3
