"""GDELT DOC 2.0: query and windows, the artlist parser on recorded and hand-made bodies,
headline judging, search() with HTTP mocked, and one check filed through the services."""

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.utils import timezone

from cases import derived
from cases.checks import services as checks_services
from cases.checks.http import HttpClient, PermanentHttpError, RateLimitedError
from cases.checks.ratelimit import LocalRateLimiter
from cases.checks.sources import gdelt, news
from cases.models import CheckRun, Entity, Finding
from tests.factories import CaseFactory, EntityFactory, ReferralFactory

ENDPOINT = "https://api.gdeltproject.org/api/v2/doc/doc"
ACME = ["Acme Robotics Ltd"]
SINCE = date(2024, 1, 1)


def make_client() -> HttpClient:
    return HttpClient(
        source="gdelt", rate_per_second=None, limiter=LocalRateLimiter(), sleep=lambda s: None
    )


def artlist(*articles: dict) -> bytes:
    return json.dumps({"articles": list(articles)}).encode()


def article(title: str, *, seendate: str = "20240615T170000Z", url: str = "") -> dict:
    return {
        "url": url or "https://news.example.com/" + hashlib.md5(title.encode()).hexdigest(),
        "url_mobile": "",
        "title": title,
        "seendate": seendate,
        "socialimage": "",
        "domain": "news.example.com",
        "language": "English",
        "sourcecountry": "United Kingdom",
    }


def hits_of(body: bytes, names=ACME, since=SINCE, min_score=0):
    return gdelt.article_hits(
        gdelt.parse_response(body),
        names,
        since=since,
        evidence_sha256=hashlib.sha256(body).hexdigest(),
        min_score=min_score,
    )


# ------------------------------------------------------------------ recorded responses


def test_it_parses_the_recorded_article_list(recorded):
    articles = gdelt.parse_response(recorded("gdelt/vizhinjam_2024.json"))
    assert len(articles) == 4
    first = articles[0]
    assert first.title == "Customs grants approval to Vizhinjam International Seaport"
    assert first.url.startswith("https://www.thehindu.com/news/national/kerala/customs-grants")
    assert not first.url.endswith("/amp/")  # the desktop URL, not url_mobile
    assert first.seen == date(2024, 6, 15)
    assert (first.domain, first.source_country, first.language) == (
        "thehindu.com",
        "India",
        "English",
    )
    assert [a.seen for a in articles] == [
        date(2024, 6, 15),
        date(2024, 7, 6),
        date(2024, 6, 20),
        date(2024, 7, 15),
    ]
    assert articles[1].language == "Malayalam"


def test_the_recorded_articles_are_no_evidence_for_an_unrelated_entity(recorded):
    body = recorded("gdelt/vizhinjam_2024.json")
    assert hits_of(body, names=["Acme Robotics Ltd"]) == []


def test_a_recorded_headline_naming_the_entity_without_a_chinese_party_is_dropped(recorded):
    body = recorded("gdelt/vizhinjam_2024.json")
    names = ["Vizhinjam International Seaport Ltd"]
    reading = news.read_headline(names, gdelt.parse_response(body)[0].title)
    assert reading.match.score == 100
    assert "Vizhinjam International Seaport Ltd" in reading.match.explanation
    assert reading.counterparty_country == ""
    assert not reading.is_evidence
    assert hits_of(body, names=names) == []
    assert hits_of(body, names=["Vizhinjam"]) == []


def test_the_recorded_keyword_error_is_a_permanent_error(recorded):
    with pytest.raises(PermanentHttpError, match="too short, too long or too common"):
        gdelt.parse_response(recorded("gdelt/keyword_error.txt"))


def test_the_recorded_throttle_message_is_rate_limited(recorded):
    with pytest.raises(RateLimitedError, match="one every 5 seconds"):
        gdelt.parse_response(recorded("gdelt/rate_limited.txt"))


# ------------------------------------------------------------------ hand-made bodies


