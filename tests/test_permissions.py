"""One permission table: every URL the project routes, for every role, and that a refused
request changes nothing. A URL added without a row fails test_every_url_has_a_row.

Roles (tests/conftest.py): anonymous; nora, a member of Team A with no role; alice, an
analyst of Team A; bob, a second analyst of Team A and the second coder of its case;
olga, an analyst of Team B; sam, a supervisor of Team A; sue, a supervisor of Team B;
root, an admin (staff granted "cases.view_all_teams", on no team); stan, staff and nothing
else, who is checked against nora's column (test_the_staff_flag_alone_opens_nothing). A
case outside the user's teams is a 404; a role that
may not do something is a 403; analytics are for supervisors and admins, over their
teams' cases; a blind reading is for the coder it was given to only.
"""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from cases import access, derived
from cases.analytics import downloads
from cases.analytics import services as analytics_services
from cases.analytics.selectors import RATE_FIELDS
from cases.casework import tags
from cases.checks.sources import get_sources
from cases.evidence import storage as evidence_storage
from cases.exports import CASE_LIST_FIELDS
from cases.identity import merging
from cases.models import (
    Case,
    CaseStatusChange,
    CaseTag,
    CheckRun,
    Cohort,
    Comment,
    DistinctPair,
    Entity,
    EntityMerge,
    Evidence,
    Finding,
    IdentifierCandidate,
    Notification,
    ResolutionAttempt,
    ResolutionJob,
    SavedSearch,
    SecondCoding,
    Team,
    UserPreferences,
    Watch,
)
from tests import commented_csv
from tests.factories import CaseFactory, EntityFactory, FindingFactory, ReferralFactory

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "no_role",
    "analyst",
    "coder",
    "other_analyst",
    "supervisor",
    "other_supervisor",
    "admin",
)
# Which team's names each role may read anywhere: Team A's all start with "Alpha",
# Team B's with "Bravo".
SEES = {
    "anonymous": (),
    "no_role": (),
    "analyst": ("Alpha",),
    "coder": ("Alpha",),
    "other_analyst": ("Bravo",),
    "supervisor": ("Alpha",),
    "other_supervisor": ("Bravo",),
    "admin": ("Alpha", "Bravo"),
    "bare_staff": (),
}

CASE_NAME = "Alpha Robotics Ltd"
LEAD_NAME = "Alpha Lead Counterparty"
SECOND_CASE_NAME = "Alpha Optics Ltd"
FOREIGN_CASE_NAME = "Bravo Foreign Ltd"
FOREIGN_LEAD_NAME = "Bravo Lead Counterparty"
CONTROL_NAME = "Gamma Sensors Ltd"
JV = Finding.Kind.JOINT_VENTURE


def with_lei_check_digits(base: str) -> str:
    """Return a valid LEI for an 18-character base (ISO 7064 mod 97-10)."""
    digits = "".join(str(int(ch, 36)) for ch in base + "00")
    return f"{base}{98 - int(digits) % 97:02d}"


VALID_LEI = with_lei_check_digits("5299000EXAMPLE0001")


@pytest.fixture(autouse=True)
def _no_internet():
    """Checks queued by "check now" must never reach a real source."""
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        yield


# ------------------------------------------------------------------------------ data


@dataclass
class World:
    team: Team
    other_team: Team
    users: dict
    case: Case  # Team A's, with a lead, given to bob for a blind second reading
    lead: Finding
    coding: SecondCoding
    second_case: Case  # Team A's, alice's, with no second reading yet
    foreign_case: Case  # Team B's, with a lead
    foreign_lead: Finding


def referred_case(name: str, team: Team, *, technology_field: str, **fields) -> Case:
    """A case with one referral (the world derives the index dates once made)."""
    entity = EntityFactory(name=name)
    ReferralFactory(entity=entity, technology_field=technology_field)
    return CaseFactory(entity=entity, team=team, **fields)


def lead_of(case: Case, name: str, external_id: str) -> Finding:
    return FindingFactory(
        case=case, source="gleif", external_id=external_id, counterparty_name=name, match_score=90
    )


@pytest.fixture
def world(team, other_team, users) -> World:
    # Concluded, so that it can be given for a second reading below.
    case = referred_case(
        CASE_NAME, team, technology_field="team a robotics", status=Case.Status.CONCLUDED
    )
    lead = lead_of(case, LEAD_NAME, "A-1")
    second_case = referred_case(
        SECOND_CASE_NAME,
        team,
        technology_field="team a optics",
        assignee=users["analyst"],
        status=Case.Status.CONCLUDED,
    )
    foreign_case = referred_case(
        FOREIGN_CASE_NAME, other_team, technology_field="Secret Quantum Sensing"
    )
    foreign_lead = lead_of(foreign_case, FOREIGN_LEAD_NAME, "B-1")
    derived.case_index_dates_refresh()
    coding = analytics_services.second_coding_assign(
        case=case, coder=users["coder"], actor=users["supervisor"]
    )

    def fresh(row):
        return type(row).objects.get(pk=row.pk)

    return World(
        team,
        other_team,
        users,
        fresh(case),
        fresh(lead),
        coding,
        fresh(second_case),
        fresh(foreign_case),
        fresh(foreign_lead),
    )


def snapshot() -> dict:
    """Everything a request may change."""
    return {
        "cases": sorted(
            Case.objects.values_list("id", "status", "assignee_id", "version", "updated_at")
        ),
        "entities": sorted(Entity.objects.values_list("id", "lei", "aliases", "updated_at")),
        "findings": sorted(
            Finding.objects.values_list("id", "review_state", "version", "reviewed_by")
        ),
        "check_runs": CheckRun.objects.count(),
        "status_changes": CaseStatusChange.objects.count(),
        "cohorts": sorted(Cohort.objects.values_list("id", "name")),
        "codings": sorted(
            SecondCoding.objects.values_list("id", "case", "coder", "assigned_by", "recorded_at")
        ),
        "candidates": sorted(IdentifierCandidate.objects.values_list("id", "state", "version")),
        "attempts": ResolutionAttempt.objects.count(),
        "resolution_jobs": ResolutionJob.objects.count(),
        "distinct_pairs": sorted(DistinctPair.objects.values_list("low", "high")),
        "merges": sorted(EntityMerge.objects.values_list("id", "undone_at")),
        # Opening My work makes a person's preferences with the digest off: not a change.
        "digests": sorted(
            UserPreferences.objects.exclude(digest="off").values_list("user_id", "digest")
        ),
        "case_tags": sorted(CaseTag.objects.values_list("case", "tag__key")),
        "saved_searches": sorted(SavedSearch.objects.values_list("id", "name", "team")),
        "comments": sorted(Comment.objects.values_list("id", "body", "edited_at", "version")),
        "watches": sorted(Watch.objects.values_list("user", "case")),
        "notifications": sorted(Notification.objects.values_list("id", "read_at")),
        "evidence": sorted(Evidence.objects.values_list("id", "state", "sha256")),
    }


