"""Hand-entered findings that look like one already on the case (the same kind, the same
counterparty once legal forms and case are set aside, within 30 days, another URL): the
rule (rules.looks_like_same_event), the service's refusal and the case page's warning,
which needs "record anyway" to save."""

import datetime

import pytest
from django.urls import reverse

from cases import rules
from cases.casework import services
from cases.models import Finding
from tests.clients import Client
from tests.factories import CaseFactory, FindingFactory

pytestmark = pytest.mark.django_db

D = datetime.date
JV = Finding.Kind.JOINT_VENTURE


def existing(**fields) -> Finding:
    values = {
        "kind": JV,
        "counterparty_name": "Huawei Technologies Co., Ltd.",
        "event_date": D(2021, 3, 4),
        "event_date_precision": "day",
    }
    return Finding(**{**values, **fields})


# ------------------------------------------------------------------ the rule


@pytest.mark.parametrize(
    ("name", "event", "precision"),
    [
        ("Huawei Technologies Co., Ltd.", D(2021, 3, 4), "day"),
        ("HUAWEI TECHNOLOGIES", D(2021, 4, 3), "day"),  # 30 days later
        ("huawei technologies co ltd", D(2021, 2, 2), "day"),  # 30 days before
        ("Huawei Technologies Co., Ltd.", D(2021, 4, 1), "month"),  # April: 28 days on
        ("Huawei Technologies Co., Ltd.", D(2021, 1, 1), "year"),  # 2021 holds the day
    ],
)
def test_alike_findings(name, event, precision):
    assert rules.looks_like_same_event(JV, name, event, precision, existing())


@pytest.mark.parametrize(
    ("kind", "name", "event", "precision"),
    [
        (JV, "Huawei Technologies", D(2021, 4, 4), "day"),  # 31 days later
        (JV, "Huawei Technologies", D(2021, 2, 1), "day"),  # 31 days before
        (Finding.Kind.PARTNERSHIP, "Huawei Technologies", D(2021, 3, 4), "day"),
        (JV, "ZTE Corporation", D(2021, 3, 4), "day"),
        (JV, "", D(2021, 3, 4), "day"),
        (JV, "Huawei Technologies", None, ""),
        (JV, "Huawei Technologies", D(2020, 1, 1), "year"),  # 2020 ends 63 days before
    ],
)
def test_findings_not_alike(kind, name, event, precision):
    assert not rules.looks_like_same_event(kind, name, event, precision, existing())


def test_an_undated_or_unnamed_existing_finding_is_never_alike():
    undated = existing(event_date=None, event_date_precision="")
    unnamed = existing(counterparty_name="")

    assert not rules.looks_like_same_event(JV, "Huawei", D(2021, 3, 4), "day", undated)
    assert not rules.looks_like_same_event(JV, "", D(2021, 3, 4), "day", unnamed)


# ------------------------------------------------------------------ the service


def record(case, actor, url="https://news.example/b", **fields):
    values = {
        "kind": JV,
        "counterparty_name": "Huawei Technologies",
        "counterparty_country": "CN",
        "event_date": D(2021, 3, 20),
        "event_date_precision": "day",
        "source_url": url,
        "excerpt": "A joint venture with Huawei.",
    }
    return services.finding_record_by_hand(case=case, actor=actor, **{**values, **fields})


def test_a_look_alike_is_refused_naming_the_existing_one(team, analyst):
    case = CaseFactory(team=team)
    first = FindingFactory(
        case=case,
        counterparty_name="Huawei Technologies Co., Ltd.",
        event_date=D(2021, 3, 4),
        source_url="https://news.example/a",
        review_state=Finding.ReviewState.CONFIRMED,
        reviewed_at=datetime.datetime(2021, 5, 1, tzinfo=datetime.UTC),
    )

    with pytest.raises(services.SimilarFindings) as refused:
        record(case, analyst)

    assert refused.value.findings == [first]
    assert refused.value.messages == [
        "This looks like a finding already on the case: the joint venture with Huawei "
        "Technologies Co., Ltd. (2021-03-04, confirmed, recorded by hand). If it is a "
        "different event, tick “Record anyway” and record it again."
    ]
    assert case.findings.count() == 1


