"""The research pages read a fixed number of queries whatever the number of rows they
show: each page is counted with a few rows and again with several times as many, and
the two counts must be equal (an N+1 shows as a count that grows with the rows)."""

import datetime
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.casework import comments, tags
from cases.models import Case, Finding
from tests.factories import (
    CaseFactory,
    EntityFactory,
    FindingFactory,
    PostFactory,
    ReferralFactory,
)

pytestmark = pytest.mark.django_db

FEW, MANY = 5, 30
_names = itertools.count()
STATUSES = [Case.Status.OPEN, Case.Status.IN_REVIEW, Case.Status.MONITORING]


@pytest.fixture
def alice(client, analyst):
    client.force_login(analyst)
    return client


def count_queries(client, url: str) -> int:
    """The queries one GET of `url` makes; the page must render."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def full_case(team, assignee, *, reviewer, post) -> Case:
    """A case with what a list row shows: an entity, a referral by a post, a tag, an
    assignee, a waiting lead and a confirmed finding."""
    n = next(_names)
    entity = EntityFactory(name=f"Query Robotics {n} Ltd")
    ReferralFactory(entity=entity, post=post)
    case = CaseFactory(
        entity=entity,
        team=team,
        assignee=assignee,
        status=STATUSES[n % len(STATUSES)],
        index_date=datetime.date(2017, 5, 1),
        index_date_precision="month",
    )
    tags.case_tag_add(case=case, name=f"tag {n % 3}", actor=reviewer)
    add_findings(case, 1, reviewer=reviewer)
    return case


def add_findings(case: Case, n: int, *, reviewer) -> None:
    """A waiting lead and a confirmed finding, `n` times, each lead with a comment."""
    for _ in range(n):
        k = next(_names)
        lead = FindingFactory(
            case=case, source="gdelt", external_id=f"L{k}", match_score=50 + k % 50
        )
        FindingFactory(
            case=case,
            source="gleif",
            external_id=f"C{k}",
            review_state=Finding.ReviewState.CONFIRMED,
            reviewed_by=reviewer,
            reviewed_at=timezone.now(),
            created_by=reviewer,
        )
        comments.comment_add(case=case, author=reviewer, body=f"See lead {k}", finding=lead)


def grow(make, counted, *, few=FEW, many=MANY) -> tuple[int, int]:
    """The query count with `few` rows made by make(), then with `many`."""
    make(few)
    small = counted()
    make(many - few)
    return small, counted()


@pytest.fixture
def list_cases(team, analyst, colleague):
    post = PostFactory()

    def make(n):
        for i in range(n):
            full_case(team, [analyst, colleague, None][i % 3], reviewer=colleague, post=post)

    return make


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?status=open&status=in_review",
        "?q=robotics",
        "?sort=-name",
        "?sort=leads",
        "?host_country=GB&has_leads=true&sort=team",
    ],
)
def test_the_case_list_reads_the_same_queries_for_more_rows(alice, list_cases, query):
    small, large = grow(list_cases, lambda: count_queries(alice, f"/cases/{query}"))
    assert small == large


def test_a_case_page_reads_the_same_queries_for_more_findings(alice, team, analyst, colleague):
    case = full_case(team, analyst, reviewer=colleague, post=PostFactory())
    url = case.get_absolute_url()

    def make(n):
        add_findings(case, n, reviewer=colleague)

    small, large = grow(make, lambda: count_queries(alice, url))
    assert small == large


def test_the_review_queue_reads_the_same_queries_for_more_leads(alice, list_cases):
    small, large = grow(list_cases, lambda: count_queries(alice, "/review/"))
    assert small == large


def test_my_work_reads_the_same_queries_for_more_cases(alice, team, analyst, colleague):
    post = PostFactory()

    def make(n):
        for _ in range(n):
            full_case(team, analyst, reviewer=colleague, post=post)

    small, large = grow(make, lambda: count_queries(alice, "/my/"))
    assert small == large
