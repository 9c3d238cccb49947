"""A synthetic demo data set shaped like the 2015-2020 referral bulletin, for trying the app.

Nothing here is real: every demo entity, post and counterparty name ends with " (demo)",
every demo row carries is_demo=True on its entity, post or team, and URLs point at
example.org and example.com. A fixed seed makes the data set the same on every run. Loading
is all-or-nothing and refuses to run twice (DemoDataExists); `seed_demo --replace` removes
the demo rows with services.demo_data_remove and loads them again. The demo users
(`create_demo_users`) get a new random password on every run and are members of the two
demo teams, which split the cases by the host country's region.

Besides the referred cases the demo has control cases (comparable entities never
referred, each matched to a referred case), two named cohorts and, once the demo users
exist, second codings of some reviewed cases, so every section of the analytics page
has something to show.
"""

import random
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from simple_history.utils import bulk_create_with_history

from . import normalize, selectors, services
from .access import ANALYST, SUPERVISOR
from .models import (
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

SEED = 2021
DEMO_SUFFIX = " (demo)"
_CHANGE_REASON = "Demo data (seed_demo)"

# The two demo teams: Europe and Russia, and everyone else. By referrals that is about
# 400 to 240, each large enough to try the pages, the queues and the analytics with.
DEMO_TEAMS = (
    f"Team Europe & Russia{DEMO_SUFFIX}",
    f"Team Americas, Asia-Pacific & Africa{DEMO_SUFFIX}",
)
# Host countries whose cases the first demo team follows; the second follows the rest.
_EUROPE_AND_RUSSIA = frozenset([
    "RU", "BY", "UA", "GB", "IE", "DE", "FR", "IT", "ES", "PT", "NL", "BE", "AT", "CH", "DK",
    "NO", "SE", "FI", "PL", "CZ", "SK", "HU", "SI", "RO", "BG", "GR", "TR", "LT", "EE", "ME",
    "MK", "RS",
])  # fmt: skip

ADMIN = "admin"
DEMO_LOGIN_URL = "http://127.0.0.1:8000/accounts/login/"
DEMO_START_URLS = {
    ADMIN: "http://127.0.0.1:8000/admin/",
    ANALYST: "http://127.0.0.1:8000/cases/",
    SUPERVISOR: "http://127.0.0.1:8000/cases/",
}
# (username, role, indexes into DEMO_TEAMS): one analyst per team, a supervisor of both.
DEMO_USERS = (
    ("demo-admin", ADMIN, ()),
    ("demo-analyst", ANALYST, (0,)),
    ("demo-analyst-2", ANALYST, (1,)),
    ("demo-supervisor", SUPERVISOR, (0, 1)),
)

# Host countries: (ISO code, referrals, embassy city, consulate-general cities, consulate
# cities). The big four and the share of NATO members and Major Non-NATO Allies follow
# the published figures; the rest is a plausible spread.
_COUNTRIES = [
    (
        "RU",
        122,
        "Moscow",
        ["Saint Petersburg", "Khabarovsk", "Yekaterinburg"],
        ["Irkutsk"],
    ),
    (
        "US",
        77,
        "Washington",
        ["Houston", "New York", "San Francisco", "Los Angeles", "Chicago"],
        [],
    ),
    ("GB", 62, "London", ["Manchester", "Edinburgh", "Belfast"], []),
    ("JP", 57, "Tokyo", ["Osaka", "Fukuoka", "Nagoya"], ["Nagasaki"]),
    ("DE", 34, "Berlin", ["Frankfurt", "Munich", "Hamburg"], []),
    ("FR", 26, "Paris", ["Marseille", "Lyon"], []),
    ("IL", 20, "Tel Aviv", [], []),
    ("KR", 20, "Seoul", ["Busan", "Gwangju"], ["Jeju"]),
    ("IT", 17, "Rome", ["Milan", "Florence"], []),
    ("CA", 16, "Ottawa", ["Toronto", "Vancouver", "Montreal"], []),
    ("AU", 15, "Canberra", ["Sydney", "Melbourne", "Perth"], []),
    ("ES", 12, "Madrid", ["Barcelona"], []),
    ("NL", 11, "The Hague", [], []),
    ("BE", 9, "Brussels", [], []),
    ("DK", 6, "Copenhagen", [], []),
    ("NO", 6, "Oslo", [], []),
    ("PL", 6, "Warsaw", ["Gdańsk"], []),
    ("CZ", 6, "Prague", [], []),
    ("BR", 6, "Brasília", ["São Paulo"], ["Recife"]),
    ("HU", 5, "Budapest", [], []),
    ("NZ", 5, "Wellington", ["Auckland"], []),
    ("TR", 5, "Ankara", ["Istanbul"], []),
    ("PT", 4, "Lisbon", [], []),
    ("GR", 4, "Athens", [], []),
    ("TH", 4, "Bangkok", ["Chiang Mai"], ["Khon Kaen"]),
    ("AR", 3, "Buenos Aires", [], []),
    ("EG", 3, "Cairo", [], []),
    ("RO", 3, "Bucharest", [], []),
    ("BG", 3, "Sofia", [], []),
    ("LT", 2, "Vilnius", [], []),
    ("EE", 2, "Tallinn", [], []),
    ("SK", 2, "Bratislava", [], []),
    ("SI", 2, "Ljubljana", [], []),
    ("ME", 2, "Podgorica", [], []),
    ("MK", 2, "Skopje", [], []),
    ("TN", 2, "Tunis", [], []),
    ("UA", 6, "Kyiv", ["Odesa"], []),
    ("BY", 5, "Minsk", [], []),
    ("SE", 6, "Stockholm", ["Gothenburg"], []),
    ("CH", 6, "Bern", ["Zurich"], []),
    ("FI", 5, "Helsinki", [], []),
    ("AT", 5, "Vienna", [], []),
    ("IE", 4, "Dublin", [], []),
    ("SG", 4, "Singapore", [], []),
    ("IN", 3, "New Delhi", ["Mumbai"], []),
    ("KZ", 3, "Astana", ["Almaty"], []),
    ("MY", 3, "Kuala Lumpur", ["Kuching"], ["Penang"]),
    ("ZA", 3, "Pretoria", ["Johannesburg"], []),
    ("MX", 2, "Mexico City", [], []),
    ("RS", 2, "Belgrade", [], []),
    ("UZ", 2, "Tashkent", [], []),
    ("CL", 2, "Santiago", [], []),
]

# The Houston consulate-general referred 89 % of the US projects until it closed.
_HOUSTON_SHARE = 0.89
_HOUSTON_CLOSED = date(2020, 7, 24)
_WINDOW_END = date(2020, 12, 31)

# Field: (referrals, words for company names, Chinese name).
_FIELDS = {
    "biotechnology": (
        190,
        ["Biologics", "Biosciences", "Genomics", "Cell Therapeutics", "Bio"],
        "生物技术",
    ),
    "artificial intelligence": (
        171,
        ["AI", "Machine Intelligence", "Vision Systems", "Neural Labs", "Cognitive Systems"],
        "人工智能",
    ),
    "new materials": (55, ["Materials", "Composites", "Nanomaterials", "Ceramics"], "新材料"),
    "information and communication technology": (
        50,
        ["Networks", "Photonics", "Semiconductors", "Software"],
        "信息通信技术",
    ),
    "advanced manufacturing": (
        46,
        ["Manufacturing", "Precision Machines", "Additive Systems", "Automation"],
        "先进制造",
    ),
    "energy": (40, ["Energy", "Power Systems", "Batteries", "Hydrogen"], "能源"),
    "medical devices": (35, ["Medical", "Diagnostics", "Surgical Systems", "Imaging"], "医疗器械"),
    "aerospace": (29, ["Aerospace", "Space Systems", "Avionics", "Drones"], "航空航天"),
    "agriculture": (26, ["Agritech", "Seeds", "Crop Sciences", "Aquaculture"], "农业"),
}

_LEGAL_FORMS = {
    "US": ["Inc.", "LLC", "Corp."],
    "GB": ["Ltd", "Ltd", "plc"],
    "JP": ["K.K.", "Co., Ltd."],
    "KR": ["Co., Ltd."],
    "RU": ["LLC", "JSC"],
    "DE": ["GmbH", "GmbH", "AG"],
    "AT": ["GmbH"],
    "CH": ["AG", "SA"],
    "FR": ["SAS", "SA"],
    "BE": ["NV", "SA"],
    "IT": ["S.r.l.", "S.p.A."],
    "ES": ["S.L.", "S.A."],
    "NL": ["B.V."],
    "SE": ["AB"],
    "FI": ["Oy"],
    "NO": ["AS"],
    "DK": ["A/S"],
    "PL": ["Sp. z o.o."],
    "CZ": ["s.r.o."],
    "BR": ["Ltda."],
}
_CURRENCIES = {"US": "USD", "GB": "GBP", "JP": "JPY", "RU": "RUB"}
_EURO = {"DE", "FR", "IT", "ES", "NL", "BE", "AT", "FI", "IE", "PT", "GR", "SK", "SI", "LT", "EE"}
_PER_USD = {"USD": 1, "EUR": 0.9, "GBP": 0.8, "JPY": 110, "RUB": 65, "CNY": 7}

_PREFIXES = (  # noqa: SIM905 (word lists read better as one string)
    "Vel Qua Nor Tal Zen Ari Mer Kor Sol Ven Lum Oxi Pra Dal Cel Fen Gal Hyr Isk Jor Kal Lyr "
    "Mov Nex Orv Pel Ryn Sav Tor Ulv Vor Wex Yar Zor Bel Cad Dru Eld"
).split()
_ENDINGS = "ora ent ix ara on ium eth ova antis ex ira yn ana oth el ica ar ue isk ade".split()  # noqa: SIM905
_GIVEN = "Alen Mira Teodor Ilse Rafe Oona Kasim Lena Piet Sora Ivo Nadia Emre Greta".split()  # noqa: SIM905
_PINYIN = "Hua Zhong Xin Rui Tai Jin Heng Kang Yuan Sheng Bo Ling Tian Hong Feng Jia".split()  # noqa: SIM905
_CN_CITIES = [
    "Shenzhen",
    "Hangzhou",
    "Suzhou",
    "Wuhan",
    "Chengdu",
    "Beijing",
    "Shanghai",
    "Guangzhou",
    "Hefei",
    "Tianjin",
    "Nanjing",
    "Xiamen",
]

_METHOD_WEIGHTS = {
    CooperationMethod.JOINT_RD: 30,
    CooperationMethod.TECHNOLOGY_TRANSFER: 20,
    CooperationMethod.INVESTMENT: 18,
    CooperationMethod.JOINT_VENTURE: 16,
    CooperationMethod.PATENT_LICENCE: 12,
    CooperationMethod.EQUITY_PURCHASE: 10,
    CooperationMethod.PRODUCTION_IN_CHINA: 10,
    CooperationMethod.RD_STAFF_HIRING: 6,
    CooperationMethod.OTHER: 3,
}
_MONEY_METHODS = {
    CooperationMethod.INVESTMENT,
    CooperationMethod.EQUITY_PURCHASE,
    CooperationMethod.JOINT_VENTURE,
}
_METHODS_ZH = {
    CooperationMethod.EQUITY_PURCHASE: "股权收购",
    CooperationMethod.INVESTMENT: "投资",
    CooperationMethod.PATENT_LICENCE: "专利许可",
    CooperationMethod.TECHNOLOGY_TRANSFER: "技术转让",
    CooperationMethod.JOINT_VENTURE: "合资",
    CooperationMethod.JOINT_RD: "联合研发",
    CooperationMethod.PRODUCTION_IN_CHINA: "在华生产",
    CooperationMethod.RD_STAFF_HIRING: "引进研发人员",
    CooperationMethod.OTHER: "其他合作",
}

K = Finding.Kind
# The kinds of evidence each automated source tends to surface.
_SOURCE_KINDS = {
    "gleif": [K.ACQUISITION, K.SUBSIDIARY, K.EQUITY_INVESTMENT],
    "sec_edgar": [K.EQUITY_INVESTMENT, K.ACQUISITION, K.PARTNERSHIP],
    "companies_house": [K.EQUITY_INVESTMENT, K.ACQUISITION],
    "gdelt": [K.PARTNERSHIP, K.JOINT_VENTURE, K.EQUITY_INVESTMENT, K.OTHER],
    "google_news": [
        K.PARTNERSHIP,
        K.JOINT_VENTURE,
        K.EQUITY_INVESTMENT,
        K.ACQUISITION,
        K.IP_LICENCE,
        K.RD_STAFF,
    ],
    "openalex": [K.CO_PUBLICATION],
}
_OUTCOME_KINDS = {
    K.PARTNERSHIP: 28,
    K.JOINT_VENTURE: 14,
    K.EQUITY_INVESTMENT: 14,
    K.CO_PUBLICATION: 14,
    K.IP_LICENCE: 10,
    K.SUBSIDIARY: 8,
    K.ACQUISITION: 5,
    K.RD_STAFF: 5,
    K.OTHER: 2,
}
_NEWS_TEMPLATES = {
    K.PARTNERSHIP: "{entity} signed a memorandum of understanding with {cp} on {field} "
    "cooperation, including joint development of products for the Chinese market.",
    K.JOINT_VENTURE: "{entity} and {cp} announced a joint venture in {city} to develop and "
    "manufacture {field} products; {entity} will hold {pct}% of the new company.",
    K.EQUITY_INVESTMENT: "{cp} led a financing round in {entity}, taking a {pct}% stake; "
    "the companies also agreed to cooperate on {field} in China.",
    K.ACQUISITION: "{cp} agreed to acquire a controlling interest in {entity}, a developer "
    "of {field} technology.",
    K.IP_LICENCE: "{entity} granted {cp} an exclusive licence to its {field} patents for "
    "mainland China, Hong Kong and Macau.",
    K.CO_PUBLICATION: "A {field} paper lists co-authors affiliated with {entity} and {cp}.",
    K.SUBSIDIARY: "{entity} registered a wholly owned subsidiary, {cp}, in {city} to serve "
    "customers in China.",
    K.RD_STAFF: "{cp} appointed a former senior researcher of {entity} to lead its new "
    "{field} R&D centre in {city}.",
    K.OTHER: "{entity} presented its {field} technology at an investment fair organised "
    "by {cp} in {city}.",
}
# Kinds of evidence that read oddly for an entity of this kind (nobody acquires a person).
_KINDS_UNFIT = {
    Entity.Kind.INDIVIDUAL: {K.ACQUISITION, K.EQUITY_INVESTMENT, K.SUBSIDIARY, K.JOINT_VENTURE},
    Entity.Kind.UNIVERSITY: {K.ACQUISITION},
    Entity.Kind.RESEARCH_INSTITUTE: {K.ACQUISITION},
    Entity.Kind.GOVERNMENT_LAB: {K.ACQUISITION, K.EQUITY_INVESTMENT},
}
_REJECT_NOTES = [
    "Different organisation with a similar name.",
    "Announcement only; no agreement was signed.",
    "The counterparty is not the one named in the source.",
    "Duplicate of another finding on this case.",
]
_RUN_FAILURES = {
    CheckRun.Status.NO_RESULTS: ("", 50),
    CheckRun.Status.ERROR: ("Demo: HTTP 503 from the source; the check will be retried.", 20),
    CheckRun.Status.RATE_LIMITED: ("Demo: HTTP 429 Too Many Requests.", 15),
    CheckRun.Status.SKIPPED: ("Demo: no identifier to query this source with.", 15),
}
_FINDINGS_END = date(2024, 6, 30)
_GREATER_CHINA = frozenset(["CN", "HK", "MO"])
_YEARS = {2015: 12, 2016: 18, 2017: 22, 2018: 20, 2019: 17, 2020: 11}
_POST_WEIGHTS = {Post.Kind.EMBASSY: 4, Post.Kind.CONSULATE_GENERAL: 2, Post.Kind.CONSULATE: 1}
_ENTITY_KINDS = {
    Entity.Kind.COMPANY: 70,
    Entity.Kind.UNIVERSITY: 14,
    Entity.Kind.RESEARCH_INSTITUTE: 11,
    Entity.Kind.GOVERNMENT_LAB: 3,
    Entity.Kind.INDIVIDUAL: 2,
}
_PRIORITIES = {
    Case.Priority.NORMAL: 60,
    Case.Priority.LOW: 15,
    Case.Priority.HIGH: 20,
    Case.Priority.URGENT: 5,
}
_CONFIDENCE_LEAD = {Finding.Confidence.LOW: 2, Finding.Confidence.MEDIUM: 5}
_CONFIDENCE_REVIEWED = {
    Finding.Confidence.LOW: 1,
    Finding.Confidence.MEDIUM: 5,
    Finding.Confidence.HIGH: 4,
}
# Referred cases: chance of confirmed outcomes, of a rejected lead. Controls are found
# cooperating less often and more of their leads are rejected, which puts them near 30 %
# positive among the reviewed against about 54 % for the referred.
_REFERRED_CHANCES = (0.30, 0.12)
_CONTROL_CHANCES = (0.14, 0.25)
_CONTROLS = 120

# The named cohorts. Cohort has no demo flag: the names are what mark them.
SAMPLE_COHORT = f"Follow-up sample of 30{DEMO_SUFFIX}"
HOUSTON_COHORT = f"Houston referrals{DEMO_SUFFIX}"
DEMO_COHORTS = (SAMPLE_COHORT, HOUSTON_COHORT)
SAMPLE_SEED = 2021
SAMPLE_SIZE = 30
_HOUSTON_POST = f"Consulate-General in Houston{DEMO_SUFFIX}"

# Second codings: cases given to a second coder, readings left pending, and readings
# that deliberately disagree with the first analyst's (kappa comes out near 0.7).
SECOND_CODINGS = 60
SECOND_CODINGS_PENDING = 10
SECOND_CODINGS_DISAGREEING = 8


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
    }


