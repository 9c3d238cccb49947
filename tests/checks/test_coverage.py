"""Coverage: every check searches the whole period since the referral in its source's
spans, records the period it actually searched, keeps what it read when it is cut short,
and a later check resumes where the last one stopped. A fake source that lists dated
items stands in for the news, filings and works sources."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases import derived
from cases.checks import selectors
from cases.checks import services as checks_services
from cases.checks.http import RateLimitedError
from cases.checks.sources import SearchResult
from cases.checks.sources.common import spans
from cases.models import CheckRun, Finding
from tests.checks.fakes import FakeSource, hit
from tests.factories import CaseFactory, ReferralFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def mid_year(monkeypatch):
    """A fixed today in mid-year: a re-check's week never crosses a calendar boundary,
    so the spans these tests count do not depend on the day they run."""
    moment = datetime.datetime(2026, 6, 15, 12, 0, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)


D = datetime.date


class DatedSource(FakeSource):
    """Lists dated items: yearly spans; `items` are (external id, day); `fail_on` is the
    span start that raises; `short` the day a span's search stops short at."""

    name = "dated"
    incremental = True
    recheck_overlap = datetime.timedelta(days=7)
    detects = ("acquisition", "joint_venture")

    def __init__(self):
        super().__init__()
        self.items: list[tuple[str, datetime.date]] = []
        self.asked: list[tuple[datetime.date, datetime.date]] = []
        self.fail_on: datetime.date | None = None
        self.short: datetime.date | None = None

    def windows(self, first, last):
        return spans(first, last, months=12)

    def search(self, entity, since, client, *, until=None):
        self.asked.append((since, until))
        if since == self.fail_on:
            raise RateLimitedError("429 from the test", status=429)
        reached = until
        if self.short and since <= self.short < until:
            reached = self.short
        found = [hit(key, event=day) for key, day in self.items if since <= day <= reached]
        return SearchResult(hits=found, query=f"{since}..{until}", searched_to=reached)


@pytest.fixture
def dated(use_sources, settings):
    source = DatedSource()
    use_sources(source)
    settings.WISHLIST_CHECK_INTERVAL_DAYS = {"dated": 7}
    return source


@pytest.fixture
def case2016():
    referral = ReferralFactory(date=D(2016, 3, 1), date_precision="month")
    case = CaseFactory(entity=referral.entity)
    derived.case_index_dates_refresh(case_ids=[case.id])
    case.refresh_from_db()
    return case


def run(case, source="dated"):
    [check_run_id] = checks_services.checks_queue(pairs=[(case.id, source)])
    return checks_services.check_execute(check_run_id=check_run_id)


def test_a_first_check_searches_every_year_from_the_referral_to_today(dated, case2016):
    dated.items = [("deal-2017", D(2017, 6, 1)), ("jv-2023", D(2023, 2, 1))]
    check = run(case2016)
    today = timezone.now().date()
    assert dated.asked[0] == (D(2016, 3, 1), D(2016, 12, 31))
    assert dated.asked[-1] == (D(today.year, 1, 1), today)
    assert len(dated.asked) == today.year - 2016 + 1
    assert (check.status, check.leads_created) == (CheckRun.Status.OK, 2)
    assert (check.searched_from, check.searched_to) == (D(2016, 3, 1), today)
    assert check.detects == "acquisition,joint_venture"


def test_a_later_check_asks_only_what_is_new_since_the_last_day_searched(dated, case2016):
    run(case2016)
    dated.asked.clear()
    again = run(case2016)
    today = timezone.now().date()
    assert dated.asked == [(today - datetime.timedelta(days=7), today)]
    assert (again.searched_from, again.searched_to) == (today - datetime.timedelta(days=7), today)


def test_a_check_cut_short_keeps_the_years_it_read_and_the_next_resumes(dated, case2016):
    dated.items = [("deal-2017", D(2017, 6, 1)), ("jv-2020", D(2020, 2, 1))]
    dated.fail_on = D(2019, 1, 1)
    check = run(case2016)
    assert check.status == CheckRun.Status.RATE_LIMITED
    # 2016-2018 were read: their lead stays, and the run says how far it got.
    assert (check.searched_from, check.searched_to) == (D(2016, 3, 1), D(2018, 12, 31))
    assert check.leads_created == 1
    assert list(Finding.objects.values_list("external_id", flat=True)) == ["deal-2017"]

    dated.fail_on = None
    dated.asked.clear()
    resumed = run(case2016)
    # The day after the last day read: what was read needs no second look.
    assert dated.asked[0] == (D(2019, 1, 1), D(2019, 12, 31))
    assert resumed.status == CheckRun.Status.OK and resumed.leads_created == 1
    assert (
        selectors.coverage_end(case_id=case2016.id, source="dated", start=D(2016, 3, 1))
        == timezone.now().date()
    )


