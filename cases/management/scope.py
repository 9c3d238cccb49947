"""What the analytics commands read: every case, or one team's by its name."""

from django.core.management.base import CommandError
from django.db.models import QuerySet

from cases.models import Case, Team


def command_cases(team: str | None) -> QuerySet[Case]:
    """Every case, or the cases of the team named `team`; CommandError for no such team."""
    cases = Case.objects.all()
    if team is None:
        return cases
    found = Team.objects.filter(name=team).first()
    if found is None:
        raise CommandError(f"no team named {team!r}")
    return cases.filter(team=found)
