"""Building the demo data set from its tables with a fixed seed, so it is the same on every
run: referred cases with their referrals, findings and check runs, and matched controls.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from cases import normalize, rules
from cases.demo.data import (
    CONTROL_CHANCES,
    CONTROLS,
    COUNTRIES,
    CURRENCIES,
    DEMO_SUFFIX,
    ENTITY_KINDS,
    EURO,
    FIELDS,
    GIVEN,
    HOUSTON_CLOSED,
    HOUSTON_SHARE,
    LEGAL_FORMS,
    METHOD_WEIGHTS,
    METHODS_ZH,
    MONEY_METHODS,
    PER_USD,
    POST_WEIGHTS,
    PRIORITIES,
    WINDOW_END,
    YEARS,
)
from cases.demo.evidence import Evidence
from cases.demo.plans import Draws, EntityPlan, ReferralPlan
from cases.models import (
    Case,
    CooperationMethod,
    Entity,
    Post,
    Referral,
)


class Builder(Draws):
    """Draws the whole data set from one random generator, always in the same order."""

    def __init__(self, rng: random.Random):
        super().__init__(rng)
        self.taken_names: set[tuple[str, str]] = set()
        self.evidence = Evidence(rng)

    def plan(self, posts: dict[str, list[Post]]) -> list[EntityPlan]:
        """Return one plan per entity with its unsaved entity, case, findings and runs."""
        plans = self.plan_entities(posts)
        self.assign_fields(plans)
        for plan in plans:
            plan.entity = self.entity(plan)
            plan.case = Case(entity=plan.entity, priority=self.weighted(PRIORITIES))
            self.evidence.plan_evidence(plan)
            plan.case.status = self.evidence.case_status(plan)
        return plans

    def plan_entities(self, posts: dict[str, list[Post]]) -> list[EntityPlan]:
        """Draw each country's referrals, then group them into entities referred 1-3 times."""
        plans = []
        for country, count, *_ in COUNTRIES:
            slots = [self.referral_plan(post) for post in self.posts_for(posts[country], count)]
            # By post, so an entity referred again is mostly referred by the same post.
            slots.sort(key=lambda s: (s.post.name, s.date))
            while slots:
                times = min(len(slots), self.weighted({1: 86, 2: 11, 3: 3}))
                plans.append(EntityPlan(country=country, referrals=slots[:times]))
                del slots[:times]
        self.rng.shuffle(plans)
        return plans

    def posts_for(self, posts: list[Post], count: int) -> list[Post]:
        houston = [p for p in posts if p.city == "Houston"]
        if houston:
            others = [p for p in posts if p.city != "Houston"]
            from_houston = round(count * HOUSTON_SHARE)
            rest = [self.rng.choice(others) for _ in range(count - from_houston)]
            return houston * from_houston + rest
        weights = [POST_WEIGHTS[post.kind] for post in posts]
        return self.rng.choices(posts, weights=weights, k=count)

    def referral_plan(self, post: Post) -> ReferralPlan:
        year = self.weighted(YEARS)
        first = date(year, 1, 1)
        last = min(date(year, 12, 31), HOUSTON_CLOSED if post.city == "Houston" else WINDOW_END)
        day = first + timedelta(days=self.rng.randint(0, (last - first).days))
        precision = self.weighted({"day": 55, "month": 33, "year": 12})
        if precision == "month":
            day = day.replace(day=1)
        elif precision == "year":
            day = first
        return ReferralPlan(post=post, date=day, precision=precision)

    def plan_controls(self, plans: list[EntityPlan]) -> list[EntityPlan]:
        """Match a comparable entity that was never referred (same country, kind and
        field) to some referred cases, each on the matched case's team and clock."""
        controls = []
        for matched in self.rng.sample(plans, min(CONTROLS, len(plans))):
            plan = EntityPlan(country=matched.country, referrals=[], tech_field=matched.tech_field)
            plan.matched = matched
            plan.entity = self.entity(plan, kind=matched.entity.kind)
            plan.case = Case(
                entity=plan.entity,
                kind=Case.Kind.CONTROL,
                matched_case=matched.case,
                team=matched.case.team,
                priority=self.weighted(PRIORITIES),
            )
            # Judged by the app's own rule, not assumed; nothing is relaxed in the demo, so
            # a control that missed a criterion would be refused by the database.
            plan.case.match_criteria = rules.control_match(plan.entity, matched.case)
            self.evidence.plan_evidence(plan, chances=CONTROL_CHANCES)
            plan.case.status = self.evidence.case_status(plan)
            controls.append(plan)
        return controls

    def assign_fields(self, plans: list[EntityPlan]) -> None:
        """Give each entity one field so that the referrals per field hit the targets."""
        left = {name: spec[0] for name, spec in FIELDS.items()}
        for plan in plans:
            times = len(plan.referrals)
            fitting = {name: n for name, n in left.items() if n >= times}
            plan.tech_field = self.weighted(fitting) if fitting else max(left, key=left.__getitem__)
            left[plan.tech_field] -= times

    def entity(self, plan: EntityPlan, *, kind: str | None = None) -> Entity:
        kind = kind or self.weighted(ENTITY_KINDS)
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

    def entity_name(self, kind: str, country: str, field_name: str) -> tuple[str, str]:
        """Return a made-up name, labelled as demo, and its made-up word."""
        coined = self.coined()
        if kind == Entity.Kind.COMPANY:
            word = self.rng.choice(FIELDS[field_name][1])
            legal = self.rng.choice(LEGAL_FORMS.get(country, ["Ltd"]))
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
            name = f"Dr {self.rng.choice(GIVEN)} {coined}"
        return name + DEMO_SUFFIX, coined

    def referrals(self, plans: list[EntityPlan]) -> list[Referral]:
        rows = [self.referral(plan, item) for plan in plans for item in plan.referrals]
        rows.sort(key=lambda r: (r.date, r.entity.name))
        for number, row in enumerate(rows, start=1):
            row.external_id = f"DEMO-{number:04d}"
            row.source_url = f"https://example.org/demo/bulletin/{row.external_id}"
            row.source_reference = f"Demo bulletin {row.date.year}, item {number}"
        return rows

    def referral(self, plan: EntityPlan, item: ReferralPlan) -> Referral:
        entity = plan.entity
        methods = []
        for _ in range(self.weighted({1: 45, 2: 38, 3: 17})):
            method = self.weighted(METHOD_WEIGHTS)
            if method not in methods:
                methods.append(method)
        amount, currency = None, ""
        wants_money = any(m in MONEY_METHODS for m in methods)
        if self.rng.random() < (0.6 if wants_money else 0.08):
            currency = "CNY" if self.rng.random() < 0.25 else local_currency(plan.country)
            millions = self.rng.choice([0.5, 1, 2, 3, 5, 8, 10, 15, 20, 30, 50])
            amount = Decimal(round(millions * PER_USD[currency] * 1_000_000, -3))
        labels = ", ".join(CooperationMethod(m).label for m in methods)
        summary = (
            f"Synthetic demo referral. {entity.name}, {Entity.Kind(entity.kind).label} "
            f"in {item.post.city} working in {plan.tech_field}; cooperation sought: {labels}."
        )
        if amount is not None:
            summary += f" Proposed amount: {amount:,.0f} {currency}."
        field_zh = FIELDS[plan.tech_field][2]
        methods_zh = "、".join(METHODS_ZH[m] for m in methods)
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


def local_currency(country: str) -> str:
    if country in EURO:
        return "EUR"
    return CURRENCIES.get(country, "USD")
