"""The plans the demo builder draws before anything is saved, and the random draws its
two halves (entities and referrals, evidence and statuses) share: one generator, always
called in the same order, so the same seed makes the same data set.
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from cases import rules
from cases.demo.data import (
    ENDINGS,
    PREFIXES,
)
from cases.models import (
    Case,
    CheckRun,
    Entity,
    Finding,
    Post,
)


@dataclass
class ReferralPlan:
    post: Post
    date: date
    precision: str


@dataclass
class EntityPlan:
    country: str
    referrals: list[ReferralPlan]
    tech_field: str = ""
    entity: Entity | None = None
    case: Case | None = None
    findings: list[Finding] = field(default_factory=list)
    runs: list[CheckRun] = field(default_factory=list)
    matched: "EntityPlan | None" = None  # a control's referred case
    positive: bool = False  # by the analytics' rule, judged when its status is drawn

    @property
    def index(self) -> ReferralPlan:
        if self.matched is not None:
            return self.matched.index
        return min(self.referrals, key=lambda r: rules.index_referral_key(r.date, r.precision))

    @property
    def index_end(self) -> date:
        """The last day of the index period (rules.index_period_end)."""
        if self.matched is not None:
            return self.matched.index_end
        return rules.index_period_end((r.date, r.precision) for r in self.referrals)


class Draws:
    """Random draws on one shared generator."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def weighted(self, weights: dict):
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def coined(self) -> str:
        return self.rng.choice(PREFIXES) + self.rng.choice(ENDINGS)

    def moment(self, start: date, end: date) -> datetime:
        day = start + timedelta(days=self.rng.randint(0, max(0, (end - start).days)))
        return datetime.combine(
            day, time(self.rng.randint(7, 19), self.rng.randrange(60)), tzinfo=UTC
        )
