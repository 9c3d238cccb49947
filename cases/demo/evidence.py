"""Drawing a demo case's evidence: findings with their excerpts, check runs, and a status
and status log that fit them.
"""

import random
from collections import Counter
from datetime import date, timedelta

from cases import derived, normalize, rules
from cases.checks.sources import get_sources
from cases.checks.sources.gdelt import ARCHIVE_START as GDELT_ARCHIVE_START
from cases.demo.data import (
    CN_CITIES,
    CONFIDENCE_LEAD,
    CONFIDENCE_REVIEWED,
    DEMO_SUFFIX,
    FIELDS,
    FINDINGS_END,
    KINDS_UNFIT,
    LEGAL_FORMS,
    NEWS_TEMPLATES,
    OUTCOME_KINDS,
    PINYIN,
    REFERRED_CHANCES,
    REJECT_NOTES,
    RUN_FAILURES,
    SOURCE_KINDS,
    K,
)
from cases.demo.plans import Draws, EntityPlan, ReferralPlan
from cases.models import (
    Case,
    CaseStatusChange,
    CheckRun,
    Entity,
    Finding,
)


def demo_match(number: int, name: str, excerpt: str) -> tuple[float, str]:
    """A plausible match score and explanation, drawn from the evidence number so the
    main random stream (and with it the rest of the demo data) is not disturbed."""
    rng = random.Random(number)
    score = round(rng.uniform(72, 100), 1)
    how = "exact name" if score > 96 else "name with its legal form folded"
    where = "in the headline" if "announced" in excerpt else "in the record"
    return score, f"{how} {name!r} found {where} (score {score:.0f})"


