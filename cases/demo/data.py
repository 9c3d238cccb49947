"""The tables the synthetic demo data set is drawn from, shaped like the 2015-2020 referral
bulletin. Nothing here is real: every demo entity, post and counterparty name ends with
" (demo)" and URLs point at example.org and example.com.
"""

from datetime import date

from cases.access import ANALYST, SUPERVISOR
from cases.models import (
    Case,
    CheckRun,
    CooperationMethod,
    Entity,
    Finding,
    Post,
)

SEED = 2021


DEMO_SUFFIX = " (demo)"


CHANGE_REASON = "Demo data (seed_demo)"


# The two demo teams: Europe and Russia, and everyone else. By referrals that is about
# 400 to 240, each large enough to try the pages, the queues and the analytics with.
DEMO_TEAMS = (
    f"Team Europe & Russia{DEMO_SUFFIX}",
    f"Team Americas, Asia-Pacific & Africa{DEMO_SUFFIX}",
)


# Host countries whose cases the first demo team follows; the second follows the rest.
EUROPE_AND_RUSSIA = frozenset([
    "RU", "BY", "UA", "GB", "IE", "DE", "FR", "IT", "ES", "PT", "NL", "BE", "AT", "CH", "DK",
    "NO", "SE", "FI", "PL", "CZ", "SK", "HU", "SI", "RO", "BG", "GR", "TR", "LT", "EE", "ME",
    "MK", "RS",
])  # fmt: skip


ADMIN = "admin"


# Where runserver listens unless told otherwise; `make run` passes its HOST and PORT.
DEMO_BASE_URL = "http://127.0.0.1:8000"


DEMO_LOGIN_PATH = "/accounts/login/"


