"""Google News RSS: the feed parser on recorded and hand-made feeds, hit rules, search()
with HTTP mocked, and one check filed through the services."""

import hashlib
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

import pytest
import responses
from django.utils import timezone

from cases import derived
from cases.checks import services as checks_services
from cases.checks.http import HttpClient, PermanentHttpError
from cases.checks.ratelimit import LocalRateLimiter
from cases.checks.sources import google_news, news
from cases.models import CheckRun, Entity, Finding
from tests.factories import CaseFactory, EntityFactory, ReferralFactory

ENDPOINT = "https://news.google.com/rss/search"
ACME = ["Acme Robotics Ltd"]
SINCE = date(2019, 5, 1)


def make_client() -> HttpClient:
    return HttpClient(
        source="google_news", rate_per_second=None, limiter=LocalRateLimiter(), sleep=lambda s: None
    )


def item(
    title: str,
    *,
    publisher: str = "Example Times",
    pub_date: str = "Tue, 02 Mar 2021 08:00:00 GMT",
    guid: str | None = None,
    link: str = "",
) -> str:
    slug = hashlib.md5(title.encode()).hexdigest()
    link = link or f"https://news.google.com/rss/articles/CBMi{slug}?oc=5"
    guid_xml = "" if guid == "" else f'<guid isPermaLink="false">{guid or "CBMi" + slug}</guid>'
    date_xml = f"<pubDate>{pub_date}</pubDate>" if pub_date else ""
    return (
        f"<item><title>{escape(title)} - {escape(publisher)}</title><link>{link}</link>"
        f'{guid_xml}{date_xml}<source url="https://example.com">{escape(publisher)}</source>'
        "</item>"
    )


def feed(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><rss version="2.0"><channel>'
        "<title>search - Google News</title><link>https://news.google.com/</link>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def hits_of(body: bytes, names=ACME, since=SINCE, min_score=0):
    return google_news.item_hits(
        google_news.parse_feed(body),
        names,
        since=since,
        evidence_sha256=hashlib.sha256(body).hexdigest(),
        min_score=min_score,
    )


# ------------------------------------------------------------------ recorded responses


def test_it_parses_the_recorded_brent_crude_feed(recorded):
    items = google_news.parse_feed(recorded("google_news/google_news_brent_crude.xml"))
    assert len(items) == 6
    first = items[0]
    assert first.headline == "Middle East War Triggers New Global Refining Boom"
    assert first.publisher == "Crude Oil Prices Today | OilPrice.com"
    assert first.published == date(2026, 8, 5)
    assert first.link.startswith("https://news.google.com/rss/articles/CBMi")
    assert first.guid.startswith("CBMi") and first.guid in first.link
    assert items[4].headline == "Oil price dives as US and Iran pause attacks"
    assert items[4].publisher == "BBC"
    assert hits_of(recorded("google_news/google_news_brent_crude.xml"), names=["Brent"]) == []


def test_it_parses_the_recorded_bears_ears_feed(recorded):
    body = recorded("google_news/google_news_bears_ears.xml")
    items = google_news.parse_feed(body)
    assert len(items) == 92
    assert all(i.published and i.guid and i.link and i.headline for i in items)
    assert len({google_news.external_id(i) for i in items}) == 92
    assert all(len(google_news.external_id(i)) <= 300 for i in items)
    assert items[1].headline == (
        "President Trump signs proclamation reducing Bears Ears Monument to 121,100 acres"
    )
    assert items[1].publisher == "San Juan Record |"


def test_the_recorded_headlines_name_bears_ears_but_no_chinese_party(recorded):
    body = recorded("google_news/google_news_bears_ears.xml")
    names = ["Bears Ears"]
    readings = [news.read_headline(names, i.headline) for i in google_news.parse_feed(body)]
    assert sum(reading.match.score == 100 for reading in readings) == 45
    assert not any(reading.is_evidence for reading in readings)
    assert hits_of(body, names=names) == []


# ------------------------------------------------------------------ hand-made feeds


def test_a_chinese_joint_venture_headline_is_a_hit():
    body = feed(
        item(
            "Acme Robotics forms joint venture with Shenzhen Example Technology",
            publisher="Reuters",
            guid="CBMiABC123",
            link="https://news.google.com/rss/articles/CBMiABC123?oc=5",
        )
    )
    [hit] = hits_of(body)
    assert hit.kind == Finding.Kind.JOINT_VENTURE
    assert (hit.counterparty_name, hit.counterparty_country) == (
        "Shenzhen Example Technology",
        "CN",
    )
    assert (hit.event_date, hit.event_date_precision) == (date(2021, 3, 2), "day")
    assert hit.url == "https://news.google.com/rss/articles/CBMiABC123?oc=5"
    assert hit.excerpt == (
        "Acme Robotics forms joint venture with Shenzhen Example Technology (Reuters, 2021-03-02)"
    )
    assert hit.external_id == "google_news:CBMiABC123"
    assert hit.score == 100 and "Acme Robotics Ltd" in hit.explanation
    assert hit.evidence_sha256 == hashlib.sha256(body).hexdigest()


def test_the_publisher_is_not_taken_for_a_chinese_party():
    body = feed(item("Acme Robotics forms joint venture with Siemens", publisher="China Daily"))
    assert hits_of(body) == []


def test_items_published_before_the_referral_are_dropped():
    body = feed(
        item("Huawei invests in Acme Robotics", pub_date="Tue, 30 Apr 2019 23:00:00 GMT"),
        item("Tencent invests in Acme Robotics", pub_date="Wed, 01 May 2019 00:30:00 GMT"),
    )
    assert [hit.counterparty_name for hit in hits_of(body)] == ["Tencent"]


def test_an_item_without_a_date_has_no_event_date():
    [hit] = hits_of(feed(item("Tencent invests in Acme Robotics", pub_date="")))
    assert hit.event_date is None and hit.event_date_precision == ""
    [odd] = hits_of(feed(item("Tencent invests in Acme Robotics", pub_date="sometime")))
    assert odd.event_date is None


def test_external_ids_fall_back_to_a_hash_of_a_long_guid_or_the_link():
    long_guid = "CBMi" + "x" * 400
    [long] = hits_of(feed(item("Tencent invests in Acme Robotics", guid=long_guid)))
    assert long.external_id == (
        "google_news:sha256:" + hashlib.sha256(long_guid.encode()).hexdigest()
    )
    link = "https://news.google.com/rss/articles/NOGUID?oc=5"
    [no_guid] = hits_of(feed(item("Tencent invests in Acme Robotics", guid="", link=link)))
    assert no_guid.external_id.startswith("google_news:")
    # feedparser falls back on the link as the id when an item has no guid
    assert no_guid.external_id in (
        f"google_news:{link}",
        "google_news:sha256:" + hashlib.sha256(link.encode()).hexdigest(),
    )


def test_items_without_a_link_or_title_are_skipped():
    body = feed(
        "<item><title>Tencent invests in Acme Robotics - X</title></item>",
        "<item><link>https://news.google.com/rss/articles/1</link></item>",
    )
    assert google_news.parse_feed(body) == []


def test_a_feed_with_no_items_means_no_results():
    assert google_news.parse_feed(feed()) == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not a feed at all",
        b"<html><body><p>Before you continue to Google</p></body></html>",
        b'{"items": []}',
    ],
)
def test_a_body_that_is_not_a_feed_is_a_permanent_error(body):
    with pytest.raises(PermanentHttpError, match="no feed"):
        google_news.parse_feed(body)