def test_a_span_the_source_could_not_finish_stops_the_run_there(dated, case2016):
    dated.short = D(2017, 4, 30)
    check = run(case2016)
    assert check.status == CheckRun.Status.NO_RESULTS
    assert check.searched_to == D(2017, 4, 30)
    assert dated.asked[-1] == (D(2017, 1, 1), D(2017, 12, 31))  # nothing after it
    assert "the rest on the next run" in check.query
    dated.short = None
    dated.asked.clear()
    run(case2016)
    assert dated.asked[0][0] == D(2017, 5, 1)


def test_a_record_source_cut_short_moves_on_and_its_rest_is_due_at_once(dated, case2016):
    dated.incremental = False
    dated.short = D(2017, 4, 30)
    first = run(case2016)
    assert first.cut_short and first.searched_to == D(2017, 4, 30)
    due = selectors.checks_due(now=timezone.now(), sources=["dated"])
    assert due == [(case2016.id, "dated")]  # not an interval later
    dated.short = None
    dated.asked.clear()
    rest = run(case2016)
    assert dated.asked[0][0] == D(2017, 5, 1) and not rest.cut_short
    # Complete now: a record source reads the whole period again, an interval later.
    assert selectors.checks_due(now=timezone.now(), sources=["dated"]) == []
    dated.asked.clear()
    run(case2016)
    assert dated.asked[0][0] == D(2016, 3, 1)


def test_a_source_whose_archive_starts_later_searches_from_its_start(dated, case2016):
    dated.archive_start = D(2017, 1, 1)
    check = run(case2016)
    assert check.searched_from == D(2017, 1, 1)
    assert dated.asked[0] == (D(2017, 1, 1), D(2017, 12, 31))


def test_a_registry_source_reads_the_whole_period_every_time(fake, case):
    first = run(case, "fake")
    second = run(case, "fake")
    assert first.searched_from == second.searched_from == case.index_date
    assert second.searched_to == timezone.now().date()
    assert fake.calls == 2


def test_a_skipped_check_records_no_period(fake, case):
    fake.skip = "not configured: set FAKE_KEY"
    check = run(case, "fake")
    assert check.status == CheckRun.Status.SKIPPED
    assert (check.searched_from, check.searched_to) == (None, None)


def test_a_referral_in_the_future_has_nothing_to_search(dated):
    future = timezone.now().date() + datetime.timedelta(days=60)
    referral = ReferralFactory(date=future, date_precision="day")
    case = CaseFactory(entity=referral.entity)
    derived.case_index_dates_refresh(case_ids=[case.id])
    check = run(case)
    assert check.status == CheckRun.Status.SKIPPED and dated.asked == []


def test_coverage_counts_only_days_searched_without_a_gap(case2016):
    start = D(2016, 3, 1)
    for first, last in [(D(2016, 3, 1), D(2018, 12, 31)), (D(2020, 1, 1), D(2021, 1, 1))]:
        CheckRun.objects.create(
            case=case2016, source="dated", status="ok", searched_from=first, searched_to=last
        )
    assert selectors.coverage_end(case_id=case2016.id, source="dated", start=start) == D(
        2018, 12, 31
    )
    assert selectors.coverage_end(case_id=case2016.id, source="dated", start=D(2015, 1, 1)) is None


def test_the_database_refuses_a_period_that_ends_before_it_starts(case2016):
    with pytest.raises(IntegrityError), transaction.atomic():
        CheckRun.objects.create(
            case=case2016, source="dated", searched_from=D(2020, 1, 2), searched_to=D(2020, 1, 1)
        )


