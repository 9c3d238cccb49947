"""Loading, counting and removing the demo data set, and resetting the demo users.

Loading is all-or-nothing and refuses to run twice (DemoDataExists); `seed_demo --replace`
removes the demo rows with demo_data_remove and loads them again. The demo users
(`create_demo_users`) get a random password when they are made and keep it on later runs
unless a reset is asked for (a reset signs nobody out of a real account: they are demo
users only); they are members of the two demo teams, which split the cases by the host
country's region, and each analyst is given some of their team's open cases.
"""

import random
import secrets
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.db.models import (
    Count,
    Q,
)
from simple_history.utils import bulk_create_with_history

from cases import derived, rules
from cases.access import ANALYST, SUPERVISOR, is_analyst
from cases.analytics import services as analytics_services
from cases.casework import services as casework_services
from cases.demo.builder import Builder
from cases.demo.data import (
    ADMIN,
    CHANGE_REASON,
    COUNTRIES,
    DEMO_ASSIGNED_WITH_LEADS,
    DEMO_ASSIGNED_WITHOUT_LEADS,
    DEMO_COHORTS,
    DEMO_SUFFIX,
    DEMO_TEAMS,
    DEMO_USERS,
    EUROPE_AND_RUSSIA,
    HOUSTON_COHORT,
    HOUSTON_POST,
    SAMPLE_COHORT,
    SAMPLE_SEED,
    SAMPLE_SIZE,
    SECOND_CODINGS,
    SECOND_CODINGS_DISAGREEING,
    SECOND_CODINGS_PENDING,
    SEED,
    K,
)
from cases.models import (
    Case,
    CaseStatusChange,
    CheckRun,
    Cohort,
    Entity,
    Finding,
    Post,
    Referral,
    SecondCoding,
    Team,
)


@transaction.atomic
def demo_data_remove() -> dict[str, int]:
    """Delete every row marked as demo, evidence first so nothing is protected."""
    demo_cases = Case.objects.filter(entity__is_demo=True)
    counts = {
        "findings": Finding.objects.filter(case__in=demo_cases).delete()[0],
        "check runs": CheckRun.objects.filter(case__in=demo_cases).delete()[0],
        "referrals": Referral.objects.filter(entity__is_demo=True).delete()[0],
        "second codings": SecondCoding.objects.filter(case__in=demo_cases).delete()[0],
        # Controls first: a referred case cannot go while a control is matched to it.
        "cases": demo_cases.filter(kind=Case.Kind.CONTROL).delete()[1].get("cases.Case", 0),
    }
    counts["cases"] += demo_cases.delete()[1].get("cases.Case", 0)
    # Cohort has no demo flag; the demo's cohorts are named like every demo row.
    cohorts = Cohort.objects.filter(name__endswith=" (demo)").delete()[1]
    counts["cohorts"] = cohorts.get("cases.Cohort", 0)
    counts["entities"] = Entity.objects.filter(is_demo=True).delete()[0]
    counts["posts"] = Post.objects.filter(is_demo=True, referrals__isnull=True).delete()[0]
    teams = Team.objects.filter(is_demo=True, cases__isnull=True).delete()[1]
    counts["teams"] = teams.get("cases.Team", 0)
    return counts


class DemoDataExists(Exception):
    """Demo rows are already in the database."""


def demo_data_exists() -> bool:
    return Entity.objects.filter(is_demo=True).exists()


def demo_data_counts() -> dict[str, int]:
    """Return how many demo rows of each kind there are."""
    referrals = Referral.objects.filter(entity__is_demo=True)
    cases = Case.objects.filter(entity__is_demo=True)
    codings = SecondCoding.objects.filter(case__entity__is_demo=True)
    findings = Finding.objects.filter(case__entity__is_demo=True).aggregate(
        findings=Count("id"),
        leads=Count("id", filter=Q(review_state=Finding.ReviewState.LEAD)),
        confirmed=Count("id", filter=Q(review_state=Finding.ReviewState.CONFIRMED)),
        rejected=Count("id", filter=Q(review_state=Finding.ReviewState.REJECTED)),
    )
    return {
        "posts": Post.objects.filter(is_demo=True).count(),
        "host countries": referrals.values("host_country").distinct().count(),
        "entities": Entity.objects.filter(is_demo=True).count(),
        "teams": Team.objects.filter(is_demo=True).count(),
        "cases": cases.count(),
        "control cases": cases.filter(kind=Case.Kind.CONTROL).count(),
        "status changes": CaseStatusChange.objects.filter(case__entity__is_demo=True).count(),
        "referrals": referrals.count(),
        **findings,
        "check runs": CheckRun.objects.filter(case__entity__is_demo=True).count(),
        "cohorts": Cohort.objects.filter(name__in=DEMO_COHORTS).count(),
        "second codings": codings.count(),
        "second codings recorded": codings.filter(recorded_at__isnull=False).count(),
        "assigned cases": cases.filter(assignee__isnull=False).count(),
    }