@transaction.atomic
def demo_data_seed(*, seed: int = SEED) -> dict[str, int]:
    """Load the demo data set and return its counts; raise DemoDataExists if it is loaded."""
    if demo_data_exists():
        raise DemoDataExists("Demo data is already loaded.")
    builder = _Builder(random.Random(seed))
    plans = builder.plan(_posts_save())
    teams = _teams_save()
    for plan in plans:
        plan.case.team = teams[0] if plan.country in _EUROPE_AND_RUSSIA else teams[1]
    history = {"default_change_reason": _CHANGE_REASON}
    bulk_create_with_history([p.entity for p in plans], Entity, **history)
    bulk_create_with_history([p.case for p in plans], Case, **history)
    bulk_create_with_history(builder.referrals(plans), Referral, **history)
    bulk_create_with_history([f for p in plans for f in p.findings], Finding, **history)
    CheckRun.objects.bulk_create([run for p in plans for run in p.runs])
    # Drawn last, so the rest of the data set stays what it was before status logs existed.
    CaseStatusChange.objects.bulk_create(builder.status_changes(plans))
    # The controls are drawn after everything else for the same reason.
    controls = builder.plan_controls(plans)
    bulk_create_with_history([p.entity for p in controls], Entity, **history)
    bulk_create_with_history([p.case for p in controls], Case, **history)
    bulk_create_with_history([f for p in controls for f in p.findings], Finding, **history)
    CheckRun.objects.bulk_create([run for p in controls for run in p.runs])
    CaseStatusChange.objects.bulk_create(builder.status_changes(controls))
    # Index dates, finding timings and blocs are derived by the service, never written
    # here; a control takes its matched case's index date.
    services.case_index_dates_refresh(case_ids=[p.case.pk for p in plans + controls])
    _cohorts_save()
    _memberships_set()
    _second_codings_ensure()
    return demo_data_counts()