def test_an_empty_object_means_no_articles():
    assert gdelt.parse_response(b"{}") == []
    assert gdelt.parse_response(b'{"articles": []}') == []
    assert gdelt.parse_response(b'\xef\xbb\xbf{"articles": null}') == []


@pytest.mark.parametrize(
    "body",
    [b"", b"{not json", b"[]", b'{"articles": {}}', b'{"articles": ["a"]}', b"<html></html>"],
)
def test_a_body_of_the_wrong_shape_is_a_permanent_error(body):
    with pytest.raises(PermanentHttpError):
        gdelt.parse_response(body)


def test_articles_without_a_url_or_title_are_skipped():
    body = artlist(
        {"title": "Acme Robotics forms joint venture with Huawei"},
        {"url": "https://news.example.com/x", "title": "  "},
        {"url": "https://news.example.com/y", "title": "A  spaced\ttitle"},
    )
    [only] = gdelt.parse_response(body)
    assert only.title == "A spaced title"
    assert only.seen is None and only.domain == ""


def test_a_joint_venture_headline_is_a_hit_with_the_chinese_party_named():
    body = artlist(
        article(
            "Acme Robotics Forms Joint Venture With Shenzhen Example Technology Co",
            seendate="20240615T170000Z",
            url="https://news.example.com/acme-jv",
        )
    )
    [hit] = hits_of(body)
    assert hit.kind == Finding.Kind.JOINT_VENTURE
    assert hit.counterparty_name == "Shenzhen Example Technology Co"
    assert hit.counterparty_country == "CN"
    assert (hit.event_date, hit.event_date_precision) == (date(2024, 6, 15), "day")
    assert hit.url == "https://news.example.com/acme-jv"
    assert hit.excerpt.startswith("Acme Robotics Forms Joint Venture")
    assert "news.example.com" in hit.excerpt and "first seen 2024-06-15" in hit.excerpt
    assert hit.external_id == gdelt.external_id("https://news.example.com/acme-jv")
    assert hit.external_id.startswith("gdelt:") and len(hit.external_id) == len("gdelt:") + 32
    assert hit.score == 100 and "Acme Robotics Ltd" in hit.explanation
    assert hit.evidence_sha256 == hashlib.sha256(body).hexdigest()
    assert hit.flags == ()


@pytest.mark.parametrize(
    ("title", "kind", "counterparty", "country"),
    [
        ("China's CATL takes stake in Acme Robotics", "equity_investment", "CATL", "CN"),
        ("Acme Robotics signs MOU with Chinese firm", "partnership", "unnamed Chinese party", "CN"),
        ("Acme Robotics and Zhejiang University sign partnership", "partnership",
         "Zhejiang University", "CN"),
        ("Bank of China backs Acme Robotics with investment", "equity_investment",
         "Bank of China", "CN"),
        ("Hong Kong investor acquires Acme Robotics", "acquisition",
         "unnamed party in Hong Kong", "HK"),
        ("Macau fund takes stake in Acme Robotics", "equity_investment",
         "unnamed party in Macau", "MO"),
        ("Acme Robotics opens office in Shanghai", "subsidiary", "Shanghai", "CN"),
    ],
)  # fmt: skip
def test_headlines_name_the_kind_and_the_chinese_party(title, kind, counterparty, country):
    [hit] = hits_of(artlist(article(title)))
    assert (hit.kind, hit.counterparty_name, hit.counterparty_country) == (
        kind,
        counterparty,
        country,
    )


@pytest.mark.parametrize(
    "title",
    [
        "Acme Robotics forms joint venture with Siemens",  # no Chinese party
        "Acme Robotics wins award at Shanghai trade fair",  # no cooperation term
        "Chinese firm forms joint venture with Example Dynamics",  # not our entity
    ],
)
def test_headlines_that_are_not_evidence_are_dropped(title):
    assert hits_of(artlist(article(title)), min_score=85) == []