# The counts that need the demo users, made by whichever of seed_demo and
# create_demo_users runs last; the seed's summary says so while the users are missing.
COUNTS_NEEDING_USERS = ("second codings", "second codings recorded", "assigned cases")


def demo_users_missing() -> bool:
    """Whether some demo user does not exist yet (create_demo_users makes them)."""
    return len(_demo_users()) < len(DEMO_USERS)


@transaction.atomic
def demo_data_seed(*, seed: int = SEED) -> dict[str, int]:
    """Load the demo data set and return its counts; raise DemoDataExists if it is loaded."""
    if demo_data_exists():
        raise DemoDataExists("Demo data is already loaded.")
    builder = Builder(random.Random(seed))
    plans = builder.plan(_posts_save())
    teams = _teams_save()
    for plan in plans:
        plan.case.team = teams[0] if plan.country in EUROPE_AND_RUSSIA else teams[1]
    history = {"default_change_reason": CHANGE_REASON}
    bulk_create_with_history([p.entity for p in plans], Entity, **history)
    bulk_create_with_history([p.case for p in plans], Case, **history)
    bulk_create_with_history(builder.referrals(plans), Referral, **history)
    bulk_create_with_history([f for p in plans for f in p.findings], Finding, **history)
    CheckRun.objects.bulk_create([run for p in plans for run in p.runs])
    # Drawn last, so the rest of the data set stays what it was before status logs existed.
    CaseStatusChange.objects.bulk_create(builder.evidence.status_changes(plans))
    # The controls are drawn after everything else for the same reason.
    controls = builder.plan_controls(plans)
    bulk_create_with_history([p.entity for p in controls], Entity, **history)
    bulk_create_with_history([p.case for p in controls], Case, **history)
    bulk_create_with_history([f for p in controls for f in p.findings], Finding, **history)
    CheckRun.objects.bulk_create([run for p in controls for run in p.runs])
    CaseStatusChange.objects.bulk_create(builder.evidence.status_changes(controls))
    # Index dates, finding timings and blocs are derived by the service, never written
    # here; a control takes its matched case's index date.
    derived.case_index_dates_refresh(case_ids=[p.case.pk for p in plans + controls])
    _cohorts_save()
    _memberships_set()
    _second_codings_ensure()
    _assignments_ensure()
    counts = demo_data_counts()
    # The builder's own judgement, which tests hold against the analytics' queries.
    counts["positive cases"] = sum(p.positive for p in plans + controls)
    return counts


def demo_users_ensure(*, reset: bool = False) -> list[tuple[AbstractBaseUser, str | None, str]]:
    """Create the demo users, or restore their roles, and return (user, password, role).

    A user made now gets a new random password; one who exists keeps theirs (password
    None) unless reset is asked for, so running the demo again signs nobody out. The
    analysts and the supervisor join their demo teams when those exist; demo_data_seed
    adds them once it has made the teams. The second codings and the assignments, which
    need the analysts, are made by whichever runs last.
    """
    user_model = get_user_model()
    users = []
    for username, role, _ in DEMO_USERS:
        user, created = user_model._default_manager.get_or_create(
            **{user_model.USERNAME_FIELD: username},
            defaults={"email": f"{username}@example.org"},
        )
        password = None
        # An account of that name made some other way may have no password to keep.
        if created or reset or not user.has_usable_password():
            password = secrets.token_urlsafe(18)
            user.set_password(password)
        user.is_active = True
        user.is_staff = user.is_superuser = role == ADMIN
        user.save()
        user.groups.set([] if role == ADMIN else [Group.objects.get_or_create(name=role)[0]])
        users.append((user, password, role))
    _memberships_set()
    _second_codings_ensure()
    _assignments_ensure()
    return users


def demo_teams() -> list[Team]:
    """The demo teams that exist, in DEMO_TEAMS order."""
    teams = {team.name: team for team in Team.objects.filter(is_demo=True, name__in=DEMO_TEAMS)}
    return [teams[name] for name in DEMO_TEAMS if name in teams]