def test_non_latin_headlines():
    [hit] = hits_of(feed(item("Acme Robotics 与华为技术有限公司签署合作协议", publisher="新浪")))
    assert (hit.kind, hit.counterparty_name, hit.counterparty_country) == (
        "partnership",
        "华为技术有限公司",
        "CN",
    )
    [hk] = hits_of(
        feed(item("Zürich Photonics AG acquired by Hong Kong investor")),
        names=["Zürich Photonics AG"],
    )
    assert (hk.kind, hk.counterparty_name, hk.counterparty_country) == (
        "acquisition",
        "unnamed party in Hong Kong",
        "HK",
    )


# ------------------------------------------------------------------ query and search()


def test_the_query_names_china_the_terms_and_the_since_date():
    query = google_news.build_query(["Acme Robotics Ltd.", "艾克米机器人"], SINCE)
    assert query.startswith('("Acme Robotics" OR "艾克米机器人") (China OR Chinese) (partnership ')
    assert query.endswith(" after:2019-05-01")
    for term in ("takeover", "stake", "buys", "deal"):
        assert f" {term} " in query.replace(")", " ")
    # `before:` excludes its own day, so a span to 31 December asks before 1 January.
    bounded = google_news.build_query(["Acme Robotics"], SINCE, date(2019, 12, 31))
    assert bounded.endswith(" after:2019-05-01 before:2020-01-01")
    assert google_news.build_query(["3M"], SINCE) == ""
    assert google_news.SOURCE.skip_reason(Entity(name="3M", country="US")) != ""
    assert google_news.SOURCE.skip_reason(Entity(name="Acme Robotics", country="GB")) == ""


def test_the_source_needs_no_key():
    assert google_news.SOURCE.name == "google_news"
    assert google_news.SOURCE.required_settings == ()
    assert google_news.SOURCE.rate_per_second == 1