# ------------------------------------------------------------------------------ helpers


def client_for(client, world: World, role: str):
    user = world.users[role]
    if user is None:
        client.logout()
    else:
        client.force_login(user)
    return client


def assert_login_redirect(response, path: str) -> None:
    assert response.status_code == 302
    parts = urlsplit(response.url)
    assert parts.path == reverse("login")
    assert parse_qs(parts.query)["next"] == [path]


def texts(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def csv_header(response, body: str) -> list[str]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return commented_csv.table(body)[0]


# ------------------------------------------------------------------------------ requests


@dataclass(frozen=True)
class Request:
    """One request of the table and what each outcome means for it."""

    name: str  # the URL's name, as the resolver lists it
    path: Callable[[World], str]
    method: str = "get"
    data: Callable[[World], dict] = lambda w: {}
    # "shown": 200 with all of these; "hidden": 200 with none of them.
    marker: Callable[[World], tuple[str, ...]] = lambda w: ()
    header: list[str] | None = None  # a CSV download's first row
    # "moved" and "refused": where the response sends the user.
    to: Callable[[World], str] | None = None
    notice: str = ""  # a "refused" request's message
    # "done": asserts the change was made, given the world, the user and the response.
    done: Callable[[World, object, object], None] | None = None
    setup: Callable[[World, object], None] | None = None  # before the request


def shows(*texts: str) -> Callable[[World], tuple[str, ...]]:
    return lambda w: texts


def case_url(name: str, attr: str = "case") -> Callable[[World], str]:
    return lambda w: reverse(f"cases:{name}", args=[getattr(w, attr).pk])


def made(change: Callable[[World], bool]) -> Callable[[World, object, object], None]:
    """A research-page POST: it redirects and the change is made."""

    def check(world, user, response):
        assert response.status_code == 302, texts(response)[:2000]
        assert change(world)

    return check


def case_now(world: World) -> Case:
    return Case.objects.select_related("entity").get(pk=world.case.pk)


def reviewed(world: World) -> bool:
    world.lead.refresh_from_db()
    return world.lead.review_state == Finding.ReviewState.CONFIRMED


def lead_now(world: World) -> Finding:
    return Finding.objects.get(pk=world.lead.pk)


def lead_confirmed(world: World, user) -> None:
    """The lead confirmed by someone before the request, so that it can be reopened."""
    Finding.objects.filter(pk=world.lead.pk).update(
        review_state=Finding.ReviewState.CONFIRMED, reviewed_at=timezone.now(), version=2
    )


def assigned_to_user(world: World, user) -> None:
    # My work lists the cases assigned to the user, wherever they are.
    Case.objects.filter(pk=world.case.pk).update(assignee=user)


def analytics(**query) -> Callable[[World], str]:
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return lambda w: reverse("cases:analytics") + suffix


def entity_data(world: World) -> dict:
    return {
        "name_native": "",
        "aliases": "Alpha Robotics\nAlpha Robo",
        "website": "",
        "lei": VALID_LEI,
        "sec_cik": "",
        "uk_company_number": "",
        "ror_id": "",
        "openalex_id": "",
        "wikidata_id": "",
        "version": world.case.version,
    }


def finding_data(world: World) -> dict:
    return {
        "kind": JV,
        "counterparty_name": "Hand Recorded Co.",
        "counterparty_country": "CN",
        "event_date": "2019-03",
        "source_url": "https://news.example.org/item",
        "excerpt": "They formed a joint venture.",
        "confidence": Finding.Confidence.HIGH,
    }


def control_data(world: World) -> dict:
    return {
        "name": CONTROL_NAME,
        "country": "GB",
        "kind": Entity.Kind.COMPANY,
        "technology_fields": "team a robotics",  # the matched case's field
        "matched_case": world.case.pk,
    }


def cohort_made(world: World, user, response) -> None:
    """The cohort holds every case the user sees and no other."""
    cohort = Cohort.objects.get(name="Everything I see")
    assert response.status_code == 302
    assert response.url == reverse("cases:case_list") + f"?cohort={cohort.pk}"
    visible = Case.objects.all()
    if not access.is_admin(user):
        visible = visible.filter(team__in=user.teams.all())
    assert set(cohort.cases.values_list("pk", flat=True)) == set(
        visible.values_list("pk", flat=True)
    )
    assert cohort.created_by == user


def control_made(world: World, user, response) -> None:
    created = Case.objects.get(entity__name=CONTROL_NAME)
    assert response.status_code == 302
    assert response.url == created.get_absolute_url()


def second_reading_given(world: World, user, response) -> None:
    assert response.status_code == 302
    assert response.url == world.second_case.get_absolute_url() + "#second-coding"
    coding = SecondCoding.objects.get(case=world.second_case)
    assert coding.coder == world.users["coder"]
    assert coding.assigned_by == user
    assert coding.recorded_at is None


def second_reading_recorded(world: World, user, response) -> None:
    assert response.status_code == 302
    assert response.url == reverse("cases:coding_queue")
    world.coding.refresh_from_db()
    assert world.coding.recorded_at is not None
    assert world.coding.positive_kinds == [JV]


def my_work(world: World) -> str:
    return reverse("cases:my_work")


# Identity resolution: a GLEIF candidate for Team A's case, and a job alice started.
def candidate_of(world: World) -> IdentifierCandidate:
    candidate, _ = IdentifierCandidate.objects.get_or_create(
        entity=world.case.entity,
        registry="gleif",
        identifier=VALID_LEI,
        defaults={"registry_name": "Alpha Robotics Limited", "score": 97.0, "explanation": "t"},
    )
    return candidate


def job_of(world: World) -> ResolutionJob:
    job = ResolutionJob.objects.filter(user=world.users["analyst"]).first()
    return job or ResolutionJob.objects.create(
        user=world.users["analyst"], entity_ids=[world.case.entity_id], case_count=1
    )


def with_candidate(world: World, user) -> None:
    candidate_of(world)


def every_identifier_known(world: World, user) -> None:
    # Every registry then skips the entity: the request asks nothing of the network.
    Entity.objects.filter(pk=world.case.entity_id).update(
        lei=VALID_LEI,
        sec_cik="320193",
        uk_company_number="01234567",
        ror_id="05dxps055",
        openalex_id="I1",
        wikidata_id="Q1",
    )


def resolution_started(world: World, user, response) -> None:
    job = ResolutionJob.objects.get(user=user)
    assert response.status_code == 302
    assert response.url == world.case.get_absolute_url() + "#identity"
    assert job.entity_ids == [world.case.entity_id]


def candidate_confirmed(world: World) -> bool:
    candidate = IdentifierCandidate.objects.get(entity=world.case.entity)
    return candidate.state == "confirmed" and case_now(world).entity.lei == VALID_LEI


def job_started(world: World, user, response) -> None:
    job = ResolutionJob.objects.get(user=user)
    visible = access.visible_cases(user)
    assert response.status_code == 302
    assert response.url == reverse("cases:resolution_job", args=[job.pk])
    assert sorted(job.entity_ids) == sorted(visible.values_list("entity_id", flat=True))
    assert job.case_count == visible.count()


# ---------------------------------------------------------------- duplicates and merges
ALIKE_NAME = "Alpha Robotic Ltd"  # a possible duplicate of CASE_NAME


def alike_entity(world: World, user) -> None:
    CaseFactory(entity=EntityFactory(name=ALIKE_NAME), team=world.team)


def pair_query(world: World) -> str:
    first, second = world.case.entity_id, world.second_case.entity_id
    return reverse("cases:merge_confirm") + f"?first={first}&second={second}&keep={first}"


def merge_data(world: World) -> dict:
    return {
        "survivor": world.case.entity_id,
        "merged": world.second_case.entity_id,
        "survivor_stamp": merging.merge_stamp(Entity.objects.get(pk=world.case.entity_id)),
        "merged_stamp": merging.merge_stamp(Entity.objects.get(pk=world.second_case.entity_id)),
    }


def second_merged(world: World, user) -> None:
    merging.entity_merge(
        survivor_id=world.case.entity_id,
        merged_id=world.second_case.entity_id,
        actor=world.users["admin"],
    )


def last_merge_undo(world: World) -> str:
    pk = EntityMerge.objects.order_by("-pk").values_list("pk", flat=True).first()
    return reverse("cases:merge_undo", args=[pk or 1])


def second_exists(world: World) -> bool:
    return Entity.objects.filter(pk=world.second_case.entity_id).exists()


# ---------------------------------------------------------------- tags, bulk, saved searches
def case_tagged(world: World, user) -> None:
    tags.case_tag_add(case=world.case, name="escalate", actor=None)


def is_tagged(world: World) -> bool:
    return world.case.tags.filter(key="escalate").exists()


def case_given_to_alice(world: World, user) -> None:
    Case.objects.filter(pk=world.case.pk).update(assignee=world.users["analyst"])


def alices_shared_search(world: World) -> SavedSearch:
    search, _ = SavedSearch.objects.get_or_create(
        owner=world.users["analyst"], name="Team A's open", query="status=open", team=world.team
    )
    return search


def search_url(name: str) -> Callable[[World], str]:
    return lambda w: reverse(f"cases:{name}", args=[alices_shared_search(w).pk])


# ---------------------------------------------------------------- comments, notifications
def own_comment(world: World, user) -> None:
    Comment.objects.create(case=world.case, author=user, body="My first thought.")


def last_comment_edit(world: World) -> str:
    comment = Comment.objects.order_by("-pk").first() or Comment.objects.create(
        case=world.case, author=world.users["analyst"], body="Alice's thought."
    )
    return reverse("cases:comment_edit", args=[comment.pk])


def own_notification(world: World, user) -> None:
    Notification.objects.create(
        recipient=user, case=world.case, kind="assigned", text="A test notification."
    )


def last_notification_read(world: World) -> str:
    notification = Notification.objects.order_by("-pk").first() or Notification.objects.create(
        recipient=world.users["analyst"], case=world.case, kind="assigned", text="For alice."
    )
    return reverse("cases:notification_read", args=[notification.pk])


def all_read(world: World) -> bool:
    return not Notification.objects.filter(read_at__isnull=True).exists()


ADMIN_LOGIN = "/admin/login/?next=/admin/"


# Kept evidence: a capture of Team A's lead, its text in the storage.
def lead_with_url(world: World, user) -> None:
    Finding.objects.filter(pk=world.lead.pk).update(source_url="https://news.example.org/a")


def kept_text(world: World) -> Evidence:
    evidence = Evidence.objects.filter(finding=world.lead).first()
    if evidence is None:
        evidence = Evidence.objects.create(
            finding=world.lead, kind=Evidence.Kind.CAPTURE, url="https://news.example.org/a"
        )
        name = evidence_storage.capture_name(evidence, "text.txt")
        Evidence.objects.filter(pk=evidence.pk).update(
            state=Evidence.State.OK,
            text=evidence_storage.evidence_save(name, b"The kept words of the page."),
            sha256="0" * 64,
            retrieved_at=timezone.now(),
        )
    return evidence


def evidence_of_lead(world: World) -> bool:
    return Evidence.objects.filter(finding=world.lead).exists()


REQUESTS = {
    # ---------------------------------------------------------------- research pages
    "case_list": Request(
        "cases:case_list", lambda w: reverse("cases:case_list"), marker=shows(CASE_NAME)
    ),
    "case_list.csv": Request(
        "cases:case_list",
        lambda w: reverse("cases:case_list") + "?format=csv",
        marker=shows(CASE_NAME),
        header=list(CASE_LIST_FIELDS),
    ),
    "case_detail": Request("cases:case_detail", case_url("case_detail"), marker=shows(CASE_NAME)),
    "case_evidence": Request(
        "cases:case_evidence", case_url("case_evidence"), marker=shows('id="evidence"')
    ),
    "case_checks": Request(
        "cases:case_checks", case_url("case_checks"), marker=shows('id="checks"')
    ),
    "case_detail.second_reading": Request(
        "cases:case_detail",
        case_url("case_detail"),
        marker=lambda w: (
            'id="second-coding"',
            "Given to bob",
            reverse("cases:second_coder_assign", args=[w.case.pk]),
        ),
    ),
    "review_queue": Request(
        "cases:review_queue", lambda w: reverse("cases:review_queue"), marker=shows(LEAD_NAME)
    ),
    "my_work": Request("cases:my_work", my_work, marker=shows(CASE_NAME), setup=assigned_to_user),
    "backlog": Request(
        "cases:backlog", lambda w: reverse("cases:backlog"), marker=shows('id="backlog-teams"')
    ),
    "backlog.team": Request(
        "cases:backlog", lambda w: reverse("cases:backlog"), marker=shows("Team A")
    ),
    "preferences": Request(
        "cases:preferences", lambda w: reverse("cases:preferences"), marker=shows('name="digest"')
    ),
    "preferences.post": Request(
        "cases:preferences",
        lambda w: reverse("cases:preferences"),
        "post",
        lambda w: {"digest": UserPreferences.Digest.WEEKLY},
        done=made(lambda w: UserPreferences.objects.filter(digest="weekly").exists()),
    ),
    # ---------------------------------------------------------------- research actions
    "case_status": Request(
        "cases:case_status",
        case_url("case_status"),
        "post",
        lambda w: {"status": Case.Status.MONITORING, "version": w.case.version},
        done=made(lambda w: case_now(w).status == Case.Status.MONITORING),
    ),
    "case_assign": Request(
        "cases:case_assign",
        case_url("case_assign"),
        "post",
        lambda w: {"assignee": w.users["analyst"].pk, "version": w.case.version},
        done=made(lambda w: case_now(w).assignee_id == w.users["analyst"].pk),
    ),
    "case_entity": Request(
        "cases:case_entity",
        case_url("case_entity"),
        "post",
        entity_data,
        done=made(lambda w: case_now(w).entity.lei == VALID_LEI),
    ),
    "case_finding_add": Request(
        "cases:case_finding_add",
        case_url("case_finding_add"),
        "post",
        finding_data,
        done=made(lambda w: w.case.findings.filter(counterparty_name="Hand Recorded Co.").exists()),
    ),
    "case_check_now": Request(
        "cases:case_check_now",
        case_url("case_check_now"),
        "post",
        done=made(lambda w: CheckRun.objects.filter(case=w.case).count() == len(get_sources())),
    ),
    "finding_review": Request(
        "cases:finding_review",
        case_url("finding_review", "lead"),
        "post",
        lambda w: {"decision": Finding.ReviewState.CONFIRMED, "version": w.lead.version},
        done=made(reviewed),
    ),
    "finding_reopen": Request(
        "cases:finding_reopen",
        case_url("finding_reopen", "lead"),
        "post",
        lambda w: {"reason": "Wrong company.", "version": lead_now(w).version},
        done=made(lambda w: lead_now(w).review_state == Finding.ReviewState.LEAD),
        setup=lead_confirmed,
    ),
    "case_reopen": Request(
        "cases:case_reopen",
        case_url("case_reopen"),
        "post",
        lambda w: {"reason": "A new filing.", "version": w.case.version},
        done=made(lambda w: case_now(w).status == Case.Status.IN_REVIEW),
    ),
    "review_bulk": Request(
        "cases:review_bulk",
        lambda w: reverse("cases:review_bulk"),
        "post",
        lambda w: {
            "findings": [f"{w.lead.pk}:{w.lead.version}"],
            "decision": Finding.ReviewState.CONFIRMED,
        },
        to=lambda w: reverse("cases:review_queue"),
        notice="not yours",
        done=made(reviewed),
    ),
    # ---------------------------------------------------------------- analytics
    "analytics": Request("cases:analytics", analytics(), marker=shows('id="rates-table"')),
    "analytics_models": Request(
        "cases:analytics_models",
        lambda w: reverse("cases:analytics_models"),
        marker=shows("Adjusted comparisons"),
    ),
    "analytics_report": Request(
        "cases:analytics_report",
        lambda w: reverse("cases:analytics_report") + "?dimension=team",
        marker=shows('id="report-rates"'),
    ),
    "analytics.team": Request(
        "cases:analytics",
        analytics(dimension="team", outcome="any"),
        marker=shows('id="rates-table"'),
    ),
    "analytics.rates": Request(
        "cases:analytics",
        analytics(download="rates"),
        header=downloads.spreadsheet_header(RATE_FIELDS),
    ),
    "analytics.survival": Request(
        "cases:analytics",
        analytics(download="survival"),
        header=["cohort", "case_id", "days", "days_earliest", "days_latest", "status"],
    ),
    "analytics.control": Request(
        "cases:analytics",
        analytics(download="control"),
        header=[
            "group",
            "pairs",
            "both_positive",
            "referred_only_positive",
            "control_only_positive",
            "both_negative",
            "referred_rate_%",
            "control_rate_%",
            "mcnemar_exact_p",
            "difference_pp",
            "difference_low_pp",
            "difference_high_pp",
            "odds_ratio_mh",
            "odds_ratio_low",
            "odds_ratio_high",
            "pairs_not_counted",
            "referred_not_reviewed",
            "control_not_reviewed",
            "controls_left_pair",
            "referred_checks_per_case",
            "control_checks_per_case",
        ],
    ),
    "analytics.agreement": Request(
        "cases:analytics",
        analytics(download="agreement"),
        header=[
            "cohort",
            "outcome",
            "double_coded",
            "both_positive",
            "first_only",
            "second_only",
            "both_negative",
            "observed_agreement_%",
            "kappa",
            "kappa_low",
            "kappa_high",
            "pabak",
            "pabak_low",
            "pabak_high",
            "prevalence_index",
            "bias_index",
            "positive_agreement_%",
            "positive_agreement_low_%",
            "positive_agreement_high_%",
            "negative_agreement_%",
            "negative_agreement_low_%",
            "negative_agreement_high_%",
            "too_few",
            "disagreements",
            "bootstrap_seed",
            "replicates",
        ],
    ),
    "cohort_create": Request(
        "cases:cohort_create",
        lambda w: reverse("cases:cohort_create"),
        "post",
        lambda w: {"name": "Everything I see", "filter_query": ""},
        done=cohort_made,
    ),
    "control_create": Request(
        "cases:control_create",
        lambda w: reverse("cases:control_create"),
        "post",
        control_data,
        to=lambda w: reverse("cases:analytics") + "#control",
        notice="No referred case",
        done=control_made,
    ),
    "second_coder_assign": Request(
        "cases:second_coder_assign",
        case_url("second_coder_assign", "second_case"),
        "post",
        lambda w: {"coder": w.users["coder"].pk},
        done=second_reading_given,
    ),
    "second_coding_draw": Request(
        "cases:second_coding_draw",
        lambda w: reverse("cases:second_coding_draw"),
        "post",
        lambda w: {"coder": w.users["coder"].pk, "size": 1, "seed": 3},
        to=lambda w: reverse("cases:analytics") + "#agreement",
        notice="valid choice",
        done=made(
            lambda w: SecondCoding.objects.filter(
                case=w.second_case, coder=w.users["coder"], draw_seed=3
            ).exists()
        ),
    ),
    "coding_queue": Request(
        "cases:coding_queue", lambda w: reverse("cases:coding_queue"), marker=shows(CASE_NAME)
    ),
    "coding_detail": Request(
        "cases:coding_detail", case_url("coding_detail"), marker=shows(CASE_NAME)
    ),
    "coding_detail.post": Request(
        "cases:coding_detail",
        case_url("coding_detail"),
        "post",
        lambda w: {"positive_kinds": [JV]},
        done=second_reading_recorded,
    ),
    # ---------------------------------------------------------------- identity resolution
    "case_detail.candidates": Request(
        "cases:case_detail",
        case_url("case_detail"),
        marker=shows('id="identity"', "Alpha Robotics Limited", VALID_LEI),
        setup=with_candidate,
    ),
    "case_detail.judge": Request(
        "cases:case_detail",
        case_url("case_detail"),
        marker=lambda w: (reverse("cases:candidate_judge", args=[candidate_of(w).pk]),),
        setup=with_candidate,
    ),
    "identity_queue": Request(
        "cases:identity_queue",
        lambda w: reverse("cases:identity_queue"),
        marker=shows(CASE_NAME, "Alpha Robotics Limited"),
        setup=with_candidate,
    ),
    "candidate_judge": Request(
        "cases:candidate_judge",
        lambda w: reverse("cases:candidate_judge", args=[candidate_of(w).pk]),
        "post",
        lambda w: {"decision": "confirmed", "version": candidate_of(w).version},
        done=made(candidate_confirmed),
    ),
    "case_resolve": Request(
        "cases:case_resolve",
        case_url("case_resolve"),
        "post",
        done=resolution_started,
        setup=every_identifier_known,
    ),
    "resolution_job_start": Request(
        "cases:resolution_job_start",
        lambda w: reverse("cases:resolution_job_start"),
        "post",
        lambda w: {"filter_query": ""},
        done=job_started,
    ),
    "resolution_job": Request(
        "cases:resolution_job",
        lambda w: reverse("cases:resolution_job", args=[job_of(w).pk]),
        marker=shows('id="job-progress"'),
    ),
    # ---------------------------------------------------------------- duplicates
    "duplicate_list": Request(
        "cases:duplicate_list",
        lambda w: reverse("cases:duplicate_list"),
        marker=shows(ALIKE_NAME),
        setup=alike_entity,
    ),
    "merge_confirm": Request(
        "cases:merge_confirm", pair_query, marker=shows(SECOND_CASE_NAME, "What moves to")
    ),
    "merge_confirm.post": Request(
        "cases:merge_confirm",
        lambda w: reverse("cases:merge_confirm"),
        "post",
        merge_data,
        done=made(lambda w: not second_exists(w)),
    ),
    "duplicate_distinct": Request(
        "cases:duplicate_distinct",
        lambda w: reverse("cases:duplicate_distinct"),
        "post",
        lambda w: {"first": w.case.entity_id, "second": w.second_case.entity_id},
        done=made(lambda w: DistinctPair.objects.exists()),
    ),
    "merge_list": Request(
        "cases:merge_list",
        lambda w: reverse("cases:merge_list"),
        marker=shows(SECOND_CASE_NAME),
        setup=second_merged,
    ),
    "merge_undo": Request(
        "cases:merge_undo",
        last_merge_undo,
        "post",
        setup=second_merged,
        done=made(second_exists),
    ),
    # ---------------------------------------------------------------- tags, bulk, searches
    "case_tag_add": Request(
        "cases:case_tag_add",
        case_url("case_tag_add"),
        "post",
        lambda w: {"name": "Escalate"},
        done=made(is_tagged),
    ),
    "case_tag_remove": Request(
        "cases:case_tag_remove",
        case_url("case_tag_remove"),
        "post",
        lambda w: {"name": "escalate"},
        setup=case_tagged,
        done=made(lambda w: not is_tagged(w)),
    ),
    "case_bulk": Request(
        "cases:case_bulk",
        lambda w: reverse("cases:case_bulk"),
        "post",
        lambda w: {"cases": [w.case.pk], "action": "assign", "assignee": "", "filter_query": ""},
        setup=case_given_to_alice,
        to=lambda w: reverse("cases:case_list"),
        notice="1 case not among your cases",
        done=made(lambda w: case_now(w).assignee_id is None),
    ),
    "saved_search_create": Request(
        "cases:saved_search_create",
        lambda w: reverse("cases:saved_search_create"),
        "post",
        lambda w: {"name": "Open ones", "query": "status=open"},
        done=made(lambda w: SavedSearch.objects.filter(name="Open ones").exists()),
    ),
    "saved_search_update": Request(
        "cases:saved_search_update",
        search_url("saved_search_update"),
        "post",
        lambda w: {"name": "Renamed"},
        done=made(lambda w: SavedSearch.objects.filter(name="Renamed").exists()),
    ),
    "saved_search_delete": Request(
        "cases:saved_search_delete",
        search_url("saved_search_delete"),
        "post",
        done=made(lambda w: not SavedSearch.objects.exists()),
    ),
    # ---------------------------------------------------------------- comments, notifications
    "comment_add": Request(
        "cases:comment_add",
        case_url("comment_add"),
        "post",
        lambda w: {"body": "A note for the team."},
        done=made(lambda w: w.case.comments.filter(body="A note for the team.").exists()),
    ),
    "comment_edit": Request(
        "cases:comment_edit",
        last_comment_edit,
        "post",
        lambda w: {"body": "A second thought.", "version": 1},
        done=made(lambda w: Comment.objects.filter(body="A second thought.").exists()),
        setup=own_comment,
    ),
    "case_watch": Request(
        "cases:case_watch",
        case_url("case_watch"),
        "post",
        lambda w: {"watch": "1"},
        done=made(lambda w: Watch.objects.filter(case=w.case).exists()),
    ),
    "notification_list": Request(
        "cases:notification_list",
        lambda w: reverse("cases:notification_list"),
        marker=shows("A test notification."),
        setup=own_notification,
    ),
    "notification_read": Request(
        "cases:notification_read",
        last_notification_read,
        "post",
        done=made(all_read),
        setup=own_notification,
    ),
    "notifications_read_all": Request(
        "cases:notifications_read_all",
        lambda w: reverse("cases:notifications_read_all"),
        "post",
        done=made(all_read),
        setup=own_notification,
    ),
    # ---------------------------------------------------------------- the project
    "root": Request("/", lambda w: "/", to=my_work),
    "login": Request(
        "login", lambda w: reverse("login"), marker=shows('name="password"'), to=my_work
    ),
    "logout": Request("logout", lambda w: reverse("logout"), "post", to=lambda w: reverse("login")),
    # The second step of signing in. force_login gives supervisors and admins their
    # second factor (tests/clients.py); the others have none, which is theirs to choose.
    "otp_verify": Request(
        "otp_verify", lambda w: reverse("otp_verify"), marker=shows("no second factor"), to=my_work
    ),
    "otp_setup": Request(
        "otp_setup", lambda w: reverse("otp_setup"), marker=shows("otpauth://totp/")
    ),
    "admin": Request(
        "admin", lambda w: "/admin/", marker=shows("Case store"), to=lambda w: ADMIN_LOGIN
    ),
    "finding_capture": Request(
        "cases:finding_capture",
        case_url("finding_capture", "lead"),
        "post",
        done=made(evidence_of_lead),
        setup=lead_with_url,
    ),
    "finding_attach": Request(
        "cases:finding_attach",
        case_url("finding_attach", "lead"),
        "post",
        lambda w: {"file": SimpleUploadedFile("minutes.txt", b"Minutes of the board.")},
        done=made(evidence_of_lead),
    ),
    "evidence_file": Request(
        "cases:evidence_file",
        lambda w: reverse("cases:evidence_file", args=[kept_text(w).pk, "text"]),
        marker=shows("The kept words of the page."),
    ),
}

# "login": to the sign-in page and back; "shown"/"hidden": 200 with or without the
# request's marker; "done": the change is made; "refused": sent back with a message and
# nothing changed; "moved": a redirect to the request's `to`; a number: that status.
TABLE = {
    # anonymous no_role analyst coder other_analyst supervisor other_supervisor admin
    # bob's reading of the case is pending, so the case is hidden from him as from
    # another team's analyst until he records it (blind coding, cases/access.py).
    "case_list": ("login", "hidden", "shown", "hidden", "hidden", "shown", "hidden", "shown"),
    "case_list.csv": ("login", "hidden", "shown", "hidden", "hidden", "shown", "hidden", "shown"),
    "case_detail": ("login", 404, "shown", 404, 404, "shown", 404, "shown"),
    "case_checks": ("login", 404, "shown", 404, 404, "shown", 404, "shown"),
    "case_evidence": ("login", 404, "shown", 404, 404, "shown", 404, "shown"),
    "case_detail.second_reading": ("login", 404, "hidden", 404, 404, "shown", 404, "shown"),
    "review_queue": ("login", 403, "shown", "hidden", "hidden", "shown", "hidden", "shown"),
    "my_work": ("login", "hidden", "shown", "hidden", "hidden", "shown", "hidden", "shown"),
    # The backlog is for supervisors and admins, of their own teams.
    "backlog": ("login", 403, 403, 403, 403, "shown", "shown", "shown"),
    "backlog.team": ("login", 403, 403, 403, 403, "shown", "hidden", "shown"),
    # Everyone signed in chooses their own digest.
    "preferences": ("login", "shown", "shown", "shown", "shown", "shown", "shown", "shown"),
    "preferences.post": ("login", "done", "done", "done", "done", "done", "done", "done"),
    "case_status": ("login", 404, "done", 404, 404, 403, 404, "done"),
    "case_assign": ("login", 404, "done", 404, 404, "done", 404, "done"),
    "case_entity": ("login", 404, "done", 404, 404, 403, 404, "done"),
    "case_finding_add": ("login", 404, "done", 404, 404, 403, 404, "done"),
    "case_check_now": ("login", 404, "done", 404, 404, 403, 404, "done"),
    "finding_review": ("login", 404, "done", 404, 404, 403, 404, "done"),
    # Undoing a review or a conclusion is for who may review the case; the blind coder
    # does not see it.
    "finding_reopen": ("login", 404, "done", 404, 404, 403, 404, "done"),
    "case_reopen": ("login", 404, "done", 404, 404, 403, 404, "done"),
    "review_bulk": ("login", 403, "done", "refused", "refused", 403, 403, "done"),
    "analytics": ("login", 403, 403, 403, 403, "shown", "shown", "shown"),
    "analytics_models": ("login", 403, 403, 403, 403, "shown", "shown", "shown"),
    "analytics_report": ("login", 403, 403, 403, 403, "shown", "shown", "shown"),
    "analytics.team": ("login", 403, 403, 403, 403, "shown", "shown", "shown"),
    "analytics.rates": ("login", 403, 403, 403, 403, "shown", "shown", "shown"),
    "analytics.survival": ("login", 403, 403, 403, 403, "shown", "shown", "shown"),
    "analytics.control": ("login", 403, 403, 403, 403, "shown", "shown", "shown"),
    "analytics.agreement": ("login", 403, 403, 403, 403, "shown", "shown", "shown"),
    "cohort_create": ("login", 403, 403, 403, 403, "done", "done", "done"),
    "control_create": ("login", 403, 403, 403, 403, "done", "refused", "done"),
    "second_coder_assign": ("login", 404, 403, 403, 404, "done", 404, "done"),
    # The other team's supervisor cannot choose bob, who is not on their team.
    "second_coding_draw": ("login", 403, 403, 403, 403, "done", "refused", "done"),
    "coding_queue": ("login", "hidden", "hidden", "shown", "hidden", "hidden", "hidden", "hidden"),
    "coding_detail": ("login", 404, 404, "shown", 404, 404, 404, 404),
    "coding_detail.post": ("login", 404, 404, "done", 404, 404, 404, 404),
    "case_detail.candidates": ("login", 404, "shown", 404, 404, "shown", 404, "shown"),
    "case_detail.judge": ("login", 404, "shown", 404, 404, "hidden", 404, "shown"),
    "identity_queue": ("login", 403, "shown", "hidden", "hidden", "shown", "hidden", "shown"),
    "candidate_judge": ("login", 404, "done", 404, 404, 403, 404, "done"),
    "case_resolve": ("login", 404, "done", 404, 404, 403, 404, "done"),
    "resolution_job_start": ("login", 403, "done", "done", "done", 403, 403, "done"),
    "resolution_job": ("login", 404, "shown", 404, 404, 404, 404, "shown"),
    "duplicate_list": ("login", 403, "shown", "hidden", "hidden", 403, 403, "shown"),
    "merge_confirm": ("login", 404, "shown", 404, 404, 403, 404, "shown"),
    "merge_confirm.post": ("login", 404, "done", 404, 404, 403, 404, "done"),
    "duplicate_distinct": ("login", 404, "done", 404, 404, 403, 404, "done"),
    "merge_list": ("login", 403, "shown", "hidden", "hidden", 403, 403, "shown"),
    "merge_undo": ("login", 404, "done", 404, 404, 403, 404, "done"),
    # Tags are written by who may edit the case; bulk actions by who may assign (only
    # assigning for supervisors); a case of the bulk outside one's teams is refused.
    "case_tag_add": ("login", 404, "done", 404, 404, 403, 404, "done"),
    "case_tag_remove": ("login", 404, "done", 404, 404, 403, 404, "done"),
    "case_bulk": ("login", 403, "done", "refused", "refused", "done", "refused", "done"),
    # Alice's search is shared with Team A: its members see it, only she changes it.
    "saved_search_create": ("login", 403, "done", "done", "done", "done", "done", "done"),
    "saved_search_update": ("login", 403, "done", 403, 404, 403, 404, 404),
    "saved_search_delete": ("login", 403, "done", 403, 404, 403, 404, 404),
    # Supervisors comment too: a note to colleagues is not a research write.
    "comment_add": ("login", 404, "done", 404, 404, "done", 404, "done"),
    "comment_edit": ("login", 404, "done", 404, 404, "done", 404, "done"),
    "case_watch": ("login", 404, "done", 404, 404, "done", 404, "done"),
    # Everyone's own notifications (a user without a role has none made for them).
    "notification_list": ("login", "shown", "shown", "shown", "shown", "shown", "shown", "shown"),
    "notification_read": ("login", "done", "done", "done", "done", "done", "done", "done"),
    "notifications_read_all": ("login", "done", "done", "done", "done", "done", "done", "done"),
    "root": ("moved", "moved", "moved", "moved", "moved", "moved", "moved", "moved"),
    "login": ("shown", "moved", "moved", "moved", "moved", "moved", "moved", "moved"),
    "logout": ("moved", "moved", "moved", "moved", "moved", "moved", "moved", "moved"),
    "otp_verify": ("login", "shown", "shown", "shown", "shown", "moved", "moved", "moved"),
    "otp_setup": ("login", "shown", "shown", "shown", "shown", "hidden", "hidden", "hidden"),
    "admin": ("moved", "moved", "moved", "moved", "moved", "moved", "moved", "shown"),
    # Kept evidence: for who may review the lead; read by who may see its case.
    "finding_capture": ("login", 404, "done", 404, 404, 403, 404, "done"),
    "finding_attach": ("login", 404, "done", 404, 404, 403, 404, "done"),
    "evidence_file": ("login", 404, "shown", 404, 404, "shown", 404, "shown"),
}

# The methods each URL answers 405 to, whoever asks.
REFUSED_METHODS = {
    "case_list": ("post",),
    "case_detail": ("post",),
    "case_checks": ("post",),
    "case_evidence": ("post",),
    "review_queue": ("post",),
    "my_work": ("post",),
    "backlog": ("post",),
    "case_status": ("get",),
    "case_assign": ("get",),
    "case_entity": ("get",),
    "case_finding_add": ("get",),
    "case_check_now": ("get",),
    "finding_review": ("get",),
    "finding_reopen": ("get",),
    "case_reopen": ("get",),
    "review_bulk": ("get",),
    "analytics": ("post",),
    "analytics_models": ("post",),
    "analytics_report": ("post",),
    "cohort_create": ("get",),
    "control_create": ("get",),
    "second_coder_assign": ("get",),
    "second_coding_draw": ("get",),
    "coding_queue": ("post",),
    "identity_queue": ("post",),
    "candidate_judge": ("get",),
    "case_resolve": ("get",),
    "resolution_job_start": ("get",),
    "resolution_job": ("post",),
    "duplicate_list": ("post",),
    "duplicate_distinct": ("get",),
    "merge_list": ("post",),
    "merge_undo": ("get",),
    "case_tag_add": ("get",),
    "case_tag_remove": ("get",),
    "case_bulk": ("get",),
    "saved_search_create": ("get",),
    "saved_search_update": ("get",),
    "saved_search_delete": ("get",),
    "logout": ("get",),
    "comment_add": ("get",),
    "comment_edit": ("get",),
    "case_watch": ("get",),
    "notification_list": ("post",),
    "notification_read": ("get",),
    "notifications_read_all": ("get",),
    "finding_capture": ("get",),
    "finding_attach": ("get",),
    "evidence_file": ("post",),
}


def url_names(resolver=None, namespace: str = "", route: str = "/"):
    """Every URL pattern the project routes: its name (namespaced), the admin as one
    "admin", an unnamed pattern as its route."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                yield "admin"
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_names(pattern, inner, route + str(pattern.pattern))
        elif pattern.name:
            yield namespace + pattern.name
        else:
            yield route + str(pattern.pattern)


def test_every_url_has_a_row():
    missing = sorted(set(url_names()) - {r.name for r in REQUESTS.values()})

    assert missing == [], f"URLs without a row in the permission table: {missing}"


def test_every_request_has_a_row_for_every_role():
    assert set(TABLE) == set(REQUESTS)
    assert {len(row) for row in TABLE.values()} == {len(ROLES)}
    assert set(REFUSED_METHODS) <= set(REQUESTS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("label", sorted(TABLE))
def test_it_guards_every_url(client, world, label, role):
    assert_outcome(client, world, label, role, TABLE[label][ROLES.index(role)])


# The staff flag alone opens the Django admin (which shows him nothing, since he holds no
# model permission) and nothing else: in the research pages stan is nora, a user without
# a role. Before, it gave read and write on every team's cases. The second-factor pages
# are the one difference: staff must sign in with one (signed in here with it given),
# like the admin.
BARE_STAFF = {
    label: 200
    if label == "admin"
    else row[ROLES.index("admin" if label.startswith("otp_") else "no_role")]
    for label, row in TABLE.items()
}


@pytest.mark.parametrize("label", sorted(BARE_STAFF))
def test_the_staff_flag_alone_opens_nothing(client, world, label):
    assert_outcome(client, world, label, "bare_staff", BARE_STAFF[label])


def assert_outcome(client, world, label: str, role: str, expected) -> None:
    request = REQUESTS[label]
    user = world.users[role]
    if request.setup and user is not None:
        request.setup(world, user)
    path = request.path(world)
    before = snapshot()

    response = getattr(client_for(client, world, role), request.method)(path, request.data(world))

    body = texts(response)
    if expected == "done":
        request.done(world, user, response)
        assert snapshot() != before
        return
    if expected == "login":
        assert_login_redirect(response, path)
    elif expected == "moved":
        assert response.status_code == 302
        assert response.url == request.to(world)
    elif expected == "refused":
        assert response.status_code == 302
        assert response.url == request.to(world)
        assert any(request.notice in m for m in messages_of(response))
    elif expected in ("shown", "hidden"):
        assert response.status_code == 200
        for marker in request.marker(world):
            assert (marker in body) == (expected == "shown"), marker
        if request.header is not None:
            assert csv_header(response, body) == request.header
        for prefix in {"Alpha", "Bravo"} - set(SEES[role]):
            assert prefix not in body
    else:
        assert response.status_code == expected
        assert "Alpha" not in body
        assert "Bravo" not in body
    assert snapshot() == before


@pytest.mark.parametrize("label", sorted(REFUSED_METHODS))
def test_it_refuses_the_wrong_method(client, world, label):
    request = REQUESTS[label]
    path = request.path(world)
    before = snapshot()

    for role in ROLES:
        for method in REFUSED_METHODS[label]:
            response = getattr(client_for(client, world, role), method)(path)

            assert response.status_code == 405, (role, method)
            assert snapshot() == before, (role, method)


@pytest.mark.parametrize("method", ["put", "delete"])
def test_the_blind_page_refuses_other_methods(client, world, method):
    path = reverse("cases:coding_detail", args=[world.case.pk])

    response = getattr(client_for(client, world, "coder"), method)(path)

    assert response.status_code == 405
    world.coding.refresh_from_db()
    assert world.coding.recorded_at is None


# ------------------------------------------------------------------ beyond the table


@pytest.mark.parametrize("label", ["case_list", "case_list.csv", "review_queue"])
def test_it_shows_the_other_team_its_own_cases(client, world, label):
    """The other team's analyst is not simply shown an empty page."""
    response = client_for(client, world, "other_analyst").get(REQUESTS[label].path(world))

    body = texts(response)
    assert response.status_code == 200
    assert (FOREIGN_LEAD_NAME if label == "review_queue" else FOREIGN_CASE_NAME) in body
    assert CASE_NAME not in body
    assert LEAD_NAME not in body


def test_it_gives_a_user_without_a_role_empty_pages(client, world):
    client_for(client, world, "no_role")

    listing = client.get(reverse("cases:case_list"))
    csv_lines = commented_csv.table(texts(client.get(reverse("cases:case_list") + "?format=csv")))
    mine = client.get(reverse("cases:my_work"))

    assert listing.status_code == 200
    assert list(listing.context["page"].object_list) == []
    assert len(csv_lines) == 1  # the header only
    assert mine.status_code == 200
    assert list(mine.context["cases"]) == []
    assert client.get(world.case.get_absolute_url()).status_code == 404


def test_it_treats_an_inactive_analyst_as_signed_out(client, world):
    analyst = world.users["analyst"]
    client.force_login(analyst)
    analyst.is_active = False
    analyst.save()
    path = world.case.get_absolute_url()

    assert_login_redirect(client.get(path), path)


def test_it_does_not_offer_other_teams_technology_fields(client, world):
    """The filter's choices come from referrals: another team's must not show."""
    response = client_for(client, world, "analyst").get(reverse("cases:case_list"))

    body = response.content.decode()
    assert "team a robotics" in body
    assert "Secret Quantum Sensing" not in body


@pytest.mark.parametrize("role", ROLES[1:])
def test_signing_out_ends_the_session(client, world, role):
    client_for(client, world, role).post(reverse("logout"))

    path = reverse("cases:my_work")
    assert_login_redirect(client.get(path), path)


@pytest.mark.parametrize(
    "view",
    [
        "case_status",
        "case_assign",
        "case_entity",
        "case_finding_add",
        "case_check_now",
        "case_reopen",
    ],
)
def test_it_answers_404_for_a_case_that_does_not_exist(client, world, view):
    client_for(client, world, "admin")

    response = client.post(reverse(f"cases:{view}", args=[999999]), {})

    assert response.status_code == 404


def test_it_lets_the_other_team_act_on_its_own_case(client, world):
    """The 404s above come from the team, not from a broken view."""
    client_for(client, world, "other_analyst")
    foreign = world.foreign_case

    response = client.post(
        reverse("cases:case_status", args=[foreign.pk]),
        {"status": Case.Status.IN_REVIEW, "version": foreign.version},
    )

    assert response.status_code == 302
    foreign.refresh_from_db()
    assert foreign.status == Case.Status.IN_REVIEW


def test_it_does_not_review_a_foreign_lead_in_bulk_with_a_visible_one(client, world):
    client_for(client, world, "analyst")
    before = snapshot()
    foreign_before = (world.foreign_lead.review_state, world.foreign_lead.version)

    response = client.post(
        reverse("cases:review_bulk"),
        {
            "findings": [
                f"{world.lead.pk}:{world.lead.version}",
                f"{world.foreign_lead.pk}:{world.foreign_lead.version}",
            ],
            "decision": Finding.ReviewState.CONFIRMED,
        },
    )

    assert response.status_code == 302
    world.foreign_lead.refresh_from_db()
    assert (world.foreign_lead.review_state, world.foreign_lead.version) == foreign_before
    assert snapshot() == before


# ------------------------------------------------------------------ no existence oracles


@pytest.mark.parametrize("holder", ["foreign_case", "second_case"])
def test_a_taken_lei_is_refused_alike_whoever_holds_it(client, world, holder):
    """The refusal is the same for another team's entity as for one's own, and names
    neither the holder nor the constraint."""
    Entity.objects.filter(pk=getattr(world, holder).entity_id).update(lei=VALID_LEI)
    before = snapshot()

    response = client_for(client, world, "analyst").post(
        reverse("cases:case_entity", args=[world.case.pk]), entity_data(world)
    )

    body = texts(response)
    assert response.status_code == 400
    assert "This LEI is already recorded on another entity" in body
    assert "entity_unique_lei" not in body
    assert "Bravo" not in body
    assert SECOND_CASE_NAME not in body.replace(CASE_NAME, "")
    assert snapshot() == before


@pytest.mark.parametrize("holder", ["foreign_case", "second_case"])
def test_a_control_named_like_a_recorded_entity_is_refused_alike_whoever_holds_it(
    client, world, holder
):
    entity = getattr(world, holder).entity
    before = snapshot()

    response = client_for(client, world, "supervisor").post(
        reverse("cases:control_create"),
        {**control_data(world), "name": entity.name, "country": entity.country},
    )

    notices = " ".join(messages_of(response))
    assert response.status_code == 302
    assert "An entity of this name" in notices
    assert "Bravo" not in notices
    assert "entity_unique_name_key" not in notices
    assert snapshot() == before


def test_a_cohort_name_another_team_uses_is_free(client, world):
    """Cohort names are unique per person: trying one says nothing of other teams'."""
    client_for(client, world, "other_supervisor").post(
        reverse("cases:cohort_create"), {"name": "Quantum targets", "filter_query": ""}
    )

    response = client_for(client, world, "supervisor").post(
        reverse("cases:cohort_create"), {"name": "Quantum targets", "filter_query": ""}
    )

    mine = Cohort.objects.get(name="Quantum targets", created_by=world.users["supervisor"])
    assert response.url == reverse("cases:case_list") + f"?cohort={mine.pk}"
    assert Cohort.objects.filter(name="Quantum targets").count() == 2


# ------------------------------------------------------------------ headers on every page


@pytest.mark.parametrize(
    "label", sorted(label for label, request in REQUESTS.items() if request.method == "get")
)
def test_every_page_a_signed_in_person_reads_is_not_stored(client, world, label):
    """Case pages, exports and downloads: no browser cache or proxy keeps them; and each
    carries the Content-Security-Policy."""
    request = REQUESTS[label]
    if request.setup:
        request.setup(world, world.users["admin"])

    response = client_for(client, world, "admin").get(request.path(world))

    assert "no-store" in response["Cache-Control"]
    # Kept evidence is served in a sandbox allowing nothing at all.
    policy = "sandbox; default-src 'none'" if label == "evidence_file" else "default-src 'self'"
    assert policy in response["Content-Security-Policy"]