def _teams_save() -> list[Team]:
    """Create the demo teams (reusing any left behind) and return them in DEMO_TEAMS order."""
    return [
        Team.objects.get_or_create(name=name, defaults={"is_demo": True})[0] for name in DEMO_TEAMS
    ]


def _memberships_set() -> None:
    """Put each demo user who exists on exactly the demo teams DEMO_USERS gives them.

    Other teams' memberships are left alone. Called from both sides, so the order in
    which seed_demo and create_demo_users run (or a seed_demo --replace) does not matter.
    """
    user_model = get_user_model()
    teams = {team.name: team for team in demo_teams()}
    usernames = [username for username, _, _ in DEMO_USERS]
    users = {
        user.get_username(): user
        for user in user_model._default_manager.filter(
            **{f"{user_model.USERNAME_FIELD}__in": usernames}
        )
    }
    for username, _, indexes in DEMO_USERS:
        user = users.get(username)
        if user is None:
            continue
        wanted = {DEMO_TEAMS[i] for i in indexes}
        user.teams.remove(*(team for name, team in teams.items() if name not in wanted))
        user.teams.add(*(team for name, team in teams.items() if name in wanted))


def _cohorts_save() -> None:
    """Save the demo's named cohorts: a random follow-up sample like the CSET study's,
    and the Houston consulate's referrals."""
    # Left behind by a remove that did not know about cohorts: the names are the demo's.
    Cohort.objects.filter(name__in=DEMO_COHORTS).delete()
    referred = Case.objects.filter(entity__is_demo=True, kind=Case.Kind.REFERRED)
    concluded = referred.filter(status=Case.Status.CONCLUDED, entity__kind=Entity.Kind.COMPANY)
    analytics_services.cohort_sample_draw(
        name=SAMPLE_COHORT,
        cases=concluded,
        size=SAMPLE_SIZE,
        seed=SAMPLE_SEED,
        actor=None,
        filter_query="kind=referred&status=concluded&entity_type=company",
        description="A reproducible random sample of concluded referred companies, drawn "
        "like the 30 companies CSET followed up by hand in its May 2021 report.",
    )
    houston = Post.objects.get(is_demo=True, name=HOUSTON_POST)
    analytics_services.cohort_save(
        name=HOUSTON_COHORT,
        # By the index referral's post, as the analytics' post cohorts count. The case
        # list's post filter (any referral) gives the same cases unless an entity was
        # referred by Houston after another post first; with the default seed none was.
        cases=referred.filter(index_referral__post=houston),
        actor=None,
        filter_query=f"kind=referred&post={houston.pk}",
        description="Referred by the Consulate-General in Houston, the busiest post until "
        "it closed in July 2020.",
    )


def _demo_users() -> dict[str, AbstractBaseUser]:
    """The demo users that exist, by username."""
    user_model = get_user_model()
    return {
        user.get_username(): user
        for user in user_model._default_manager.filter(
            **{f"{user_model.USERNAME_FIELD}__in": [name for name, _, _ in DEMO_USERS]}
        )
    }


def _second_coders(users: dict[str, AbstractBaseUser]) -> dict[int, AbstractBaseUser] | None:
    """The second coder of each demo team (its analyst), or None while one is missing."""
    teams = demo_teams()
    coders = {}
    for username, role, indexes in DEMO_USERS:
        if role != ANALYST:
            continue
        user = users.get(username)
        for index in indexes:
            team = next((t for t in teams if t.name == DEMO_TEAMS[index]), None)
            if user is None or team is None or not _can_second_code(user, team):
                return None
            coders[team.pk] = user
    return coders