def test_due_checks_come_oldest_coverage_first_and_within_the_source_capacity(dated, settings):
    cases = []
    for _ in range(4):
        referral = ReferralFactory(date=D(2018, 1, 1), date_precision="day")
        cases.append(CaseFactory(entity=referral.entity))
    derived.case_index_dates_refresh(case_ids=[c.id for c in cases])
    long_ago = timezone.now() - datetime.timedelta(days=30)
    for case, reached in [(cases[0], D(2025, 1, 1)), (cases[1], D(2020, 1, 1))]:
        CheckRun.objects.create(
            case=case,
            source="dated",
            status="ok",
            started_at=long_ago,
            finished_at=long_ago,
            searched_from=D(2018, 1, 1),
            searched_to=reached,
        )
    now = timezone.now()
    due = selectors.checks_due(now=now, sources=["dated"])
    # Never searched first (by id), then the one whose search reaches least far.
    assert [case_id for case_id, _ in due] == [cases[2].id, cases[3].id, cases[1].id, cases[0].id]
    dated.rate_per_second = 0.01  # 36 requests an hour
    dated.requests_per_check = 12  # so three checks an hour
    settings.WISHLIST_SOURCE_RATES = {}
    limited = selectors.checks_due(now=now, sources=["dated"], within_seconds=3600)
    assert [case_id for case_id, _ in limited] == [cases[2].id, cases[3].id, cases[1].id]


# ------------------------------------------------------------------ batches


class BatchSource(DatedSource):
    """Answers several entities in one call; records who was asked together."""

    name = "batched"
    batch_size = 3

    def __init__(self):
        super().__init__()
        self.batches: list[list[str]] = []
        self.skipped_names: set[str] = set()

    def search_batch(self, entities, since, client, *, until=None):
        from cases.checks.sources import SourceSkipped

        self.batches.append([entity.name for entity in entities])
        results = []
        for entity in entities:
            if entity.name in self.skipped_names:
                results.append(SourceSkipped("no name to search with"))
                continue
            found = [
                hit(f"{entity.name}:{key}", event=day)
                for key, day in self.items
                if since <= day <= until
            ]
            results.append(SearchResult(hits=found, query=f"{since}..{until} together"))
        return results


@pytest.fixture
def batched(use_sources, settings):
    source = BatchSource()
    use_sources(source)
    settings.WISHLIST_CHECK_INTERVAL_DAYS = {"batched": 7}
    return source


def make_cases(count):
    cases = []
    for _ in range(count):
        referral = ReferralFactory(date=D(2020, 1, 1), date_precision="day")
        cases.append(CaseFactory(entity=referral.entity))
    derived.case_index_dates_refresh(case_ids=[c.id for c in cases])
    return [type(c).objects.get(pk=c.pk) for c in cases]


def test_re_checks_of_one_span_run_together_and_their_own_messages_do_nothing(batched):
    cases = make_cases(4)
    for case in cases:  # first checks: every year since 2020, each on its own
        run(case, "batched")
    assert batched.batches == []
    today = timezone.now().date()
    batched.items = [("new", today - datetime.timedelta(days=2))]
    ids = checks_services.checks_queue(pairs=[(case.id, "batched") for case in cases])
    first = checks_services.check_execute(check_run_id=ids[0], delivery="message-1")
    # One call for three of them (the batch size); the fourth waits for its own message.
    assert len(batched.batches) == 1 and len(batched.batches[0]) == 3
    runs = {r.pk: r for r in CheckRun.objects.filter(pk__in=ids)}
    assert [runs[i].status for i in ids] == ["ok", "ok", "ok", "queued"]
    for check_id in ids[:3]:
        assert runs[check_id].leads_created == 1
        assert runs[check_id].searched_to == today
        assert runs[check_id].delivery == "message-1"
    assert first.pk == ids[0]
    # The companions' own messages arrive later and find them finished.
    again = checks_services.check_execute(check_run_id=ids[1], delivery="message-2")
    assert again.status == CheckRun.Status.OK and len(batched.batches) == 1
    assert Finding.objects.filter(source="batched", external_id__endswith=":new").count() == 3