def demo_users_reset() -> list[tuple[AbstractBaseUser, str, str]]:
    """Create or reset the demo users, each with a new random password.

    Return (user, password, role) for each. The analysts and the supervisor join their
    demo teams when those exist; demo_data_seed adds them once it has made the teams.
    The second codings, which need the analysts, are made by whichever runs last.
    """
    user_model = get_user_model()
    users = []
    for username, role, _ in DEMO_USERS:
        password = secrets.token_urlsafe(18)
        user, _ = user_model._default_manager.get_or_create(
            **{user_model.USERNAME_FIELD: username},
            defaults={"email": f"{username}@example.org"},
        )
        user.is_active = True
        user.is_staff = user.is_superuser = role == ADMIN
        user.set_password(password)
        user.save()
        user.groups.set([] if role == ADMIN else [Group.objects.get_or_create(name=role)[0]])
        users.append((user, password, role))
    _memberships_set()
    _second_codings_ensure()
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
    services.cohort_sample_draw(
        name=SAMPLE_COHORT,
        cases=concluded,
        size=SAMPLE_SIZE,
        seed=SAMPLE_SEED,
        actor=None,
        filter_query="kind=referred&status=concluded&entity_type=company",
        description="A reproducible random sample of concluded referred companies, drawn "
        "like the 30 companies CSET followed up by hand in its May 2021 report.",
    )
    houston = Post.objects.get(is_demo=True, name=_HOUSTON_POST)
    services.cohort_save(
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


@transaction.atomic
def _second_codings_ensure() -> None:
    """Give reviewed referred demo cases to a second coder and record most readings.

    The coder is the analyst of the case's team (never its assignee), so this needs the
    demo users and teams: it runs from both demo_data_seed and demo_users_reset, and does
    nothing once the demo has second codings or while an analyst is missing.
    """
    if SecondCoding.objects.filter(case__entity__is_demo=True).exists():
        return
    user_model = get_user_model()
    users = {
        user.get_username(): user
        for user in user_model._default_manager.filter(
            **{f"{user_model.USERNAME_FIELD}__in": [name for name, _, _ in DEMO_USERS]}
        )
    }
    teams = demo_teams()
    coders = {}
    for username, role, indexes in DEMO_USERS:
        if role != ANALYST:
            continue
        user = users.get(username)
        for index in indexes:
            team = next((t for t in teams if t.name == DEMO_TEAMS[index]), None)
            if user is None or team is None or not _can_second_code(user, team):
                return
            coders[team.pk] = user
    supervisor = next(
        (users[name] for name, role, _ in DEMO_USERS if role == SUPERVISOR and name in users),
        None,
    )
    decided = Finding.objects.filter(
        case=OuterRef("pk"),
        review_state__in=[Finding.ReviewState.CONFIRMED, Finding.ReviewState.REJECTED],
    )
    reviewed = [
        case
        for case in Case.objects.filter(
            Q(status=Case.Status.CONCLUDED) | Exists(decided),
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
        selectors.positive_findings().filter(case__in=picked).values_list("case", "kind")
    ):
        positive[case_id].add(kind)
    for case in picked:
        coder = coders[case.team_id]
        coding = services.second_coding_assign(case=case, coder=coder, actor=supervisor)
        if case in pending:
            continue
        kinds, note = sorted(positive[case.pk]), "Agrees with the evidence on file (demo)."
        if case in disagreeing:
            kinds, note = _disagreement(case, kinds, rng)
        services.second_coding_record(coding=coding, positive_kinds=kinds, note=note, actor=coder)


def _can_second_code(user: AbstractBaseUser, team: Team) -> bool:
    """What services.second_coding_assign asks of a coder (the demo analysts, unless
    someone changed them since)."""
    if not user.is_active or not user.teams.filter(pk=team.pk).exists():
        return False
    return user.is_staff or user.groups.filter(name=ANALYST).exists()


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
    for country, _, embassy, consulates_general, consulates in _COUNTRIES:
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
    bulk_create_with_history(new, Post, default_change_reason=_CHANGE_REASON)
    return by_country


@dataclass
class _ReferralPlan:
    post: Post
    date: date
    precision: str


@dataclass
class _EntityPlan:
    country: str
    referrals: list[_ReferralPlan]
    tech_field: str = ""
    entity: Entity | None = None
    case: Case | None = None
    findings: list[Finding] = field(default_factory=list)
    runs: list[CheckRun] = field(default_factory=list)
    matched: "_EntityPlan | None" = None  # a control's referred case

    @property
    def index(self) -> _ReferralPlan:
        if self.matched is not None:
            return self.matched.index
        # The rule of services.case_index_dates_refresh: earliest, finer precision first.
        rank = {"day": 0, "month": 1, "year": 2}
        return min(self.referrals, key=lambda r: (r.date, rank[r.precision]))


def _demo_match(number: int, name: str, excerpt: str) -> tuple[float, str]:
    """A plausible match score and explanation, drawn from the evidence number so the
    main random stream (and with it the rest of the demo data) is not disturbed."""
    rng = random.Random(number)
    score = round(rng.uniform(72, 100), 1)
    how = "exact name" if score > 96 else "name with its legal form folded"
    where = "in the headline" if "announced" in excerpt else "in the record"
    return score, f"{how} {name!r} found {where} (score {score:.0f})"


class _Builder:
    """Draws the whole data set from one random generator, always in the same order."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.taken_names: set[tuple[str, str]] = set()
        self.evidence_number = 0

    def weighted(self, weights: dict):
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def plan(self, posts: dict[str, list[Post]]) -> list[_EntityPlan]:
        """Return one plan per entity with its unsaved entity, case, findings and runs."""
        plans = self.plan_entities(posts)
        self.assign_fields(plans)
        for plan in plans:
            plan.entity = self.entity(plan)
            plan.case = Case(entity=plan.entity, priority=self.weighted(_PRIORITIES))
            self.plan_evidence(plan)
            plan.case.status = self.case_status(plan.findings)
        return plans

    def plan_entities(self, posts: dict[str, list[Post]]) -> list[_EntityPlan]:
        """Draw each country's referrals, then group them into entities referred 1-3 times."""
        plans = []
        for country, count, *_ in _COUNTRIES:
            slots = [self.referral_plan(post) for post in self.posts_for(posts[country], count)]
            # By post, so an entity referred again is mostly referred by the same post.
            slots.sort(key=lambda s: (s.post.name, s.date))
            while slots:
                times = min(len(slots), self.weighted({1: 86, 2: 11, 3: 3}))
                plans.append(_EntityPlan(country=country, referrals=slots[:times]))
                del slots[:times]
        self.rng.shuffle(plans)
        return plans

    def posts_for(self, posts: list[Post], count: int) -> list[Post]:
        houston = [p for p in posts if p.city == "Houston"]
        if houston:
            others = [p for p in posts if p.city != "Houston"]
            from_houston = round(count * _HOUSTON_SHARE)
            rest = [self.rng.choice(others) for _ in range(count - from_houston)]
            return houston * from_houston + rest
        weights = [_POST_WEIGHTS[post.kind] for post in posts]
        return self.rng.choices(posts, weights=weights, k=count)

    def referral_plan(self, post: Post) -> _ReferralPlan:
        year = self.weighted(_YEARS)
        first = date(year, 1, 1)
        last = min(date(year, 12, 31), _HOUSTON_CLOSED if post.city == "Houston" else _WINDOW_END)
        day = first + timedelta(days=self.rng.randint(0, (last - first).days))
        precision = self.weighted({"day": 55, "month": 33, "year": 12})
        if precision == "month":
            day = day.replace(day=1)
        elif precision == "year":
            day = first
        return _ReferralPlan(post=post, date=day, precision=precision)

    def plan_controls(self, plans: list[_EntityPlan]) -> list[_EntityPlan]:
        """Match a comparable entity that was never referred (same country, kind and
        field) to some referred cases, each on the matched case's team and clock."""
        controls = []
        for matched in self.rng.sample(plans, min(_CONTROLS, len(plans))):
            plan = _EntityPlan(country=matched.country, referrals=[], tech_field=matched.tech_field)
            plan.matched = matched
            plan.entity = self.entity(plan, kind=matched.entity.kind)
            plan.case = Case(
                entity=plan.entity,
                kind=Case.Kind.CONTROL,
                matched_case=matched.case,
                team=matched.case.team,
                priority=self.weighted(_PRIORITIES),
            )
            self.plan_evidence(plan, chances=_CONTROL_CHANCES)
            plan.case.status = self.case_status(plan.findings)
            controls.append(plan)
        return controls

    def assign_fields(self, plans: list[_EntityPlan]) -> None:
        """Give each entity one field so that the referrals per field hit the targets."""
        left = {name: spec[0] for name, spec in _FIELDS.items()}
        for plan in plans:
            times = len(plan.referrals)
            fitting = {name: n for name, n in left.items() if n >= times}
            plan.tech_field = self.weighted(fitting) if fitting else max(left, key=left.__getitem__)
            left[plan.tech_field] -= times

    def entity(self, plan: _EntityPlan, *, kind: str | None = None) -> Entity:
        kind = kind or self.weighted(_ENTITY_KINDS)
        while True:
            name, stem = self.entity_name(kind, plan.country, plan.tech_field)
            key = normalize.name_key(name)
            if (key, plan.country) not in self.taken_names:
                self.taken_names.add((key, plan.country))
                break
        aliases = ""
        if self.rng.random() < 0.15:
            aliases = name.removesuffix(DEMO_SUFFIX).upper() + DEMO_SUFFIX
        website = ""
        if kind != Entity.Kind.INDIVIDUAL:
            website = f"https://{stem.lower()}-{self.rng.randrange(100, 1000)}.example.com/"
        return Entity(
            name=name,
            name_key=key,
            aliases=aliases,
            kind=kind,
            country=plan.country,
            city=plan.index.post.city,
            website=website,
            technology_fields=plan.tech_field,
            is_demo=True,
        )

    def coined(self) -> str:
        return self.rng.choice(_PREFIXES) + self.rng.choice(_ENDINGS)

    def entity_name(self, kind: str, country: str, field_name: str) -> tuple[str, str]:
        """Return a made-up name, labelled as demo, and its made-up word."""
        coined = self.coined()
        if kind == Entity.Kind.COMPANY:
            word = self.rng.choice(_FIELDS[field_name][1])
            legal = self.rng.choice(_LEGAL_FORMS.get(country, ["Ltd"]))
            name = f"{coined} {word} {legal}"
        elif kind == Entity.Kind.UNIVERSITY:
            patterns = ["University of {}", "{} Institute of Technology", "{} University"]
            if country == "RU":
                patterns = ["{} State University"]
            name = self.rng.choice(patterns).format(coined)
        elif kind == Entity.Kind.RESEARCH_INSTITUTE:
            name = f"{coined} Institute for {field_name.title()} Research"
        elif kind == Entity.Kind.GOVERNMENT_LAB:
            name = f"{coined} National Laboratory"
        else:
            name = f"Dr {self.rng.choice(_GIVEN)} {coined}"
        return name + DEMO_SUFFIX, coined

    def referrals(self, plans: list[_EntityPlan]) -> list[Referral]:
        rows = [self.referral(plan, item) for plan in plans for item in plan.referrals]
        rows.sort(key=lambda r: (r.date, r.entity.name))
        for number, row in enumerate(rows, start=1):
            row.external_id = f"DEMO-{number:04d}"
            row.source_url = f"https://example.org/demo/bulletin/{row.external_id}"
            row.source_reference = f"Demo bulletin {row.date.year}, item {number}"
        return rows

    def referral(self, plan: _EntityPlan, item: _ReferralPlan) -> Referral:
        entity = plan.entity
        methods = []
        for _ in range(self.weighted({1: 45, 2: 38, 3: 17})):
            method = self.weighted(_METHOD_WEIGHTS)
            if method not in methods:
                methods.append(method)
        amount, currency = None, ""
        wants_money = any(m in _MONEY_METHODS for m in methods)
        if self.rng.random() < (0.6 if wants_money else 0.08):
            currency = "CNY" if self.rng.random() < 0.25 else _local_currency(plan.country)
            millions = self.rng.choice([0.5, 1, 2, 3, 5, 8, 10, 15, 20, 30, 50])
            amount = Decimal(round(millions * _PER_USD[currency] * 1_000_000, -3))
        labels = ", ".join(CooperationMethod(m).label for m in methods)
        summary = (
            f"Synthetic demo referral. {entity.name}, {Entity.Kind(entity.kind).label} "
            f"in {item.post.city} working in {plan.tech_field}; cooperation sought: {labels}."
        )
        if amount is not None:
            summary += f" Proposed amount: {amount:,.0f} {currency}."
        field_zh = _FIELDS[plan.tech_field][2]
        methods_zh = "、".join(_METHODS_ZH[m] for m in methods)
        return Referral(
            entity=entity,
            post=item.post,
            date=item.date,
            date_precision=item.precision,
            host_country=plan.country,
            technology_field=plan.tech_field,
            cooperation_methods=methods,
            proposed_amount=amount,
            currency=currency,
            summary=summary,
            original_text=f"【演示数据】{entity.name}，{field_zh}领域，寻求{methods_zh}合作。",
        )

    def sources_for(self, entity: Entity) -> list[str]:
        sources = ["gdelt", "google_news"]
        if entity.kind == Entity.Kind.COMPANY:
            sources.append("gleif")
            if entity.country == "US":
                sources.append("sec_edgar")
            if entity.country == "GB":
                sources.append("companies_house")
        if entity.kind != Entity.Kind.COMPANY or self.rng.random() < 0.3:
            sources.append("openalex")
        return sources

    def plan_evidence(
        self, plan: _EntityPlan, *, chances: tuple[float, float] = _REFERRED_CHANCES
    ) -> None:
        """Draw the case's findings and check runs; timings are derived once saved."""
        rng = self.rng
        outcome_chance, rejection_chance = chances
        sources = self.sources_for(plan.entity)
        index = plan.index
        confirmed = Finding.ReviewState.CONFIRMED
        rejected = Finding.ReviewState.REJECTED
        lead = Finding.ReviewState.LEAD
        outcome_kinds = {k: w for k, w in _OUTCOME_KINDS.items() if self.kind_fits(k, plan.entity)}
        if rng.random() < outcome_chance:
            for _ in range(2 if rng.random() < 0.25 else 1):
                kind = self.weighted(outcome_kinds)
                auto = [s for s in sources if kind in _SOURCE_KINDS[s]]
                source = rng.choice(auto) if auto and rng.random() < 0.4 else Finding.MANUAL
                party = self.china_party(kind, plan)
                self.add_finding(plan, kind, source, party, self.after(index), confirmed)
        if rng.random() < 0.05:
            kind = self.weighted({K.PARTNERSHIP: 3, K.EQUITY_INVESTMENT: 1, K.CO_PUBLICATION: 1})
            party = self.other_party(plan)
            self.add_finding(plan, kind, Finding.MANUAL, party, self.after(index), confirmed)
        if rng.random() < 0.12:
            kind = self.weighted(outcome_kinds)
            party = self.china_party(kind, plan)
            self.add_finding(plan, kind, Finding.MANUAL, party, self.before(index), confirmed)
        if rng.random() < rejection_chance:
            source = rng.choice(sources)
            kind = self.source_kind(source, plan.entity)
            when = self.after(index) if rng.random() < 0.7 else self.before(index)
            self.add_finding(plan, kind, source, self.china_party(kind, plan), when, rejected)
        if rng.random() < 0.38:
            for _ in range(self.weighted({1: 50, 2: 30, 3: 20})):
                source = rng.choice(sources)
                kind = self.source_kind(source, plan.entity)
                roll = rng.random()
                if roll < 0.12:
                    when = (None, "")
                elif roll < 0.65:
                    when = self.after(index)
                elif roll < 0.88:
                    when = self.before(index)
                else:
                    # Inside the referral's own period: the timing cannot be told.
                    when = (index.date, index.precision)
                china = rng.random() < 0.8
                party = self.china_party(kind, plan) if china else self.other_party(plan)
                self.add_finding(plan, kind, source, party, when, lead)
        self.plan_runs(plan, sources, every_source=plan.matched is not None)

    @staticmethod
    def kind_fits(kind: str, entity: Entity) -> bool:
        return kind not in _KINDS_UNFIT.get(entity.kind, ())

    def source_kind(self, source: str, entity: Entity) -> str:
        kinds = [k for k in _SOURCE_KINDS[source] if self.kind_fits(k, entity)]
        return self.rng.choice(kinds or [K.PARTNERSHIP])

    def add_finding(
        self,
        plan: _EntityPlan,
        kind: str,
        source: str,
        party: tuple[str, str],
        when: tuple[date | None, str],
        state: str,
    ) -> None:
        self.evidence_number += 1
        number = self.evidence_number
        excerpt = self.excerpt(kind, source, plan, party[0], when[0])
        url = _url(source, kind, number)
        reviewed = state != Finding.ReviewState.LEAD
        finding = Finding(
            case=plan.case,
            kind=kind,
            counterparty_name=party[0],
            counterparty_country=party[1],
            event_date=when[0],
            event_date_precision=when[1],
            source=source,
            source_url=url,
            excerpt=excerpt,
            review_state=state,
            confidence=self.weighted(_CONFIDENCE_REVIEWED if reviewed else _CONFIDENCE_LEAD),
        )
        if source != Finding.MANUAL:
            finding.external_id = f"demo-{source}-{number:05d}"
            finding.evidence_sha256 = services.evidence_sha256(f"{url}\n{excerpt}")
            finding.match_score, finding.match_explanation = _demo_match(
                number, plan.entity.name, excerpt
            )
        if state == Finding.ReviewState.REJECTED:
            finding.review_note = self.rng.choice(_REJECT_NOTES)
        elif state == Finding.ReviewState.CONFIRMED:
            finding.review_note = "Checked against the source (demo)."
        plan.findings.append(finding)

    def plan_runs(self, plan: _EntityPlan, sources: list[str], *, every_source: bool) -> None:
        """One run per source that filed a finding, a few that found nothing; review times.

        With every_source (controls) each source ran successfully, so the case is watched.
        """
        per_source = Counter(f.source for f in plan.findings if f.source != Finding.MANUAL)
        query = f'"{plan.entity.name.removesuffix(DEMO_SUFFIX)}" country:{plan.entity.country}'
        for source, created in per_source.items():
            run = self.run(plan, source, CheckRun.Status.OK, "", query)
            run.leads_created = created
            for finding in plan.findings:
                if finding.source == source:
                    finding.retrieved_at = run.finished_at
        if every_source:
            for source in sources:
                if source not in per_source:
                    self.run(plan, source, CheckRun.Status.NO_RESULTS, "", query)
        if self.rng.random() < 0.15:
            for source in self.rng.sample(sources, self.rng.randint(1, 2)):
                status = self.weighted({s: spec[1] for s, spec in _RUN_FAILURES.items()})
                self.run(plan, source, status, _RUN_FAILURES[status][0], query)
        for finding in plan.findings:
            if finding.review_state != Finding.ReviewState.LEAD:
                start = finding.retrieved_at.date() if finding.retrieved_at else date(2023, 1, 1)
                finding.reviewed_at = self.moment(start, start + timedelta(days=120))

    def run(self, plan: _EntityPlan, source: str, status: str, error: str, query: str) -> CheckRun:
        started = self.moment(date(2023, 1, 1), date(2024, 6, 30))
        run = CheckRun(
            case=plan.case,
            source=source,
            queued_at=started,
            started_at=started,
            attempts=1,
            finished_at=started + timedelta(seconds=self.rng.randint(1, 40)),
            status=status,
            error=error,
            query=query,
        )
        plan.runs.append(run)
        return run

    def after(self, index: _ReferralPlan) -> tuple[date, str]:
        end = normalize.period_end(index.date, index.precision)
        day = min(end + timedelta(days=self.rng.randint(20, 1400)), _FINDINGS_END)
        return self.blur(day, index, normalize.Timing.AFTER)

    def before(self, index: _ReferralPlan) -> tuple[date, str]:
        day = index.date - timedelta(days=self.rng.randint(20, 1500))
        return self.blur(day, index, normalize.Timing.BEFORE)

    def blur(self, day: date, index: _ReferralPlan, timing: str) -> tuple[date, str]:
        """Coarsen a date to its month or year sometimes, as long as the timing holds."""
        precision = self.weighted({"day": 70, "month": 22, "year": 8})
        start = {
            "day": day,
            "month": day.replace(day=1),
            "year": day.replace(month=1, day=1),
        }[precision]
        if normalize.compare_periods(start, precision, index.date, index.precision) != timing:
            return day, "day"
        return start, precision

    def china_party(self, kind: str, plan: _EntityPlan) -> tuple[str, str]:
        country = self.weighted({"CN": 80, "HK": 15, "MO": 5})
        syllables = self.rng.choice(_PINYIN) + self.rng.choice(_PINYIN).lower()
        if country == "HK":
            return f"{syllables} Holdings Limited{DEMO_SUFFIX}", country
        if country == "MO":
            return f"{syllables} Investment Company Limited{DEMO_SUFFIX}", country
        city = self.rng.choice(_CN_CITIES)
        if kind == K.CO_PUBLICATION:
            return f"{city} {syllables} University{DEMO_SUFFIX}", country
        word = self.rng.choice(_FIELDS[plan.tech_field][1])
        return f"{city} {syllables} {word} Technology Co., Ltd.{DEMO_SUFFIX}", country

    def other_party(self, plan: _EntityPlan) -> tuple[str, str]:
        country = self.rng.choice(["US", "DE", "SG", "GB", "JP", "FR", plan.country])
        legal = self.rng.choice(_LEGAL_FORMS.get(country, ["Ltd"]))
        return f"{self.coined()} Partners {legal}{DEMO_SUFFIX}", country

    def excerpt(
        self, kind: str, source: str, plan: _EntityPlan, party: str, when: date | None
    ) -> str:
        entity = plan.entity.name
        pct = self.rng.choice([10, 15, 20, 25, 30, 35, 49, 51, 60])
        year = when.year if when else "undated"
        if source == "gleif":
            parent, child = (entity, party) if kind == K.SUBSIDIARY else (party, entity)
            return (
                f"Relationship record: {parent} is reported as the direct accounting "
                f"consolidation parent of {child} (period start {year})."
            )
        if source == "sec_edgar":
            return (
                f"Form 8-K, {year}: {entity} entered into a securities purchase agreement "
                f"with {party} for {pct}% of its outstanding common stock."
            )
        if source == "companies_house":
            return (
                f"Notification of a person with significant control ({year}): {party} "
                f"holds more than 25% of the shares of {entity}."
            )
        if source == "openalex":
            return (
                f"Work ({year}) on {plan.tech_field}: authorships include {entity} and {party}; "
                f"{self.rng.randint(3, 12)} authors in total."
            )
        return _NEWS_TEMPLATES[kind].format(
            entity=entity,
            cp=party,
            field=plan.tech_field,
            city=self.rng.choice(_CN_CITIES),
            pct=pct,
        )

    def case_status(self, findings: list[Finding]) -> str:
        status = Case.Status
        if any(
            f.review_state == Finding.ReviewState.CONFIRMED
            and f.counterparty_country in _GREATER_CHINA
            for f in findings
        ):
            return self.weighted(
                {
                    status.CONCLUDED: 45,
                    status.MONITORING: 35,
                    status.IN_REVIEW: 10,
                    status.CLOSED: 10,
                }
            )
        if any(f.review_state == Finding.ReviewState.LEAD for f in findings):
            return self.weighted({status.IN_REVIEW: 50, status.OPEN: 50})
        return self.weighted(
            {status.OPEN: 55, status.MONITORING: 20, status.CONCLUDED: 10, status.CLOSED: 15}
        )

    def status_changes(self, plans: list[_EntityPlan]) -> list[CaseStatusChange]:
        """A believable log for each case that left "open": taken up for review before its
        first finding was reviewed, settled after its last one. Nobody is named as the
        mover, since the demo users may not exist yet."""
        status = Case.Status
        paths = {
            status.IN_REVIEW: [[status.IN_REVIEW]],
            status.MONITORING: [[status.IN_REVIEW, status.MONITORING]],
            status.CONCLUDED: [[status.IN_REVIEW, status.CONCLUDED]],
            status.CLOSED: [[status.CLOSED], [status.IN_REVIEW, status.CLOSED]],
        }
        changes = []
        for plan in plans:
            if plan.case.status == status.OPEN:
                continue
            path = self.rng.choice(paths[plan.case.status])
            reviewed = sorted(f.reviewed_at for f in plan.findings if f.reviewed_at)
            if reviewed:
                first = reviewed[0] - timedelta(days=self.rng.randint(1, 20), hours=2)
                last = reviewed[-1] + timedelta(days=self.rng.randint(1, 30), hours=2)
            else:
                first = self.moment(date(2023, 1, 1), date(2023, 12, 31))
                last = first + timedelta(days=self.rng.randint(10, 200))
            if len(path) == 2:
                times = [first, last]
            else:
                times = [first] if path[0] == status.IN_REVIEW else [last]
            before = status.OPEN
            for to, when in zip(path, times, strict=True):
                changes.append(
                    CaseStatusChange(
                        case=plan.case, from_status=before, to_status=to, changed_at=when
                    )
                )
                before = to
        return changes

    def moment(self, start: date, end: date) -> datetime:
        day = start + timedelta(days=self.rng.randint(0, max(0, (end - start).days)))
        return datetime.combine(
            day, time(self.rng.randint(7, 19), self.rng.randrange(60)), tzinfo=UTC
        )


def _local_currency(country: str) -> str:
    if country in _EURO:
        return "EUR"
    return _CURRENCIES.get(country, "USD")


def _url(source: str, kind: str, number: int) -> str:
    if source == "gleif":
        return f"https://example.org/demo/gleif/relationships/{number:06d}"
    if source == "sec_edgar":
        return f"https://example.org/demo/sec-edgar/filings/{number:06d}"
    if source == "companies_house":
        return f"https://example.org/demo/companies-house/filing-history/{number:06d}"
    if source == "openalex":
        return f"https://example.org/demo/openalex/works/W{number:08d}"
    return f"https://example.com/demo-news/{kind.replace('_', '-')}-{number:06d}"
