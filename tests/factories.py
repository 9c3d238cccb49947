"""factory_boy factories for the case store. Entities get their name key and case the
same way the services give them, so tests see the rows the app would make."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from cases import normalize, rules
from cases.access import ANALYST, SUPERVISOR
from cases.models import Case, CheckRun, Entity, Finding, Post, Referral, Team


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class AdminFactory(UserFactory):
    """Staff granted "cases.view_all_teams": sees and works every team's cases."""

    class Meta:
        skip_postgeneration_save = True

    is_staff = True

    @factory.post_generation
    def view_all_teams(self, create, extracted, **kwargs):
        if create:
            self.user_permissions.add(
                Permission.objects.get(content_type__app_label="cases", codename="view_all_teams")
            )


class AnalystFactory(UserFactory):
    """A user with the analyst role; `teams=[...]` puts them on teams."""

    class Meta:
        skip_postgeneration_save = True

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get_or_create(name=ANALYST)[0])

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.teams.add(*extracted)


class SupervisorFactory(AnalystFactory):
    """A user with the supervisor role; `teams=[...]` puts them on teams."""

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get_or_create(name=SUPERVISOR)[0])


class TeamFactory(factory.django.DjangoModelFactory):
    """A team; `members=[...]` adds members."""

    class Meta:
        model = Team
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and extracted:
            self.members.add(*extracted)


class EntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Entity

    name = factory.Sequence(lambda n: f"Example Robotics {n} Ltd")
    name_key = factory.LazyAttribute(lambda o: normalize.name_key(o.name))
    country = "GB"
    kind = Entity.Kind.COMPANY


def _matched(attribute: str):
    """An attribute of a control's entity taken from the case it is matched to, so a
    control meets the matching criteria unless a test says otherwise."""

    def value(entity):
        country, kind, fields = rules.matched_profile(entity.factory_parent.matched_case)
        return {"country": country, "kind": kind, "fields": "; ".join(sorted(fields))}[attribute]

    return factory.LazyAttribute(value)


class CaseFactory(factory.django.DjangoModelFactory):
    """A referred case; with kind=CONTROL and matched_case, a control whose entity has
    the matched case's host country, kind and field (see rules.control_match)."""

    class Meta:
        model = Case
        django_get_or_create = ("entity",)

    kind = Case.Kind.REFERRED
    matched_case = None
    entity = factory.Maybe(
        "matched_case",
        yes_declaration=factory.SubFactory(
            EntityFactory,
            country=_matched("country"),
            kind=_matched("kind"),
            technology_fields=_matched("fields"),
        ),
        no_declaration=factory.SubFactory(EntityFactory),
    )
    match_criteria = factory.LazyAttribute(
        lambda o: (
            rules.control_match(o.entity, o.matched_case)
            if o.kind == Case.Kind.CONTROL and o.matched_case is not None
            else []
        )
    )
    # A case given an index date directly has the index period of that one date.
    index_period_end = factory.LazyAttribute(
        lambda o: (
            normalize.period_end(o.index_date, o.index_date_precision or "day")
            if getattr(o, "index_date", None)
            else None
        )
    )


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post
        django_get_or_create = ("name", "host_country")

    name = "Embassy in London"
    kind = Post.Kind.EMBASSY
    city = "London"
    host_country = "GB"


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    external_id = factory.Sequence(lambda n: f"R{n:05d}")
    entity = factory.SubFactory(EntityFactory)
    post = factory.SubFactory(PostFactory)
    date = datetime.date(2017, 5, 1)
    date_precision = "month"
    host_country = "GB"
    technology_field = "robotics"
    cooperation_methods = factory.LazyFunction(lambda: ["joint_venture"])


class FindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Finding

    case = factory.SubFactory(CaseFactory)
    kind = Finding.Kind.JOINT_VENTURE
    counterparty_name = "Shenzhen Example Technology Co., Ltd."
    counterparty_country = "CN"
    event_date = datetime.date(2019, 3, 1)
    event_date_precision = "day"
    source = Finding.MANUAL


class CheckRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckRun

    case = factory.SubFactory(CaseFactory)
    source = "gleif"
    queued_at = factory.LazyFunction(lambda: datetime.datetime(2024, 1, 1, 12, tzinfo=datetime.UTC))
    started_at = factory.LazyAttribute(lambda o: o.queued_at)
    attempts = 1
    finished_at = factory.LazyAttribute(lambda o: o.started_at + datetime.timedelta(seconds=3))
    status = CheckRun.Status.OK