def test_an_entitys_own_chinese_place_name_is_not_its_counterparty():
    names = ["Shanghai Instruments GmbH", "Capital Partners Shanghai"]
    assert hits_of(artlist(article("Shanghai Instruments partners with Siemens")), names) == []
    [hit] = hits_of(artlist(article("Shanghai Instruments partners with Huawei")), names)
    assert hit.counterparty_name == "Huawei"


def test_articles_seen_before_the_referral_are_dropped():
    body = artlist(
        article("Huawei invests in Acme Robotics", seendate="20231231T235959Z"),
        article("Tencent invests in Acme Robotics", seendate="20240101T000000Z"),
    )
    assert [hit.counterparty_name for hit in hits_of(body)] == ["Tencent"]


def test_an_article_with_an_odd_seendate_has_no_event_date():
    body = artlist(article("Tencent invests in Acme Robotics", seendate="2024-06-15"))
    [hit] = hits_of(body)
    assert hit.event_date is None and hit.event_date_precision == ""


def test_a_weak_name_match_is_dropped_below_the_minimum_score():
    body = artlist(article("Acme Robots forms joint venture with Huawei"))
    [weak] = hits_of(body)
    assert weak.score < 100
    assert hits_of(body, min_score=weak.score + 1) == []


def test_a_counterparty_on_the_dod_1260h_list_is_flagged(settings):
    if not (
        Path(settings.WISHLIST_REFERENCE_DIR) / "dod_1260h_chinese_military_companies.csv"
    ).exists():
        pytest.skip("the DoD 1260H list is not beside this clone")
    [hit] = hits_of(artlist(article("Huawei forms joint venture with Acme Robotics")))
    assert hit.flags == ("dod_1260h: Huawei Technologies Co., Ltd.",)


def test_non_latin_headlines():
    assert news.chinese_party("| 与华为技术有限公司签署合作协议") == "华为技术有限公司"
    [hit] = hits_of(artlist(article("Acme Robotics 与华为技术有限公司签署合作协议")))
    assert (hit.kind, hit.counterparty_name, hit.counterparty_country) == (
        "partnership",
        "华为技术有限公司",
        "CN",
    )
    [accented] = hits_of(
        artlist(article("Müller Präzision forms joint venture with Ningbo Example Co")),
        names=["Müller Präzision GmbH"],
    )
    assert accented.counterparty_name == "Ningbo Example Co" and accented.score >= 85
    # A Russian headline names the entity but no Chinese party the gazetteer knows.
    russian = artlist(article("Росатом подписал соглашение о партнерстве"))
    assert hits_of(russian, names=["Росатом"]) == []


# ------------------------------------------------------------------ query and windows


def test_the_query_quotes_names_and_groups_or_terms_in_parentheses():
    query = gdelt.build_query(["Acme Robotics Ltd."])
    assert query.startswith('"Acme Robotics" (China OR Chinese) (partnership OR "joint venture" ')
    # Deal words in the forms headlines use: GDELT has no stemming.
    for term in ("takeover", "stake", "buys", "deal", "acquires"):
        assert f" {term} " in query.replace(")", " ")
    names = ["Acme Robotics Ltd", "艾克米机器人", "Acme Robo", "AT&T Inc", "Fourth Name"]
    assert gdelt.build_query(names).startswith('("Acme Robotics" OR "Acme Robo" OR "AT&T") ')


def test_names_too_short_or_not_latin_are_not_searched():
    assert gdelt.build_query(["3M", "艾克米"]) == ""
    assert gdelt.SOURCE.skip_reason(Entity(name="3M", country="US")) != ""
    assert gdelt.SOURCE.skip_reason(Entity(name="Acme Robotics Ltd", country="GB")) == ""


