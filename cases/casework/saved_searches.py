"""Saved searches: a person's named case-list filters, kept as the query string and read
afresh each time (a cohort keeps its cases; a saved search keeps only the question).

A search may be shared with one of its owner's teams; only the owner renames or deletes
it. The query is checked against the case list's own filter when it is saved, so a saved
search never holds a parameter the list does not know.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404, QueryDict

from cases import access
from cases.casework.filters import CaseFilter
from cases.models import SavedSearch, Team

# Paging and the download format are how the list is shown, not which cases it holds.
NOT_SAVED = frozenset({"page", "per_page", "format"})
NAME_LENGTH = SavedSearch._meta.get_field("name").max_length
QUERY_LENGTH = SavedSearch._meta.get_field("query").max_length


def saved_search_query_clean(*, user: AbstractBaseUser, query: str) -> str:
    """Return the case-list query string to save: only the filter's own parameters with a
    value, paging left out. Refuse a parameter the list does not know or a value its
    filter refuses (for this user: a team or tag they cannot see is refused too)."""
    data = QueryDict(query or "")
    case_filter = CaseFilter(data, queryset=access.visible_cases(user), user=user)
    known = set(case_filter.form.fields)
    unknown = sorted(set(data) - known - NOT_SAVED)
    if unknown:
        raise ValidationError(
            f"The case list has no filter called {', '.join(unknown)}; nothing was saved."
        )
    if not case_filter.is_valid():
        problems = "; ".join(
            f"{case_filter.form.fields[name].label or name}: {' '.join(errors)}"
            for name, errors in case_filter.form.errors.items()
        )
        raise ValidationError(f"The filter could not be read ({problems}); nothing was saved.")
    kept = QueryDict(mutable=True)
    for name in case_filter.form.fields:  # the list's order, so equal filters read alike
        values = [value for value in data.getlist(name) if value.strip()]
        if values:
            kept.setlist(name, values)
    cleaned = kept.urlencode()
    if len(cleaned) > QUERY_LENGTH:
        raise ValidationError("This filter is too long to save; nothing was saved.")
    return cleaned


def _name_clean(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Give the search a name."})
    if len(name) > NAME_LENGTH:
        raise ValidationError({"name": f"A name has at most {NAME_LENGTH} characters."})
    return name


def _team_check(user: AbstractBaseUser, team: Team | None) -> None:
    if team is not None and not user.teams.filter(pk=team.pk).exists():
        raise ValidationError({"team": "Share only with a team you belong to."})


def _name_free(owner: AbstractBaseUser, name: str, *, but: SavedSearch | None = None) -> None:
    taken = SavedSearch.objects.filter(owner=owner, name__iexact=name)
    if but is not None:
        taken = taken.exclude(pk=but.pk)
    if taken.exists():
        raise ValidationError({"name": _taken(name)})


def _taken(name: str) -> str:
    return f"You already have a saved search called “{name}”."


@transaction.atomic
def saved_search_create(
    *, owner: AbstractBaseUser, name: str, query: str, team: Team | None = None
) -> SavedSearch:
    """Save the filter `query` (the case list's query string) under `name`, shared with
    `team` if given (one of the owner's teams)."""
    name = _name_clean(name)
    cleaned = saved_search_query_clean(user=owner, query=query)
    _team_check(owner, team)
    _name_free(owner, name)
    try:
        with transaction.atomic():
            return SavedSearch.objects.create(owner=owner, name=name, query=cleaned, team=team)
    except IntegrityError:  # the same form sent twice at once
        raise ValidationError({"name": _taken(name)}) from None


@transaction.atomic
def saved_search_update(
    *, search: SavedSearch, actor: AbstractBaseUser, name: str, team: Team | None
) -> SavedSearch:
    """Rename the owner's search and share it with `team` (or with nobody)."""
    _owner_check(search, actor)
    name = _name_clean(name)
    _team_check(actor, team)
    _name_free(actor, name, but=search)
    search.name, search.team = name, team
    search.save(update_fields=["name", "team", "updated_at"])
    return search


@transaction.atomic
def saved_search_delete(*, search: SavedSearch, actor: AbstractBaseUser) -> None:
    _owner_check(search, actor)
    search.delete()


def _owner_check(search: SavedSearch, actor: AbstractBaseUser) -> None:
    if search.owner_id != actor.pk:
        raise PermissionDenied("Only the person who saved a search renames or deletes it.")


# Reads ------------------------------------------------------------------------------------


def visible_saved_searches(user: AbstractBaseUser) -> QuerySet[SavedSearch]:
    """The user's own searches and those shared with a team they belong to."""
    if not user.is_authenticated:
        return SavedSearch.objects.none()
    return (
        SavedSearch.objects.filter(Q(owner=user) | Q(team__in=user.teams.values("id")))
        .select_related("owner", "team")
        .order_by("name", "id")
    )


def saved_search_or_404(user: AbstractBaseUser, pk: int) -> SavedSearch:
    """A search the user may see; another's unshared one does not exist for them."""
    search = visible_saved_searches(user).filter(pk=pk).first()
    if search is None:
        raise Http404("No such saved search.")
    return search


def sharing_teams(user: AbstractBaseUser) -> QuerySet[Team]:
    """The teams a search may be shared with: the user's own."""
    return Team.objects.filter(members=user).order_by("name")