@responses.activate
def test_search_asks_once_for_its_span_and_returns_the_hits():
    body = feed(item("Huawei invests in Acme Robotics"))
    responses.get(ENDPOINT, body=body, content_type="application/xml")
    until = date(2021, 12, 31)
    result = google_news.SOURCE.search(
        Entity(name="Acme Robotics Ltd", country="GB"), SINCE, make_client(), until=until
    )
    [call] = responses.calls
    params = parse_qs(urlsplit(call.request.url).query)
    assert params["q"] == [google_news.build_query(["Acme Robotics Ltd"], SINCE, until)]
    assert (params["hl"], params["gl"], params["ceid"]) == (["en-US"], ["US"], ["US:en"])
    [hit] = result.hits
    assert hit.counterparty_name == "Huawei" and hit.event_date == date(2021, 3, 2)
    assert result.query == call.request.url


def test_windows_are_calendar_years():
    assert google_news.SOURCE.windows(date(2016, 3, 1), date(2018, 6, 30)) == [
        (date(2016, 3, 1), date(2016, 12, 31)),
        (date(2017, 1, 1), date(2017, 12, 31)),
        (date(2018, 1, 1), date(2018, 6, 30)),
    ]


@responses.activate
def test_a_full_answer_is_asked_again_in_halves():
    full = feed(*(item(f"Acme Robotics note {n}", guid=f"g{n}") for n in range(100)))
    responses.get(ENDPOINT, body=full)
    responses.get(ENDPOINT, body=feed(item("Huawei invests in Acme Robotics")))
    responses.get(ENDPOINT, body=feed())
    result = google_news.SOURCE.search(
        Entity(name="Acme Robotics", country="GB"),
        date(2021, 1, 1),
        make_client(),
        until=date(2021, 12, 31),
    )
    asked = [parse_qs(urlsplit(call.request.url).query)["q"][0] for call in responses.calls]
    assert asked[1].endswith("after:2021-01-01 before:2021-07-03")
    assert asked[2].endswith("after:2021-07-03 before:2022-01-01")
    assert [hit.counterparty_name for hit in result.hits] == ["Huawei"]


@responses.activate
def test_the_base_url_can_be_overridden(settings):
    settings.WISHLIST_SOURCE_URLS = {"google_news": "http://mirror.test/news/"}
    responses.get("http://mirror.test/news/search", body=feed())
    result = google_news.SOURCE.search(
        Entity(name="Acme Robotics", country="GB"), SINCE, make_client()
    )
    assert result.hits == []
    assert responses.calls[0].request.url.startswith("http://mirror.test/news/search?")


@responses.activate
@pytest.mark.parametrize(
    ("status", "body"), [(404, b"not found"), (200, b"<html>unusual traffic</html>")]
)
def test_a_404_or_a_malformed_body_is_a_permanent_error(status, body):
    responses.get(ENDPOINT, status=status, body=body)
    with pytest.raises(PermanentHttpError):
        google_news.SOURCE.search(Entity(name="Acme Robotics", country="GB"), SINCE, make_client())
    assert len(responses.calls) == 1


# ------------------------------------------------------------------ through the services


@responses.activate
def test_a_check_files_a_lead_once(db, use_sources):
    use_sources(google_news.SOURCE)
    entity = EntityFactory(name="Acme Robotics Ltd")
    ReferralFactory(entity=entity, date=date(2019, 5, 1), date_precision="month")
    case = CaseFactory(entity=entity)
    derived.case_index_dates_refresh(case_ids=[case.id])
    body = feed(
        item(
            "Acme Robotics forms joint venture with Shenzhen Example Technology",
            pub_date="Tue, 02 Mar 2021 08:00:00 GMT",
            guid="CBMiJV",
        ),
        item("Acme Robotics signs MOU with Huawei", pub_date="Mon, 01 Apr 2019 08:00:00 GMT"),
    )
    responses.get(ENDPOINT, body=body)

    [run_id] = checks_services.checks_queue(pairs=[(case.id, "google_news")])
    run = checks_services.check_execute(check_run_id=run_id, client=make_client())
    assert (run.status, run.leads_created) == (CheckRun.Status.OK, 1)
    # One search a calendar year, from the referral to today.
    assert "after%3A2019-05-01+before%3A2020-01-01" in run.query
    assert len(responses.calls) == timezone.now().year - 2019 + 1
    assert (run.searched_from, run.searched_to) == (date(2019, 5, 1), timezone.now().date())
    lead = Finding.objects.get(case=case, source="google_news")
    assert lead.kind == Finding.Kind.JOINT_VENTURE
    assert (lead.counterparty_name, lead.counterparty_country) == (
        "Shenzhen Example Technology",
        "CN",
    )
    assert (lead.event_date, lead.event_date_precision) == (date(2021, 3, 2), "day")
    assert lead.timing == Finding.Timing.AFTER
    assert lead.external_id == "google_news:CBMiJV"

    [again] = checks_services.checks_queue(pairs=[(case.id, "google_news")])
    rerun = checks_services.check_execute(check_run_id=again, client=make_client())
    assert (rerun.status, rerun.leads_created) == (CheckRun.Status.NO_RESULTS, 0)
    assert rerun.searched_from == run.searched_to - timedelta(days=7)
    assert Finding.objects.filter(case=case, source="google_news").count() == 1