def test_windows_cover_the_whole_period_from_the_archive_start_in_calendar_spans():
    spans = gdelt.SOURCE.windows(date(2015, 6, 1), date(2026, 8, 10))
    assert spans[0] == (gdelt.ARCHIVE_START, date(2017, 12, 31))
    assert spans[-1] == (date(2026, 1, 1), date(2026, 8, 10))
    for (_, last), (first, _) in zip(spans, spans[1:], strict=False):
        assert first == last + timedelta(days=1)
    # The same boundaries on every check, so a resumed search asks the same windows.
    assert gdelt.SOURCE.windows(date(2019, 3, 5), date(2026, 8, 10))[1][0] == date(2020, 1, 1)
    assert gdelt.SOURCE.windows(date(2026, 9, 1), date(2026, 8, 10)) == []


# ------------------------------------------------------------------ search()


def recent_since(days: int = 20) -> date:
    return timezone.now().date() - timedelta(days=days)


def seendate(day: date) -> str:
    return day.strftime("%Y%m%d") + "T120000Z"


@responses.activate
def test_search_asks_its_span_oldest_first_and_returns_the_hits():
    since = date(2020, 1, 1)
    day = since + timedelta(days=5)
    responses.get(
        ENDPOINT, body=artlist(article("Huawei invests in Acme Robotics", seendate=seendate(day)))
    )
    entity = Entity(name="Acme Robotics Ltd", country="GB")
    result = gdelt.SOURCE.search(entity, since, make_client(), until=date(2021, 12, 31))
    [call] = responses.calls
    params = parse_qs(urlsplit(call.request.url).query)
    assert params["mode"] == ["artlist"] and params["format"] == ["json"]
    assert params["maxrecords"] == ["250"] and params["sort"] == ["dateasc"]
    assert params["query"] == [gdelt.build_query(["Acme Robotics Ltd"])]
    assert params["startdatetime"] == ["20200101000000"]
    assert params["enddatetime"] == ["20211231235959"]
    [hit] = result.hits
    assert hit.counterparty_name == "Huawei" and hit.event_date == day


@responses.activate
def test_a_full_answer_is_asked_again_in_halves_so_nothing_is_crowded_out():
    since, until = date(2020, 1, 1), date(2021, 12, 31)
    routine = [
        article(f"Acme Robotics item {n}", url=f"https://n.test/{n}", seendate=seendate(since))
        for n in range(gdelt.MAX_RECORDS)
    ]
    responses.get(ENDPOINT, body=artlist(*routine))  # the whole span: full
    early = since + timedelta(days=3)
    responses.get(
        ENDPOINT, body=artlist(article("Huawei invests in Acme Robotics", seendate=seendate(early)))
    )
    responses.get(ENDPOINT, body=b"{}")
    result = gdelt.SOURCE.search(
        Entity(name="Acme Robotics Ltd", country="GB"), since, make_client(), until=until
    )
    starts = [
        parse_qs(urlsplit(call.request.url).query)["startdatetime"][0] for call in responses.calls
    ]
    assert starts == ["20200101000000", "20200101000000", "20210101000000"]
    assert [hit.event_date for hit in result.hits] == [early]


@responses.activate
def test_the_base_url_can_be_overridden(settings):
    settings.WISHLIST_SOURCE_URLS = {"gdelt": "http://mirror.test/gdelt/"}
    responses.get("http://mirror.test/gdelt/doc/doc", body=b"{}")
    result = gdelt.SOURCE.search(
        Entity(name="Acme Robotics", country="GB"), recent_since(), make_client()
    )
    assert result.hits == []
    assert responses.calls[0].request.url.startswith("http://mirror.test/gdelt/doc/doc?")


@responses.activate
def test_a_throttle_message_with_status_200_is_rate_limited():
    responses.get(ENDPOINT, body=b"Please limit requests to one every 5 seconds.")
    with pytest.raises(RateLimitedError):
        gdelt.SOURCE.search(
            Entity(name="Acme Robotics", country="GB"), recent_since(), make_client()
        )