@transaction.atomic
def _second_codings_ensure() -> None:
    """Give concluded referred demo cases to a second coder and record most readings
    (recording freezes each case's first reading beside the second).

    The coder is the analyst of the case's team (never its assignee), so this needs the
    demo users and teams: it runs from both demo_data_seed and demo_users_ensure, and does
    nothing once the demo has second codings or while an analyst is missing.
    """
    if SecondCoding.objects.filter(case__entity__is_demo=True).exists():
        return
    users = _demo_users()
    coders = _second_coders(users)
    if coders is None:
        return
    supervisor = next(
        (users[name] for name, role, _ in DEMO_USERS if role == SUPERVISOR and name in users),
        None,
    )
    # Only a concluded case can be read a second time (second_coding_assign).
    reviewed = [
        case
        for case in Case.objects.filter(
            status=Case.Status.CONCLUDED,
            entity__is_demo=True,
            kind=Case.Kind.REFERRED,
            team__in=list(coders),
        ).order_by("pk")
        if case.assignee_id != coders[case.team_id].pk
    ]
    # Ids follow the order the seed made the cases in, so the same seed picks the same ones.
    rng = random.Random(SEED)
    picked = sorted(rng.sample(reviewed, min(SECOND_CODINGS, len(reviewed))), key=lambda c: c.pk)
    pending = set(rng.sample(picked, min(SECOND_CODINGS_PENDING, len(picked))))
    recorded = [case for case in picked if case not in pending]
    disagreeing = set(rng.sample(recorded, min(SECOND_CODINGS_DISAGREEING, len(recorded))))
    positive = defaultdict(set)
    for case_id, kind in (
        rules.positive_findings().filter(case__in=picked).values_list("case", "kind")
    ):
        positive[case_id].add(kind)
    for case in picked:
        coder = coders[case.team_id]
        coding = analytics_services.second_coding_assign(case=case, coder=coder, actor=supervisor)
        if case in pending:
            continue
        kinds, note = sorted(positive[case.pk]), "Agrees with the evidence on file (demo)."
        if case in disagreeing:
            kinds, note = _disagreement(case, kinds, rng)
        analytics_services.second_coding_record(
            coding=coding, positive_kinds=kinds, note=note, actor=coder
        )


@transaction.atomic
def _assignments_ensure() -> None:
    """Give each demo analyst some of their team's open cases, most with leads waiting.

    Only cases still open are given, never concluded ones, so the second codings (which
    go to the team's analyst on concluded cases they were not assigned) are the same
    whichever command runs first. Does nothing once a demo case has an assignee, or
    while an analyst is missing or cannot take cases.
    """
    if Case.objects.filter(entity__is_demo=True, assignee__isnull=False).exists():
        return
    coders = _second_coders(_demo_users())
    if coders is None:
        return
    rng = random.Random(SEED)
    open_cases = (
        Case.objects.filter(entity__is_demo=True, team__in=list(coders))
        .exclude(status__in=[Case.Status.CONCLUDED, Case.Status.CLOSED])
        .annotate(
            leads=Count("findings", filter=Q(findings__review_state=Finding.ReviewState.LEAD))
        )
        .order_by("pk")
    )
    by_team = defaultdict(lambda: ([], []))
    for case in open_cases:
        by_team[case.team_id][0 if case.leads else 1].append(case)
    for team_id, analyst in coders.items():
        with_leads, without = by_team[team_id]
        picked = rng.sample(with_leads, min(DEMO_ASSIGNED_WITH_LEADS, len(with_leads)))
        picked += rng.sample(without, min(DEMO_ASSIGNED_WITHOUT_LEADS, len(without)))
        for case in sorted(picked, key=lambda c: c.pk):
            casework_services.case_assign(case=case, assignee=analyst)


def _can_second_code(user: AbstractBaseUser, team: Team) -> bool:
    """What analytics.services.second_coding_assign asks of a coder (the demo analysts, unless
    someone changed them since)."""
    if not user.is_active or not user.teams.filter(pk=team.pk).exists():
        return False
    return is_analyst(user)


def _disagreement(case: Case, kinds: list[str], rng: random.Random) -> tuple[list[str], str]:
    """A second reading that differs from the first: a missed outcome or a false one."""
    if kinds:
        return [], "Read the agreements as announcements only, not cooperation (demo)."
    other = sorted(set(case.findings.values_list("kind", flat=True))) or [K.PARTNERSHIP]
    return [rng.choice(other)], "Counted a finding the first analyst did not (demo)."


def _posts_save() -> dict[str, list[Post]]:
    """Create the demo posts (reusing any left behind) and return them by host country."""
    existing = {(p.name, p.host_country): p for p in Post.objects.filter(is_demo=True)}
    by_country: dict[str, list[Post]] = {}
    new = []
    for country, _, embassy, consulates_general, consulates in COUNTRIES:
        posts = by_country.setdefault(country, [])
        wanted = [("Embassy in", Post.Kind.EMBASSY, embassy)]
        wanted += [
            ("Consulate-General in", Post.Kind.CONSULATE_GENERAL, c) for c in consulates_general
        ]
        wanted += [("Consulate in", Post.Kind.CONSULATE, c) for c in consulates]
        for prefix, kind, city in wanted:
            name = f"{prefix} {city}{DEMO_SUFFIX}"
            post = existing.get((name, country))
            if post is None:
                post = Post(name=name, kind=kind, city=city, host_country=country, is_demo=True)
                new.append(post)
            posts.append(post)
    bulk_create_with_history(new, Post, default_change_reason=CHANGE_REASON)
    return by_country
