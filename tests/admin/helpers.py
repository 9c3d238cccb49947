"""Helpers of the admin tests: admin URLs, a row with everything a list shows, and the
POST data of the entity, referral and finding forms."""

from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Entity, Finding
from tests.factories import (
    CaseFactory,
    CheckRunFactory,
    EntityFactory,
    FindingFactory,
    PostFactory,
    ReferralFactory,
)

HOSTILE = "<script>alert(1)</script>"
HOSTILE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def url(model: str, view: str, *args) -> str:
    return reverse(f"admin:cases_{model}_{view}", args=args)


def with_lei_check_digits(base: str) -> str:
    """Return a valid LEI for an 18-character base (ISO 7064 mod 97-10)."""
    digits = "".join(str(int(ch, 36)) for ch in base + "00")
    return f"{base}{98 - int(digits) % 97:02d}"


VALID_LEI = with_lei_check_digits("5299000EXAMPLE0001")


def make_row(n: int, assignee=None) -> Case:
    """An entity with everything a list can show: case, referral, lead, confirmed, run."""
    entity = EntityFactory(name=f"Row {n} Robotics Ltd", country="DE")
    case = CaseFactory(entity=entity, assignee=assignee)
    ReferralFactory(entity=entity, post=PostFactory(name=f"Consulate {n}"))
    FindingFactory(case=case)
    FindingFactory(
        case=case, review_state=Finding.ReviewState.CONFIRMED, reviewed_at=timezone.now()
    )
    CheckRunFactory(case=case)
    return case


def entity_form_data(**overrides) -> dict:
    data = {
        "name": "Acme Robotics Ltd.",
        "name_native": "",
        "aliases": "",
        "kind": Entity.Kind.COMPANY,
        "country": "GB",
        "city": "",
        "website": "",
        "technology_fields": "",
        "lei": "",
        "sec_cik": "",
        "uk_company_number": "",
        "ror_id": "",
        "openalex_id": "",
        "wikidata_id": "",
        "referrals-TOTAL_FORMS": "0",
        "referrals-INITIAL_FORMS": "0",
        "referrals-MIN_NUM_FORMS": "0",
        "referrals-MAX_NUM_FORMS": "1000",
    }
    return {**data, **overrides}


def referral_form_data(entity, post, **overrides) -> dict:
    data = {
        "external_id": "R-NEW-1",
        "entity": entity.pk,
        "post": post.pk,
        "date": "2017-05-01",
        "date_precision": "month",
        "host_country": "GB",
        "technology_field": "robotics",
        "cooperation_methods": ["joint_venture", "patent_licence"],
        "proposed_amount": "",
        "currency": "",
        "summary": "",
        "original_text": "",
        "source_url": "",
        "source_reference": "",
    }
    return {**data, **overrides}


def finding_form_data(case, **overrides) -> dict:
    data = {
        "case": case.pk,
        "kind": Finding.Kind.JOINT_VENTURE,
        "counterparty_name": "Shenzhen Example Co.",
        "counterparty_country": "CN",
        "event_date": "2019-03-01",
        "event_date_precision": "day",
        "confidence": Finding.Confidence.MEDIUM,
        "source": Finding.MANUAL,
        "source_url": "",
        "external_id": "",
        "retrieved_at_0": "",
        "retrieved_at_1": "",
        "excerpt": "",
        "created_by": "",
    }
    return {**data, **overrides}


def refresh(obj):
    obj.refresh_from_db()
    return obj