def test_a_first_check_is_never_batched_and_a_skipped_member_is_recorded(batched):
    veteran, newcomer, nameless = make_cases(3)
    run(veteran, "batched")
    run(nameless, "batched")
    batched.skipped_names = {nameless.entity.name}
    ids = checks_services.checks_queue(
        pairs=[(veteran.id, "batched"), (newcomer.id, "batched"), (nameless.id, "batched")]
    )
    checks_services.check_execute(check_run_id=ids[0])
    # The newcomer's first check has several spans: it is left for its own message.
    assert batched.batches == [[veteran.entity.name, nameless.entity.name]]
    statuses = dict(CheckRun.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert statuses[ids[1]] == "queued"
    skipped = CheckRun.objects.get(pk=ids[2])
    assert (skipped.status, skipped.error) == ("skipped", "no name to search with")


def test_a_batch_the_source_refuses_is_recorded_on_every_run(batched, monkeypatch):
    cases = make_cases(2)
    for case in cases:
        run(case, "batched")

    def refuse(*args, **kwargs):
        raise RateLimitedError("429 from the test", status=429)

    monkeypatch.setattr(batched, "search_batch", refuse)
    ids = checks_services.checks_queue(pairs=[(case.id, "batched") for case in cases])
    checks_services.check_execute(check_run_id=ids[0])
    runs = CheckRun.objects.filter(pk__in=ids)
    assert set(runs.values_list("status", flat=True)) == {"rate_limited"}
    assert set(runs.values_list("searched_to", flat=True)) == {None}


def test_a_failure_before_the_first_request_still_finishes_the_run(dated, case2016, monkeypatch):
    def broken(entity):
        raise KeyError("aliases")

    monkeypatch.setattr(dated, "skip_reason", broken)
    check = run(case2016)
    assert check.status == CheckRun.Status.ERROR and "KeyError" in check.error
    assert check.detects == "acquisition,joint_venture"
    assert CheckRun.objects.get(pk=check.pk).status == CheckRun.Status.ERROR


def test_a_failed_run_keeps_its_kinds_and_says_it_stopped_short(dated, case2016):
    dated.fail_on = D(2017, 1, 1)
    check = CheckRun.objects.get(pk=run(case2016).pk)
    assert check.status == CheckRun.Status.RATE_LIMITED
    assert check.detects == "acquisition,joint_venture"
    assert check.cut_short and check.searched_to == D(2016, 12, 31)


def test_a_newly_confirmed_identifier_searches_the_whole_period_again(dated, case2016):
    run(case2016)
    dated.asked.clear()
    entity = case2016.entity
    entity.lei = "5493001KJTIIGC8Y1R12"
    entity.save()
    again = run(case2016)
    # What a search by name covered says nothing of a search by the LEI.
    assert dated.asked[0] == (D(2016, 3, 1), D(2016, 12, 31))
    assert again.searched_from == D(2016, 3, 1)
    dated.asked.clear()
    run(case2016)
    assert len(dated.asked) == 1  # and after that, only what is new


def test_a_re_read_cut_short_inside_old_coverage_still_moves_forward(dated, case2016):
    dated.incremental = False
    run(case2016)  # complete: 2016-03-01 to today
    dated.short = D(2017, 4, 30)
    cut = run(case2016)  # the next full re-read stops in 2017
    assert cut.cut_short and cut.searched_to == D(2017, 4, 30)
    dated.asked.clear()
    run(case2016)  # resumes after the cut, not from the referral again
    assert dated.asked[0][0] == D(2017, 5, 1)


def test_a_failure_after_a_cut_short_run_waits_like_any_failure(dated, case2016):
    dated.short = D(2017, 4, 30)
    run(case2016)
    dated.short, dated.fail_on = None, D(2017, 5, 1)
    failed = run(case2016)
    assert failed.status == CheckRun.Status.RATE_LIMITED
    assert selectors.checks_due(now=timezone.now(), sources=["dated"]) == []


def test_a_news_source_keeps_its_coverage_when_an_identifier_is_confirmed(dated, case2016):
    dated.searched_with = ()  # searches by name only
    run(case2016)
    dated.asked.clear()
    case2016.entity.lei = "5493001KJTIIGC8Y1R12"
    case2016.entity.save()
    run(case2016)
    assert len(dated.asked) == 1


def test_a_batch_that_fails_while_filing_finishes_every_run(batched, monkeypatch):
    cases = make_cases(3)
    for case in cases:
        run(case, "batched")
    ids = checks_services.checks_queue(pairs=[(case.id, "batched") for case in cases])

    def broken(*args, **kwargs):
        raise ValueError("the database refused a value")

    monkeypatch.setattr(checks_services, "leads_file", broken)
    batched.items = [("new", timezone.now().date())]
    checks_services.check_execute(check_run_id=ids[0], delivery="m1")
    statuses = set(CheckRun.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert statuses == {"error"}


def test_a_redelivered_batch_takes_back_the_companions_it_had_claimed(batched):
    cases = make_cases(3)
    for case in cases:
        run(case, "batched")
    ids = checks_services.checks_queue(pairs=[(case.id, "batched") for case in cases])
    # The first delivery claimed all three, then its worker was lost.
    CheckRun.objects.filter(pk__in=ids).update(status="running", delivery="m1")
    checks_services.check_execute(check_run_id=ids[0], delivery="m1")
    assert set(CheckRun.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        "no_results"
    }
    assert len(batched.batches[-1]) == 3