class Evidence(Draws):
    """Draws findings, check runs and statuses for planned cases."""

    def __init__(self, rng: random.Random):
        super().__init__(rng)
        self.evidence_number = 0

    def plan_evidence(
        self, plan: EntityPlan, *, chances: tuple[float, float] = REFERRED_CHANCES
    ) -> None:
        """Draw the case's findings and check runs; timings are derived once saved."""
        rng = self.rng
        outcome_chance, rejection_chance = chances
        sources = self.sources_for(plan.entity)
        index = plan.index
        confirmed = Finding.ReviewState.CONFIRMED
        rejected = Finding.ReviewState.REJECTED
        lead = Finding.ReviewState.LEAD
        outcome_kinds = {k: w for k, w in OUTCOME_KINDS.items() if self.kind_fits(k, plan.entity)}
        if rng.random() < outcome_chance:
            for _ in range(2 if rng.random() < 0.25 else 1):
                kind = self.weighted(outcome_kinds)
                auto = [s for s in sources if kind in SOURCE_KINDS[s]]
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

    @staticmethod
    def kind_fits(kind: str, entity: Entity) -> bool:
        return kind not in KINDS_UNFIT.get(entity.kind, ())

    def source_kind(self, source: str, entity: Entity) -> str:
        kinds = [k for k in SOURCE_KINDS[source] if self.kind_fits(k, entity)]
        return self.rng.choice(kinds or [K.PARTNERSHIP])

    def add_finding(
        self,
        plan: EntityPlan,
        kind: str,
        source: str,
        party: tuple[str, str],
        when: tuple[date | None, str],
        state: str,
    ) -> None:
        self.evidence_number += 1
        number = self.evidence_number
        excerpt = self.excerpt(kind, source, plan, party[0], when[0])
        url = evidence_url(source, kind, number)
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
            confidence=self.weighted(CONFIDENCE_REVIEWED if reviewed else CONFIDENCE_LEAD),
        )
        if source != Finding.MANUAL:
            finding.external_id = f"demo-{source}-{number:05d}"
            finding.evidence_sha256 = derived.evidence_sha256(f"{url}\n{excerpt}")
            finding.match_score, finding.match_explanation = demo_match(
                number, plan.entity.name, excerpt
            )
        if state == Finding.ReviewState.REJECTED:
            finding.review_note = self.rng.choice(REJECT_NOTES)
        elif state == Finding.ReviewState.CONFIRMED:
            finding.review_note = "Checked against the source (demo)."
        plan.findings.append(finding)

    def plan_runs(self, plan: EntityPlan, sources: list[str], *, every_source: bool) -> None:
        """One run per source that filed a finding, a few that found nothing; review times.

        With every_source (controls) each source ran successfully, so the case is watched.
        """
        self.fit_to_coverage(plan)
        per_source = Counter(f.source for f in plan.findings if f.source != Finding.MANUAL)
        query = f'"{plan.entity.name.removesuffix(DEMO_SUFFIX)}" country:{plan.entity.country}'
        for source, created in per_source.items():
            dated = [f.event_date for f in plan.findings if f.source == source and f.event_date]
            run = self.run(
                plan, source, CheckRun.Status.OK, "", query, after=max(dated, default=None)
            )
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
                status = self.weighted({s: spec[1] for s, spec in RUN_FAILURES.items()})
                self.run(plan, source, status, RUN_FAILURES[status][0], query)
        for finding in plan.findings:
            if finding.review_state != Finding.ReviewState.LEAD:
                start = finding.retrieved_at.date() if finding.retrieved_at else date(2023, 1, 1)
                finding.reviewed_at = self.moment(start, start + timedelta(days=120))

    def fit_to_coverage(self, plan: EntityPlan) -> None:
        """Keep each automated finding within what its source searches, as the real checks
        do: from the referral (GDELT from January 2017) to the run. No source files a lead
        dated before the referral (what happened before one is entered by hand), so such
        a draw is dated after it; GDELT's pre-2017 news is Google News'."""
        # Its own generator, so the shared one (and every later draw) stays as it was.
        main, self.rng = self.rng, random.Random(f"coverage {plan.entity.name}")
        try:
            self._fit(plan)
        finally:
            self.rng = main

    def _fit(self, plan: EntityPlan) -> None:
        start = plan.index.date
        for finding in plan.findings:
            day, precision = finding.event_date, finding.event_date_precision
            moved = False
            if (
                finding.source != Finding.MANUAL
                and day
                and normalize.period_end(day, precision) < start
            ):
                finding.event_date, finding.event_date_precision = self.after(plan.index)
                day, moved = finding.event_date, True
            if finding.source == "gdelt" and (day is None or day < GDELT_ARCHIVE_START):
                finding.source = "google_news"
                finding.external_id = finding.external_id.replace("-gdelt-", "-google_news-")
                moved = True
            if moved:  # the excerpt and its hash tell the same story as the fields
                name = finding.counterparty_name
                finding.excerpt = self.excerpt(finding.kind, finding.source, plan, name, day)
                finding.evidence_sha256 = derived.evidence_sha256(
                    f"{finding.source_url}\n{finding.excerpt}"
                )

    def run(
        self,
        plan: EntityPlan,
        source: str,
        status: str,
        error: str,
        query: str,
        *,
        after: date | None = None,
    ) -> CheckRun:
        """A run of the source; one that filed findings ran after the latest of them."""
        earliest = max(date(2023, 1, 1), (after or date.min) + timedelta(days=1))
        started = self.moment(earliest, max(earliest, date(2024, 6, 30)))
        searched = status in rules.SUCCESSFUL_CHECK_STATES
        registered = get_sources().get(source)
        first = plan.index.date
        if source == "gdelt":
            first = max(first, GDELT_ARCHIVE_START)
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
            searched_from=first if searched else None,
            searched_to=started.date() if searched else None,
            searched_as=registered.searched_as(plan.entity) if searched and registered else "",
            detects=",".join(registered.detects if registered else ()),
        )
        plan.runs.append(run)
        return run

    def after(self, index: ReferralPlan) -> tuple[date, str]:
        end = normalize.period_end(index.date, index.precision)
        day = min(end + timedelta(days=self.rng.randint(20, 1400)), FINDINGS_END)
        return self.blur(day, index, normalize.Timing.AFTER)

    def before(self, index: ReferralPlan) -> tuple[date, str]:
        day = index.date - timedelta(days=self.rng.randint(20, 1500))
        return self.blur(day, index, normalize.Timing.BEFORE)

    def blur(self, day: date, index: ReferralPlan, timing: str) -> tuple[date, str]:
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

    def china_party(self, kind: str, plan: EntityPlan) -> tuple[str, str]:
        country = self.weighted({"CN": 80, "HK": 15, "MO": 5})
        syllables = self.rng.choice(PINYIN) + self.rng.choice(PINYIN).lower()
        if country == "HK":
            return f"{syllables} Holdings Limited{DEMO_SUFFIX}", country
        if country == "MO":
            return f"{syllables} Investment Company Limited{DEMO_SUFFIX}", country
        city = self.rng.choice(CN_CITIES)
        if kind == K.CO_PUBLICATION:
            return f"{city} {syllables} University{DEMO_SUFFIX}", country
        word = self.rng.choice(FIELDS[plan.tech_field][1])
        return f"{city} {syllables} {word} Technology Co., Ltd.{DEMO_SUFFIX}", country

    def other_party(self, plan: EntityPlan) -> tuple[str, str]:
        country = self.rng.choice(["US", "DE", "SG", "GB", "JP", "FR", plan.country])
        legal = self.rng.choice(LEGAL_FORMS.get(country, ["Ltd"]))
        return f"{self.coined()} Partners {legal}{DEMO_SUFFIX}", country

    def excerpt(
        self, kind: str, source: str, plan: EntityPlan, party: str, when: date | None
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
        return NEWS_TEMPLATES[kind].format(
            entity=entity,
            cp=party,
            field=plan.tech_field,
            city=self.rng.choice(CN_CITIES),
            pct=pct,
        )

    def case_status(self, plan: EntityPlan) -> str:
        """Draw a status that fits the case's findings: mostly settled once it is positive
        by the analytics' own rule (rules.is_positive_finding)."""
        status = Case.Status
        findings = plan.findings
        index = plan.index
        for f in findings:
            # What derived.finding_timings_refresh stores once the rows are saved.
            f.timing = normalize.compare_to_period(
                f.event_date, f.event_date_precision, index.date, plan.index_end
            )
        plan.positive = any(rules.is_positive_finding(f) for f in findings)
        if plan.positive:
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
        if findings:
            # Every finding read and none positive: mostly concluded negative, since a
            # reviewed negative is a concluded case (rules.reviewed_case_q).
            return self.weighted({status.CONCLUDED: 60, status.MONITORING: 25, status.CLOSED: 15})
        if plan.matched is not None:
            # A control is followed up on purpose, for the comparison, by every source:
            # with nothing found it is mostly settled negative, so its pair can count.
            return self.weighted({status.CONCLUDED: 65, status.MONITORING: 25, status.OPEN: 10})
        # Nothing found: some searched and settled negative, most still open.
        return self.weighted(
            {status.OPEN: 45, status.MONITORING: 15, status.CONCLUDED: 30, status.CLOSED: 10}
        )

    def status_changes(self, plans: list[EntityPlan]) -> list[CaseStatusChange]:
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


def evidence_url(source: str, kind: str, number: int) -> str:
    if source == "gleif":
        return f"https://example.org/demo/gleif/relationships/{number:06d}"
    if source == "sec_edgar":
        return f"https://example.org/demo/sec-edgar/filings/{number:06d}"
    if source == "companies_house":
        return f"https://example.org/demo/companies-house/filing-history/{number:06d}"
    if source == "openalex":
        return f"https://example.org/demo/openalex/works/W{number:08d}"
    return f"https://example.com/demo-news/{kind.replace('_', '-')}-{number:06d}"
