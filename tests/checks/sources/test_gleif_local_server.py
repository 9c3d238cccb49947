"""The issue's acceptance check: a case pointed by WISHLIST_GLEIF_URL at a local server
serving the recorded Microsoft GLEIF responses gets a lead for its Chinese subsidiary,
dated by the relationship's start and labelled before the referral; re-running adds
nothing."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from cases import derived
from cases.models import CheckRun, Finding
from tests.factories import CaseFactory, EntityFactory, ReferralFactory
from tests.stub_server import StubSource

MICROSOFT = "INR2EJN1ERAN0W5ZP974"
CHINESE_SUBSIDIARY = "836800FXO82WAQQSJI94"


@pytest.mark.django_db
def test_the_recorded_microsoft_group_yields_its_chinese_subsidiary(recorded, settings):
    files = {
        f"/lei-records/{MICROSOFT}": f"single_lei_record_{MICROSOFT}.json",
        f"/lei-records/{MICROSOFT}/direct-children": f"direct-children_{MICROSOFT}.json",
        f"/lei-records/{MICROSOFT}/direct-child-relationships": (
            f"direct-child-relationships_{MICROSOFT}.json"
        ),
        f"/lei-records/{MICROSOFT}/ultimate-children": f"ultimate-children_{MICROSOFT}.json",
    }
    bodies = {path: recorded(f"gleif/{name}") for path, name in files.items()}

    def route(path):
        path = path.split("?", 1)[0]
        if path in bodies:
            return 200, bodies[path]
        return 404, b'{"errors": [{"status": "404", "title": "Not Found"}]}'

    entity = EntityFactory(name="Microsoft Corporation", country="US", lei=MICROSOFT)
    ReferralFactory(entity=entity, date=datetime.date(2017, 5, 1), date_precision="month")
    case = CaseFactory(entity=entity)
    derived.case_index_dates_refresh(case_ids=[case.id])

    with StubSource(route) as stub:
        settings.WISHLIST_SOURCE_URLS = {"gleif": stub.url}
        settings.WISHLIST_SOURCE_RATES = {"gleif": 100.0}  # a local server needs no pause
        out = StringIO()
        call_command(
            "run_checks", "--sync", "--case", str(case.id), "--source", "gleif", stdout=out
        )
        assert out.getvalue().splitlines()[1].split() == ["gleif", "1", "0", "0", "0", "0", "1"]

        lead = Finding.objects.get(case=case, source="gleif")
        assert lead.counterparty_name == "微软(中国)有限公司"
        assert lead.counterparty_country == "CN"
        assert lead.kind == Finding.Kind.SUBSIDIARY
        assert CHINESE_SUBSIDIARY in lead.external_id
        # GLEIF gives 1995-10-31T16:00:00Z: midnight of 1 November in Beijing.
        assert lead.event_date == datetime.date(1995, 11, 1)
        assert lead.event_date_precision == "day"
        assert lead.timing == Finding.Timing.BEFORE
        assert lead.review_state == Finding.ReviewState.LEAD
        assert len(lead.evidence_sha256) == 64

        call_command(
            "run_checks", "--sync", "--case", str(case.id), "--source", "gleif", stdout=StringIO()
        )
        assert Finding.objects.filter(case=case).count() == 1
        assert list(
            CheckRun.objects.filter(case=case)
            .order_by("id")
            .values_list("leads_created", flat=True)
        ) == [1, 0]
        assert all(path.startswith("/lei-records/") for path in stub.paths())
        # Its record reports exceptions for both parents: none is asked for.
        assert not any("-parent" in path for path in stub.paths())
