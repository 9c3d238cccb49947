"""A fake public source and its hits, for the tests of the checks that are not about one
real source."""

import datetime

from cases.checks.sources import Hit, SearchResult, Source


def hit(external_id="ev-1", score=100.0, event=datetime.date(2019, 6, 1), precision="day"):
    return Hit(
        kind="joint_venture",
        counterparty_name="Shenzhen Example Technology Co., Ltd.",
        counterparty_country="CN",
        event_date=event,
        event_date_precision=precision,
        url="https://example.org/news/1",
        excerpt="Acme forms joint venture with Shenzhen Example",
        external_id=external_id,
        score=score,
        explanation="the text names 'Acme'",
        evidence_sha256="a" * 64,
        flags=("dod_1260h: Example Listed Co",),
    )


class FakeSource(Source):
    name = "fake"

    def __init__(self):
        self.hits = [hit()]
        self.error = None
        self.calls = 0
        self.skip = ""

    def skip_reason(self, entity):
        return self.skip

    def client(self):
        return None

    def search(self, entity, since, client, *, until=None):
        self.calls += 1
        if self.error:
            raise self.error
        return SearchResult(hits=list(self.hits), query=f"name={entity.name} since={since}")