# Each role's first screen: an analyst's own work, the supervisor's teams' case list.
DEMO_START_PATHS = {
    ADMIN: "/admin/",
    ANALYST: "/my/",
    SUPERVISOR: "/cases/",
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
COUNTRIES = [
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
HOUSTON_SHARE = 0.89


HOUSTON_CLOSED = date(2020, 7, 24)


WINDOW_END = date(2020, 12, 31)


# Field: (referrals, words for company names, Chinese name).
FIELDS = {
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


LEGAL_FORMS = {
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


CURRENCIES = {"US": "USD", "GB": "GBP", "JP": "JPY", "RU": "RUB"}


EURO = {"DE", "FR", "IT", "ES", "NL", "BE", "AT", "FI", "IE", "PT", "GR", "SK", "SI", "LT", "EE"}


PER_USD = {"USD": 1, "EUR": 0.9, "GBP": 0.8, "JPY": 110, "RUB": 65, "CNY": 7}


PREFIXES = (  # noqa: SIM905 (word lists read better as one string)
    "Vel Qua Nor Tal Zen Ari Mer Kor Sol Ven Lum Oxi Pra Dal Cel Fen Gal Hyr Isk Jor Kal Lyr "
    "Mov Nex Orv Pel Ryn Sav Tor Ulv Vor Wex Yar Zor Bel Cad Dru Eld"
).split()


ENDINGS = "ora ent ix ara on ium eth ova antis ex ira yn ana oth el ica ar ue isk ade".split()  # noqa: SIM905


GIVEN = "Alen Mira Teodor Ilse Rafe Oona Kasim Lena Piet Sora Ivo Nadia Emre Greta".split()  # noqa: SIM905


PINYIN = "Hua Zhong Xin Rui Tai Jin Heng Kang Yuan Sheng Bo Ling Tian Hong Feng Jia".split()  # noqa: SIM905


CN_CITIES = [
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


METHOD_WEIGHTS = {
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


MONEY_METHODS = {
    CooperationMethod.INVESTMENT,
    CooperationMethod.EQUITY_PURCHASE,
    CooperationMethod.JOINT_VENTURE,
}


METHODS_ZH = {
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
SOURCE_KINDS = {
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


OUTCOME_KINDS = {
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


NEWS_TEMPLATES = {
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
KINDS_UNFIT = {
    Entity.Kind.INDIVIDUAL: {K.ACQUISITION, K.EQUITY_INVESTMENT, K.SUBSIDIARY, K.JOINT_VENTURE},
    Entity.Kind.UNIVERSITY: {K.ACQUISITION},
    Entity.Kind.RESEARCH_INSTITUTE: {K.ACQUISITION},
    Entity.Kind.GOVERNMENT_LAB: {K.ACQUISITION, K.EQUITY_INVESTMENT},
}


REJECT_NOTES = [
    "Different organisation with a similar name.",
    "Announcement only; no agreement was signed.",
    "The counterparty is not the one named in the source.",
    "Duplicate of another finding on this case.",
]


RUN_FAILURES = {
    CheckRun.Status.NO_RESULTS: ("", 50),
    CheckRun.Status.ERROR: ("Demo: HTTP 503 from the source; the check will be retried.", 20),
    CheckRun.Status.RATE_LIMITED: ("Demo: HTTP 429 Too Many Requests.", 15),
    CheckRun.Status.SKIPPED: ("Demo: no identifier to query this source with.", 15),
}


FINDINGS_END = date(2024, 6, 30)


YEARS = {2015: 12, 2016: 18, 2017: 22, 2018: 20, 2019: 17, 2020: 11}


POST_WEIGHTS = {Post.Kind.EMBASSY: 4, Post.Kind.CONSULATE_GENERAL: 2, Post.Kind.CONSULATE: 1}


ENTITY_KINDS = {
    Entity.Kind.COMPANY: 70,
    Entity.Kind.UNIVERSITY: 14,
    Entity.Kind.RESEARCH_INSTITUTE: 11,
    Entity.Kind.GOVERNMENT_LAB: 3,
    Entity.Kind.INDIVIDUAL: 2,
}


PRIORITIES = {
    Case.Priority.NORMAL: 60,
    Case.Priority.LOW: 15,
    Case.Priority.HIGH: 20,
    Case.Priority.URGENT: 5,
}


CONFIDENCE_LEAD = {Finding.Confidence.LOW: 2, Finding.Confidence.MEDIUM: 5}


CONFIDENCE_REVIEWED = {
    Finding.Confidence.LOW: 1,
    Finding.Confidence.MEDIUM: 5,
    Finding.Confidence.HIGH: 4,
}


# Referred cases: chance of confirmed outcomes, of a rejected lead. Controls are found
# cooperating less often and more of their leads are rejected, which puts them near 30 %
# positive among the reviewed against about 54 % for the referred.
REFERRED_CHANCES = (0.30, 0.12)


CONTROL_CHANCES = (0.12, 0.25)


CONTROLS = 120


# The named cohorts. Cohort has no demo flag: the names are what mark them.
SAMPLE_COHORT = f"Follow-up sample of 30{DEMO_SUFFIX}"


HOUSTON_COHORT = f"Houston referrals{DEMO_SUFFIX}"


DEMO_COHORTS = (SAMPLE_COHORT, HOUSTON_COHORT)


SAMPLE_SEED = 2021


SAMPLE_SIZE = 30


HOUSTON_POST = f"Consulate-General in Houston{DEMO_SUFFIX}"


# Second codings: cases given to a second coder, readings left pending, and readings
# that deliberately disagree with the first analyst's (kappa comes out near 0.7).
SECOND_CODINGS = 60


SECOND_CODINGS_PENDING = 10


SECOND_CODINGS_DISAGREEING = 8


# Open cases of each team given to its analyst, so their /my/ page shows work: some with
# leads waiting for review, some without. The rest stay unassigned, a team's backlog.
DEMO_ASSIGNED_WITH_LEADS = 8


DEMO_ASSIGNED_WITHOUT_LEADS = 4