@responses.activate
@pytest.mark.parametrize(
    ("status", "body"),
    [(404, b"not found"), (200, b"One or more of your keywords were too short"), (200, b"{oops")],
)
def test_a_404_or_a_malformed_body_is_a_permanent_error(status, body):
    responses.get(ENDPOINT, status=status, body=body)
    with pytest.raises(PermanentHttpError):
        gdelt.SOURCE.search(
            Entity(name="Acme Robotics", country="GB"), recent_since(), make_client()
        )
    assert len(responses.calls) == 1


# ------------------------------------------------------------------ through the services


@pytest.fixture
def only_gdelt(use_sources):
    use_sources(gdelt.SOURCE)


@pytest.fixture
def mid_year(monkeypatch):
    """A fixed today in mid-year, so a re-check's week is one window whatever the date."""
    moment = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)


@responses.activate
def test_a_check_files_a_lead_once(db, only_gdelt, mid_year):
    referred = timezone.now().date() - timedelta(days=40)
    entity = EntityFactory(name="Acme Robotics Ltd")
    ReferralFactory(entity=entity, date=referred, date_precision="day")
    case = CaseFactory(entity=entity)
    derived.case_index_dates_refresh(case_ids=[case.id])
    day = referred + timedelta(days=10)
    body = artlist(
        article(
            "Acme Robotics forms joint venture with Shenzhen Example Technology",
            seendate=seendate(day),
            url="https://news.example.com/acme-shenzhen-jv",
        )
    )
    responses.get(ENDPOINT, body=body)

    [run_id] = checks_services.checks_queue(pairs=[(case.id, "gdelt")])
    run = checks_services.check_execute(check_run_id=run_id, client=make_client())
    assert (run.status, run.leads_created) == (CheckRun.Status.OK, 1)
    assert "doc/doc?" in run.query
    lead = Finding.objects.get(case=case, source="gdelt")
    assert lead.kind == Finding.Kind.JOINT_VENTURE
    assert lead.counterparty_name == "Shenzhen Example Technology"
    assert lead.counterparty_country == "CN"
    assert (lead.event_date, lead.event_date_precision) == (day, "day")
    assert lead.timing == Finding.Timing.AFTER
    assert lead.review_state == Finding.ReviewState.LEAD
    assert lead.source_url == "https://news.example.com/acme-shenzhen-jv"
    assert lead.evidence_sha256 == hashlib.sha256(body).hexdigest()

    assert (run.searched_from, run.searched_to) == (referred, timezone.now().date())

    # A re-check asks only from a week before the last day searched: the article, older
    # than that, is neither asked for again nor filed twice.
    [again] = checks_services.checks_queue(pairs=[(case.id, "gdelt")])
    rerun = checks_services.check_execute(check_run_id=again, client=make_client())
    assert (rerun.status, rerun.leads_created) == (CheckRun.Status.NO_RESULTS, 0)
    assert rerun.searched_from == run.searched_to - timedelta(days=7)
    asked = parse_qs(urlsplit(responses.calls[-1].request.url).query)
    assert asked["startdatetime"] == [rerun.searched_from.strftime("%Y%m%d") + "000000"]
    assert Finding.objects.filter(case=case, source="gdelt").count() == 1


@responses.activate
def test_a_throttled_check_is_recorded_as_rate_limited(db, only_gdelt, recorded):
    entity = EntityFactory(name="Acme Robotics Ltd")
    ReferralFactory(entity=entity, date=recent_since(), date_precision="day")
    case = CaseFactory(entity=entity)
    derived.case_index_dates_refresh(case_ids=[case.id])
    responses.get(ENDPOINT, body=recorded("gdelt/rate_limited.txt"))
    [run_id] = checks_services.checks_queue(pairs=[(case.id, "gdelt")])
    run = checks_services.check_execute(check_run_id=run_id, client=make_client())
    assert run.status == CheckRun.Status.RATE_LIMITED
    assert "5 seconds" in run.error