def test_record_anyway_saves_it(team, analyst):
    case = CaseFactory(team=team)
    FindingFactory(case=case, counterparty_name="Huawei Technologies", event_date=D(2021, 3, 4))

    finding = record(case, analyst, record_anyway=True)

    assert finding.pk and case.findings.count() == 2


def test_a_lead_from_a_source_counts_and_another_cases_finding_does_not(team, analyst):
    case = CaseFactory(team=team)
    FindingFactory(
        case=CaseFactory(team=team), counterparty_name="Huawei", event_date=D(2021, 3, 4)
    )
    assert record(case, analyst, url="https://news.example/first").pk

    lead = FindingFactory(
        case=case,
        source="gdelt",
        external_id="g-1",
        counterparty_name="Huawei Technologies",
        event_date=D(2021, 4, 1),
        review_state=Finding.ReviewState.LEAD,
    )
    with pytest.raises(services.SimilarFindings) as refused:
        record(case, analyst, url="https://news.example/second", event_date=D(2021, 4, 15))

    assert lead in refused.value.findings
    assert "lead (not reviewed), from gdelt" in refused.value.messages[0]


def test_the_same_evidence_twice_is_still_refused_outright(team, analyst):
    case = CaseFactory(team=team)
    record(case, analyst)

    with pytest.raises(services.ValidationError) as refused:
        record(case, analyst, record_anyway=True)

    assert refused.value.messages == ["This finding is already recorded on the case."]


# ------------------------------------------------------------------ the case page


def form(**fields):
    values = {
        "kind": JV,
        "counterparty_name": "Huawei Technologies",
        "counterparty_country": "CN",
        "event_date": "2021-03-20",
        "source_url": "https://news.example/b",
        "excerpt": "A joint venture with Huawei.",
        "confidence": "medium",
    }
    return {**values, **fields}


def test_the_case_page_warns_and_offers_record_anyway(team, analyst):
    case = CaseFactory(team=team)
    FindingFactory(
        case=case,
        counterparty_name="Huawei Technologies Co., Ltd.",
        event_date=D(2021, 3, 4),
        source_url="https://news.example/a",
    )
    alice = Client()
    alice.force_login(analyst)
    url = reverse("cases:case_finding_add", args=[case.pk])
    before = list(Finding.objects.order_by("id").values())

    warned = alice.post(url, form())
    page = warned.content.decode()

    assert warned.status_code == 400
    assert list(Finding.objects.order_by("id").values()) == before
    assert "This looks like a finding already on the case: the joint venture with Huawei" in page
    assert 'type="checkbox" name="record_anyway"' in page
    assert 'value="Huawei Technologies"' in page  # the form keeps what was typed

    saved = alice.post(url, form(record_anyway="on"))

    assert saved.status_code == 302
    assert case.findings.count() == 2


def test_the_blank_form_hides_the_record_anyway_box(team, analyst):
    case = CaseFactory(team=team)
    alice = Client()
    alice.force_login(analyst)

    page = alice.get(case.get_absolute_url()).content.decode()

    assert 'type="checkbox" name="record_anyway"' not in page
    assert 'type="hidden" name="record_anyway"' in page


def test_a_finding_unlike_any_is_recorded_at_once(team, analyst):
    case = CaseFactory(team=team)
    FindingFactory(case=case, counterparty_name="ZTE Corporation", event_date=D(2021, 3, 4))
    alice = Client()
    alice.force_login(analyst)

    response = alice.post(reverse("cases:case_finding_add", args=[case.pk]), form())

    assert response.status_code == 302
    assert case.findings.count() == 2
