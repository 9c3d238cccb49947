"""Building the demo data set from its tables with a fixed seed, so it is the same on every
run: referred cases with their referrals, findings and check runs, and matched controls.
"""

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from cases import derived, normalize, rules
from cases.demo.data import (
    _CN_CITIES,
    _CONFIDENCE_LEAD,
    _CONFIDENCE_REVIEWED,
    _CONTROL_CHANCES,
    _CONTROLS,
    _COUNTRIES,
    _CURRENCIES,
    _ENDINGS,
    _ENTITY_KINDS,
    _EURO,
    _FIELDS,
    _FINDINGS_END,
    _GIVEN,
    _HOUSTON_CLOSED,
    _HOUSTON_SHARE,
    _KINDS_UNFIT,
    _LEGAL_FORMS,
    _METHOD_WEIGHTS,
    _METHODS_ZH,
    _MONEY_METHODS,
    _NEWS_TEMPLATES,
    _OUTCOME_KINDS,
    _PER_USD,
    _PINYIN,
    _POST_WEIGHTS,
    _PREFIXES,
    _PRIORITIES,
    _REFERRED_CHANCES,
    _REJECT_NOTES,
    _RUN_FAILURES,
    _SOURCE_KINDS,
    _WINDOW_END,
    _YEARS,
    DEMO_SUFFIX,
    K,
)
from cases.models import (
    Case,
    CaseStatusChange,
    CheckRun,
    CooperationMethod,
    Entity,
    Finding,
    Post,
    Referral,
)


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
    positive: bool = False  # by the analytics' rule, judged when its status is drawn

    @property
    def index(self) -> _ReferralPlan:
        if self.matched is not None:
            return self.matched.index
        return min(self.referrals, key=lambda r: rules.index_referral_key(r.date, r.precision))


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
            plan.case.status = self.case_status(plan)
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
            plan.case.status = self.case_status(plan)
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
            finding.evidence_sha256 = derived.evidence_sha256(f"{url}\n{excerpt}")
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

    def case_status(self, plan: _EntityPlan) -> str:
        """Draw a status that fits the case's findings: mostly settled once it is positive
        by the analytics' own rule (rules.is_positive_finding)."""
        status = Case.Status
        findings = plan.findings
        index = plan.index
        for f in findings:
            # What derived.finding_timings_refresh stores once the rows are saved.
            f.timing = normalize.compare_periods(
                f.event_date, f.event_date_precision, index.date, index.precision
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