@pytest.mark.parametrize(
    ("bad", "status", "error"),
    [
        (b"", CheckRun.Status.ERROR, "refused the query"),
        (b"<html><body>Service Unavailable</body></html>", CheckRun.Status.ERROR, "refused"),
        (b"The specified phrase is too short.", CheckRun.Status.ERROR, "too short"),
        (
            b'{"articles": [{"url": "https://n.test/1", "title": "Acme',
            CheckRun.Status.ERROR,
            "malformed",
        ),
        (
            b"Please limit requests to one every 5 seconds",
            CheckRun.Status.RATE_LIMITED,
            "slow down",
        ),
    ],
)
@responses.activate
def test_a_bad_answer_mid_check_keeps_the_windows_read_and_files_nothing_wrong(
    db, only_gdelt, bad, status, error
):
    entity = EntityFactory(name="Acme Robotics Ltd")
    ReferralFactory(entity=entity, date=date(2017, 3, 1), date_precision="day")
    case = CaseFactory(entity=entity)
    derived.case_index_dates_refresh(case_ids=[case.id])
    good = artlist(
        article("Huawei invests in Acme Robotics", seendate=seendate(date(2017, 6, 1))),
        # A day GDELT cannot have seen yet: never filed.
        article("Acme Robotics forms joint venture with Huawei", seendate="20990101T000000Z"),
    )
    responses.get(ENDPOINT, body=good)  # 2017-2017: the first window
    responses.get(ENDPOINT, body=bad)  # 2018-2019
    [run_id] = checks_services.checks_queue(pairs=[(case.id, "gdelt")])
    run = checks_services.check_execute(check_run_id=run_id, client=make_client())
    assert run.status == status and error in run.error
    assert (run.searched_from, run.searched_to) == (date(2017, 3, 1), date(2017, 12, 31))
    assert run.leads_created == 1
    [lead] = Finding.objects.filter(case=case)
    assert lead.event_date == date(2017, 6, 1)


@responses.activate
def test_an_answer_always_full_is_halved_a_bounded_number_of_times_then_resumed(db, only_gdelt):
    entity = EntityFactory(name="Acme Robotics Ltd")
    ReferralFactory(entity=entity, date=date(2020, 1, 1), date_precision="day")
    case = CaseFactory(entity=entity)
    derived.case_index_dates_refresh(case_ids=[case.id])
    full = artlist(
        *(
            article(
                f"Acme Robotics note {n}", url=f"https://n.test/{n}", seendate="20200101T000000Z"
            )
            for n in range(gdelt.MAX_RECORDS)
        )
    )
    responses.get(ENDPOINT, body=full)
    [run_id] = checks_services.checks_queue(pairs=[(case.id, "gdelt")])
    run = checks_services.check_execute(check_run_id=run_id, client=make_client())
    assert len(responses.calls) == gdelt.MAX_REQUESTS_PER_SPAN
    # Halving reached single days: the days read count, the rest is the next run's.
    assert run.cut_short and run.searched_from == date(2020, 1, 1)
    assert date(2020, 1, 1) <= run.searched_to < date(2021, 12, 31)
    assert "stopped after 16 requests" in run.query
    assert "a full answer for the single day" in run.query


@responses.activate
def test_an_answer_full_with_untitled_entries_is_still_halved():
    since, until = date(2020, 1, 1), date(2021, 12, 31)
    untitled = [{"url": f"https://n.test/{n}", "title": ""} for n in range(gdelt.MAX_RECORDS)]
    responses.get(ENDPOINT, body=json.dumps({"articles": untitled}).encode())
    responses.get(ENDPOINT, body=b"{}")
    responses.get(ENDPOINT, body=b"{}")
    result = gdelt.SOURCE.search(
        Entity(name="Acme Robotics Ltd", country="GB"), since, make_client(), until=until
    )
    assert len(responses.calls) == 3 and result.searched_to == until
